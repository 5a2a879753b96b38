"""Keras's NumPy-named ops beyond the first table: NaN-aware reductions, windows, bit shifts,
splits, rounding of angles, counting and the few ops whose dtype rule is Keras's own."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .recording import op as _op
from .recording import public_names, same

_FLOATX = jnp.float32     # Keras's default float type (`keras.config.floatx()`)

# ops that are exactly the `jax.numpy` function of the same meaning
_SAME = {
    "bitwise_invert": jnp.bitwise_invert, "bitwise_left_shift": jnp.bitwise_left_shift,
    "bitwise_right_shift": jnp.bitwise_right_shift, "left_shift": jnp.left_shift,
    "right_shift": jnp.right_shift, "cbrt": jnp.cbrt, "deg2rad": jnp.deg2rad,
    "rad2deg": jnp.rad2deg, "fabs": jnp.fabs, "fmax": jnp.fmax, "fmin": jnp.fmin,
    "fmod": jnp.fmod, "gcd": jnp.gcd, "lcm": jnp.lcm, "nextafter": jnp.nextafter,
    "signbit": jnp.signbit, "isneginf": jnp.isneginf, "isposinf": jnp.isposinf,
    "isreal": jnp.isreal, "copy": jnp.copy, "corrcoef": jnp.corrcoef,
    "correlate": jnp.correlate, "diagflat": jnp.diagflat, "dstack": jnp.dstack,
    "dsplit": jnp.dsplit, "hsplit": jnp.hsplit, "vsplit": jnp.vsplit, "fliplr": jnp.fliplr,
    "flipud": jnp.flipud, "isin": jnp.isin, "geomspace": jnp.geomspace,
    "nanargmax": jnp.nanargmax, "nanargmin": jnp.nanargmin, "nanmax": jnp.nanmax,
    "nanmin": jnp.nanmin, "nanmean": jnp.nanmean, "nanmedian": jnp.nanmedian,
    "nanprod": jnp.nanprod, "nanstd": jnp.nanstd, "nansum": jnp.nansum, "nanvar": jnp.nanvar,
    "nancumsum": jnp.nancumsum, "nancumprod": jnp.nancumprod, "ptp": jnp.ptp,
    "percentile": jnp.percentile, "nanpercentile": jnp.nanpercentile,
    "nanquantile": jnp.nanquantile, "select": jnp.select, "trapezoid": jnp.trapezoid,
    "unravel_index": jnp.unravel_index, "vander": jnp.vander, "empty_like": jnp.empty_like,
    "array": jnp.array,
}
for _name, _fn in _SAME.items():
    globals()[_name] = same(_fn, _name)


def _float_of(x):
    """Keras's float type for `x`: float32 for int64 (its int default), else the promotion."""
    dtype = jnp.result_type(x)
    if dtype == jnp.int64 or not jnp.issubdtype(dtype, jnp.inexact):
        return _FLOATX
    return dtype


@_op
def angle(x):
    """Keras `ops.angle`: the argument of each complex entry (0 or pi for real ones).

    Integers give float32, as in Keras; complex64 gives float32.

    Examples:
        >>> z = np.array([1 + 1j, -1 + 0j, 2j], "complex64")
        >>> print(np.asarray(ops.angle(z)).round(3))      # pi/4, pi, pi/2
        [0.785 3.142 1.571]
        >>> print(np.asarray(ops.angle(np.array([-2.0, 3.0], "float32"))).round(3))
        [3.142 0.   ]
    """
    x = jnp.asarray(x)
    return jnp.angle(x.astype(_float_of(x)))


@_op
def sinc(x):
    """Keras `ops.sinc`: `sin(pi x) / (pi x)`, 1 at 0; integers give float32, as Keras.

    Examples:
        >>> print(np.asarray(ops.sinc(np.array([0.0, 0.5], "float32"))).round(3))  # 1, 2/pi
        [1.    0.637]
        >>> ops.sinc(np.array([0, 1])).dtype
        dtype('float32')
        >>> ops.sinc(graphnet.Input(shape=(3,))).shape      # a graph node
        (None, 3)
    """
    x = jnp.asarray(x)
    return jnp.sinc(x.astype(_float_of(x)))


@_op
def i0(x):
    """Keras `ops.i0`: the modified Bessel function of the first kind, order 0.

    float16, bfloat16 and float64 keep their type; anything else computes in float32.

    Examples:
        >>> print(np.asarray(ops.i0(np.array([0.0, 1.0], "float32"))).round(3))
        [1.    1.266]
    """
    x = jnp.asarray(x)
    dtype = jnp.result_type(x)
    if dtype not in (jnp.bfloat16, jnp.float16, jnp.float64):
        dtype = _FLOATX
    return jnp.i0(x.astype(dtype))


@_op
def logaddexp(x1, x2):
    """Keras `ops.logaddexp`: `log(exp(x1) + exp(x2))` without overflow, in a float type.

    Args:
        x1: an array.
        x2: an array broadcastable with `x1`; integers on both sides give float32.

    Examples:
        >>> print(np.asarray(ops.logaddexp(np.float32(0.0), np.float32(0.0))).round(3))  # log 2
        0.693
        >>> print(np.asarray(ops.logaddexp(np.float32(1000.0), np.float32(1000.0))).round(3))
        1000.693
    """
    dtype = _float_of(jnp.result_type(x1, x2))
    return jnp.logaddexp(jnp.asarray(x1, dtype), jnp.asarray(x2, dtype))


@_op
def logaddexp2(x1, x2):
    """Keras `ops.logaddexp2`: `log2(2**x1 + 2**x2)` without overflow, in a float type.

    Args:
        x1: an array.
        x2: an array broadcastable with `x1`; integers on both sides give float32.

    Examples:
        >>> x = np.array([1.0, 3.0], "float32")
        >>> print(np.asarray(ops.logaddexp2(x, x)))      # log2(2 + 2), log2(8 + 8)
        [2. 4.]
    """
    dtype = _float_of(jnp.result_type(x1, x2))
    return jnp.logaddexp2(jnp.asarray(x1, dtype), jnp.asarray(x2, dtype))


@_op
def ldexp(x1, x2):
    """Keras `ops.ldexp`: `x1 * 2**x2`; the exponent must be an integer, as in Keras.

    Args:
        x1: the mantissas, an array.
        x2: the exponents, an integer array broadcastable with `x1`.

    Raises:
        TypeError: `x2` has no integer dtype.

    Examples:
        >>> print(np.asarray(ops.ldexp(np.array([1.0, 3.0], "float32"), np.array([3, -1]))))
        [8.  1.5]
    """
    if not jnp.issubdtype(jnp.result_type(x2), jnp.integer):
        raise TypeError(f"ops.ldexp: the exponent x2 must have an integer dtype, received "
                        f"{jnp.result_type(x2)}")
    return jnp.ldexp(x1, x2)


@_op
def divide_no_nan(x1, x2):
    """Keras `ops.divide_no_nan`: `x1 / x2`, and 0 wherever `x2` is 0 (no NaN or inf).

    The gradient is finite too: the division never sees a zero denominator.

    Args:
        x1: the numerators.
        x2: the denominators, broadcastable with `x1`.

    Examples:
        >>> x1, x2 = np.array([1.0, 2.0, 0.0], "float32"), np.array([2.0, 0.0, 0.0], "float32")
        >>> print(np.asarray(ops.divide_no_nan(x1, x2)))
        [0.5 0.  0. ]
    """
    x1, x2 = jnp.asarray(x1), jnp.asarray(x2)
    zero = x2 == 0
    return jnp.where(zero, 0, jnp.divide(x1, jnp.where(zero, 1, x2)))


@_op
def bartlett(x):
    """Keras `ops.bartlett`: the triangular window of `x` points (float32), 0 at both ends
    and 1 in the middle.

    Args:
        x: the number of points, an integer.

    Examples:
        >>> print(np.asarray(ops.bartlett(5)))
        [0.  0.5 1.  0.5 0. ]
    """
    return jnp.bartlett(x).astype(_FLOATX)


@_op
def blackman(x):
    """Keras `ops.blackman`: the Blackman window of `x` points (float32):
    `0.42 - 0.5 cos(2 pi n / (x - 1)) + 0.08 cos(4 pi n / (x - 1))`.

    Args:
        x: the number of points, an integer.

    Examples:
        >>> print(np.asarray(ops.blackman(5))[1:4].round(3))   # the ends are 0
        [0.34 1.   0.34]
    """
    return jnp.blackman(x).astype(_FLOATX)


@_op
def hamming(x):
    """Keras `ops.hamming`: the Hamming window of `x` points (float32):
    `0.54 - 0.46 cos(2 pi n / (x - 1))`.

    Args:
        x: the number of points, an integer.

    Examples:
        >>> print(np.asarray(ops.hamming(5)).round(3))
        [0.08 0.54 1.   0.54 0.08]
    """
    return jnp.hamming(x).astype(_FLOATX)


@_op
def hanning(x):
    """Keras `ops.hanning`: the Hann window of `x` points (float32):
    `0.5 - 0.5 cos(2 pi n / (x - 1))`.

    Args:
        x: the number of points, an integer.

    Examples:
        >>> print(np.asarray(ops.hanning(5)).round(3))
        [0.  0.5 1.  0.5 0. ]
    """
    return jnp.hanning(x).astype(_FLOATX)


@_op
def kaiser(x, beta):
    """Keras `ops.kaiser`: the Kaiser window of `x` points and shape `beta` (float32).

    Args:
        x: the number of points, an integer.
        beta: the shape: 0 is the rectangular window; larger values taper more.

    Examples:
        >>> window = ops.kaiser(4, 0.0)
        >>> print(np.asarray(window), window.dtype)
        [1. 1. 1. 1.] float32
    """
    return jnp.kaiser(x, beta).astype(_FLOATX)


@_op
def argpartition(x, kth, axis=-1):
    """Keras `ops.argpartition`: indices that put the `kth` entry in its sorted place, smaller
    ones before it (`axis=None`: of the flattened array).

    The order within each side is unspecified.

    Args:
        x: the array to partition.
        kth: the position (in sorted order) that the indices put right.
        axis: the axis to partition along; None partitions the flattened array.

    Examples:
        >>> x = np.array([3, 1, 2, 0])
        >>> idx = np.asarray(ops.argpartition(x, 1))
        >>> print(x[idx][:2])          # the two smallest, the second in its place
        [0 1]
    """
    if axis is None:
        return jnp.argpartition(jnp.ravel(x), kth, axis=0)
    return jnp.argpartition(x, kth, axis=axis)


@_op
def rot90(array, k=1, axes=(0, 1)):
    """Keras `ops.rot90`: `array` turned `k` quarter turns in the plane of `axes`.

    Args:
        array: an array of at least 2 axes.
        k: the number of quarter turns, counterclockwise (negative: clockwise).
        axes: the two axes of the plane. The default includes the first axis, which on a
            symbolic tensor is the batch: pass `axes=(1, 2)` to turn each sample.

    Raises:
        ValueError: `array` has fewer than 2 axes, or `axes` are not two different axes.

    Examples:
        >>> a = np.array([[1, 2], [3, 4]])
        >>> print(np.asarray(ops.rot90(a)))
        [[2 4]
         [1 3]]
        >>> ops.rot90(graphnet.Input(shape=(2, 3)), axes=(1, 2)).shape
        (None, 3, 2)
    """
    if jnp.ndim(array) < 2:
        raise ValueError(f"ops.rot90: the array must have at least 2 axes, received shape "
                         f"{jnp.shape(array)}")
    if len(axes) != 2 or axes[0] == axes[1]:
        raise ValueError(f"ops.rot90: axes must be two different axes, received {axes}")
    return jnp.rot90(array, k=k, axes=axes)


@_op
def view(x, dtype=None):
    """Keras `ops.view`: the same bytes read as `dtype` (the last axis rescaled).

    Args:
        x: an array.
        dtype: the dtype to read the bytes as; None keeps `x`'s. A narrower dtype lengthens
            the last axis, a wider one shortens it (its length must divide evenly).

    Examples:
        >>> print(np.asarray(ops.view(np.array([1.0], "float32"), "int32")))  # 0x3F800000
        [1065353216]
        >>> ops.view(np.zeros((2, 4), "uint8"), "int32").shape
        (2, 1)
    """
    return jnp.asarray(x).view(dtype)


def _limits(dtype):
    if dtype == np.bool_:
        return 0, 1
    info = jnp.iinfo(dtype) if jnp.issubdtype(dtype, jnp.integer) else jnp.finfo(dtype)
    return info.min, info.max


@_op
def saturate_cast(x, dtype):
    """Keras `ops.saturate_cast`: `x` cast to `dtype`, clipped to its range first, so an
    out-of-range value saturates instead of wrapping (and inf becomes the largest value).

    Args:
        x: an array.
        dtype: the target dtype (a name or a NumPy dtype).

    Examples:
        >>> x = np.array([-5.0, 100.0, 300.0, np.inf], "float32")
        >>> print(np.asarray(ops.saturate_cast(x, "uint8")))   # a plain cast would wrap
        [  0 100 255 255]
    """
    x = jnp.asarray(x)
    dtype = np.dtype(dtype)
    (in_lo, in_hi), (out_lo, out_hi) = _limits(x.dtype), _limits(dtype)
    # a bound of the target type may round past it in x's type: step back inside
    low = np.asarray(max(in_lo, out_lo)).astype(x.dtype)
    if low < out_lo:
        low = np.nextafter(low, np.zeros((), x.dtype))
    high = np.asarray(min(in_hi, out_hi)).astype(x.dtype)
    if high > out_hi:
        high = np.nextafter(high, np.zeros((), x.dtype))
    return jnp.clip(x, low, high).astype(dtype)


def empty(shape, dtype=None):
    """Keras `ops.empty`: an array of `shape` (float32 by default); JAX fills it with zeros.

    Args:
        shape: the shape, a tuple of integers.
        dtype: the dtype; None is float32.

    Examples:
        >>> e = ops.empty((2, 3))
        >>> e.shape, e.dtype
        ((2, 3), dtype('float32'))
    """
    return jnp.empty(shape, dtype=dtype or _FLOATX)


def bincount(x, weights=None, minlength=0, sparse=False):
    """Keras `ops.bincount`: per value in `[0, max(x)]`, its count (or summed `weights`); a 2-D
    `x` counts each row. Arrays only: the length depends on the values, so it cannot be a
    graph node (call it inside a layer's `call` on concrete values, or give `minlength`).

    Args:
        x: non-negative integers, 1-D, or 2-D to count each row.
        weights: an array of `x`'s shape: each entry adds its weight instead of 1.
        minlength: the least length of the result (zeros at the end).
        sparse: must be False: graphnet's arrays are dense.

    Returns:
        The counts, of length `max(max(x) + 1, minlength)` (one row per row of a 2-D `x`).

    Raises:
        NotImplementedError: `sparse=True`.

    Examples:
        >>> print(np.asarray(ops.bincount(np.array([0, 1, 1, 3]))))
        [1 2 0 1]
        >>> w = np.array([0.5, 1.0, 2.0, 1.0], "float32")
        >>> print(np.asarray(ops.bincount(np.array([0, 1, 1, 3]), weights=w)))
        [0.5 3.  0.  1. ]
    """
    if sparse:
        raise NotImplementedError("ops.bincount: sparse=True (a sparse result) is not "
                                  "supported; graphnet's arrays are dense")
    x = jnp.asarray(x)
    if x.ndim == 2:
        length = max(int(jnp.max(x)) + 1 if x.size else 0, minlength)
        rows = [jnp.bincount(r, weights=None if weights is None else w, length=length)
                for r, w in zip(x, x if weights is None else jnp.asarray(weights))]
        return jnp.stack(rows)
    return jnp.bincount(x, weights=weights, minlength=minlength)


def histogram(x, bins=10, range=None):
    """Keras `ops.histogram`: `(counts, bin_edges)` of `x` in `bins` equal bins over `range`
    (default: `x`'s minimum to maximum).

    Args:
        x: the values, a 1-D array.
        bins: the number of equal-width bins.
        range: `(low, high)`, the span the bins cover; values outside it are not counted.

    Returns:
        A pair `(counts, bin_edges)`: `counts` of shape `(bins,)`, `bin_edges` of shape
        `(bins + 1,)`. Each bin holds its left edge; the last holds both of its edges.

    Examples:
        >>> counts, edges = ops.histogram(np.array([0.0, 1.0, 1.5, 4.0], "float32"), bins=4)
        >>> print(np.asarray(counts), np.asarray(edges))
        [1. 2. 0. 1.] [0. 1. 2. 3. 4.]
    """
    return jnp.histogram(x, bins=bins, range=range)


@_op
def cdist(x, y):
    """Keras `ops.cdist`: the Euclidean distances between the rows of `x` and of `y`,
    shape `(..., len_x, len_y)`.

    Args:
        x: points `(..., n, d)`.
        y: points `(..., m, d)`, with `x`'s `d` and leading axes.

    Raises:
        ValueError: either has fewer than 2 axes, or their last axes differ.

    Examples:
        >>> x = np.array([[0.0, 0.0], [1.0, 1.0]], "float32")
        >>> print(np.asarray(ops.cdist(x, np.array([[3.0, 4.0]], "float32"))).round(3))
        [[5.   ]
         [3.606]]
        >>> ops.cdist(graphnet.Input(shape=(5, 2)), graphnet.Input(shape=(4, 2))).shape
        (None, 5, 4)
    """
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim < 2 or y.ndim < 2 or x.shape[-1] != y.shape[-1]:
        raise ValueError(f"ops.cdist: expects x (..., n, d) and y (..., m, d) with one d, "
                         f"received shapes {x.shape} and {y.shape}")
    diff = x[..., :, None, :] - y[..., None, :, :]
    return jnp.sqrt(jnp.sum(diff * diff, axis=-1))


__all__ = public_names(globals(), __name__) + list(_SAME)
