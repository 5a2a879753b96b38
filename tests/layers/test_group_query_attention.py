"""GroupQueryAttention against Keras 3 from the same weights (gate, sliding window, causal
and padding masks, scores) and against a NumPy reference."""
import jax
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import keras

RNG = np.random.default_rng(15)
Q = RNG.normal(size=(2, 5, 8)).astype("float32")
V = RNG.normal(size=(2, 6, 8)).astype("float32")
K = RNG.normal(size=(2, 6, 3)).astype("float32")


def numpy_gqa(q, v, k, weights, repeats):
    wq, bq, wk, bk, wv, bv, wo, bo = weights
    qh = np.einsum("bqm,muh->bquh", q, wq) + bq
    kh = np.repeat(np.einsum("bkm,mvh->bkvh", k, wk) + bk, repeats, axis=2)
    vh = np.repeat(np.einsum("bkm,mvh->bkvh", v, wv) + bv, repeats, axis=2)
    scores = np.einsum("bquh,bkuh->buqk", qh / np.sqrt(wq.shape[-1]), kh)
    probs = np.exp(scores - scores.max(-1, keepdims=True))
    probs /= probs.sum(-1, keepdims=True)
    return np.einsum("bquh,uhm->bqm", np.einsum("buqk,bkuh->bquh", probs, vh), wo) + bo


@pytest.mark.parametrize("kwargs, call", [
    ({}, {"return_attention_scores": True}),
    ({"use_gate": True, "sliding_window": 2}, {"use_causal_mask": True}),
])
def test_group_query_attention_matches_keras(kwargs, call):
    ours = layers.GroupQueryAttention(4, 4, 2, **kwargs)
    theirs = keras().layers.GroupQueryAttention(4, 4, 2, **kwargs)
    ours(Q, V, key=K)
    theirs(Q, V, key=K)
    weights = [RNG.normal(0, 0.5, w.shape).astype("float32") for w in theirs.get_weights()]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in weights]
    ours.set_weights(weights)
    theirs.set_weights(weights)
    got = jax.tree_util.tree_leaves(ours(Q, V, key=K, **call))
    want = jax.tree_util.tree_leaves(theirs(Q, V, key=K, **call))
    for a, b in zip(got, want):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-5)
    if not kwargs:
        np.testing.assert_allclose(got[0], numpy_gqa(Q, V, K, weights, 2), rtol=1e-4, atol=1e-5)


def test_padding_masks_in_a_model_as_keras():
    ids = np.array([[3, 1, 2, 0, 0], [4, 2, 0, 0, 0]])
    outs, made = [], []
    for lib in (gn, keras()):
        inputs = lib.Input((5,), dtype="int32")
        h = lib.layers.Embedding(6, 8, mask_zero=True)(inputs)
        gqa = lib.layers.GroupQueryAttention(2, 2, 1)
        outs.append(lib.Model(inputs, gqa(h, h)))
        made.append(outs[-1])
    made[0].set_weights(made[1].get_weights())
    np.testing.assert_allclose(made[0].predict(ids, verbose=0), made[1].predict(ids, verbose=0),
                               rtol=1e-5, atol=1e-5)


def test_group_query_attention_errors_name_the_layer():
    with pytest.raises(ValueError, match="must be divisible by num_key_value_heads"):
        layers.GroupQueryAttention(2, 3, 2)
    with pytest.raises(ValueError, match="GroupQueryAttention 'g' expects query of shape"):
        layers.GroupQueryAttention(2, 2, 1, name="g")(gn.Input((4,)), gn.Input((4,)))
    with pytest.raises(ValueError, match="same features"):
        layers.GroupQueryAttention(2, 2, 1)(gn.Input((3, 4)), gn.Input((3, 5)))
