"""The model's DiGraph to one pure function of (params, state, inputs).

`make_run` reads the graph once and plans every step: where each call's tensors come from
(gather), where its outputs go (scatter), and which masks it receives. The returned `run`
only replays that plan, so tracing it does no graph work.
"""
import functools
import inspect
from dataclasses import dataclass

import jax
import jax.numpy as jnp

from .graph import Arg, argument_sources, flat


@dataclass
class Step:
    """One layer call: the plan `run` follows."""
    layer: object
    treedef: object            # the call's (args, kwargs) structure
    leaves: list               # its leaves: constants, and None where a tensor goes
    fill: list                 # (leaf position, value slot) per tensor argument
    outputs: list              # value slot of each output
    mask: tuple | None         # slots whose masks make `mask=` (None: no mask argument)
    mask_kwargs: dict          # keyword -> slots, e.g. MultiHeadAttention's query_mask
    first: tuple | None        # slots of the first argument (its mask goes to compute_mask)


def _arg_slots(value, gather) -> tuple:
    return tuple(gather[leaf.index] for leaf in jax.tree_util.tree_leaves(value)
                 if isinstance(leaf, Arg))


@functools.lru_cache(maxsize=1024)
def _call_parameters(call, skip: int) -> list:
    """The parameters of a layer's `call` after the first `skip`, once per function."""
    try:
        params = list(inspect.signature(call).parameters.values())
    except (TypeError, ValueError):
        return []
    return params[skip:]


def _mask_plan(layer, arguments, gather):
    """Which masks a call receives, by Keras 3's rule (`Layer.__call__`, step 6).

    One tensor argument: its mask goes to `mask=` (a list argument gives a list).
    Several: argument `k`'s mask goes to `k_mask=` where `call` has that parameter
    (MultiHeadAttention's query_mask/value_mask/key_mask); an RNN given `initial_state`
    gets no mask, as in Keras. `compute_mask` sees the first argument's mask.
    """
    args, kwargs = arguments
    call = layer.call
    bound = hasattr(call, "__func__")          # self, then (params, state) unless Keras's form
    params = _call_parameters(getattr(call, "__func__", call),
                              int(bound) + (0 if layer.keras_form else 2))
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    named = [(positional[i] if i < len(positional) else None, a) for i, a in enumerate(args)]
    named += list(kwargs.items())
    tensor_args = [(k, _arg_slots(v, gather)) for k, v in named if _arg_slots(v, gather)]
    accepted = {p.name for p in params}
    first = _arg_slots(args[0], gather) if args else None
    if len(tensor_args) == 1:
        return tensor_args[0][1], {}, first
    by_keyword = {f"{k}_mask": slots for k, slots in tensor_args if k and f"{k}_mask" in accepted}
    return None, by_keyword, first


def plan(graph) -> tuple:
    """`(input slots, steps, output slots, number of slots, loss slots)` in the graph's node
    order (topological: a model's graph is built in call order); the loss slots hold the
    values of the graph's `losses` (add_loss in a subclassed model's call)."""
    slot = {}
    input_keys = flat(graph.graph["inputs"])
    for key in input_keys:
        slot[(key, 0)] = len(slot)
    steps = []
    for key, data in graph.nodes(data=True):
        if key in input_keys:
            continue
        gather = [slot[source] for source in argument_sources(graph, key)]
        leaves, treedef = jax.tree_util.tree_flatten(data["arguments"])
        fill = [(i, gather[leaf.index]) for i, leaf in enumerate(leaves) if isinstance(leaf, Arg)]
        leaves = [None if isinstance(leaf, Arg) else leaf for leaf in leaves]
        outputs = []
        for i in range(len(data["outputs"])):
            slot[(key, i)] = len(slot)
            outputs.append(slot[(key, i)])
        mask, mask_kwargs, first = _mask_plan(data["layer"], data["arguments"], gather)
        steps.append(Step(data["layer"], treedef, leaves, fill, outputs, mask, mask_kwargs, first))
    output_slots = [slot[tuple(ref)] for ref in flat(graph.graph["outputs"])]
    loss_slots = [slot[tuple(ref)] for ref in graph.graph.get("losses", ())]
    return [slot[(k, 0)] for k in input_keys], steps, output_slots, len(slot), loss_slots


def _merged(masks, slots):
    """The mask of one argument: None if none of its tensors has one, the mask itself for
    one tensor, else a list with one mask (or None) per tensor, as Keras passes it."""
    if slots is None:
        return None
    found = [masks[s] for s in slots]
    if all(m is None for m in found):
        return None
    return found[0] if len(found) == 1 else found


def _first_argument_masks(step, masks):
    """The masks of a call's first argument in that argument's structure (None where a
    tensor carries none): what a nested model's `mask=` receives, as in Keras."""
    leaves = [None] * len(step.leaves)
    for position, s in step.fill:
        leaves[position] = masks[s]
    args, _ = step.treedef.unflatten(leaves)
    return args[0] if args else None


def logits_plan(graph) -> list:
    """Per model output, the activation ("softmax"/"sigmoid") its layer applies last to values
    `run(..., logits=True)` can return, or None."""
    out = []
    for key, _ in (tuple(ref) for ref in flat(graph.graph["outputs"])):
        data = graph.nodes[key]
        single = len(data["outputs"]) == 1 and graph.in_degree(key) > 0
        out.append(data["layer"].logits_activation() if single else None)
    return out


def make_run(graph, remat=()):
    """`run(params, state, inputs, training, rng) -> (outputs, new_state, activity_loss)`;
    `activity_loss` holds every loss the run adds: activity penalties, layers' add_loss and
    the graph's `losses`. The calls of the nodes named in `remat` are recomputed in the
    backward pass (`jax.checkpoint`) instead of keeping their residuals.

    With `logits=True` a fourth value lists, per output, the values behind its final
    softmax/sigmoid (None where `logits_plan` has none): losses can start from them. With
    `masks=True` a last value lists, per output, the mask it carries (Keras's `_keras_mask`,
    None where none): losses and metrics weight their values by it. `input_masks` (one per
    input, or None) are the masks the inputs carry: a model nested in another runs on the
    masks its arguments carry, as Keras's does.
    """
    input_slots, steps, output_slots, n_slots, loss_slots = plan(graph)
    wanted = {s for s, activation in zip(output_slots, logits_plan(graph)) if activation}
    logit_steps = {i for i, step in enumerate(steps)
                   if len(step.outputs) == 1 and step.outputs[0] in wanted}
    if remat:
        from .costing.checkpoint import checkpointed
    remat, inputs = set(remat), set(flat(graph.graph["inputs"]))
    recompute = {i for i, key in enumerate(k for k in graph.nodes if k not in inputs)
                 if key in remat}

    def run(params, state, inputs, training=False, rng=None, logits=False, masks=False,
            input_masks=None):
        behind = logit_steps if logits else ()
        logit_values = {}
        want_masks, masks = masks, [None] * n_slots
        values = [None] * n_slots
        for s, x in zip(input_slots, inputs):
            values[s] = x
        for s, m in zip(input_slots, input_masks or ()):
            masks[s] = m
        new_state = dict(state)
        activity_loss = 0.0
        for i, step in enumerate(steps):                       # gather -> call -> scatter
            layer = step.layer
            leaves = list(step.leaves)
            for position, s in step.fill:
                leaves[position] = values[s]
            args, kwargs = step.treedef.unflatten(leaves)
            kwargs = dict(kwargs)
            if layer.keras_form:
                # Keras attaches masks to tensors: a Keras-form layer's sub-layer called on
                # one of its arguments receives that argument's mask.
                by_value = {id(values[s]): masks[s] for _, s in step.fill if masks[s] is not None}
                carried = {j: by_value[id(a)] for j, a in enumerate(args) if id(a) in by_value}
                if carried:
                    kwargs["_arg_masks"] = carried
            node_training = kwargs.pop("training", training)
            mask = _merged(masks, step.mask)
            if layer.receives_mask and mask is not None and "mask" not in kwargs:
                kwargs["mask"] = mask
            for keyword, slots in step.mask_kwargs.items():     # `call` takes these by name
                if kwargs.get(keyword) is None:
                    m = _merged(masks, slots)
                    if m is not None:
                        kwargs[keyword] = m
            if mask is None and step.first != step.mask:
                mask = _merged(masks, step.first)
            key = None if rng is None else jax.random.fold_in(rng, i)
            with_logits, with_losses = layer.call_with_logits, layer.call_with_losses
            nested = getattr(layer, "masks_from_graph", False)
            if nested:              # a model: its graph turns its inputs' masks into its outputs'
                with_losses = layer.call_with_masks
                kwargs["masks"] = _first_argument_masks(step, masks)
            if i in recompute:
                with_logits, with_losses = checkpointed(with_logits), checkpointed(with_losses)
            if nested:
                outputs, new_state[layer.name], loss, per_output = with_losses(
                    params[layer.name], new_state[layer.name], *args,
                    training=node_training, rng=key, **kwargs)
            elif i in behind:
                outputs, new_state[layer.name], loss, logit_values[step.outputs[0]] = \
                    with_logits(params[layer.name], new_state[layer.name], *args,
                                training=node_training, rng=key, **kwargs)
            else:
                outputs, new_state[layer.name], loss = with_losses(
                    params[layer.name], new_state[layer.name], *args,
                    training=node_training, rng=key, **kwargs)
            activity_loss = activity_loss + loss
            out_leaves = jax.tree_util.tree_leaves(outputs)
            n = len(step.outputs)
            if not nested:
                out_mask = layer.output_mask(args, mask)
                # A multi-output layer may give one mask per output as a tuple (an RNN's
                # states carry none); otherwise every output carries the same mask.
                per_output = (out_mask if isinstance(out_mask, tuple) and n > 1
                              and len(out_mask) == n else [out_mask] * n)
            for s, value, m in zip(step.outputs, out_leaves, per_output):
                values[s], masks[s] = value, m
        for s in loss_slots:        # Keras sums each added loss (floatx if not float)
            added = values[s]
            if not jnp.issubdtype(added.dtype, jnp.floating):
                added = added.astype(jnp.float32)
            activity_loss = activity_loss + jnp.sum(added)
        out = (([values[s] for s in output_slots], new_state, activity_loss)
               + (([logit_values.get(s) for s in output_slots],) if logits else ())
               + (([masks[s] for s in output_slots],) if want_masks else ()))
        return out

    return run
