"""EinsumDense against np.einsum and Keras 3, its initial scale, and its errors."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import keras

RNG = np.random.default_rng(9)


@pytest.mark.parametrize("equation, output_shape, bias_axes, step", [
    ("abc,cde->abde", (None, 2, 3), "de", (4, 5)),
    ("...b,bc->...c", 3, "c", (2, 4, 5)),          # a leading ellipsis of two axes
    ("ab...,bc->ac...", 3, None, (5, 2)),          # a trailing one
])
def test_einsum_dense_matches_numpy_and_keras(equation, output_shape, bias_axes, step):
    x = RNG.normal(size=(2, *step)).astype("float32")
    ours = layers.EinsumDense(equation, output_shape, bias_axes=bias_axes, activation="tanh")
    theirs = keras().layers.EinsumDense(equation, output_shape, bias_axes=bias_axes,
                                        activation="tanh")
    symbolic = ours(gn.Input(step))
    theirs(x)
    weights = [RNG.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in weights]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    got = np.asarray(ours(x))
    assert len(symbolic.shape) == got.ndim
    assert all(s is None or s == g for s, g in zip(symbolic.shape[1:], got.shape[1:]))
    want = np.einsum(equation, x, weights[0]) + (weights[1] if bias_axes else 0)
    np.testing.assert_allclose(got, np.tanh(want), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got, np.asarray(theirs(x)), rtol=1e-5, atol=1e-6)


def test_glorot_counts_fans_over_the_equations_input_and_output_axes():
    layer = layers.EinsumDense("ab,bcd->acd", (8, 8))
    layer(gn.Input((40,)))
    kernel = layer.get_weights()[0]
    limit = np.sqrt(6 / (40 + 64))      # fan_in 40 (b), fan_out 8 * 8 (c, d), as Keras
    assert kernel.shape == (40, 8, 8)
    assert 0.9 * limit < np.abs(kernel).max() <= limit


def test_einsum_dense_errors_name_the_layer():
    with pytest.raises(ValueError, match="EinsumDense 'e': invalid einsum equation"):
        layers.EinsumDense("ab->b", 3, name="e")(gn.Input((2,)))
    with pytest.raises(ValueError, match="bias axis 'z' is not in the output spec"):
        layers.EinsumDense("ab,bc->ac", 3, bias_axes="z")(gn.Input((2,)))
    with pytest.raises(ValueError, match="needs inputs of rank 2"):
        layers.EinsumDense("ab,bc->ac", 3)(gn.Input((2, 4)))
    with pytest.raises(ValueError, match="output_shape \\(3, 2\\) does not fit"):
        layers.EinsumDense("ab...,bc->ac...", (3, 2))(gn.Input((5, 2)))
    with pytest.raises(NotImplementedError, match="lora_rank"):
        layers.EinsumDense("ab,bc->ac", 3, lora_rank=2)
