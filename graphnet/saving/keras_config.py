"""Keras 3 model configs both ways: a Keras `config.json` to a graphnet model (through a
graph in graphnet's schema and `from_graph`), and a graphnet model to the config Keras
reads.

Layer configs map generically: a Keras `class_name` is the graphnet layer class of that
name, and its config goes to the constructor (serialized initializers, regularizers and
dtype policies are read as graphnet reads its own). A Keras option graphnet does not have
is accepted only at its neutral value (`None`, `False`, 0): anything else would change the
model, so it is an error naming the layer and the option. No code from the file is run.
"""
from __future__ import annotations

import contextlib
import inspect
import re

import networkx as nx
import numpy as np

from .. import registry
from ..functional import fresh_call, from_graph
from ..graph import Arg, node_key
from ..layers.base import Layer
from ..layers.input_layer import InputLayer
from ..layers.operation import Operation
from ..model import Model
from ..sequential import Sequential
from ..symbolic import SymbolicTensor
from .config import layer_classes
from .keras_ops import is_keras_op, keras_op_entry, keras_values, operation_from_keras

_NEUTRAL = (None, False, 0, 0.0, "", (), [], {})
# Keras options that only act when another option turns them on (then that one is refused)
_DEPENDENT = {"renorm_momentum": "renorm", "renorm_clipping": "renorm"}
_IGNORED = ("seed", "build_config", "optional", "quantization_config", "autocast")
# options graphnet's layers always take as given (channels last), so that value is dropped
_IMPLIED = {"data_format": "channels_last"}
# Keras classes whose constructors take no `trainable` (Keras leaves it out of their configs)
_NO_TRAINABLE = ("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")



def keras_snake_case(name: str) -> str:
    """Keras's `to_snake_case`: `Conv2DTranspose` -> `conv2d_transpose`."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()




# ---- custom objects ------------------------------------------------------------------
@contextlib.contextmanager
def custom_objects_scope(custom_objects):
    """`custom_objects` ({name: class or function}) visible to every lookup while loading."""
    if not custom_objects:
        yield
        return
    if not isinstance(custom_objects, dict):
        raise TypeError(f"custom_objects must be a dict of name -> class or function, "
                        f"received {type(custom_objects).__name__}")
    with registry.custom_object_scope(custom_objects):
        yield


def _layer_class(name, registered_name, layer_name, custom_objects):
    for key in (name, registered_name):
        if key and key in (custom_objects or {}):
            return custom_objects[key]
    if name == "Functional":
        return Model
    table = layer_classes()
    if name in table:
        return table[name]
    # As Keras: a registered class by its exact `package>Name`; a bare class name that only
    # matches some registered class of another package is not that class.
    for key in (registered_name, name):
        if key:
            try:
                return registry.get_registered(key, exact=True)
            except ValueError:
                pass
    raise ValueError(f"layer '{layer_name}' is of class {name!r}, which graphnet does not "
                     f"know: pass the class in custom_objects={{{name!r}: ...}} or register "
                     f"it with @graphnet.register_serializable()")


# ---- Keras config -> graphnet --------------------------------------------------------------
def accepted_arguments(cls) -> set | None:
    """The keyword arguments `cls(...)` takes (None: any, it has **kwargs to the end)."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        params = inspect.signature(init).parameters.values()
        names |= {p.name for p in params if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        if not any(p.kind is p.VAR_KEYWORD for p in params):
            return names
        if klass is Layer:
            return names
    return None


def _is_neutral(value) -> bool:
    return any(value is n or (type(value) is type(n) and value == n) for n in _NEUTRAL)


def plain(value):
    """Keras's serialized helpers in a config, as graphnet reads them."""
    if isinstance(value, dict):
        cls = value.get("class_name")
        if cls in ("DTypePolicy", "FloatDTypePolicy") and isinstance(value.get("config"), dict):
            return value["config"].get("name", "float32")
        if cls == "__tuple__" and isinstance(value.get("config"), dict):
            return tuple(plain(v) for v in value["config"].get("value", []))
        if "class_name" in value and "module" in value and isinstance(value.get("config"), dict):
            inner = {k: plain(v) for k, v in value["config"].items() if v is not None}
            out = {"class_name": value["class_name"], "config": inner}
            if value.get("registered_name") and value["registered_name"] != value["class_name"]:
                out["registered_name"] = value["registered_name"]
            return out
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def layer_from_keras(entry, custom_objects=None, safe_mode=True):
    """One graphnet layer (or model) from a Keras layer entry."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), dict):
        raise ValueError(f"a layer entry must be a dict with 'class_name' and a 'config' dict, "
                         f"found {str(entry)[:80]}")
    layer = _layer_from_keras(entry, custom_objects, safe_mode)
    if type(layer).__name__ != entry["class_name"] and not isinstance(layer, Model):
        layer.keras_class_name = entry["class_name"]
    return layer


def _layer_from_keras(entry, custom_objects, safe_mode):
    name, config = entry["class_name"], entry["config"]
    layer_name = config.get("name", entry.get("name", "?"))
    if name == "Lambda":
        return _lambda_from_keras(config, layer_name, custom_objects, safe_mode)
    cls = _layer_class(name, entry.get("registered_name"), layer_name, custom_objects)
    if isinstance(cls, type) and issubclass(cls, Sequential):
        return _sequential_from_keras(config, cls, custom_objects, safe_mode)
    if isinstance(cls, type) and issubclass(cls, Model):
        return _functional_from_keras(config, cls, custom_objects, safe_mode)
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"layer '{layer_name}': {name!r} resolves to {cls!r}, not a layer class")
    if cls is InputLayer:
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        if not isinstance(shape, list) or not shape:
            raise ValueError(f"input '{layer_name}' has no batch_shape")
        return InputLayer(shape=tuple(shape[1:]), dtype=plain(config.get("dtype", "float32")),
                          name=layer_name)
    kwargs = {}
    for key, value in config.items():
        if isinstance(value, dict) and value.get("module", "").startswith("keras.layers") \
                or (isinstance(value, dict) and key in ("layer", "backward_layer")
                    and "class_name" in value):
            kwargs[key] = layer_from_keras(value, custom_objects, safe_mode)
        else:
            kwargs[key] = plain(value)
    accepted = accepted_arguments(cls)
    if accepted is not None:
        for key in [k for k in kwargs if k not in accepted]:
            if (_is_neutral(kwargs[key]) or key in _IGNORED
                    or (key in _IMPLIED and kwargs[key] == _IMPLIED[key])
                    or (key in _DEPENDENT and _is_neutral(kwargs.get(_DEPENDENT[key])))):
                del kwargs[key]
            else:
                raise ValueError(f"layer '{layer_name}' ({name}): graphnet's {cls.__name__} has "
                                 f"no option {key!r}, and {kwargs[key]!r} would change what the "
                                 f"layer computes")
    try:
        return cls.from_config(kwargs) if cls.from_config.__func__ is not Layer.from_config.__func__ \
            else cls(**kwargs)
    except (TypeError, ValueError, KeyError) as err:
        raise ValueError(f"layer '{layer_name}' ({name}) cannot be built from its Keras config: "
                         f"{err}") from None


def _lambda_mask(config, layer_name):
    """A Keras Lambda's `mask`: a fixed mask (an array in the file) or None; a mask function
    is refused by name rather than dropped, which would change what the model computes."""
    mask = config.get("mask")
    if mask is None:
        return None
    if isinstance(mask, dict) and mask.get("class_name") in ("__numpy__", "__tensor__"):
        inner = mask.get("config") or {}
        return np.asarray(inner.get("value"), dtype=inner.get("dtype", "bool"))
    raise ValueError(f"Lambda layer '{layer_name}' has a mask function, which graphnet does not "
                     f"read from a Keras file; rebuild the layer with Lambda(..., mask=fn)")


def _lambda_from_keras(config, layer_name, custom_objects, safe_mode):
    from ..layers import Lambda
    mask = _lambda_mask(config, layer_name)
    fn = config.get("function")
    if isinstance(fn, dict) and fn.get("class_name") == "__lambda__":
        if safe_mode:
            raise ValueError(f"Lambda layer '{layer_name}' is refused with safe_mode=True: its "
                             f"function is stored as Python bytecode, and loading it would run "
                             f"code from the file. If you trust the file, pass safe_mode=False; "
                             f"else define the function in your code and pass it in "
                             f"custom_objects")
        code = fn.get("config")
        if not isinstance(code, dict) or not isinstance(code.get("code"), str):
            raise ValueError(f"Lambda layer '{layer_name}': its function has no code")
        return Lambda.from_config({"function": {"code": code["code"],
                                                "defaults": list(code.get("defaults") or []),
                                                "closure": list(code.get("closure") or [])},
                                   "name": layer_name, "mask": mask,
                                   "arguments": config.get("arguments") or {}},
                                  safe_mode=False)
    name = fn.get("config") if isinstance(fn, dict) else fn
    registered = fn.get("registered_name") if isinstance(fn, dict) else None
    target = None
    for key in (name, registered):
        if key and custom_objects and key in custom_objects:
            target = custom_objects[key]
    if target is None:
        for key in (registered, name):
            if isinstance(key, str):
                try:
                    target = registry.get_registered(key)
                    break
                except ValueError:
                    pass
    if target is None:
        raise ValueError(f"Lambda layer '{layer_name}' calls function {name!r}, which is not in "
                         f"custom_objects nor registered: pass custom_objects={{{name!r}: fn}}")
    return Lambda(target, name=layer_name, mask=mask)


def _sequential_from_keras(config, cls, custom_objects, safe_mode):
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    entries = config.get("layers")
    if not isinstance(entries, list):
        raise ValueError(f"Sequential '{config.get('name')}': its config has no 'layers' list")
    if entries and entries[0].get("class_name") != "InputLayer" \
            and config.get("build_input_shape"):
        model.add(InputLayer(shape=tuple(config["build_input_shape"][1:])))
    for entry in entries:
        model.add(layer_from_keras(entry, custom_objects, safe_mode))
    return model


def _reference(value):
    return (isinstance(value, list) and len(value) == 3 and isinstance(value[0], str)
            and isinstance(value[1], int) and isinstance(value[2], int))


def _functional_from_keras(config, cls, custom_objects, safe_mode):
    """A Keras functional config as a graph in graphnet's schema, then `from_graph`. A
    call is node `node_key(layer name, Keras node index)`; the graph's order is made
    topological by `from_graph` when Keras lists a layer before the layers it takes."""
    name = config.get("name")
    entries = config.get("layers")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"model '{name}': its config has no 'layers' list")
    graph, created, wanted = nx.DiGraph(name=name), {}, {}
    for entry in entries:
        if is_keras_op(entry) and entry["class_name"] not in (custom_objects or {}):
            _op_from_keras(entry, graph, created, wanted)
            continue
        layer = layer_from_keras(entry, custom_objects, safe_mode)
        layer_name = entry.get("name") or entry["config"].get("name")
        created[layer_name] = layer
        if isinstance(layer, InputLayer):
            graph.add_node(node_key(layer_name, 0), layer=layer, arguments=((), {}))
            continue
        for index, node in enumerate(entry.get("inbound_nodes") or []):
            sources = []           # (Keras reference, Arg index) of each tensor argument
            args = _arguments(node.get("args", []), sources)
            kwargs = {k: v for k, v in _arguments(node.get("kwargs", {}), sources).items()
                      if v is not None and k not in ("training", "mask")}
            key = node_key(layer_name, index)
            graph.add_node(key, layer=layer, arguments=(args, kwargs))
            wanted[key] = sources

    def source(ref, offset=0):
        """`(node key, output)` of a Keras reference. Keras counts a functional model's
        own node as its node 0 in `input_layers`/`output_layers` (offset 1), not in call
        arguments."""
        layer_name, index, position = ref
        layer = created.get(layer_name)
        if isinstance(layer, Model) and not isinstance(layer, Sequential):
            index -= offset
        key = node_key(layer_name, index)
        if key not in graph:
            raise KeyError((layer_name, index))
        return key, position

    stuck = []
    for key, refs in wanted.items():
        try:
            for ref, arg in refs:
                parent, position = source(ref)
                pairs = graph.edges[parent, key]["tensors"] if graph.has_edge(parent, key) else ()
                graph.add_edge(parent, key, tensors=(*pairs, (position, arg)))
        except KeyError:
            stuck.append(graph.nodes[key]["layer"].name)
    if stuck:
        raise ValueError(f"model '{name}': the calls of layers {list(dict.fromkeys(stuck))} "
                         f"refer to tensors no layer produces")

    def structure(value, ref):
        if _reference(value):
            return ref(*source(value, offset=1))
        if isinstance(value, dict):
            return {k: structure(v, ref) for k, v in value.items()}
        if isinstance(value, list):
            return [structure(v, ref) for v in value]
        raise ValueError(f"model '{name}': cannot read input/output reference {value!r}")
    try:
        graph.graph["inputs"] = structure(config.get("input_layers"), lambda key, _: key)
        graph.graph["outputs"] = structure(config.get("output_layers"), lambda *ref: ref)
    except KeyError as err:
        raise ValueError(f"model '{name}': an input or output refers to {err.args[0]}, which "
                         f"no layer produces") from None
    return from_graph(graph, cls, name, who=f"model '{name}'",
                      trainable=config.get("trainable", True), call=fresh_call)


def _op_from_keras(entry, graph, created, wanted):
    """A Keras op layer (`NotEqual`, `GetItem`, ...) as one `Operation` node."""
    layer_name = entry.get("name") or entry["config"].get("name")
    nodes = entry.get("inbound_nodes") or []
    if len(nodes) != 1:
        raise ValueError(f"layer '{layer_name}' ({entry['class_name']}): a Keras op layer is "
                         f"called once, its entry lists {len(nodes)} calls")
    sources = []
    args = keras_values(_arguments(nodes[0].get("args", []), sources))
    kwargs = keras_values(_arguments(nodes[0].get("kwargs", {}), sources))
    try:
        layer = operation_from_keras(
            {**entry, "config": plain(entry["config"])}, args, kwargs,
            lambda leaf: leaf.index if isinstance(leaf, Arg) else None)
    except (TypeError, ValueError) as err:
        raise ValueError(f"layer '{layer_name}' ({entry['class_name']}) cannot be read: "
                         f"{err}") from None
    created[layer_name] = layer
    key = node_key(layer_name, 0)
    graph.add_node(key, layer=layer, arguments=(tuple(Arg(k) for k in range(len(sources))),
                                                {}))
    wanted[key] = sources


def _arguments(value, sources):
    """A Keras call argument with each `__keras_tensor__` replaced by `Arg(k)`; its
    reference appended to `sources` as `(reference, k)`."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        sources.append((value["config"]["keras_history"], len(sources)))
        return Arg(len(sources) - 1)
    if isinstance(value, dict) and value.get("class_name") == "__tuple__":
        return tuple(_arguments(v, sources) for v in value["config"]["value"])
    if isinstance(value, dict):
        return {k: _arguments(v, sources) for k, v in value.items()}
    if isinstance(value, list):
        return [_arguments(v, sources) for v in value]
    return value


def model_from_keras_config(saved: dict, custom_objects=None, safe_mode=True):
    """The model of a Keras `config.json` (`{"class_name", "config", ...}`)."""
    if not isinstance(saved, dict) or not isinstance(saved.get("config"), dict):
        raise ValueError("config.json holds no model config ('class_name' and 'config')")
    name = saved.get("class_name")
    if name not in ("Functional", "Sequential", "Model"):
        model = layer_from_keras(saved, custom_objects, safe_mode)
        if not isinstance(model, Model):
            raise ValueError(f"config.json holds a {name!r}, not a model")
        return model
    if name == "Sequential":
        return _sequential_from_keras(saved["config"], Sequential, custom_objects, safe_mode)
    return _functional_from_keras(saved["config"], Model, custom_objects, safe_mode)


# ---- graphnet -> Keras config --------------------------------------------------------------
def keras_class_name(layer) -> str:
    """The class name Keras knows the layer by (its weight paths are made from it)."""
    if layer.keras_class_name:
        return layer.keras_class_name           # read from a Keras file (custom_objects)
    if isinstance(layer, Sequential):
        return "Sequential"
    if isinstance(layer, Model) and type(layer) is Model:
        return "Functional"
    return type(layer).__name__


def keras_operations(model) -> list:
    """The model's layers in Keras's `Functional.operations` order (depth, then the order a
    depth-first walk from the outputs meets them), which fixes the class-based weight paths."""
    nodes_in_order, first_seen, finished = [], {}, set()
    call_nodes = {id(node): node for node in model.node_keys}

    def parents(node):
        return [leaf.node for leaf in node.leaves if isinstance(leaf, SymbolicTensor)]

    def visit(node):
        if id(node) in finished:
            return
        first_seen.setdefault(id(node.layer), len(first_seen))
        for parent in parents(node):
            visit(parent)
        finished.add(id(node))
        nodes_in_order.append(node)

    for output in model.outputs:
        visit(output.node)
    for tensor in model.inputs:
        first_seen.setdefault(id(tensor.node.layer), -1)
    depth, layer_depth = {}, {}
    for node in reversed(nodes_in_order):
        d = depth.setdefault(id(node), 0)
        d = max(d, layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = d
        depth[id(node)] = d
        for parent in parents(node):
            if id(parent) in call_nodes or True:
                depth[id(parent)] = max(d + 1, depth.get(id(parent), 0))
    layers = {id(n.layer): n.layer for n in nodes_in_order}
    for tensor in model.inputs:
        layers.setdefault(id(tensor.node.layer), tensor.node.layer)
        layer_depth.setdefault(id(tensor.node.layer), 0)
    return sorted(layers.values(), key=lambda l: (-layer_depth[id(l)], first_seen[id(l)]))


_MODULES = {"_initializer": "keras.initializers", "_regularizer": "keras.regularizers",
            "_constraint": "keras.constraints"}


def _keras_value(key, value):
    """A graphnet config value as Keras serializes it."""
    if isinstance(value, dict) and "class_name" in value and "config" in value:
        module = "keras" if key == "dtype" else next(
            (m for suffix, m in _MODULES.items() if key.endswith(suffix)), None)
        if value["class_name"] == "function":
            return value["config"]
        return {"module": module, "class_name": value["class_name"],
                "config": value["config"], "registered_name": None}
    if isinstance(value, tuple):
        return list(value)
    return value


def keras_layer_config(layer, model_nodes=None) -> dict:
    """One layer's Keras entry (`module`, `class_name`, `config`, `registered_name`)."""
    if isinstance(layer, InputLayer):
        return {"module": "keras.layers", "class_name": "InputLayer",
                "config": {"batch_shape": [layer.batch_size, *layer.shape], "dtype": layer.dtype,
                           "sparse": False, "ragged": False, "name": layer.name},
                "registered_name": None}
    if isinstance(layer, Sequential):
        config = {"name": layer.name, "trainable": layer.trainable,
                  "layers": [keras_layer_config(layer.inputs[0].node.layer)]
                  + [keras_layer_config(l) for l in layer.layers]}
        return {"module": "keras", "class_name": "Sequential", "config": config,
                "registered_name": None}
    if isinstance(layer, Model):
        return {"module": "keras.src.models.functional", "class_name": "Functional",
                "config": functional_keras_config(layer), "registered_name": None}
    config = {}
    for key, value in layer.get_config().items():
        if isinstance(value, dict) and key in ("layer", "backward_layer") and "config" in value:
            inner = value if isinstance(value.get("config"), dict) else None
            sub = getattr(layer, "forward_layer" if key == "layer" else "backward_layer", None)
            if sub is None and key == "layer":     # TimeDistributed: the wrapped layer itself
                sub = getattr(layer, "layer", None)
            config[key] = keras_layer_config(sub) if sub is not None else inner
            if key == "layer":
                config[key]["config"]["name"] = layer.layer.name
        elif key == "cell" and isinstance(value, dict) and hasattr(layer, "cell"):
            config[key] = keras_layer_config(layer.cell)     # Keras: a serialized layer
        elif key == "cells" and isinstance(value, list) and hasattr(layer, "cells"):
            config[key] = [keras_layer_config(cell) for cell in layer.cells]
        else:
            config[key] = _keras_value(key, value)
    name = keras_class_name(layer)
    if name in _NO_TRAINABLE and config.get("trainable", True):
        del config["trainable"]
    cls = type(layer)
    registered = registry.registered_name(cls)
    if registered is None and layer_classes().get(cls.__name__) is not cls:
        # an unregistered class of the user's: as Keras writes it, read back with
        # custom_objects={name: cls}
        return {"module": cls.__module__, "class_name": name, "config": config,
                "registered_name": cls.__name__}
    return {"module": None if registered else "keras.layers", "class_name": name,
            "config": config, "registered_name": registered}


def functional_keras_config(model) -> dict:
    if model.added_losses:
        raise ValueError(f"Model '{model.name}' adds a loss in its call (add_loss), which a "
                         f"Keras file's functional config has no place for; save it as a "
                         f".graphnet file, which keeps it")
    operations = keras_operations(model)
    calls = {}                      # id(layer) -> its calls in the model, in call order
    for node in model.node_keys:
        calls.setdefault(id(node.layer), []).append(node)
    node_index = {}                 # id(call node) -> (layer name, Keras node index)
    for layer in operations:
        offset = 1 if isinstance(layer, Model) and not isinstance(layer, Sequential) else 0
        for i, node in enumerate(calls.get(id(layer), ())):
            node_index[id(node)] = (layer.name, i + offset)

    def ref(tensor, offset=0):
        name, index = node_index[id(tensor.node)]
        layer = tensor.node.layer
        if isinstance(layer, Model) and not isinstance(layer, Sequential):
            index += offset - 1
        return [name, index, tensor.index]

    def encode(value):
        if isinstance(value, SymbolicTensor):
            return {"class_name": "__keras_tensor__",
                    "config": {"shape": list(value.shape),
                               "dtype": "string" if value.dtype == object else str(value.dtype),
                               "keras_history": ref(value)}}
        if isinstance(value, tuple):
            return {"class_name": "__tuple__", "config": {"value": [encode(v) for v in value]}}
        if isinstance(value, list):
            return [encode(v) for v in value]
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
            return value.item()
        return keras_values(value, writing=True)

    layers = []
    for layer in operations:
        if isinstance(layer, Operation):
            entry, inbound = None, []
            for node in calls.get(id(layer), ()):
                args, _ = node.treedef.unflatten(node.leaves)
                entry, call_args, call_kwargs = keras_op_entry(layer, list(args))
                inbound.append({"args": encode(call_args), "kwargs": encode(call_kwargs)})
            entry["config"] = keras_values(entry["config"], writing=True)
            entry["name"] = layer.name
            entry["inbound_nodes"] = inbound
            layers.append(entry)
            continue
        entry = keras_layer_config(layer)
        entry["name"] = layer.name
        inbound = []
        if not isinstance(layer, InputLayer):
            for node in calls.get(id(layer), ()):
                args, kwargs = node.treedef.unflatten(node.leaves)
                inbound.append({"args": encode(list(args)), "kwargs": encode(dict(kwargs))})
        entry["inbound_nodes"] = inbound
        layers.append(entry)

    def structure(value):
        if isinstance(value, SymbolicTensor):
            return ref(value, offset=1)
        if isinstance(value, dict):
            return {k: structure(v) for k, v in value.items()}
        return [structure(v) for v in value]
    inputs = model.input
    outputs = model.output
    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": structure(inputs), "output_layers": structure(outputs)}


def keras_model_config(model) -> dict:
    entry = keras_layer_config(model)
    if not isinstance(model, Sequential):
        entry["module"] = "keras.src.models.functional"
    return entry
