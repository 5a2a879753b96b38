"""TextVectorization, StringLookup, IntegerLookup, Hashing and HashedCrossing against what
Keras 3 with TensorFlow returned on the same inputs (tests/data/text_expected.json, written
by tests/data/make_text_expected.py), and the hashes against published test vectors."""
import json
import os

import numpy as np
import pytest

from graphnet import layers
from graphnet.layers.fingerprint import fingerprint64, siphash

DATA = os.path.join(os.path.dirname(__file__), "..", "data", "text_expected.json")
with open(DATA, encoding="utf-8") as f:
    CASES = json.load(f)["cases"]


def make(case):
    config = dict(case["config"])
    if isinstance(config.get("ngrams"), list):
        config["ngrams"] = tuple(config["ngrams"])
    layer = getattr(layers, case["layer"])(**config)
    if case["adapt"] is not None:
        layer.adapt(case["adapt"])
    return layer


def is_text(values):
    flat = np.asarray(values, dtype=object).ravel()
    return flat.size > 0 and isinstance(flat[0], str)


@pytest.mark.parametrize("name", ["Hashing", "HashedCrossing", "StringLookup", "IntegerLookup",
                                  "TextVectorization"])
def test_outputs_and_vocabularies_equal_keras_with_tensorflow(name):
    cases = [c for c in CASES if c["layer"] == name]
    assert len(cases) >= 4
    for case in cases:
        layer = make(case)
        inputs = case["inputs"]
        out = layer(tuple(inputs) if name == "HashedCrossing" else inputs)
        if "vocabulary" in case:
            assert layer.get_vocabulary() == case["vocabulary"], case["config"]
        if is_text(case["output"]):
            assert np.asarray(out, dtype=object).tolist() == case["output"], case["config"]
            continue
        want = np.asarray(case["output"])
        assert out.shape == want.shape, case["config"]
        assert out.dtype.kind == want.dtype.kind, case["config"]     # int64 or float32
        if want.dtype.kind == "f":
            np.testing.assert_allclose(out, want, rtol=1e-6, atol=1e-6, err_msg=str(case))
        else:
            np.testing.assert_array_equal(out, want, err_msg=str(case["config"]))


def test_hashes_equal_published_vectors():
    # SipHash-2-4's reference vectors (key 00..0f, messages 00, 00 01, ...): the first two
    # and the 8-byte one, as little-endian 64-bit words.
    key = (int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)),
                                                                      "little"))
    assert siphash(key, b"") == 0x726fdb47dd0e0e31
    assert siphash(key, bytes([0])) == 0x74f839c593dc67fd
    assert siphash(key, bytes(range(8))) == 0x93f5f5799a932462
    # Fingerprint64 of "" is FarmHash's k2 constant.
    assert fingerprint64(b"") == 0x9ae16a3b2f90404f


def test_integers_hash_as_their_decimal_text_and_floats_as_integers():
    hashing = layers.Hashing(num_bins=2**31 - 1)
    np.testing.assert_array_equal(hashing([[12], [-7]]), hashing([["12"], ["-7"]]))
    np.testing.assert_array_equal(hashing(np.array([[12.7], [-7.2]])), hashing([[12], [-7]]))
    assert hashing([["12"]])[0, 0] == fingerprint64(b"12") % (2**31 - 1)


def test_adapt_takes_lists_arrays_and_iterables_of_batches_alike():
    corpus = ["b a c a", "d b a", "c b"]
    as_list = layers.TextVectorization()
    as_list.adapt(corpus)
    as_array = layers.TextVectorization()
    as_array.adapt(np.array(corpus))
    as_batches = layers.TextVectorization()
    as_batches.adapt(iter([corpus[:2], corpus[2:]]))
    # counts: a 3, b 3, c 2, d 1; ties go to the greater token first
    expected = ["", "[UNK]", "b", "a", "c", "d"]
    assert as_list.get_vocabulary() == as_array.get_vocabulary() == \
        as_batches.get_vocabulary() == expected
    limited = layers.StringLookup()
    limited.adapt(iter([["x", "y"], ["y", "z"], ["q"]]), steps=2)
    assert limited.get_vocabulary() == ["[UNK]", "y", "z", "x"]


def test_tf_idf_weights_by_hand():
    docs = ["a b", "a a c", "b"]
    vectorize = layers.TextVectorization(output_mode="tf_idf")
    vectorize.adapt(docs)
    assert vectorize.get_vocabulary() == ["[UNK]", "a", "b", "c"]    # a: 3 times, b: 2
    doc_freq = np.array([2, 2, 1])               # documents holding a, b, c
    idf = np.log(1 + 3 / (1 + doc_freq))
    idf = np.concatenate([[idf.mean()], idf])
    counts = np.array([[1, 2, 0, 1]])           # z (unknown), a twice, c once
    np.testing.assert_allclose(vectorize(["z a a c"]), counts * idf, rtol=1e-6, atol=1e-6)


def test_callable_standardize_and_split():
    def standardize(texts):
        assert isinstance(texts, np.ndarray) and texts.dtype.kind == "U"
        return np.char.upper(texts)

    def split(texts):
        return [t.split("-") for t in texts]

    vectorize = layers.TextVectorization(standardize=standardize, split=split,
                                         vocabulary=["A", "B"])
    np.testing.assert_array_equal(vectorize(["a-b-c", "b"]), [[2, 3, 1], [3, 0, 0]])


def test_vocabulary_files_and_set_vocabulary(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("cat\ndog\nbird\n", encoding="utf-8")
    vectorize = layers.TextVectorization(vocabulary=str(path))
    assert vectorize.get_vocabulary() == ["", "[UNK]", "cat", "dog", "bird"]
    assert vectorize.vocabulary_size() == 5
    np.testing.assert_array_equal(vectorize(["dog fish cat"]), [[3, 1, 2]])
    lookup = layers.StringLookup()
    lookup.set_vocabulary(["x", "y"])
    np.testing.assert_array_equal(lookup(["y", "w"]), [2, 0])
    with pytest.raises(ValueError, match=r"TextVectorization 'missing'.*does not exist"):
        layers.TextVectorization(vocabulary=str(tmp_path / "none.txt"), name="missing")


def test_integer_lookup_invert_round_trip_and_mask():
    lookup = layers.IntegerLookup(vocabulary=[12, 36, 1138], mask_token=0)
    ids = lookup([[12, 0, 36, 5]])
    np.testing.assert_array_equal(ids, [[2, 0, 3, 1]])
    back = layers.IntegerLookup(vocabulary=[12, 36, 1138], mask_token=0, invert=True)
    np.testing.assert_array_equal(back(ids), [[12, 0, 36, -1]])


def test_bad_input_names_the_layer():
    with pytest.raises(TypeError, match=r"StringLookup 'words' expects strings, received an "
                                        r"array of dtype float"):
        layers.StringLookup(vocabulary=["a"], name="words")(np.array([1.5]))
    with pytest.raises(TypeError, match=r"IntegerLookup 'ids' expects integers"):
        layers.IntegerLookup(name="ids").adapt(["a", "b"])
    with pytest.raises(TypeError, match=r"TextVectorization 'tv' expects strings"):
        layers.TextVectorization(name="tv").adapt(np.arange(3))
    with pytest.raises(ValueError, match=r"StringLookup 'm': output_mode must be one of"):
        layers.StringLookup(output_mode="one-hot", name="m")
    with pytest.raises(ValueError, match=r"output_sequence_length is only for"):
        layers.TextVectorization(output_mode="multi_hot", output_sequence_length=3)
    with pytest.raises(ValueError, match=r"not in the vocabulary and num_oov_indices=0"):
        layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(["b"])
    with pytest.raises(RuntimeError, match=r"set the vocabulary .* before calling"):
        layers.StringLookup(output_mode="multi_hot")(["a"])
    with pytest.raises(ValueError, match=r"Hashing 'h': num_bins must be a positive int"):
        layers.Hashing(num_bins=0, name="h")
    with pytest.raises(ValueError, match=r"HashedCrossing 'x' takes a list or tuple of at "
                                         r"least two inputs"):
        layers.HashedCrossing(3, name="x")(np.array([1, 2]))


def test_config_round_trip_keeps_behaviour():
    vectorize = layers.TextVectorization(max_tokens=10, ngrams=2, output_sequence_length=6,
                                         vocabulary=["the", "cat", "the cat"])
    again = layers.TextVectorization.from_config(vectorize.get_config())
    np.testing.assert_array_equal(again(["the cat sat"]), vectorize(["the cat sat"]))
    for layer in (layers.StringLookup(vocabulary=["a", "b"], num_oov_indices=2),
                  layers.IntegerLookup(vocabulary=[4, 5], output_mode="count"),
                  layers.Hashing(7, salt=3), layers.HashedCrossing(5)):
        again = type(layer).from_config(layer.get_config())
        assert again.get_config() == layer.get_config()


def test_docstring_examples_run():
    import doctest

    from graphnet.layers import discretization, hashing, lookup, text
    for module in (text, lookup, hashing, discretization):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_strings_given_to_a_device_layer_or_model_are_type_errors():
    import graphnet as gn
    with pytest.raises(TypeError, match=r"Dense 'dense_s' takes numbers, received an array of "
                                        r"dtype <U1: strings never reach the device"):
        layers.Dense(2, name="dense_s")(np.array([["a"]]))
    inputs = gn.Input((1,))
    model = gn.Model(inputs, layers.Dense(2)(inputs))
    with pytest.raises(TypeError, match=r"input 'input_layer.*' .* must be numeric, received an "
                                        r"array of dtype <U1"):
        model.predict(np.array([["a"]]), verbose=0)


def test_bytes_cut_inside_a_character_still_vectorize():
    # text_dataset_from_directory(max_length=...) cuts bytes, maybe inside a character
    vectorize = layers.TextVectorization(vocabulary=["caf", "cat"])
    np.testing.assert_array_equal(vectorize(np.array([b"caf\xc3 cat", b"CAT"], dtype=object)),
                                  [[1, 3], [3, 0]])
    lookup = layers.StringLookup(num_oov_indices=3, vocabulary=["a"])
    # an unknown token goes to the OOV index TensorFlow's fingerprint of its bytes gives
    assert lookup(np.array([b"\xc3"], dtype=object))[0] == fingerprint64(b"\xc3") % 3
