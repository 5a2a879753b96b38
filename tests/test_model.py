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
