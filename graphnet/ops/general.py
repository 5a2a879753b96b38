"""Keras's NumPy-like and core ops beyond the plain `jax.numpy` ones: rounding, padding,
special functions, norms, top-k, casts and conversions."""
from __future__ import annotations

import math as _math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from ..symbolic import SymbolicTensor
from ..variables import Variable
from .recording import op as _op
from .recording import public_names, unwrap as _unwrap


@_op
def round(x, decimals=0):
    """Keras `ops.round`: `x` rounded to `decimals` decimals (halves to even, as NumPy)."""
    return jnp.round(x, decimals)


@_op
def pad(x, pad_width, mode="constant", constant_values=None):
    """Keras `ops.pad`: `constant_values` only with mode "constant"."""
    if constant_values is not None:
        return jnp.pad(x, pad_width, mode=mode, constant_values=constant_values)
    return jnp.pad(x, pad_width, mode=mode)


@_op
def logsumexp(x, axis=None, keepdims=False):
    """Keras `ops.logsumexp`: `log(sum(exp(x)))` over `axis`, computed without overflow."""
    return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)


@_op
def rsqrt(x):
    """Keras `ops.rsqrt`: `1 / sqrt(x)`, element-wise."""
    return lax.rsqrt(jnp.asarray(x))


@_op
def erf(x):
    """Keras `ops.erf`: the Gauss error function, element-wise."""
    return jax.scipy.special.erf(x)


@_op
def erfinv(x):
    """Keras `ops.erfinv`: the inverse of `erf`, element-wise."""
    return jax.scipy.special.erfinv(x)


@_op
def erfc(x):
    """Keras `ops.erfc`: `1 - erf(x)`, accurate where `erf(x)` is near 1."""
    return jax.scipy.special.erfc(x)


@_op
def cast(x, dtype):
    """Keras `ops.cast`: `x` converted to `dtype`."""
    return jnp.asarray(x).astype(dtype)


@_op
def stop_gradient(variable):
    """Keras `ops.stop_gradient`: the value as it is, with no gradient flowing back through it."""
    return lax.stop_gradient(variable)


@_op
def squared_norm(x, axis=None, keepdims=False):
    """Keras `ops.squared_norm`: the sum of squares of `x` over `axis`."""
    return jnp.sum(jnp.square(x), axis=axis, keepdims=keepdims)


@_op
def norm(x, ord=None, axis=None, keepdims=False):
    """Keras `ops.norm` (`keras.ops.linalg.norm`): the vector or matrix norm of `x` over
    `axis`, `ord` as in NumPy (None: the 2-norm of a vector, Frobenius of a matrix);
    integers give float32, as Keras."""
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.float32)
    return jnp.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


@_op
def top_k(x, k, sorted=True):
    """`(values, indices)` of the k largest entries on the last axis."""
    return lax.top_k(x, k)


@_op
def in_top_k(targets, predictions, k):
    """Keras `ops.in_top_k`: per row, whether the integer target is among the `k` highest
    predictions."""
    top = lax.top_k(predictions, k)[1]
    return jnp.any(top == jnp.asarray(targets)[:, None], axis=-1)


# ---- values that are not ops: conversions and structure ----------------------------
def shape(x) -> tuple:
    """Keras `ops.shape`: a tuple of ints (None for a symbolic tensor's unknown sizes)."""
    if isinstance(x, (SymbolicTensor, Variable)):
        return tuple(x.shape)
    return tuple(jnp.shape(x))


def ndim(x) -> int:
    """Keras `ops.ndim`: the number of axes of `x`."""
    return len(shape(x))


def size(x):
    """Keras `ops.size`: the number of entries of `x` (None while a symbolic size is unknown)."""
    dims = shape(x)
    return None if None in dims else _math.prod(dims)


def dtype(x) -> str:
    """Keras `ops.dtype`: the name of `x`'s dtype, such as "float32"."""
    return np.dtype(x.dtype).name


def is_tensor(x) -> bool:
    """Keras `ops.is_tensor`: whether `x` is a JAX array or a symbolic tensor."""
    return isinstance(x, (jax.Array, SymbolicTensor))


def convert_to_tensor(x, dtype=None, sparse=None):
    """Keras `ops.convert_to_tensor`: `x` as a JAX array (a symbolic tensor stays symbolic, cast to
    `dtype` if given)."""
    if isinstance(x, SymbolicTensor):
        return x if dtype is None else cast(x, dtype)
    return jnp.asarray(_unwrap(x), dtype=dtype)


def convert_to_numpy(x):
    """Keras `ops.convert_to_numpy`: `x` as a NumPy array (a variable gives its value)."""
    return np.asarray(_unwrap(x))


__all__ = public_names(globals(), __name__)
