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
    """Keras `ops.round`: `x` rounded to `decimals` decimals (halves to even, as NumPy).

    Args:
        x: the values to round.
        decimals: how many decimals to keep; negative values round to tens, hundreds, ...

    Examples:
        >>> print(np.asarray(ops.round(np.array([0.5, 1.5, 2.5]))))
        [0. 2. 2.]
        >>> print(np.asarray(ops.round(np.array([1.234, 5.678]), decimals=1)).round(3))
        [1.2 5.7]
    """
    return jnp.round(x, decimals)


@_op
def pad(x, pad_width, mode="constant", constant_values=None):
    """Keras `ops.pad`: `constant_values` only with mode "constant".

    Args:
        x: the array to pad.
        pad_width: per axis, how many entries to add `(before, after)`; one int or one pair
            stands for every axis.
        mode: NumPy's name for what fills the border: "constant", "edge", "reflect",
            "symmetric", "wrap", ...
        constant_values: the fill of mode "constant" (default 0).

    Examples:
        >>> print(np.asarray(ops.pad(np.array([[1, 2]]), [(1, 0), (0, 1)])))
        [[0 0 0]
         [1 2 0]]
        >>> print(np.asarray(ops.pad(np.array([1, 2, 3]), 2, mode="reflect")))
        [3 2 1 2 3 2 1]

        On a symbolic tensor it adds a graph node:

        >>> x = graphnet.Input(shape=(3,))
        >>> ops.pad(x, [(0, 0), (1, 1)]).shape
        (None, 5)
    """
    if constant_values is not None:
        return jnp.pad(x, pad_width, mode=mode, constant_values=constant_values)
    return jnp.pad(x, pad_width, mode=mode)


@_op
def logsumexp(x, axis=None, keepdims=False):
    """Keras `ops.logsumexp`: `log(sum(exp(x)))` over `axis`, computed without overflow.

    The largest entry is taken out before exponentiating, so `exp(1000)` never happens.

    Args:
        x: the values.
        axis: the axis or axes to reduce (None: all of them).
        keepdims: keep the reduced axes with size 1.

    Examples:
        >>> print(np.asarray(ops.logsumexp(np.array([0.0, 0.0]))).round(3))
        0.693
        >>> print(np.asarray(ops.logsumexp(np.array([1000.0, 1000.0]))).round(3))
        1000.693
    """
    return jax.nn.logsumexp(x, axis=axis, keepdims=keepdims)


@_op
def rsqrt(x):
    """Keras `ops.rsqrt`: `1 / sqrt(x)`, element-wise.

    Examples:
        >>> print(np.asarray(ops.rsqrt(np.array([1.0, 4.0, 0.25]))))
        [1.  0.5 2. ]
    """
    return lax.rsqrt(jnp.asarray(x))


@_op
def erf(x):
    """Keras `ops.erf`: the Gauss error function, element-wise.

    Examples:
        >>> print(np.asarray(ops.erf(np.array([0.0, 1.0, -1.0]))).round(3))
        [ 0.     0.843 -0.843]
    """
    return jax.scipy.special.erf(x)


@_op
def erfinv(x):
    """Keras `ops.erfinv`: the inverse of `erf`, element-wise.

    Examples:
        >>> print(np.asarray(ops.erfinv(np.array([0.0, 0.5]))).round(3))
        [0.    0.477]
        >>> print(np.asarray(ops.erfinv(ops.erf(np.array([1.0])))).round(3))
        [1.]
    """
    return jax.scipy.special.erfinv(x)


@_op
def erfc(x):
    """Keras `ops.erfc`: `1 - erf(x)`, accurate where `erf(x)` is near 1.

    Examples:
        >>> print(np.asarray(ops.erfc(np.array([0.0, 1.0]))).round(3))
        [1.    0.157]

        Far in the tail, `1 - erf(x)` has lost every digit in float32; `erfc` keeps them:

        >>> float(1 - ops.erf(np.float32(5.0)))
        0.0
        >>> print(f"{float(ops.erfc(np.float32(5.0))):.3g}")
        1.54e-12
    """
    return jax.scipy.special.erfc(x)


@_op
def cast(x, dtype):
    """Keras `ops.cast`: `x` converted to `dtype`.

    Floats cast to integers are truncated toward zero, as in NumPy.

    Args:
        x: the array (or symbolic tensor) to convert.
        dtype: the dtype's name, such as "int32", or a NumPy dtype.

    Examples:
        >>> print(np.asarray(ops.cast(np.array([1.7, -1.7]), "int32")))
        [ 1 -1]
        >>> x = graphnet.Input(shape=(3,))
        >>> ops.cast(x, "float16").dtype
        dtype('float16')
    """
    return jnp.asarray(x).astype(dtype)


@_op
def stop_gradient(variable):
    """Keras `ops.stop_gradient`: the value as it is, with no gradient flowing back through it.

    Args:
        variable: the value to hold constant for differentiation.

    Examples:
        The derivative of `x * stop_gradient(x)` is the held `x` alone, 3.0 at 3.0 (not 6.0):

        >>> import jax
        >>> float(jax.grad(lambda x: x * ops.stop_gradient(x))(3.0))
        3.0
    """
    return lax.stop_gradient(variable)


@_op
def squared_norm(x, axis=None, keepdims=False):
    """Keras `ops.squared_norm`: the sum of squares of `x` over `axis`.

    Args:
        x: the values.
        axis: the axis or axes to reduce (None: all of them).
        keepdims: keep the reduced axes with size 1.

    Examples:
        >>> print(np.asarray(ops.squared_norm(np.array([3.0, 4.0]))))
        25.0
        >>> print(np.asarray(ops.squared_norm(np.array([[1.0, 2.0], [3.0, 4.0]]), axis=1)))
        [ 5. 25.]
    """
    return jnp.sum(jnp.square(x), axis=axis, keepdims=keepdims)


@_op
def norm(x, ord=None, axis=None, keepdims=False):
    """Keras `ops.norm` (`keras.ops.linalg.norm`): the vector or matrix norm of `x` over
    `axis`, `ord` as in NumPy (None: the 2-norm of a vector, Frobenius of a matrix);
    integers give float32, as Keras.

    Args:
        x: the values.
        ord: the order of the norm: an int, `np.inf`, "fro", "nuc", ... as `numpy.linalg.norm`.
        axis: one axis (vector norms) or a pair of axes (matrix norms); None: with `ord` None,
            the 2-norm of all entries, else the norm of a 1-D or 2-D `x`.
        keepdims: keep the reduced axes with size 1.

    Examples:
        >>> print(np.asarray(ops.norm(np.array([3.0, -4.0]))))
        5.0
        >>> print(np.asarray(ops.norm(np.array([3.0, -4.0]), ord=1)))
        7.0
        >>> n = ops.norm(np.array([[1, 2], [3, 4]]))    # sqrt(1 + 4 + 9 + 16)
        >>> print(np.asarray(n).round(3), n.dtype)
        5.477 float32
    """
    x = jnp.asarray(x)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.float32)
    return jnp.linalg.norm(x, ord=ord, axis=axis, keepdims=keepdims)


@_op
def top_k(x, k, sorted=True):
    """Keras `ops.top_k`: the k largest entries on the last axis and their positions.

    As Keras's JAX backend: the result is the list `[values, indices]` (unpack it as a
    pair; on symbolic tensors too, where Keras gives a tuple), and `sorted=False` is
    accepted but the entries still come largest first, which an unsorted order allows.

    Args:
        x: the values, ranked along the last axis.
        k: how many entries to keep.
        sorted: accepted as in Keras; the entries always come largest first.

    Returns:
        `[values, indices]`, each of shape `(..., k)`: the `k` largest values, largest
        first, and their int32 positions in `x` (the lower position first among ties).

    Examples:
        >>> values, indices = ops.top_k(np.array([1.0, 5.0, 3.0, 4.0]), 2)
        >>> print(np.asarray(values), np.asarray(indices))
        [5. 4.] [1 3]
        >>> _, indices = ops.top_k(np.array([1.0, 5.0, 3.0, 4.0]), 3, sorted=False)
        >>> print(np.asarray(indices))         # still largest first, as in Keras
        [1 3 2]
    """
    return lax.top_k(x, k)


@_op
def in_top_k(targets, predictions, k):
    """Keras `ops.in_top_k`: per row, whether the integer target is among the `k` highest
    predictions.

    Args:
        targets: the true class of each row, integers of shape `(batch,)`.
        predictions: the scores, shape `(batch, classes)`.
        k: how many of the highest scores count as a hit.

    Returns:
        Booleans of shape `(batch,)`.

    Examples:
        >>> scores = np.array([[0.1, 0.2, 0.7], [0.2, 0.5, 0.3]])
        >>> print(np.asarray(ops.in_top_k(np.array([2, 2]), scores, 1)))
        [ True False]
        >>> print(np.asarray(ops.in_top_k(np.array([2, 2]), scores, 2)))
        [ True  True]
    """
    top = lax.top_k(predictions, k)[1]
    return jnp.any(top == jnp.asarray(targets)[:, None], axis=-1)


# ---- values that are not ops: conversions and structure ----------------------------
def shape(x) -> tuple:
    """Keras `ops.shape`: a tuple of ints (None for a symbolic tensor's unknown sizes).

    Examples:
        >>> ops.shape(np.zeros((2, 3)))
        (2, 3)
        >>> ops.shape(graphnet.Input(shape=(3,)))
        (None, 3)
    """
    if isinstance(x, (SymbolicTensor, Variable)):
        return tuple(x.shape)
    return tuple(jnp.shape(x))


def ndim(x) -> int:
    """Keras `ops.ndim`: the number of axes of `x`.

    Examples:
        >>> ops.ndim(np.zeros((2, 3)))
        2
    """
    return len(shape(x))


def size(x):
    """Keras `ops.size`: the number of entries of `x` (None while a symbolic size is unknown).

    Examples:
        >>> ops.size(np.zeros((2, 3)))
        6
        >>> print(ops.size(graphnet.Input(shape=(3,))))
        None
    """
    dims = shape(x)
    return None if None in dims else _math.prod(dims)


def dtype(x) -> str:
    """Keras `ops.dtype`: the name of `x`'s dtype, such as "float32".

    Examples:
        >>> ops.dtype(np.zeros(2, dtype="int32"))
        'int32'
        >>> ops.dtype(graphnet.Input(shape=(3,)))
        'float32'
    """
    return np.dtype(x.dtype).name


def is_tensor(x) -> bool:
    """Keras `ops.is_tensor`: whether `x` is a JAX array or a symbolic tensor.

    A NumPy array is not one, as in Keras.

    Examples:
        >>> ops.is_tensor(np.zeros(2))
        False
        >>> ops.is_tensor(ops.convert_to_tensor(np.zeros(2)))
        True
        >>> ops.is_tensor(graphnet.Input(shape=(3,)))
        True
    """
    return isinstance(x, (jax.Array, SymbolicTensor))


def convert_to_tensor(x, dtype=None, sparse=None):
    """Keras `ops.convert_to_tensor`: `x` as a JAX array (a symbolic tensor stays symbolic, cast to
    `dtype` if given).

    Args:
        x: an array, list, number, layer variable or symbolic tensor.
        dtype: the dtype of the result (default: `x`'s own; float64 becomes float32 unless
            JAX's 64-bit mode is on).
        sparse: accepted as in Keras and ignored: JAX arrays are dense.

    Examples:
        >>> t = ops.convert_to_tensor([1, 2], dtype="float32")
        >>> print(t, t.dtype)
        [1. 2.] float32
        >>> x = graphnet.Input(shape=(3,))
        >>> ops.convert_to_tensor(x, dtype="float16").dtype
        dtype('float16')
    """
    if isinstance(x, SymbolicTensor):
        return x if dtype is None else cast(x, dtype)
    return jnp.asarray(_unwrap(x), dtype=dtype)


def convert_to_numpy(x):
    """Keras `ops.convert_to_numpy`: `x` as a NumPy array (a variable gives its value).

    Examples:
        >>> a = ops.convert_to_numpy(ops.ones((2,)))
        >>> type(a).__name__, a.tolist()
        ('ndarray', [1.0, 1.0])
    """
    return np.asarray(_unwrap(x))


__all__ = public_names(globals(), __name__)
