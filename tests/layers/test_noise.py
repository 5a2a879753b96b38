"""GaussianNoise, GaussianDropout and SpatialDropout: identity at inference (as Keras),
the right noise when training."""
import jax
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import check_against_keras, keras, run_layer_test

X = np.random.default_rng(2).normal(size=(4, 6, 5, 8)).astype("float32")

CASES = [("GaussianNoise", {"stddev": 0.5}, X), ("GaussianDropout", {"rate": 0.3}, X),
         ("SpatialDropout1D", {"rate": 0.5}, X[:, 0]), ("SpatialDropout2D", {"rate": 0.5}, X)]


@pytest.mark.parametrize("name,kw,x", CASES, ids=[c[0] for c in CASES])
def test_identity_at_inference_like_keras(name, kw, x):
    out = check_against_keras(getattr(layers, name)(**kw), getattr(keras().layers, name)(**kw), x)
    np.testing.assert_array_equal(out, x)
    run_layer_test(lambda: getattr(layers, name)(**kw), (None, *x.shape[1:]))


def _train(layer, x, seed=0):
    out, _ = layer.call({}, {}, x, training=True, rng=jax.random.key(seed))
    return np.asarray(out)


def test_training_noise_statistics():
    big = np.ones((200, 50), "float32")
    noise = _train(layers.GaussianNoise(0.5), big) - big
    assert abs(noise.mean()) < 0.01 and abs(noise.std() - 0.5) < 0.01
    factor = _train(layers.GaussianDropout(0.3), big)
    assert abs(factor.mean() - 1) < 0.01 and abs(factor.std() - (0.3 / 0.7) ** 0.5) < 0.01


@pytest.mark.parametrize("name,x", [("SpatialDropout1D", X[:, 0]), ("SpatialDropout2D", X)])
def test_spatial_dropout_drops_whole_channels(name, x):
    out = _train(getattr(layers, name)(0.5), x)
    spatial = tuple(range(1, x.ndim - 1))
    dropped = (out == 0).all(axis=spatial)                  # (batch, channels)
    kept = np.isclose(out, 2 * x).all(axis=spatial)
    assert (dropped | kept).all() and dropped.any() and kept.any()


def test_training_needs_a_key():
    with pytest.raises(ValueError, match="gn1.*random key"):
        layers.GaussianNoise(0.1, name="gn1").call({}, {}, X, training=True, rng=None)
    with pytest.raises(ValueError, match="rate must be in"):
        layers.GaussianDropout(1.5)
    with pytest.raises(ValueError, match="sd.*rank 4"):
        layers.SpatialDropout2D(0.5, name="sd")(gn.Input((5, 3)))


# ---- AlphaDropout and ActivityRegularization --------------------------------------------------
def test_alpha_dropout_and_activity_regularization_through_the_harness():
    run_layer_test(lambda: layers.AlphaDropout(0.3), (None, 4, 3),
                   keras_layer=lambda: keras().layers.AlphaDropout(0.3))
    run_layer_test(lambda: layers.ActivityRegularization(l1=0.01, l2=0.1), (None, 4, 3),
                   keras_layer=lambda: keras().layers.ActivityRegularization(l1=0.01, l2=0.1))


def test_alpha_dropout_when_training_keeps_or_saturates_each_value():
    x = np.random.default_rng(2).normal(size=(64, 50)).astype("float32")
    inp = gn.Input((50,))
    model = gn.Model(inp, layers.AlphaDropout(0.2)(inp))
    out, _ = model.apply(model.params, model.state, x, training=True,
                         rng=jax.random.PRNGKey(0))
    out = np.asarray(out)
    alpha_p = -1.6732632423543772 * 1.0507009873554805
    a = ((1 - 0.2) * (1 + 0.2 * alpha_p ** 2)) ** -0.5
    b = -a * alpha_p * 0.2
    kept = np.isclose(out, a * x + b, rtol=1e-5, atol=1e-6)
    dropped = np.isclose(out, a * alpha_p + b, rtol=1e-5, atol=1e-6)
    assert np.all(kept | dropped)
    assert 0.15 < dropped.mean() < 0.25                     # about `rate` of them
    with pytest.raises(ValueError, match="AlphaDropout 'ad': rate must be in"):
        layers.AlphaDropout(1.5, name="ad")


def test_activity_regularization_adds_keras_penalty_to_the_loss():
    k = keras()
    r = np.random.default_rng(3)
    x = r.normal(size=(8, 3)).astype("float32")
    y = r.normal(size=(8, 2)).astype("float32")
    kin = k.Input((3,))
    kmodel = k.Model(kin, k.layers.ActivityRegularization(0.01, 0.1)(k.layers.Dense(2)(kin)))
    inp = gn.Input((3,))
    model = gn.Model(inp, layers.ActivityRegularization(0.01, 0.1)(layers.Dense(2)(inp)))
    model.set_weights(kmodel.get_weights())
    kmodel.compile(loss="mse")
    model.compile(optimizer="sgd", loss="mse")
    ours = model.evaluate(x, y, batch_size=8, verbose=0)
    theirs = kmodel.evaluate(x, y, batch_size=8, verbose=0)
    kernel, bias = model.get_weights()
    out = x @ kernel + bias
    by_hand = np.mean((out - y) ** 2) + (0.01 * np.abs(out).sum() + 0.1 * (out ** 2).sum()) / 8
    np.testing.assert_allclose(ours, by_hand, rtol=1e-5)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
