"""`model.summary()`: one row per layer call, then the parameter totals."""
import jax
import numpy as np

from .layers.base import InputLayer, shape_str


def _size(tree) -> int:
    return int(sum(np.size(x) for x in jax.tree_util.tree_leaves(tree)))


def parameter_totals(model) -> tuple[int, int]:
    """(trainable, non-trainable): state and frozen layers' params are non-trainable."""
    mask = jax.tree_util.tree_leaves(model.trainable_mask())
    sizes = [np.size(x) for x in jax.tree_util.tree_leaves(model.params)]
    trainable = int(sum(s for s, m in zip(sizes, mask) if m))
    return trainable, model.count_params() - trainable


def summary_text(model) -> str:
    rows = [("Layer (type)", "Output Shape", "Param #", "Connected to")]
    counted = set()
    for key in model.graph.nodes:
        node = model.graph.nodes[key]["call"]
        layer = node.layer
        shapes = [shape_str(t.shape) for t in node.outputs]
        params = 0 if layer in counted or isinstance(layer, InputLayer) else layer.count_params()
        counted.add(layer)
        inbound = [model.node_keys[t.node] for t in node.inputs]
        rows.append((f"{key} ({type(layer).__name__})", ", ".join(shapes), f"{params:,}",
                     ", ".join(inbound) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    line = "+".join("-" * (w + 2) for w in widths)

    def fmt(row):
        return "|".join(f" {cell:<{w}} " if i != 2 else f" {cell:>{w}} "
                        for i, (cell, w) in enumerate(zip(row, widths)))

    trainable, frozen = parameter_totals(model)
    lines = [f'Model: "{model.name}"', line, fmt(rows[0]), line.replace("-", "=")]
    lines += [fmt(r) for r in rows[1:]]
    lines += [line,
              f"Total params: {trainable + frozen:,}",
              f"Trainable params: {trainable:,}",
              f"Non-trainable params: {frozen:,}"]
    return "\n".join(lines)
