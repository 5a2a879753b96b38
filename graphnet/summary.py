"""`model.summary()`: one row per layer call, read from `model.graph`, then the totals."""
import jax
import numpy as np

from .functional import Functional, graph_layers
from .graph import argument_sources, flat, has_arguments
from .layers.base import shape_str


def _size(tree) -> int:
    return int(sum(np.size(x) for x in jax.tree_util.tree_leaves(tree)))


def parameter_totals(model) -> tuple[int, int]:
    """(trainable, non-trainable): state and frozen layers' params are non-trainable.

    Each layer counts once, also one used both inside a nested model and directly."""
    trainable, seen = 0, set()

    def walk(m, parent):
        nonlocal trainable
        for layer in graph_layers(m.graph):
            if id(layer) in seen:
                continue
            seen.add(id(layer))
            flag = parent and layer.trainable
            if isinstance(layer, Functional):
                walk(layer, flag)
            elif flag:
                trainable += _size(layer.params)
    walk(model, model.trainable)
    return trainable, model.count_params() - trainable


def summary_text(model) -> str:
    rows = [("Layer (type)", "Output Shape", "Param #", "Connected to")]
    counted = set()
    graph = model.graph
    for key, data in graph.nodes(data=True):
        layer = data["layer"]
        shapes = [shape_str(spec.shape) for spec in data["outputs"]]
        params = 0 if layer in counted or not has_arguments(graph, key) else layer.count_params()
        counted.add(layer)
        inbound = [source for source, _ in argument_sources(graph, key)]
        rows.append((f"{key} ({keras_type(layer)})", ", ".join(shapes), f"{params:,}",
                     ", ".join(inbound) or "-"))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    line = "+".join("-" * (w + 2) for w in widths)

    def fmt(row):
        return "|".join(f" {cell:<{w}} " if i != 2 else f" {cell:>{w}} "
                        for i, (cell, w) in enumerate(zip(row, widths)))

    trainable, frozen = parameter_totals(model)
    lines = [f'Model: "{model.name}"', line, fmt(rows[0]), line.replace("-", "=")]
    lines += [fmt(r) for r in rows[1:]]
    lines += [line] + mask_lines(model)
    lines += [f"Total params: {trainable + frozen:,}",
              f"Trainable params: {trainable:,}",
              f"Non-trainable params: {frozen:,}"]
    return "\n".join(lines)


def mask_lines(model) -> list:
    """Where the model's masks start and stop (none when it carries none): the calls that
    make a mask from unmasked inputs, those that receive one and pass none on, and the
    outputs that carry one (their loss and metrics are weighted by it)."""
    graph = model.graph
    output_keys = {}
    for (key, _), tensor in zip(flat(graph.graph["outputs"]), model.outputs):
        output_keys[key] = output_keys.get(key, False) or tensor.mask_spec is not None

    def carries(key):
        return (any(mask is not None for _, _, mask in graph.out_edges(key, data="mask"))
                or output_keys.get(key, False))

    def receives(key):
        return any(mask is not None for _, _, mask in graph.in_edges(key, data="mask"))

    made = [key for key in graph if carries(key) and not receives(key)]
    if not made:
        return []
    stop = [key for key in graph if receives(key) and not carries(key)]
    reach = [key for key in output_keys if carries(key)]
    parts = [f"made by {', '.join(made)}", f"stop at {', '.join(stop) or 'no layer'}"]
    if reach:
        parts.append(f"weight the loss of {', '.join(reach)}")
    return [f"Masks: {'; '.join(parts)}"]


def keras_type(layer) -> str:
    """The type column as Keras writes it: graphnet's plain `Model` is Keras's `Functional`;
    Sequential, subclassed models and layers keep their class name."""
    cls = type(layer)
    if cls.__name__ == "Model" and cls.__module__ == "graphnet.model":
        return "Functional"
    return cls.__name__
