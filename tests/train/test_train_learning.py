"""Training reaches real accuracy on scikit-learn's digits (slow: a few seconds each)."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, models


def digits():
    from sklearn.datasets import load_digits
    d = load_digits()
    # The set is ordered by writer; shuffle once so validation_split's last 20% is typical.
    perm = np.random.default_rng(0).permutation(len(d.data))
    return (d.data[perm] / 16).astype("float32"), d.target[perm]


@pytest.mark.slow
def test_book_mnist_listing_reaches_95_percent_on_digits():
    x, labels = digits()
    y = gn.utils.to_categorical(labels, 10)
    network = models.Sequential()
    network.add(layers.Dense(512, activation="relu", input_shape=(64,)))
    network.add(layers.Dense(10, activation="softmax"))
    network.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    history = network.fit(x, y, epochs=8, batch_size=32, validation_split=0.2, verbose=0)
    assert history.history["val_accuracy"][-1] > 0.95
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.slow
def test_two_output_model_learns_both_heads():
    x, labels = digits()
    inp = gn.Input((64,), name="pixels")
    a = layers.Dense(128, activation="relu")(inp)
    b = layers.Dense(128, activation="tanh")(inp)
    h = layers.Dense(64, activation="relu")(layers.Concatenate()([a, b]))
    model = gn.Model(inp, {"digit": layers.Dense(10, activation="softmax")(h),
                           "big": layers.Dense(1, activation="sigmoid")(h)})
    model.compile(optimizer="adam",
                  loss={"big": "binary_crossentropy", "digit": "sparse_categorical_crossentropy"},
                  metrics={"digit": ["accuracy"], "big": ["accuracy"]})
    history = model.fit(x, {"digit": labels, "big": (labels >= 5).astype("float32")},
                        epochs=8, batch_size=32, validation_split=0.2, verbose=0)
    h = history.history
    assert h["val_digit_accuracy"][-1] > 0.93
    assert h["val_big_accuracy"][-1] > 0.93
    assert h["digit_loss"][-1] < h["digit_loss"][0] / 3
    assert h["big_loss"][-1] < h["big_loss"][0] / 3
