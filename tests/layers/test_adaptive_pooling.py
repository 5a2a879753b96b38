"""The adaptive pooling layers against Keras 3 (through the harness) and NumPy by hand."""
import math

import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import keras, predict, run_layer_test

CASES = [("AdaptiveAveragePooling1D", 3, (None, 5, 2)), ("AdaptiveMaxPooling1D", 4, (None, 7, 3)),
         ("AdaptiveAveragePooling1D", 5, (None, 3, 2)),        # more outputs than steps
         ("AdaptiveAveragePooling2D", (2, 3), (None, 5, 7, 2)),
         ("AdaptiveMaxPooling2D", 2, (None, 4, 5, 3)),
         ("AdaptiveAveragePooling3D", (2, 1, 3), (None, 3, 4, 5, 2)),
         ("AdaptiveMaxPooling3D", 2, (None, 3, 5, 4, 2))]


@pytest.mark.parametrize("name,size,shape", CASES, ids=[f"{n}-{s}-{h[1:]}" for n, s, h in CASES])
def test_through_the_harness_with_keras(name, size, shape):
    run_layer_test(lambda: getattr(layers, name)(size), shape,
                   keras_layer=lambda: getattr(keras().layers, name)(size))


def _by_hand(x, sizes, reduce):
    """Each output position pools [floor(i L / n), ceil((i + 1) L / n)) on every axis."""
    out = np.empty((x.shape[0], *sizes, x.shape[-1]), x.dtype)
    for index in np.ndindex(*sizes):
        box = tuple(slice(math.floor(i * L / n), math.ceil((i + 1) * L / n))
                    for i, L, n in zip(index, x.shape[1:-1], sizes))
        out[(slice(None), *index)] = reduce(x[(slice(None), *box)],
                                            axis=tuple(range(1, len(sizes) + 1)))
    return out


def test_windows_by_hand():
    x = np.random.default_rng(3).normal(size=(2, 7, 5, 3)).astype("float32")
    np.testing.assert_allclose(predict(layers.AdaptiveAveragePooling2D((3, 2)), x),
                               _by_hand(x, (3, 2), np.mean), rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(predict(layers.AdaptiveMaxPooling2D((4, 3)), x),
                                  _by_hand(x, (4, 3), np.max))


def test_bad_arguments():
    with pytest.raises(TypeError, match="output_size must be an int or a tuple of 2 ints"):
        layers.AdaptiveMaxPooling2D((1, 2, 3))
    with pytest.raises(ValueError, match="AdaptiveAveragePooling1D 'ap' expects an input of "
                                         "rank 3"):
        layers.AdaptiveAveragePooling1D(2, name="ap")(gn.Input((4, 5, 2)))
    with pytest.raises(ValueError, match="channels-last"):
        layers.AdaptiveAveragePooling1D(2, data_format="channels_first")
