"""Keras's RNN cells: SimpleRNNCell, LSTMCell, GRUCell and StackedRNNCells.

A cell is one time step: `cell(inputs, states) -> (output, new_states)`. The arithmetic is
the recurrent layers' own (`SimpleRNN.cell`, `LSTM.cell`, `GRU.cell` and their input
projections), so a cell inside `RNN` computes what the matching layer computes; the weights
are in the same Keras layout (kernel, recurrent_kernel, bias).
"""
import jax
import jax.numpy as jnp
import numpy as np

from .. import activations, constraints, initializers, regularizers
from . import serialization
from .base import Layer, shape_str
from .recurrent import GRU, LSTM, SimpleRNN


def dropout_mask(rng, rate, shape, dtype):
    """Keras's dropout of a tensor of ones: kept entries are 1 / (1 - rate), the rest 0."""
    keep = jax.random.bernoulli(rng, 1.0 - rate, shape)
    return jnp.where(keep, jnp.asarray(1.0 / (1.0 - rate), dtype), jnp.zeros((), dtype))


def as_list(states):
    return list(states) if isinstance(states, (list, tuple)) else [states]


class BaseRNNCell(Layer):
    """The three Keras cells: weights, dropout and one step. Subclasses name the layer whose
    arithmetic they share (`arithmetic`) and how many gate blocks the kernel has."""
    weight_names = ("kernel", "recurrent_kernel", "bias")
    gates = 1
    arithmetic = SimpleRNN
    nested_states = False       # Keras's LSTMCell returns its states as a list always

    @property
    def uses_rng(self) -> bool:
        return bool(self.dropout or self.recurrent_dropout)

    def _setup(self, units, activation, use_bias, kernel_initializer, recurrent_initializer,
               bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
               kernel_constraint, recurrent_constraint, bias_constraint, dropout,
               recurrent_dropout, seed):
        who = f"{type(self).__name__} '{self.name}'"
        if not isinstance(units, (int, np.integer)) or isinstance(units, bool) or units < 1:
            raise ValueError(f"{who}: units must be a positive int, received {units!r}")
        for arg, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not 0 <= rate < 1:
                raise ValueError(f"{who}: {arg} must be in [0, 1), received {rate!r}")
        self.units = int(units)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.weight_regularizers = {"kernel": regularizers.get(kernel_regularizer),
                                    "recurrent_kernel": regularizers.get(recurrent_regularizer),
                                    "bias": regularizers.get(bias_regularizer)}
        self.weight_constraints = constraints.of(kernel=kernel_constraint,
                                                 recurrent_kernel=recurrent_constraint,
                                                 bias=bias_constraint)
        self.dropout, self.recurrent_dropout = float(dropout), float(recurrent_dropout)
        self.seed = seed

    @property
    def state_size(self):
        return self.units

    @property
    def output_size(self):
        return self.units

    # ---- weights ---------------------------------------------------------------------
    @property
    def bias_shape(self):
        return (self.gates * self.units,)

    def init_bias(self, generator):
        return self.bias_initializer(self.bias_shape, self.dtype, generator)

    def build(self, input_shape, states_shape=None, *, generator):
        if len(input_shape) != 2 or input_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects one step of shape "
                             f"(batch, features) with known features, received "
                             f"{shape_str(input_shape)}")
        self.features = input_shape[-1]
        u = self.units
        params = {"kernel": self.kernel_initializer((self.features, self.gates * u), self.dtype,
                                                    generator),
                  "recurrent_kernel": self.recurrent_initializer((u, self.gates * u), self.dtype,
                                                                 generator)}
        if self.use_bias:
            params["bias"] = self.init_bias(generator)
        return params, {}

    # ---- one step ----------------------------------------------------------------------
    def draw_masks(self, rng, batch, features, dtype, training):
        """The dropout masks of one sequence (Keras draws them once and keeps them for
        every step): (inputs mask or None, recurrent mask or None)."""
        if not training or not (self.dropout or self.recurrent_dropout):
            return None, None
        if rng is None:
            raise ValueError(f"{type(self).__name__} '{self.name}' has dropout and needs a "
                             f"random key when training=True: pass rng= to apply")
        x_rng, h_rng = jax.random.split(rng)
        x_shape, h_shape = self.mask_shapes(batch, features)
        x_mask = dropout_mask(x_rng, self.dropout, x_shape, dtype) if self.dropout else None
        h_mask = (dropout_mask(h_rng, self.recurrent_dropout, h_shape, dtype)
                  if self.recurrent_dropout else None)
        return x_mask, h_mask

    def mask_shapes(self, batch, features):
        """The shapes of one step's input and of its (first) state: the dropout masks'."""
        return (batch, features), (batch, self.units)

    def step(self, params, x, states, masks):
        """`(output, new_states)` for one step, `states` a list in `state_size`'s order."""
        x_mask, h_mask = masks
        if x_mask is not None:
            x = x * x_mask
        layer = self.arithmetic
        output, new = layer.cell(self, params, layer.project(self, params, x), tuple(states),
                                 h_mask)
        return output, list(new)

    def output_shape(self, input_shape, states=None, **kwargs):
        who = f"{type(self).__name__} '{self.name}'"
        if len(input_shape) != 2 or (self.built and input_shape[-1] != self.features):
            expected = self.features if self.built else "features"
            raise ValueError(f"{who} expects inputs of shape (batch, {expected}), received "
                             f"{shape_str(input_shape)}")
        n = 2 if self.gates == 4 else 1
        one_shape = isinstance(states, tuple) and all(d is None or isinstance(d, int)
                                                      for d in states)
        shapes = [states] if one_shape else as_list(states) if states is not None else []
        if len(shapes) != n or any(len(s) != 2 or s[-1] != self.units for s in shapes):
            raise ValueError(f"{who} expects states as {n} tensor(s) of shape "
                             f"(batch, {self.units}), received "
                             f"{[shape_str(s) for s in shapes] if states is not None else None}")
        return None                         # traced: the structure follows `states`

    def call(self, params, state, inputs, states, *, training=False, rng=None):
        masks = self.draw_masks(rng, inputs.shape[0], inputs.shape[-1], inputs.dtype, training)
        output, new = self.step(params, inputs, as_list(states), masks)
        if not self.nested_states and not isinstance(states, (list, tuple)):
            return (output, new[0]), state
        return (output, new), state

    def get_initial_state(self, batch_size=None):
        """Zeros, one `(batch_size, units)` array per state, as Keras."""
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [jnp.zeros((batch_size, s), self.compute_dtype) for s in sizes]

    def get_config(self):
        regs = self.weight_regularizers
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(regs["kernel"]),
                "recurrent_regularizer": regularizers.serialize(regs["recurrent_kernel"]),
                "bias_regularizer": regularizers.serialize(regs["bias"]),
                **constraints.config_of(self.weight_constraints, "kernel", "bias"),
                "recurrent_constraint": constraints.config_of(
                    self.weight_constraints, "recurrent_kernel")["recurrent_kernel_constraint"],
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed}


class SimpleRNNCell(BaseRNNCell):
    """Keras SimpleRNNCell: one step of SimpleRNN, h = activation(x @ kernel + h @ recurrent
    + bias).

    Examples:
        >>> cell = layers.SimpleRNNCell(4)
        >>> output, states = cell(np.ones((2, 3), "float32"), [np.zeros((2, 4), "float32")])
        >>> output.shape
        (2, 4)
    """

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._setup(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                    bias_initializer, kernel_regularizer, recurrent_regularizer,
                    bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
                    dropout, recurrent_dropout, seed)


class LSTMCell(BaseRNNCell):
    """Keras LSTMCell: one step of LSTM (gates i, f, c, o); states `[h, c]`.

    Examples:
        >>> cell = layers.LSTMCell(4)
        >>> zeros = np.zeros((2, 4), "float32")
        >>> output, (h, c) = cell(np.ones((2, 3), "float32"), [zeros, zeros])
        >>> c.shape
        (2, 4)
    """
    gates = 4
    arithmetic = LSTM
    nested_states = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self._setup(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                    bias_initializer, kernel_regularizer, recurrent_regularizer,
                    bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
                    dropout, recurrent_dropout, seed)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    @property
    def state_size(self):
        return [self.units, self.units]

    def init_bias(self, generator):
        if not self.unit_forget_bias:
            return super().init_bias(generator)
        u, init = self.units, self.bias_initializer
        return jnp.concatenate([init((u,), self.dtype, generator), jnp.ones((u,), self.dtype),
                                init((2 * u,), self.dtype, generator)])

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "unit_forget_bias": self.unit_forget_bias}


class GRUCell(BaseRNNCell):
    """Keras GRUCell: one step of GRU (gates z, r, h), `reset_after` either way.

    Examples:
        >>> cell = layers.GRUCell(4, reset_after=False)
        >>> output, state = cell(np.ones((2, 3), "float32"), np.zeros((2, 4), "float32"))
        >>> state.shape
        (2, 4)
    """
    gates = 3
    arithmetic = GRU

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, reset_after=True,
                 seed=None, **kwargs):
        super().__init__(**kwargs)
        self._setup(units, activation, use_bias, kernel_initializer, recurrent_initializer,
                    bias_initializer, kernel_regularizer, recurrent_regularizer,
                    bias_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
                    dropout, recurrent_dropout, seed)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.reset_after = bool(reset_after)

    @property
    def bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def get_config(self):
        return {**super().get_config(),
                "recurrent_activation": activations.serialize(self.recurrent_activation),
                "reset_after": self.reset_after}


def cell_step(cell, params, state, *, training, rng, batch, features, dtype):
    """`f(x_t, states) -> (output, new_states)` for any cell: graphnet's cells with their
    dropout masks drawn once for the sequence (as Keras's), a cell written Keras's way
    (`call(inputs, states)` over `add_weight` weights) through its pure call, given the same
    key at every step (so its random draws repeat across steps, as Keras's cached masks)."""
    if isinstance(cell, StackedRNNCells):
        return cell.step_function(params, state, training=training, rng=rng, batch=batch,
                                  features=features, dtype=dtype)
    if isinstance(cell, BaseRNNCell):
        masks = cell.draw_masks(rng, batch, features, dtype, training)
        return lambda x, states: cell.step(params, x, states, masks)

    def step(x, states):
        (output, new), _, _ = cell.pure_call(params, state, x, list(states), training=training,
                                             rng=rng)
        return output, as_list(new)
    return step


def output_size_of(cell):
    """Keras's rule: `cell.output_size`, else the first entry of `state_size`."""
    size = getattr(cell, "output_size", None)
    if size is None:
        size = cell.state_size
        size = size[0] if isinstance(size, (list, tuple)) else size
    return size


class StackedRNNCells(Layer):
    """Keras StackedRNNCells(cells): a stack of cells used as one cell; each cell's output is
    the next one's input, its states are the cells' states in order.

    Examples:
        >>> rnn = layers.RNN(layers.StackedRNNCells([layers.LSTMCell(4), layers.GRUCell(2)]))
        >>> rnn(np.ones((1, 5, 3), "float32")).shape
        (1, 2)
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = [serialization.deserialize(c) if isinstance(c, dict) else c for c in cells]
        for cell in cells:
            if not isinstance(cell, Layer) or getattr(cell, "state_size", None) is None:
                raise ValueError(f"StackedRNNCells '{self.name}': every cell must be a Layer "
                                 f"with a state_size, received {cell!r}")
        self.cells = cells

    @property
    def uses_rng(self) -> bool:
        return any(c.uses_rng for c in self.cells)

    @property
    def batch_dependent(self) -> bool:
        return any(c.batch_dependent for c in self.cells)

    @property
    def state_size(self):
        return [c.state_size for c in self.cells]

    @property
    def output_size(self):
        return output_size_of(self.cells[-1])

    def build(self, input_shape, states_shape=None, *, generator):
        params, state = {}, {}
        for cell in self.cells:
            cell.params, cell.state = cell.make_weights([tuple(input_shape)], generator)
            cell.built = True
            params[cell.name], state[cell.name] = cell.params, cell.state
            input_shape = (input_shape[0], output_size_of(cell))
        return params, state

    def step_function(self, params, state, *, training, rng, batch, features, dtype):
        """`f(x_t, states)` of the whole stack, each cell's dropout masks drawn once."""
        keys = ([None] * len(self.cells) if rng is None
                else list(jax.random.split(rng, len(self.cells))))
        steps = []
        for cell, key in zip(self.cells, keys):
            steps.append(cell_step(cell, params[cell.name], state[cell.name], training=training,
                                   rng=key, batch=batch, features=features, dtype=dtype))
            features = output_size_of(cell)

        def step(x, states):
            new_states = []
            for f, entry in zip(steps, states):
                x, new = f(x, as_list(entry))
                new_states.append(new if isinstance(entry, (list, tuple)) else new[0])
            return x, new_states
        return step

    def call(self, params, state, inputs, states, *, training=False, rng=None):
        step = self.step_function(params, state, training=training, rng=rng,
                                  batch=inputs.shape[0], features=inputs.shape[-1],
                                  dtype=inputs.dtype)
        return step(inputs, list(states)), state

    def get_initial_state(self, batch_size=None):
        """Each cell's initial states, in order."""
        return [c.get_initial_state(batch_size) if hasattr(c, "get_initial_state")
                else [jnp.zeros((batch_size, s), self.compute_dtype) for s in as_list(c.state_size)]
                for c in self.cells]

    # ---- weights: the cells', in order -------------------------------------------------
    def get_weights(self):
        weights = []
        for cell in self.cells:
            cell.params, cell.state = self.params[cell.name], self.state[cell.name]
            weights += cell.get_weights()
        return weights

    def set_weights(self, weights):
        if not self.built:
            raise ValueError(f"Layer '{self.name}' has no weights yet: call it on an input "
                             f"before set_weights")
        weights, params, state = list(weights), {}, {}
        counts = [len(c.get_weights()) for c in self.cells]
        if len(weights) != sum(counts):
            raise ValueError(f"StackedRNNCells '{self.name}' expects {sum(counts)} weights "
                             f"({counts} per cell), received {len(weights)}")
        for cell, count in zip(self.cells, counts):
            cell.set_weights(weights[:count])
            weights = weights[count:]
            params[cell.name], state[cell.name] = cell.params, cell.state
        self.params, self.state = params, state

    def weight_penalty(self, params):
        return sum(c.weight_penalty(params[c.name]) for c in self.cells)

    def apply_constraints(self, params):
        return {c.name: c.apply_constraints(params[c.name]) for c in self.cells}

    @property
    def has_constraints(self) -> bool:
        return any(c.has_constraints for c in self.cells)

    def get_config(self):
        return {**super().get_config(),
                "cells": [serialization.serialize(c) for c in self.cells]}
