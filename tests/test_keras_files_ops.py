"""`.keras` files holding Keras's op layers (`x != 0` -> `NotEqual`, `x[...]` -> `GetItem`, ...)
and unregistered custom classes, both ways, with real files written by Keras."""
import json
import os
import zipfile

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "jax")
keras = pytest.importorskip("keras")

import graphnet as gn  # noqa: E402
from graphnet import ops  # noqa: E402
from graphnet.layers.operation import Operation  # noqa: E402

X = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
X[0, 1] = X[2, 3] = 0.0
W = np.random.default_rng(1).normal(size=(2, 3)).astype("float32")


def build(o, inp):
    """The same op code for keras.ops and graphnet.ops: operators, slicing, shape ops."""
    nonzero = o.cast(inp != 0, "float32")
    y = nonzero * inp + 1.0
    y = o.reshape(y, (-1, 2, 2))
    y = o.matmul(y[:, 0, ::-1], W)
    y = o.transpose(o.expand_dims(y, 1), (0, 2, 1))
    y = o.sum(y, axis=-1) - o.mean(inp, axis=1, keepdims=True) / 2.0
    y = o.where(y > 0, y, o.exp(y))
    return o.concatenate([y, o.abs(inp)[..., 1:], o.softmax(inp)], axis=-1)


def classes(path):
    with zipfile.ZipFile(path) as zf:
        config = json.loads(zf.read("config.json"))
    return [entry["class_name"] for entry in config["config"]["layers"]]


def test_keras_op_layers_load_as_operation_nodes(tmp_path):
    inp = keras.Input((4,))
    k_model = keras.Model(inp, build(keras.ops, inp))
    k_model.save(tmp_path / "k.keras")
    assert {"NotEqual", "Cast", "Multiply", "Add", "Reshape", "GetItem", "Matmul",
            "Transpose", "ExpandDims", "Sum", "Where", "Concatenate"} <= set(
                classes(tmp_path / "k.keras"))
    loaded = gn.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(loaded.predict(X), k_model.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-6)
    ops_in_graph = {data["layer"].op for _, data in loaded.graph.nodes(data=True)
                    if isinstance(data["layer"], Operation)}
    assert {"not_equal", "get_item", "reshape", "matmul", "where"} <= ops_in_graph
    loaded.save(tmp_path / "back.keras")                 # and to Keras again
    np.testing.assert_allclose(keras.saving.load_model(tmp_path / "back.keras").predict(
        X, verbose=0), k_model.predict(X, verbose=0), rtol=1e-5, atol=1e-6)


def test_graphnet_ops_are_written_as_keras_op_layers(tmp_path):
    inp = gn.Input((4,))
    model = gn.Model(inp, build(ops, inp))
    model.save(tmp_path / "g.keras")
    assert "NotEqual" in classes(tmp_path / "g.keras")
    k_model = keras.saving.load_model(tmp_path / "g.keras")
    np.testing.assert_allclose(k_model.predict(X, verbose=0), model.predict(X), rtol=1e-5,
                               atol=1e-6)
    again = gn.load_model(tmp_path / "g.keras")       # and back, through Keras's layout
    np.testing.assert_array_equal(again.predict(X), model.predict(X))


def test_an_op_keras_lacks_is_refused_by_name(tmp_path):
    inp = gn.Input((4,))
    model = gn.Model(inp, ops.squared_norm(inp, axis=-1))
    with pytest.raises(ValueError, match="squared_norm.*no Keras op class.*graphnet"):
        model.save(tmp_path / "n.keras")


class KerasScale(keras.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, inputs):
        return inputs * self.factor * self.w + 1.0

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class GraphnetScale(gn.layers.Layer):
    def __init__(self, factor=2.0, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

    def call(self, inputs):
        return inputs * self.factor * self.w + 1.0

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


KerasScale.__name__ = GraphnetScale.__name__ = "Scale"


def test_unregistered_custom_classes_move_with_custom_objects(tmp_path):
    inp = gn.Input((4,))
    model = gn.Model(inp, GraphnetScale(3.0, name="scale")(inp))
    w = np.arange(1, 5, dtype="float32")
    model.set_weights([w])
    model.save(tmp_path / "custom.keras")
    with zipfile.ZipFile(tmp_path / "custom.keras") as zf:
        entry = json.loads(zf.read("config.json"))["config"]["layers"][1]
    assert (entry["module"], entry["class_name"], entry["registered_name"]) == (
        __name__, "Scale", "Scale")          # as Keras writes an unregistered class
    k_model = keras.saving.load_model(tmp_path / "custom.keras",
                                      custom_objects={"Scale": KerasScale})
    np.testing.assert_allclose(k_model.predict(X, verbose=0), X * 3 * w + 1, rtol=1e-6)

    k_inp = keras.Input((4,))
    k_model = keras.Model(k_inp, KerasScale(0.5)(k_inp))
    k_model.set_weights([w])
    k_model.save(tmp_path / "k_custom.keras")
    with pytest.raises(ValueError, match="Scale.*custom_objects"):
        gn.load_model(tmp_path / "k_custom.keras")
    loaded = gn.load_model(tmp_path / "k_custom.keras", custom_objects={"Scale": GraphnetScale})
    np.testing.assert_allclose(loaded.predict(X), X * 0.5 * w + 1, rtol=1e-6)
