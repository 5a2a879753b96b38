"""Models that begin with host layers (Keras's `Input(dtype="string")` then
TextVectorization): the host nodes run on the host before the compiled program, are marked
in the graph and pictures, and their vocabularies survive .graphnet and .keras files, both
ways with Keras (tests/data/text_model_*.keras were written by Keras with TensorFlow)."""
import io
import json
import os
import zipfile

import h5py
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers

DATA = os.path.join(os.path.dirname(__file__), "data")
with open(os.path.join(DATA, "text_expected.json"), encoding="utf-8") as f:
    EXPECTED = json.load(f)
CORPUS = ["the cat sat on the mat", "the dog ate my homework", "a cat and a dog",
          "a bird sang"]
QUERIES = np.array([["the cat ate"], ["a dog sang, a bird sat!"], [""]])


def text_model(mode="multi_hot", **kwargs):
    vectorize = layers.TextVectorization(max_tokens=8, output_mode=mode, **kwargs)
    vectorize.adapt(CORPUS)
    inputs = gn.Input(shape=(1,), dtype="string")
    dense = layers.Dense(2, activation="softmax")
    x = vectorize(inputs)
    if mode == "int":
        x = layers.Flatten()(layers.Embedding(8, 3)(x))
    return gn.Model(inputs, dense(x)), vectorize, dense


def softmax(z):
    z = np.exp(z - z.max(-1, keepdims=True))
    return z / z.sum(-1, keepdims=True)


def test_predict_runs_the_host_layer_then_the_compiled_program():
    model, vectorize, dense = text_model("tf_idf")
    kernel, bias = dense.get_weights()
    expected = softmax(vectorize(QUERIES) @ kernel + bias)
    np.testing.assert_allclose(model.predict(QUERIES, verbose=0), expected, rtol=1e-5,
                               atol=1e-6)
    np.testing.assert_allclose(model(QUERIES), expected, rtol=1e-5, atol=1e-6)
    # marked in the graph and its pictures; the compiled program starts after it
    assert model.graph.nodes[vectorize.name]["host"] is True
    assert "host" not in model.graph.nodes[dense.name]
    assert "TextVectorization (host)" in model.to_mermaid()


@pytest.mark.slow
def test_fit_and_evaluate_take_strings_as_arrays_and_as_batches():
    model, _, _ = text_model("multi_hot")
    model.compile("adam", "sparse_categorical_crossentropy")
    x = np.array([[t] for t in CORPUS])
    y = np.array([0, 1, 0, 1])
    model.fit(x, y, epochs=1, batch_size=2, verbose=0)
    before = model.evaluate(x, y, verbose=0)
    model.fit([(x[:2], y[:2]), (x[2:], y[2:])], epochs=2, verbose=0)
    assert model.evaluate(x, y, verbose=0) != before


@pytest.mark.parametrize("mode,kwargs", [("tf_idf", {}), ("int", {"output_sequence_length": 4})])
def test_adapted_vocabularies_survive_graphnet_and_keras_files(tmp_path, mode, kwargs):
    model, vectorize, _ = text_model(mode, **kwargs)
    expected = model.predict(QUERIES, verbose=0)
    for name in ("m.graphnet", "m.keras"):
        model.save(str(tmp_path / name))
        loaded = gn.load_model(str(tmp_path / name))
        np.testing.assert_array_equal(loaded.predict(QUERIES, verbose=0), expected)
        assert loaded.layers[1].get_vocabulary() == vectorize.get_vocabulary()
    # in the .keras file: the vocabulary in the config (Keras's set_vocabulary reads it)
    # and, for tf-idf, the weights where Keras's load_own_variables reads them
    with zipfile.ZipFile(tmp_path / "m.keras") as zf:
        config = json.loads(zf.read("config.json"))
        layer = config["config"]["layers"][1]["config"]
        assert layer["vocabulary"] == vectorize.get_vocabulary()
        with h5py.File(io.BytesIO(zf.read("model.weights.h5")), "r") as h5:
            names = []
            h5.visit(names.append)
    assert ("layers/text_vectorization/vars/idf_weights" in names) == (mode == "tf_idf")


@pytest.mark.parametrize("mode", ["int", "tf_idf"])
def test_keras_files_with_assets_load_with_kerass_predictions(mode):
    entry = EXPECTED["models"][mode]
    model = gn.load_model(os.path.join(DATA, entry["file"]))
    queries = np.array([[q] for q in ["the cat ate the bird", "an unknown word, THE DOG",
                                      "Éric'S CAFÉ!", "", "cat cat cat dog mat mat"]])
    np.testing.assert_allclose(model.predict(queries, verbose=0), entry["predictions"],
                               rtol=1e-5, atol=1e-6)


def test_what_a_model_cannot_hold_is_an_error_that_says_why():
    strings = gn.Input(shape=(1,), dtype="string")
    with pytest.raises(NotImplementedError, match=r"output_mode='int' needs "
                                                  r"output_sequence_length"):
        layers.TextVectorization(vocabulary=["a"])(strings)
    with pytest.raises(TypeError, match=r"StringLookup 's' takes strings: call it on "
                                        r"Input\(..., dtype=\"string\"\)"):
        layers.StringLookup(vocabulary=["a"], name="s")(gn.Input(shape=(1,)))
    numbers = gn.Input(shape=(1,))
    hashed = layers.Hashing(4, name="after_dense")(layers.Dense(1)(numbers))
    with pytest.raises(NotImplementedError, match=r"Hashing 'after_dense' runs on the host"):
        gn.Model(numbers, hashed)
    model, _, _ = text_model()
    outer_input = gn.Input(shape=(1,), dtype="string")
    with pytest.raises(NotImplementedError, match=r"begins with host layers, so it cannot be "
                                                  r"called as a layer"):
        gn.Model(outer_input, model(outer_input))


@pytest.mark.parametrize("name,dtype", [("string_lookup", object), ("integer_lookup", "int64")])
def test_keras_files_with_lookup_vocabularies_in_assets(name, dtype):
    entry = EXPECTED["models"][name]
    model = gn.load_model(os.path.join(DATA, entry["file"]))
    assert model.graph.nodes[model.layers[1].name]["host"] is True
    np.testing.assert_allclose(model.predict(np.array(entry["queries"], dtype=dtype),
                                             verbose=0),
                               entry["predictions"], rtol=1e-5, atol=1e-6)


def test_a_registered_standardize_function_is_saved_by_name(tmp_path):
    @gn.register_serializable(name="shout_for_text_models")
    def shout(texts):
        return np.char.upper(texts)

    vectorize = layers.TextVectorization(standardize=shout, vocabulary=["CAT", "DOG"],
                                         output_mode="count")
    inputs = gn.Input(shape=(1,), dtype="string")
    model = gn.Model(inputs, layers.Dense(1)(vectorize(inputs)))
    model.save(str(tmp_path / "m.graphnet"))
    loaded = gn.load_model(str(tmp_path / "m.graphnet"))
    assert loaded.layers[1].standardize is shout
    x = np.array([["cat dog cat"], ["bird"]])
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
