"""Keras's `keras.models` names."""
from .model import Model, Sequential
from .saving import load_model

__all__ = ["Model", "Sequential", "load_model"]
