"""Keras EinsumDense: a dense layer written as an einsum equation."""
import math
import re

import jax.numpy as jnp

from .. import activations, constraints, initializers, regularizers
from .base import Layer, shape_str

_FORMS = (("([a-zA-Z]+),([a-zA-Z]+)->([a-zA-Z]+)", None),
          ("0([a-zA-Z]+),([a-zA-Z]+)->0([a-zA-Z]+)", "left"),
          ("([a-zA-Z]{2,})0,([a-zA-Z]+)->([a-zA-Z]+)0", "right"))


def einsum_shapes(equation, bias_axes, input_shape, partial_output, who):
    """Keras's reading of the equation: `(kernel_shape, bias_shape or None, output_shape,
    kernel input axes, kernel output axes)`; `...` may lead the input and output, or end
    them."""
    dotted = equation.replace("...", "0")
    for pattern, elided_side in _FORMS:
        match = re.fullmatch(pattern, dotted)
        if match:
            break
    else:
        raise ValueError(f"{who}: invalid einsum equation {equation!r}; equations are "
                         f"X,Y->Z, ...X,Y->...Z or X...,Y->Z...")
    in_spec, w_spec, out_spec = match.groups()
    elided = len(input_shape) - len(in_spec)
    if elided < 0 or (elided_side is None and elided):
        raise ValueError(f"{who}: the equation {equation!r} needs inputs of rank "
                         f"{len(in_spec)}{'' if elided_side is None else ' or more'}, received {shape_str(input_shape)}")
    output = [input_shape[0], *partial_output]
    if elided > 0 and elided_side == "left":
        # In order (Keras's symbolic shape reverses these axes; its computed output does not).
        output[1:1] = input_shape[1:elided]
    elif elided > 0:
        output.extend(input_shape[len(input_shape) - elided:])
    shift = elided if elided_side == "left" else 0
    in_map = {d: i + shift - (len(input_shape) if elided_side == "left" else 0)
              for i, d in enumerate(in_spec)}
    out_map = {d: i + shift for i, d in enumerate(out_spec)}
    if len(output) != len(out_spec) + (elided if elided_side else 0):
        raise ValueError(f"{who}: output_shape {tuple(partial_output)} does not fit the "
                         f"output spec {out_spec!r} of {equation!r}: give the sizes of its "
                         f"axes after the batch axis, none for the ellipsis")
    for d in in_spec:
        if d in out_map and output[out_map[d]] is not None and \
                output[out_map[d]] != input_shape[in_map[d]]:
            raise ValueError(f"{who}: input and output shapes differ at the shared axis {d!r}: "
                             f"input {shape_str(input_shape)}, output {shape_str(output)}")
    for d in out_spec:
        if d not in in_spec and d not in w_spec:
            raise ValueError(f"{who}: output axis {d!r} of {equation!r} is in neither the input "
                             f"nor the weight spec")
    kernel, in_axes, out_axes = [], [], []
    for i, d in enumerate(w_spec):
        if d in out_map:
            kernel.append(output[out_map[d]])
            out_axes.append(i)
        elif d in in_map:
            kernel.append(input_shape[in_map[d]])
            in_axes.append(i)
        else:
            raise ValueError(f"{who}: weight axis {d!r} of {equation!r} is in neither the input "
                             f"nor the output spec")
    if any(k is None for k in kernel):
        raise ValueError(f"{who}: the kernel's shape {shape_str(kernel)} must be known: give "
                         f"the input's sizes on the axes the equation sums over")
    bias = None
    if bias_axes is not None:
        for c in bias_axes:
            if c not in out_spec:
                raise ValueError(f"{who}: bias axis {c!r} is not in the output spec "
                                 f"{out_spec!r}")
        first = min(out_spec.find(c) for c in bias_axes)
        sizes = {c: output[i + (elided if elided_side == "left" else 0)]
                 for i, c in enumerate(out_spec)}
        bias = [sizes[c] if c in bias_axes else 1 for c in out_spec[first:]]
        if elided_side != "left":
            bias += [1] * max(elided, 0)
    return tuple(kernel), None if bias is None else tuple(bias), tuple(output), in_axes, out_axes


def einsum_kernel(init, shape, in_axes, out_axes, dtype, generator):
    """An einsum kernel's initial value: a VarianceScaling initializer counts its fans over
    the kernel's input and output axes (Keras's `input_axes`, `output_axes`)."""
    if isinstance(init, initializers.VarianceScaling):
        fans = (math.prod(shape[i] for i in in_axes), math.prod(shape[i] for i in out_axes))
        return jnp.reshape(init(fans, dtype, generator), shape)
    return init(shape, dtype, generator)


class EinsumDense(Layer):
    """Keras EinsumDense(equation, output_shape, bias_axes=None): `einsum(equation, x,
    kernel) + bias`, the kernel's shape read from the equation.

    A VarianceScaling initializer (Glorot by default) counts its fans over the kernel's
    input and output axes, as Keras's does.

    Examples:
        >>> layer = layers.EinsumDense("abc,cde->abde", output_shape=(None, 2, 3), bias_axes="de")
        >>> layer(np.ones((1, 4, 5), "float32")).shape
        (1, 4, 2, 3)
        >>> layer.kernel.shape, layer.bias.shape
        ((5, 2, 3), (2, 3))
    """
    weight_names = ("kernel", "bias")
    activation_last = True

    def __init__(self, equation, output_shape, activation=None, bias_axes=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 bias_constraint=None, lora_rank=None, lora_alpha=None, **kwargs):
        for arg in ("gptq_unpacked_column_size", "quantization_config"):
            if kwargs.pop(arg, None) is not None:
                raise NotImplementedError(f"EinsumDense: {arg} (quantization) is not supported")
        super().__init__(**kwargs)
        if lora_rank:
            raise NotImplementedError(f"EinsumDense '{self.name}': lora_rank is not supported")
        self.equation = str(equation)
        self.partial_output_shape = ((output_shape,) if isinstance(output_shape, int)
                                     else tuple(output_shape))
        self.bias_axes = bias_axes
        self.activation = activations.get(activation)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.weight_regularizers = {"kernel": regularizers.get(kernel_regularizer),
                                    "bias": regularizers.get(bias_regularizer)}
        self.weight_constraints = constraints.of(kernel=kernel_constraint, bias=bias_constraint)
        self.lora_rank, self.lora_alpha = lora_rank, lora_alpha

    def _shapes(self, input_shape):
        return einsum_shapes(self.equation, self.bias_axes, tuple(input_shape),
                             self.partial_output_shape, f"EinsumDense '{self.name}'")

    def build(self, input_shape, *, generator):
        kernel_shape, bias_shape, _, in_axes, out_axes = self._shapes(input_shape)
        self.input_rank = len(input_shape)
        params = {"kernel": einsum_kernel(self.kernel_initializer, kernel_shape, in_axes,
                                          out_axes, self.dtype, generator)}
        if bias_shape is not None:
            params["bias"] = self.bias_initializer(bias_shape, self.dtype, generator)
        return params, {}

    def output_shape(self, input_shape):
        if self.built and len(input_shape) != self.input_rank:
            raise ValueError(f"EinsumDense '{self.name}' expects inputs of rank "
                             f"{self.input_rank}, received {shape_str(input_shape)}")
        return self._shapes(input_shape)[2]

    def call(self, params, state, x, *, training=False, rng=None):
        y = jnp.einsum(self.equation, x, params["kernel"])
        if "bias" in params:
            y = y + params["bias"]
        return self.activation(y), state

    def get_config(self):
        regs = self.weight_regularizers
        config = {**super().get_config(), "output_shape": list(self.partial_output_shape),
                  "equation": self.equation,
                  "activation": activations.serialize(self.activation),
                  "bias_axes": self.bias_axes,
                  "kernel_initializer": initializers.serialize(self.kernel_initializer),
                  "bias_initializer": initializers.serialize(self.bias_initializer),
                  "kernel_regularizer": regularizers.serialize(regs["kernel"]),
                  "bias_regularizer": regularizers.serialize(regs["bias"]),
                  **constraints.config_of(self.weight_constraints, "kernel", "bias")}
        return config
