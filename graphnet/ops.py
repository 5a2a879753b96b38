"""`keras.ops` under its own names: NumPy-like and neural-network operations.

Each op works on arrays (NumPy, JAX, traced values inside `call`, `add_weight` variables)
and on symbolic tensors: given one, it adds a node to the graph (an `Operation` layer named
after the op, drawn and saved like any layer) and returns its symbolic output. Semantics
and defaults are Keras 3's (`ops.gelu` is approximate by default, `ops.leaky_relu`'s slope
is 0.2, `ops.binary_crossentropy` is element-wise, `ops.shape` gives a tuple).
"""
from __future__ import annotations

import functools
import math as _math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from . import _conv
from .symbolic import SymbolicTensor
from .variables import Variable

OPS: dict = {}     # name -> the array function behind the op (what saved graphs refer to)


def _walk(value, leaf):
    """`value` with `leaf` applied through lists, tuples and dicts."""
    if isinstance(value, list):
        return [_walk(v, leaf) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(_walk(v, leaf) for v in value)
    if isinstance(value, dict):
        return {k: _walk(v, leaf) for k, v in value.items()}
    return leaf(value)


def _any_symbolic(value) -> bool:
    found = []
    _walk(value, lambda x: found.append(1) if isinstance(x, SymbolicTensor) else None)
    return bool(found)


def _unwrap(value):
    return _walk(value, lambda x: x.value if isinstance(x, Variable) else x)


def _op(fn=None, *, name=None):
    """Registers `fn` as an op: symbolic arguments make a graph node, others compute."""
    if fn is None:
        return functools.partial(_op, name=name)
    key = name or fn.__name__

    @functools.wraps(fn)
    def op(*args, **kwargs):
        if _any_symbolic((args, kwargs)):
            from .layers.operation import Operation
            return Operation.apply_symbolic(key, args, kwargs)
        args, kwargs = _unwrap((args, kwargs))
        return fn(*args, **kwargs)
    OPS[key] = fn
    return op


def _same(jnp_fn, name):
    """An op that is exactly `jnp_fn` (Keras's NumPy-named ops match NumPy)."""
    def fn(*args, **kwargs):
        return jnp_fn(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"Keras `ops.{name}` (as `jax.numpy.{jnp_fn.__name__}`)."
    return _op(fn)


_NUMPY_SAME = {
    # element-wise
    "abs": jnp.abs, "absolute": jnp.absolute, "negative": jnp.negative, "sign": jnp.sign,
    "exp": jnp.exp, "exp2": jnp.exp2, "expm1": jnp.expm1, "log": jnp.log, "log1p": jnp.log1p,
    "log2": jnp.log2, "log10": jnp.log10, "sqrt": jnp.sqrt, "square": jnp.square,
    "reciprocal": jnp.reciprocal, "sin": jnp.sin, "cos": jnp.cos, "tan": jnp.tan,
    "arcsin": jnp.arcsin, "arccos": jnp.arccos, "arctan": jnp.arctan, "arctan2": jnp.arctan2,
    "sinh": jnp.sinh, "cosh": jnp.cosh, "tanh": jnp.tanh, "arcsinh": jnp.arcsinh,
    "arccosh": jnp.arccosh, "arctanh": jnp.arctanh, "floor": jnp.floor, "ceil": jnp.ceil,
    "trunc": jnp.trunc, "isnan": jnp.isnan, "isinf": jnp.isinf, "isfinite": jnp.isfinite,
    "conj": jnp.conj, "conjugate": jnp.conjugate, "real": jnp.real, "imag": jnp.imag,
    "add": jnp.add, "subtract": jnp.subtract, "multiply": jnp.multiply, "divide": jnp.divide,
    "true_divide": jnp.true_divide, "floor_divide": jnp.floor_divide, "mod": jnp.mod,
    "power": jnp.power, "maximum": jnp.maximum, "minimum": jnp.minimum,
    "equal": jnp.equal, "not_equal": jnp.not_equal, "less": jnp.less,
    "less_equal": jnp.less_equal, "greater": jnp.greater, "greater_equal": jnp.greater_equal,
    "logical_and": jnp.logical_and, "logical_or": jnp.logical_or,
    "logical_not": jnp.logical_not, "logical_xor": jnp.logical_xor,
    "bitwise_and": jnp.bitwise_and, "bitwise_or": jnp.bitwise_or,
    "bitwise_xor": jnp.bitwise_xor, "bitwise_not": jnp.bitwise_not, "invert": jnp.invert,
    "nan_to_num": jnp.nan_to_num, "clip": jnp.clip, "where": jnp.where,
    "heaviside": jnp.heaviside, "hypot": jnp.hypot, "copysign": jnp.copysign,
    # reductions
    "sum": jnp.sum, "mean": jnp.mean, "max": jnp.max, "min": jnp.min, "amax": jnp.max,
    "amin": jnp.min, "prod": jnp.prod, "std": jnp.std, "var": jnp.var, "all": jnp.all,
    "any": jnp.any, "argmax": jnp.argmax, "argmin": jnp.argmin, "cumsum": jnp.cumsum,
    "cumprod": jnp.cumprod, "median": jnp.median, "quantile": jnp.quantile,
    "count_nonzero": jnp.count_nonzero, "average": jnp.average, "trace": jnp.trace,
    # shapes and arrangement
    "reshape": jnp.reshape, "transpose": jnp.transpose, "expand_dims": jnp.expand_dims,
    "squeeze": jnp.squeeze, "concatenate": jnp.concatenate, "stack": jnp.stack,
    "hstack": jnp.hstack, "vstack": jnp.vstack, "tile": jnp.tile, "repeat": jnp.repeat,
    "broadcast_to": jnp.broadcast_to, "flip": jnp.flip, "roll": jnp.roll,
    "swapaxes": jnp.swapaxes, "moveaxis": jnp.moveaxis, "ravel": jnp.ravel,
    "append": jnp.append, "take": jnp.take, "take_along_axis": jnp.take_along_axis,
    "sort": jnp.sort, "argsort": jnp.argsort, "tril": jnp.tril, "triu": jnp.triu,
    "diag": jnp.diag, "diagonal": jnp.diagonal, "meshgrid": jnp.meshgrid,
    "split": jnp.split, "array_split": jnp.array_split, "atleast_1d": jnp.atleast_1d,
    "nonzero": jnp.nonzero, "unique": jnp.unique, "digitize": jnp.digitize,
    "searchsorted": jnp.searchsorted, "isclose": jnp.isclose, "allclose": jnp.allclose,
    "diff": jnp.diff, "cross": jnp.cross, "kron": jnp.kron,
    # linear algebra
    "matmul": jnp.matmul, "dot": jnp.dot, "tensordot": jnp.tensordot, "einsum": jnp.einsum,
    "outer": jnp.outer, "inner": jnp.inner, "vdot": jnp.vdot,
    # creation
    "zeros_like": jnp.zeros_like, "ones_like": jnp.ones_like, "full_like": jnp.full_like,
    "zeros": jnp.zeros, "ones": jnp.ones, "full": jnp.full, "eye": jnp.eye,
    "identity": jnp.identity, "arange": jnp.arange, "linspace": jnp.linspace,
    "logspace": jnp.logspace, "tri": jnp.tri,
}
for _name, _fn in _NUMPY_SAME.items():
    globals()[_name] = _same(_fn, _name)


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
    """Keras `ops.norm` (`keras.ops.linalg.norm`)."""
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


# ---- neural-network ops (keras.ops.nn) --------------------------------------------------
@_op
def relu(x):
    """Keras `ops.relu`: `max(x, 0)`."""
    return jax.nn.relu(x)


@_op
def relu6(x):
    """Keras `ops.relu6`: `min(max(x, 0), 6)`."""
    return jax.nn.relu6(x)


@_op
def sigmoid(x):
    """Keras `ops.sigmoid`: `1 / (1 + exp(-x))`."""
    return jax.nn.sigmoid(x)


@_op
def log_sigmoid(x):
    """Keras `ops.log_sigmoid`: `log(sigmoid(x))`, computed without overflow."""
    return jax.nn.log_sigmoid(x)


@_op
def hard_sigmoid(x):
    """Keras `ops.hard_sigmoid`: `relu6(x + 3) / 6`, a piecewise-linear sigmoid."""
    return jax.nn.hard_sigmoid(x)


@_op
def hard_silu(x):
    """Keras `ops.hard_silu` (alias `hard_swish`): `x * hard_sigmoid(x)`."""
    return jax.nn.hard_silu(x)


hard_swish = hard_silu


@_op
def softplus(x):
    """Keras `ops.softplus`: `log(1 + exp(x))`."""
    return jax.nn.softplus(x)


@_op
def softsign(x):
    """Keras `ops.softsign`: `x / (1 + |x|)`."""
    return jax.nn.soft_sign(x)


@_op
def silu(x):
    """Keras `ops.silu` (alias `swish`): `x * sigmoid(x)`."""
    return jax.nn.silu(x)


swish = silu


@_op
def gelu(x, approximate=True):
    """Keras `ops.gelu`: the Gaussian error linear unit, its tanh approximation by default (as
    Keras)."""
    return jax.nn.gelu(x, approximate=approximate)


@_op
def elu(x, alpha=1.0):
    """Keras `ops.elu`: `x` where positive, else `alpha * (exp(x) - 1)`."""
    return jax.nn.elu(x, alpha)


@_op
def selu(x):
    """Keras `ops.selu`: the scaled ELU of self-normalizing networks."""
    return jax.nn.selu(x)


@_op
def leaky_relu(x, negative_slope=0.2):
    """Keras `ops.leaky_relu`: `x` where positive, else `negative_slope * x` (0.2 by default, as
    Keras)."""
    return jax.nn.leaky_relu(x, negative_slope)


@_op
def softmax(x, axis=-1):
    """Keras `ops.softmax`: `exp(x) / sum(exp(x))` over `axis`."""
    return jax.nn.softmax(x, axis=axis)


@_op
def log_softmax(x, axis=-1):
    """Keras `ops.log_softmax`: `log(softmax(x))` over `axis`, computed without overflow."""
    return jax.nn.log_softmax(x, axis=axis)


@_op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Keras `ops.one_hot`: integer labels `x` as one-hot vectors of `num_classes` (float32 by
    default)."""
    return jax.nn.one_hot(x, num_classes, axis=axis, dtype=dtype or jnp.float32)


@_op
def multi_hot(inputs, num_classes, axis=-1, dtype=None, sparse=False):
    """Keras `ops.multi_hot`: each row of integer labels as one vector of `num_classes` with a 1 at
    every label."""
    hot = jax.nn.one_hot(inputs, num_classes, axis=axis, dtype=dtype or jnp.float32)
    return jnp.max(hot, axis=-2 if axis == -1 else axis + 1)


_EPSILON = 1e-7


@_op
def binary_crossentropy(target, output, from_logits=False):
    """Element-wise, as Keras's op (the loss averages over the last axis)."""
    target, output = jnp.asarray(target, jnp.result_type(output)), jnp.asarray(output)
    if from_logits:
        return jnp.maximum(output, 0) - output * target + jnp.log1p(jnp.exp(-jnp.abs(output)))
    output = jnp.clip(output, _EPSILON, 1 - _EPSILON)
    return -(target * jnp.log(output) + (1 - target) * jnp.log(1 - output))


@_op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Keras `ops.categorical_crossentropy`: per sample, the cross-entropy of one-hot `target` and
    probabilities (or logits) `output`."""
    target, output = jnp.asarray(target, jnp.result_type(output)), jnp.asarray(output)
    if from_logits:
        return -jnp.sum(target * jax.nn.log_softmax(output, axis=axis), axis=axis)
    output = output / jnp.sum(output, axis=axis, keepdims=True)
    output = jnp.clip(output, _EPSILON, 1 - _EPSILON)
    return -jnp.sum(target * jnp.log(output), axis=axis)


@_op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Keras `ops.sparse_categorical_crossentropy`: per sample, the cross-entropy of integer
    `target` and probabilities (or logits) `output`."""
    target = jnp.asarray(target)
    if target.ndim == jnp.ndim(output):
        target = jnp.squeeze(target, axis)
    hot = jax.nn.one_hot(target.astype(jnp.int32), jnp.shape(output)[axis], axis=axis,
                         dtype=jnp.result_type(output))
    return OPS["categorical_crossentropy"](hot, output, from_logits, axis)


@_op
def moments(x, axes, keepdims=False, synchronized=False):
    """`(mean, variance)` over `axes`."""
    mean = jnp.mean(x, axis=axes, keepdims=True)
    variance = jnp.mean(jnp.square(x - lax.stop_gradient(mean)), axis=axes, keepdims=True)
    if not keepdims:
        mean, variance = jnp.squeeze(mean, axes), jnp.squeeze(variance, axes)
    return mean, variance


@_op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """Keras `ops.batch_normalization`: `(x - mean) / sqrt(variance + epsilon) * scale + offset`,
    the statistics laid along `axis`."""
    shape = [1] * jnp.ndim(x)
    shape[axis] = jnp.shape(x)[axis]

    def b(v):
        return None if v is None else jnp.reshape(v, shape)
    y = (x - b(mean)) * lax.rsqrt(b(variance) + epsilon)
    if scale is not None:
        y = y * b(scale)
    if offset is not None:
        y = y + b(offset)
    return y


@_op
def normalize(x, axis=-1, order=2, epsilon=None):
    """Keras `ops.normalize`: `x` divided by its `order`-norm over `axis`."""
    norm_ = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / jnp.maximum(norm_, epsilon if epsilon is not None else 1e-12)


def _channels_last(data_format, who):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"ops.{who}: only data_format='channels_last' is supported, received "
                         f"{data_format!r}")


@_op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Channels-last N-D convolution, kernel `(*spatial, in, out)` (Keras layout)."""
    _channels_last(data_format, "conv")
    groups = jnp.shape(inputs)[-1] // jnp.shape(kernel)[-2]
    return _conv.conv(inputs, kernel, strides, padding, dilation_rate, groups=groups)


@_op
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Kernel `(*spatial, in, multiplier)`, as Keras's DepthwiseConv."""
    _channels_last(data_format, "depthwise_conv")
    k = jnp.reshape(kernel, (*kernel.shape[:-2], 1, kernel.shape[-2] * kernel.shape[-1]))
    return _conv.conv(inputs, k, strides, padding, dilation_rate, groups=kernel.shape[-2])


@_op
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """Keras `ops.separable_conv`: a depthwise convolution, then a 1x1 pointwise one (channels
    last)."""
    y = OPS["depthwise_conv"](inputs, depthwise_kernel, strides, padding, data_format,
                              dilation_rate)
    return OPS["conv"](y, pointwise_kernel, 1, "valid", data_format, 1)


def _pool(inputs, pool_size, strides, padding, data_format, kind):
    _channels_last(data_format, f"{kind}_pool")
    rank = jnp.ndim(inputs) - 2
    pool_size = _conv._tuple(pool_size, rank)
    strides = pool_size if strides is None else _conv._tuple(strides, rank)
    return _conv.pool(inputs, pool_size, strides, padding, kind)


@_op
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Keras `ops.max_pool`: the maximum over each `pool_size` window (channels last; `strides`
    default to `pool_size`)."""
    return _pool(inputs, pool_size, strides, padding, data_format, "max")


@_op
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Keras `ops.average_pool`: the mean over each `pool_size` window (channels last; `strides`
    default to `pool_size`)."""
    return _pool(inputs, pool_size, strides, padding, data_format, "avg")


@_op
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal=False):
    """Keras `ops.dot_product_attention`: inputs `(batch, length, heads, dim)`."""
    return jax.nn.dot_product_attention(query, key, value, bias=bias, mask=mask, scale=scale,
                                        is_causal=is_causal)


class _Namespace:
    """`ops.nn`, `ops.numpy`, ...: Keras's sub-namespaces, all views of this module."""

    def __init__(self, names):
        for n in names:
            setattr(self, n, globals()[n])


_NN_NAMES = ("relu", "relu6", "sigmoid", "log_sigmoid", "hard_sigmoid", "hard_silu",
             "hard_swish", "softplus", "softsign", "silu", "swish", "gelu", "elu", "selu",
             "leaky_relu", "softmax", "log_softmax", "one_hot", "multi_hot",
             "binary_crossentropy", "categorical_crossentropy",
             "sparse_categorical_crossentropy", "moments", "batch_normalization", "normalize",
             "conv", "depthwise_conv", "separable_conv", "max_pool", "average_pool",
             "dot_product_attention")
nn = _Namespace(_NN_NAMES)
numpy = _Namespace([n for n in _NUMPY_SAME] + ["round", "pad", "get_item"])
linalg = _Namespace(["norm"])
math = _Namespace(["logsumexp", "rsqrt", "erf", "erfinv", "top_k", "in_top_k",
                   "segment_sum", "segment_max"])
core = _Namespace(["cast", "stop_gradient", "shape", "convert_to_tensor", "convert_to_numpy",
                   "cond", "fori_loop", "while_loop", "scan", "slice", "slice_update",
                   "scatter", "scatter_update", "is_tensor", "unstack", "vectorized_map"])
