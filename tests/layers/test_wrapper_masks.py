"""TimeDistributed hands its mask to the wrapped layer and Lambda takes `mask=` (a function
or a fixed mask) and keeps it in get_config, as Keras's do."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers

keras = pytest.importorskip("keras")


def same_weights(ours, theirs, names):
    for name in names:
        ours.get_layer(name).set_weights(theirs.get_layer(name).get_weights())


def test_time_distributed_hands_its_mask_to_the_wrapped_rnn_as_keras():
    def build(lib):
        i = lib.Input((2, 4), dtype="int32")
        h = lib.layers.Embedding(6, 3, mask_zero=True, name="embed")(i)   # mask (batch, 2, 4)
        return lib.Model(i, lib.layers.TimeDistributed(lib.layers.GRU(2), name="td")(h))
    ours, theirs = build(gn), build(keras)
    same_weights(ours, theirs, ("embed", "td"))
    ids = np.array([[[1, 2, 0, 0], [3, 0, 0, 0]], [[4, 5, 1, 0], [2, 2, 2, 2]]])
    np.testing.assert_allclose(ours.predict(ids, verbose=0), theirs.predict(ids, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_a_lambda_function_that_takes_mask_receives_it_as_keras():
    def build(lib):
        i = lib.Input((4,), dtype="int32")
        h = lib.layers.Embedding(6, 3, mask_zero=True, name="embed")(i)
        out = lib.layers.Lambda(lambda x, mask: x * lib.ops.expand_dims(
            lib.ops.cast(mask, "float32"), -1), output_shape=(4, 3))(h)
        return lib.Model(i, out)
    ours, theirs = build(gn), build(keras)
    same_weights(ours, theirs, ("embed",))
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]])
    got = ours.predict(ids, verbose=0)
    np.testing.assert_allclose(got, theirs.predict(ids, verbose=0), rtol=1e-5, atol=1e-6)
    assert not got[ids == 0].any()


@gn.register_serializable(name="flip_mask")
def flip_mask(inputs, mask):
    return None if mask is None else ~mask


def test_lambda_keeps_its_mask_in_get_config():
    fixed = np.array([[True, False, True]])
    for mask, kind in ((flip_mask, None), (fixed, "__numpy__")):
        layer = layers.Lambda(lambda x: x, mask=mask)
        config = layer.get_config()
        if kind is None:
            assert config["mask"].endswith("flip_mask")      # its registered name
        else:
            assert config["mask"]["class_name"] == kind
        again = layers.Lambda.from_config(config, safe_mode=False)
        x = np.zeros((1, 3, 2), "float32")
        got = again.compute_mask(x, np.array([[True, True, False]]))
        expected = np.array([[False, False, True]]) if kind is None else fixed
        np.testing.assert_array_equal(np.asarray(got), expected)
    theirs = keras.layers.Lambda(lambda x: x, mask=fixed).get_config()["mask"]
    assert layers.Lambda(lambda x: x, mask=fixed).get_config()["mask"] == theirs
    assert "mask" not in layers.Lambda(lambda x: x).get_config()


def test_a_keras_lambdas_fixed_mask_is_read_and_a_mask_function_refused():
    from graphnet.saving.keras_config import layer_from_keras

    @gn.register_serializable(name="identity_for_mask_test")
    def identity(x):
        return x

    fixed = np.array([[True, False]])
    entry = keras.saving.serialize_keras_object(keras.layers.Lambda(identity, mask=fixed))
    entry["config"]["function"] = "identity_for_mask_test"
    layer = layer_from_keras(entry)
    np.testing.assert_array_equal(np.asarray(layer.compute_mask(np.zeros((1, 2, 3)), None)), fixed)
    entry["config"]["mask"] = keras.saving.serialize_keras_object(flip_mask)
    with pytest.raises(ValueError, match=r"Lambda layer 'lambda.*mask function"):
        layer_from_keras(entry)
