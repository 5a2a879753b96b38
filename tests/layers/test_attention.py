"""MultiHeadAttention against its formula in NumPy and against Keras 3."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import check_against_keras, config_round_trip, keras, model_of, run_layer_test


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


# ---- Attention and AdditiveAttention ------------------------------------------------------
def _qkv():
    r = np.random.default_rng(12)
    return (r.normal(size=(2, 3, 4)).astype("float32"), r.normal(size=(2, 5, 4)).astype("float32"),
            r.normal(size=(2, 5, 4)).astype("float32"))


def _np_softmax(s):
    e = np.exp(s - s.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


DENSE_ATTENTION = [
    ("Attention", {}), ("Attention", {"use_scale": True}),
    ("Attention", {"score_mode": "concat", "use_scale": True}),
    ("AdditiveAttention", {}), ("AdditiveAttention", {"use_scale": False}),
]


@pytest.mark.parametrize("name,kw", DENSE_ATTENTION, ids=[f"{n}-{k}" for n, k in DENSE_ATTENTION])
@pytest.mark.parametrize("with_key", [False, True])
def test_dense_attention_matches_numpy_and_keras(name, kw, with_key):
    q, v, k = _qkv()
    inputs = [q, v, k] if with_key else [q, v]
    layer = getattr(layers, name)(**kw)
    out = _dense_attention_outputs(layer, getattr(keras().layers, name)(**kw), inputs)
    weights = dict(zip([n for n in layer.weight_names if n in layer.params], layer.get_weights()))
    key = k if with_key else v
    scale = weights.get("scale", 1.0)
    if name == "Attention" and kw.get("score_mode", "dot") == "dot":
        scores = q @ key.transpose(0, 2, 1) * scale
    elif name == "Attention":
        scores = weights["concat_score_weight"] * np.tanh(
            scale * (q[:, :, None] + key[:, None])).sum(-1)
    else:
        scores = (scale * np.tanh(q[:, :, None] + key[:, None])).sum(-1)
    np.testing.assert_allclose(out, _np_softmax(scores) @ v, rtol=1e-5, atol=1e-6)
    run_layer_test(lambda: getattr(layers, name)(**kw), [(None, 3, 4), (None, 5, 4)])


def _dense_attention_outputs(layer, klayer, inputs):
    """Both layers called on a list of Inputs, with the same (random) weights."""
    k = keras()
    ours_in = [gn.Input(x.shape[1:]) for x in inputs]
    model = gn.Model(ours_in, layer(ours_in))
    kin = [k.Input(x.shape[1:]) for x in inputs]
    kmodel = k.Model(kin, klayer(kin))
    if layer.get_weights():
        rnd = [np.asarray(np.random.default_rng(3).normal(size=w.shape), "float32")
               for w in layer.get_weights()]
        layer.set_weights(rnd)
        klayer.set_weights(rnd)
    out = model.predict(inputs, verbose=0)
    np.testing.assert_allclose(out, kmodel.predict(inputs, verbose=0), rtol=1e-5, atol=1e-6)
    return out


def test_dense_attention_masks_causal_and_scores_like_keras():
    k = keras()
    q, _, _ = _qkv()
    ids = np.array([[1, 2, 3, 0, 0], [4, 0, 0, 0, 0]], "int32")
    qi, vi = gn.Input((3, 4)), gn.Input((5,), dtype="int32")
    emb = layers.Embedding(6, 4, mask_zero=True)
    att = layers.Attention()
    out, scores = att([qi, emb(vi)], return_attention_scores=True, use_causal_mask=True)
    model = gn.Model([qi, vi], [out, scores])
    kqi, kvi = k.Input((3, 4)), k.Input((5,), dtype="int32")
    kemb = k.layers.Embedding(6, 4, mask_zero=True)
    kout, kscores = k.layers.Attention()([kqi, kemb(kvi)], return_attention_scores=True,
                                         use_causal_mask=True)
    kmodel = k.Model([kqi, kvi], [kout, kscores])
    emb.set_weights(kemb.get_weights())
    ours = model.predict([q, ids], verbose=0)
    theirs = kmodel.predict([q, ids], verbose=0)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert np.allclose(ours[1][1, :, 1:], 0)          # masked value steps get no weight
    with pytest.raises(ValueError, match="att.*same last dimension"):
        layers.Attention(name="att")([gn.Input((3, 4)), gn.Input((5, 2))])
