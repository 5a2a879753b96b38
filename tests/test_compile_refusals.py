"""Mistakes refused where they are made, with Keras's signatures: an unknown metric name at
compile (not first at fit), AveragePooling without its pool_size."""
import inspect

import pytest

import graphnet as gn
from graphnet import layers


def small_model():
    x = gn.Input((3,), name="x")
    return gn.Model(x, [layers.Dense(2, name="a")(x), layers.Dense(1, name="b")(x)])


@pytest.mark.parametrize("argument, metrics, name, close", [
    ("metrics", ["acuracy"], "acuracy", "accuracy"),
    ("metrics", {"a": ["mae"], "b": [["mea"]]}, "mea", "mae"),
    ("weighted_metrics", ["Precission"], "Precission", "Precision"),
])
def test_an_unknown_metric_name_is_refused_at_compile(argument, metrics, name, close):
    model = small_model()
    with pytest.raises(KeyError) as raised:
        model.compile("sgd", "mse", **{argument: metrics})
    message = str(raised.value)
    assert f"Unknown metric {name!r} in compile's {argument}" in message
    assert repr(close) in message.split("(valid")[0]
    assert "binary_accuracy" in message                      # the valid names are listed
    assert isinstance(raised.value, ValueError)              # what an unknown string always was
    assert model.optimizer is None                           # nothing was compiled


def test_known_metric_names_and_objects_still_compile():
    model = small_model()
    model.compile("sgd", "mse", metrics=["AUC", "acc", "Precision", gn.metrics.AUC()],
                  weighted_metrics={"a": ["mse"]})
    assert model.optimizer is not None


@pytest.mark.parametrize("name", ["AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
                                  "AvgPool2D"])
def test_average_pooling_needs_pool_size_as_in_keras(name):
    with pytest.raises(TypeError, match="pool_size"):
        getattr(layers, name)()
    parameter = inspect.signature(getattr(layers, name)).parameters["pool_size"]
    assert parameter.default is inspect.Parameter.empty
    assert getattr(layers, name)(2).pool_size[0] == 2


def test_max_pooling_keeps_its_keras_default():
    assert layers.MaxPooling2D().pool_size == (2, 2)

