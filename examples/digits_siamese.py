"""A siamese network: one shared encoder says whether two digit images show the same digit.

The encoder (a small model of its own) turns each 8x8 image into 32 numbers; the siamese
model calls it on both images of a pair, so both calls share one set of weights, and a
sigmoid head reads the squared difference of the two codes. Pairs are drawn from scikit-learn's
digits, half of them the same digit; the test pairs come from digits never seen in training.
Prints the pair accuracy on the test pairs; writes the model's picture (the encoder drawn
inside it) and the training curves.

    python examples/digits_siamese.py [--epochs 20] [--out out]
"""
import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

import graphnet as gn
from graphnet import layers


def make_pairs(x, y, n, rng):
    """n pairs (left, right, same) from images x with labels y: half same digit, half not."""
    by_label = [np.flatnonzero(y == d) for d in range(10)]
    left = rng.integers(0, len(y), n)
    same = (np.arange(n) % 2 == 0)
    right = np.empty(n, dtype=int)
    for i, (a, s) in enumerate(zip(left, same)):
        if s:
            right[i] = rng.choice(by_label[y[a]])
        else:
            other = (y[a] + rng.integers(1, 10)) % 10
            right[i] = rng.choice(by_label[other])
    return {"left": x[left], "right": x[right]}, same.astype("float32")[:, None]


def load_data(seed=0, train_pairs=6000, test_pairs=2000):
    """Pairs from the first 80% of the digits for training, the last 20% for testing."""
    digits = load_digits()
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(digits.target))
    x = (digits.data[order] / 16.0).astype("float32")
    y = digits.target[order]
    cut = int(0.8 * len(y))
    return (make_pairs(x[:cut], y[:cut], train_pairs, rng),
            make_pairs(x[cut:], y[cut:], test_pairs, rng))


def build_encoder():
    image = gn.Input(shape=(64,), name="image")
    h = layers.Dense(64, activation="relu", name="enc_hidden")(image)
    code = layers.Dense(32, name="code")(h)
    return gn.Model(image, code, name="encoder")


def build_model(encoder):
    left = gn.Input(shape=(64,), name="left")
    right = gn.Input(shape=(64,), name="right")
    a, b = encoder(left), encoder(right)                       # one encoder, two calls
    difference = layers.Subtract(name="difference")([a, b])
    squared = layers.Multiply(name="squared")([difference, difference])
    same = layers.Dense(1, activation="sigmoid", name="same")(squared)
    return gn.Model([left, right], same, name="digits_siamese")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20,
                        help="training epochs (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="folder for the pictures, created if missing (default: out)")
    args = parser.parse_args(argv)

    gn.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_data()
    encoder = build_encoder()
    model = build_model(encoder)
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=64,
                        validation_split=0.1, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"same/different accuracy on {len(y_test)} pairs of unseen digits: {accuracy:.4f}")
    print(f"parameters: {model.count_params()} (the encoder's {encoder.count_params()} "
          f"counted once, though it is called twice)")

    args.out.mkdir(parents=True, exist_ok=True)
    gn.plot_model(model, args.out / "digits_siamese.svg", expand_nested=True)
    history.plot(args.out / "digits_siamese_history.png")
    print(f"wrote {args.out / 'digits_siamese.svg'}, {args.out / 'digits_siamese_history.png'}")
    return {"test_accuracy": accuracy}


if __name__ == "__main__":
    main()
