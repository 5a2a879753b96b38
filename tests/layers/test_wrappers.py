"""TimeDistributed and Masking against NumPy and Keras 3."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import check_against_keras, keras, run_layer_test

X = np.random.default_rng(8).normal(size=(2, 4, 3)).astype("float32")


def test_time_distributed_dense_matches_numpy_and_keras():
    layer = layers.TimeDistributed(layers.Dense(5))
    out = check_against_keras(layer, keras().layers.TimeDistributed(keras().layers.Dense(5)), X,
                              weights="random")
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(out, X @ kernel + bias, rtol=1e-5, atol=1e-6)
    run_layer_test(lambda: layers.TimeDistributed(layers.Dense(5)), (None, 4, 3),
                   expected_num_weights=2)


def test_time_distributed_conv_over_frames():
    frames = np.random.default_rng(1).normal(size=(2, 3, 5, 5, 2)).astype("float32")
    check_against_keras(layers.TimeDistributed(layers.Conv2D(4, 3)),
                        keras().layers.TimeDistributed(keras().layers.Conv2D(4, 3)), frames)
    run_layer_test(lambda: layers.TimeDistributed(layers.Conv2D(2, 3)), (None, 3, 5, 5, 2))


def test_masking_zeroes_and_masks_steps_like_keras():
    x = X.copy()
    x[0, 2:] = 0.0
    x[1, 1] = 0.0
    out = check_against_keras(layers.Masking(), keras().layers.Masking(), x)
    np.testing.assert_array_equal(out, x)
    # an LSTM after Masking skips the masked steps: same as Keras's
    i = gn.Input((4, 3))
    lstm = layers.LSTM(2)
    model = gn.Model(i, lstm(layers.Masking()(i)))
    ki = keras().Input((4, 3))
    klstm = keras().layers.LSTM(2)
    kmodel = keras().Model(ki, klstm(keras().layers.Masking()(ki)))
    lstm.set_weights(klstm.get_weights())
    np.testing.assert_allclose(model.predict(x), kmodel.predict(x, verbose=0), rtol=1e-5,
                               atol=1e-6)
    run_layer_test(lambda: layers.Masking(mask_value=1.0), (None, 4, 3))


def test_time_distributed_errors():
    with pytest.raises(TypeError, match="wraps a Layer"):
        layers.TimeDistributed("dense")
    with pytest.raises(ValueError, match="td.*rank >= 3"):
        layers.TimeDistributed(layers.Dense(2), name="td")(gn.Input((3,)))
