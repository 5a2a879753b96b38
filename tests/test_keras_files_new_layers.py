"""The layers and optimizers added from Keras's catalogue go through Keras 3 files both ways
with the same predictions (Keras loads graphnet's file, graphnet loads Keras's)."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers as L

keras = pytest.importorskip("keras")


def _both_ways(model, x, tmp_path):
    model.save(tmp_path / "ours.keras")
    theirs = keras.saving.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    theirs.save(tmp_path / "theirs.keras")
    again = gn.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    return theirs, again


def test_new_1d_layers_and_an_optimizer(tmp_path):
    inp = gn.Input((6, 4))
    h = L.GroupNormalization(2)(inp)
    h = L.RMSNormalization()(h)
    h = L.UnitNormalization()(h)
    h = L.DepthwiseConv1D(2, depth_multiplier=2)(h)
    h = L.SeparableConv1D(3, 2)(h)
    h = L.AlphaDropout(0.1)(h)
    model = gn.Model(inp, L.ActivityRegularization(0.01)(h))
    model.compile(optimizer=gn.optimizers.Adamax(0.01), loss="mse")
    x = np.random.default_rng(0).normal(size=(3, 6, 4)).astype("float32")
    theirs, again = _both_ways(model, x, tmp_path)
    assert type(theirs.optimizer).__name__ == "Adamax"
    assert type(again.optimizer) is gn.optimizers.Adamax


def test_new_3d_reshaping_layers(tmp_path):
    inp = gn.Input((3, 4, 5, 2))
    model = gn.Model(inp, L.Cropping3D()(L.ZeroPadding3D()(L.UpSampling3D()(inp))))
    x = np.random.default_rng(1).normal(size=(2, 3, 4, 5, 2)).astype("float32")
    _both_ways(model, x, tmp_path)


def test_adaptive_pooling(tmp_path):
    inp = gn.Input((5, 7, 2))
    h = L.AdaptiveAveragePooling2D((3, 2))(L.AdaptiveMaxPooling2D((4, 5))(inp))
    model = gn.Model(inp, h)
    x = np.random.default_rng(2).normal(size=(2, 5, 7, 2)).astype("float32")
    _both_ways(model, x, tmp_path)
