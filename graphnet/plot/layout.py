"""What a picture of a model shows: boxes, edges and clusters as plain data, one for all formats.

Drawn from `model.graph` alone; the DOT and Mermaid writers only format this. Box ids are graph keys
(`dense`, `dense@1` for a shared layer's second call), prefixed by the call key of each expanded
nested model (`encoder/dense`), so a model called twice draws its layers once per call. A call
is marked shared where its layer is called more than once in the same graph; the layers of a
shared nested model are marked through its cluster, not one by one.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import jax
import networkx as nx
import numpy as np

from ..graph import Arg, argument_sources, flat, trunk_layers
from ..layers.base import shape_str

RANKDIRS = ("TB", "LR", "BT", "RL")


@dataclass
class Box:
    """One layer call (or model input) as drawn."""
    id: str
    name: str
    type: str
    layer: object
    is_input: bool = False
    is_output: bool = False
    is_model: bool = False                 # a nested model drawn as one box
    input_shapes: list = field(default_factory=list)
    output_shapes: list = field(default_factory=list)
    dtypes: list = field(default_factory=list)
    activation: str | None = None
    trainable: bool = True
    has_weights: bool = False
    call: int = 1                          # this box is call `call` of `calls` of its layer
    calls: int = 1
    cluster: str | None = None             # id of the innermost cluster holding the box
    mark: str | None = None                # "added" or "changed" when a diff is highlighted


@dataclass
class Cluster:
    """An expanded nested model: its boxes are drawn inside a frame."""
    id: str
    name: str
    type: str
    parent: str | None
    call: int = 1
    calls: int = 1


@dataclass
class Scene:
    boxes: list
    edges: list                            # (source box id, target box id), no duplicates
    clusters: list
    masked: set = field(default_factory=set)   # the edges whose tensor carries a mask


def activation_name(layer) -> str | None:
    fn = getattr(layer, "activation", None)
    if not callable(fn):
        return None
    from .. import activations
    try:
        return activations.serialize(fn)
    except ValueError:
        return getattr(fn, "__name__", type(fn).__name__)


def model_graph(model):
    """The graph a picture is drawn from: `model.graph`, or a clear error before there is one."""
    if getattr(model, "built", True) is False:
        raise ValueError(f"Model '{model.name}' has no input shape yet, so there is nothing to "
                         f"draw: pass input_shape= to its first layer, add a graphnet.Input, or "
                         f"call it on data first")
    graph = getattr(model, "graph", None)
    if not isinstance(graph, nx.DiGraph):
        raise TypeError(f"expected a graphnet Model or Sequential, received "
                        f"{type(model).__name__}")
    return graph


def _nested_graph(layer):
    """The graph of a layer that is itself a model, else None."""
    if getattr(layer, "built", True) is False:
        return None
    graph = getattr(layer, "graph", None)
    return graph if isinstance(graph, nx.DiGraph) else None


def _inner_inputs(graph, inner, arguments, sources):
    """Per input of the nested graph `inner`, the (source, output) that feeds it."""
    keys = flat(inner.graph["inputs"])
    args, _ = arguments
    first = args[0] if args else None
    if isinstance(first, dict):
        structure = inner.graph["inputs"]
        names = dict(structure) if isinstance(structure, dict) else {}
        by_key = {}
        for name, value in first.items():
            key = names.get(name, name)
            leaves = [leaf for leaf in jax.tree_util.tree_leaves(value) if isinstance(leaf, Arg)]
            if leaves:
                by_key[key] = sources[leaves[0].index]
        return [by_key.get(k) for k in keys]
    order = [leaf.index for leaf in jax.tree_util.tree_leaves(first) if isinstance(leaf, Arg)]
    return [sources[i] for i in order][:len(keys)]


def scene(model, expand_nested: bool = False, highlight=None) -> Scene:
    """The drawing of `model.graph`; with `expand_nested`, nested models become clusters.

    Reads only graphs: the model's, and a nested model's own `graph`. `highlight` maps
    top-level node keys to a mark ("added", "changed") drawn on their boxes.
    """
    boxes, edges, clusters, seen_edges, masked = [], [], [], set(), set()
    highlight = highlight or {}

    def connect(sources, target, mask=None):
        for source in sources:
            if (source, target) not in seen_edges:
                seen_edges.add((source, target))
                edges.append((source, target))
            if mask is not None:                # the graph edge's `mask` attribute
                masked.add((source, target))

    def draw(graph, prefix, cluster, input_sources):
        """Adds the graph's boxes; returns, per graph output, the box ids that produce it."""
        produced = {}                      # (node key, output index) -> box ids
        calls = Counter(id(layer) for _, layer in graph.nodes(data="layer"))
        seen = Counter()
        input_keys = flat(graph.graph["inputs"])
        for key, data in graph.nodes(data=True):
            layer = data["layer"]
            seen[id(layer)] += 1
            call = dict(call=seen[id(layer)], calls=calls[id(layer)])
            sources = argument_sources(graph, key)
            is_input = not sources
            if is_input and input_sources is not None:
                produced[(key, 0)] = input_sources[input_keys.index(key)]
                continue
            arg_ids = [produced[source] for source in sources]
            inner = _nested_graph(layer)
            if expand_nested and inner is not None:
                cluster_id = f"{prefix}{key}"
                clusters.append(Cluster(cluster_id, layer.name, type(layer).__name__, cluster,
                                        **call))
                fed = _inner_inputs(graph, inner, data["arguments"], sources)
                inner_sources = [produced[s] if s is not None else [] for s in fed]
                for j, ids in enumerate(draw(inner, cluster_id + "/", cluster_id, inner_sources)):
                    produced[(key, j)] = ids
                continue
            box_id = f"{prefix}{key}"
            outputs = data["outputs"]
            boxes.append(Box(
                id=box_id, name=layer.name, layer=layer,
                type=type(layer).__name__ + (" (host)" if data.get("host") else ""),
                is_input=is_input, is_model=inner is not None,
                input_shapes=[graph.nodes[s]["outputs"][o].shape for s, o in sources],
                output_shapes=[spec.shape for spec in outputs],
                dtypes=[np.dtype(spec.dtype).name for spec in outputs],
                activation=activation_name(layer), trainable=layer.trainable,
                has_weights=not is_input and layer.count_params() > 0, cluster=cluster,
                mark=highlight.get(key) if prefix == "" else None, **call))
            for (source, _), ids in zip(sources, arg_ids):
                connect(ids, box_id, graph.edges[source, key].get("mask"))
            for i in range(len(outputs)):
                produced[(key, i)] = [box_id]
        return [produced[tuple(ref)] for ref in flat(graph.graph["outputs"])]

    # The outer model's outputs, wherever they are drawn (inside a cluster when expanded).
    output_ids = {box_id for ids in draw(model_graph(model), "", None, None) for box_id in ids}
    for box in boxes:
        box.is_output = box.id in output_ids
    return Scene(boxes, edges, clusters, masked)


def trunk_boxes(model, drawing) -> set:
    """Ids of the top-level boxes whose layer is in the shared trunk: an ancestor of two or
    more trained outputs (all outputs before compile)."""
    trained = model.loss_weights          # None before compile, else by trained output
    outputs = [i for i, name in enumerate(model.output_names)
               if trained is None or name in trained]
    names = set(trunk_layers(model.graph, outputs)) if len(outputs) > 1 else set()
    return {box.id for box in drawing.boxes
            if box.cluster is None and not box.is_input and box.layer.name in names}


def shapes_text(shapes) -> str:
    """`(None, 64)`, or `2 × (None, 64)` for repeats, comma-separated in call order."""
    parts, counts = [], {}
    for s in shapes:
        text = shape_str(s)
        if text not in counts:
            parts.append(text)
        counts[text] = counts.get(text, 0) + 1
    return ", ".join(t if counts[t] == 1 else f"{counts[t]} × {t}" for t in parts)


MARKS = ("added", "changed", "removed")


def marks(highlight) -> dict:
    """`highlight` as {node key: mark}: a diff (its `marks()`), a dict, or keys (changed)."""
    if highlight is None:
        return {}
    if hasattr(highlight, "marks"):
        highlight = highlight.marks()
    if isinstance(highlight, str):
        highlight = [highlight]
    if not isinstance(highlight, dict):
        highlight = {key: "changed" for key in highlight}
    for key, mark in highlight.items():
        if mark not in MARKS:
            raise ValueError(f"highlight: node {key!r} is marked {mark!r}; marks are "
                             f"{list(MARKS)}")
    return dict(highlight)


def check_rankdir(rankdir) -> None:
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {list(RANKDIRS)}, received {rankdir!r}")
