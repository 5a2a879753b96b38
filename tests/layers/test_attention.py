"""MultiHeadAttention against its formula in NumPy and against Keras 3."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from layer_harness import check_against_keras, config_round_trip, keras, model_of


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis, keepdims=True))
    return e / e.sum(axis, keepdims=True)


def numpy_mha(q_in, v_in, weights, key_dim, mask=None):
    """softmax(Q K^T / sqrt(key_dim)) V per head, then the output projection."""
    wq, bq, wk, bk, wv, bv, wo, bo = weights
    q = np.einsum("btd,dhk->bthk", q_in, wq) + bq
    k = np.einsum("bsd,dhk->bshk", v_in, wk) + bk
    v = np.einsum("bsd,dhk->bshk", v_in, wv) + bv
    scores = np.einsum("bthk,bshk->bhts", q, k) / np.sqrt(key_dim)
    if mask is not None:
        scores = np.where(mask[:, None], scores, -1e9)
    probs = softmax(scores)
    context = np.einsum("bhts,bshk->bthk", probs, v)
    return np.einsum("bthk,hko->bto", context, wo) + bo, probs


def data(shape, seed):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def test_matches_formula_with_scores_and_causal_mask():
    q, v = data((2, 5, 6), 0), data((2, 5, 3), 1)
    layer = layers.MultiHeadAttention(num_heads=2, key_dim=4, value_dim=3, output_shape=7)
    model = model_of(layer, (5, 6), (5, 3), return_attention_scores=True, use_causal_mask=True)
    out, scores = model.predict([q, v])
    weights = layer.get_weights()
    assert [w.shape for w in weights] == [(6, 2, 4), (2, 4), (3, 2, 4), (2, 4), (3, 2, 3), (2, 3),
                                          (2, 3, 7), (7,)]
    causal = np.tril(np.ones((5, 5), bool))[None].repeat(2, 0)
    want_out, want_scores = numpy_mha(q, v, weights, 4, causal)
    np.testing.assert_allclose(out, want_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scores, want_scores, rtol=1e-5, atol=1e-6)
    assert np.all(scores[:, :, 0, 1:] == 0)


CASES = [
    (dict(num_heads=2, key_dim=3), dict()),
    (dict(num_heads=2, key_dim=3, value_dim=4, output_shape=7, use_bias=False),
     dict(return_attention_scores=True)),
    (dict(num_heads=3, key_dim=2), dict(use_causal_mask=True)),
]


@pytest.mark.parametrize("kwargs,call_kwargs", CASES)
def test_against_keras(kwargs, call_kwargs):
    q, v = data((2, 5, 6), 2), data((2, 4, 3), 3)
    if call_kwargs.get("use_causal_mask"):
        v = data((2, 5, 3), 3)
    layer = layers.MultiHeadAttention(**kwargs)
    check_against_keras(layer, keras().layers.MultiHeadAttention(**kwargs), q, v,
                        call_kwargs=call_kwargs, weights="random", rtol=1e-5, atol=1e-5)
    config_round_trip(layer)


@pytest.mark.parametrize("axes", [(1, 2), 2])
def test_attention_axes_against_keras(axes):
    x = data((2, 3, 4, 5), 4)
    layer = layers.MultiHeadAttention(2, 3, attention_axes=axes)
    check_against_keras(layer, keras().layers.MultiHeadAttention(2, 3, attention_axes=axes), x, x,
                        call_kwargs=dict(return_attention_scores=True), weights="random",
                        rtol=1e-5, atol=1e-5)


def test_separate_key_and_attention_mask_against_keras():
    q, v, k = data((2, 4, 6), 5), data((2, 3, 5), 6), data((2, 3, 2), 7)
    m = np.array([[[1, 1, 0]] * 4, [[1, 0, 0]] * 4], bool)
    ours = layers.MultiHeadAttention(2, 3, name="mha")
    theirs = keras().layers.MultiHeadAttention(2, 3, name="mha")
    gi = [gn.Input(a.shape[1:]) for a in (q, v, k)] + [gn.Input((4, 3), dtype="bool")]
    model = gn.Model(gi, ours(gi[0], gi[1], key=gi[2], attention_mask=gi[3]))
    ki = [keras().Input(a.shape[1:]) for a in (q, v, k)] + [keras().Input((4, 3), dtype="bool")]
    kmodel = keras().Model(ki, theirs(ki[0], ki[1], key=ki[2], attention_mask=ki[3]))
    theirs.set_weights(ours.get_weights())
    assert [w.shape for w in ours.get_weights()][2] == (2, 2, 3)
    np.testing.assert_allclose(model.predict([q, v, k, m]), kmodel.predict([q, v, k, m], verbose=0),
                               rtol=1e-5, atol=1e-5)


def test_masks_from_embeddings_against_keras():
    ids_q = np.array([[1, 2, 0, 0], [3, 4, 5, 0]], "int32")
    ids_v = np.array([[1, 0, 0], [2, 3, 0]], "int32")

    def build(lib):
        L = lib.layers
        iq, iv = lib.Input((4,), dtype="int32"), lib.Input((3,), dtype="int32")
        eq = L.Embedding(6, 4, mask_zero=True, name="eq")(iq)
        ev = L.Embedding(6, 4, mask_zero=True, name="ev")(iv)
        att = L.MultiHeadAttention(2, 3, name="mha")(eq, ev)
        return lib.Model([iq, iv], L.GlobalAveragePooling1D()(att))   # pools over the query mask
    ours, theirs = build(gn), build(keras())
    for name in ("eq", "ev", "mha"):
        theirs.get_layer(name).set_weights(ours.get_layer(name).get_weights())
    np.testing.assert_allclose(ours.predict([ids_q, ids_v]),
                               theirs.predict([ids_q, ids_v], verbose=0), rtol=1e-5, atol=1e-5)


def test_errors_name_the_layer():
    layer = layers.MultiHeadAttention(2, 3, name="the_mha")
    layer(gn.Input((4, 6)), gn.Input((5, 3)))
    with pytest.raises(ValueError, match=r"the_mha.*query features 6.*\(None, 4, 7\)"):
        layer(gn.Input((4, 7)), gn.Input((5, 3)))
    with pytest.raises(ValueError, match=r"the_mha.*rank >= 3"):
        layer(gn.Input((6,)), gn.Input((5, 3)))
    with pytest.raises(ValueError, match=r"the_mha.*'output_kernel'.*\(2, 3, 6\).*\(2, 3, 5\)"):
        layer.set_weights([*layer.get_weights()[:6], np.zeros((2, 3, 5)), np.zeros(6)])
    with pytest.raises(ValueError, match="num_heads"):
        layers.MultiHeadAttention(0, 3)
