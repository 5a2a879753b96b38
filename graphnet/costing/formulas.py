"""Analytical forward FLOPs for the layers that have a standard count: a cross-check on XLA.

Two FLOPs per multiply-add of the contraction plus one per output element for the bias;
activations are not counted (their cost is XLA's business). A convolution counts only the
taps that land inside the input: the usual `out * k * cin * cout` also counts the zeros of
"same" padding, which XLA does not multiply, and is several percent too high.
"""
from __future__ import annotations

import math


def taps(length: int, kernel: int, stride: int, dilation: int, padding: str) -> int:
    """Kernel taps inside the input, summed over the output positions of one axis."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        out, before = (length - span) // stride + 1, 0
    elif padding == "same":
        out = -(-length // stride)
        before = max((out - 1) * stride + span - length, 0) // 2
    elif padding == "causal":
        out, before = (length - 1) // stride + 1, span - 1
    else:
        raise ValueError(padding)
    return sum(1 for i in range(max(out, 0)) for j in range(kernel)
               if 0 <= i * stride - before + j * dilation < length)


def conv_taps(layer, shape) -> int:
    """Product over spatial axes of `taps`: the input positions each (in, out) channel pair
    multiplies, for one sample."""
    spatial = shape[1:-1]
    return math.prod(taps(n, k, s, d, layer.padding) for n, k, s, d in zip(
        spatial, layer.kernel_size, layer.strides, layer.dilation_rate))


def _bias(layer, out_shape) -> int:
    return math.prod(out_shape) if getattr(layer, "use_bias", False) else 0


def dense(layer, in_shapes, out_shapes):
    rows = math.prod(in_shapes[0][:-1])
    return 2 * rows * in_shapes[0][-1] * layer.units + _bias(layer, out_shapes[0])


def conv(layer, in_shapes, out_shapes):
    shape = in_shapes[0]
    cin, cout = shape[-1], out_shapes[0][-1]
    return (2 * shape[0] * conv_taps(layer, shape) * (cin // layer.groups) * cout
            + _bias(layer, out_shapes[0]))


def depthwise(layer, in_shapes, out_shapes):
    shape = in_shapes[0]
    return (2 * shape[0] * conv_taps(layer, shape) * shape[-1] * layer.depth_multiplier
            + _bias(layer, out_shapes[0]))


def separable(layer, in_shapes, out_shapes):
    shape, out = in_shapes[0], out_shapes[0]
    middle = shape[-1] * layer.depth_multiplier
    pointwise = 2 * math.prod(out[:-1]) * middle * out[-1]
    return 2 * shape[0] * conv_taps(layer, shape) * middle + pointwise + _bias(layer, out)


# Layer class name -> formula(layer, input shapes, output shapes); channels-last only.
FORMULAS = {
    "Dense": dense, "Conv1D": conv, "Conv2D": conv, "Conv3D": conv,
    "DepthwiseConv2D": depthwise, "DepthwiseConv1D": depthwise,
    "SeparableConv2D": separable, "SeparableConv1D": separable,
}


def formula_flops(layer, in_shapes, out_shapes):
    """The analytical forward FLOPs of this call, or None where there is no formula."""
    formula = FORMULAS.get(type(layer).__name__)
    if formula is None or getattr(layer, "data_format", "channels_last") != "channels_last":
        return None
    try:
        return float(formula(layer, [tuple(s) for s in in_shapes],
                             [tuple(s) for s in out_shapes]))
    except (AttributeError, ValueError, TypeError, IndexError):
        return None
