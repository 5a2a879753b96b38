"""The public names a Keras user reaches for first (Input, Model, Sequential, layers...)."""
import importlib

import graphnet
from graphnet import layers, models


def test_input_model_sequential_under_every_public_name():
    assert graphnet.Input is layers.Input
    assert graphnet.Model is models.Model and graphnet.Sequential is models.Sequential
    assert issubclass(models.Sequential, models.Model)
    assert issubclass(models.Model, layers.Layer)


def test_foundation_modules_import():
    for name in ("layers", "activations", "initializers", "regularizers", "utils", "models"):
        assert importlib.import_module(f"graphnet.{name}") is getattr(graphnet, name)


def test_core_and_merging_layers_exported_with_keras_names():
    for name in ("Dense", "Activation", "Dropout", "Flatten", "Reshape", "Permute", "RepeatVector",
                 "Lambda", "Identity", "Concatenate", "Add", "Subtract", "Multiply", "Average",
                 "Maximum", "Minimum", "Dot", "InputLayer", "InputSpec", "Layer"):
        assert isinstance(getattr(layers, name), type), name
    assert callable(graphnet.register_serializable)
    assert callable(graphnet.utils.set_random_seed) and callable(graphnet.utils.to_categorical)
