"""A model that begins with host layers (text, lookups, hashing): their nodes run on the
host with NumPy on each batch, and the compiled program starts from their outputs.

Strings never reach the device. The model's graph keeps the host nodes (their `layer`
has `runs_on_host`); the device program is the graph with each host node's input replaced
by an input that takes the host node's output.
"""
from __future__ import annotations

import numpy as np

from .graph import argument_sources, flat
from .layers.input_layer import InputLayer
from .symbolic import shape_str


def is_host(layer) -> bool:
    """Whether a graph node's layer runs on the host (before the compiled program)."""
    return bool(getattr(layer, "runs_on_host", False))


class HostPrefix:
    """The host nodes at the start of a model: model input `i` passes through `steps[i]`
    (a host layer, or None) before the compiled program takes it."""

    def __init__(self, steps, device_graph, device_specs):
        self.steps = steps
        self.device_graph = device_graph
        self.device_specs = device_specs      # TensorSpec of each compiled-program input

    def run(self, arrays, input_names, model_name, who):
        """The compiled program's inputs from the user's: each host layer applied to its
        model input, its output checked against the shape the graph was built with."""
        out = []
        for layer, spec, name, value in zip(self.steps, self.device_specs, input_names, arrays):
            if layer is None:
                out.append(value)
                continue
            value = np.asarray(layer(value))
            if value.ndim != len(spec.shape) or any(
                    e is not None and e != r for e, r in zip(spec.shape[1:], value.shape[1:])):
                raise ValueError(f"{who}: {type(layer).__name__} '{layer.name}' on input "
                                 f"'{name}' of model '{model_name}' gave shape "
                                 f"{tuple(value.shape)}, but the model was built for "
                                 f"{shape_str(spec.shape)}")
            out.append(value.astype(spec.dtype))
        return out


def split(graph, model_name):
    """A `HostPrefix` for a model graph with host nodes, or None without any.

    Each host node must take one model input that nothing else takes (Keras's
    `Input(dtype="string")` then `TextVectorization`), and only device layers may take its
    output; anything else is a NotImplementedError that names the node.
    """
    for key, data in graph.nodes(data=True):
        if getattr(data["layer"], "_host", None) is not None:
            raise NotImplementedError(
                f"Model '{model_name}': the model '{key}' begins with host layers, so it "
                f"cannot be called as a layer inside another model; call its host layers "
                f"on this model's inputs and its other layers after them")
    host = [k for k, d in graph.nodes(data=True) if is_host(d["layer"])]
    if not host:
        return None
    input_keys = flat(graph.graph["inputs"])
    device = graph.copy()
    steps = [None] * len(input_keys)
    specs = [graph.nodes[k]["outputs"][0] for k in input_keys]
    for key in host:
        layer = graph.nodes[key]["layer"]
        sources = argument_sources(graph, key)
        source = sources[0][0] if len(sources) == 1 else None
        if source not in input_keys or graph.out_degree(source) != 1 or any(
                is_host(graph.nodes[c]["layer"]) for c in graph.successors(key)):
            raise NotImplementedError(
                f"Model '{model_name}': {type(layer).__name__} '{key}' runs on the host, so "
                f"inside a model it must take one model input that no other layer takes, and "
                f"feed layers that run on the device; apply it to the data instead")
        spec = graph.nodes[key]["outputs"][0]
        position = input_keys.index(source)
        steps[position], specs[position] = layer, spec
        stand_in = InputLayer(shape=spec.shape[1:], dtype=spec.dtype.name,
                              name=f"{source}_after_{layer.name}")
        device.nodes[source].update(layer=stand_in, outputs=(spec,))
        for consumer in graph.successors(key):
            device.add_edge(source, consumer, **dict(graph.edges[key, consumer]))
        device.remove_node(key)
    return HostPrefix(steps, device, specs)
