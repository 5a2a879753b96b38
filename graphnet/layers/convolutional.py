"""Convolution layers, channels-last, with Keras 3's arguments and kernel layouts.

All of them run `ops.conv`, whose gradients stay fast inside a scanned training step.
"""
from .. import _conv as ops
from .. import activations, constraints, initializers, regularizers
from .base import Layer, shape_str


def int_tuple(value, rank: int, arg: str, who: str, allow_zero=False) -> tuple:
    """Keras's `standardize_tuple`: an int or a sequence of `rank` positive ints."""
    values = (value,) * rank if isinstance(value, int) and not isinstance(value, bool) else value
    try:
        values = tuple(values)
    except TypeError:
        values = None
    if (values is None or len(values) != rank or
            not all(isinstance(v, int) and not isinstance(v, bool) and (v > 0 or (allow_zero and v == 0))
                    for v in values)):
        raise ValueError(f"{who}: {arg} must be an int or a tuple of {rank} positive ints, "
                         f"received {value!r}")
    return values


def check_data_format(data_format, who: str):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"{who}: graphnet layers are channels-last; data_format must be "
                         f"None or 'channels_last', received {data_format!r}")
    return "channels_last"


class _Conv(Layer):
    """Shared configuration, shape checks and call of the convolution layers.

    Subclasses give `rank`, the weight shapes for a number of input channels
    (`weight_shapes`), the output channels and `convolve(params, x)`.
    """
    rank = 2
    paddings = ("valid", "same")
    activation_last = True

    def __init__(self, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation=None, use_bias=True, bias_initializer="zeros",
                 bias_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        who = f"{type(self).__name__} '{self.name}'"
        self.kernel_size = int_tuple(kernel_size, self.rank, "kernel_size", who)
        self.strides = int_tuple(strides, self.rank, "strides", who)
        self.dilation_rate = int_tuple(dilation_rate, self.rank, "dilation_rate", who)
        if not isinstance(padding, str) or padding.lower() not in self.paddings:
            raise ValueError(f"{who}: padding must be one of {self.paddings}, received {padding!r}")
        self.padding = padding.lower()
        self.data_format = check_data_format(data_format, who)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{who}: strides > 1 cannot be combined with dilation_rate > 1 "
                             f"(received strides={self.strides}, dilation_rate={self.dilation_rate})")
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.bias_initializer = initializers.get(bias_initializer)
        self.weight_regularizers = {"bias": regularizers.get(bias_regularizer)}

    # ---- what subclasses define -------------------------------------------------------
    def weight_shapes(self, channels: int) -> dict:
        """Kernel name -> (shape, initializer) for `channels` input channels."""
        raise NotImplementedError(f"{type(self).__name__} must define weight_shapes(channels)")

    def out_channels(self, channels: int) -> int:
        raise NotImplementedError(f"{type(self).__name__} must define out_channels(channels)")

    def convolve(self, params, x):
        raise NotImplementedError(f"{type(self).__name__} must define convolve(params, x)")

    def out_length(self, size, axis: int):
        return ops.conv_output_length(size, self.kernel_size[axis], self.strides[axis],
                                      self.dilation_rate[axis], self.padding)

    # ---- shared ----------------------------------------------------------------------
    def _check(self, input_shape):
        expected = "(batch, " + ", ".join({1: ["length"], 2: ["rows", "cols"]}.get(
            self.rank, ["depth", "rows", "cols"])) + ", channels)"
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects an input of rank "
                             f"{self.rank + 2} {expected}, received shape {shape_str(input_shape)}")
        if input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} '{self.name}': the channel axis of its input "
                             f"must be known, received shape {shape_str(input_shape)}")
        if self.built and input_shape[-1] != self.channels:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects {self.channels} input "
                             f"channels, shape (..., {self.channels}), received "
                             f"{shape_str(input_shape)}")

    def build(self, input_shape, *, generator):
        self._check(input_shape)
        self.channels = input_shape[-1]
        params = {name: init(shape, self.dtype, generator)
                  for name, (shape, init) in self.weight_shapes(self.channels).items()}
        if self.use_bias:
            params["bias"] = self.bias_initializer((self.out_channels(self.channels),), self.dtype, generator)
        return params, {}

    def output_shape(self, input_shape):
        self._check(input_shape)
        spatial = tuple(self.out_length(n, i) for i, n in enumerate(input_shape[1:-1]))
        if any(n is not None and n <= 0 for n in spatial):
            raise ValueError(f"{type(self).__name__} '{self.name}' (kernel_size={self.kernel_size}, "
                             f"padding='{self.padding}') gets an input too small, shape "
                             f"{shape_str(input_shape)}: the output would have spatial size {spatial}")
        return (input_shape[0], *spatial, self.out_channels(self.channels))

    def call(self, params, state, x, *, training=False, rng=None):
        y = self.convolve(params, x)
        if self.use_bias:
            y = y + params["bias"]
        return self.activation(y), state

    def get_config(self):
        return {**super().get_config(), "kernel_size": list(self.kernel_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format, "dilation_rate": list(self.dilation_rate),
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "bias_regularizer": regularizers.serialize(self.weight_regularizers["bias"])}


class _PlainConv(_Conv):
    """Keras ConvND: kernel (*kernel_size, in // groups, filters)."""
    weight_names = ("kernel", "bias")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, **kwargs)
        if not isinstance(filters, int) or isinstance(filters, bool) or filters < 1:
            raise ValueError(f"{type(self).__name__} '{self.name}': filters must be a positive "
                             f"int, received {filters!r}")
        if not isinstance(groups, int) or groups < 1 or filters % groups:
            raise ValueError(f"{type(self).__name__} '{self.name}': groups must be a positive int "
                             f"dividing filters={filters}, received {groups!r}")
        self.filters, self.groups = filters, groups
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.weight_regularizers["kernel"] = regularizers.get(kernel_regularizer)
        self.weight_constraints = constraints.of(kernel=kernel_constraint, bias=bias_constraint)

    def weight_shapes(self, channels):
        if channels % self.groups:
            raise ValueError(f"{type(self).__name__} '{self.name}': groups={self.groups} must "
                             f"divide the {channels} input channels")
        return {"kernel": ((*self.kernel_size, channels // self.groups, self.filters),
                           self.kernel_initializer)}

    def out_channels(self, channels):
        return self.filters

    def convolve(self, params, x):
        return ops.conv(x, params["kernel"], self.strides, self.padding, self.dilation_rate,
                        groups=self.groups)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "groups": self.groups,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "kernel_regularizer": regularizers.serialize(self.weight_regularizers["kernel"]),
                **constraints.config_of(self.weight_constraints, "kernel", "bias")}


class Conv1D(_PlainConv):
    """Keras Conv1D: a 1D convolution over (batch, steps, channels).

    Kernel (k, in // groups, filters).

    Args:
        filters: the number of output channels.
        kernel_size: an int or a 1-tuple, the window's size.
        strides: an int or a 1-tuple, the step between windows.
        padding: "valid" (no padding), "same" (the output keeps the input's size divided by
            the strides) or "causal" (padding on the left only: step t sees no later step).
        data_format: "channels_last" (or None); channels-first is not supported.
        dilation_rate: an int or a 1-tuple, the spacing of the kernel's taps.
        groups: split the input channels into this many groups, each convolved with its own
            `filters // groups` filters.
        activation: an activation name or function applied to the output, or None.
        use_bias: whether a bias is added.
        kernel_initializer: an initializer name or object for the kernel.
        bias_initializer: an initializer name or object for the bias.
        kernel_regularizer: a penalty on the kernel added to the training loss, or None.
        bias_regularizer: a penalty on the bias added to the training loss, or None.
        **kwargs: the base layer's arguments (`name`, `trainable`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(6, 2))
        >>> layers.Conv1D(2, 3, padding="same")(x).shape
        (None, 6, 2)
    """
    rank = 1
    paddings = ("valid", "same", "causal")


class Conv2D(_PlainConv):
    """Keras Conv2D: a 2D convolution over (batch, rows, cols, channels).

    Kernel (kh, kw, in // groups, filters).

    Args:
        filters: the number of output channels.
        kernel_size: an int or a tuple of 2 ints, the window's size.
        strides: an int or a tuple of 2 ints, the step between windows.
        padding: "valid" (no padding) or "same" (the output keeps the input's size
            divided by the strides).
        data_format: "channels_last" (or None); channels-first is not supported.
        dilation_rate: an int or a tuple of 2 ints, the spacing of the kernel's taps.
        groups: split the input channels into this many groups, each convolved with its own
            `filters // groups` filters.
        activation: an activation name or function applied to the output, or None.
        use_bias: whether a bias is added.
        kernel_initializer: an initializer name or object for the kernel.
        bias_initializer: an initializer name or object for the bias.
        kernel_regularizer: a penalty on the kernel added to the training loss, or None.
        bias_regularizer: a penalty on the bias added to the training loss, or None.
        **kwargs: the base layer's arguments (`name`, `trainable`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(6, 6, 2))
        >>> layers.Conv2D(2, 2, strides=2, activation="relu")(x).shape
        (None, 3, 3, 2)
    """
    rank = 2


class Conv3D(_PlainConv):
    """Keras Conv3D: a 3D convolution over (batch, depth, rows, cols, channels).

    Kernel (kd, kh, kw, in // groups, filters).

    Args:
        filters: the number of output channels.
        kernel_size: an int or a tuple of 3 ints, the window's size.
        strides: an int or a tuple of 3 ints, the step between windows.
        padding: "valid" (no padding) or "same" (the output keeps the input's size
            divided by the strides).
        data_format: "channels_last" (or None); channels-first is not supported.
        dilation_rate: an int or a tuple of 3 ints, the spacing of the kernel's taps.
        groups: split the input channels into this many groups, each convolved with its own
            `filters // groups` filters.
        activation: an activation name or function applied to the output, or None.
        use_bias: whether a bias is added.
        kernel_initializer: an initializer name or object for the kernel.
        bias_initializer: an initializer name or object for the bias.
        kernel_regularizer: a penalty on the kernel added to the training loss, or None.
        bias_regularizer: a penalty on the bias added to the training loss, or None.
        **kwargs: the base layer's arguments (`name`, `trainable`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(3, 3, 3, 2))
        >>> layers.Conv3D(2, 2)(x).shape
        (None, 2, 2, 2, 2)
    """
    rank = 3


class DepthwiseConv2D(_Conv):
    """Keras DepthwiseConv2D: one filter bank per input channel, kernel (kh, kw, in, multiplier).

    Output channel `c * depth_multiplier + m` is input channel c through filter m, as Keras
    orders them.

    Examples:
        >>> x = graphnet.Input(shape=(5, 5, 2))
        >>> layers.DepthwiseConv2D(2, depth_multiplier=2)(x).shape
        (None, 4, 4, 4)
    """
    rank = 2
    weight_names = ("kernel", "bias")

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, **kwargs)
        if not isinstance(depth_multiplier, int) or depth_multiplier < 1:
            raise ValueError(f"{type(self).__name__} '{self.name}': depth_multiplier must be a "
                             f"positive int, received {depth_multiplier!r}")
        self.depth_multiplier = depth_multiplier
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.weight_regularizers["kernel"] = regularizers.get(depthwise_regularizer)

    def weight_shapes(self, channels):
        return {"kernel": ((*self.kernel_size, channels, self.depth_multiplier),
                           self.depthwise_initializer)}

    def out_channels(self, channels):
        return channels * self.depth_multiplier

    def convolve(self, params, x):
        return _depthwise(x, params["kernel"], self)

    def get_config(self):
        return {**super().get_config(), "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "depthwise_regularizer": regularizers.serialize(self.weight_regularizers["kernel"])}


def _depthwise(x, kernel, layer):
    channels, multiplier = kernel.shape[-2:]
    kernel = kernel.reshape(*kernel.shape[:-2], 1, channels * multiplier)
    return ops.conv(x, kernel, layer.strides, layer.padding, layer.dilation_rate, groups=channels)


class SeparableConv2D(_Conv):
    """Keras SeparableConv2D: a depthwise conv, then a 1x1 conv to `filters`.

    Weights `[depthwise_kernel (kh, kw, in, multiplier), pointwise_kernel (1, 1, in *
    multiplier, filters), bias]`.

    Examples:
        >>> x = graphnet.Input(shape=(5, 5, 2))
        >>> layers.SeparableConv2D(3, 2, padding="same")(x).shape
        (None, 5, 5, 3)
    """
    rank = 2
    weight_names = ("depthwise_kernel", "pointwise_kernel", "bias")

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None, pointwise_regularizer=None,
                 bias_regularizer=None, **kwargs):
        super().__init__(kernel_size, strides, padding, data_format, dilation_rate, activation,
                         use_bias, bias_initializer, bias_regularizer, **kwargs)
        if not isinstance(filters, int) or filters < 1:
            raise ValueError(f"{type(self).__name__} '{self.name}': filters must be a positive "
                             f"int, received {filters!r}")
        if not isinstance(depth_multiplier, int) or depth_multiplier < 1:
            raise ValueError(f"{type(self).__name__} '{self.name}': depth_multiplier must be a "
                             f"positive int, received {depth_multiplier!r}")
        self.filters, self.depth_multiplier = filters, depth_multiplier
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.weight_regularizers.update(depthwise_kernel=regularizers.get(depthwise_regularizer),
                                        pointwise_kernel=regularizers.get(pointwise_regularizer))

    def weight_shapes(self, channels):
        return {"depthwise_kernel": ((*self.kernel_size, channels, self.depth_multiplier),
                                     self.depthwise_initializer),
                "pointwise_kernel": ((1,) * self.rank + (channels * self.depth_multiplier,
                                                         self.filters), self.pointwise_initializer)}

    def out_channels(self, channels):
        return self.filters

    def convolve(self, params, x):
        y = _depthwise(x, params["depthwise_kernel"], self)
        return ops.conv(y, params["pointwise_kernel"])

    def get_config(self):
        regs = self.weight_regularizers
        return {**super().get_config(), "filters": self.filters,
                "depth_multiplier": self.depth_multiplier,
                "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
                "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
                "depthwise_regularizer": regularizers.serialize(regs["depthwise_kernel"]),
                "pointwise_regularizer": regularizers.serialize(regs["pointwise_kernel"])}


class DepthwiseConv1D(DepthwiseConv2D):
    """Keras DepthwiseConv1D: one filter bank per input channel over the steps, kernel
    (k, in, multiplier).

    Examples:
        >>> x = graphnet.Input(shape=(6, 2))
        >>> layers.DepthwiseConv1D(3, depth_multiplier=2)(x).shape
        (None, 4, 4)
    """
    rank = 1

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, **kwargs)


class SeparableConv1D(SeparableConv2D):
    """Keras SeparableConv1D: a depthwise conv over the steps, then a size-1 conv to
    `filters`; weights `[depthwise_kernel (k, in, multiplier), pointwise_kernel (1, in *
    multiplier, filters), bias]`.

    Examples:
        >>> x = graphnet.Input(shape=(6, 2))
        >>> layers.SeparableConv1D(3, 2, padding="same")(x).shape
        (None, 6, 3)
    """
    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, **kwargs)


class _ConvTranspose(_PlainConv):
    """Keras ConvNDTranspose: kernel (*kernel_size, filters, in), output size as Keras
    computes it.

    Runs as a convolution of the stride-dilated input with the flipped kernel (what
    `lax.conv_transpose` does), so it shares `ops.conv` and its fast gradients.
    """
    rank = 2

    def __init__(self, filters, kernel_size, strides=1, padding="valid",
                 output_padding=None, data_format=None, dilation_rate=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate, 1,
                         activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, **kwargs)
        self.output_padding = None if output_padding is None else int_tuple(
            output_padding, self.rank, "output_padding", f"{type(self).__name__} '{self.name}'",
            allow_zero=True)
        if self.output_padding is not None and any(
                p >= s for p, s in zip(self.output_padding, self.strides)):
            raise ValueError(f"{type(self).__name__} '{self.name}': output_padding must be smaller than "
                             f"strides, received output_padding={self.output_padding}, "
                             f"strides={self.strides}")

    def weight_shapes(self, channels):
        return {"kernel": ((*self.kernel_size, self.filters, channels), self.kernel_initializer)}

    def _pads(self, axis):
        """Keras's (low, high) padding of the stride-dilated input on one axis."""
        return ops.transpose_pads(
            self.kernel_size[axis], self.strides[axis], self.dilation_rate[axis], self.padding,
            None if self.output_padding is None else self.output_padding[axis])

    def out_length(self, size, axis):
        if size is None:
            return None
        span = (self.kernel_size[axis] - 1) * self.dilation_rate[axis] + 1
        low, high = self._pads(axis)
        return (size - 1) * self.strides[axis] + 1 + low + high - span + 1

    def convolve(self, params, x):
        return ops.conv_transpose(x, params["kernel"], self.strides, self.padding,
                                  self.output_padding, self.dilation_rate)

    def get_config(self):
        config = super().get_config()
        del config["groups"]
        return {**config, "output_padding": None if self.output_padding is None
                else list(self.output_padding)}


class Conv1DTranspose(_ConvTranspose):
    """Keras Conv1DTranspose: the transpose of Conv1D (upsampling), over (batch, steps,
    channels).

    Kernel (k, filters, in).

    Args:
        filters: the number of output channels.
        kernel_size: an int or a 1-tuple, the window's size.
        strides: an int or a 1-tuple: the output is about `strides` times larger.
        padding: "valid" or "same", as Keras computes the output size.
        output_padding: an int or a 1-tuple (each smaller than its stride) added
            to the output size, or None.
        data_format: "channels_last" (or None); channels-first is not supported.
        dilation_rate: an int or a 1-tuple, the spacing of the kernel's taps.
        activation: an activation name or function applied to the output, or None.
        use_bias: whether a bias is added.
        kernel_initializer: an initializer name or object for the kernel.
        bias_initializer: an initializer name or object for the bias.
        kernel_regularizer: a penalty on the kernel added to the training loss, or None.
        bias_regularizer: a penalty on the bias added to the training loss, or None.
        **kwargs: the base layer's arguments (`name`, `trainable`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 2))
        >>> layers.Conv1DTranspose(2, 3, strides=2)(x).shape
        (None, 9, 2)
    """
    rank = 1


class Conv2DTranspose(_ConvTranspose):
    """Keras Conv2DTranspose: the transpose of Conv2D (upsampling), over (batch, rows,
    cols, channels).

    Kernel (kh, kw, filters, in).

    Args:
        filters: the number of output channels.
        kernel_size: an int or a tuple of 2 ints, the window's size.
        strides: an int or a tuple of 2 ints: the output is about `strides` times larger.
        padding: "valid" or "same", as Keras computes the output size.
        output_padding: an int or a tuple of 2 ints (each smaller than its stride) added
            to the output size, or None.
        data_format: "channels_last" (or None); channels-first is not supported.
        dilation_rate: an int or a tuple of 2 ints, the spacing of the kernel's taps.
        **kwargs: `activation`, `use_bias`, `kernel_initializer`, `bias_initializer`,
            `kernel_regularizer` and `bias_regularizer` as for Conv2D, and the base layer's
            arguments (`name`, `trainable`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 2))
        >>> layers.Conv2DTranspose(2, 3, strides=2, padding="same")(x).shape
        (None, 8, 8, 2)
    """
    rank = 2

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), **kwargs):
        super().__init__(filters, kernel_size, strides, padding, output_padding, data_format,
                         dilation_rate, **kwargs)


class Conv3DTranspose(_ConvTranspose):
    """Keras Conv3DTranspose: the transpose of Conv3D (upsampling), over (batch, depth,
    rows, cols, channels).

    Kernel (kd, kh, kw, filters, in).

    Args:
        filters: the number of output channels.
        kernel_size: an int or a tuple of 3 ints, the window's size.
        strides: an int or a tuple of 3 ints: the output is about `strides` times larger.
        padding: "valid" or "same", as Keras computes the output size.
        output_padding: an int or a tuple of 3 ints (each smaller than its stride) added
            to the output size, or None.
        data_format: "channels_last" (or None); channels-first is not supported.
        dilation_rate: an int or a tuple of 3 ints, the spacing of the kernel's taps.
        activation: an activation name or function applied to the output, or None.
        use_bias: whether a bias is added.
        kernel_initializer: an initializer name or object for the kernel.
        bias_initializer: an initializer name or object for the bias.
        kernel_regularizer: a penalty on the kernel added to the training loss, or None.
        bias_regularizer: a penalty on the bias added to the training loss, or None.
        **kwargs: the base layer's arguments (`name`, `trainable`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(2, 2, 2, 2))
        >>> layers.Conv3DTranspose(2, 2)(x).shape
        (None, 3, 3, 3, 2)
    """
    rank = 3
