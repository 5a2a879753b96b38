"""Keras's generic RNN layer: any cell scanned over time on the recurrent layers' driver."""
import jax
import jax.numpy as jnp

from . import serialization
from .base import Layer, shape_str
from .recurrent import run_rnn
from .rnn_cells import StackedRNNCells, as_list, cell_step, output_size_of


def _first_mask(mask):
    while isinstance(mask, (list, tuple)):
        mask = mask[0] if mask else None
    return mask


def _previous_output(states):
    """What Keras's scan keeps as the output of a masked step: the first state, or the last
    cell's first state when the states are nested (a stack of cells)."""
    first = states[0]
    return states[-1][0] if isinstance(first, (list, tuple)) else first


class RNN(Layer):
    """Keras RNN(cell): a cell (or a list of cells, stacked) run over axis 1 of its input.

    The cell may be graphnet's (`SimpleRNNCell`, `LSTMCell`, `GRUCell`, `StackedRNNCells`)
    or written Keras's way: a layer with `state_size` and `call(inputs, states)` returning
    `(output, new_states)`. Its weights are the cell's, in the cell's order. A masked step
    keeps the states and repeats the previous output, as Keras's scan does.

    Examples:
        >>> rnn = layers.RNN(layers.LSTMCell(4), return_sequences=True, return_state=True)
        >>> sequence, h, c = rnn(np.ones((2, 5, 3), "float32"))
        >>> sequence.shape, h.shape
        ((2, 5, 4), (2, 4))
    """
    supports_masking = True

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, dict):
            cell = serialization.deserialize(cell)
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells([serialization.deserialize(c) if isinstance(c, dict) else c
                                    for c in cell])
        super().__init__(**kwargs)
        who = f"RNN '{self.name}'"
        if not isinstance(cell, Layer):
            raise TypeError(f"{who} takes a cell that is a Layer (with state_size and "
                            f"call(inputs, states)), received {type(cell).__name__}")
        state_size = getattr(cell, "state_size", None)
        if not isinstance(state_size, (int, list, tuple)):
            raise ValueError(f"{who}: its cell {type(cell).__name__} '{cell.name}' must have a "
                             f"state_size: an int, or a list of them (one per state), "
                             f"received {state_size!r}")
        if stateful:
            raise ValueError(f"{who}: stateful=True is not supported: graphnet layers are pure; "
                             f"pass initial_state= and read the states with return_state=True")
        self.cell = cell
        self.state_size = [state_size] if isinstance(state_size, int) else list(state_size)
        self.return_sequences, self.return_state = bool(return_sequences), bool(return_state)
        self.go_backwards, self.stateful, self.unroll = bool(go_backwards), False, bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.weight_regularizers = {}

    @property
    def uses_rng(self) -> bool:
        return self.cell.uses_rng

    @property
    def batch_dependent(self) -> bool:
        return self.cell.batch_dependent

    def _check(self, input_shape):
        who = f"RNN '{self.name}'"
        if len(input_shape) < 3:
            raise ValueError(f"{who} expects an input of rank >= 3 (batch, timesteps, ...), "
                             f"received shape {shape_str(input_shape)}")
        if self.unroll and input_shape[1] is None:
            raise ValueError(f"{who}: unroll=True needs a known number of timesteps, received "
                             f"shape {shape_str(input_shape)}")

    def build(self, input_shape, *, generator):
        self._check(input_shape)
        if not self.cell.built:
            params, state = self.cell.make_weights([(None, *input_shape[2:])], generator)
            self.cell.params, self.cell.state, self.cell.built = params, state, True
        return {"cell": self.cell.params}, {"cell": self.cell.state}

    def output_shape(self, input_shape, initial_state=None, **kwargs):
        self._check(input_shape)
        return None                 # traced: the cell decides the output and states

    def initial_states(self, batch, dtype):
        """Keras's `get_initial_state`: the cell's own, else zeros per `state_size`."""
        if hasattr(self.cell, "get_initial_state"):
            states = self.cell.get_initial_state(batch_size=batch)
            return jax.tree_util.tree_map(lambda s: jnp.asarray(s, dtype), as_list(states))
        return [jnp.zeros((batch, s), dtype) for s in self.state_size]

    def call(self, params, state, x, *, training=False, rng=None, mask=None, initial_state=None):
        mask = _first_mask(mask)
        batch = x.shape[0]
        states = (self.initial_states(batch, x.dtype) if initial_state is None
                  else as_list(initial_state))
        structure = jax.tree_util.tree_structure(states)
        step = cell_step(self.cell, params["cell"], state["cell"], training=training, rng=rng,
                         batch=batch, features=x.shape[-1], dtype=x.dtype)

        # Keras's unrolled loop repeats the previous step's output at a masked step (zeros
        # before the first) and ignores zero_output_for_mask; its scan repeats the first state.
        unrolled = self.unroll and mask is not None
        if unrolled:
            first = jnp.zeros((batch, output_size_of(self.cell)), x.dtype)
        else:
            first = _previous_output(states)

        def body(x_t, carry):
            output, new = step(x_t, carry[1])
            new = structure.unflatten(jax.tree_util.tree_leaves(new))
            return output, (output if unrolled else _previous_output(new), new)
        # Every output is collected: the last one is then the cell's output, whatever its
        # states hold.
        last, outputs, final = run_rnn(
            body, jnp.swapaxes(x, 0, 1), (first, states), mask=mask,
            go_backwards=self.go_backwards,
            zero_output_for_mask=self.zero_output_for_mask and not unrolled,
            return_sequences=True, unroll=self.unroll)
        output = outputs if self.return_sequences else last
        if self.return_state:
            return [output, *final[1]], state
        return output, state

    def compute_mask(self, inputs, mask=None):
        mask = _first_mask(mask)
        out = mask if self.return_sequences else None
        if self.return_state:
            return (out,) + (None,) * len(jax.tree_util.tree_leaves(self.state_size))
        return out

    # ---- weights: the cell's ---------------------------------------------------------
    def get_weights(self):
        self.cell.params, self.cell.state = self.params["cell"], self.state["cell"]
        return self.cell.get_weights()

    def set_weights(self, weights):
        if not self.built:
            raise ValueError(f"Layer '{self.name}' has no weights yet: call it on an input "
                             f"before set_weights")
        self.cell.params, self.cell.state = self.params["cell"], self.state["cell"]
        self.cell.set_weights(weights)
        self.params, self.state = {"cell": self.cell.params}, {"cell": self.cell.state}

    def weight_penalty(self, params):
        return self.cell.weight_penalty(params["cell"])

    def apply_constraints(self, params):
        return {"cell": self.cell.apply_constraints(params["cell"])}

    @property
    def has_constraints(self) -> bool:
        return self.cell.has_constraints

    def get_config(self):
        return {**super().get_config(), "cell": serialization.serialize(self.cell),
                "return_sequences": self.return_sequences, "return_state": self.return_state,
                "go_backwards": self.go_backwards, "stateful": self.stateful,
                "unroll": self.unroll, "zero_output_for_mask": self.zero_output_for_mask}

