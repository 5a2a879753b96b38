"""Keras's convolution and pooling ops (`keras.ops.nn`), channels last: inputs
`(batch, *spatial, channels)` with 1 to 3 spatial axes, kernels `(*spatial, in, out)`."""
from __future__ import annotations

import jax.numpy as jnp

from .. import _conv
from ..layers.operation import OPS
from .recording import op as _op
from .recording import public_names


def _check(padding, data_format, who, paddings=("valid", "same", "causal")):
    """`padding` lower-cased as Keras reads it; a layout other than channels-last refused."""
    _conv.channels_last_only(data_format, f"ops.{who}")
    return _conv.standard_padding(padding, f"ops.{who}", paddings)


@_op
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """Channels-last N-D convolution, kernel `(*spatial, in, out)` (Keras layout).

    A cross-correlation, as in Keras: the kernel is not flipped. When `inputs` has more
    channels than the kernel's `in`, the channels are split into `channels // in` groups,
    each convolved with its share of the `out` filters.

    Args:
        inputs: `(batch, *spatial, channels)`, with 1, 2 or 3 spatial axes.
        kernel: `(*kernel_size, channels // groups, filters)`.
        strides: the step of the window on each spatial axis: an int for all, or one per
            axis.
        padding: "valid" (no padding: the output shrinks), "same" (zeros around, the odd one
            on the high side, so the output length is `ceil(length / strides)`), or
            "causal" (the zeros all before the start, so an output never sees a later
            input; Keras's layers take it, its op does not), in any case as Keras reads
            it ("SAME" is "same").
        data_format: None or "channels_last" (in any case); "channels_first" is not
            supported.
        dilation_rate: the spacing between the kernel's taps: an int or one per axis.

    Returns:
        `(batch, *output_spatial, filters)`.

    Raises:
        ValueError: `padding` is none of those strings, `data_format` names no layout,
            `inputs` has no spatial axis or more than 3, or the output would be empty (the
            input is smaller than the dilated kernel), as Keras refuses it.
        NotImplementedError: `data_format` is "channels_first".

    Examples:
        A 1-D input `[1, 2, 3]` (batch 1, one channel) against the kernel `[1, 10]`:

        >>> x = np.array([1.0, 2.0, 3.0]).reshape(1, 3, 1)
        >>> kernel = np.array([1.0, 10.0]).reshape(2, 1, 1)
        >>> print(np.asarray(ops.conv(x, kernel)).ravel())
        [21. 32.]
        >>> print(np.asarray(ops.conv(x, kernel, padding="same")).ravel())
        [21. 32.  3.]
        >>> print(np.asarray(ops.conv(x, kernel, padding="causal")).ravel())
        [10. 21. 32.]
        >>> ops.conv(np.ones((2, 8, 8, 3)), np.ones((3, 3, 3, 16)), strides=2).shape
        (2, 3, 3, 16)

        On a symbolic tensor it adds a node to the graph:

        >>> ops.conv(graphnet.Input(shape=(8, 3)), np.ones((3, 3, 4), "float32")).shape
        (None, 6, 4)
    """
    padding = _check(padding, data_format, "conv")
    groups = jnp.shape(inputs)[-1] // jnp.shape(kernel)[-2]
    y = _conv.conv(inputs, kernel, strides, padding, dilation_rate, groups=groups)
    if y.size == 0 and jnp.size(inputs) != 0:
        raise ValueError(f"ops.conv: the output is empty, shape {y.shape}: the input "
                         f"{jnp.shape(inputs)} is too small for the kernel "
                         f"{jnp.shape(kernel)[:-2]} with strides={strides}, "
                         f"dilation_rate={dilation_rate} and padding={padding!r}")
    return y


@_op
def depthwise_conv(inputs, kernel, strides=1, padding="valid", data_format=None,
                   dilation_rate=1):
    """Kernel `(*spatial, in, multiplier)`, as Keras's DepthwiseConv.

    Each input channel is convolved on its own with `multiplier` filters; output channel
    `c * multiplier + m` is input channel `c` through filter `m`.

    Args:
        inputs: `(batch, *spatial, channels)`, with 1, 2 or 3 spatial axes.
        kernel: `(*kernel_size, channels, multiplier)`.
        strides: the step of the window: an int for all spatial axes, or one per axis.
        padding: "valid", "same" or "causal", as in `conv`.
        data_format: None or "channels_last" (in any case); "channels_first" is not
            supported.
        dilation_rate: the spacing between the kernel's taps: an int or one per axis.

    Returns:
        `(batch, *output_spatial, channels * multiplier)`.

    Raises:
        ValueError: `padding` is none of those strings, or `data_format` names no layout.
        NotImplementedError: `data_format` is "channels_first".

    Examples:
        Two channels, each summed over windows of 2:

        >>> x = np.array([[1.0, 10.0], [2.0, 20.0], [3.0, 30.0]]).reshape(1, 3, 2)
        >>> print(np.asarray(ops.depthwise_conv(x, np.ones((2, 2, 1))))[0])
        [[ 3. 30.]
         [ 5. 50.]]
    """
    padding = _check(padding, data_format, "depthwise_conv")
    k = jnp.reshape(kernel, (*kernel.shape[:-2], 1, kernel.shape[-2] * kernel.shape[-1]))
    return _conv.conv(inputs, k, strides, padding, dilation_rate, groups=kernel.shape[-2])


@_op
def separable_conv(inputs, depthwise_kernel, pointwise_kernel, strides=1, padding="valid",
                   data_format=None, dilation_rate=1):
    """Keras `ops.separable_conv`: a depthwise convolution, then a 1x1 pointwise one (channels
    last).

    Args:
        inputs: `(batch, *spatial, channels)`, with 1, 2 or 3 spatial axes.
        depthwise_kernel: `(*kernel_size, channels, multiplier)`, as in `depthwise_conv`.
        pointwise_kernel: `(*ones, channels * multiplier, filters)`, a kernel of size 1 on
            every spatial axis.
        strides: the depthwise step: an int for all spatial axes, or one per axis.
        padding: the depthwise padding, "valid", "same" or "causal", as in `conv`.
        data_format: None or "channels_last" (in any case); "channels_first" is not
            supported.
        dilation_rate: the depthwise spacing between taps: an int or one per axis.

    Returns:
        `(batch, *output_spatial, filters)`.

    Raises:
        ValueError: `padding` is none of those strings, or `data_format` names no layout.
        NotImplementedError: `data_format` is "channels_first".

    Examples:
        Each of the 3 channels summed over 3x3 windows (twice, multiplier 2), then the 6
        sums added by each of 4 filters: 6 * 9 = 54.

        >>> y = ops.separable_conv(np.ones((1, 5, 5, 3)), np.ones((3, 3, 3, 2)),
        ...                        np.ones((1, 1, 6, 4)))
        >>> y.shape
        (1, 3, 3, 4)
        >>> print(np.asarray(y)[0, 0, 0])
        [54. 54. 54. 54.]
    """
    padding = _check(padding, data_format, "separable_conv")
    y = OPS["depthwise_conv"](inputs, depthwise_kernel, strides, padding, data_format,
                              dilation_rate)
    return OPS["conv"](y, pointwise_kernel, 1, "valid", data_format, 1)


def _pool(inputs, pool_size, strides, padding, data_format, who, kind):
    padding = _check(padding, data_format, who, ("valid", "same"))
    rank = jnp.ndim(inputs) - 2
    pool_size = _conv.as_tuple(pool_size, rank)
    strides = pool_size if strides is None else _conv.as_tuple(strides, rank)
    return _conv.pool(inputs, pool_size, strides, padding, kind)


@_op
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Keras `ops.max_pool`: the maximum over each `pool_size` window (channels last; `strides`
    default to `pool_size`).

    Args:
        inputs: `(batch, *spatial, channels)`, with one or more spatial axes.
        pool_size: the window: an int for all spatial axes, or one per axis.
        strides: the step of the window: an int, one per axis, or None for `pool_size`
            (windows side by side).
        padding: "valid" (windows inside the input only) or "same" (the output length is
            `ceil(length / strides)`; padded positions never win), in any case.
        data_format: None or "channels_last" (in any case); "channels_first" is not
            supported.

    Returns:
        `(batch, *pooled_spatial, channels)`.

    Raises:
        ValueError: `padding` is none of those strings, or `data_format` names no layout.
        NotImplementedError: `data_format` is "channels_first".

    Examples:
        >>> x = np.array([1.0, 3.0, 2.0, 4.0], "float32").reshape(1, 4, 1)
        >>> print(np.asarray(ops.max_pool(x, 2)).ravel())
        [3. 4.]
        >>> print(np.asarray(ops.max_pool(x[:, :3], 2, padding="same")).ravel())
        [3. 2.]
        >>> ops.max_pool(np.ones((1, 4, 6, 3), "float32"), (2, 3)).shape
        (1, 2, 2, 3)
    """
    return _pool(inputs, pool_size, strides, padding, data_format, "max_pool", "max")


@_op
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Keras `ops.average_pool`: the mean over each `pool_size` window (channels last; `strides`
    default to `pool_size`).

    With "same" padding a window that hangs over the edge is the mean of the entries it
    covers: the padding is not counted, as in Keras.

    Args:
        inputs: `(batch, *spatial, channels)`, with one or more spatial axes.
        pool_size: the window: an int for all spatial axes, or one per axis.
        strides: the step of the window: an int, one per axis, or None for `pool_size`
            (windows side by side).
        padding: "valid" (windows inside the input only) or "same" (the output length is
            `ceil(length / strides)`), in any case.
        data_format: None or "channels_last" (in any case); "channels_first" is not
            supported.

    Returns:
        `(batch, *pooled_spatial, channels)`.

    Raises:
        ValueError: `padding` is none of those strings, or `data_format` names no layout.
        NotImplementedError: `data_format` is "channels_first".

    Examples:
        >>> x = np.array([1.0, 3.0, 2.0, 4.0], "float32").reshape(1, 4, 1)
        >>> print(np.asarray(ops.average_pool(x, 2)).ravel())
        [2. 3.]
        >>> print(np.asarray(ops.average_pool(x[:, :3], 2, padding="same")).ravel())
        [2. 2.]
        >>> print(np.asarray(ops.average_pool(x, 2, strides=1)).ravel())
        [2.  2.5 3. ]
    """
    return _pool(inputs, pool_size, strides, padding, data_format, "average_pool", "avg")


__all__ = public_names(globals(), __name__)
