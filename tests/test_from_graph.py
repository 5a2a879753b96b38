"""The graph is the program: model.graph's schema, Model.from_graph, and the read-only graph."""
import ast
import pathlib
import xml.etree.ElementTree as ET

import networkx as nx
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from graphnet.graph import Arg, ReadOnlyGraphError
from graphnet.interpret import plan
from graphnet.plot import render

ROOT = pathlib.Path(gn.__file__).parent


def data(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=(4, *shape)).astype("float32")


def siamese():
    a, b = gn.Input((3,), name="a"), gn.Input((3,), name="b")
    shared = layers.Dense(4, name="shared")
    i = gn.Input((4,), name="inner_in")
    inner = gn.Model(i, layers.Dense(2, name="inner_dense")(i), name="inner")
    ha, hb = shared(a), shared(b)
    twice = layers.Add(name="twice")([ha, ha])
    diff = layers.Subtract(name="diff")([twice, hb])
    return gn.Model({"a": a, "b": b}, {"out": inner(diff), "raw": hb}, name="siamese")


def test_schema_records_argument_order_and_a_tensor_used_twice():
    model = siamese()
    g = model.graph
    assert g.nodes["twice"]["arguments"] == (([Arg(0), Arg(1)],), {})
    assert g.edges["shared", "twice"]["tensors"] == ((0, 0), (0, 1))
    assert g.edges["twice", "diff"]["tensors"] == ((0, 0),)
    assert g.edges["shared@1", "diff"]["tensors"] == ((0, 1),)
    assert g.nodes["a"]["arguments"] == ((), {}) and g.in_degree("a") == 0
    assert g.nodes["inner"]["outputs"][0].shape == (None, 2)
    assert g.graph == {"name": "siamese", "inputs": {"a": "a", "b": "b"},
                       "outputs": {"out": ("inner", 0), "raw": ("shared@1", 0)}}


def test_from_graph_of_a_copy_is_the_same_function_with_the_same_weights():
    model = siamese()
    again = gn.Model.from_graph(model.graph.copy())
    x = {"a": data(3), "b": data(3, seed=1)}
    for k, v in model.predict(x).items():
        np.testing.assert_array_equal(again.predict(x)[k], v)
    assert list(again.graph.nodes) == list(model.graph.nodes)
    assert again.get_layer("shared") is model.get_layer("shared")
    assert sorted(again.graph.edges(data="tensors")) == sorted(model.graph.edges(data="tensors"))


def test_an_input_made_after_a_call_keeps_its_place_when_rebuilt_cloned_or_loaded(tmp_path):
    # The node order is the program's: `y` was made after `h` was called, and a model
    # rebuilt from the graph (from_graph, clone_model, save and load) lists it there too.
    x = gn.Input((3,), name="x")
    h = layers.Dense(3, name="h")(x)
    y = gn.Input((3,), name="y")
    model = gn.Model([x, y], layers.Add(name="s")([h, y]), name="late_input")
    assert list(model.graph.nodes) == ["x", "h", "y", "s"]
    again = gn.Model.from_graph(model.graph.copy())
    clone = gn.clone_model(model)
    model.save(tmp_path / "late.graphnet")
    loaded = gn.load_model(tmp_path / "late.graphnet")
    v = [data(3), data(3, seed=1)]
    for other in (again, clone, loaded):
        assert list(other.graph.nodes) == ["x", "h", "y", "s"]
        assert [t.name for t in other.inputs] == ["x", "y"]
    np.testing.assert_array_equal(again.predict(v), model.predict(v))
    np.testing.assert_array_equal(loaded.predict(v), model.predict(v))


def test_model_graph_is_read_only_and_says_what_to_do():
    model = siamese()
    g = model.graph
    for change in (lambda: g.remove_node("twice"), lambda: g.add_edge("a", "diff"),
                   lambda: g.add_node("z"), lambda: g.nodes["twice"].update(layer=None),
                   lambda: g.edges["shared", "twice"].__setitem__("shape", (None, 9)),
                   lambda: g.graph.__setitem__("outputs", []), lambda: g.clear(),
                   lambda: setattr(g, "graph", {"outputs": []})):
        with pytest.raises(ReadOnlyGraphError, match=r"model.graph.copy\(\).*graphnet.edit"):
            change()
    with pytest.raises(TypeError):
        g.remove_edge("shared", "twice")
    with pytest.raises(nx.NetworkXError):
        g.remove_node("a")
    assert g.graph["outputs"] and model.graph.graph is g.graph   # nothing replaced it
    copy = g.copy()
    assert type(copy) is nx.DiGraph and not nx.is_frozen(copy) and nx.is_frozen(g)
    copy.graph = {**copy.graph}                   # a copy's attributes are the user's
    copy.remove_node("twice")                     # the copy is an ordinary graph
    assert "twice" in g


def test_removing_a_node_with_networkx_and_joining_its_neighbours():
    x = gn.Input((4,), name="x")
    h = layers.Dense(8, name="d1")(x)
    out = layers.Dense(2, name="d2")(layers.Dropout(0.3, name="drop")(h))
    model = gn.Model(x, out)
    g = model.graph.copy()
    outgoing = g.edges["drop", "d2"]
    g.remove_node("drop")
    g.add_edge("d1", "d2", **outgoing)
    smaller = gn.Model.from_graph(g)
    assert list(smaller.graph.nodes) == ["x", "d1", "d2"]
    v = data(4)
    np.testing.assert_allclose(smaller.predict(v), model.predict(v), rtol=1e-6)


def test_plain_networkx_nodes_and_edges_take_defaults_and_stale_shapes_are_ignored():
    x = gn.Input((4,), name="x")
    model = gn.Model(x, layers.Dense(3, name="d")(x))
    g = model.graph.copy()
    g.add_node("t", layer=layers.Activation("tanh", name="t"))       # no `arguments`
    g.add_edge("d", "t")                                             # no `tensors`
    g.graph["outputs"] = ("t", 0)
    g.edges["x", "d"]["shape"] = (None, 99)                          # stale: ignored
    model2 = gn.Model.from_graph(g)
    v = data(4)
    np.testing.assert_allclose(model2.predict(v), np.tanh(model.predict(v)), rtol=1e-5, atol=1e-6)
    assert model2.graph.edges["x", "d"]["shape"] == (None, 4)
    h = nx.DiGraph()                                                 # no inputs/outputs given
    h.add_node("x", layer=x.node.layer)
    h.add_node("d", layer=model.get_layer("d"))
    h.add_edge("x", "d")
    np.testing.assert_array_equal(gn.Model.from_graph(h).predict(v), model.predict(v))


def test_from_graph_mistakes_are_named():
    x = gn.Input((4,), name="x")
    model = gn.Model(x, layers.Add(name="add")([layers.Dense(4, name="d")(x), x]))
    g = model.graph.copy()
    g.add_node("lost")
    with pytest.raises(ValueError, match="node 'lost' has no 'layer' attribute"):
        gn.Model.from_graph(g)
    g = model.graph.copy()
    g.add_node("floating", layer=layers.Dense(2, name="floating"))
    with pytest.raises(ValueError, match="node 'floating' has no arguments.*not an InputLayer"):
        gn.Model.from_graph(g)
    g = model.graph.copy()
    g.add_edge("add", "d")
    with pytest.raises(ValueError, match="form a cycle"):
        gn.Model.from_graph(g)
    g = model.graph.copy()
    g.edges["x", "add"]["tensors"] = ((0, 2),)
    with pytest.raises(ValueError, match="'add' give tensor arguments \\[0, 2\\]"):
        gn.Model.from_graph(g)
    g = model.graph.copy()
    g.edges["x", "add"]["tensors"] = ((1, 1),)
    with pytest.raises(ValueError, match="takes output 1 of 'x', which has 1 output"):
        gn.Model.from_graph(g)
    with pytest.raises(TypeError, match="networkx.DiGraph"):
        gn.Model.from_graph({"x": 1})


def test_the_same_input_twice_is_refused_by_name():
    w = gn.Input((2,), name="w")
    with pytest.raises(ValueError, match="input 'w' is listed twice"):
        gn.Model([w, w], layers.Dense(1)(w))


def test_count_params_counts_a_layer_nested_and_direct_once():
    shared = layers.Dense(3, name="shared")
    i = gn.Input((3,), name="i")
    inner = gn.Model(i, shared(i), name="inner")
    x = gn.Input((3,), name="x")
    outer = gn.Model(x, layers.Add(name="add")([inner(x), shared(x)]))
    assert outer.count_params() == 12
    lines = []
    outer.summary(print_fn=lines.append)
    assert "Total params: 12" in lines[0] and "Trainable params: 12" in lines[0]


def test_unbuilt_sequential_builds_from_a_dict():
    model = gn.Sequential([layers.Dense(2, name="d")])
    out = model.predict({"features": data(5)})
    assert out.shape == (4, 2) and model.inputs[0].shape == (None, 5)
    assert model.input_names == ["features"]
    with pytest.raises(ValueError, match="has one input; received a dict of 2"):
        gn.Sequential([layers.Dense(2)]).predict({"a": data(5), "b": data(5)})


@pytest.mark.parametrize("name", ['x\\" [URL=<javascript:alert(1)>] ##', 'a\\"b', "end\\",
                                  'q"q', "two\nlines", "a\\\\", "<b>&amp;<b>", "`#35;`"])
def test_any_name_is_plain_text_in_every_picture(name):
    x = gn.Input((2,), name="in")
    model = gn.Model(x, layers.Dense(1, name=name)(x), name=name)
    svg = render.render(model.to_dot(), "svg").decode()
    root = ET.fromstring(svg)
    assert "javascript" not in "".join(v for e in root.iter() for k, v in e.attrib.items())
    assert not [e for e in root.iter() if e.tag.endswith("}a")]
    kinds = [g.get("class") for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert kinds.count("node") == 2 and kinds.count("edge") == 1
    texts = "".join("".join(t.itertext()) for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert name.replace("\n", " ").split()[0] in texts or name.strip() == ""
    mermaid = model.to_mermaid()
    assert len(mermaid.splitlines()) == len(gn.Model(x, layers.Dense(1, name="plain")(x)).to_mermaid().splitlines())
    assert '"' not in name or name not in mermaid and "\\" not in mermaid


def test_the_graph_core_modules_do_not_import_each_other_in_circles():
    def imports(path):
        tree = ast.parse((ROOT / path).read_text())
        return {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not any("layers" in m for m in imports("symbolic.py"))
    for path in (ROOT / "plot").glob("*.py"):
        assert not any(m.endswith("model") for m in imports(f"plot/{path.name}")), path
    assert gn.Input is gn.layers.Input is gn.layers.input_layer.Input


def test_masks_are_routed_once_per_argument():
    calls = []

    class Probe(layers.Layer):
        supports_masking = True

        def call(self, params, state, x, *, training=False, rng=None, mask=None):
            calls.append(mask is not None)
            return x, state
    x = gn.Input((3,), dtype="int32", name="tokens")
    e = layers.Embedding(5, 2, mask_zero=True, name="emb")(x)
    model = gn.Model(x, Probe(name="probe")(e))
    calls.clear()
    model.apply(model.params, model.state, np.array([[1, 0, 2]], "int32"))
    assert calls == [True]
    steps = plan(model.graph)[1]          # planned once: the probe reads slot 1's mask
    assert [(s.layer.name, s.mask, s.first) for s in steps] == [("emb", (0,), (0,)),
                                                                ("probe", (1,), (1,))]
