"""What a picture of a model shows: boxes, edges and clusters as plain data, one for all formats.

The DOT and Mermaid writers only format this; neither reads the model. Box ids are graph keys
(`dense`, `dense@1` for a shared layer's second call), prefixed by the call key of each expanded
nested model (`encoder/dense`), so a model called twice draws its layers once per call. A call
is marked shared where its layer is called more than once in the same graph; the layers of a
shared nested model are marked through its cluster, not one by one.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from ..layers.base import InputLayer, shape_str

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


def activation_name(layer) -> str | None:
    fn = getattr(layer, "activation", None)
    if not callable(fn):
        return None
    from .. import activations
    try:
        return activations.serialize(fn)
    except ValueError:
        return getattr(fn, "__name__", type(fn).__name__)


def _model_graph(model):
    if not getattr(model, "built", True):
        raise ValueError(f"Model '{model.name}' has no input shape yet, so there is nothing to "
                         f"draw: pass input_shape= to its first layer, add a graphnet.Input, or "
                         f"call it on data first")
    return model.graph


def scene(model, expand_nested: bool = False) -> Scene:
    """The drawing of `model.graph`; with `expand_nested`, nested models become clusters."""
    from ..model import Model
    boxes, edges, clusters, seen_edges = [], [], [], set()

    def connect(sources, target):
        for source in sources:
            if (source, target) not in seen_edges:
                seen_edges.add((source, target))
                edges.append((source, target))

    def draw(model, prefix, cluster, input_sources):
        """Adds `model`'s boxes; returns, per model output, the box ids that produce it."""
        graph = _model_graph(model)
        keys = model.node_keys
        produced = {}                      # (node key, output index) -> box ids
        calls = Counter(id(layer) for _, layer in graph.nodes(data="layer"))
        seen = Counter()
        for key, data in graph.nodes(data=True):
            node, layer = data["call"], data["layer"]
            seen[id(layer)] += 1
            call = dict(call=seen[id(layer)], calls=calls[id(layer)])
            if isinstance(layer, InputLayer) and input_sources is not None:
                position = next(i for i, t in enumerate(model.inputs) if t is node.outputs[0])
                produced[(key, 0)] = input_sources[position]
                continue
            sources = [produced[(keys[t.node], t.index)] for t in node.inputs]
            if expand_nested and isinstance(layer, Model):
                inner = f"{prefix}{key}"
                clusters.append(Cluster(inner, layer.name, type(layer).__name__, cluster, **call))
                args, _ = node.treedef.unflatten(node.leaves)
                fed = layer.flatten_inputs(args[0], "Model")
                inner_sources = [produced[(keys[t.node], t.index)] for t in fed]
                for j, ids in enumerate(draw(layer, inner + "/", inner, inner_sources)):
                    produced[(key, j)] = ids
                continue
            box_id = f"{prefix}{key}"
            is_input = isinstance(layer, InputLayer)
            boxes.append(Box(
                id=box_id, name=layer.name, type=type(layer).__name__, layer=layer,
                is_input=is_input,
                is_model=isinstance(layer, Model),
                input_shapes=[t.shape for t in node.inputs],
                output_shapes=[t.shape for t in node.outputs],
                dtypes=[t.dtype.name for t in node.outputs],
                activation=activation_name(layer), trainable=layer.trainable,
                has_weights=not is_input and layer.count_params() > 0, cluster=cluster, **call))
            for ids in sources:
                connect(ids, box_id)
            for i in range(len(node.outputs)):
                produced[(key, i)] = [box_id]
        return [produced[(keys[t.node], t.index)] for t in model.outputs]

    # The outer model's outputs, wherever they are drawn (inside a cluster when expanded).
    output_ids = {box_id for ids in draw(model, "", None, None) for box_id in ids}
    for box in boxes:
        box.is_output = box.id in output_ids
    return Scene(boxes, edges, clusters)


def trunk_boxes(model, drawing) -> set:
    """Ids of the top-level boxes whose layer is in the shared trunk: an ancestor of two or
    more trained outputs (all outputs before compile)."""
    from ..train.heads import trunk_layers
    trainer = getattr(model, "_trainer", None)
    outputs = (trainer.spec.trained_outputs if trainer is not None
               else list(range(len(model.outputs))))
    names = set(trunk_layers(model, outputs)) if len(outputs) > 1 else set()
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


def check_rankdir(rankdir) -> None:
    if rankdir not in RANKDIRS:
        raise ValueError(f"rankdir must be one of {list(RANKDIRS)}, received {rankdir!r}")
