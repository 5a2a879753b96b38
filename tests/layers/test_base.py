"""The Layer protocol as a user subclasses it: build, call, state, weights, InputSpec."""
import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import run_layer_test


class Scale(layers.Layer):
    """y = x * gamma; counts training calls in its state (like BatchNorm's moving stats)."""
    weight_names = ("gamma", "calls")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.input_spec = layers.InputSpec(min_ndim=2)

    def build(self, input_shape, *, rng):
        gamma = jnp.asarray(rng.uniform(1, 2, size=input_shape[-1:]), jnp.float32)
        return {"gamma": gamma}, {"calls": jnp.zeros((), jnp.float32)}

    def call(self, params, state, x, *, training=False, rng=None):
        calls = state["calls"] + (1.0 if training else 0.0)
        return x * params["gamma"], {"calls": calls}


def test_custom_layer_weights_state_and_apply():
    x = gn.Input((3,))
    layer = Scale(name="scale")
    model = gn.Model(x, layer(x))
    gamma, calls = layer.get_weights()                  # params first, then state
    assert gamma.shape == (3,) and calls.shape == ()
    v = np.ones((2, 3), "float32")
    out, new_state = model.apply(model.params, model.state, v, training=True)
    np.testing.assert_allclose(out, v * gamma)
    assert float(new_state["scale"]["calls"]) == 1.0
    assert float(model.state["scale"]["calls"]) == 0.0   # apply is pure: the layer is unchanged
    # State is non-trainable: the summary says so.
    lines = []
    model.summary(print_fn=lines.append)
    assert "Trainable params: 3" in lines[0] and "Non-trainable params: 1" in lines[0]
    run_layer_test(lambda: Scale(), (None, 2, 4), expected_num_weights=2,
                   expected_output_shape=(None, 2, 4))


def test_shapes_are_traced_when_a_layer_declares_none():
    class FirstHalf(layers.Layer):
        def call(self, params, state, x, *, training=False, rng=None):
            return x[:, : x.shape[1] // 2], state

    assert FirstHalf()(gn.Input((8, 3))).shape == (None, 4, 3)
    # An unknown size stays unknown in whatever depends on it.
    assert FirstHalf()(gn.Input((None, 3))).shape == (None, None, 3)


def test_input_spec_errors_name_the_layer_like_keras():
    with pytest.raises(ValueError, match=r"Input 0 of layer 'sc' \(Scale\) is incompatible with "
                                         r"the layer: expected min_ndim=2, received shape \(None,\)"):
        Scale(name="sc")(gn.Input(()))
    spec_layer = layers.Identity(name="spec")
    spec_layer.input_spec = layers.InputSpec(ndim=3, axes={-1: 4})
    with pytest.raises(ValueError, match=r"layer 'spec' \(Identity\).*expected ndim=3"):
        spec_layer(gn.Input((4,)))
    with pytest.raises(ValueError, match=r"layer 'spec' \(Identity\).*expected axis -1 of size 4, "
                                         r"received shape \(None, 2, 5\)"):
        spec_layer(gn.Input((2, 5)))
    assert spec_layer(gn.Input((2, 4))).shape == (None, 2, 4)
    with pytest.raises(ValueError, match=r"layer 'spec'.*expected ndim=3, received shape \(None, 4\)"):
        spec_layer(np.ones((2, 4), "float32"))
    typed = layers.Identity(name="typed")
    typed.input_spec = layers.InputSpec(dtype="int32")
    with pytest.raises(ValueError, match="Input 0 of layer 'typed' .*expects dtype int32, received float32"):
        typed(gn.Input((2,)))


def test_input_spec_list_for_merges():
    add = layers.Add(name="two_specs")
    add.input_spec = [layers.InputSpec(shape=(None, 3)), layers.InputSpec(shape=(None, 3))]
    with pytest.raises(ValueError, match="'two_specs' .*expects 2 input tensor"):
        add([gn.Input((3,))] * 3)
    assert add([gn.Input((3,)), gn.Input((3,))]).shape == (None, 3)
    # The same checks as Keras's own InputSpec on the same input.
    k = keras.layers.Identity()
    k.input_spec = keras.layers.InputSpec(ndim=3)
    with pytest.raises(ValueError, match="expected ndim=3"):
        k(keras.Input((4,)))


def test_eager_call_on_arrays_runs_the_layer():
    layer = Scale()
    x = np.ones((2, 3), "float32")
    y = layer(x)
    np.testing.assert_allclose(y, x * layer.get_weights()[0])
    assert isinstance(y, jax.Array)


def test_layer_repr_and_count_params():
    layer = layers.Dense(3, name="d")
    assert repr(layer) == "<Dense name='d' built=False>"
    layer(gn.Input((2,)))
    assert layer.count_params() == 9 and "built=True" in repr(layer)
