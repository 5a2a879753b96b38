"""The model's DiGraph to one pure function of (params, state, inputs)."""
import jax
import networkx as nx

from .symbolic import SymbolicTensor


def _merge_masks(masks):
    present = [m for m in masks if m is not None]
    if not present:
        return None
    return masks[0] if len(masks) == 1 else masks


def make_run(graph, input_tensors, output_tensors):
    """`run(params, state, inputs, training, rng) -> (outputs, new_state, activity_loss)`.

    The order is computed once here and replayed whenever the function is traced; values
    are keyed by the symbolic tensor they stand for, so `Add()([x, x])` reads x twice.
    """
    order = list(nx.lexicographical_topological_sort(graph, key=lambda k: graph.nodes[k]["call"].id))
    input_set = {t.node for t in input_tensors}
    steps = [graph.nodes[k]["call"] for k in order if graph.nodes[k]["call"] not in input_set]

    def run(params, state, inputs, training=False, rng=None):
        values = dict(zip(input_tensors, inputs))
        masks = {}
        new_state = dict(state)
        activity_loss = 0.0
        for i, node in enumerate(steps):
            layer = node.layer
            leaves = [values[leaf] if isinstance(leaf, SymbolicTensor) else leaf
                      for leaf in node.leaves]
            args, kwargs = node.treedef.unflatten(leaves)
            kwargs = dict(kwargs)
            node_training = kwargs.pop("training", training)
            mask = _merge_masks([masks.get(t) for t in node.inputs])
            if mask is not None and layer.supports_masking and "mask" not in kwargs:
                kwargs["mask"] = mask
            key = None if rng is None else jax.random.fold_in(rng, i)
            outputs, new_state[layer.name], loss = layer.call_with_losses(
                params[layer.name], new_state[layer.name], *args,
                training=node_training, rng=key, **kwargs)
            activity_loss = activity_loss + loss
            out_leaves = node.out_treedef.flatten_up_to(outputs)
            out_mask = layer.compute_mask(args, mask)
            # A multi-output layer may give one mask per output as a tuple (an RNN's
            # states carry none); otherwise every output carries the same mask.
            per_output = (out_mask if isinstance(out_mask, tuple) and len(node.outputs) > 1
                          and len(out_mask) == len(node.outputs) else [out_mask] * len(node.outputs))
            for t, value, m in zip(node.outputs, out_leaves, per_output):
                values[t] = value
                if m is not None:
                    masks[t] = m
        return [values[t] for t in output_tensors], new_state, activity_loss

    return run
