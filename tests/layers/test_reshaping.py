"""UpSampling, ZeroPadding and Cropping against NumPy and Keras 3."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import check_against_keras, keras, predict, run_layer_test

rng = np.random.default_rng(4)
X1 = rng.normal(size=(2, 5, 3)).astype("float32")
X2 = rng.normal(size=(2, 4, 5, 3)).astype("float32")

NUMPY_CASES = [
    ("UpSampling1D", {"size": 3}, X1, lambda x: np.repeat(x, 3, axis=1)),
    ("UpSampling2D", {"size": (2, 3)}, X2,
     lambda x: np.repeat(np.repeat(x, 2, axis=1), 3, axis=2)),
    ("ZeroPadding1D", {"padding": (1, 2)}, X1, lambda x: np.pad(x, ((0, 0), (1, 2), (0, 0)))),
    ("ZeroPadding2D", {"padding": ((1, 0), (2, 1))}, X2,
     lambda x: np.pad(x, ((0, 0), (1, 0), (2, 1), (0, 0)))),
    ("ZeroPadding2D", {"padding": 1}, X2, lambda x: np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))),
    ("Cropping1D", {"cropping": (1, 2)}, X1, lambda x: x[:, 1:-2]),
    ("Cropping2D", {"cropping": ((1, 0), (1, 2))}, X2, lambda x: x[:, 1:, 1:-2]),
    ("Cropping2D", {"cropping": 1}, X2, lambda x: x[:, 1:-1, 1:-1]),
]


@pytest.mark.parametrize("name,kw,x,formula", NUMPY_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in NUMPY_CASES])
def test_against_numpy_keras_and_harness(name, kw, x, formula):
    np.testing.assert_allclose(predict(getattr(layers, name)(**kw), x), formula(x), rtol=1e-6)
    check_against_keras(getattr(layers, name)(**kw), getattr(keras().layers, name)(**kw), x)
    run_layer_test(lambda: getattr(layers, name)(**kw), (None, *x.shape[1:]))


def test_bilinear_upsampling_matches_keras():
    check_against_keras(layers.UpSampling2D((2, 3), interpolation="bilinear"),
                        keras().layers.UpSampling2D((2, 3), interpolation="bilinear"), X2)


def test_variable_length_and_errors():
    out = layers.Cropping1D((1, 1))(gn.Input((None, 3)))
    assert out.shape == (None, None, 3)
    with pytest.raises(ValueError, match="crop.*leaves nothing"):
        layers.Cropping1D((3, 3), name="crop")(gn.Input((5, 3)))
    with pytest.raises(ValueError, match="pad.*padding must be"):
        layers.ZeroPadding2D(((1, 2, 3), 1), name="pad")
    with pytest.raises(ValueError, match="up.*rank 4"):
        layers.UpSampling2D(name="up")(gn.Input((5, 3)))
