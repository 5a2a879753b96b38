"""Discretization against NumPy's digitize and Keras 3's own layer (whose arithmetic needs
no TensorFlow): given boundaries, adapted quantiles batch by batch, every output mode."""
import numpy as np
import pytest

from graphnet import layers
from harness import keras, run_layer_test

rng = np.random.default_rng(4)


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_given_boundaries_match_numpy_and_keras(mode):
    x = np.array([[-1.5, 0.0, 0.2, 1.0], [2.0, 0.7, -0.1, 5.0]], "float32")
    bounds = [0.0, 0.5, 1.0]
    ours = layers.Discretization(bin_boundaries=bounds, output_mode=mode)(x)
    theirs = keras().layers.Discretization(bin_boundaries=bounds, output_mode=mode)(x)
    np.testing.assert_array_equal(np.asarray(ours), np.asarray(theirs))
    if mode == "int":
        np.testing.assert_array_equal(ours, np.digitize(x, bounds))
        assert ours.dtype == np.int32


def keras_adapt(layer, batches):
    """Keras's `adapt` without its tf.data check: the same update and finalize steps."""
    layer.reset_state()
    for batch in batches:
        layer.update_state(batch)
    layer.finalize_state()


def test_adapted_boundaries_equal_keras_quantile_summary():
    data = rng.normal(size=(500, 1)).astype("float32")
    for num_bins, epsilon in ((4, 0.01), (7, 0.05)):
        ours = layers.Discretization(num_bins=num_bins, epsilon=epsilon)
        theirs = keras().layers.Discretization(num_bins=num_bins, epsilon=epsilon)
        ours.adapt(data)
        keras_adapt(theirs, [data])
        np.testing.assert_allclose(ours.bin_boundaries, theirs.bin_boundaries, rtol=1e-6,
                                   atol=1e-6)
        # close to the true quantiles
        np.testing.assert_allclose(ours.bin_boundaries, np.quantile(
            data, np.arange(1, num_bins) / num_bins), atol=0.1)
    # batch by batch: the merged summary, as Keras merges it
    ours, theirs = layers.Discretization(num_bins=3), keras().layers.Discretization(num_bins=3)
    batches = [data[:200], data[200:450], data[450:]]
    ours.adapt(iter(batches))
    keras_adapt(theirs, batches)
    np.testing.assert_allclose(ours.bin_boundaries, theirs.bin_boundaries, rtol=1e-6,
                               atol=1e-6)


@pytest.mark.slow
def test_through_the_harness():
    run_layer_test(lambda: layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.5]), (None, 3),
                   keras_layer=lambda: keras().layers.Discretization(
                       bin_boundaries=[-0.5, 0.0, 0.5]))


def test_errors_name_the_layer():
    with pytest.raises(ValueError, match="Discretization 'd': give num_bins or bin_bound"):
        layers.Discretization(num_bins=3, bin_boundaries=[0.0], name="d")
    with pytest.raises(ValueError, match="adapt needs num_bins"):
        layers.Discretization(bin_boundaries=[0.0]).adapt(np.zeros(3))
    with pytest.raises(TypeError, match="adapt expects numbers"):
        layers.Discretization(num_bins=2).adapt(np.array(["a", "b"]))
