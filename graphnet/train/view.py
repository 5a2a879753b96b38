"""What training sees of a model: its pure functions and plain facts, nothing else.

`Model` makes a `ModelView` from its graph; the trainer, the data checks and the predict
loop read only this, never the model's internals, so train/ depends on the graph's
functions and not on how the model keeps them.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable


@dataclass(frozen=True)
class ModelView:
    """A model as training needs it. Frozen: a model whose graph changes (a Sequential
    that grows) makes a new one, and the trainer asks for the current one each time."""
    name: str
    graph: object              # the model's nx.DiGraph (read-only)
    input_names: list
    output_names: list
    outputs: list              # the symbolic output tensors: `.shape` (batch axis None), `.dtype`
    # (params, state, xs, training, rng, logits=False, masks=False) -> (outputs, new_state,
    # activity penalty[, logits][, output masks]): xs and outputs flat lists in the model's order
    run: Callable
    # jitted inference: (params, state, xs, rng) -> (outputs, new_state)
    forward: Callable
    weight_penalty: Callable   # params -> scalar (kernel/bias regularizers)
    constrain: Callable | None  # params -> params with weight constraints; None: none
    trainable_mask: Callable   # () -> bools like params (read when a program is made)
    prepare_inputs: Callable   # (x, who) -> checked arrays, in input order
    pack_outputs: Callable     # flat outputs -> the model's output structure
    inference_key: Callable    # () -> a fresh key when a layer draws, else None
    uses_rng: bool             # some layer draws when training
    batch_dependent: bool      # some layer (or add_loss) mixes the samples of a batch
    activity: bool             # the run adds penalties of its own (activity, add_loss)
