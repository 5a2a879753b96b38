"""Shared numerics for the layers: one convolution for every rank, one pooling.

Both take channels-last inputs `(batch, *spatial, channels)` and explicit per-axis
padding pairs, computed once from Keras's `padding` string by `conv_padding`.
"""
import functools
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

_SPATIAL = "DHW"


@functools.lru_cache(maxsize=None)
def _dimension_numbers(rank: int):
    """NHWC / HWIO / NHWC for `rank` spatial axes (NWC for 1, NDHWC for 3)."""
    if not 1 <= rank <= 3:
        raise ValueError(f"convolutions have 1 to 3 spatial axes, received {rank}")
    spatial = _SPATIAL[-rank:]
    return lax.conv_dimension_numbers((1,) * (rank + 2), (1,) * (rank + 2),
                                      (f"N{spatial}C", f"{spatial}IO", f"N{spatial}C"))


def standard_padding(padding, who, allowed=("valid", "same", "causal")):
    """Keras's `padding` string in lower case, as Keras reads it ("SAME" is "same").

    Anything else is a ValueError naming `who`: an unknown string must never run as another
    padding.
    """
    if isinstance(padding, str) and padding.lower() in allowed:
        return padding.lower()
    raise ValueError(f"{who}: padding must be one of {', '.join(map(repr, allowed))} (in any "
                     f"case), received {padding!r}")


def channels_last_only(data_format, who):
    """Keras's `data_format` (None, or either layout in any case) where only channels-last is
    computed: "channels_first" is a NotImplementedError, anything else a ValueError."""
    if data_format is None or str(data_format).lower() == "channels_last":
        return "channels_last"
    if str(data_format).lower() == "channels_first":
        raise NotImplementedError(f"{who}: data_format='channels_first' is not supported, only "
                                  f"'channels_last' (move the channels last with ops.moveaxis)")
    raise ValueError(f"{who}: data_format must be 'channels_last' or 'channels_first', "
                     f"received {data_format!r}")


def conv_output_length(size, kernel, stride, dilation, padding):
    """Keras's output length of one spatial axis (None stays None)."""
    if size is None:
        return None
    span = (kernel - 1) * dilation + 1
    if standard_padding(padding, "conv_output_length") in ("same", "causal"):
        return -(-size // stride)
    return max((size - span) // stride + 1, 0)


def conv_padding(sizes, kernel, strides, dilation, padding):
    """Keras `padding` ("valid", "same", "causal") as explicit (low, high) pairs per axis.

    "same" puts the odd element on the high side, as TF/XLA's SAME does (Keras matches it).
    """
    padding = standard_padding(padding, "conv_padding")
    pairs = []
    for size, k, s, d in zip(sizes, kernel, strides, dilation):
        span = (k - 1) * d + 1
        if padding == "valid":
            pairs.append((0, 0))
        elif padding == "causal":
            pairs.append((span - 1, 0))
        else:
            out = -(-size // s)
            total = max((out - 1) * s + span - size, 0)
            pairs.append((total // 2, total - total // 2))
    return tuple(pairs)


def _plain_conv(x, kernel, strides, padding, lhs_dilation, rhs_dilation, groups):
    rank = x.ndim - 2
    return lax.conv_general_dilated(
        x, kernel, window_strides=strides, padding=padding, lhs_dilation=lhs_dilation,
        rhs_dilation=rhs_dilation, dimension_numbers=_dimension_numbers(rank),
        feature_group_count=groups)


@functools.partial(jax.custom_vjp, nondiff_argnums=(2, 3, 4, 5, 6))
def _conv(x, kernel, strides, padding, lhs_dilation, rhs_dilation, groups):
    return _plain_conv(x, kernel, strides, padding, lhs_dilation, rhs_dilation, groups)


def _conv_fwd(x, kernel, strides, padding, lhs_dilation, rhs_dilation, groups):
    y = _plain_conv(x, kernel, strides, padding, lhs_dilation, rhs_dilation, groups)
    return y, (x, kernel)


def _conv_bwd(strides, padding, lhs_dilation, rhs_dilation, groups, res, g):
    """Both gradients as channels-last convolutions (jax-ml/jax#12868).

    Inside a while loop XLA:CPU leaves the kernel gradient that `jax.grad` emits in a
    non-canonical layout and runs it 14-31x slower. Here the kernel gradient is a
    NHWC/HWIO convolution of the input (channels as batch, batch as features) with the
    output gradient as kernel, and the input gradient is a convolution of the
    (stride-dilated) output gradient with the flipped kernel. Same values as jax.grad.
    """
    x, kernel = res
    rank = x.ndim - 2
    batch, c_in = x.shape[0], x.shape[-1]
    k_sizes, c_out = kernel.shape[:rank], kernel.shape[-1]
    c_group, out_group = c_in // groups, c_out // groups
    out_sizes = g.shape[1:-1]
    if 0 in out_sizes:   # an empty output: no window reaches the input, nothing flows back
        return jnp.zeros_like(x), jnp.zeros_like(kernel)

    # Spare input the windows never reach (valid padding, strides): cut from the high pad.
    extents = [(n - 1) * ld + 1 + lo + hi for n, ld, (lo, hi) in zip(x.shape[1:-1], lhs_dilation, padding)]
    spares = [e - ((o - 1) * s + (k - 1) * d + 1)
              for e, o, s, k, d in zip(extents, out_sizes, strides, k_sizes, rhs_dilation)]

    # Kernel gradient: lhs (c_group, *spatial, groups * batch), rhs (*out, batch, c_out).
    lhs = x.reshape(batch, *x.shape[1:-1], groups, c_group)
    lhs = jnp.moveaxis(lhs, (0, rank + 2), (rank + 2, 0)).reshape(c_group, *x.shape[1:-1], groups * batch)
    rhs = jnp.moveaxis(g, 0, rank)
    dk = _plain_conv(lhs, rhs, rhs_dilation,
                     tuple((lo, hi - sp) for (lo, hi), sp in zip(padding, spares)),
                     lhs_dilation, strides, groups)
    dk = jnp.moveaxis(dk, 0, rank)

    # Input gradient: the output gradient, dilated by the strides, against the flipped kernel.
    flipped = flip_spatial(kernel).reshape(*k_sizes, c_group, groups, out_group)
    flipped = jnp.swapaxes(flipped, rank, rank + 2).reshape(*k_sizes, out_group, groups * c_group)
    spans = [(k - 1) * d for k, d in zip(k_sizes, rhs_dilation)]
    dx = _plain_conv(g, flipped, lhs_dilation,
                     tuple((sp - lo, sp - hi + spare)
                           for sp, (lo, hi), spare in zip(spans, padding, spares)),
                     strides, rhs_dilation, groups)
    return dx, dk


_conv.defvjp(_conv_fwd, _conv_bwd)


def as_tuple(value, rank):
    """`value` as a `rank`-tuple: an int repeated, a sequence as it is."""
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank


def conv(x, kernel, strides=1, padding="valid", dilation_rate=1, lhs_dilation=1, groups=1):
    """N-D channels-last convolution: x (batch, *spatial, in), kernel (*k, in // groups, out).

    `padding` is Keras's string or explicit (low, high) pairs. Its gradients are
    canonical convolutions, so it stays fast inside `lax.scan` on CPU (see `_conv_bwd`).
    Reverse-mode only: `jax.jvp` of it is not defined (custom_vjp).
    """
    rank = x.ndim - 2
    strides, dilation = as_tuple(strides, rank), as_tuple(dilation_rate, rank)
    lhs_dilation = as_tuple(lhs_dilation, rank)
    if isinstance(padding, str):
        padding = conv_padding(x.shape[1:-1], kernel.shape[:rank], strides, dilation, padding)
    padding = tuple((int(lo), int(hi)) for lo, hi in padding)
    return _conv(x, kernel, strides, padding, lhs_dilation, dilation, int(groups))


def transpose_pads(kernel, stride, dilation, padding, output_padding=None):
    """Keras's (low, high) padding of the stride-dilated input on one axis of a transposed
    convolution (kernel size `kernel`), giving Keras's output length."""
    span = (kernel - 1) * dilation + 1
    if standard_padding(padding, "ops.conv_transpose", ("valid", "same")) == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return span - 1, span - 1 + extra
    total = (stride + span - 2 if output_padding is None
             else span + span % 2 - 2 + output_padding)
    low = min(total // 2 + total % 2, span - 1)
    return low, total - low


def conv_transpose(x, kernel, strides, padding, output_padding=None, dilation_rate=1):
    """The transpose of `conv` for kernel (*k, out, in) (Keras's ConvTranspose layout): a
    convolution of the stride-dilated input with the flipped kernel, as `lax.conv_transpose`
    computes it, sharing `conv`'s fast gradients."""
    rank = x.ndim - 2
    strides, dilation = as_tuple(strides, rank), as_tuple(dilation_rate, rank)
    extra = (None,) * rank if output_padding is None else as_tuple(output_padding, rank)
    pads = tuple(transpose_pads(kernel.shape[i], strides[i], dilation[i], padding, extra[i])
                 for i in range(rank))
    return conv(x, flip_spatial(kernel).swapaxes(-1, -2), 1, pads, dilation,
                lhs_dilation=strides)


def flip_spatial(kernel):
    """A kernel (*spatial, in, out) reversed along its spatial axes."""
    return jnp.flip(kernel, tuple(range(kernel.ndim - 2)))


def pool(x, pool_size, strides, padding, kind):
    """Max or average pooling over the spatial axes of (batch, *spatial, channels).

    Average pooling with "same" padding divides by the number of real (unpadded)
    elements in each window, as Keras does.
    """
    rank = x.ndim - 2
    padding = standard_padding(padding, f"{kind}_pool", ("valid", "same"))
    window = (1, *pool_size, 1)
    steps = (1, *strides, 1)
    pads = ((0, 0), *conv_padding(x.shape[1:-1], pool_size, strides, (1,) * rank, padding), (0, 0))
    # NumPy (concrete) init values: JAX recognizes max/add windows only then, and only
    # those have gradients.
    if kind == "max":
        init = np.array(-np.inf, x.dtype)
        return lax.reduce_window(x, init, lax.max, window, steps, pads)
    zero = np.array(0, x.dtype)
    total = lax.reduce_window(x, zero, lax.add, window, steps, pads)
    if padding == "valid":
        return total / jnp.array(math.prod(pool_size), x.dtype)
    ones = jnp.ones((1, *x.shape[1:-1], 1), x.dtype)
    counts = lax.reduce_window(ones, zero, lax.add, window, steps, pads)
    return total / counts
