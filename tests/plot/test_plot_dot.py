"""DOT text: parsed by pydot (an independent parser), one node per graph node, one edge per edge."""
from collections import Counter

import pydot
import pytest
from plot_helpers import shared_encoder, siamese

import graphnet as gn
from graphnet import layers

DEFAULTS = {"node", "edge", "graph"}
# pydot 4 calls pyparsing's camelCase names, deprecated in pyparsing 3.3.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def unquote(name: str) -> str:
    return name[1:-1].replace('\\"', '"') if name.startswith('"') else name


def parse(text):
    graphs = pydot.graph_from_dot_data(text)
    assert graphs is not None and len(graphs) == 1
    return graphs[0]


def all_nodes(graph):
    found = [unquote(n.get_name()) for n in graph.get_nodes() if n.get_name() not in DEFAULTS]
    for sub in graph.get_subgraphs():
        found += all_nodes(sub)
    return found


def all_edges(graph):
    found = [(unquote(e.get_source()), unquote(e.get_destination())) for e in graph.get_edges()]
    for sub in graph.get_subgraphs():
        found += all_edges(sub)
    return found


def test_dot_has_one_node_per_graph_node_and_one_edge_per_graph_edge(book_model):
    for rankdir in ("TB", "LR"):
        graph = parse(book_model.to_dot(rankdir=rankdir))
        nodes, edges = all_nodes(graph), all_edges(graph)
        assert Counter(nodes) == Counter(list(book_model.graph.nodes))
        assert Counter(edges) == Counter(list(book_model.graph.edges))
        assert f"rankdir={rankdir}" in book_model.to_dot(rankdir=rankdir)


def test_same_tensor_twice_is_one_edge():
    x = gn.Input((3,), name="x")
    model = gn.Model(x, layers.Add(name="double")([x, x]))
    assert all_edges(parse(model.to_dot())) == [("x", "double")]


def test_expanded_nested_model_is_a_cluster_of_its_layers_per_call():
    model = shared_encoder()
    graph = parse(model.to_dot(expand_nested=True))
    clusters = {unquote(s.get_name()): s for s in graph.get_subgraphs()}
    assert set(clusters) == {"cluster_encoder", "cluster_encoder@1"}
    inner = model.get_layer("encoder").graph
    for prefix, name in (("encoder/", "cluster_encoder"), ("encoder@1/", "cluster_encoder@1")):
        assert sorted(all_nodes(clusters[name])) == sorted(
            prefix + k for k in inner.nodes if k != "enc_in")
    edges = set(all_edges(graph))
    assert ("left", "encoder/enc_hidden") in edges and ("right", "encoder@1/enc_hidden") in edges
    assert ("encoder/code", "diff") in edges and ("encoder@1/code", "diff") in edges
    assert ("encoder/enc_hidden", "encoder/code") in edges
    assert len(edges) == 7


def test_nested_in_nested_with_dict_inputs_connects_by_name():
    a_in, b_in = gn.Input((2,), name="a_in"), gn.Input((3,), name="b_in")
    inner = gn.Model({"b": b_in, "a": a_in},
                     layers.Concatenate(name="join")([layers.Dense(4, name="da")(a_in),
                                                      layers.Dense(4, name="db")(b_in)]),
                     name="inner")
    x2, x3 = gn.Input((2,), name="x2"), gn.Input((3,), name="x3")
    middle = gn.Model([x2, x3], inner({"a": x2, "b": x3}), name="middle")
    p, q = gn.Input((2,), name="p"), gn.Input((3,), name="q")
    outer = gn.Model([p, q], layers.Dense(1, name="head")(middle([p, q])))
    edges = set(all_edges(parse(outer.to_dot(expand_nested=True))))
    assert edges == {("p", "middle/inner/da"), ("q", "middle/inner/db"),
                     ("middle/inner/da", "middle/inner/join"),
                     ("middle/inner/db", "middle/inner/join"), ("middle/inner/join", "head")}


def test_nested_model_that_passes_an_input_through():
    z = gn.Input((2,), name="z")
    passthrough = gn.Model(z, [z, layers.Dense(2, name="inner_dense")(z)], name="passthrough")
    x = gn.Input((2,), name="x")
    kept, dense = passthrough(x)
    model = gn.Model(x, layers.Add(name="sum")([kept, dense]))
    edges = set(all_edges(parse(model.to_dot(expand_nested=True))))
    assert edges == {("x", "passthrough/inner_dense"), ("x", "sum"),
                     ("passthrough/inner_dense", "sum")}


def test_options_change_the_labels():
    model = siamese()
    plain = model.to_dot(show_shapes=False, show_layer_names=False)
    assert "(None, 16)" not in plain and "shared_dense" not in plain.split("->")[0].split("label")[1]
    full = model.to_dot(show_dtype=True, show_layer_activations=True, show_trainable=True)
    assert "float32" in full and "activation: relu" in full and "trainable" in full
    model.get_layer("shared_dense").trainable = False
    assert "frozen" in model.to_dot(show_trainable=True)


def test_bad_rankdir_is_a_value_error():
    with pytest.raises(ValueError, match=r"rankdir.*'TB', 'LR'.*'XY'"):
        siamese().to_dot(rankdir="XY")
