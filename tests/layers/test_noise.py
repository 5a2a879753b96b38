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
