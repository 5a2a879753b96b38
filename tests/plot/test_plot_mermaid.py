"""Mermaid text: every node (by its label) and every edge of the graph."""
import re
from collections import Counter

from plot_helpers import shared_encoder

import graphnet as gn
from graphnet import layers

NODE = re.compile(r'^\s*(n\d+)(?:\(\[|\(|\[\[)"(.*)"(?:\]\)|\)|\]\])$')
EDGE = re.compile(r"^\s*(n\d+) --> (n\d+)$")
NAME = re.compile(r"<b>(.*?)</b>")


def parse(text):
    lines = text.splitlines()
    labels = {m[1]: m[2] for m in map(NODE.match, lines) if m}
    names = {node: NAME.search(label)[1] for node, label in labels.items()}
    edges = [(m[1], m[2]) for m in map(EDGE.match, lines) if m]
    return lines, labels, names, edges


def test_mermaid_has_every_node_and_edge(book_model):
    lines, labels, names, edges = parse(book_model.to_mermaid())
    assert lines[0] == "flowchart TB"
    graph = book_model.graph
    assert Counter(names.values()) == Counter(graph.nodes[k]["layer"].name for k in graph.nodes)
    name_of = {k: graph.nodes[k]["layer"].name for k in graph.nodes}
    assert Counter((names[a], names[b]) for a, b in edges) == Counter(
        (name_of[a], name_of[b]) for a, b in graph.edges)
    for key, data in graph.nodes(data=True):
        out = ", ".join(str(t.shape) for t in data["outputs"])
        assert any(label.endswith(f"{out}</code>") for n, label in labels.items()
                   if names[n] == data["layer"].name), key


def test_mermaid_marks_inputs_outputs_and_shared_calls():
    model = shared_encoder()
    lines, labels, names, _ = parse(model.to_mermaid(rankdir="LR"))
    assert lines[0] == "flowchart LR"
    by_name = {}
    for node, name in names.items():
        by_name.setdefault(name, []).append(node)
    classes = {line.split()[2]: line.split()[1].split(",") for line in lines
               if line.strip().startswith("class ")}
    assert sorted(classes["input"]) == sorted(by_name["left"] + by_name["right"])
    assert classes["output"] == by_name["same"]
    assert sorted(classes["shared"]) == sorted(by_name["encoder"])
    assert [("call 1 of 2" in labels[n], "call 2 of 2" in labels[n]) for n in by_name["encoder"]] \
        == [(True, False), (False, True)]


def test_mermaid_expanded_nested_model_is_a_subgraph_per_call():
    text = shared_encoder().to_mermaid(expand_nested=True)
    lines, labels, names, edges = parse(text)
    assert sum(line.strip().startswith("subgraph ") for line in lines) == 2
    assert sum(line.strip() == "end" for line in lines) == 2
    assert Counter(names.values()) == Counter(
        {"left": 1, "right": 1, "enc_hidden": 2, "code": 2, "diff": 1, "same": 1})
    assert len(edges) == 7


def test_mermaid_escapes_quotes_and_brackets():
    x = gn.Input((3,), name='say "hi" <b>')
    text = gn.Model(x, layers.Dense(2, name="d#1")(x)).to_mermaid()
    assert "#quot;hi#quot; #lt;b#gt;" in text and "d#35;1" in text
    assert '"hi"' not in text


def test_output_inside_an_expanded_model_is_still_marked_as_output():
    inner = gn.Sequential([layers.Dense(4, input_shape=(3,), name="s1"), layers.Dense(2, name="s2")],
                          name="seq")
    y = gn.Input((3,), name="y")
    model = gn.Model(y, inner(y))
    lines, _, names, edges = parse(model.to_mermaid(expand_nested=True))
    classes = {line.split()[2]: line.split()[1].split(",") for line in lines
               if line.strip().startswith("class ")}
    assert [names[n] for n in classes["output"]] == ["s2"]
    assert [(names[a], names[b]) for a, b in edges] == [("y", "s1"), ("s1", "s2")]
