"""Keras's activation ops (`keras.ops.nn`): element-wise nonlinearities, and the softmax
family that normalizes along one axis."""
from __future__ import annotations

import jax
import jax.numpy as jnp

from .recording import op as _op
from .recording import public_names


@_op
def relu(x):
    """Keras `ops.relu`: `max(x, 0)`.

    Examples:
        >>> print(np.asarray(ops.relu(np.array([-1.0, 0.5, 2.0]))))
        [0.  0.5 2. ]

        On a symbolic tensor it adds a node to the graph:

        >>> x = graphnet.Input(shape=(3,))
        >>> ops.relu(x).shape
        (None, 3)
    """
    return jax.nn.relu(x)


@_op
def relu6(x):
    """Keras `ops.relu6`: `min(max(x, 0), 6)`.

    Examples:
        >>> print(np.asarray(ops.relu6(np.array([-1.0, 3.0, 8.0]))))
        [0. 3. 6.]
    """
    return jax.nn.relu6(x)


@_op
def sigmoid(x):
    """Keras `ops.sigmoid`: `1 / (1 + exp(-x))`.

    Examples:
        >>> print(np.asarray(ops.sigmoid(np.array([0.0, 2.0]))).round(3))
        [0.5   0.881]
    """
    return jax.nn.sigmoid(x)


@_op
def log_sigmoid(x):
    """Keras `ops.log_sigmoid`: `log(sigmoid(x))`, computed without overflow.

    Examples:
        Finite far below 0, where `log(sigmoid(x))` would take the log of 0:

        >>> print(np.asarray(ops.log_sigmoid(np.array([0.0, -200.0]))).round(3))
        [  -0.693 -200.   ]
    """
    return jax.nn.log_sigmoid(x)


@_op
def hard_sigmoid(x):
    """Keras `ops.hard_sigmoid`: `relu6(x + 3) / 6`, a piecewise-linear sigmoid.

    Examples:
        >>> print(np.asarray(ops.hard_sigmoid(np.array([-4.0, 0.0, 1.5, 4.0]))))
        [0.   0.5  0.75 1.  ]
    """
    return jax.nn.hard_sigmoid(x)


@_op
def hard_silu(x):
    """Keras `ops.hard_silu` (alias `hard_swish`): `x * hard_sigmoid(x)`.

    Examples:
        >>> print(np.asarray(ops.hard_silu(np.array([0.0, 1.5, 4.0]))))
        [0.    1.125 4.   ]
    """
    return jax.nn.hard_silu(x)


hard_swish = hard_silu


@_op
def softplus(x):
    """Keras `ops.softplus`: `log(1 + exp(x))`.

    Examples:
        >>> print(np.asarray(ops.softplus(np.array([0.0, 1.0]))).round(3))
        [0.693 1.313]
    """
    return jax.nn.softplus(x)


@_op
def softsign(x):
    """Keras `ops.softsign`: `x / (1 + |x|)`.

    Examples:
        >>> print(np.asarray(ops.softsign(np.array([-3.0, 1.0]))))
        [-0.75  0.5 ]
    """
    return jax.nn.soft_sign(x)


@_op
def silu(x):
    """Keras `ops.silu` (alias `swish`): `x * sigmoid(x)`.

    Examples:
        >>> print(np.asarray(ops.silu(np.array([0.0, 1.0]))).round(3))
        [0.    0.731]
    """
    return jax.nn.silu(x)


swish = silu


@_op
def gelu(x, approximate=True):
    """Keras `ops.gelu`: the Gaussian error linear unit, its tanh approximation by default (as
    Keras).

    Args:
        x: the input array.
        approximate: True (the default): `0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x**3)))`;
            False: the exact `x * Phi(x)`, `Phi` the standard normal CDF. The two differ by
            less than 1e-3.

    Examples:
        >>> print(np.asarray(ops.gelu(np.array([-1.0, 0.0, 1.0]))).round(3))
        [-0.159  0.     0.841]
    """
    return jax.nn.gelu(x, approximate=approximate)


@_op
def elu(x, alpha=1.0):
    """Keras `ops.elu`: `x` where positive, else `alpha * (exp(x) - 1)`.

    Args:
        x: the input array.
        alpha: the result tends to `-alpha` as `x` goes to minus infinity.

    Examples:
        >>> print(np.asarray(ops.elu(np.array([-1.0, 2.0]))).round(3))
        [-0.632  2.   ]
    """
    return jax.nn.elu(x, alpha)


@_op
def selu(x):
    """Keras `ops.selu`: the scaled ELU of self-normalizing networks.

    `scale * elu(x, alpha)` with the fixed `scale = 1.0507...` and `alpha = 1.6733...`.

    Examples:
        >>> print(np.asarray(ops.selu(np.array([-1.0, 1.0]))).round(3))
        [-1.111  1.051]
    """
    return jax.nn.selu(x)


@_op
def leaky_relu(x, negative_slope=0.2):
    """Keras `ops.leaky_relu`: `x` where positive, else `negative_slope * x` (0.2 by default, as
    Keras).

    Args:
        x: the input array.
        negative_slope: the slope below 0.

    Examples:
        >>> print(np.asarray(ops.leaky_relu(np.array([-2.0, 3.0]))))
        [-0.4  3. ]
        >>> print(np.asarray(ops.leaky_relu(np.array([-2.0, 3.0]), negative_slope=0.1)))
        [-0.2  3. ]
    """
    return jax.nn.leaky_relu(x, negative_slope)


@_op
def celu(x, alpha=1.0):
    """Keras `ops.celu`: `x` where positive, else `alpha * (exp(x / alpha) - 1)`.

    Unlike `elu`, its slope is continuous at 0 for every `alpha`.

    Args:
        x: the input array.
        alpha: the result tends to `-alpha` as `x` goes to minus infinity.

    Examples:
        >>> print(np.asarray(ops.celu(np.array([-1.0, 2.0]), alpha=2.0)).round(3))
        [-0.787  2.   ]
    """
    return jax.nn.celu(x, alpha)


@_op
def glu(x, axis=-1):
    """Keras `ops.glu`: the first half of `axis` times the sigmoid of the second half.

    Args:
        x: the input array; its size along `axis` must be even.
        axis: the axis split in two halves.

    Returns:
        An array of `x`'s shape with `axis` halved.

    Examples:
        >>> print(np.asarray(ops.glu(np.array([1.0, 2.0, 0.0, 0.0]))))
        [0.5 1. ]
    """
    return jax.nn.glu(x, axis=axis)


@_op
def hard_tanh(x):
    """Keras `ops.hard_tanh`: `clip(x, -1, 1)`.

    Examples:
        >>> print(np.asarray(ops.hard_tanh(np.array([-2.0, 0.5, 3.0]))))
        [-1.   0.5  1. ]
    """
    return jax.nn.hard_tanh(x)


@_op
def hard_shrink(x, threshold=0.5):
    """Keras `ops.hard_shrink`: `x` where `|x| > threshold`, else 0.

    Args:
        x: the input array.
        threshold: entries with `|x|` up to this become 0.

    Examples:
        >>> print(np.asarray(ops.hard_shrink(np.array([-1.0, 0.3, 0.7]))))
        [-1.   0.   0.7]
    """
    return jnp.where(jnp.abs(x) > threshold, x, 0.0)


@_op
def soft_shrink(x, threshold=0.5):
    """Keras `ops.soft_shrink`: `x` moved `threshold` towards 0, 0 within the threshold.

    Args:
        x: the input array.
        threshold: how far every entry moves towards 0 (entries within it become 0).

    Examples:
        >>> print(np.asarray(ops.soft_shrink(np.array([-1.0, 0.3, 0.7]))).round(3))
        [-0.5  0.   0.2]
    """
    return jnp.where(x > threshold, x - threshold, jnp.where(x < -threshold, x + threshold,
                                                             0.0))


@_op
def tanh_shrink(x):
    """Keras `ops.tanh_shrink`: `x - tanh(x)`.

    Examples:
        >>> print(np.asarray(ops.tanh_shrink(np.array([0.0, 1.0]))).round(3))
        [0.    0.238]
    """
    return x - jnp.tanh(x)


@_op
def threshold(x, threshold, default_value):
    """Keras `ops.threshold`: `x` where `x > threshold`, else `default_value`.

    Args:
        x: the input array.
        threshold: entries up to this value are replaced.
        default_value: what replaces them.

    Examples:
        >>> print(np.asarray(ops.threshold(np.array([-1.0, 0.5, 2.0]), 1.0, 0.0)))
        [0. 0. 2.]
    """
    return jnp.where(x > threshold, x, default_value)


@_op
def sparse_plus(x):
    """Keras `ops.sparse_plus`: 0 below -1, `(x + 1)**2 / 4` on [-1, 1], `x` above 1.

    Examples:
        >>> print(np.asarray(ops.sparse_plus(np.array([-2.0, 0.0, 2.0]))))
        [0.   0.25 2.  ]
    """
    return jax.nn.sparse_plus(x)


@_op
def sparse_sigmoid(x):
    """Keras `ops.sparse_sigmoid`: 0 below -1, `(x + 1) / 2` on [-1, 1], 1 above.

    Examples:
        >>> print(np.asarray(ops.sparse_sigmoid(np.array([-2.0, 0.0, 0.5, 2.0]))))
        [0.   0.5  0.75 1.  ]
    """
    return jax.nn.sparse_sigmoid(x)


@_op
def squareplus(x, b=4):
    """Keras `ops.squareplus`: `(x + sqrt(x**2 + b)) / 2`, a smooth ReLU.

    Args:
        x: the input array.
        b: how smooth the bend at 0 is; the value at 0 is `sqrt(b) / 2`.

    Examples:
        >>> print(np.asarray(ops.squareplus(np.array([0.0, 3.0]))).round(3))
        [1.    3.303]
    """
    return jax.nn.squareplus(x, b)


@_op
def sparsemax(x, axis=-1):
    """Keras `ops.sparsemax`: the Euclidean projection of `x` on the simplex along `axis`
    (a softmax whose small entries are exactly 0).

    Trap: the threshold subtracted is Keras 3's formula, which sums the running sums over the
    support where the projection sums the sorted entries. The two agree when one entry
    stays positive; when several would, the result (Keras's, matched here) is smaller than
    the projection and can be all zeros: `[1.0, 1.5, -1.0]` gives `[0, 0, 0]`, not
    `[0.25, 0.75, 0]`.

    Args:
        x: the input array (float).
        axis: the axis projected.

    Examples:
        >>> print(np.asarray(ops.sparsemax(np.array([0.0, 2.0, 0.5]))))
        [0. 1. 0.]
    """
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
    """Keras `ops.softmax`: `exp(x) / sum(exp(x))` over `axis`.

    Args:
        x: the input array (logits).
        axis: the axis whose entries become probabilities summing to 1.

    Examples:
        >>> print(np.asarray(ops.softmax(np.log(np.array([1.0, 3.0, 4.0])))).round(3))
        [0.125 0.375 0.5  ]
    """
    return jax.nn.softmax(x, axis=axis)


@_op
def log_softmax(x, axis=-1):
    """Keras `ops.log_softmax`: `log(softmax(x))` over `axis`, computed without overflow.

    Args:
        x: the input array (logits).
        axis: the axis normalized.

    Examples:
        >>> print(np.asarray(ops.log_softmax(np.array([0.0, 0.0]))).round(3))
        [-0.693 -0.693]
        >>> print(np.asarray(ops.log_softmax(np.array([0.0, 1000.0]))))
        [-1000.     0.]
    """
    return jax.nn.log_softmax(x, axis=axis)


__all__ = public_names(globals(), __name__)
