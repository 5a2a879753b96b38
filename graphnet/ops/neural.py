"""Keras's neural-network ops (`keras.ops.nn`): activations, one-hot, cross-entropies,
moments, convolutions and pooling (channels last), attention."""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from .. import _conv
from ..layers.operation import OPS
from .recording import op as _op
from .recording import public_names


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
def celu(x, alpha=1.0):
    """Keras `ops.celu`: `x` where positive, else `alpha * (exp(x / alpha) - 1)`."""
    return jax.nn.celu(x, alpha)


@_op
def glu(x, axis=-1):
    """Keras `ops.glu`: the first half of `axis` times the sigmoid of the second half."""
    return jax.nn.glu(x, axis=axis)


@_op
def hard_tanh(x):
    """Keras `ops.hard_tanh`: `clip(x, -1, 1)`."""
    return jax.nn.hard_tanh(x)


@_op
def hard_shrink(x, threshold=0.5):
    """Keras `ops.hard_shrink`: `x` where `|x| > threshold`, else 0."""
    return jnp.where(jnp.abs(x) > threshold, x, 0.0)


@_op
def soft_shrink(x, threshold=0.5):
    """Keras `ops.soft_shrink`: `x` moved `threshold` towards 0, 0 within the threshold."""
    return jnp.where(x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold,
                                                             0.0))


@_op
def tanh_shrink(x):
    """Keras `ops.tanh_shrink`: `x - tanh(x)`."""
    return x - jnp.tanh(x)


@_op
def threshold(x, threshold, default_value):
    """Keras `ops.threshold`: `x` where `x > threshold`, else `default_value`."""
    return jnp.where(x > threshold, x, default_value)


@_op
def sparse_plus(x):
    """Keras `ops.sparse_plus`: 0 below -1, `(x + 1)**2 / 4` on [-1, 1], `x` above 1."""
    return jax.nn.sparse_plus(x)


@_op
def sparse_sigmoid(x):
    """Keras `ops.sparse_sigmoid`: 0 below -1, `(x + 1) / 2` on [-1, 1], 1 above."""
    return jax.nn.sparse_sigmoid(x)


@_op
def squareplus(x, b=4):
    """Keras `ops.squareplus`: `(x + sqrt(x**2 + b)) / 2`, a smooth ReLU."""
    return jax.nn.squareplus(x, b)


@_op
def sparsemax(x, axis=-1):
    """Keras `ops.sparsemax`: the Euclidean projection of `x` on the simplex along `axis`
    (a softmax whose small entries are exactly 0)."""
    x = jnp.asarray(x)
    z = -jnp.sort(-x, axis=axis)                       # descending
    cumulative = jnp.cumsum(z, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    k = jnp.arange(1, x.shape[axis] + 1, dtype=x.dtype).reshape(shape)
    support = z - (cumulative - 1) / k > 0
    size = jnp.sum(support, axis=axis, keepdims=True, dtype=x.dtype)
    tau = (jnp.sum(jnp.where(support, cumulative, 0.0), axis=axis, keepdims=True) - 1) / size
    return jnp.maximum(x - tau, 0.0)


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


def _at_least_float32(x):
    x = jnp.asarray(x)
    return x.astype(jnp.promote_types(x.dtype, jnp.float32))


@_op
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, rms_scaling=False):
    """Keras `ops.layer_normalization`: `(x - mean) / sqrt(var + epsilon) * gamma + beta`
    over `axis`, computed in at least float32 and returned in `x`'s dtype (epsilon: Keras's
    1e-7 by default)."""
    dtype = jnp.asarray(x).dtype
    x = _at_least_float32(x)
    epsilon = _EPSILON if epsilon is None else epsilon
    axes = sorted([axis] if isinstance(axis, int) else axis)
    shape = [1] * x.ndim
    for a in axes:
        shape[a] = x.shape[a]

    def fit(v):
        if v is None:
            return None
        v = jnp.asarray(v, x.dtype)
        return v if v.ndim == x.ndim or axes == [x.ndim - 1] else jnp.reshape(v, shape)
    gamma, beta = fit(gamma), fit(beta)
    if rms_scaling:
        y = x * lax.rsqrt(jnp.var(x, axis=axes, keepdims=True) + epsilon)
        return (y if gamma is None else y * gamma).astype(dtype)
    mean, variance = jnp.mean(x, axes, keepdims=True), jnp.var(x, axes, keepdims=True)
    inv = lax.rsqrt(variance + epsilon)
    if gamma is not None:
        inv = inv * gamma
    shift = -mean * inv if beta is None else beta - mean * inv
    return (x * inv + shift).astype(dtype)


@_op
def rms_normalization(x, scale=None, axis=-1, epsilon=None):
    """Keras `ops.rms_normalization`: `x / sqrt(mean(x**2) + epsilon) * scale` over `axis`,
    computed in at least float32 and returned in `x`'s dtype."""
    dtype = jnp.asarray(x).dtype
    x = _at_least_float32(x)
    epsilon = _EPSILON if epsilon is None else epsilon
    if x.ndim == 0:
        x = x[None]
    axis = sorted(axis) if isinstance(axis, (tuple, list)) else axis
    y = x * lax.rsqrt(jnp.mean(jnp.square(x), axis=axis, keepdims=True) + epsilon)
    if scale is not None:
        y = y * jnp.asarray(scale, x.dtype)
    return y.astype(dtype)


@_op
def psnr(x1, x2, max_val):
    """Keras `ops.psnr`: the peak signal-to-noise ratio `20 log10(max_val) - 10 log10(mse)`
    of two images of one shape, over all their entries."""
    if jnp.shape(x1) != jnp.shape(x2):
        raise ValueError(f"ops.psnr: x1 and x2 must have one shape, received {jnp.shape(x1)} "
                         f"and {jnp.shape(x2)}")
    x2 = jnp.asarray(x2)
    mse = jnp.mean(jnp.square(x1 - x2))
    return 20 * jnp.log10(jnp.asarray(max_val, x2.dtype)) - 10 * jnp.log10(mse)


@_op
def polar(abs_, angle):
    """Keras `ops.polar`: the complex numbers `abs_ * (cos(angle) + i sin(angle))`."""
    return lax.complex(abs_ * jnp.cos(angle), abs_ * jnp.sin(angle))


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
    pool_size = _conv.as_tuple(pool_size, rank)
    strides = pool_size if strides is None else _conv.as_tuple(strides, rank)
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


__all__ = public_names(globals(), __name__)
