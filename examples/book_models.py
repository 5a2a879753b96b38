"""The functional-API models of *Deep Learning with Python* (built from core layers), and
their pictures.

Builds each model of the book's functional-API chapter (two branches and two heads, three
outputs, an inception-like block, a residual connection, a siamese pair, a shared encoder and
a model used as a layer) and draws it as SVG, plus a PNG, a left-to-right SVG, an expanded
nested model and a Mermaid file. The Pictures page of the documentation shows them:

    python examples/book_models.py [--out out/book_models]
    python examples/book_models.py --out docs/models      # redraw the documentation's gallery
"""
import argparse
import sys
from pathlib import Path

import graphnet as gn
from graphnet import layers


def two_branch():
    """Two parallel branches merged, then two heads (the benchmark's M2)."""
    pixels = gn.Input((64,), name="pixels")
    a = layers.Dense(256, activation="relu", name="relu_branch")(pixels)
    b = layers.Dense(256, activation="tanh", name="tanh_branch")(pixels)
    x = layers.Dense(128, activation="relu", name="trunk")(layers.Concatenate(name="concat")([a, b]))
    digit = layers.Dense(10, activation="softmax", name="digit")(x)
    big = layers.Dense(1, activation="sigmoid", name="big")(x)
    return gn.Model(pixels, [digit, big], name="two_branch")


def three_output():
    """One input, three predictions: age (regression), income (10 classes), gender (binary)."""
    posts = gn.Input((1000,), name="posts")
    x = layers.Dense(256, activation="relu", name="features")(posts)
    x = layers.Dropout(0.3, name="dropout")(x)
    age = layers.Dense(1, name="age")(x)
    income = layers.Dense(10, activation="softmax", name="income")(x)
    gender = layers.Dense(1, activation="sigmoid", name="gender")(x)
    return gn.Model(posts, [age, income, gender], name="three_output")


def inception_like():
    """Inception's shape with Dense branches of different depths, concatenated."""
    x = gn.Input((64,), name="x")
    a = layers.Dense(16, activation="relu", name="branch_a")(x)
    b = layers.Dense(16, activation="relu", name="branch_b2")(
        layers.Dense(16, activation="relu", name="branch_b1")(x))
    c = layers.Dense(16, activation="relu", name="branch_c3")(
        layers.Dense(16, activation="relu", name="branch_c2")(
            layers.Dense(16, activation="relu", name="branch_c1")(x)))
    d = layers.Dense(16, activation="relu", name="branch_d")(layers.Dropout(0.2, name="branch_d_drop")(x))
    merged = layers.Concatenate(name="concat")([a, b, c, d])
    return gn.Model(x, layers.Dense(10, activation="softmax", name="classes")(merged),
                    name="inception_like")


def residual():
    """A residual connection: the block's input is added to its output."""
    x = gn.Input((32,), name="x")
    h = layers.Dense(32, activation="relu", name="block1")(x)
    h = layers.Dense(32, name="block2")(h)
    y = layers.Activation("relu", name="relu")(layers.Add(name="residual")([x, h]))
    return gn.Model(x, layers.Dense(1, name="y")(y), name="residual")


def siamese():
    """One Dense layer applied to two inputs: one set of weights, two calls."""
    left, right = gn.Input((16,), name="left"), gn.Input((16,), name="right")
    shared = layers.Dense(8, activation="relu", name="shared_dense")
    merged = layers.Concatenate(name="merge")([shared(left), shared(right)])
    return gn.Model([left, right], layers.Dense(1, activation="sigmoid", name="same")(merged),
                    name="siamese")


def shared_encoder():
    """A whole model used as a layer, called on two inputs."""
    enc_in = gn.Input((16,), name="enc_in")
    hidden = layers.Dense(12, activation="relu", name="enc_hidden")(enc_in)
    encoder = gn.Model(enc_in, layers.Dense(4, name="code")(hidden), name="encoder")
    left, right = gn.Input((16,), name="left"), gn.Input((16,), name="right")
    diff = layers.Subtract(name="diff")([encoder(left), encoder(right)])
    return gn.Model([left, right], layers.Dense(1, activation="sigmoid", name="same")(diff),
                    name="siamese_encoder")


def model_as_layer():
    """A feature extractor model inside a classifier."""
    features_in = gn.Input((64,), name="features_in")
    hidden = layers.Dense(32, activation="relu", name="hidden")(features_in)
    extractor = gn.Model(features_in, hidden, name="feature_extractor")
    pixels = gn.Input((64,), name="pixels")
    digit = layers.Dense(10, activation="softmax", name="digit")(extractor(pixels))
    return gn.Model(pixels, digit, name="classifier")


BOOK = {"two_branch": two_branch, "three_output": three_output, "inception_like": inception_like,
        "residual": residual, "siamese": siamese, "shared_encoder": shared_encoder,
        "model_as_layer": model_as_layer}


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("out") / "book_models",
                        help="folder for the pictures, created if missing "
                             "(default: out/book_models)")
    folder = parser.parse_args(argv).out
    folder.mkdir(parents=True, exist_ok=True)
    for name, build in BOOK.items():
        model = build()
        gn.plot_model(model, folder / f"{name}.svg")
        print(folder / f"{name}.svg")
    gn.plot_model(two_branch(), folder / "two_branch.png", dpi=110)
    gn.plot_model(two_branch(), folder / "two_branch_lr.svg", rankdir="LR")
    gn.plot_model(shared_encoder(), folder / "shared_encoder_expanded.svg", expand_nested=True,
                  show_layer_activations=True)
    gn.plot_model(siamese(), folder / "siamese.mmd")
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from digits_multihead import build_model
    gn.plot_model(build_model(), folder / "digits_multihead.svg", show_layer_activations=True)
    print(f"pictures in {folder}")


if __name__ == "__main__":
    main()
