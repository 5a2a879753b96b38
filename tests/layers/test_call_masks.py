"""Masks outside the graph: eager calls on arrays carry `_keras_mask` as Keras's do, and a
mask passed explicitly with `mask=` is checked against the input."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers

keras = pytest.importorskip("keras")
from keras.src.backend import get_keras_mask  # noqa: E402

IDS = np.array([[3, 1, 0, 0], [2, 0, 0, 0]])


def chain(lib):
    embed = lib.layers.Embedding(5, 3, mask_zero=True)
    return [embed, lib.layers.Dense(2), lib.layers.LayerNormalization(),
            lib.layers.GlobalAveragePooling1D()]


def test_eager_outputs_carry_keras_mask_as_keras():
    ours, theirs = chain(gn), chain(keras)
    a, b = IDS, IDS
    for mine, keras_layer in zip(ours, theirs):
        a, b = mine(a), keras_layer(b)
        expected = get_keras_mask(b)
        got = getattr(a, "_keras_mask", None)
        if expected is None:
            assert got is None, type(mine).__name__
        else:
            np.testing.assert_array_equal(np.asarray(got), np.asarray(expected))


def test_a_model_called_on_arrays_carries_its_outputs_masks():
    def build(lib):
        i = lib.Input((4,), dtype="int32")
        h = lib.layers.Embedding(5, 3, mask_zero=True)(i)
        return lib.Model(i, [lib.layers.Dense(2)(h), lib.layers.GlobalAveragePooling1D()(h)])
    seq, pooled = build(gn)(IDS)
    theirs = build(keras)(IDS)
    np.testing.assert_array_equal(np.asarray(seq._keras_mask), np.asarray(get_keras_mask(theirs[0])))
    assert getattr(pooled, "_keras_mask", None) is None and get_keras_mask(theirs[1]) is None
    np.testing.assert_array_equal(np.asarray(seq._keras_mask), IDS != 0)


def test_an_eager_mask_reaches_a_layer_that_takes_it():
    lstm = layers.LSTM(2)
    x = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    mask = np.array([[True, True, False, False], [True, False, False, False]])
    # Each row as if its sequence stopped at its last unmasked step.
    expected = np.concatenate([np.asarray(lstm(x[:1, :2])), np.asarray(lstm(x[1:, :1]))])
    np.testing.assert_allclose(np.asarray(lstm(x, mask=mask)), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("mask, error, words", [
    (np.ones((2, 3), bool), ValueError, r"'lstm_x'.*mask of shape \(2, 3\).*input of shape "
                                        r"\(2, 4, 3\)"),
    (np.ones((2, 4), "float32"), TypeError, r"'lstm_x'.*bool mask.*float32"),
    ("steps", TypeError, r"'lstm_x'.*bool array, received str"),
])
def test_a_wrong_mask_given_explicitly_names_the_layer(mask, error, words):
    lstm = layers.LSTM(2, name="lstm_x")
    with pytest.raises(error, match=words):
        lstm(np.ones((2, 4, 3), "float32"), mask=mask)


def test_a_wrong_symbolic_mask_names_the_layer_and_both_shapes():
    x, m = gn.Input((4, 3)), gn.Input((3,), dtype="bool")
    with pytest.raises(ValueError, match=r"'lstm_y'.*\(None, 3\).*\(None, 4, 3\)"):
        layers.LSTM(2, name="lstm_y")(x, mask=m)
    merge = layers.Concatenate(name="cat")
    with pytest.raises(ValueError, match=r"'cat'.*one mask per input \(2 inputs\)"):
        merge([x, x], mask=[None])


def test_an_eager_call_of_several_tensor_arguments_gets_no_mask_as_keras():
    class Probe(layers.Layer):
        def call(self, inputs, other=None, mask=None):
            self.got = mask is not None
            return inputs

    embedded = layers.Embedding(5, 3, mask_zero=True)(IDS)
    probe = Probe()
    probe(embedded)
    assert probe.got
    probe(embedded, other=embedded)
    assert not probe.got
