"""Architecture to JSON and back: every layer's get_config and the graph's connections.

A model's config lists its layers (each with an `id` unique in the whole nesting, so a
layer or model that appears in several places is written once and referred to after) and
its calls in graph order, each call's arguments with symbolic tensors written as
`{"tensor": [node key, output index]}`. Rebuilding replays the calls in that order, so
node keys (`name`, `name@1`, ...) and the weights' order come out the same. Classes come
from graphnet's own layer table or the user's registrations, never from the file.
"""
from __future__ import annotations

import contextlib
import json

from .. import initializers
import networkx as nx

from ..functional import fresh_call, from_graph
from ..graph import Arg, argument_sources, node_key
from ..layers.base import Layer
from ..layers.input_layer import InputLayer
from ..model import Model
from ..registry import get_registered, registered_name
from ..sequential import Sequential
from . import schema
from .archive import json_default


def layer_classes() -> dict:
    """graphnet's own layer classes by name: every Layer exported by `graphnet.layers`."""
    from .. import layers
    table = {name: obj for name, obj in vars(layers).items()
             if isinstance(obj, type) and issubclass(obj, Layer)}
    table.update(Model=Model, Sequential=Sequential)
    return table


def class_name(layer) -> str:
    """The name a layer's class is saved under: graphnet's name or the registered name."""
    cls = type(layer)
    if layer_classes().get(cls.__name__) is cls:
        return cls.__name__
    name = registered_name(cls)
    if name is None:
        raise ValueError(f"Layer '{layer.name}' is of class {cls.__qualname__}, which is not a "
                         f"graphnet layer and is not registered, so it cannot be saved: decorate "
                         f"the class with @graphnet.register_serializable() (and give it a "
                         f"get_config returning its constructor arguments)")
    return name


def resolve_class(name, layer_name="?"):
    """A saved class name to the class: graphnet's table, then the user's registrations."""
    if not isinstance(name, str):
        raise ValueError(f"layer '{layer_name}': class_name must be a string, found {name!r}")
    table = layer_classes()
    if name in table:
        return table[name]
    try:
        cls = get_registered(name)
    except ValueError:
        raise ValueError(f"layer '{layer_name}' is of class {name!r}, which is neither a "
                         f"graphnet layer nor registered: define the class and decorate it with "
                         f"@graphnet.register_serializable() before loading") from None
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"layer '{layer_name}': {name!r} is registered, but to "
                         f"{cls!r}, which is not a Layer class")
    return cls


def serialize_layer(layer) -> dict:
    """`{"class_name", "config"}` of one layer (Keras's `layers.serialize`), for wrappers."""
    return _layer_entry(layer, {})


def deserialize_layer(entry: dict):
    """The layer from `serialize_layer`'s dict (Keras's `layers.deserialize`)."""
    return _entry_layer(entry, _Rebuild(draw=True))


# ---- to JSON -------------------------------------------------------------------------
def model_config(model) -> dict:
    """`Model.get_config()`: the architecture as JSON-able data."""
    return _model_config(model, {})


def _layer_entry(layer, memo: dict) -> dict:
    if id(layer) in memo:
        return {"id": memo[id(layer)][0]}
    memo[id(layer)] = (len(memo), layer)          # keeps the layer alive: ids stay unique
    entry = {"id": memo[id(layer)][0], "class_name": class_name(layer)}
    if isinstance(layer, Model):
        entry["config"] = _model_config(layer, memo)
        return entry
    try:
        entry["config"] = layer.get_config()
        json.dumps(entry["config"], default=json_default)
    except (ValueError, TypeError) as err:
        raise ValueError(f"Cannot save layer '{layer.name}' ({type(layer).__name__}): {err}") from None
    if "name" not in entry["config"]:
        entry["name"] = layer.name      # a custom get_config without the name (Keras's guides)
    return entry


def _model_config(model, memo: dict) -> dict:
    if isinstance(model, Sequential):
        config = {"name": model.name, "trainable": model.trainable}
        if model.built:
            config["input"] = _layer_entry(model.inputs[0].node.layer, memo)
        config["layers"] = [_layer_entry(layer, memo) for layer in model.layers]
        return config
    graph = model.graph
    layers, nodes, seen = [], [], set()
    for key, data in graph.nodes(data=True):
        layer = data["layer"]
        if id(layer) not in seen:
            seen.add(id(layer))
            layers.append(_layer_entry(layer, memo))
        entry = {"layer": layer.name}
        if not isinstance(layer, InputLayer):
            args, kwargs = data["arguments"]
            sources = argument_sources(graph, key)
            where = f"call '{key}' of layer '{layer.name}'"
            entry["args"] = [_encode(a, sources, where) for a in args]
            if kwargs:
                entry["kwargs"] = {k: _encode(v, sources, where) for k, v in kwargs.items()}
        nodes.append(entry)
    config = {"name": model.name, "trainable": model.trainable, "layers": layers, "nodes": nodes,
              "inputs": _refs(graph.graph["inputs"], lambda key: [key, 0]),
              "outputs": _refs(graph.graph["outputs"], list)}
    if "losses" in graph.graph:
        config["losses"] = [{"tensor": list(ref)} for ref in graph.graph["losses"]]
    if getattr(model, "subclassed", False):
        # A subclassed model is saved as its traced graph; its layer attributes come back.
        in_graph = {id(layer) for layer in model.layers}
        config["attributes"] = {attr: value.name for attr, value in vars(model).items()
                                if isinstance(value, Layer) and id(value) in in_graph}
    return config


def _refs(structure, ref):
    """A graph's inputs or outputs (one, a list or a dict) as tensor references."""
    if isinstance(structure, dict):
        return {k: _refs(v, ref) for k, v in structure.items()}
    if isinstance(structure, list):
        return [_refs(v, ref) for v in structure]
    return {"tensor": ref(structure)}


def _encode(value, sources, where):
    """A call argument as JSON: tensors (`Arg(k)` in the graph) by reference to the call
    and output they come from, tuples and dicts tagged."""
    if isinstance(value, Arg):
        return {"tensor": list(sources[value.index])}
    if isinstance(value, list):
        return [_encode(v, sources, where) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [_encode(v, sources, where) for v in value]}
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            raise ValueError(f"Cannot save {where}: dict arguments need string keys, found "
                             f"{list(value)}")
        return {"dict": {k: _encode(v, sources, where) for k, v in value.items()}}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
        return value.item()
    raise ValueError(f"Cannot save {where}: argument {value!r} ({type(value).__name__}) is "
                     f"not a tensor, string, number, bool or None")


# ---- from JSON -----------------------------------------------------------------------
def model_from_config(config: dict, cls=None, *, draw: bool = True, safe_mode: bool = True):
    """`Model.from_config(config)`: a new model with fresh weights.

    `draw=False` (loading) builds the layers with uninitialized arrays instead of random
    initial weights (`initializers.without_drawing`); the caller must then set every weight.
    """
    rebuild = _Rebuild(draw, safe_mode)
    with contextlib.nullcontext() if draw else initializers.without_drawing():
        if cls is not None and issubclass(cls, Sequential):
            return _sequential_from_config(config, rebuild, cls)
        return _functional_from_config(config, rebuild, cls or Model)


class _Rebuild:
    """What one rebuild shares: layers by id, and whether initial weights are drawn."""

    def __init__(self, draw: bool, safe_mode: bool = True):
        self.safe_mode = safe_mode
        self.memo: dict = {}
        self.draw = draw


def _entry_layer(entry, rebuild: _Rebuild):
    if not isinstance(entry, dict) or not isinstance(entry.get("id", 0), int):
        raise ValueError(f"layer entries are dicts with an int id, found {entry!r}")
    if "class_name" not in entry:
        if entry.get("id") not in rebuild.memo:
            raise ValueError(f"layer entry {entry!r} refers to layer id {entry.get('id')}, which "
                             f"comes nowhere before it")
        return rebuild.memo[entry["id"]]
    config = entry.get("config")
    if not isinstance(config, dict):
        raise ValueError(f"layer entry of class {entry['class_name']!r} has no config dict")
    name = config.get("name", "?")
    cls = resolve_class(entry["class_name"], name)
    if issubclass(cls, Sequential):
        layer = _sequential_from_config(config, rebuild, cls)
    elif issubclass(cls, Model):
        layer = _functional_from_config(config, rebuild, cls)
    else:
        try:
            if getattr(cls, "loads_code", False):     # Lambda: code only with safe_mode=False
                layer = cls.from_config(config, safe_mode=rebuild.safe_mode)
            else:
                layer = cls.from_config(config)
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(f"layer '{name}' ({entry['class_name']}) cannot be rebuilt from its "
                             f"config: {err}") from None
        if isinstance(entry.get("name"), str):
            layer.name = entry["name"]
    if "id" in entry:
        rebuild.memo[entry["id"]] = layer
    return layer


def _check_model_config(config) -> None:
    found = schema.problem(config, schema.MODEL_CONFIG)
    if found:
        raise ValueError(f"model '{config.get('name', '?') if isinstance(config, dict) else '?'}'"
                         f": its config is damaged: {found}")


def _functional_from_config(config, rebuild, cls):
    _check_model_config(config)
    name = config.get("name")
    missing = [k for k in ("layers", "nodes", "inputs", "outputs") if k not in config]
    if missing:
        hint = " (a Sequential's config: use Sequential.from_config)" if "nodes" in missing else ""
        raise ValueError(f"model '{name}': its config has no {missing}{hint}")
    layers = {}
    for entry in config.get("layers", []):
        layer = _entry_layer(entry, rebuild)
        layers[layer.name] = layer
    graph, calls = nx.DiGraph(name=name), {}
    for entry in config.get("nodes", []):
        layer = layers.get(entry.get("layer"))
        if layer is None:
            raise ValueError(f"model '{name}': a call names layer {entry.get('layer')!r}, which "
                             f"is not among its layers {list(layers)}")
        count = calls.get(layer.name, 0)
        calls[layer.name] = count + 1
        key = node_key(layer.name, count)
        sources = []            # (call key, output) of each tensor argument, in Arg order
        args = [_decode(a, sources, graph, name) for a in entry.get("args", [])]
        kwargs = {k: _decode(v, sources, graph, name) for k, v in entry.get("kwargs", {}).items()}
        graph.add_node(key, layer=layer, arguments=(args, kwargs))
        for index, (source, output) in enumerate(sources):
            pairs = graph.edges[source, key]["tensors"] if graph.has_edge(source, key) else ()
            graph.add_edge(source, key, tensors=(*pairs, (output, index)))
    graph.graph["inputs"] = _decode_refs(config["inputs"], graph, name, lambda key, _: key)
    graph.graph["outputs"] = _decode_refs(config["outputs"], graph, name, lambda *ref: ref)
    if config.get("losses"):
        graph.graph["losses"] = [_decode_refs(t, graph, name, lambda *ref: ref)
                                 for t in config["losses"]]
    # A subclassed model comes back as its traced graph, an instance of the registered
    # class (its __init__ is not run: the layers it made are the graph's), with its layer
    # attributes back.
    model = from_graph(graph, cls, name, who=f"model '{name}'",
                       trainable=config.get("trainable", True), call=fresh_call)
    for attr, layer_name in config.get("attributes", {}).items():
        if layer_name in layers:
            setattr(model, attr, layers[layer_name])
    return model


def _sequential_from_config(config, rebuild, cls):
    _check_model_config(config)
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    if "input" in config:
        model.add(_entry_layer(config["input"], rebuild))
    for entry in config.get("layers", []):
        model.add(_entry_layer(entry, rebuild))
    return model


def _decode(value, sources, graph, model_name):
    """A call argument from JSON: each tensor reference becomes `Arg(k)`, its source
    appended to `sources`."""
    if isinstance(value, list):
        return [_decode(v, sources, graph, model_name) for v in value]
    if isinstance(value, dict):
        if set(value) == {"tensor"}:
            sources.append(_reference(value, graph, model_name))
            return Arg(len(sources) - 1)
        if set(value) == {"tuple"}:
            return tuple(_decode(v, sources, graph, model_name) for v in value["tuple"])
        if set(value) == {"dict"}:
            return {k: _decode(v, sources, graph, model_name) for k, v in value["dict"].items()}
        raise ValueError(f"model '{model_name}': unknown argument encoding {value!r}")
    return value


def _reference(value, graph, model_name) -> tuple:
    """`(call key, output)` of a `{"tensor": [key, output]}`; the call must come earlier."""
    try:
        key, index = value["tensor"]
    except (TypeError, ValueError):
        raise ValueError(f"model '{model_name}': damaged tensor reference {value!r}") from None
    if not isinstance(key, str) or key not in graph or not isinstance(index, int) or index < 0:
        raise ValueError(f"model '{model_name}': reference to tensor {index} of call "
                         f"{key!r}, which no earlier call produced")
    return key, index


def _decode_refs(value, graph, model_name, ref):
    """The model's inputs or outputs (one reference, a list or a dict of them) as the
    graph's structure of `ref(key, output)`."""
    if isinstance(value, (list, dict)) and not value:
        raise ValueError(f"model '{model_name}': an empty {type(value).__name__} where a "
                         f"tensor reference {{\"tensor\": [key, output]}} was expected")
    if isinstance(value, list):
        return [_decode_refs(v, graph, model_name, ref) for v in value]
    if isinstance(value, dict) and set(value) != {"tensor"}:
        return {k: _decode_refs(v, graph, model_name, ref) for k, v in value.items()}
    return ref(*_reference(value, graph, model_name))
