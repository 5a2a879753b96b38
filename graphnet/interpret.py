"""The model's DiGraph to one pure function of (params, state, inputs)."""
import inspect

import jax
import networkx as nx

from .symbolic import SymbolicTensor


def _merge_masks(masks):
    present = [m for m in masks if m is not None]
    if not present:
        return None
    return masks[0] if len(masks) == 1 else masks


def _has_tensor(value) -> bool:
    return any(isinstance(leaf, SymbolicTensor) for leaf in jax.tree_util.tree_leaves(value))


def _mask_plan(node):
    """Which masks a call receives, by Keras 3's rule (`Layer.__call__`, step 6).

    One tensor argument: its mask goes to `mask=` (a list argument gives a list).
    Several: argument `k`'s mask goes to `k_mask=` where `call` has that parameter
    (MultiHeadAttention's query_mask/value_mask/key_mask); an RNN given `initial_state`
    gets no mask, as in Keras. `compute_mask` sees the first argument's mask.
    Returns (mask argument or None, {keyword: argument}, first argument or None).
    """
    args, kwargs = node.treedef.unflatten(node.leaves)
    try:
        params = list(inspect.signature(node.layer.call).parameters.values())
        params = params if node.layer._keras_form else params[2:]
    except (TypeError, ValueError):
        params = []
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    named = [(positional[i] if i < len(positional) else None, a) for i, a in enumerate(args)]
    named += list(kwargs.items())
    tensor_args = [(k, v) for k, v in named if _has_tensor(v)]
    accepted = {p.name for p in params}
    first = args[0] if args else None
    if len(tensor_args) == 1:
        return tensor_args[0][1], {}, first
    by_keyword = {f"{k}_mask": v for k, v in tensor_args if k and f"{k}_mask" in accepted}
    return None, by_keyword, first


def logits_plan(output_tensors):
    """Per output, the activation ("softmax"/"sigmoid") its layer applies last to values
    `run(..., logits=True)` can return, or None."""
    return [t.node.layer.logits_activation() if len(t.node.outputs) == 1 else None
            for t in output_tensors]


def make_run(graph, input_tensors, output_tensors):
    """`run(params, state, inputs, training, rng) -> (outputs, new_state, activity_loss)`.

    The order is computed once here and replayed whenever the function is traced; values
    are keyed by the symbolic tensor they stand for, so `Add()([x, x])` reads x twice.
    With `logits=True` a fourth value lists, per output, the values behind its final
    softmax/sigmoid (None where `logits_plan` has none): losses can start from them.
    """
    order = list(nx.lexicographical_topological_sort(graph, key=lambda k: graph.nodes[k]["call"].id))
    input_set = {t.node for t in input_tensors}
    steps = [graph.nodes[k]["call"] for k in order if graph.nodes[k]["call"] not in input_set]
    plans = [_mask_plan(node) for node in steps]

    def run(params, state, inputs, training=False, rng=None, logits=False):
        behind = ({t.node for t, a in zip(output_tensors, logits_plan(output_tensors)) if a}
                  if logits else set())
        logit_values = {}
        values = dict(zip(input_tensors, inputs))
        masks = {}

        def mask_of(argument):
            if argument is None:
                return None
            return _merge_masks([masks.get(t) for t in jax.tree_util.tree_leaves(argument)
                                 if isinstance(t, SymbolicTensor)])
        new_state = dict(state)
        activity_loss = 0.0
        for i, (node, (mask_arg, mask_kwargs, first_arg)) in enumerate(zip(steps, plans)):
            layer = node.layer
            leaves = [values[leaf] if isinstance(leaf, SymbolicTensor) else leaf
                      for leaf in node.leaves]
            args, kwargs = node.treedef.unflatten(leaves)
            kwargs = dict(kwargs)
            if layer._keras_form:
                # Keras attaches masks to tensors: a Keras-form layer's sub-layer called on
                # one of its arguments receives that argument's mask.
                symbolic_args = node.treedef.unflatten(node.leaves)[0]
                carried = {j: masks[a] for j, a in enumerate(symbolic_args)
                           if isinstance(a, SymbolicTensor) and a in masks}
                if carried:
                    kwargs["_arg_masks"] = carried
            node_training = kwargs.pop("training", training)
            mask = mask_of(mask_arg)
            if mask is not None and layer.receives_mask and "mask" not in kwargs:
                kwargs["mask"] = mask
            if layer.receives_mask:
                for keyword, argument in mask_kwargs.items():
                    if kwargs.get(keyword) is None and mask_of(argument) is not None:
                        kwargs[keyword] = mask_of(argument)
            if mask is None:
                mask = mask_of(first_arg)
            key = None if rng is None else jax.random.fold_in(rng, i)
            if node in behind:
                outputs, new_state[layer.name], loss, logit_values[node] = layer.call_with_logits(
                    params[layer.name], new_state[layer.name], *args,
                    training=node_training, rng=key, **kwargs)
            else:
                outputs, new_state[layer.name], loss = layer.call_with_losses(
                    params[layer.name], new_state[layer.name], *args,
                    training=node_training, rng=key, **kwargs)
            activity_loss = activity_loss + loss
            out_leaves = node.out_treedef.flatten_up_to(outputs)
            out_mask = layer.output_mask(args, mask)
            # A multi-output layer may give one mask per output as a tuple (an RNN's
            # states carry none); otherwise every output carries the same mask.
            per_output = (out_mask if isinstance(out_mask, tuple) and len(node.outputs) > 1
                          and len(out_mask) == len(node.outputs) else [out_mask] * len(node.outputs))
            for t, value, m in zip(node.outputs, out_leaves, per_output):
                values[t] = value
                if m is not None:
                    masks[t] = m
        outputs = [values[t] for t in output_tensors]
        if logits:
            return outputs, new_state, activity_loss, [logit_values.get(t.node)
                                                        for t in output_tensors]
        return outputs, new_state, activity_loss

    return run
