"""A model used as a layer passes on the masks its graph computes, from an Embedding inside
it or from the masks its inputs carry, as Keras's Functional does: an RNN after it skips the
padded steps, while the outer model is built, when it runs and in an eager call."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers

keras = pytest.importorskip("keras")

IDS = np.array([[1, 2, 3, 0, 0], [4, 5, 0, 0, 0]])


def build(lib, where):
    """An outer LSTM after a nested model; the mask starts inside it or before it."""
    L = lib.layers
    outer_in = lib.Input((None,), dtype="int32")
    if where == "inside":
        i = lib.Input((None,), dtype="int32")
        inner = lib.Model(i, L.LSTM(4, return_sequences=True, name="lstm_in")(
            L.Embedding(8, 3, mask_zero=True, name="embed")(i)), name="inner")
        h = inner(outer_in)
    else:                   # a Sequential given the mask an Embedding before it makes
        inner = lib.Sequential([lib.Input((None, 3)), L.LSTM(4, return_sequences=True,
                                                             name="lstm_in")], name="inner")
        h = inner(L.Embedding(8, 3, mask_zero=True, name="embed")(outer_in))
    return lib.Model(outer_in, L.LSTM(2, name="lstm_out")(h)), h


@pytest.mark.slow
@pytest.mark.parametrize("where", ["inside", "outside"])
def test_an_rnn_after_a_nested_model_skips_the_padding_as_keras(where):
    (ours, h), (theirs, _) = build(gn, where), build(keras, where)
    ours.set_weights(theirs.get_weights())
    assert h.mask_spec is not None and h.mask_spec.shape == (None, None)
    want = theirs.predict(IDS, verbose=0)
    np.testing.assert_allclose(ours.predict(IDS, verbose=0), want, rtol=1e-5, atol=1e-6)
    longer = np.pad(IDS, ((0, 0), (0, 3)))       # more padding: the same numbers
    np.testing.assert_allclose(np.asarray(ours(longer)), want, rtol=1e-5, atol=1e-6)


def test_an_eager_call_of_a_model_gives_and_takes_masks():
    i = gn.Input((None,), dtype="int32")
    inner = gn.Model(i, layers.Embedding(8, 3, mask_zero=True)(i))
    np.testing.assert_array_equal(np.asarray(inner(IDS)._keras_mask), IDS != 0)
    x = gn.Input((None, 3))
    passing = gn.Model(x, layers.Dense(2)(x))        # Dense passes a mask on
    given = np.array([[True, True, False, False, False]] * 2)
    out = passing(np.ones((2, 5, 3), "float32"), mask=given)
    np.testing.assert_array_equal(np.asarray(out._keras_mask), given)
    plain = passing([[[1.0, 2.0, 3.0]]])                # nested lists: data, no mask
    assert plain.shape == (1, 1, 2) and getattr(plain, "_keras_mask", None) is None
    fixed = gn.Input((5, 3))
    stopping = gn.Model(fixed, layers.Flatten()(fixed))     # Flatten stops it, as in Keras
    assert getattr(stopping(np.ones((2, 5, 3), "float32"), mask=given), "_keras_mask",
                   None) is None


@pytest.mark.slow
def test_the_mask_a_nested_model_passes_on_weights_the_loss_as_keras():
    def build(lib):
        L = lib.layers
        i = lib.Input((None,), dtype="int32")
        inner = lib.Model(i, L.Dense(1, name="d")(L.Embedding(8, 3, mask_zero=True, name="e")(i)))
        o = lib.Input((None,), dtype="int32")
        model = lib.Model(o, inner(o))
        model.compile("sgd", "mse")
        return model
    ours, theirs = build(gn), build(keras)
    ours.set_weights(theirs.get_weights())
    y = np.ones((2, 5, 1), "float32")
    want = theirs.evaluate(IDS, y, verbose=0)
    masked = IDS != 0                    # the padded steps count for nothing
    error = (ours.predict(IDS, verbose=0)[..., 0] - 1.0) ** 2
    np.testing.assert_allclose(want, error[masked].mean(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.evaluate(IDS, y, verbose=0), want, rtol=1e-5, atol=1e-6)
