"""BatchNormalization (both modes, moving statistics in state) and LayerNormalization."""
import jax
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import check_against_keras, config_round_trip, keras, model_of, random_weights


def bn_model(shape=(5, 3), **kwargs):
    layer = layers.BatchNormalization(name="bn", **kwargs)
    model = model_of(layer, shape)
    layer.set_weights(random_weights(layer))
    return layer, model


def test_batchnorm_inference_uses_moving_statistics():
    layer, model = bn_model()
    gamma, beta, mean, var = layer.get_weights()
    x = np.random.default_rng(1).normal(size=(4, 5, 3)).astype("float32")
    want = (x - mean) / np.sqrt(var + 1e-3) * gamma + beta
    np.testing.assert_allclose(model.predict(x), want, rtol=1e-5, atol=1e-5)
    out, new_state = model.apply(model.params, model.state, x, training=False)
    np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5)
    assert new_state["bn"] is model.state["bn"]


def test_batchnorm_training_uses_batch_statistics_and_updates_state():
    layer, model = bn_model()
    gamma, beta, mean, var = layer.get_weights()
    x = np.random.default_rng(2).normal(2.0, 3.0, size=(4, 5, 3)).astype("float32")
    out, new_state = jax.jit(lambda p, s, x: model.apply(p, s, x, training=True))(
        model.params, model.state, x)
    batch_mean, batch_var = x.mean((0, 1)), x.var((0, 1))      # biased variance, as Keras
    np.testing.assert_allclose(out, (x - batch_mean) / np.sqrt(batch_var + 1e-3) * gamma + beta,
                               rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(new_state["bn"]["moving_mean"], 0.99 * mean + 0.01 * batch_mean,
                               rtol=1e-5)
    np.testing.assert_allclose(new_state["bn"]["moving_variance"], 0.99 * var + 0.01 * batch_var,
                               rtol=1e-5)
    # The layer itself is untouched: apply is pure.
    np.testing.assert_array_equal(layer.get_weights()[2], mean)


def test_frozen_batchnorm_keeps_moving_statistics_when_training():
    layer, model = bn_model()
    layer.trainable = False
    x = np.random.default_rng(3).normal(size=(4, 5, 3)).astype("float32")
    out, new_state = model.apply(model.params, model.state, x, training=True)
    np.testing.assert_allclose(out, model.predict(x), rtol=1e-6)
    np.testing.assert_array_equal(new_state["bn"]["moving_mean"], model.state["bn"]["moving_mean"])


def test_batchnorm_against_keras_in_both_modes():
    x = np.random.default_rng(4).normal(1.0, 2.0, size=(6, 4, 4, 3)).astype("float32")
    layer = layers.BatchNormalization(momentum=0.9, epsilon=1e-2)
    klayer = keras().layers.BatchNormalization(momentum=0.9, epsilon=1e-2)
    model = model_of(layer, x.shape[1:])
    weights = random_weights(layer, seed=5)
    check_against_keras(layer, klayer, x, weights=weights)
    # One training call on each side with the same start; outputs and moving statistics agree.
    layer.set_weights(weights)
    klayer.set_weights(weights)
    ours, new_state = model.apply(model.params, model.state, x, training=True)
    theirs = klayer(x, training=True)
    np.testing.assert_allclose(ours, np.asarray(theirs), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(new_state[layer.name]["moving_mean"], np.asarray(klayer.moving_mean),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(new_state[layer.name]["moving_variance"],
                               np.asarray(klayer.moving_variance), rtol=1e-5)


def test_batchnorm_without_scale_and_center_has_only_moving_stats():
    layer = layers.BatchNormalization(scale=False, center=False)
    model_of(layer, (3,))
    assert [w.shape for w in layer.get_weights()] == [(3,), (3,)]
    assert layer.params == {} and set(layer.state) == {"moving_mean", "moving_variance"}


def test_layernorm_matches_numpy_and_keras():
    x = np.random.default_rng(6).normal(size=(3, 5, 4)).astype("float32")
    for axis in (-1, (1, 2)):
        layer = layers.LayerNormalization(axis=axis)
        out = check_against_keras(layer, keras().layers.LayerNormalization(axis=axis), x,
                                  weights="random")
        gamma, beta = layer.get_weights()
        axes = (-1,) if axis == -1 else axis
        mean, var = x.mean(axes, keepdims=True), x.var(axes, keepdims=True)
        np.testing.assert_allclose(out, (x - mean) / np.sqrt(var + 1e-3) * gamma + beta,
                                   rtol=1e-5, atol=1e-5)
        config_round_trip(layer)


def test_config_round_trip_and_errors():
    layer = layers.BatchNormalization(momentum=0.8, epsilon=1e-4, center=False, name="bn_cfg")
    assert config_round_trip(layer).momentum == 0.8
    layer(gn.Input((4, 3)))
    with pytest.raises(ValueError, match=r"bn_cfg.*rank 3.*\(None, 4, 5\)"):
        layer(gn.Input((4, 5)))
    with pytest.raises(ValueError, match=r"bn_cfg.*rank 3"):
        layer(gn.Input((3,)))
    with pytest.raises(ValueError, match=r"bn_cfg.*'gamma'.*\(3,\).*\(4,\)"):
        layer.set_weights([np.ones(4, "float32")] * 3)
    with pytest.raises(ValueError, match="ln_axis.*axis 3 is out of range"):
        layers.LayerNormalization(axis=3, name="ln_axis")(gn.Input((4,)))


# ---- GroupNormalization, UnitNormalization, RMSNormalization ---------------------------------
from harness import run_layer_test  # noqa: E402

NEW_CASES = [
    ("GroupNormalization", dict(groups=2), (None, 4, 6)),
    ("GroupNormalization", dict(groups=-1, epsilon=1e-2), (None, 3, 2, 4)),
    ("GroupNormalization", dict(groups=3, axis=1, center=False), (None, 6, 5)),
    ("UnitNormalization", dict(), (None, 4, 5)),
    ("UnitNormalization", dict(axis=[1, 2]), (None, 3, 4)),
    ("RMSNormalization", dict(), (None, 4, 5)),
    ("RMSNormalization", dict(axis=[-2, -1], epsilon=1e-3), (None, 2, 3, 4)),
]


@pytest.mark.parametrize("name,kw,shape", NEW_CASES,
                         ids=[f"{n}-{sorted(k)}" for n, k, _ in NEW_CASES])
def test_new_normalizations_through_the_harness_with_keras(name, kw, shape):
    run_layer_test(lambda: getattr(layers, name)(**kw), shape,
                   keras_layer=lambda: getattr(keras().layers, name)(**kw))


def test_group_normalization_by_hand():
    x = np.random.default_rng(8).normal(2.0, 3.0, size=(2, 5, 6)).astype("float32")
    layer = layers.GroupNormalization(groups=3)
    model = model_of(layer, x.shape[1:])
    gamma, beta = random_weights(layer, seed=2)
    layer.set_weights([gamma, beta])
    g = x.reshape(2, 5, 3, 2)                           # channels split into 3 groups of 2
    mean, var = g.mean((1, 3), keepdims=True), g.var((1, 3), keepdims=True)
    want = ((g - mean) / np.sqrt(var + 1e-3)).reshape(x.shape) * gamma + beta
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-5)
    assert layers.GroupNormalization(groups=-1).get_config()["groups"] == -1
    instance = layers.GroupNormalization(groups=-1)
    model_of(instance, (5, 6))
    assert instance.get_config()["groups"] == 6          # as Keras records it once built


def test_unit_and_rms_normalization_by_hand():
    x = np.random.default_rng(9).normal(size=(3, 4)).astype("float32")
    x[1] = 0.0
    unit = model_of(layers.UnitNormalization(), (4,)).predict(x, verbose=0)
    norms = np.linalg.norm(x, axis=-1, keepdims=True)
    np.testing.assert_allclose(unit, np.where(norms > 0, x / np.maximum(norms, 1e-30), 0.0),
                               rtol=1e-6)
    layer = layers.RMSNormalization(epsilon=1e-3)
    model = model_of(layer, (4,))
    (scale,) = random_weights(layer, seed=4)
    layer.set_weights([scale])
    want = x / np.sqrt(np.mean(x ** 2, -1, keepdims=True) + 1e-3) * scale
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)


def test_new_normalizations_refuse_bad_arguments():
    with pytest.raises(ValueError, match="groups must be a positive int"):
        layers.GroupNormalization(groups=0)
    with pytest.raises(ValueError, match="GroupNormalization 'gn': 6 channels on axis -1 "
                                         "cannot be split into 4 groups"):
        layers.GroupNormalization(groups=4, name="gn")(gn.Input((3, 6)))
    with pytest.raises(ValueError, match="RMSNormalization 'rms': axis 1 must name the last"):
        layers.RMSNormalization(axis=1, name="rms")(gn.Input((3, 6)))
