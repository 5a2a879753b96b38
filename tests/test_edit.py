"""graphnet.edit: every edit equals the model built directly with the same layers and weights.

The reference is a plain list of nodes (kind, layer, inputs) edited the obvious way, then
evaluated in NumPy and built again through the symbolic API; the edited model must compute
the same numbers and have the same graph (keys, order, edges).
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphnet as gn
from graphnet import edit, layers

W = 3                       # every tensor in the random models is (batch, W)


# ---- the reference: an ordered list of nodes --------------------------------------------------
def make_layer(kind, name):
    if kind == "dense":
        return layers.Dense(W, name=name)
    if kind == "act":
        return layers.Activation("tanh", name=name)
    return {"add": layers.Add, "sub": layers.Subtract, "mul": layers.Multiply}[kind](name=name)


def build(spec):
    """spec: {"nodes": [[id, kind, layer, [input ids]]], "inputs": [ids], "outputs": [ids]}.

    The list is the program: each Input is made at its place in it (the node order is the
    order things were made, an input included), so an edit that puts a layer between two
    inputs is written here the same way."""
    tensors = {}
    for nid, kind, layer, args in spec["nodes"]:
        if kind == "input":
            tensors[nid] = gn.Input((W,), name=nid)
        elif kind in ("dense", "act"):
            tensors[nid] = layer(tensors[args[0]])
        else:
            tensors[nid] = layer([tensors[a] for a in args])
    model = gn.Model([tensors[i] for i in spec["inputs"]], [tensors[o] for o in spec["outputs"]],
                     name="random")
    return model, tensors


def numpy_eval(spec, xs):
    values = dict(zip(spec["inputs"], xs))
    for nid, kind, layer, args in spec["nodes"]:
        if kind == "input":
            continue
        a = [values[i] for i in args]
        if kind == "dense":
            kernel, bias = (w.astype("float64") for w in layer.get_weights())
            values[nid] = a[0] @ kernel + bias
        elif kind == "act":
            values[nid] = np.tanh(a[0])
        elif kind == "add":
            values[nid] = a[0] + a[1]
        elif kind == "sub":
            values[nid] = a[0] - a[1]
        else:
            values[nid] = a[0] * a[1]
    return [values[o] for o in spec["outputs"]]


@st.composite
def random_specs(draw):
    names = iter(f"n{i}" for i in range(1000))
    n_inputs = draw(st.integers(1, 2))
    nodes, denses = [], []
    for _ in range(n_inputs):
        name = next(names)
        nodes.append([name, "input", None, []])           # made by build, in place
    for _ in range(draw(st.integers(2, 6))):
        ids = [n[0] for n in nodes]
        kind = draw(st.sampled_from(["dense", "dense", "act", "add", "sub", "mul", "shared"]))
        if kind == "shared" and not denses:
            kind = "dense"
        name = next(names)
        if kind == "shared":
            layer, kind = draw(st.sampled_from(denses)), "dense"
        else:
            layer = make_layer(kind, name)
            if kind == "dense":
                denses.append(layer)
        arity = 1 if kind in ("dense", "act") else 2
        args = [draw(st.sampled_from(ids)) for _ in range(arity)]
        nodes.append([name, kind, layer, args])
    used = {a for n in nodes for a in n[3]}
    sinks = [n[0] for n in nodes if n[0] not in used and n[1] != "input"]
    outputs = sinks[-2:] or [nodes[-1][0]]
    keep = set(outputs)
    for n in reversed(nodes):                     # drop what no output needs
        if n[0] in keep:
            keep |= set(n[3])
    nodes = [n for n in nodes if n[0] in keep or n[1] == "input"]
    return {"nodes": nodes, "inputs": [n[0] for n in nodes[:n_inputs]], "outputs": outputs}, names


def spec_edit(spec, op, nid, new_id=None, layer=None):
    """The edit on the reference list."""
    nodes = spec["nodes"]
    index = next(i for i, n in enumerate(nodes) if n[0] == nid)
    node = nodes[index]
    if op == "insert_after":
        for n in nodes:
            n[3] = [new_id if a == nid else a for a in n[3]]
        nodes.insert(index + 1, [new_id, "dense" if isinstance(layer, layers.Dense) else "act",
                                 layer, [nid]])
        spec["outputs"] = [new_id if o == nid else o for o in spec["outputs"]]
    elif op == "insert_before":
        nodes.insert(index, [new_id, "dense" if isinstance(layer, layers.Dense) else "act",
                             layer, [node[3][0]]])
        node[3] = [new_id]
    elif op == "remove":
        source = node[3][0]
        del nodes[index]
        for n in nodes:
            n[3] = [source if a == nid else a for a in n[3]]
        spec["outputs"] = [source if o == nid else o for o in spec["outputs"]]
    elif op == "replace":
        node[2] = layer


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_edit_sequences_equal_directly_built_models(data):
    spec, names = data.draw(random_specs())
    model, tensors = build(spec)
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(4, W)).astype("float32") for _ in spec["inputs"]]
    for _ in range(data.draw(st.integers(1, 4))):
        direct, tensors = build(spec)
        ops = [n for n in spec["nodes"] if n[1] != "input"]
        op = data.draw(st.sampled_from(["insert_after", "insert_before", "remove", "replace"]))
        if op in ("insert_before", "remove", "replace"):
            candidates = [n for n in ops if n[1] in ("dense", "act")]
            if op == "remove":
                # keep at least one layer call between inputs and outputs
                candidates = candidates if len(ops) > 1 else []
        else:             # a node something reads (an unused input feeds nothing)
            candidates = [n for n in spec["nodes"] if n[0] in spec["outputs"] or
                          any(n[0] in m[3] for m in spec["nodes"])]
        if not candidates:
            continue
        target = data.draw(st.sampled_from(candidates))
        key = direct.node_keys[tensors[target[0]].node]
        new_id = next(names)
        if op == "replace":
            layer = make_layer(target[1], new_id)
        else:
            layer = make_layer(data.draw(st.sampled_from(["dense", "act"])), new_id)
        before_keys = list(model.graph.nodes)
        edited = (edit.remove(model, key) if op == "remove" else
                  getattr(edit, op)(model, key, layer))
        assert list(model.graph.nodes) == before_keys          # the original is untouched
        spec_edit(spec, op, target[0], new_id, layer)
        expected_model, _ = build(spec)
        assert list(edited.graph.nodes) == list(expected_model.graph.nodes)
        assert sorted(edited.graph.edges(data="tensors")) == sorted(
            expected_model.graph.edges(data="tensors"))
        got = edited.apply(edited.params, edited.state, xs)[0]
        got = got if isinstance(got, list) else [got]      # one output: one array (Keras 3)
        reference = numpy_eval(spec, [x.astype("float64") for x in xs])
        for g, r in zip(got, reference):
            np.testing.assert_allclose(np.asarray(g), r, rtol=1e-5, atol=1e-5)
        assert edited.get_weights() == [] or all(
            np.array_equal(a, b) for a, b in zip(edited.get_weights(), expected_model.get_weights()))
        model = edited


# ---- fixed models ------------------------------------------------------------------------------
def chain():
    x = gn.Input((4,), name="x")
    h = layers.Dense(8, name="d1")(x)
    d = layers.Dropout(0.5, name="drop")(h)
    return gn.Model(x, layers.Dense(2, name="d2")(d), name="chain")


def data(*shape):
    return np.random.default_rng(1).normal(size=(5, *shape)).astype("float32")


def dense_np(layer, x):
    kernel, bias = layer.get_weights()
    return x @ kernel + bias


def test_insert_after_each_of_two_inputs_keeps_the_program_order():
    # A layer inserted after the first input comes before the second input, as in the
    # program written that way; the next insert after the second input keeps it there.
    a, b = gn.Input((W,), name="a"), gn.Input((W,), name="b")
    da, db = layers.Dense(W, name="da"), layers.Dense(W, name="db")
    model = gn.Model([a, b], [da(a), db(b)], name="two")
    after_a, after_b = layers.Dense(W, name="after_a"), layers.Activation("tanh", name="after_b")
    first = edit.insert_after(model, "a", after_a)
    assert list(first.graph.nodes) == ["a", "after_a", "b", "da", "db"]
    both = edit.insert_after(first, "b", after_b)
    assert list(both.graph.nodes) == ["a", "after_a", "b", "after_b", "da", "db"]
    a2 = gn.Input((W,), name="a")
    ha = after_a(a2)
    b2 = gn.Input((W,), name="b")
    hb = after_b(b2)
    direct = gn.Model([a2, b2], [da(ha), db(hb)], name="two")     # the edited program
    assert list(direct.graph.nodes) == list(both.graph.nodes)
    assert sorted(direct.graph.edges(data="tensors")) == sorted(both.graph.edges(data="tensors"))
    xa, xb = data(W), np.random.default_rng(2).normal(size=(5, W)).astype("float32")
    got_a, got_b = both.predict([xa, xb])
    np.testing.assert_allclose(got_a, dense_np(da, dense_np(after_a, xa)), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_b, dense_np(db, np.tanh(xb)), rtol=1e-5, atol=1e-6)


def test_each_edit_matches_numpy_and_leaves_the_original_alone():
    model, v = chain(), data(4)
    d1, d2 = model.get_layer("d1"), model.get_layer("d2")
    before = model.predict(v)

    extra = layers.Dense(8, activation="relu", name="extra")
    after = edit.insert_after(model, "d1", extra)
    assert list(after.graph.nodes) == ["x", "d1", "extra", "drop", "d2"]
    np.testing.assert_allclose(after.predict(v), dense_np(d2, np.maximum(dense_np(extra, dense_np(d1, v)), 0)),
                               rtol=1e-5, atol=1e-6)
    assert after.get_layer("d1") is d1 and after.get_layer("d2") is d2     # kept layers shared

    pre = layers.Activation("tanh", name="pre")
    before_d2 = edit.insert_before(model, "d2", pre)
    np.testing.assert_allclose(before_d2.predict(v), dense_np(d2, np.tanh(dense_np(d1, v))),
                               rtol=1e-5, atol=1e-6)

    removed = edit.remove(model, "drop")
    assert list(removed.graph.nodes) == ["x", "d1", "d2"]
    np.testing.assert_allclose(removed.predict(v), dense_np(d2, dense_np(d1, v)), rtol=1e-5, atol=1e-6)

    head = layers.Dense(3, name="head")
    replaced = edit.replace(model, "d2", head)
    assert replaced.output.shape == (None, 3) and "d2" not in replaced.graph
    np.testing.assert_allclose(replaced.predict(v), dense_np(head, dense_np(d1, v)), rtol=1e-5, atol=1e-6)

    features = edit.cut(model, "d1")
    np.testing.assert_allclose(features.predict(v), dense_np(d1, v), rtol=1e-5, atol=1e-6)
    assert list(features.graph.nodes) == ["x", "d1"]

    np.testing.assert_array_equal(model.predict(v), before)
    assert list(model.graph.nodes) == ["x", "d1", "drop", "d2"]


def test_a_changed_input_reinfers_shapes_downstream():
    x = gn.Input((4,), name="x")
    h = layers.Conv1D(2, 3, name="conv")(layers.Reshape((-1, 1), name="r")(x))
    model = gn.Model(x, layers.GlobalAveragePooling1D(name="gap")(h))
    assert model.graph.nodes["conv"]["outputs"][0].shape == (None, 2, 2)
    wider = edit.replace(model, "x", gn.Input((8,), name="x8"))
    assert wider.input_names == ["x8"]
    assert wider.graph.nodes["conv"]["outputs"][0].shape == (None, 6, 2)
    assert wider.graph.edges["conv", "gap"]["shape"] == (None, 6, 2)
    assert wider.predict(data(8)).shape == (5, 2)


def test_shape_errors_name_the_kept_layer_and_both_shapes():
    model = chain()
    with pytest.raises(ValueError, match=r"insert_after: layer 'd2' \(Dense\).*\(None, 5\).*"
                                         r"built for \(None, 8\)"):
        edit.insert_after(model, "d1", layers.Dense(5, name="narrow"))
    g = model.graph.copy()
    g.remove_node("drop")
    g.add_edge("x", "d2", tensors=((0, 0),))
    with pytest.raises(ValueError, match=r"layer 'd2'.*\(None, 4\).*built for \(None, 8\)"):
        gn.Model.from_graph(g)


def test_shared_layer_calls_are_edited_one_at_a_time():
    a, b = gn.Input((3,), name="a"), gn.Input((3,), name="b")
    shared = layers.Dense(3, name="shared")
    out = layers.Subtract(name="sub")([shared(a), shared(b)])
    model = gn.Model([a, b], out)
    assert {"shared", "shared@1"} <= set(model.graph.nodes)
    act = layers.Activation("tanh", name="act")
    edited = edit.insert_after(model, "shared@1", act)
    va, vb = data(3), data(3) * 2
    np.testing.assert_allclose(edited.predict([va, vb]),
                               dense_np(shared, va) - np.tanh(dense_np(shared, vb)), rtol=1e-5, atol=1e-6)
    other = layers.Dense(3, name="other")
    swapped = edit.replace(model, "shared@1", other)
    np.testing.assert_allclose(swapped.predict([va, vb]), dense_np(shared, va) - dense_np(other, vb),
                               rtol=1e-5, atol=1e-6)
    assert swapped.get_layer("shared") is shared


def test_nested_model_calls_are_edited_per_call():
    i = gn.Input((3,), name="enc_in")
    encoder = gn.Model(i, layers.Dense(2, name="enc_dense")(i), name="encoder")
    a, b = gn.Input((3,), name="a"), gn.Input((3,), name="b")
    model = gn.Model([a, b], layers.Concatenate(name="cat")([encoder(a), encoder(b)]))
    act = layers.Activation("relu", name="act")
    edited = edit.insert_after(model, "encoder@1/enc_dense", act)
    assert edited.get_layer("encoder") is encoder             # the other call is untouched
    inner = edited.graph.nodes["encoder_1"]["layer"]
    assert list(inner.graph.nodes) == ["enc_in", "enc_dense", "act"]
    assert inner.get_layer("enc_dense") is encoder.get_layer("enc_dense")
    va, vb = data(3), -data(3)
    dense = encoder.get_layer("enc_dense")
    np.testing.assert_allclose(edited.predict([va, vb]),
                               np.concatenate([dense_np(dense, va), np.maximum(dense_np(dense, vb), 0)], -1),
                               rtol=1e-5, atol=1e-6)
    assert edited.count_params() == encoder.count_params()
    assert list(encoder.graph.nodes) == ["enc_in", "enc_dense"]


def test_multi_input_multi_output_cut_and_remove():
    a, b = gn.Input((3,), name="a"), gn.Input((2,), name="b")
    ha = layers.Dense(4, name="ha")(a)
    hb = layers.Dense(4, name="hb")(b)
    s = layers.Add(name="s")([ha, hb])
    model = gn.Model({"a": a, "b": b}, {"sum": s, "left": ha})
    only_a = edit.cut(model, {"features": "ha"})
    assert only_a.input_names == ["a"] and only_a.output_names == ["features"]
    va, vb = data(3), data(2)
    np.testing.assert_allclose(only_a.predict({"a": va})["features"], dense_np(model.get_layer("ha"), va),
                               rtol=1e-5, atol=1e-6)
    both = edit.cut(model, ["s", "hb"])
    assert len(both.predict({"a": va, "b": vb})) == 2
    kept = edit.insert_after(model, "s", layers.Activation("tanh", name="t"))
    out = kept.predict({"a": va, "b": vb})
    np.testing.assert_allclose(out["sum"], np.tanh(model.predict({"a": va, "b": vb})["sum"]),
                               rtol=1e-5, atol=1e-6)


class Split(gn.layers.Layer):
    def call(self, params, state, x, *, training=False, rng=None):
        return [x[:, :1], x[:, 1:]], state


def test_edit_mistakes_are_named():
    model = chain()
    with pytest.raises(ValueError, match="has no node 'nope'"):
        edit.insert_after(model, "nope", layers.Dense(2))
    with pytest.raises(ValueError, match="remove: node 'x' is a model input"):
        edit.remove(model, "x")
    with pytest.raises(ValueError, match="insert_before: node 'x' is a model input"):
        edit.insert_before(model, "x", layers.Dense(2))
    with pytest.raises(ValueError, match="node 'd1' is a layer call; it can only be replaced by a layer"):
        edit.replace(model, "d1", gn.Input((4,)))
    unused = gn.Model([gn.Input((1,), name="spare"), model.input], model.output)
    with pytest.raises(ValueError, match="node 'spare' feeds no layer and is not a model output"):
        edit.insert_after(unused, "spare", layers.Dense(2))
    with pytest.raises(TypeError, match="expects a graphnet layer"):
        edit.insert_after(model, "d1", "dense")
    with pytest.raises(TypeError, match="Model or Sequential"):
        edit.remove(layers.Dense(2), "d1")
    x = gn.Input((3,), name="x")
    left, right = Split(name="split")(x)
    two = gn.Model(x, layers.Concatenate(name="cat")([left, right]))
    with pytest.raises(ValueError, match="node 'cat' takes 2 tensors"):
        edit.remove(two, "cat")
    with pytest.raises(ValueError, match="node 'split' .* has 2 outputs"):
        edit.insert_after(two, "split", layers.Dense(2))
    parts = edit.cut(two, "split")
    assert [o.shape for o in parts.outputs] == [(None, 1), (None, 2)]
    assert edit.cut(two, ("split", 1)).output.shape == (None, 2)
    i = gn.Input((3,), name="i")
    inner = gn.Model(i, layers.Dense(2, name="inner_d")(i), name="inner")
    outer = gn.Model(x, inner(x))
    with pytest.raises(ValueError, match="inside nested model 'inner'"):
        edit.cut(outer, "inner/inner_d")


def test_diff_lists_changes_and_draws_them():
    model = chain()
    edited = edit.remove(edit.insert_after(model, "d1", layers.Dense(8, name="extra")), "drop")
    d = edit.diff(model, edited)
    assert set(d.added) == {"extra"} and set(d.removed) == {"drop"}
    assert d.changed["d2"] == [("inputs", ["drop"], ["extra"])]
    text = str(d)
    assert "+ extra (Dense) -> (None, 8)" in text and "- drop (Dropout)" in text
    assert "~ d2: inputs ['drop'] -> ['extra']" in text
    assert not edit.diff(model, model) and str(edit.diff(model, model)) == "no difference"
    assert d.marks() == {"drop": "removed", "d2": "changed", "extra": "added"}
    dot = edited.to_dot(highlight=d)
    assert "added" in dot and "removed: drop" in dot
    mermaid = edited.to_mermaid(highlight=d)
    assert "class n2 added" in mermaid or "added" in mermaid
    wider = edit.replace(model, "d2", layers.Dense(5, name="d2b"))
    config = edit.diff(model, edit.replace(model, "d1", layers.Dense(8, use_bias=False, name="d1")))
    assert config.changed["d1"][0][0] == "config" and config.changed["d1"][0][2] == {"use_bias": False}
    assert "d2b" in edit.diff(model, wider).added


def test_edited_models_train_save_and_load(tmp_path):
    model = edit.remove(chain(), "drop")          # no dropout: the loss falls every step
    edited = edit.insert_after(model, "d1", layers.Dense(8, activation="relu", name="extra"))
    x, y = data(4), data(2)
    edited.compile(optimizer="sgd", loss="mse")
    losses = edited.fit(x, y, epochs=3, batch_size=5, verbose=0).history["loss"]
    assert losses[-1] < losses[0]
    edited.save(tmp_path / "e.graphnet")
    loaded = gn.load_model(tmp_path / "e.graphnet")
    np.testing.assert_array_equal(loaded.predict(x), edited.predict(x))
    assert list(loaded.graph.nodes) == list(edited.graph.nodes)
    lines = []
    edited.summary(print_fn=lines.append)
    assert "extra (Dense)" in lines[0] and "d2 (Dense)" in lines[0]
    assert '"extra"' in edited.to_dot()


# ---- clone_model -------------------------------------------------------------------------------
def test_clone_model_has_fresh_weights_and_the_same_graph():
    model = chain()
    model.compile(optimizer="adam", loss="mse")
    clone = gn.clone_model(model)
    assert list(clone.graph.nodes) == list(model.graph.nodes)
    assert all(clone.get_layer(n) is not model.get_layer(n) for n in ("d1", "d2"))
    assert not np.array_equal(clone.get_layer("d1").get_weights()[0], model.get_layer("d1").get_weights()[0])
    clone.set_weights(model.get_weights())
    v = data(4)
    np.testing.assert_array_equal(clone.predict(v), model.predict(v))
    assert clone.get_compile_config() == model.get_compile_config()     # compiled as the original


def test_clone_function_and_call_function_as_in_keras():
    model = chain()
    same = gn.clone_model(model, clone_function=lambda layer: layer)
    assert same.get_layer("d1") is model.get_layer("d1")
    v = data(4)
    np.testing.assert_array_equal(same.predict(v), model.predict(v))

    def call_function(layer, *args, **kwargs):
        out = layer(*args, **kwargs)
        if isinstance(layer, layers.Dense):
            out = layers.Activation("tanh", name=f"{layer.name}_tanh")(out)
        return out
    wrapped = gn.clone_model(model, clone_function=lambda layer: layer, call_function=call_function)
    assert list(wrapped.graph.nodes) == ["x", "d1", "d1_tanh", "drop", "d2", "d2_tanh"]
    d1, d2 = model.get_layer("d1"), model.get_layer("d2")
    np.testing.assert_allclose(wrapped.predict(v), np.tanh(dense_np(d2, np.tanh(dense_np(d1, v)))),
                               rtol=1e-5, atol=1e-6)

    new_input = gn.Input((4,), name="fresh")
    on_input = gn.clone_model(model, input_tensors=new_input)
    assert on_input.inputs[0] is new_input
    with pytest.raises(ValueError, match="structure of model.input"):
        gn.clone_model(model, input_tensors={"x": new_input})


def test_clone_sequential_and_nested():
    seq = gn.Sequential([layers.Dense(3, input_shape=(2,), name="s1"), layers.Dense(1, name="s2")],
                        name="seq")
    clone = gn.models.clone_model(seq)
    assert isinstance(clone, gn.Sequential) and [l.name for l in clone.layers] == ["s1", "s2"]
    with pytest.raises(ValueError, match="call_function is not supported for Sequential"):
        gn.clone_model(seq, call_function=lambda layer, *a, **k: layer(*a, **k))
    x = gn.Input((2,), name="x")
    outer = gn.Model(x, layers.Dense(1, name="top")(seq(x)))
    flat = gn.clone_model(outer)
    deep = gn.clone_model(outer, recursive=True)
    assert flat.get_layer("seq") is not seq and deep.get_layer("seq") is not seq
    assert deep.get_layer("seq").get_layer("s1") is not seq.get_layer("s1")
    assert deep.count_params() == outer.count_params()


@pytest.mark.parametrize("do", [lambda model, new: edit.insert_after(model, "d1", new),
                                lambda model, new: edit.insert_before(model, "drop", new),
                                lambda model, new: edit.replace(model, "drop", new)])
def test_a_failed_edit_leaves_the_new_layer_as_it_was(do):
    model = chain()
    new = layers.Dense(5, name="new")                # d2 takes 8 features, not 5
    with pytest.raises(ValueError, match="d2"):
        do(model, new)
    assert not new.built and new.params == {} and not new.call_nodes
    built = do(model, layers.Dense(8, name="fits"))  # the same edit with a layer that fits
    fresh = gn.Model.from_graph(built.graph.copy())
    assert fresh.get_layer("fits").get_weights()[0].shape == (8, 8)
    # the refused layer is still usable for another shape, as a layer never called
    x = gn.Input((3,))
    assert new(x).shape == (None, 5) and new.get_weights()[0].shape == (3, 5)
