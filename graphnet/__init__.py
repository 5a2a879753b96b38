"""graphnet: Keras-style functional neural networks as networkx graphs, compiled by JAX."""
from . import (activations, callbacks, constraints, initializers, layers, losses, metrics, mixed_precision,
               models, ops, optimizers, random, regularizers, utils)
from . import edit
from .costing import cost
from .edit import clone_model
from .layers.input_layer import Input
from .model import Model
from .sequential import Sequential
from .plot import plot_model
from .registry import register_serializable
from .saving import load_model

from .version import __version__
__all__ = ["Input", "Model", "Sequential", "clone_model", "cost", "edit", "load_model", "plot_model",
           "register_serializable", "activations", "callbacks", "constraints", "initializers", "layers",
           "losses", "metrics", "mixed_precision", "models", "ops", "optimizers", "random", "regularizers",
           "utils"]
