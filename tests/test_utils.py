"""graphnet.utils against NumPy and keras.utils."""
import keras
import numpy as np
import pytest

from graphnet import utils


@pytest.mark.parametrize("labels,num_classes", [([0, 2, 1, 2], None), ([[1], [3]], 5),
                                                (np.array([[0, 1], [2, 0]]), 3)])
def test_to_categorical_matches_keras(labels, num_classes):
    ours = utils.to_categorical(labels, num_classes)
    theirs = keras.utils.to_categorical(labels, num_classes)
    assert ours.shape == theirs.shape and ours.dtype == np.float32
    np.testing.assert_array_equal(ours, theirs)
    flat = np.asarray(labels).reshape(-1)
    np.testing.assert_array_equal(ours.reshape(-1, ours.shape[-1]).argmax(-1), flat)
