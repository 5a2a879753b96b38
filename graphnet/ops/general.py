"""Keras's NumPy-like and core ops beyond the plain `jax.numpy` ones: rounding, padding,
indexing, scatter, reductions with options, control flow and conversions."""
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
def get_item(x, key):
    """`x[key]`: what indexing a symbolic tensor records."""
    return x[key]


@_op
def unstack(x, num=None, axis=0):
    """Keras `ops.unstack`: the list of slices of `x` along `axis` (that axis removed)."""
    return [jnp.squeeze(t, axis) for t in jnp.split(x, x.shape[axis], axis)]


@_op
def slice(inputs, start_indices, shape):
    """Keras `ops.slice`: the block of `shape` starting at `start_indices`."""
    return lax.dynamic_slice(inputs, start_indices, shape)


@_op
def slice_update(inputs, start_indices, updates):
    """Keras `ops.slice_update`: `inputs` with the block at `start_indices` replaced by
    `updates`."""
    return lax.dynamic_update_slice(inputs, updates, start_indices)


@_op
def scatter(indices, values, shape):
    """Keras `ops.scatter`: zeros of `shape` with `values` added at `indices`."""
    indices = jnp.asarray(indices)
    zeros = jnp.zeros(shape, jnp.asarray(values).dtype)
    return zeros.at[tuple(jnp.moveaxis(indices, -1, 0))].add(values)


@_op
def scatter_update(inputs, indices, updates):
    """Keras `ops.scatter_update`: `inputs` with the entries at `indices` (one index per row, last
    axis) set to `updates`."""
    indices = jnp.asarray(indices)
    return jnp.asarray(inputs).at[tuple(jnp.moveaxis(indices, -1, 0))].set(updates)


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


@_op
def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Keras `ops.segment_sum`: the sums of the rows of `data` that share a segment id."""
    return jax.ops.segment_sum(data, segment_ids, num_segments, indices_are_sorted=sorted)


@_op
def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Keras `ops.segment_max`: the maxima of the rows of `data` that share a segment id."""
    return jax.ops.segment_max(data, segment_ids, num_segments, indices_are_sorted=sorted)


@_op
def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """Keras `ops.segment_min`: the minima of the rows of `data` that share a segment id."""
    return jax.ops.segment_min(data, segment_ids, num_segments, indices_are_sorted=sorted)


@_op
def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Keras `ops.segment_prod`: the products of the rows of `data` that share a segment id."""
    return jax.ops.segment_prod(data, segment_ids, num_segments, indices_are_sorted=sorted)


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


def cond(pred, true_fn, false_fn):
    """Keras `ops.cond`: `true_fn()` if `pred` else `false_fn()`, traced once each
    (`jax.lax.cond`)."""
    return lax.cond(pred, true_fn, false_fn)


def fori_loop(lower, upper, body_fun, init_val):
    """Keras `ops.fori_loop`: `body_fun(i, value)` for i from `lower` to `upper`, starting from
    `init_val` (`jax.lax.fori_loop`)."""
    return lax.fori_loop(lower, upper, body_fun, init_val)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Keras `ops.while_loop`: `loop_vars` a tuple or list, `cond`/`body` take them spread."""
    is_tuple = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if is_tuple else (loop_vars,)
    if maximum_iterations is not None:
        state = (0, state)

        def keep(s):
            return jnp.logical_and(s[0] < maximum_iterations, cond(*s[1]))

        def step(s):
            out = body(*s[1])
            return s[0] + 1, tuple(out) if is_tuple else (out,)
        result = lax.while_loop(keep, step, state)[1]
    else:
        result = lax.while_loop(lambda s: cond(*s),
                                lambda s: tuple(body(*s)) if is_tuple else (body(*s),), state)
    return type(loop_vars)(result) if is_tuple else result[0]


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Keras `ops.scan`: `f(carry, x)` over the leading axis of `xs`, giving `(carry, stacked
    outputs)` (`jax.lax.scan`)."""
    return lax.scan(f, init, xs, length=length, reverse=reverse, unroll=unroll)


def map(f, xs):
    """Keras `ops.map`: `f` applied to each slice of `xs` along its leading axis, results stacked
    (`jax.lax.map`)."""
    return lax.map(f, xs)


def vectorized_map(function, elements):
    """Keras `ops.vectorized_map`: `function` mapped over the leading axis of `elements`
    (`jax.vmap`)."""
    return jax.vmap(function)(elements)


__all__ = public_names(globals(), __name__)
