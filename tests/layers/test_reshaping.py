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


CASES_3D = [("UpSampling3D", dict(size=(2, 1, 3))), ("UpSampling3D", dict()),
            ("ZeroPadding3D", dict(padding=((1, 0), (0, 2), (1, 1)))), ("ZeroPadding3D", dict()),
            ("Cropping3D", dict(cropping=((1, 0), (0, 1), (1, 1)))), ("Cropping3D", dict())]


@pytest.mark.parametrize("name,kw", CASES_3D, ids=[f"{n}-{sorted(k)}" for n, k in CASES_3D])
def test_3d_reshaping_through_the_harness_with_keras(name, kw):
    run_layer_test(lambda: getattr(layers, name)(**kw), (None, 3, 4, 5, 2),
                   keras_layer=lambda: getattr(keras().layers, name)(**kw))


def test_3d_reshaping_by_hand():
    x = np.arange(2 * 3 * 4 * 5 * 2, dtype="float32").reshape(2, 3, 4, 5, 2)
    np.testing.assert_array_equal(predict(layers.UpSampling3D((2, 1, 3)), x),
                                  x.repeat(2, 1).repeat(3, 3))
    np.testing.assert_array_equal(predict(layers.ZeroPadding3D(((1, 0), (0, 2), (1, 1))), x),
                                  np.pad(x, ((0, 0), (1, 0), (0, 2), (1, 1), (0, 0))))
    np.testing.assert_array_equal(predict(layers.Cropping3D(((1, 0), (0, 1), (1, 1))), x),
                                  x[:, 1:, :-1, 1:-1])
    with pytest.raises(ValueError, match=r"Cropping3D 'c3' expects an input of rank 5 "
                                         r"\(batch, dim1, dim2, dim3, channels\)"):
        layers.Cropping3D(name="c3")(gn.Input((3, 4, 5)))
