"""utils.text_dataset_from_directory against what Keras 3 with TensorFlow returned for the
same tree of files (tests/data/text_expected.json): the same files, labels, class names,
split and batch sizes; the same order unless shuffled (then tf.data's buffer order differs)."""
import json
import os

import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, utils

DATA = os.path.join(os.path.dirname(__file__), "data", "text_expected.json")
with open(DATA, encoding="utf-8") as f:
    EXPECTED = json.load(f)["text_dataset_from_directory"]


@pytest.fixture(scope="module")
def tree(tmp_path_factory):
    root = tmp_path_factory.mktemp("reviews")
    for rel, text in EXPECTED["tree"].items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return str(root)


def read(ds):
    texts, labels = [], []
    for x, y in ds:
        texts += [t.decode("utf-8") for t in x]
        labels += np.asarray(y).tolist()
    return texts, labels


@pytest.mark.parametrize("run", EXPECTED["runs"], ids=lambda r: ",".join(map(str, r["kwargs"])))
def test_files_labels_and_split_equal_keras(tree, run):
    ds = utils.text_dataset_from_directory(tree, batch_size=4, verbose=False, **run["kwargs"])
    assert ds.class_names == run["class_names"]
    texts, labels = read(ds)
    assert [len(x) for x, _ in ds] == run["batches"]
    if run["kwargs"]["shuffle"]:
        assert sorted(zip(texts, map(str, labels))) == sorted(zip(run["texts"],
                                                                   map(str, run["labels"])))
        assert read(ds)[0] != texts or len(texts) < 3        # a new order each pass
    else:
        assert texts == run["texts"] and labels == run["labels"]


def test_both_subsets_and_the_book_flow(tree):
    train, val = utils.text_dataset_from_directory(tree, batch_size=4, seed=3, verbose=False,
                                                   validation_split=0.25, subset="both")
    train_texts, val_texts = set(read(train)[0]), set(read(val)[0])
    assert not train_texts & val_texts and len(train_texts | val_texts) == 16
    vectorize = layers.TextVectorization(max_tokens=10, output_mode="multi_hot")
    vectorize.adapt(train.map(lambda x, y: x))
    mapped = train.map(lambda x, y: (vectorize(x), y))
    x, y = next(iter(mapped))
    assert x.shape == (4, 10) and x.dtype == np.int64 and y.dtype == np.int32


@pytest.mark.slow
def test_fit_takes_the_mapped_batches(tree):
    train = utils.text_dataset_from_directory(tree, batch_size=4, verbose=False)
    vectorize = layers.TextVectorization(max_tokens=10, output_mode="multi_hot")
    vectorize.adapt(train.map(lambda x, y: x))
    mapped = train.map(lambda x, y: (vectorize(x), y))
    inputs = gn.Input((10,))
    model = gn.Model(inputs, layers.Dense(1, activation="sigmoid")(inputs))
    model.compile("rmsprop", "binary_crossentropy")
    history = model.fit(mapped, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2


def test_bad_arguments_are_errors_that_say_what_was_expected(tree):
    with pytest.raises(ValueError, match="with validation_split and shuffle=True give a seed"):
        utils.text_dataset_from_directory(tree, validation_split=0.2, subset="training")
    with pytest.raises(ValueError, match="label_mode must be one of"):
        utils.text_dataset_from_directory(tree, label_mode="sparse")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        utils.text_dataset_from_directory(os.path.join(tree, "missing"))
    with pytest.raises(ValueError, match="class_names .* do not match"):
        utils.text_dataset_from_directory(tree, class_names=["pos", "other"])
