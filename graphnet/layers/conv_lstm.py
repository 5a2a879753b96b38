"""Keras's ConvLSTM1D/2D/3D: an LSTM whose kernels are convolutions, run by `RNN`.

Keras's layout: kernel (*kernel_size, channels, 4 * filters), recurrent_kernel
(*kernel_size, filters, 4 * filters), bias (4 * filters,), gates i, f, c, o. The input
convolution has the layer's strides, padding and dilation; the recurrent one is stride 1,
"same" padding, so the states keep the output's spatial shape.
"""
import jax.numpy as jnp

from .. import _conv, activations
from .base import shape_str
from .convolutional import check_data_format, int_tuple
from .rnn import RNN
from .rnn_cells import BaseRNNCell


class ConvLSTMCell(BaseRNNCell):
    """One step of a ConvLSTM (Keras's ConvLSTMCell): the LSTM gates from convolutions."""
    gates = 4
    nested_states = True

    def __init__(self, rank, filters, kernel_size, strides=1, padding="valid",
                 data_format=None, dilation_rate=1, activation="tanh",
                 recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        who = f"ConvLSTM{rank}D '{self.name}'"
        self._setup(filters, activation, use_bias, kernel_initializer, recurrent_initializer,
                    bias_initializer, kernel_regularizer, recurrent_regularizer,
                    bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
                    dropout, recurrent_dropout, seed)
        self.rank, self.filters = int(rank), self.units
        self.kernel_size = int_tuple(kernel_size, rank, "kernel_size", who)
        self.strides = int_tuple(strides, rank, "strides", who)
        self.dilation_rate = int_tuple(dilation_rate, rank, "dilation_rate", who)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(f"{who}: strides > 1 and dilation_rate > 1 cannot be combined "
                             f"(Keras refuses them too)")
        self.padding = _conv.standard_padding(padding, who, ("valid", "same"))  # "SAME" too
        self.data_format = check_data_format(data_format, who)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    # Keras's cell says -1 ("defined in methods"); two states, shaped like the output.
    state_size = [-1, -1]

    def output_spatial(self, spatial):
        return tuple(_conv.conv_output_length(n, k, s, d, self.padding) for n, k, s, d in
                     zip(spatial, self.kernel_size, self.strides, self.dilation_rate))

    def build(self, input_shape, states_shape=None, *, generator):
        spatial, channels = tuple(input_shape[1:-1]), input_shape[-1]
        if len(input_shape) != self.rank + 2 or None in spatial or channels is None:
            raise ValueError(f"ConvLSTM{self.rank}D '{self.name}' needs known spatial and "
                             f"channel sizes, received a step of shape {shape_str(input_shape)}")
        self.spatial, self.features = spatial, channels
        k, f = self.kernel_size, self.filters
        params = {"kernel": self.kernel_initializer((*k, channels, 4 * f), self.dtype, generator),
                  "recurrent_kernel": self.recurrent_initializer((*k, f, 4 * f), self.dtype,
                                                                 generator)}
        if self.use_bias:
            params["bias"] = self.init_bias(generator)
        return params, {}

    def init_bias(self, generator):
        if not self.unit_forget_bias:
            return super().init_bias(generator)
        f, init = self.filters, self.bias_initializer
        return jnp.concatenate([init((f,), self.dtype, generator), jnp.ones((f,), self.dtype),
                                init((2 * f,), self.dtype, generator)])

    def mask_shapes(self, batch, features):
        return ((batch, *self.spatial, features),
                (batch, *self.output_spatial(self.spatial), self.filters))

    def step(self, params, x, states, masks):
        x_mask, h_mask = masks
        h, c = states
        if x_mask is not None:
            x = x * x_mask
        z = _conv.conv(x, params["kernel"], self.strides, self.padding, self.dilation_rate)
        if self.use_bias:
            z = z + params["bias"]
        z = z + _conv.conv(h if h_mask is None else h * h_mask, params["recurrent_kernel"], 1,
                           "same")
        i, f, g, o = jnp.split(z, 4, axis=-1)
        act, rec = self.activation, self.recurrent_activation
        c = rec(f) * c + rec(i) * act(g)
        h = rec(o) * act(c)
        return h, [h, c]

    def get_initial_state(self, batch_size=None):
        shape = (batch_size, *self.output_spatial(self.spatial), self.filters)
        return [jnp.zeros(shape, self.compute_dtype), jnp.zeros(shape, self.compute_dtype)]

    def get_config(self):
        config = super().get_config()
        return {**config, "rank": self.rank, "filters": config.pop("units"),
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class _ConvLSTM(RNN):
    """ConvLSTM1D/2D/3D: Keras's arguments, the cell made from them."""
    rank = 2
    CELL_KEYS = ("filters", "kernel_size", "strides", "padding", "data_format",
                 "dilation_rate", "activation", "recurrent_activation", "use_bias",
                 "kernel_initializer", "recurrent_initializer", "bias_initializer",
                 "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
                 "bias_regularizer", "kernel_constraint", "recurrent_constraint",
                 "bias_constraint", "dropout", "recurrent_dropout", "seed")

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 unit_forget_bias=True, kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, zero_output_for_mask=False,
                 **kwargs):
        cell = ConvLSTMCell(self.rank, filters, kernel_size, strides, padding, data_format,
                            dilation_rate, activation, recurrent_activation, use_bias,
                            kernel_initializer, recurrent_initializer, bias_initializer,
                            unit_forget_bias, kernel_regularizer, recurrent_regularizer,
                            bias_regularizer, kernel_constraint, recurrent_constraint,
                            bias_constraint, dropout, recurrent_dropout, seed,
                            dtype=kwargs.get("dtype"))
        super().__init__(cell, return_sequences, return_state, go_backwards, stateful, unroll,
                         zero_output_for_mask, activity_regularizer=activity_regularizer,
                         **kwargs)

    def _check(self, input_shape):
        super()._check(input_shape)
        who = f"{type(self).__name__} '{self.name}'"
        if len(input_shape) != self.rank + 3 or None in input_shape[2:]:
            raise ValueError(f"{who} expects an input of shape (batch, timesteps, "
                             f"{self.rank} spatial axes, channels), all but batch and "
                             f"timesteps known, received {shape_str(input_shape)}")
        if self.cell.built and tuple(input_shape[2:]) != (*self.cell.spatial, self.cell.features):
            raise ValueError(f"{who} expects steps of shape "
                             f"{shape_str((None, *self.cell.spatial, self.cell.features))}, "
                             f"received {shape_str(input_shape)}")

    def call(self, params, state, x, *, training=False, rng=None, mask=None, initial_state=None):
        if mask is not None:
            raise NotImplementedError(f"{type(self).__name__} '{self.name}' does not take a "
                                      f"mask (Keras's fails on one too): remove the Masking or "
                                      f"mask_zero before it")
        return super().call(params, state, x, training=training, rng=rng,
                            initial_state=initial_state)

    def get_config(self):
        cell = self.cell.get_config()
        config = {key: value for key, value in super().get_config().items()
                  if key != "cell"}
        return {**config, **{key: cell[key] for key in self.CELL_KEYS}}


class ConvLSTM1D(_ConvLSTM):
    """Keras ConvLSTM1D: an LSTM over steps of shape (length, channels), gates by 1-D
    convolutions.

    Examples:
        >>> steps = np.ones((2, 5, 8, 3), "float32")      # (batch, time, length, channels)
        >>> layers.ConvLSTM1D(4, 3, padding="same")(steps).shape
        (2, 8, 4)
    """
    rank = 1


class ConvLSTM2D(_ConvLSTM):
    """Keras ConvLSTM2D: an LSTM over image steps (height, width, channels), gates by 2-D
    convolutions.

    Examples:
        >>> frames = np.ones((2, 3, 6, 6, 1), "float32")   # (batch, time, rows, cols, channels)
        >>> layers.ConvLSTM2D(4, 3, return_sequences=True)(frames).shape
        (2, 3, 4, 4, 4)
    """
    rank = 2


class ConvLSTM3D(_ConvLSTM):
    """Keras ConvLSTM3D: an LSTM over volume steps, gates by 3-D convolutions.

    Examples:
        >>> layers.ConvLSTM3D(2, 2)(np.ones((1, 2, 3, 3, 3, 1), "float32")).shape
        (1, 2, 2, 2, 2)
    """
    rank = 3
