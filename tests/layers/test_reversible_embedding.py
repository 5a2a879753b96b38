"""ReversibleEmbedding: both directions against NumPy and Keras 3, tied or not, masks."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import keras

RNG = np.random.default_rng(13)
IDS = np.array([[1, 0, 3], [4, 5, 0]])


@pytest.mark.parametrize("kwargs", [{}, {"tie_weights": False, "logit_soft_cap": 2.0}])
def test_both_directions_match_numpy_and_keras(kwargs):
    ours, theirs = layers.ReversibleEmbedding(6, 4, **kwargs), \
        keras().layers.ReversibleEmbedding(6, 4, **kwargs)
    ours(IDS)
    theirs(IDS)
    weights = [RNG.normal(size=w.shape).astype("float32") for w in theirs.get_weights()]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in weights]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    np.testing.assert_array_equal(ours(IDS), weights[0][IDS])
    vectors = RNG.normal(size=(2, 3, 4)).astype("float32")
    logits = vectors @ (weights[0].T if len(weights) == 1 else weights[1])
    if "logit_soft_cap" in kwargs:
        logits = np.tanh(logits / 2.0) * 2.0
    got = ours(vectors, reverse=True)
    np.testing.assert_allclose(got, logits, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got, np.asarray(theirs(vectors, reverse=True)), rtol=1e-5,
                               atol=1e-6)


def test_a_tied_language_model_head_in_a_graph():
    ids = gn.Input((3,), dtype="int32")
    embed = layers.ReversibleEmbedding(6, 4, mask_zero=True)
    vectors = embed(ids)
    assert vectors.mask_spec is not None                    # the forward call masks id 0
    logits = embed(layers.Dense(4)(vectors), reverse=True)
    model = gn.Model(ids, logits)
    assert model.predict(IDS, verbose=0).shape == (2, 3, 6)
    assert len(model.get_weights()) == 3                     # one table, used both ways
    with pytest.raises(ValueError, match=r"reverse=True expects vectors of shape \(\.\.\., 4\)"):
        embed(gn.Input((3, 5)), reverse=True)
