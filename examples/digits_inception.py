"""An inception-style CNN reads the 8x8 digit images (scikit-learn's digits, bundled).

One inception block looks at each image through parallel branches (a 1x1 convolution; 1x1
then 3x3; 3x3 average pooling then 3x3), concatenates what they see along the channels,
pools it and names the digit. Prints the test accuracy; writes the model's picture and the
training curves.

    python examples/digits_inception.py [--epochs 25] [--out out]
"""
import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

import graphnet as gn
from graphnet import layers


def load_data(seed=0):
    """Images (n, 8, 8, 1) in [0, 1] and labels, shuffled once and split 80/20."""
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    x = (digits.images[order] / 16.0).astype("float32")[..., None]
    y = digits.target[order].astype("int32")
    cut = int(0.8 * len(y))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def inception_block(x, filters, name):
    """Parallel 1x1, 1x1-3x3 and pool-3x3 branches, concatenated along the channels."""
    b1 = layers.Conv2D(filters, 1, padding="same", activation="relu", name=f"{name}_1x1")(x)
    b2 = layers.Conv2D(filters, 1, padding="same", activation="relu", name=f"{name}_3x3_reduce")(x)
    b2 = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_3x3")(b2)
    b3 = layers.AveragePooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    b3 = layers.Conv2D(filters, 3, padding="same", activation="relu", name=f"{name}_pool_3x3")(b3)
    return layers.Concatenate(name=f"{name}_concat")([b1, b2, b3])


def build_model():
    images = gn.Input(shape=(8, 8, 1), name="image")
    x = layers.Conv2D(16, 3, padding="same", activation="relu", name="stem")(images)
    x = inception_block(x, 16, "inception")
    x = layers.MaxPooling2D(2, name="downsample")(x)                 # (None, 4, 4, 48)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    digit = layers.Dense(10, activation="softmax", name="digit")(x)
    return gn.Model(images, digit, name="digits_inception")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=25,
                        help="training epochs (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="folder for the pictures, created if missing (default: out)")
    args = parser.parse_args(argv)

    gn.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_data()
    model = build_model()
    model.compile(optimizer=gn.optimizers.Adam(3e-3), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=32,
                        validation_split=0.1, verbose=2)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"test accuracy {accuracy:.4f} (loss {loss:.4f}) on {len(y_test)} held-out digits")

    args.out.mkdir(parents=True, exist_ok=True)
    gn.plot_model(model, args.out / "digits_inception.svg")
    history.plot(args.out / "digits_inception_history.png")
    print(f"wrote {args.out / 'digits_inception.svg'}, {args.out / 'digits_inception_history.png'}")
    return {"test_accuracy": accuracy}


if __name__ == "__main__":
    main()
