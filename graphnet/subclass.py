"""A subclassed Model (Keras's `call(inputs)` written by the user): its call is traced once
on symbolic inputs, and what it records becomes the model's graph, as for any functional
model. Here: the symbolic inputs made from data or shapes, and the trace itself."""
from __future__ import annotations

import numpy as np

from .layers.input_layer import Input
from .symbolic import SymbolicTensor


def _input_dtype(dtype) -> str:
    """The Input dtype for data of `dtype`: float32 for floats, int32 for integers (JAX's
    default widths), as Keras does when it builds a model from data."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return "float32" if dtype.itemsize >= 4 else dtype.name
    if dtype.kind in "iu":
        return "int32"
    return dtype.name


def _input_like(x, name=None):
    if isinstance(x, SymbolicTensor):
        return Input(shape=x.shape[1:], dtype=x.dtype, name=name)
    dtype = getattr(x, "dtype", None) or np.asarray(x).dtype
    return Input(shape=tuple(np.shape(x))[1:], dtype=_input_dtype(dtype), name=name)


def inputs_like(x):
    """Symbolic inputs shaped like `x` (an array, a list or a dict of them)."""
    if isinstance(x, dict):
        return {k: _input_like(v, name=k) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and x and all(hasattr(v, "shape") for v in x):
        return [_input_like(v) for v in x]
    return _input_like(x)


def first_inputs(x, y):
    """What a not yet built model builds from: x, or the inputs of the first of a list of
    batches."""
    if y is None and isinstance(x, (list, tuple)) and x and isinstance(x[0], (list, tuple)):
        return x[0][0]
    return x


def inputs_for_shape(shape):
    """Symbolic inputs for Keras's `build(input_shape)` (batch axis included)."""
    if isinstance(shape, dict):
        return {k: Input(shape=tuple(v)[1:], name=k) for k, v in shape.items()}
    if isinstance(shape, list) and shape and isinstance(shape[0], (tuple, list)):
        return [Input(shape=tuple(s)[1:]) for s in shape]
    return Input(shape=tuple(shape)[1:])


def trace(model, inputs):
    """The outputs of `model.call(inputs)` on symbolic inputs: its layer calls and ops are
    recorded as it runs. Python control flow on tensor values cannot be, and says so."""
    try:
        outputs = model.call(inputs)
    except TypeError as err:
        raise TypeError(
            f"Model '{model.name}' ({type(model).__name__}): its call() could not be traced "
            f"into a graph: {err}. A subclassed model's call() runs once on symbolic "
            f"tensors, so it may only call layers and graphnet.ops on them; Python control "
            f"flow on tensor values (if/for/while on a tensor, NumPy or jax.numpy calls) "
            f"cannot be traced. Use graphnet.ops (ops.where, ops.cond) or move that code "
            f"into a custom Layer's call()") from None
    return list(outputs) if isinstance(outputs, tuple) else outputs
