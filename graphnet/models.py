"""Keras's `keras.models` names."""
from .edit import clone_model
from .model import Model
from .sequential import Sequential
from .saving import load_model, model_from_json

__all__ = ["Model", "Sequential", "clone_model", "load_model", "model_from_json"]
