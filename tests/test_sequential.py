"""Sequential: add, input_shape on the first layer, pop, a list, deferred build."""
import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, models


def relu(x):
    return np.maximum(x, 0)


def test_book_listing_builds_with_only_its_imports_changed():
    network = models.Sequential()
    network.add(layers.Dense(512, activation="relu", input_shape=(28 * 28,)))
    network.add(layers.Dense(10, activation="softmax"))
    assert network.count_params() == 784 * 512 + 512 + 512 * 10 + 10
    assert network.outputs[0].shape == (None, 10)
    x = np.random.default_rng(0).random((3, 784)).astype("float32")
    (k1, b1), (k2, b2) = [l.get_weights() for l in network.layers]
    z = relu(x @ k1 + b1) @ k2 + b2
    e = np.exp(z - z.max(-1, keepdims=True))
    np.testing.assert_allclose(network.predict(x), e / e.sum(-1, keepdims=True), rtol=1e-5, atol=1e-7)


def test_layers_exclude_the_input_like_keras():
    model = gn.Sequential([layers.Dense(4, input_shape=(3,), name="a"), layers.Dense(2, name="b")])
    assert [l.name for l in model.layers] == ["a", "b"]
    kmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4), keras.layers.Dense(2)])
    assert [w.shape for w in model.get_weights()] == [w.shape for w in kmodel.get_weights()]
    kmodel.set_weights(model.get_weights())
    x = np.ones((2, 3), "float32")
    np.testing.assert_allclose(model.predict(x), kmodel.predict(x, verbose=0), rtol=1e-5)


def test_list_in_constructor_and_add_give_the_same_graph():
    a = gn.Sequential([gn.Input((5,)), layers.Dense(3), layers.Dense(1)])
    b = gn.Sequential()
    b.add(gn.Input((5,)))
    b.add(layers.Dense(3))
    b.add(layers.Dense(1))
    assert a.graph.number_of_nodes() == b.graph.number_of_nodes() == 3
    assert [e[2] for e in a.graph.edges(data="shape")] == [e[2] for e in b.graph.edges(data="shape")]


def test_pop_removes_the_last_layer_and_its_call():
    model = gn.Sequential([layers.Dense(4, input_shape=(3,), name="a"), layers.Dense(2, name="b")])
    popped = model.pop()
    assert popped.name == "b" and popped.call_nodes == []
    assert [l.name for l in model.layers] == ["a"]
    assert model.outputs[0].shape == (None, 4)
    assert model.predict(np.ones((1, 3))).shape == (1, 4)
    model.add(layers.Dense(7, name="c"))
    assert model.outputs[0].shape == (None, 7) and model.count_params() == 16 + 35
    model.pop(), model.pop()
    with pytest.raises(ValueError, match="has no layer to pop"):
        model.pop()


def test_deferred_build_from_data():
    model = gn.Sequential([layers.Dense(4, activation="relu"), layers.Dense(2)])
    assert not model.built
    with pytest.raises(AttributeError, match="is not built yet.*no graph"):
        model.graph
    x = np.random.default_rng(1).normal(size=(5, 3)).astype("float32")
    out = model.predict(x)
    assert model.built and model.inputs[0].shape == (None, 3)
    (k1, b1), (k2, b2) = [l.get_weights() for l in model.layers]
    np.testing.assert_allclose(out, relu(x @ k1 + b1) @ k2 + b2, rtol=1e-5, atol=1e-6)


def test_deferred_build_from_a_call():
    model = gn.Sequential([layers.Dense(2)])
    x = np.ones((2, 6), "float32")
    y = model(x)
    k, b = model.layers[0].get_weights()
    np.testing.assert_allclose(y, x @ k + b, rtol=1e-5)


def test_build_with_a_batch_shape():
    model = gn.Sequential([layers.Dense(3), layers.Dense(1)])
    model.build((None, 8))
    assert model.count_params() == 8 * 3 + 3 + 4
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 31" in lines[0]


def test_summary_before_build_says_what_is_missing():
    model = gn.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="has no input shape yet: pass input_shape="):
        model.summary()


def test_sequential_as_a_layer_in_a_functional_model():
    encoder = gn.Sequential([layers.Dense(4, activation="relu", input_shape=(3,)), layers.Dense(2)],
                            name="enc")
    x = gn.Input((3,))
    model = gn.Model(x, layers.Dense(1, name="head")(encoder(x)))
    assert model.count_params() == encoder.count_params() + 3
    v = np.ones((2, 3), "float32")
    kh, bh = model.get_layer("head").get_weights()
    np.testing.assert_allclose(model.predict(v), encoder.predict(v) @ kh + bh, rtol=1e-5)


def test_input_shape_hint_mismatch_and_bad_adds():
    model = gn.Sequential([gn.Input((3,))])
    with pytest.raises(ValueError, match=r"Layer 'hint' was declared with input_shape \(None, 5\), "
                                         r"received \(None, 3\)"):
        model.add(layers.Dense(2, input_shape=(5,), name="hint"))
    with pytest.raises(TypeError, match="add expects a layer, received int"):
        model.add(3)
    with pytest.raises(ValueError, match="an Input can only be added first"):
        model.add(gn.Input((3,)))


def test_input_dim_and_batch_input_shape_are_accepted():
    a = gn.Sequential([layers.Dense(2, input_dim=4)])
    b = gn.Sequential([layers.Dense(2, batch_input_shape=(None, 4))])
    assert a.inputs[0].shape == b.inputs[0].shape == (None, 4)


def test_a_built_model_first_builds_the_sequential_as_keras():
    x = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
    made = []
    for lib in (gn, keras):
        base = lib.Sequential([lib.Input((8, 8, 3)), lib.layers.Conv2D(4, 3)], name="base")
        made.append(lib.Sequential([base, lib.layers.Flatten(), lib.layers.Dense(2)]))
    ours, theirs = made
    assert ours.built and ours.input_shape == theirs.input_shape == (None, 8, 8, 3)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in theirs.get_weights()]
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
