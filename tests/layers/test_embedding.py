"""Embedding: lookup against NumPy and Keras 3, mask_zero."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import check_against_keras, config_round_trip, keras, predict


def test_lookup_matches_numpy_and_keras():
    ids = np.random.default_rng(0).integers(0, 10, size=(3, 5)).astype("int32")
    layer = layers.Embedding(10, 4)
    out = check_against_keras(layer, keras().layers.Embedding(10, 4), ids)
    np.testing.assert_array_equal(out, layer.get_weights()[0][ids])
    assert layer.get_weights()[0].shape == (10, 4)
    table = layer.get_weights()[0]
    assert np.abs(table).max() <= 0.05 and table.std() > 0.01    # Keras's "uniform" default


def test_mask_zero_gives_the_mask_of_nonzero_ids():
    layer = layers.Embedding(5, 2, mask_zero=True)
    ids = np.array([[1, 0, 3], [0, 0, 2]], "int32")
    predict(layer, ids)
    np.testing.assert_array_equal(layer.compute_mask(ids), ids != 0)
    assert layers.Embedding(5, 2).compute_mask(ids, None) is None


def test_input_length_fixes_the_input_shape_in_sequential():
    model = gn.Sequential([layers.Embedding(20, 3, input_length=6), layers.Flatten(),
                           layers.Dense(1)])
    assert model.outputs[0].shape == (None, 1)
    assert model.inputs[0].shape == (None, 6)


def test_config_and_errors():
    layer = layers.Embedding(7, 3, mask_zero=True, name="emb_cfg")
    clone = config_round_trip(layer)
    assert clone.mask_zero and clone.input_dim == 7
    layer(gn.Input((4,), dtype="int32"))
    with pytest.raises(ValueError, match=r"emb_cfg.*'embeddings'.*\(7, 3\).*\(3, 7\)"):
        layer.set_weights([np.zeros((3, 7), "float32")])
    with pytest.raises(ValueError, match="output_dim"):
        layers.Embedding(7, 0)
