"""The book's models built from core layers, and readers for the rendered SVG."""
import xml.etree.ElementTree as ET

import pytest

import graphnet as gn
from graphnet import layers

SVG = "{http://www.w3.org/2000/svg}"


def two_branch():
    pixels = gn.Input((64,), name="pixels")
    a = layers.Dense(256, activation="relu", name="relu_branch")(pixels)
    b = layers.Dense(256, activation="tanh", name="tanh_branch")(pixels)
    x = layers.Dense(128, activation="relu", name="trunk")(layers.Concatenate(name="concat")([a, b]))
    digit = layers.Dense(10, activation="softmax", name="digit")(x)
    big = layers.Dense(1, activation="sigmoid", name="big")(x)
    return gn.Model(pixels, [digit, big], name="two_branch")


def three_output():
    posts = gn.Input((1000,), name="posts")
    x = layers.Dropout(0.3, name="dropout")(layers.Dense(256, activation="relu", name="features")(posts))
    age = layers.Dense(1, name="age")(x)
    income = layers.Dense(10, activation="softmax", name="income")(x)
    gender = layers.Dense(1, activation="sigmoid", name="gender")(x)
    return gn.Model(posts, [age, income, gender], name="three_output")


def residual():
    x = gn.Input((32,), name="x")
    h = layers.Dense(32, name="block2")(layers.Dense(32, activation="relu", name="block1")(x))
    y = layers.Activation("relu", name="relu")(layers.Add(name="residual")([x, h]))
    return gn.Model(x, layers.Dense(1, name="y")(y), name="residual")


def siamese():
    left, right = gn.Input((16,), name="left"), gn.Input((16,), name="right")
    shared = layers.Dense(8, activation="relu", name="shared_dense")
    merged = layers.Concatenate(name="merge")([shared(left), shared(right)])
    return gn.Model([left, right], layers.Dense(1, activation="sigmoid", name="same")(merged),
                    name="siamese")


def shared_encoder():
    """A model used as a layer, called twice (a siamese network over a whole encoder)."""
    enc_in = gn.Input((16,), name="enc_in")
    code = layers.Dense(4, name="code")(layers.Dense(12, activation="relu", name="enc_hidden")(enc_in))
    encoder = gn.Model(enc_in, code, name="encoder")
    left, right = gn.Input((16,), name="left"), gn.Input((16,), name="right")
    diff = layers.Subtract(name="diff")([encoder(left), encoder(right)])
    return gn.Model([left, right], layers.Dense(1, activation="sigmoid", name="same")(diff),
                    name="siamese_encoder")


def model_as_layer():
    features_in = gn.Input((64,), name="features_in")
    hidden = layers.Dense(32, activation="relu", name="hidden")(features_in)
    extractor = gn.Model(features_in, hidden, name="feature_extractor")
    pixels = gn.Input((64,), name="pixels")
    digit = layers.Dense(10, activation="softmax", name="digit")(extractor(pixels))
    return gn.Model(pixels, digit, name="classifier")


BOOK = {"two_branch": two_branch, "three_output": three_output, "residual": residual,
        "siamese": siamese, "shared_encoder": shared_encoder, "model_as_layer": model_as_layer}


@pytest.fixture(params=sorted(BOOK))
def book_model(request):
    return BOOK[request.param]()


def parse_svg(data):
    """{node title: (texts, (x0, y0, x1, y1), fill)} and the same for clusters."""
    root = ET.fromstring(data)
    found = {"node": {}, "cluster": {}}
    for group in root.iter(f"{SVG}g"):
        kind = group.get("class")
        if kind not in found:
            continue
        title = group.find(f"{SVG}title").text
        shape = group.find(f"{SVG}path")
        if shape is None:
            shape = group.find(f"{SVG}polygon")
        found[kind][title] = ([t.text for t in group.iter(f"{SVG}text")],
                              bounds(shape.get("d") or shape.get("points")), shape.get("fill"))
    return found["node"], found["cluster"]


def bounds(coordinates: str):
    import re
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", coordinates)]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)
