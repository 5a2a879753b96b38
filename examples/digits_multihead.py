"""The README's main job: one network, two answers, on scikit-learn's digits (bundled, offline).

A shared trunk of Dense layers reads the 8x8 pixels; a "digit" head names the digit (10-class
softmax) and a "big" head says whether it is 5 or more (sigmoid). Both heads train together:
the total loss is the average of the two losses. The script prints each output's validation
metrics and the total loss, then writes the model's picture and its training curves.

    python examples/digits_multihead.py [--epochs 30] [--out out]
"""
import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

import graphnet as gn
from graphnet import layers


def load_data(seed: int = 0):
    """Pixels scaled to [0, 1] and shuffled once, so validation_split's last 20% is a fair sample."""
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    x = (digits.data[order] / 16.0).astype("float32")
    digit = digits.target[order].astype("int32")
    big = (digit >= 5).astype("float32")[:, None]
    return x, {"digit": digit, "big": big}


def build_model():
    pixels = gn.Input(shape=(64,), name="pixels")
    x = layers.Dense(128, activation="relu", name="trunk_1")(pixels)
    x = layers.Dropout(0.2, name="trunk_dropout")(x)
    x = layers.Dense(64, activation="relu", name="trunk_2")(x)
    digit = layers.Dense(10, activation="softmax", name="digit")(x)
    big = layers.Dense(1, activation="sigmoid", name="big")(x)
    return gn.Model(pixels, [digit, big], name="digits_multihead")


def compile_model(model):
    model.compile(optimizer="rmsprop",
                  loss={"digit": "sparse_categorical_crossentropy", "big": "binary_crossentropy"},
                  metrics={"digit": ["accuracy"], "big": ["accuracy"]})


def report(model, history) -> str:
    """Last epoch's validation metrics per output, then the total losses."""
    logs = {key: values[-1] for key, values in history.history.items()}
    lines = ["validation, last epoch:"]
    for name in model.output_names:
        found = {key[len(f"val_{name}_"):]: value for key, value in logs.items()
                 if key.startswith(f"val_{name}_")}
        lines.append(f"  {name:<6} " + "  ".join(f"{k} {v:.4f}" for k, v in found.items()))
    lines.append(f"  total loss {logs['val_loss']:.4f} (training {logs['loss']:.4f}; the mean of "
                 f"the per-output losses)")
    return "\n".join(lines)


def draw(model, history, out: Path) -> list:
    """The model's picture (SVG and PNG) and, after training, its curves; returns the paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "model.svg", out / "model.png"]
    for path in paths:
        gn.plot_model(model, path, show_layer_activations=True)
    if history is not None:
        paths.append(out / "history.png")
        history.plot(paths[-1])
    return paths


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=30,
                        help="training epochs (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="folder for the pictures, created if missing (default: out)")
    args = parser.parse_args(argv)

    gn.utils.set_random_seed(0)
    x, y = load_data()
    model = build_model()
    model.summary()
    compile_model(model)
    history = model.fit(x, y, epochs=args.epochs, batch_size=32, validation_split=0.2, verbose=1)
    print(report(model, history))
    paths = draw(model, history, args.out)
    print("wrote:")
    for path in paths:
        print(f"  {path}")
    return model, history


if __name__ == "__main__":
    main()
