"""Writes tests/data/text_expected.json: what Keras 3 with TensorFlow gives for the text and
hashing layers on fixed inputs. graphnet's tests compare against this file, so they need no
TensorFlow.

Run it in an environment that has TensorFlow (CI installs none):

    python -m venv /tmp/tfenv && /tmp/tfenv/bin/pip install tensorflow-cpu "keras==3.15.*"
    KERAS_BACKEND=tensorflow /tmp/tfenv/bin/python tests/data/make_text_expected.py

Each case: the layer's class and constructor arguments, the data given to `adapt` (or
none), the inputs of the call, and what Keras returned (vocabulary and output). It also
saves two small Keras models that begin with TextVectorization (text_model_*.keras).
"""
import json
import os
import random

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))

CORPUS = [
    "The cat sat on the mat.", "The dog ate my homework!", "A cat, a dog; a bird?",
    "Éric's café is OPEN\tall day", "new\nlines  and   spaces", "the the the cat",
    "Ünïcode wörds: naïve façade", "", "dog", "[UNK] is a token too"]
QUERIES = ["the cat ate the bird", "an unknown word, THE DOG", "Éric'S CAFÉ!", "",
           "cat cat cat dog mat mat"]


def strings(seed, count):
    """Strings of every length class FarmHash distinguishes (0-16, 17-32, 33-64, longer)
    and UTF-8 text."""
    rng = random.Random(seed)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ 0123456789.,é漢字🙂"
    lengths = list(range(0, 20)) + [23, 31, 32, 33, 40, 63, 64, 65, 100, 127, 128, 129, 200,
                                    300]
    out = ["A", "B", "C", "D", "E", "hello", "Hello", "[UNK]", "12", "-7"]
    while len(out) < count:
        n = lengths[len(out) % len(lengths)]
        out.append("".join(rng.choice(alphabet) for _ in range(n)))
    return out


def plain(x):
    if hasattr(x, "numpy"):
        x = x.numpy()
    x = np.asarray(x) if not isinstance(x, list) else x
    if isinstance(x, np.ndarray):
        if x.dtype.kind in "SO":
            return [plain(v) for v in x] if x.ndim else (
                x.item().decode("utf-8") if isinstance(x.item(), bytes) else x.item())
        return x.tolist()
    if isinstance(x, bytes):
        return x.decode("utf-8")
    return [plain(v) for v in x] if isinstance(x, list) else x


def case(cls, config, inputs, adapt=None):
    layer = getattr(keras.layers, cls)(**config)
    if adapt is not None:
        layer.adapt(adapt)
    out = layer(inputs if cls != "HashedCrossing" else tuple(np.asarray(v) for v in inputs))
    entry = {"layer": cls, "config": config, "adapt": adapt, "inputs": inputs,
             "output": plain(out)}
    if hasattr(layer, "get_vocabulary"):
        entry["vocabulary"] = plain(layer.get_vocabulary())
    return entry


def hashing_cases():
    words = strings(0, 120)
    ints = [0, 1, -1, 7, 12, 255, 256, 65535, -123456789, 2**31 - 1, 2**40 + 3, -2**62]
    cases = []
    for bins in (3, 97, 2**31 - 1):
        cases.append(case("Hashing", {"num_bins": bins}, [[w] for w in words]))
        cases.append(case("Hashing", {"num_bins": bins}, [[i] for i in ints]))
    cases.append(case("Hashing", {"num_bins": 1000, "salt": 133}, [[w] for w in words]))
    cases.append(case("Hashing", {"num_bins": 1000, "salt": [7, 2**40 + 9]},
                      [[w] for w in words]))
    cases.append(case("Hashing", {"num_bins": 1000, "salt": [5, 11]}, [[i] for i in ints]))
    cases.append(case("Hashing", {"num_bins": 5, "mask_value": ""}, [["", "a"], ["b", ""]]))
    cases.append(case("Hashing", {"num_bins": 5, "mask_value": 0}, [[0, 3], [4, 0]]))
    cases.append(case("Hashing", {"num_bins": 5, "output_mode": "multi_hot"},
                      [["a", "b", "c"], ["d", "a", "a"]]))
    cases.append(case("Hashing", {"num_bins": 5, "output_mode": "count"},
                      [["a", "b", "c"], ["d", "a", "a"]]))
    cases.append(case("Hashing", {"num_bins": 4, "output_mode": "one_hot"}, ["a", "b", "c"]))
    cases.append(case("HashedCrossing", {"num_bins": 10},
                      [["A", "B", "A", "C"], [101, 101, 102, 103]]))
    cases.append(case("HashedCrossing", {"num_bins": 1000},
                      [[w for w in words[:30]], [w for w in words[30:60]]]))
    cases.append(case("HashedCrossing", {"num_bins": 1000},
                      [[[i] for i in ints], [[i // 3] for i in ints]]))
    cases.append(case("HashedCrossing", {"num_bins": 7}, [[["a"], ["b"]], [["c"], ["d"]],
                                                          [[5], [6]]]))
    cases.append(case("Hashing", {"num_bins": 11}, [[1.9, -2.5], [3.0, 1e10]]))
    cases.append(case("Hashing", {"num_bins": 7}, [[True], [False]]))
    cases.append(case("HashedCrossing", {"num_bins": 7, "output_mode": "one_hot"},
                      [["x", "y", "z"], [1, 2, 3]]))
    return cases


def lookup_cases():
    tokens = [["b", "a", "c", "a"], ["d", "b", "a", "e"], ["c", "b", "z", "y"]]
    queries = [["a", "e", "q", "zz"], ["b", "", "[UNK]", "d"]]
    cases = []
    for config in ({}, {"max_tokens": 4}, {"num_oov_indices": 3}, {"mask_token": ""},
                   {"num_oov_indices": 2, "salt": 42},
                   {"output_mode": "multi_hot"}, {"output_mode": "count"},
                   {"output_mode": "tf_idf"}, {"output_mode": "count", "mask_token": ""},
                   {"output_mode": "multi_hot", "max_tokens": 8, "pad_to_max_tokens": True},
                   {"output_mode": "tf_idf", "max_tokens": 9, "pad_to_max_tokens": True}):
        cases.append(case("StringLookup", config, queries, adapt=tokens))
    cases.append(case("StringLookup", {"output_mode": "one_hot"}, ["a", "d", "q"],
                      adapt=tokens))
    cases.append(case("StringLookup", {"vocabulary": ["[UNK]", "x", "y"]}, ["y", "w"]))
    cases.append(case("StringLookup", {"vocabulary": ["x", "y"], "mask_token": "[MASK]",
                                       "num_oov_indices": 2}, [["y", "w", "[MASK]", "v"]]))
    cases.append(case("StringLookup", {"vocabulary": ["x", "y", "z"], "invert": True,
                                       "mask_token": "[M]"}, [[0, 1, 2, 4, 9]]))
    cases.append(case("StringLookup", {"vocabulary": ["x", "y"], "output_mode": "tf_idf",
                                       "idf_weights": [0.5, 2.0]}, [["x", "y", "y", "q"]]))
    cases.append(case("StringLookup", {"num_oov_indices": 0, "vocabulary": ["x", "y"]},
                      ["y", "x"]))
    ints = [[3, 1, 2, 1], [4, 3, 1, 5], [2, 3, 9, 8]]
    iq = [[1, 5, 40, -3], [3, 0, -1, 7]]
    for config in ({}, {"max_tokens": 4}, {"num_oov_indices": 3}, {"mask_token": 0},
                   {"num_oov_indices": 3, "oov_method": "farmhash"},
                   {"num_oov_indices": 2, "oov_method": "farmhash", "salt": [3, 4]},
                   {"output_mode": "multi_hot"}, {"output_mode": "count"},
                   {"output_mode": "tf_idf"}):
        cases.append(case("IntegerLookup", config, iq, adapt=ints))
    cases.append(case("IntegerLookup", {"vocabulary": [12, 36, 1138], "mask_token": 0,
                                        "invert": True}, [[0, 1, 2, 3, 4, 9]]))
    cases.append(case("IntegerLookup", {"vocabulary": [12, 36], "mask_token": 0,
                                        "num_oov_indices": 2}, [[0, 12, 5, 36, -7]]))
    cases.append(case("IntegerLookup", {"output_mode": "one_hot", "max_tokens": 3},
                      [[3], [1], [7]], adapt=ints))
    cases.append(case("StringLookup", {"vocabulary": ["a", "b"], "output_mode": "count",
                                       "pad_to_max_tokens": True, "max_tokens": 6},
                      [["a", "a", "q", "b"], ["b", "b", "b", "z"]]))
    cases.append(case("IntegerLookup", {"vocabulary": [12, 36, 1138], "invert": True},
                      [[0, 1, 2, 3, 7]]))
    return cases


def text_cases():
    cases = []
    configs = [
        {}, {"max_tokens": 6}, {"output_sequence_length": 4},
        {"output_sequence_length": 12}, {"standardize": "lower"},
        {"standardize": "strip_punctuation"}, {"standardize": None},
        {"split": "character", "output_sequence_length": 10}, {"ngrams": 2},
        {"ngrams": (1, 3), "max_tokens": 30}, {"output_mode": "multi_hot"},
        {"output_mode": "multi_hot", "ngrams": 2, "max_tokens": 20},
        {"output_mode": "count"}, {"output_mode": "tf_idf"},
        {"output_mode": "tf_idf", "max_tokens": 12, "pad_to_max_tokens": True},
        {"output_mode": "multi_hot", "max_tokens": 40, "pad_to_max_tokens": True},
        {"output_mode": "count", "split": "character"},
        {"split": None, "standardize": None},
    ]
    for config in configs:
        queries = QUERIES if config.get("split", "whitespace") is not None else \
            [[q] for q in QUERIES]
        cases.append(case("TextVectorization", config, queries, adapt=CORPUS))
    cases.append(case("TextVectorization", {"output_mode": "multi_hot", "split": None},
                      [[q] for q in QUERIES[:3]], adapt=[[c] for c in CORPUS]))
    cases.append(case("TextVectorization", {"ngrams": 3, "output_sequence_length": 3},
                      ["one", "one two", "one two three four"], adapt=CORPUS))
    cases.append(case("TextVectorization", {"split": "character", "max_tokens": 12,
                                            "output_mode": "count"}, QUERIES, adapt=CORPUS))
    cases.append(case("TextVectorization", {}, "a lone string: the cat", adapt=CORPUS))
    cases.append(case("TextVectorization", {"vocabulary": ["the", "cat", "dog"],
                                            "output_sequence_length": 5}, QUERIES))
    cases.append(case("TextVectorization", {"vocabulary": ["", "[UNK]", "cat", "the"]},
                      QUERIES))
    cases.append(case("TextVectorization", {"vocabulary": ["the", "cat"],
                                            "output_mode": "tf_idf",
                                            "idf_weights": [0.25, 3.0]}, QUERIES))
    return cases


# A class-per-folder tree: {relative path: text}. Nested folders and non-.txt files too.
TREE = {f"{label}/{name}.txt": f"{label} review {i}: " + "word " * (i % 5)
        for i, (label, name) in enumerate(
            [(c, f"f{j:02d}") for c in ("neg", "pos") for j in range(7)] +
            [("pos", "sub/deep"), ("neg", "Z_upper")])}
TREE.update({"pos/skip.md": "not text", "neg/README": "no ending", "unused.txt": "top"})


def directory_cases():
    import tempfile
    cases = []
    with tempfile.TemporaryDirectory() as root:
        for rel, text in TREE.items():
            os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
            with open(os.path.join(root, rel), "w") as f:
                f.write(text)
        runs = [{"shuffle": False}, {"shuffle": False, "label_mode": "categorical"},
                {"shuffle": False, "label_mode": "binary", "max_length": 12},
                {"shuffle": True, "seed": 7, "validation_split": 0.25, "subset": "training"},
                {"shuffle": True, "seed": 7, "validation_split": 0.25,
                 "subset": "validation"},
                {"shuffle": False, "validation_split": 0.3, "subset": "training"},
                {"shuffle": False, "class_names": ["pos", "neg"]}]
        for kwargs in runs:
            ds = keras.utils.text_dataset_from_directory(root, batch_size=4, verbose=False,
                                                         **kwargs)
            texts, labels = [], []
            for x, y in ds:
                texts += [t.decode("utf-8") for t in x.numpy()]
                labels += y.numpy().tolist()
            cases.append({"kwargs": kwargs, "class_names": ds.class_names,
                          "texts": texts, "labels": labels,
                          "batches": [int(x.shape[0]) for x, _ in ds]})
    return {"tree": TREE, "runs": cases}


def model_files():
    """Keras models that begin with an adapted TextVectorization, saved as .keras files
    beside the JSON (the vocabulary in assets/, tf-idf weights in model.weights.h5), and
    their predictions on QUERIES."""
    import tensorflow as tf
    keras.utils.set_random_seed(0)
    out = {}
    for mode in ("int", "tf_idf"):
        vectorize = keras.layers.TextVectorization(
            max_tokens=12, output_mode=mode, output_sequence_length=5 if mode == "int" else None)
        vectorize.adapt(CORPUS)
        inputs = keras.Input(shape=(1,), dtype="string")
        x = vectorize(inputs)
        if mode == "int":
            x = keras.layers.Flatten()(keras.layers.Embedding(12, 3)(x))
        model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(x))
        name = f"text_model_{mode}.keras"
        model.save(os.path.join(HERE, name))
        queries = tf.constant([[q] for q in QUERIES])
        out[mode] = {"file": name, "predictions": model(queries).numpy().tolist()}
    # plain lookups: their vocabulary in assets/layers/<name>/vocabulary.txt
    words = keras.layers.StringLookup(output_mode="multi_hot", num_oov_indices=2)
    words.adapt([["a", "b", "a"], ["c", "b", "a"]])
    inputs = keras.Input(shape=(3,), dtype="string")
    model = keras.Model(inputs, keras.layers.Dense(2)(words(inputs)))
    model.save(os.path.join(HERE, "text_model_string_lookup.keras"))
    queries = [["a", "q", "c"], ["b", "b", "z"]]
    out["string_lookup"] = {"file": "text_model_string_lookup.keras", "queries": queries,
                            "predictions": model(tf.constant(queries)).numpy().tolist()}
    numbers = keras.layers.IntegerLookup(output_mode="count", mask_token=0)
    numbers.adapt(np.array([[3, 5, 3], [7, 5, 3]]))
    inputs = keras.Input(shape=(3,), dtype="int64")
    model = keras.Model(inputs, keras.layers.Dense(2)(numbers(inputs)))
    model.save(os.path.join(HERE, "text_model_integer_lookup.keras"))
    queries = [[3, 0, 9], [5, 5, 7]]
    out["integer_lookup"] = {"file": "text_model_integer_lookup.keras", "queries": queries,
                             "predictions": model(tf.constant(queries, "int64")).numpy().tolist()}
    return out


def main():
    cases = hashing_cases() + lookup_cases() + text_cases()
    path = os.path.join(HERE, "text_expected.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump({"keras": keras.__version__, "cases": cases,
                   "text_dataset_from_directory": directory_cases(),
                   "models": model_files()}, f, ensure_ascii=False,
                  separators=(",", ":"))
        f.write("\n")
    print(f"wrote {len(cases)} cases to {path}")


if __name__ == "__main__":
    main()
