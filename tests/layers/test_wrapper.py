"""Wrapper (the base class) and SpectralNormalization: Keras 3 from the same weights in
inference and in a training call, NumPy's power iteration, and a subclass through the
harness."""
import jax
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from graphnet.registry import register_serializable
from harness import keras, run_layer_test

RNG = np.random.default_rng(12)


def numpy_spectral(kernel, u, iterations):
    w = kernel.reshape(-1, kernel.shape[-1])
    for _ in range(iterations):
        v = u @ w.T
        v = v / np.linalg.norm(v)
        u = v @ w
        u = u / np.linalg.norm(u)
    return kernel / ((v @ w) @ u.T), u


@pytest.mark.parametrize("iterations", [1, 3])
def test_spectral_normalization_matches_keras_and_numpy(iterations):
    x = RNG.normal(size=(2, 4)).astype("float32")
    ours = layers.SpectralNormalization(layers.Dense(3), power_iterations=iterations)
    theirs = keras().layers.SpectralNormalization(keras().layers.Dense(3),
                                                 power_iterations=iterations)
    ours(x)
    theirs(x)
    weights = [RNG.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
    assert [w.shape for w in ours.get_weights()] == [(4, 3), (1, 3), (3,)]   # Keras's order
    ours.set_weights(weights)
    theirs.set_weights(weights)
    kernel, u, bias = weights
    # Inference: the wrapped layer as it is (Keras's too).
    np.testing.assert_allclose(ours(x), x @ kernel + bias, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours(x), np.asarray(theirs(x)), rtol=1e-5, atol=1e-6)
    # Training: the normalized kernel, and the new estimate of u kept as state.
    out, state, _ = ours.pure_call(ours.params, ours.state, x, training=True,
                                   rng=jax.random.key(0))
    k_out, k_state = theirs.stateless_call(theirs.trainable_variables,
                                           theirs.non_trainable_variables, x, training=True)
    normalized, new_u = numpy_spectral(kernel, u, iterations)
    np.testing.assert_allclose(out, x @ normalized + bias, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, np.asarray(k_out), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state["vector_u"], new_u, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(state["vector_u"], np.asarray(k_state[0]), rtol=1e-5, atol=1e-6)


def test_spectral_normalization_trains_and_errors():
    inputs = gn.Input((4,))
    layer = layers.SpectralNormalization(layers.Dense(2))
    model = gn.Model(inputs, layer(inputs))
    u0 = np.array(layer.state["vector_u"])
    model.compile("sgd", "mse")
    model.fit(RNG.normal(size=(4, 4)).astype("float32"), np.ones((4, 2), "float32"),
              verbose=0, epochs=1)
    assert not np.allclose(layer.state["vector_u"], u0)      # the estimate moved
    with pytest.raises(ValueError, match="has no 'kernel' nor 'embeddings'"):
        layers.SpectralNormalization(layers.ReLU())(gn.Input((3,)))
    with pytest.raises(ValueError, match="power_iterations must be a positive int"):
        layers.SpectralNormalization(layers.Dense(2), power_iterations=0)
    with pytest.raises(ValueError, match="Wrapper wraps a Layer"):
        layers.Wrapper("dense")


@register_serializable(name="test_wrapper>Twice")
class Twice(layers.Wrapper):
    """A wrapper written Keras's way: the wrapped layer's output doubled."""

    def call(self, inputs):
        return 2.0 * self.layer(inputs)


def test_a_wrapper_subclass_written_the_keras_way():
    model, data, out = run_layer_test(lambda: Twice(layers.Dense(3)), (None, 4),
                                      expected_num_weights=2)
    kernel, bias = model.layers[-1].get_weights()
    np.testing.assert_allclose(out[0], 2 * (data[0] @ kernel + bias), rtol=1e-5, atol=1e-6)
