"""Keras's neural-network ops (`keras.ops.nn`) beyond activations and convolution: one-hot,
cross-entropies, moments, normalizations, PSNR, `polar` and attention.

The activations live in `activations.py`, convolution and pooling in `convolution.py`; all
are `graphnet.ops.X`."""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from .recording import op as _op
from .recording import public_names


@_op
def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Keras `ops.one_hot`: integer labels `x` as one-hot vectors of `num_classes` (float32 by
    default).

    A label outside `[0, num_classes)` (a negative one included) gives a vector of zeros.

    Args:
        x: integer labels, any shape.
        num_classes: the length of each one-hot vector.
        axis: where the new axis goes in the result (-1: last).
        dtype: the result's dtype; None for float32.
        sparse: accepted for Keras's signature; the result is always a dense array.

    Returns:
        `x`'s shape with an axis of `num_classes` inserted at `axis`.

    Examples:
        >>> print(np.asarray(ops.one_hot(np.array([0, 2, 5]), 3)))
        [[1. 0. 0.]
         [0. 0. 1.]
         [0. 0. 0.]]
        >>> ops.one_hot(np.array([0, 2]), 3, axis=0, dtype="int32").shape
        (3, 2)
        >>> ops.one_hot(graphnet.Input(shape=(5,), dtype="int32"), 4).shape
        (None, 5, 4)
    """
    return jax.nn.one_hot(x, num_classes, axis=axis, dtype=dtype or jnp.float32)


@_op
def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False, **kwargs):
    """Keras `ops.multi_hot`: each row of integer labels as one vector of `num_classes` with a 1 at
    every label.

    The labels are one-hot encoded (the class axis placed at `axis`), then merged by a
    maximum over axis 1 of that encoding (axis 0 for 1-D labels), as Keras merges them
    whatever `axis` is: for `(batch, labels)` and the default `axis` that is the labels
    axis.

    Args:
        inputs: integer labels, `(batch, labels)` (or `(labels,)` for one sample); a label
            that repeats counts once; floats are truncated to integers, as Keras casts them.
        num_classes: the length of each vector (Keras's older name `num_tokens` is
            accepted as a keyword).
        axis: where the class axis goes in the one-hot encoding before the labels are
            merged (-1: last).
        dtype: the result's dtype; None for float32.
        sparse: accepted for Keras's signature; the result is always a dense array.

    Returns:
        `(batch, num_classes)` for `(batch, labels)` labels, `(num_classes,)` for `(labels,)`;
        in general the one-hot encoding without its axis 1 (axis 0 for 1-D labels).

    Raises:
        ValueError: `num_classes` is not given.

    Examples:
        >>> print(np.asarray(ops.multi_hot(np.array([[0, 2], [1, 1]]), 3)))
        [[1. 0. 1.]
         [0. 1. 0.]]
        >>> ops.multi_hot(np.zeros((2, 5, 3), "int32"), 4).shape
        (2, 3, 4)
    """
    if num_classes is None:
        num_classes = kwargs.pop("num_tokens", None)
    if kwargs:
        raise TypeError(f"ops.multi_hot got unexpected keyword arguments {sorted(kwargs)}")
    if num_classes is None:
        raise ValueError("ops.multi_hot: num_classes must be given")
    inputs = jnp.asarray(inputs)
    hot = jax.nn.one_hot(inputs.astype(jnp.int32), num_classes, axis=axis,
                         dtype=dtype or jnp.float32)
    return jnp.max(hot, axis=1 if inputs.ndim > 1 else 0)


_EPSILON = 1e-7


def _same_shape(target, output, who):
    """Keras refuses a target whose shape is not the output's rather than broadcasting."""
    if jnp.shape(target) != jnp.shape(output):
        raise ValueError(f"ops.{who}: target and output must have the same shape, received "
                         f"target.shape={jnp.shape(target)}, output.shape={jnp.shape(output)}")


@_op
def binary_crossentropy(target, output, from_logits=False):
    """Element-wise, as Keras's op (the loss averages over the last axis).

    `-(target * log(output) + (1 - target) * log(1 - output))`, with `output` clipped to
    `[1e-7, 1 - 1e-7]` as Keras clips it, so a certain wrong prediction costs about 16, not
    infinity.

    Args:
        target: the labels, 0 or 1 (or soft labels in between), `output`'s shape.
        output: probabilities, or logits when `from_logits` is True.
        from_logits: whether `output` holds logits (computed stably, without the clip).

    Raises:
        ValueError: `target` and `output` have different shapes.

    Examples:
        >>> target = np.array([1.0, 0.0])
        >>> print(np.asarray(ops.binary_crossentropy(target, np.array([0.9, 0.2]))).round(3))
        [0.105 0.223]
        >>> print(np.asarray(ops.binary_crossentropy(target, np.array([0.0, 0.0]),
        ...                                          from_logits=True)).round(3))
        [0.693 0.693]
    """
    _same_shape(target, output, "binary_crossentropy")
    target, output = jnp.asarray(target, jnp.result_type(output)), jnp.asarray(output)
    if from_logits:
        return jnp.maximum(output, 0) - output * target + jnp.log1p(jnp.exp(-jnp.abs(output)))
    output = jnp.clip(output, _EPSILON, 1 - _EPSILON)
    return -(target * jnp.log(output) + (1 - target) * jnp.log(1 - output))


@_op
def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Keras `ops.categorical_crossentropy`: per sample, the cross-entropy of one-hot `target` and
    probabilities (or logits) `output`.

    Probabilities are rescaled to sum to 1 along `axis`, then clipped to `[1e-7, 1 - 1e-7]`,
    as Keras does.

    Args:
        target: one-hot (or soft) labels, `output`'s shape.
        output: probabilities, or logits when `from_logits` is True.
        from_logits: whether `output` holds logits (a log-softmax is taken).
        axis: the class axis.

    Returns:
        `output`'s shape without `axis`: one value per sample.

    Raises:
        ValueError: `target` and `output` have different shapes, or are scalars.

    Examples:
        >>> target = np.array([[0.0, 1.0, 0.0]])
        >>> print(np.asarray(ops.categorical_crossentropy(target, np.array([[0.2, 0.5, 0.3]])))
        ...       .round(3))
        [0.693]
        >>> print(np.asarray(ops.categorical_crossentropy(target, np.zeros((1, 3)),
        ...                                               from_logits=True)).round(3))
        [1.099]
    """
    _same_shape(target, output, "categorical_crossentropy")
    if jnp.ndim(output) < 1:
        raise ValueError(f"ops.categorical_crossentropy: target and output must have at least "
                         f"one axis, received shape {jnp.shape(output)}")
    target, output = jnp.asarray(target, jnp.result_type(output)), jnp.asarray(output)
    return -jnp.sum(target * _log_probabilities(output, from_logits, axis), axis=axis)


def _log_probabilities(output, from_logits, axis):
    """Log-softmax of logits; probabilities rescaled to sum to 1 and clipped, as Keras."""
    if from_logits:
        return jax.nn.log_softmax(output, axis=axis)
    output = output / jnp.sum(output, axis=axis, keepdims=True)
    return jnp.log(jnp.clip(output, _EPSILON, 1 - _EPSILON))


@_op
def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """Keras `ops.sparse_categorical_crossentropy`: per sample, the cross-entropy of integer
    `target` and probabilities (or logits) `output`.

    Args:
        target: integer class indices, `output`'s shape without `axis` (or that shape with
            a last axis of size 1, as Keras takes it).
        output: probabilities, or logits when `from_logits` is True.
        from_logits: whether `output` holds logits.
        axis: the class axis of `output`.

    Returns:
        `output`'s shape without `axis`: one value per sample, float32 for half-precision
        `output` (Keras sums with a float32 one-hot target).

    Raises:
        ValueError: `output` is a scalar, or `target`'s shape is not `output`'s without
            `axis`.

    Examples:
        >>> output = np.array([[0.2, 0.5, 0.3], [0.2, 0.5, 0.3]])
        >>> print(np.asarray(ops.sparse_categorical_crossentropy(np.array([1, 0]), output))
        ...       .round(3))
        [0.693 1.609]
    """
    target, shape = jnp.asarray(target), jnp.shape(output)
    if len(shape) < 1:
        raise ValueError(f"ops.sparse_categorical_crossentropy: output must have at least one "
                         f"axis, received shape {shape}")
    if target.ndim == len(shape) and target.shape[-1] == 1:
        target = jnp.squeeze(target, -1)
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"ops.sparse_categorical_crossentropy: axis {axis} is out of range for "
                         f"output of shape {shape}")
    axis = axis % len(shape)
    if target.shape != shape[:axis] + shape[axis + 1:]:
        raise ValueError(f"ops.sparse_categorical_crossentropy: target must have output's shape "
                         f"without axis {axis}, received target.shape={jnp.shape(target)}, "
                         f"output.shape={shape}")
    # Keras's one-hot target is float32, so half-precision log-probabilities are summed
    # (and returned) in float32.
    log_prob = _at_least_float32(_log_probabilities(jnp.asarray(output), from_logits, axis))
    hot = jax.nn.one_hot(target.astype(jnp.int32), shape[axis], axis=axis, dtype=log_prob.dtype)
    return -jnp.sum(hot * log_prob, axis=axis)


@_op
def moments(x, axes, keepdims=False, synchronized=False):
    """`(mean, variance)` over `axes`.

    The variance is the biased one (divided by the count), as Keras's. Half-precision input
    (float16, bfloat16) is computed in float32, and the results are clipped to float16's
    range before they are cast back, as Keras's JAX backend does (so a float16 variance
    over 65504 is 65504, not infinity; bfloat16 is clipped to that range too).

    Args:
        x: the input array.
        axes: the axes reduced: a list or tuple of ints.
        keepdims: whether the reduced axes stay, with size 1.
        synchronized: accepted for Keras's signature and ignored.

    Returns:
        A pair `(mean, variance)`, each `x`'s shape without `axes` (with them as 1 if
        `keepdims`).

    Examples:
        >>> mean, variance = ops.moments(np.array([[1.0, 2.0], [3.0, 6.0]]), axes=[0])
        >>> print(np.asarray(mean), np.asarray(variance))
        [2. 4.] [1. 4.]
        >>> ops.moments(np.ones((2, 3)), axes=[1], keepdims=True)[0].shape
        (2, 1)
    """
    x = jnp.asarray(x)
    half = x.dtype if x.dtype in (jnp.float16, jnp.bfloat16) else None
    if half is not None:
        x = x.astype(jnp.float32)
    mean = jnp.mean(x, axis=axes, keepdims=True)
    variance = jnp.mean(jnp.square(x - lax.stop_gradient(mean)), axis=axes, keepdims=True)
    if not keepdims:
        mean, variance = jnp.squeeze(mean, axes), jnp.squeeze(variance, axes)
    if half is not None:
        limit = float(jnp.finfo(jnp.float16).max)
        mean = jnp.clip(mean, -limit, limit).astype(half)
        variance = jnp.clip(variance, -limit, limit).astype(half)
    return mean, variance


@_op
def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """Keras `ops.batch_normalization`: `(x - mean) / sqrt(variance + epsilon) * scale + offset`,
    the statistics laid along `axis`.

    Args:
        x: the input array.
        mean: 1-D, of length `x.shape[axis]`.
        variance: 1-D, of length `x.shape[axis]`.
        axis: the axis of `x` the statistics run along (the features, -1 for channels
            last).
        offset: 1-D, of length `x.shape[axis]`, added last; None adds nothing.
        scale: 1-D, of length `x.shape[axis]`; None multiplies by 1.
        epsilon: added to `variance`, so a constant feature does not divide by 0.

    Examples:
        >>> x = np.array([[0.0, 2.0], [2.0, 10.0]])
        >>> y = ops.batch_normalization(x, np.array([1.0, 6.0]), np.array([1.0, 16.0]),
        ...                             axis=-1, epsilon=0.0)
        >>> print(np.asarray(y))
        [[-1. -1.]
         [ 1.  1.]]
        >>> y = ops.batch_normalization(x, np.array([1.0, 6.0]), np.array([1.0, 16.0]),
        ...                             axis=-1, offset=np.array([0.0, 5.0]),
        ...                             scale=np.array([2.0, 1.0]), epsilon=0.0)
        >>> print(np.asarray(y))
        [[-2.  4.]
         [ 2.  6.]]
    """
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
    """Keras `ops.normalize`: `x` divided by its `order`-norm over `axis`, the norm taken as
    at least `epsilon`.

    For `order=2` it is `x * min(rsqrt(sum(x ** 2)), 1 / epsilon)`, Keras's formula (so
    `axis=None` takes the sum over every entry); other orders divide by
    `max(norm, epsilon)`.

    Args:
        x: the input array (floating for `order=2`); a scalar is taken as a vector of one.
        axis: the axis, or axes, along which each vector is normalized.
        order: which norm, an int >= 1 (2: Euclidean, 1: sum of absolute values).
        epsilon: the smallest norm divided by, so a zero vector stays zero; None for
            Keras's 1e-7.

    Raises:
        ValueError: `order` is not an int >= 1.
        TypeError: `x` holds integers and `order` is 2 (Keras's rsqrt refuses them too).

    Examples:
        >>> print(np.asarray(ops.normalize(np.array([3.0, 4.0]))))
        [0.6 0.8]
        >>> print(np.asarray(ops.normalize(np.array([3.0, 4.0]), order=1)).round(3))
        [0.429 0.571]
        >>> print(np.asarray(ops.normalize(np.zeros(2))))
        [0. 0.]
    """
    if not isinstance(order, int) or not order >= 1:
        raise ValueError(f"ops.normalize: order must be an int >= 1, received order={order!r}")
    x = jnp.asarray(x)
    if x.ndim == 0:
        x = x[None]
    epsilon = _EPSILON if epsilon is None else epsilon
    if order == 2:
        if not jnp.issubdtype(x.dtype, jnp.inexact):
            raise TypeError(f"ops.normalize: order=2 takes a floating x, received {x.dtype} "
                            f"(cast it first, e.g. ops.cast(x, 'float32'))")
        inv_norm = lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True))
        return x * jnp.minimum(inv_norm, 1.0 / epsilon)
    if not jnp.issubdtype(x.dtype, jnp.inexact):
        x = x.astype(jnp.float32)
    norm_ = jnp.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / jnp.maximum(norm_, epsilon)


def _at_least_float32(x):
    """`x` in Keras's compute dtype for normalizations: float32 for halves, integers and
    booleans; float64 and complex kept. A cast, not a promotion, so strict dtype promotion
    allows it."""
    x = jnp.asarray(x)
    if x.dtype == jnp.float64 or jnp.issubdtype(x.dtype, jnp.complexfloating):
        return x
    return x.astype(jnp.float32)


@_op
def layer_normalization(x, gamma=None, beta=None, axis=-1, epsilon=None, rms_scaling=False):
    """Keras `ops.layer_normalization`: `(x - mean) / sqrt(var + epsilon) * gamma + beta`
    over `axis`, computed in at least float32 and returned in `x`'s dtype (epsilon: Keras's
    1e-7 by default).

    Args:
        x: the input array.
        gamma: the scale, of the normalized axes' shape (or broadcastable to `x`); None
            multiplies by 1.
        beta: the shift, shaped as `gamma`; None adds nothing.
        axis: the axis, or list of axes, each sample is normalized over.
        epsilon: added to the variance; None for 1e-7.
        rms_scaling: True divides by `sqrt(var + epsilon)` without subtracting the mean
            and ignores `beta` (Keras's deprecated formula: the variance, not the mean
            square; `rms_normalization` is the root-mean-square one).

    Examples:
        >>> x = np.array([[1.0, 3.0], [2.0, 6.0]])
        >>> y = ops.layer_normalization(x, gamma=np.array([1.0, 2.0]), beta=np.array([0.5, 0.0]))
        >>> print(np.asarray(y).round(3))
        [[-0.5  2. ]
         [-0.5  2. ]]
    """
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
    computed in at least float32 and returned in `x`'s dtype.

    Args:
        x: the input array.
        scale: multiplies the result (broadcast against it); None multiplies by 1.
        axis: the axis, or list of axes, the mean square is taken over.
        epsilon: added to the mean square; None for 1e-7.

    Examples:
        >>> print(np.asarray(ops.rms_normalization(np.array([2.0, -2.0]))).round(3))
        [ 1. -1.]
        >>> print(np.asarray(ops.rms_normalization(np.array([3.0, 4.0]))).round(3))
        [0.849 1.131]
    """
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
    of two images of one shape, over all their entries.

    Args:
        x1: the first image (or batch of images).
        x2: the second, of `x1`'s shape.
        max_val: the largest value a pixel can take (1.0 for images in [0, 1], 255 for
            bytes).

    Returns:
        A scalar in decibels: infinity for identical images.

    Raises:
        ValueError: `x1` and `x2` have different shapes.

    Examples:
        Every pixel off by 0.1: the mean squared error is 0.01, so `-10 log10(0.01)`:

        >>> x1 = np.zeros((2, 2), "float32")
        >>> print(np.round(float(ops.psnr(x1, x1 + np.float32(0.1), 1.0)), 3))
        20.0
    """
    if jnp.shape(x1) != jnp.shape(x2):
        raise ValueError(f"ops.psnr: x1 and x2 must have one shape, received {jnp.shape(x1)} "
                         f"and {jnp.shape(x2)}")
    x2 = jnp.asarray(x2)
    mse = jnp.mean(jnp.square(x1 - x2))
    return 20 * jnp.log10(jnp.asarray(max_val, x2.dtype)) - 10 * jnp.log10(mse)


@_op
def polar(abs_, angle):
    """Keras `ops.polar`: the complex numbers `abs_ * (cos(angle) + i sin(angle))`.

    Args:
        abs_: the magnitudes.
        angle: the angles in radians, `abs_`'s shape.

    Returns:
        A complex array (complex64 for float32 inputs).

    Examples:
        >>> z = ops.polar(np.array([1.0, 2.0], "float32"), np.array([0.0, np.pi / 3], "float32"))
        >>> print(np.asarray(z).round(3))
        [1.+0.j    1.+1.732j]
        >>> z.dtype
        dtype('complex64')
    """
    return lax.complex(abs_ * jnp.cos(angle), abs_ * jnp.sin(angle))


@_op
def dot_product_attention(query, key, value, bias=None, mask=None, scale=None,
                          is_causal=False):
    """Keras `ops.dot_product_attention`: inputs `(batch, length, heads, dim)`.

    `softmax(query @ key.T * scale + bias, masked) @ value`, per batch and head.

    Args:
        query: `(batch, target_length, heads, dim)`.
        key: `(batch, source_length, kv_heads, dim)`; `heads` must be a multiple of
            `kv_heads` (grouped-query attention when they differ).
        value: `key`'s shape, `(batch, source_length, kv_heads, dim)`.
        bias: added to the logits, broadcastable to `(batch, heads, target_length,
            source_length)`; None adds nothing.
        mask: boolean, broadcastable to `(batch, heads, target_length, source_length)`:
            True where a query may attend to a key; None lets every pair attend.
        scale: the logits' factor; None for `1 / sqrt(dim)`.
        is_causal: True lets position `i` attend only to keys `j <= i`.

    Returns:
        `query`'s shape, `(batch, target_length, heads, dim)`. `query`, `key` and `value` may
        also come without their batch axis.

    Examples:
        A query of zeros weighs both keys equally: the mean of the two values.

        >>> query = np.zeros((1, 1, 1, 2), "float32")
        >>> key = np.ones((1, 2, 1, 2), "float32")
        >>> value = np.array([[1.0, 2.0], [3.0, 4.0]], "float32").reshape(1, 2, 1, 2)
        >>> print(np.asarray(ops.dot_product_attention(query, key, value)).ravel())
        [2. 3.]
    """
    return jax.nn.dot_product_attention(query, key, value, bias=bias, mask=mask, scale=scale,
                                        is_causal=is_causal)


__all__ = public_names(globals(), __name__)
