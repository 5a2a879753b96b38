"""layers.serialize / layers.deserialize against Keras's, both ways."""
import keras
import numpy as np
import pytest

import graphnet
from graphnet import layers


def test_serialize_matches_keras_entry_and_keras_reads_it():
    ours = layers.serialize(layers.Dense(3, activation="relu", name="d"))
    theirs = keras.layers.serialize(keras.layers.Dense(3, activation="relu", name="d"))
    assert {k: ours[k] for k in ("module", "class_name", "registered_name")} == \
        {k: theirs[k] for k in ("module", "class_name", "registered_name")}
    for key in ("name", "units", "activation", "use_bias", "dtype", "bias_initializer"):
        assert ours["config"][key] == theirs["config"][key], key
    assert keras.layers.deserialize(ours).get_config() == \
        keras.layers.Dense(3, activation="relu", name="d").get_config()


def test_deserialize_keras_entry_computes_keras_numbers():
    k = keras.layers.Conv1D(4, 3, padding="same", activation="tanh", name="c")
    x = np.random.default_rng(0).normal(size=(2, 5, 2)).astype("float32")
    expected = np.asarray(k(x))
    layer = layers.deserialize(keras.layers.serialize(k))
    assert type(layer) is layers.Conv1D and layer.name == "c"
    model = graphnet.Sequential([graphnet.Input(shape=(5, 2)), layer])
    layer.set_weights([np.asarray(w) for w in k.get_weights()])
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)


def test_round_trip_of_a_wrapper_keeps_the_wrapped_layer():
    entry = layers.serialize(layers.Bidirectional(layers.LSTM(2, name="l"), name="b"))
    again = layers.deserialize(entry)
    assert type(again) is layers.Bidirectional and type(again.forward_layer) is layers.LSTM
    assert again.forward_layer.units == 2


def test_custom_objects_resolve_an_unknown_class():
    class Twice(layers.Layer):
        def call(self, inputs):
            return inputs * 2

    entry = {"module": "mine", "class_name": "Twice", "config": {"name": "t"},
             "registered_name": "Twice"}
    with pytest.raises(ValueError, match="Twice"):
        layers.deserialize(entry)
    assert type(layers.deserialize(entry, custom_objects={"Twice": Twice})) is Twice


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="expected a layer"):
        layers.serialize("Dense")
    with pytest.raises(ValueError, match="class_name"):
        layers.deserialize({"config": {}})
    with pytest.raises(TypeError, match="custom_objects"):
        layers.deserialize({"class_name": "Dense", "config": {"units": 1}}, custom_objects=[1])
