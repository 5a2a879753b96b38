"""ReLU, LeakyReLU, ELU, Softmax and PReLU layers against NumPy and Keras 3."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import check_against_keras, keras, predict, run_layer_test

X = np.random.default_rng(6).normal(size=(3, 4, 5)).astype("float32") * 3


def np_relu(x, max_value=None, negative_slope=0.0, threshold=0.0):
    y = np.where(x >= threshold, x, negative_slope * (x - threshold))
    return y if max_value is None else np.minimum(y, max_value)


def np_softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


CASES = [
    ("ReLU", {}, lambda x: np_relu(x)),
    ("ReLU", {"max_value": 2.0, "negative_slope": 0.1, "threshold": 0.5},
     lambda x: np_relu(x, 2.0, 0.1, 0.5)),
    ("ReLU", {"max_value": 6.0}, lambda x: np_relu(x, 6.0)),
    ("LeakyReLU", {}, lambda x: np.where(x > 0, x, 0.3 * x)),
    ("LeakyReLU", {"negative_slope": 0.05}, lambda x: np.where(x > 0, x, 0.05 * x)),
    ("ELU", {"alpha": 0.7}, lambda x: np.where(x > 0, x, 0.7 * (np.exp(x) - 1))),
    ("Softmax", {}, np_softmax),
    ("Softmax", {"axis": 1}, lambda x: np_softmax(x, 1)),
]


@pytest.mark.parametrize("name,kw,formula", CASES, ids=[f"{c[0]}-{c[1]}" for c in CASES])
def test_against_numpy_keras_and_harness(name, kw, formula):
    np.testing.assert_allclose(predict(getattr(layers, name)(**kw), X), formula(X), rtol=1e-5,
                               atol=1e-6)
    check_against_keras(getattr(layers, name)(**kw), getattr(keras().layers, name)(**kw), X)
    run_layer_test(lambda: getattr(layers, name)(**kw), (None, 4, 5))


@pytest.mark.parametrize("shared_axes", [None, [1]])
def test_prelu_against_numpy_and_keras(shared_axes):
    layer = layers.PReLU(shared_axes=shared_axes)
    out = check_against_keras(layer, keras().layers.PReLU(shared_axes=shared_axes), X,
                              weights="random")
    alpha = layer.get_weights()[0]
    assert alpha.shape == ((4, 5) if shared_axes is None else (1, 5))
    np.testing.assert_allclose(out, np.where(X > 0, X, alpha * X), rtol=1e-5, atol=1e-6)
    run_layer_test(lambda: layers.PReLU(shared_axes=shared_axes), (None, 4, 5),
                   expected_num_weights=1)


def test_masked_softmax_gives_masked_positions_no_weight():
    x = np.random.default_rng(0).normal(size=(2, 4)).astype("float32")
    mask = np.array([[True, True, False, False], [True, False, True, True]])
    out, _ = layers.Softmax().call({}, {}, x, mask=mask)
    want = np.where(mask, np.exp(x), 0) / np.where(mask, np.exp(x), 0).sum(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-5, atol=1e-7)


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match="r1.*negative_slope"):
        layers.ReLU(negative_slope=-1, name="r1")
    with pytest.raises(ValueError, match="p1.*shared_axes"):
        layers.PReLU(shared_axes=[3], name="p1")(gn.Input((4, 5)))
