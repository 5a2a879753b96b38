"""JaxLayer: a JAX function as a layer, checked against calling the function itself (Keras's
JaxLayer needs TensorFlow to build, so it is not the reference here); FlaxLayer's error."""
import importlib.util

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from graphnet.registry import register_serializable
from harness import run_layer_test

X = np.random.default_rng(14).normal(size=(2, 4)).astype("float32")


@register_serializable(name="test_jax_layer>dense_init")
def dense_init(rng, inputs):
    return {"w": jax.random.normal(rng, (inputs.shape[-1], 3)), "b": jnp.zeros(3)}


@register_serializable(name="test_jax_layer>dense_call")
def dense_call(params, inputs):
    return jnp.tanh(inputs @ params["w"] + params["b"])


def counting_init(inputs, rng, training):
    assert training is True and inputs.shape == (1, 4)       # ones, unknown sizes as 1
    return {"w": jax.random.normal(rng, (4, 3))}, {"steps": jnp.zeros(())}


def counting_call(inputs, params, state, rng, training):
    """Arguments in another order than Keras's list: they are passed by name."""
    y = inputs @ params["w"]
    if training:
        y = y * jax.random.bernoulli(rng, 0.5, y.shape).astype(y.dtype) * 2.0
        state = {"steps": state["steps"] + 1}
    return y, state


def test_a_stateless_function_with_its_init():
    layer = layers.JaxLayer(dense_call, dense_init)
    inputs = gn.Input((4,))
    model = gn.Model(inputs, layer(inputs))
    b, w = layer.get_weights()                       # the params' leaves, in JAX's order
    assert w.shape == (4, 3) and b.shape == (3,)
    rng = np.random.default_rng(1)
    new = [rng.normal(size=(3,)).astype("float32"), rng.normal(size=(4, 3)).astype("float32")]
    layer.set_weights(new)
    np.testing.assert_allclose(model.predict(X, verbose=0), np.tanh(X @ new[1] + new[0]),
                               rtol=1e-5, atol=1e-6)
    model.compile("sgd", "mse")
    before = model.evaluate(X, np.ones((2, 3), "float32"), verbose=0)
    model.fit(X, np.ones((2, 3), "float32"), epochs=3, verbose=0)
    assert model.evaluate(X, np.ones((2, 3), "float32"), verbose=0) < before


def test_state_rng_and_training_reach_the_function_as_keras_passes_them():
    layer = layers.JaxLayer(counting_call, counting_init)
    inputs = gn.Input((4,))
    model = gn.Model(inputs, layer(inputs))
    params, state = layer.params, layer.state
    key = jax.random.key(5)
    out, new_state, _ = layer.pure_call(params, state, X, training=True, rng=key)
    want, want_state = counting_call(X, params["params"], state["state"], key, True)
    np.testing.assert_array_equal(out, want)
    assert float(new_state["state"]["steps"]) == float(want_state["steps"]) == 1.0
    # inference: no key, no change of state
    np.testing.assert_allclose(model.predict(X, verbose=0), X @ np.asarray(params["params"]["w"]),
                               rtol=1e-5, atol=1e-6)
    model.compile("sgd", "mse")
    model.fit(X, np.ones((2, 3), "float32"), batch_size=1, epochs=2, verbose=0)
    assert float(layer.state["state"]["steps"]) == 4.0      # one per training step


def test_params_given_directly_and_the_errors():
    w = np.eye(4, 2, dtype="float32")
    layer = layers.JaxLayer(lambda params, inputs: inputs @ params, params=w, name="j")
    np.testing.assert_allclose(layer(X), X @ w, rtol=1e-6)
    config = layer.get_config()
    assert config["call_fn"].startswith("unregistered:") and config["init_fn"] is None
    with pytest.raises(ValueError, match="JaxLayer 'j': its call_fn .* was not registered"):
        layers.JaxLayer.from_config(config)
    with pytest.raises(ValueError, match="must take an argument named 'inputs'"):
        layers.JaxLayer(lambda params, x: x, params=w)
    with pytest.raises(ValueError, match=r"unsupported argument\(s\) \['mode'\]"):
        layers.JaxLayer(lambda inputs, mode: inputs)
    with pytest.raises(ValueError, match="give init_fn, or params and state"):
        layers.JaxLayer(dense_call)


def test_a_jax_layer_through_the_harness():
    run_layer_test(lambda: layers.JaxLayer(dense_call, dense_init), (None, 4),
                   expected_num_weights=2)


@pytest.mark.skipif(importlib.util.find_spec("flax") is not None, reason="flax is installed")
def test_flax_layer_says_it_needs_flax():
    with pytest.raises(ImportError, match="FlaxLayer needs the flax package"):
        layers.FlaxLayer(None)


def test_layers_holding_user_code_say_they_may_mix_a_batch():
    """fit pads a short last batch only for layers that never mix samples: a JAX function,
    or a cell written by the user, may."""
    assert layers.JaxLayer(dense_call, dense_init).batch_dependent
    assert not layers.RNN(layers.GRUCell(2)).batch_dependent

    class Cell(layers.Layer):
        state_size = 2

        def call(self, inputs, states):
            return states[0], states

    assert layers.RNN(Cell()).batch_dependent
    assert layers.Pipeline([layers.JaxLayer(dense_call, dense_init)]).batch_dependent
