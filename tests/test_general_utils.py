"""Keras's general utils against Keras: Progbar, custom objects, object serialization, data
packing, normalize, tensors, dtypes, clear_session, get_file (no downloads), Config."""
import os
import re

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import utils

X = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")


def masked(text):
    """A progress line without its timings (which differ from run to run)."""
    return re.sub(r"\d+(ms|us|s)(/step)?", "T", text)


def test_progbar_final_line_and_running_means_match_keras(capsys):
    steps = [(1, [("loss", 4.0), ("acc", 0.5)]), (3, [("loss", 1.0), ("acc", 0.75)]),
             (4, [("loss", 0.5), ("acc", 0.8)])]
    lines = []
    for module in (keras.utils, utils):
        bar = module.Progbar(target=4, verbose=2, stateful_metrics=["acc"])
        for current, values in steps[:2]:
            bar.update(current, values)
        bar.add(1, steps[2][1])
        lines.append(masked(capsys.readouterr().out))
    assert lines[1] == lines[0] and "loss: 0.5000" in lines[1]
    for module in (keras.utils, utils):               # means of unfinished steps, verbose=1
        bar = module.Progbar(target=10, verbose=1, interval=0)
        bar.update(2, [("loss", 1.0)])
        bar.update(5, [("loss", 2.0)])
        lines.append(re.findall(r"loss: [\d.]+", capsys.readouterr().out)[-1])
    assert lines[2] == lines[3] == f"loss: {(2 * 1.0 + 3 * 2.0) / 5:.4f}"


def test_progbar_is_quiet_at_verbose_0(capsys):
    bar = utils.Progbar(3, verbose=0)
    bar.add(3, [("loss", 1.0)])
    assert capsys.readouterr().out == ""


def test_custom_object_scope_and_registered_objects():
    class Twice(gn.layers.Layer):
        def call(self, x):
            return 2 * x
    assert utils.get_registered_object("Twice") is None
    with utils.custom_object_scope({"Twice": Twice}):
        assert utils.get_registered_object("Twice") is Twice
    assert utils.CustomObjectScope is utils.custom_object_scope
    assert utils.get_registered_object("Twice", custom_objects={"Twice": Twice}) is Twice
    assert utils.get_registered_name(Twice) == keras.utils.get_registered_name(Twice) == "Twice"

    @utils.register_keras_serializable(package="utils_test")
    def cube(x):
        return x ** 3
    assert utils.get_registered_name(cube) == "utils_test>cube"
    assert utils.get_custom_objects()["utils_test>cube"] is cube
    del utils.get_custom_objects()["utils_test>cube"]
    assert utils.get_registered_object("utils_test>cube") is None


def test_serialize_keras_object_reads_and_writes_keras_entries():
    for k_obj, g_obj in ((keras.losses.CategoricalCrossentropy(from_logits=True),
                          gn.losses.CategoricalCrossentropy(from_logits=True)),
                         (keras.initializers.Constant(0.3), gn.initializers.Constant(0.3))):
        theirs, ours = (keras.utils.serialize_keras_object(k_obj),
                        utils.serialize_keras_object(g_obj))
        assert (ours["class_name"], ours["module"]) == (theirs["class_name"], theirs["module"])
        back = utils.deserialize_keras_object(theirs)
        assert type(back) is type(g_obj) and back.get_config() == g_obj.get_config()
    relu = utils.serialize_keras_object(gn.activations.relu)
    assert relu == keras.utils.serialize_keras_object(keras.activations.relu)
    assert utils.deserialize_keras_object(relu) is gn.activations.relu
    dense = keras.layers.Dense(3, activation="tanh", name="d")
    layer = utils.deserialize_keras_object(keras.utils.serialize_keras_object(dense))
    assert isinstance(layer, gn.layers.Dense) and layer.units == 3 and layer.name == "d"
    written = utils.serialize_keras_object(layer)
    assert keras.utils.deserialize_keras_object(written).get_config()["units"] == 3
    with pytest.raises(TypeError, match="serialize_keras_object.*object"):
        utils.serialize_keras_object(object())


def test_pack_and_unpack_match_keras():
    for args in ((X,), (X, X[:, 0]), (X, X[:, 0], X[:, 1]), ([X, X],)):
        ours = utils.pack_x_y_sample_weight(*args)
        theirs = keras.utils.pack_x_y_sample_weight(*args)
        assert type(ours) is type(theirs) and len(ours) == len(theirs)
    for data in (X, (X,), (X, X), [X, X, X]):
        ours, theirs = utils.unpack_x_y_sample_weight(data), \
            keras.utils.unpack_x_y_sample_weight(data)
        assert [v is None for v in ours] == [v is None for v in theirs]
    with pytest.raises(ValueError, match="unpack_x_y_sample_weight"):
        utils.unpack_x_y_sample_weight((X,) * 4)


def test_normalize_and_tensor_helpers_match_keras():
    zero_row = X.copy()
    zero_row[1] = 0
    for order, axis in ((2, -1), (1, 1)):
        np.testing.assert_allclose(utils.normalize(zero_row, axis, order),
                                   keras.utils.normalize(zero_row, axis, order), rtol=1e-6)
    inp = gn.Input((4,))
    other = gn.Input((4,))
    out = gn.layers.Dense(2)(inp) + gn.layers.Dense(2)(other)
    assert utils.is_keras_tensor(out) and not utils.is_keras_tensor(X)
    assert utils.get_source_inputs(out) == [inp, other]
    for dtype in ("float32", np.int64, np.dtype("bool"), None):
        assert utils.standardize_dtype(dtype) == keras.utils.standardize_dtype(dtype)


def test_clear_session_restarts_default_names():
    first = gn.layers.Dense(1)
    utils.clear_session(free_memory=False)
    keras.utils.clear_session(free_memory=False)
    assert gn.layers.Dense(1).name == keras.layers.Dense(1).name == "dense"
    assert first.name.startswith("dense")


def test_get_file_never_downloads(tmp_path):
    cached = tmp_path / "datasets" / "data.npz"
    cached.parent.mkdir()
    cached.write_bytes(b"x")
    assert utils.get_file("data.npz", "https://example.com/data.npz",
                          cache_dir=str(tmp_path)) == str(cached)
    with pytest.raises(NotImplementedError, match="does not download.*other.npz"):
        utils.get_file(origin="https://example.com/other.npz", cache_dir=str(tmp_path))


def test_config_and_model_to_dot():
    config = utils.Config(a=1)
    config.b = 2
    assert dict(config.items()) == {"a": 1, "b": 2} == keras.utils.Config(a=1, b=2).as_dict()
    config.freeze()
    with pytest.raises(AttributeError, match="frozen"):
        config.c = 3
    inp = gn.Input((4,))
    model = gn.Model(inp, gn.layers.Dense(2, name="head")(inp))
    assert "head" in utils.model_to_dot(model) and utils.Sequence is utils.PyDataset
