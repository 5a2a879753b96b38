"""An LSTM reads each 8x8 digit image row by row, top to bottom, and names the digit
(scikit-learn's digits).

Each image is a sequence of 8 time steps of 8 pixels; the LSTM's last output summarizes what it
has read, and a softmax layer classifies it. Prints the test accuracy; writes the model's
picture and the training curves.

    python examples/digits_lstm.py [--epochs 30] [--out out]
"""
import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

import graphnet as gn
from graphnet import layers


def load_data(seed=0):
    """Images as sequences (n, 8 rows, 8 pixels) in [0, 1], labels; split 80/20."""
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    x = (digits.images[order] / 16.0).astype("float32")
    y = digits.target[order].astype("int32")
    cut = int(0.8 * len(y))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def build_model():
    rows = gn.Input(shape=(8, 8), name="rows")                 # (time steps, features)
    summary = layers.LSTM(32, name="lstm")(rows)                # the last step's output
    digit = layers.Dense(10, activation="softmax", name="digit")(summary)
    return gn.Model(rows, digit, name="digits_lstm")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30,
                        help="training epochs (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="folder for the pictures, created if missing (default: out)")
    args = parser.parse_args(argv)

    gn.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_data()
    model = build_model()
    model.compile(optimizer=gn.optimizers.Adam(5e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=32,
                        validation_split=0.1, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f} (loss {loss:.4f}) on {len(y_test)} held-out digits")

    args.out.mkdir(parents=True, exist_ok=True)
    gn.plot_model(model, args.out / "digits_lstm.svg")
    history.plot(args.out / "digits_lstm_history.png")
    print(f"wrote {args.out / 'digits_lstm.svg'}, {args.out / 'digits_lstm_history.png'}")
    return {"test_accuracy": accuracy}


if __name__ == "__main__":
    main()
