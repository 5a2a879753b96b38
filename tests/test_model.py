"""The functional Model: structure, the pure function and predict, against NumPy."""
import jax
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers


def relu(x):
    return np.maximum(x, 0)


def two_branch():
    a = gn.Input((6,), name="a")
    b = gn.Input((4,), name="b")
    left = layers.Dense(5, activation="relu", name="left")(a)
    right = layers.Dense(5, activation="relu", name="right")(b)
    merged = layers.Concatenate(name="cat")([left, right])
    out1 = layers.Dense(3, name="head1")(merged)
    out2 = layers.Dense(1, name="head2")(layers.Add(name="sum")([left, right]))
    return gn.Model([a, b], [out1, out2], name="two_branch")


def numpy_two_branch(model, xa, xb):
    w = {l.name: l.get_weights() for l in model.layers if l.get_weights()}
    left = relu(xa @ w["left"][0] + w["left"][1])
    right = relu(xb @ w["right"][0] + w["right"][1])
    out1 = np.concatenate([left, right], -1) @ w["head1"][0] + w["head1"][1]
    out2 = (left + right) @ w["head2"][0] + w["head2"][1]
    return out1, out2


def test_two_branch_predict_and_apply_match_numpy():
    model = two_branch()
    rng = np.random.default_rng(1)
    xa, xb = rng.normal(size=(7, 6)).astype("float32"), rng.normal(size=(7, 4)).astype("float32")
    ref1, ref2 = numpy_two_branch(model, xa, xb)
    p1, p2 = model.predict([xa, xb])
    np.testing.assert_allclose(p1, ref1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(p2, ref2, rtol=1e-5, atol=1e-6)
    (o1, o2), new_state = jax.jit(model.apply)(model.params, model.state, {"a": xa, "b": xb})
    np.testing.assert_allclose(o1, ref1, rtol=1e-5, atol=1e-6)
    assert new_state == model.state


def test_graph_is_networkx_with_layer_nodes_and_shape_edges():
    model = two_branch()
    g = model.graph
    assert set(g.nodes) == {"a", "b", "left", "right", "cat", "head1", "sum", "head2"}
    assert g.edges["cat", "head1"]["shape"] == (None, 10)
    assert type(g.nodes["a"]["layer"]).__name__ == "InputLayer"
    assert g.nodes["left"]["layer"] is model.get_layer("left")


def test_shared_layer_has_one_set_of_weights_and_two_nodes():
    a, b = gn.Input((3,), name="a"), gn.Input((3,), name="b")
    shared = layers.Dense(2, name="shared")
    model = gn.Model([a, b], layers.Subtract()([shared(a), shared(b)]))
    assert {"shared", "shared@1"} <= set(model.graph.nodes)
    assert model.count_params() == 3 * 2 + 2
    x, y = np.ones((1, 3), "float32"), np.zeros((1, 3), "float32")
    kernel, _ = shared.get_weights()
    np.testing.assert_allclose(model.predict([x, y]), x @ kernel, rtol=1e-5)


def test_dense_shape_mismatch_names_layer_and_shapes():
    d = layers.Dense(4, name="proj")
    d(gn.Input((3,)))
    with pytest.raises(ValueError, match=r"proj.*\(\.\.\., 3\).*\(None, 5\)"):
        d(gn.Input((5,)))


def test_output_from_unlisted_input_is_an_error_naming_it():
    a, b = gn.Input((3,), name="a"), gn.Input((3,), name="orphan")
    out = layers.Add()([a, b])
    with pytest.raises(ValueError, match="orphan"):
        gn.Model(a, out)


# ---- structures: list, dict, single ----------------------------------------------------------
def dict_model():
    a = gn.Input((3,), name="a")
    b = gn.Input((2,), name="b")
    h = layers.Concatenate(name="ab")([a, b])
    return gn.Model({"first": a, "second": b},
                    {"score": layers.Dense(1, name="score_dense")(h), "feat": h}, name="dm")


def test_dict_inputs_and_outputs_round_trip_through_predict_and_call():
    model = dict_model()
    xa, xb = np.ones((4, 3), "float32"), np.full((4, 2), 2, "float32")
    k, b = model.get_layer("score_dense").get_weights()
    feat = np.concatenate([xa, xb], -1)
    for x in ({"first": xa, "second": xb}, {"a": xa, "b": xb}, [xa, xb]):
        for out in (model.predict(x), model(x)):
            assert set(out) == {"score", "feat"}
            np.testing.assert_allclose(out["feat"], feat)
            np.testing.assert_allclose(out["score"], feat @ k + b, rtol=1e-5)
    assert model.output_names == ["score", "feat"]
    assert model.input_names == ["first", "second"]


def test_list_outputs_come_back_as_a_list_single_as_an_array():
    model = two_branch()
    out = model.predict([np.ones((2, 6)), np.ones((2, 4))])
    assert isinstance(out, list) and [o.shape for o in out] == [(2, 3), (2, 1)]
    assert model.output_names == ["head1", "head2"]
    x = gn.Input((2,))
    single = gn.Model(x, layers.Dense(1)(x))
    res = single.predict(np.ones((3, 2)))
    assert isinstance(res, np.ndarray) and res.shape == (3, 1) and res.dtype == np.float32
    res[0] = 5.0           # writable, like Keras's results


def test_inputs_by_input_names_in_any_order():
    model = two_branch()
    xa, xb = np.ones((2, 6), "float32"), np.ones((2, 4), "float32")
    by_list = model.predict([xa, xb])
    by_name = model.predict({"b": xb, "a": xa})
    for p, q in zip(by_list, by_name):
        np.testing.assert_array_equal(p, q)


def test_intermediate_outputs_for_feature_extraction():
    model = two_branch()
    features = gn.Model(model.inputs, [model.get_layer("left").output, model.get_layer("cat").output])
    xa, xb = np.ones((2, 6), "float32"), np.ones((2, 4), "float32")
    left, cat = features.predict([xa, xb])
    kl, bl = model.get_layer("left").get_weights()
    np.testing.assert_allclose(left, relu(xa @ kl + bl), rtol=1e-5)
    assert cat.shape == (2, 10)
    assert "head1" not in features.graph
    assert features.count_params() == 6 * 5 + 5 + 4 * 5 + 5


# ---- nested models and shared weights ---------------------------------------------------------
def test_nested_model_shares_weights_with_the_original():
    inner = two_branch()
    a, b = gn.Input((6,), name="outer_a"), gn.Input((4,), name="outer_b")
    out1, out2 = inner([a, b])
    outer = gn.Model([a, b], layers.Add(name="total")([out1, layers.Dense(3, name="up")(out2)]))
    assert outer.count_params() == inner.count_params() + 1 * 3 + 3
    assert outer.params["two_branch"]["left"] is inner.get_layer("left").params
    xa, xb = np.ones((2, 6), "float32"), np.ones((2, 4), "float32")
    before = outer.predict([xa, xb])
    # New weights set on the original change the outer model: one set of weights.
    inner.set_weights([w * 2 for w in inner.get_weights()])
    r1, r2 = numpy_two_branch(inner, xa, xb)
    ku, bu = outer.get_layer("up").get_weights()
    after = outer.predict([xa, xb])
    np.testing.assert_allclose(after, r1 + r2 @ ku + bu, rtol=1e-5, atol=1e-6)
    assert not np.allclose(before, after)
    # get_weights of the outer model contains the inner model's, in place.
    assert len(outer.get_weights()) == len(inner.get_weights()) + 2


def test_model_called_twice_shares_weights_and_is_counted_once():
    x = gn.Input((3,), name="x")
    encoder = gn.Model(x, layers.Dense(2, name="enc")(x), name="encoder")
    a, b = gn.Input((3,), name="a"), gn.Input((3,), name="b")
    siamese = gn.Model([a, b], layers.Subtract()([encoder(a), encoder(b)]))
    assert siamese.count_params() == encoder.count_params() == 8
    assert {"encoder", "encoder@1"} <= set(siamese.graph.nodes)
    xa, xb = np.ones((2, 3), "float32"), np.zeros((2, 3), "float32")
    k, _ = encoder.get_weights()
    np.testing.assert_allclose(siamese.predict([xa, xb]), xa @ k, rtol=1e-5)


def test_trainable_false_on_a_layer_and_on_a_nested_model():
    inner = mlp_model("inner")
    x = gn.Input((4,))
    head = layers.Dense(2, name="head")
    outer = gn.Model(x, head(inner(x)))
    mask = outer.trainable_mask()
    assert mask == {"inner": {"h": {"kernel": True, "bias": True}, "o": {"kernel": True, "bias": True}},
                    "head": {"kernel": True, "bias": True}}
    inner.trainable = False
    head_params = 3 * 2 + 2
    mask = outer.trainable_mask()
    assert not any(jax.tree_util.tree_leaves(mask["inner"]))
    assert all(jax.tree_util.tree_leaves(mask["head"]))
    lines = []
    outer.summary(print_fn=lines.append)
    assert f"Trainable params: {head_params:,}" in lines[0]
    assert f"Non-trainable params: {inner.count_params():,}" in lines[0]
    inner.trainable = True
    inner.get_layer("h").trainable = False
    mask = outer.trainable_mask()
    assert mask["inner"]["h"] == {"kernel": False, "bias": False}
    assert mask["inner"]["o"] == {"kernel": True, "bias": True}
    outer.trainable = False
    assert not any(jax.tree_util.tree_leaves(outer.trainable_mask()))


def mlp_model(name):
    x = gn.Input((4,), name=f"{name}_x")
    h = layers.Dense(5, activation="relu", name="h")(x)
    return gn.Model(x, layers.Dense(3, name="o")(h), name=name)


# ---- summary -----------------------------------------------------------------------------
def test_summary_lists_names_types_shapes_params_inbound_and_totals():
    model = two_branch()
    lines = []
    model.summary(print_fn=lines.append)
    text = lines[0]
    rows = {line.split("|")[0].strip(): [c.strip() for c in line.split("|")]
            for line in text.splitlines() if "|" in line}
    assert rows["left (Dense)"] == ["left (Dense)", "(None, 5)", "35", "a"]
    assert rows["cat (Concatenate)"] == ["cat (Concatenate)", "(None, 10)", "0", "left, right"]
    assert rows["a (InputLayer)"][1:] == ["(None, 6)", "0", "-"]
    assert rows["head2 (Dense)"][1:] == ["(None, 1)", "6", "sum"]
    total = 35 + 25 + 33 + 6
    assert f"Total params: {total:,}" in text
    assert f"Trainable params: {total:,}" in text and "Non-trainable params: 0" in text
    assert text.startswith('Model: "two_branch"')


def test_summary_counts_a_shared_layer_once():
    a, b = gn.Input((3,), name="a"), gn.Input((3,), name="b")
    shared = layers.Dense(2, name="shared")
    model = gn.Model([a, b], layers.Add(name="sum")([shared(a), shared(b)]))
    lines = []
    model.summary(print_fn=lines.append)
    assert "shared@1 (Dense)" in lines[0]
    assert "Total params: 8" in lines[0]


# ---- weights in Keras order -------------------------------------------------------------
def keras_twin(kind):
    """The same architecture in graphnet and Keras 3 (different creation orders)."""
    import keras
    models = []
    for lib in (gn, keras):
        L = lib.layers
        if kind == "branches":
            a, b = lib.Input((6,), name="a"), lib.Input((4,), name="b")
            r = L.Dense(5, name="right")(b)
            l = L.Dense(3, activation="relu", name="left")(a)
            deep = L.Dense(3, name="deep")(L.Dense(4, name="pre")(b))
            c = L.Concatenate(name="c")([l, r, deep])
            models.append(lib.Model([a, b], [L.Dense(2, name="o")(c), L.Dense(1, name="o2")(r)]))
        else:  # a shared layer used at two depths, and a skip connection
            x = lib.Input((4,), name="x")
            shared = L.Dense(4, activation="tanh", name="shared")
            h = shared(L.Dense(4, name="first")(x))
            h2 = shared(h)
            out = L.Add(name="add")([h2, L.Dense(4, name="skip")(x)])
            models.append(lib.Model(x, L.Dense(2, name="out")(out)))
    return models


@pytest.mark.parametrize("kind", ["branches", "shared"])
def test_get_weights_order_and_shapes_match_keras(kind):
    ours, theirs = keras_twin(kind)
    assert [l.name for l in ours.layers] == [l.name for l in theirs.layers]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    theirs.set_weights(ours.get_weights())
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(3, *t.shape[1:])).astype("float32") for t in ours.inputs]
    feed = xs if len(xs) > 1 else xs[0]
    for p, q in zip(jax.tree_util.tree_leaves(ours.predict(feed)),
                    jax.tree_util.tree_leaves(theirs(feed))):
        np.testing.assert_allclose(p, q, rtol=1e-5, atol=1e-6)
    ours.set_weights(theirs.get_weights())


def test_set_weights_checks_count_and_shapes():
    model = two_branch()
    weights = model.get_weights()
    with pytest.raises(ValueError, match=r"Model 'two_branch' expects 8 weight arrays, received 7"):
        model.set_weights(weights[:-1])
    weights[0] = np.zeros((5, 6))
    with pytest.raises(ValueError, match=r"Layer 'left' weight 'kernel' has shape \(6, 5\), "
                                         r"received an array of shape \(5, 6\)"):
        model.set_weights(weights)


# ---- layer.input / layer.output ---------------------------------------------------------------
def test_layer_input_and_output():
    model = two_branch()
    cat = model.get_layer("cat")
    assert cat.input == [model.get_layer("left").output, model.get_layer("right").output]
    assert cat.output.shape == (None, 10)
    assert model.get_layer("left").input is model.inputs[0]
    shared = layers.Dense(2, name="twice")
    shared(gn.Input((3,)))
    shared(gn.Input((3,)))
    with pytest.raises(ValueError, match="Layer 'twice' has been called 2 times"):
        shared.output
    with pytest.raises(ValueError, match="Layer 'never' has never been called"):
        layers.Dense(2, name="never").output


def test_get_layer_by_name_and_index():
    model = two_branch()
    assert model.get_layer(index=0) is model.layers[0]
    with pytest.raises(ValueError, match="has no layer named 'nope'; its layers are"):
        model.get_layer("nope")


# ---- predict -------------------------------------------------------------------------------
def counting_model():
    """A model whose Lambda counts how often the forward pass is traced."""
    traces = []

    def count(t):
        traces.append(t.shape)
        return t * 2

    x = gn.Input((3,))
    model = gn.Model(x, layers.Lambda(count)(layers.Dense(2, name="d")(x)))
    traces.clear()                       # the symbolic call traced it once
    return model, traces


def test_predict_batches_and_matches_one_pass():
    model, _ = counting_model()
    x = np.random.default_rng(0).normal(size=(70, 3)).astype("float32")
    k, b = model.get_layer("d").get_weights()
    expected = 2 * (x @ k + b)
    for batch_size in (None, 1, 7, 32, 70, 100):
        np.testing.assert_allclose(model.predict(x, batch_size=batch_size), expected, rtol=1e-5, atol=1e-6)


def test_ragged_last_batch_does_not_retrace_per_call():
    model, traces = counting_model()
    x = np.ones((70, 3), "float32")
    model.predict(x, batch_size=32)
    assert traces == [(32, 2), (8, 2)]       # a full batch, and the ragged 6 padded to 8
    model.predict(x, batch_size=32)
    model.predict(x[:69], batch_size=32)     # a tail of 5 shares the bucket of 8
    assert len(traces) == 2
    for _ in range(2):
        for n in range(33, 71):              # every tail size: buckets 1, 2, 4, 8, 16, 32
            model.predict(x[:n], batch_size=32)
    assert sorted(s[0] for s in traces) == [1, 2, 4, 8, 16, 32]


def test_one_sample_predict_and_call():
    model = two_branch()
    xa, xb = np.ones((1, 6), "float32"), np.ones((1, 4), "float32")
    p1, _ = model.predict([xa, xb])
    c1, _ = model([xa, xb])
    ref1, _ = numpy_two_branch(model, xa, xb)
    assert p1.shape == (1, 3)
    np.testing.assert_allclose(p1, ref1, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(c1, ref1, rtol=1e-5, atol=1e-6)


def test_predict_converts_ints_and_float64_and_accepts_nested_lists():
    x = gn.Input((2,))
    model = gn.Model(x, layers.Dense(1, name="d")(x))
    k, b = model.get_layer("d").get_weights()
    for data in ([[1, 2], [3, 4]], np.array([[1, 2], [3, 4]]), np.array([[1.0, 2.0], [3.0, 4.0]])):
        out = model.predict(data)
        assert out.dtype == np.float32
        np.testing.assert_allclose(out, np.array([[1, 2], [3, 4]], "float32") @ k + b, rtol=1e-5)


def test_predict_accepts_jax_arrays():
    model = two_branch()
    xa, xb = jax.numpy.ones((33, 6)), jax.numpy.ones((33, 4))
    p1, _ = model.predict([xa, xb], batch_size=16)
    ref1, _ = numpy_two_branch(model, np.ones((33, 6), "float32"), np.ones((33, 4), "float32"))
    np.testing.assert_allclose(p1, ref1, rtol=1e-5, atol=1e-6)


def test_model_call_with_training_uses_dropout():
    x = gn.Input((1000,))
    model = gn.Model(x, layers.Dropout(0.5)(x))
    ones = np.ones((1, 1000), "float32")
    np.testing.assert_array_equal(model(ones), ones)
    dropped = np.asarray(model(ones, training=True))
    assert 0.4 < np.mean(dropped == 0) < 0.6


def test_nested_model_is_functional_in_summary_and_freezes_its_layers_as_keras():
    import keras
    r = np.random.default_rng(0)
    x, y = r.random((16, 4)).astype("float32"), r.random((16, 1)).astype("float32")
    built = []
    for lib in (gn, keras):
        i = lib.Input((4,))
        inner = lib.Model(i, lib.layers.Dense(3)(lib.layers.Dense(5)(i)), name="inner")
        o = lib.Input((4,))
        outer = lib.Model(o, lib.layers.Dense(1)(inner(o)))
        inner.trainable = False
        built.append((inner, outer))
    (inner, outer), (k_inner, k_outer) = built
    assert [l.trainable for l in inner.layers] == [l.trainable for l in k_inner.layers] == [
        False] * 3
    assert len(outer.trainable_weights) == len(k_outer.trainable_weights) == 2
    lines = []
    outer.summary(print_fn=lines.append)
    assert "inner (Functional)" in "\n".join(lines)
    before = [w.copy() for w in inner.get_weights()]
    outer.compile("sgd", "mse")
    outer.fit(x, y, epochs=2, verbose=0)
    for w0, w1 in zip(before, inner.get_weights()):
        np.testing.assert_array_equal(w0, w1)
    inner.trainable = True                  # as Keras: every inner layer again
    assert all(l.trainable for l in inner.layers)
