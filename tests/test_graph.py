"""The model graph: a networkx DiGraph of layer calls, checked on random DAGs against an
independent NumPy evaluation and an independent count of nodes and edges."""
import networkx as nx
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphnet as gn
from graphnet import layers
from graphnet.layers.base import Layer
from graphnet.layers.input_layer import InputLayer

NP_ACT = {None: lambda z: z, "relu": lambda z: np.maximum(z, 0), "tanh": np.tanh}
MERGES = {
    "add": (layers.Add, lambda xs: sum(xs)),
    "subtract": (layers.Subtract, lambda xs: xs[0] - xs[1]),
    "multiply": (layers.Multiply, lambda xs: np.prod(xs, axis=0)),
    "average": (layers.Average, lambda xs: sum(xs) / len(xs)),
    "maximum": (layers.Maximum, lambda xs: np.max(xs, axis=0)),
    "minimum": (layers.Minimum, lambda xs: np.min(xs, axis=0)),
}


def draw_dag(draw):
    """Builds a random model; returns it with a log of ops for the NumPy evaluation.

    tensors[i] = (symbolic tensor, width); ops[j] = (kind, layer, source indices, extra),
    and op j produced tensors[n_inputs + j].
    """
    n_inputs = draw(st.integers(1, 3))
    tensors, ops, dense_layers = [], [], []
    for i in range(n_inputs):
        width = draw(st.integers(1, 4))
        tensors.append((gn.Input((width,), name=f"in{i}"), width))
    for _ in range(draw(st.integers(1, 8))):
        kinds = ["dense", "concat"]
        by_width = {}
        for i, (_, w) in enumerate(tensors):
            by_width.setdefault(w, []).append(i)
        kinds.append("merge")          # sources may repeat: Add()([x, x]) is one edge
        if any(w in by_width for _, w in dense_layers):
            kinds.append("shared")
        kind = draw(st.sampled_from(kinds))
        if kind == "dense":
            src = draw(st.integers(0, len(tensors) - 1))
            units = draw(st.integers(1, 4))
            act = draw(st.sampled_from([None, "relu", "tanh"]))
            layer = layers.Dense(units, activation=act)
            dense_layers.append((layer, tensors[src][1]))
            out, srcs, width, extra = layer(tensors[src][0]), [src], units, act
        elif kind == "shared":
            candidates = [(l, w) for l, w in dense_layers if w in by_width]
            layer, w_in = draw(st.sampled_from(candidates))
            src = draw(st.sampled_from(by_width[w_in]))
            out, srcs, width, extra = layer(tensors[src][0]), [src], layer.units, None
        elif kind == "merge":
            name = draw(st.sampled_from(sorted(MERGES)))
            width = draw(st.sampled_from(sorted(by_width)))
            pool = by_width[width]
            count = 2 if name == "subtract" else draw(st.integers(2, 3))
            srcs = [draw(st.sampled_from(pool)) for _ in range(count)]   # repeats allowed
            layer = MERGES[name][0]()
            out, extra = layer([tensors[s][0] for s in srcs]), name
        else:
            srcs = draw(st.lists(st.integers(0, len(tensors) - 1), min_size=1, max_size=3))
            layer = layers.Concatenate()
            width = sum(tensors[s][1] for s in srcs)
            out, extra = layer([tensors[s][0] for s in srcs]), None
        assert out.shape == (None, width)
        ops.append((kind, layer, srcs, extra))
        tensors.append((out, width))
    outputs = draw(st.lists(st.integers(n_inputs, len(tensors) - 1), min_size=1, max_size=3,
                            unique=True))
    return n_inputs, tensors, ops, outputs


def numpy_eval(n_inputs, ops, xs, weights):
    """The same DAG in NumPy (float64), from the op log and each Dense layer's weights."""
    values = list(xs)
    for kind, layer, srcs, extra in ops:
        args = [values[s] for s in srcs]
        if kind in ("dense", "shared"):
            k, b = weights[layer.name]
            act = NP_ACT[extra] if kind == "dense" else NP_ACT[_activation_name(layer)]
            values.append(act(args[0] @ k + b))
        elif kind == "merge":
            values.append(MERGES[extra][1](args))
        else:
            values.append(np.concatenate(args, axis=-1))
    return values


def _activation_name(layer):
    from graphnet import activations
    return {activations.linear: None, activations.relu: "relu",
            activations.tanh: "tanh"}[layer.activation]


def reachable_ops(n_inputs, ops, outputs):
    seen, stack = set(), list(outputs)
    while stack:
        i = stack.pop()
        if i in seen or i < n_inputs:
            continue
        seen.add(i)
        stack.extend(ops[i - n_inputs][2])
    return seen


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_random_dag_apply_graph_and_order(data):
    n_inputs, tensors, ops, outputs = draw_dag(data.draw)
    model = gn.Model([tensors[i][0] for i in range(n_inputs)], [tensors[o][0] for o in outputs])
    rng = np.random.default_rng(0)
    xs = [rng.normal(size=(5, tensors[i][1])).astype("float32") for i in range(n_inputs)]
    weights = {op[1].name: [w.astype("float64") for w in op[1].get_weights()]
               for op in ops if op[0] == "dense"}
    expected = numpy_eval(n_inputs, ops, [x.astype("float64") for x in xs], weights)

    got, new_state = model.apply(model.params, model.state, xs)
    if len(outputs) == 1:       # Keras 3: a one-element output list gives one array
        got = [got]
    assert len(got) == len(outputs)
    for g, o in zip(got, outputs):
        # atol: Subtract and Minimum/Maximum of nearly equal float32 values cancel digits.
        np.testing.assert_allclose(np.asarray(g), expected[o], rtol=1e-5, atol=1e-5)
    assert new_state == model.state

    # Nodes: every input and every call the outputs depend on; edges: distinct producers.
    graph = model.graph
    reach = reachable_ops(n_inputs, ops, outputs)
    assert graph.number_of_nodes() == n_inputs + len(reach)
    assert graph.number_of_edges() == sum(len(set(ops[i - n_inputs][2])) for i in reach)
    key = {i: model.node_keys[tensors[i][0].node] for i in list(range(n_inputs)) + sorted(reach)}
    for i in reach:
        srcs = ops[i - n_inputs][2]
        assert set(graph.predecessors(key[i])) == {key[s] for s in srcs}
        for s in set(srcs):
            edge = graph.edges[key[s], key[i]]
            assert edge["shape"] == (None, tensors[s][1]) and edge["dtype"] == "float32"
        assert graph.nodes[key[i]]["layer"] is ops[i - n_inputs][1]
    for i in range(n_inputs):
        assert isinstance(graph.nodes[key[i]]["layer"], InputLayer)
    # Insertion order is topological (summary and apply follow it).
    order = {k: n for n, k in enumerate(graph.nodes)}
    assert nx.is_directed_acyclic_graph(graph)
    assert all(order[u] < order[v] for u, v in graph.edges)
    # A shared layer: one node per reachable call, keyed name, name@1, ...; one set of weights.
    for layer in {ops[i - n_inputs][1] for i in reach}:
        keys = [k for k in graph.nodes if graph.nodes[k]["layer"] is layer]
        assert sorted(keys) == sorted([layer.name] + [f"{layer.name}@{j}" for j in range(1, len(keys))])
    dense = {ops[i - n_inputs][1] for i in reach if ops[i - n_inputs][0] in ("dense", "shared")}
    assert model.count_params() == sum(l.count_params() for l in dense)


# ---- fixed graphs: attributes, keys, multi-output nodes ------------------------------------
class Split(Layer):
    """Two outputs: the first k features and the rest."""

    def __init__(self, k, **kwargs):
        super().__init__(**kwargs)
        self.k = k

    def call(self, params, state, x, *, training=False, rng=None):
        return [x[:, :self.k], x[:, self.k:]], state


def test_multi_output_layer_gives_one_node_and_edges_per_consumer():
    x = gn.Input((5,), name="x")
    left, right = Split(2, name="split")(x)
    assert left.shape == (None, 2) and right.shape == (None, 3)
    assert left.name == "split_0" and right.name == "split_1"
    both = layers.Concatenate(name="cat")([right, left])
    model = gn.Model(x, [both, left])
    assert set(model.graph.nodes) == {"x", "split", "cat"}
    assert len(model.graph.edges["split", "cat"]["tensors"]) == 2
    v = np.arange(10, dtype="float32").reshape(2, 5)
    out, l = model.predict(v)
    np.testing.assert_array_equal(out, np.concatenate([v[:, 2:], v[:, :2]], -1))
    np.testing.assert_array_equal(l, v[:, :2])
    assert model.output_names == ["cat", "split_0"]


def test_networkx_algorithms_work_on_the_model_graph():
    a = gn.Input((3,), name="a")
    h = layers.Dense(4, name="h")(a)
    skip = layers.Dense(4, name="skip")(a)
    out = layers.Add(name="add")([h, layers.Dense(4, name="h2")(h), skip])
    model = gn.Model(a, out)
    g = model.graph
    assert nx.ancestors(g, "add") == {"a", "h", "h2", "skip"}
    assert nx.shortest_path(g, "a", "add") in (["a", "h", "add"], ["a", "skip", "add"])
    assert nx.dag_longest_path(g) == ["a", "h", "h2", "add"]
    assert g.graph["name"] == model.name
    assert g.edges["h", "h2"]["shape"] == (None, 4)


def test_a_model_called_as_a_layer_is_one_node():
    inner_in = gn.Input((3,), name="inner_in")
    inner = gn.Model(inner_in, layers.Dense(2, name="inner_dense")(inner_in), name="inner")
    x = gn.Input((3,), name="x")
    outer = gn.Model(x, layers.Dense(1, name="head")(inner(x)), name="outer")
    assert list(outer.graph.nodes) == ["x", "inner", "head"]
    assert outer.graph.nodes["inner"]["layer"] is inner
    assert outer.graph.edges["inner", "head"]["shape"] == (None, 2)


def test_duplicate_layer_names_are_refused():
    x = gn.Input((3,))
    h = layers.Dense(2, name="same")(x)
    with pytest.raises(ValueError, match="two different layers are named 'same'"):
        gn.Model(x, layers.Dense(2, name="same")(h))


def test_model_inputs_must_be_inputs_and_tensors():
    x = gn.Input((3,))
    h = layers.Dense(2, name="mid")(x)
    with pytest.raises(ValueError, match="input 'mid' is not a graphnet.Input"):
        gn.Model(h, layers.Dense(1)(h))
    with pytest.raises(TypeError, match=r"outputs\[0\] must be a symbolic tensor.*ndarray"):
        gn.Model(x, np.ones(3))
