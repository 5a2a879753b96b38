"""Keras's `keras.models` names."""
from .model import Model, Sequential

__all__ = ["Model", "Sequential"]
