"""ConvLSTM1D/2D/3D against Keras 3 from the same weights, the harness, and their errors."""
import jax
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import keras, run_layer_test
from keras_calls import keras_call

RNG = np.random.default_rng(6)


@pytest.mark.parametrize("name, step, kwargs", [
    ("ConvLSTM1D", (7, 2), dict(padding="same", dilation_rate=2, return_sequences=True,
                                return_state=True)),
    ("ConvLSTM2D", (6, 5, 2), dict(strides=2, go_backwards=True, unit_forget_bias=False)),
    # ConvLSTM3D: against Keras in tests/layers/test_every_layer.py
])
def test_conv_lstm_matches_keras(name, step, kwargs):
    x = RNG.normal(size=(2, 3, *step)).astype("float32")
    ours, theirs = (getattr(lib.layers, name)(3, 2, **kwargs) for lib in (gn, keras()))
    ours(gn.Input(x.shape[1:]))
    theirs.build(x.shape)
    weights = [RNG.normal(0, 0.5, w.shape).astype("float32") for w in theirs.get_weights()]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in weights]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    got = jax.tree_util.tree_leaves(ours(x))
    want = jax.tree_util.tree_leaves(keras_call(theirs, x))
    assert len(got) == len(want)
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-5)
    config = ours.get_config()
    assert set(config) - {"activity_regularizer"} == set(theirs.get_config()) - {
        "activity_regularizer"}


@pytest.mark.slow
def test_conv_lstm_through_the_harness():
    run_layer_test(lambda: layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True),
                   (None, 3, 5, 4, 2), expected_num_weights=3,
                   expected_output_shape=(None, 3, 5, 4, 2))


def test_conv_lstm_dropout_only_in_training():
    layer = layers.ConvLSTM1D(2, 3, dropout=0.5, recurrent_dropout=0.5)
    inputs = gn.Input((4, 6, 2))
    model = gn.Model(inputs, layer(inputs))
    x = RNG.normal(size=(2, 4, 6, 2)).astype("float32")
    plain, _ = model.apply(model.params, model.state, x)
    noisy, _ = model.apply(model.params, model.state, x, training=True, rng=jax.random.key(0))
    assert plain.shape == noisy.shape == (2, 4, 2)
    assert not np.allclose(plain, noisy)
    np.testing.assert_allclose(model.predict(x, verbose=0), plain, rtol=1e-6)


def test_conv_lstm_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"ConvLSTM2D 'c' expects an input of shape"):
        layers.ConvLSTM2D(2, 3, name="c")(gn.Input((3, None, 4, 1)))
    with pytest.raises(ValueError, match="channels-last"):
        layers.ConvLSTM1D(2, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="padding must be one of 'valid', 'same'"):
        layers.ConvLSTM1D(2, 3, padding="causal")
    layer = layers.ConvLSTM1D(2, 3, name="m")
    x = np.ones((1, 3, 5, 2), "float32")
    with pytest.raises(NotImplementedError, match="ConvLSTM1D 'm' does not take a mask"):
        layer(x, mask=np.ones((1, 3), bool))
