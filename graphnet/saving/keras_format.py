"""Keras 3 files: `.keras` archives and `.weights.h5` weight files, read and written.

A `.keras` file is a zip of `config.json` (the model as Keras serializes it),
`metadata.json` and `model.weights.h5`. In the HDF5 file a layer's variables live under a
path made of class names, not layer names: the i-th layer of `model.layers` whose class
snake-cases to `dense` is `layers/dense`, the next `layers/dense_1`, and so on per class;
a nested model adds its own `layers/...`; a layer's own variables are `vars/0`, `vars/1`...
in its `weights` order, and the variables of the layers it holds sit under the attribute
that holds them (`cell/vars` for an RNN, `layer/vars` for TimeDistributed,
`forward_layer/cell/vars` for Bidirectional,
`query_dense/vars` for MultiHeadAttention).

Layer configs map generically: a Keras `class_name` is the graphnet layer class of that
name, and its config goes to the constructor (serialized initializers, regularizers and
dtype policies are read as graphnet reads its own). A Keras option graphnet does not have
is accepted only at its neutral value (`None`, `False`, 0): anything else would change the
model, so it is an error naming the layer and the option. No code from the file is run.
"""
from __future__ import annotations

import contextlib
import datetime
import inspect
import io
import json
import os
import re
import zipfile

import numpy as np

from .. import registry
from ..layers.base import InputLayer, Layer
from ..model import Model, Sequential
from ..symbolic import SymbolicTensor
from .archive import (FileFormatError, _file_error, json_default, open_regular_file,
                      parse_json, write_archive_bytes)
from .config import layer_classes, class_name as graphnet_class_name

KERAS_VERSION = "3.15.1"      # the Keras version whose format this writes
_CONFIG, _METADATA, _WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
_MAX_CONFIG_BYTES = 64 << 20
_NEUTRAL = (None, False, 0, 0.0, "", (), [], {})
# Keras options that only act when another option turns them on (then that one is refused)
_DEPENDENT = {"renorm_momentum": "renorm", "renorm_clipping": "renorm"}
_IGNORED = ("seed", "build_config", "optional", "quantization_config", "autocast")
# options graphnet's layers always take as given (channels last), so that value is dropped
_IMPLIED = {"data_format": "channels_last"}
# Keras classes whose constructors take no `trainable` (Keras leaves it out of their configs)
_NO_TRAINABLE = ("SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D")


def h5py_module():
    try:
        import h5py
    except ImportError:
        raise ImportError("Keras files (.keras, .weights.h5) are HDF5 inside: install h5py "
                          "(pip install 'graphnet[keras]', the 'keras' extra)") from None
    return h5py


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
    for key in (registered_name, name):
        if key:
            try:
                return registry.get_registered(key)
            except ValueError:
                pass
    raise ValueError(f"layer '{layer_name}' is of class {name!r}, which graphnet does not "
                     f"know: pass the class in custom_objects={{{name!r}: ...}} or register "
                     f"it with @graphnet.register_serializable()")


# ---- Keras config -> graphnet --------------------------------------------------------------
def _accepted(cls) -> set | None:
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


def _plain(value):
    """Keras's serialized helpers in a config, as graphnet reads them."""
    if isinstance(value, dict):
        cls = value.get("class_name")
        if cls in ("DTypePolicy", "FloatDTypePolicy") and isinstance(value.get("config"), dict):
            return value["config"].get("name", "float32")
        if cls == "__tuple__" and isinstance(value.get("config"), dict):
            return tuple(_plain(v) for v in value["config"].get("value", []))
        if "class_name" in value and "module" in value and isinstance(value.get("config"), dict):
            inner = {k: _plain(v) for k, v in value["config"].items() if v is not None}
            out = {"class_name": value["class_name"], "config": inner}
            if value.get("registered_name") and value["registered_name"] != value["class_name"]:
                out["registered_name"] = value["registered_name"]
            return out
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def layer_from_keras(entry, custom_objects=None, safe_mode=True):
    """One graphnet layer (or model) from a Keras layer entry."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str) \
            or not isinstance(entry.get("config"), dict):
        raise ValueError(f"a layer entry must be a dict with 'class_name' and a 'config' dict, "
                         f"found {str(entry)[:80]}")
    layer = _layer_from_keras(entry, custom_objects, safe_mode)
    if type(layer).__name__ != entry["class_name"] and not isinstance(layer, Model):
        layer._keras_class_name = entry["class_name"]
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
        return InputLayer(shape=tuple(shape[1:]), dtype=_plain(config.get("dtype", "float32")),
                          name=layer_name)
    kwargs = {}
    for key, value in config.items():
        if isinstance(value, dict) and value.get("module", "").startswith("keras.layers") \
                or (isinstance(value, dict) and key in ("layer", "backward_layer")
                    and "class_name" in value):
            kwargs[key] = layer_from_keras(value, custom_objects, safe_mode)
        else:
            kwargs[key] = _plain(value)
    accepted = _accepted(cls)
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


def _lambda_from_keras(config, layer_name, custom_objects, safe_mode):
    from ..layers import Lambda
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
                                   "name": layer_name,
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
    return Lambda(target, name=layer_name)


def _keras_input_layer(entry, custom_objects, safe_mode):
    return layer_from_keras(entry, custom_objects, safe_mode)


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
    name = config.get("name")
    entries = config.get("layers")
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise ValueError(f"model '{name}': its config has no 'layers' list")
    created, pending, outputs = {}, {}, {}
    for entry in entries:
        layer = layer_from_keras(entry, custom_objects, safe_mode)
        layer_name = entry.get("name") or entry["config"].get("name")
        created[layer_name] = layer
        pending[layer_name] = list(entry.get("inbound_nodes") or [])
        if isinstance(layer, InputLayer):
            outputs[(layer_name, 0)] = layer.call_nodes[0].outputs

    def node_index(layer_name, index, offset):
        layer = created.get(layer_name)
        return index - offset if isinstance(layer, Model) and not isinstance(layer, Sequential) \
            else index

    def tensor(ref, offset=0):
        """A call's output. Keras counts a functional model's own node as its node 0 in
        `input_layers`/`output_layers` (offset 1), not in call arguments."""
        layer_name, index, position = ref
        key = (layer_name, node_index(layer_name, index, offset))
        if key not in outputs or position >= len(outputs[key]):
            raise KeyError(key)
        return outputs[key][position]

    def decode(value):
        if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
            return tensor(value["config"]["keras_history"])
        if isinstance(value, dict) and value.get("class_name") == "__tuple__":
            return tuple(decode(v) for v in value["config"]["value"])
        if isinstance(value, dict):
            return {k: decode(v) for k, v in value.items()}
        if isinstance(value, list):
            return [decode(v) for v in value]
        return value

    calls = {n: 0 for n in created}
    progress = True
    while progress and any(pending.values()):
        progress = False
        for layer_name, nodes in pending.items():
            while nodes:
                node = nodes[0]
                try:
                    args = decode(node.get("args", []))
                    kwargs = decode(node.get("kwargs", {}))
                except KeyError:
                    break                   # an input not made yet: after other layers
                kwargs = {k: v for k, v in kwargs.items()
                          if v is not None and k not in ("training", "mask")}
                layer = created[layer_name]
                result = layer(*args, **kwargs)
                outputs[(layer_name, calls[layer_name])] = [
                    t for t in _flatten(result) if isinstance(t, SymbolicTensor)]
                calls[layer_name] += 1
                nodes.pop(0)
                progress = True
    stuck = [n for n, nodes in pending.items() if nodes]
    if stuck:
        raise ValueError(f"model '{name}': the calls of layers {stuck} refer to tensors no "
                         f"layer produces")

    def structure(value):
        if _reference(value):
            return tensor(value, offset=1)
        if isinstance(value, dict):
            return {k: structure(v) for k, v in value.items()}
        if isinstance(value, list):
            return [structure(v) for v in value]
        raise ValueError(f"model '{name}': cannot read input/output reference {value!r}")
    try:
        inputs = structure(config.get("input_layers"))
        model_outputs = structure(config.get("output_layers"))
    except KeyError as err:
        raise ValueError(f"model '{name}': an input or output refers to {err}, which no "
                         f"layer produces") from None
    return cls(inputs=inputs, outputs=model_outputs, name=name,
               trainable=config.get("trainable", True))


def _flatten(value):
    if isinstance(value, (list, tuple)):
        for v in value:
            yield from _flatten(v)
    elif isinstance(value, dict):
        for v in value.values():
            yield from _flatten(v)
    else:
        yield value


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


# ---- weights: class-based paths ---------------------------------------------------------
def keras_layers(model) -> list:
    """`model.layers` as Keras lists them: a functional model's inputs too, in Keras's
    operation order; a Sequential's layers without its input."""
    if isinstance(model, Sequential):
        return list(model.layers)
    return keras_operations(model)


def weight_groups(layer, weights: list) -> list:
    """[(sub-path, arrays)] of one layer's Keras-ordered weights, as Keras stores them."""
    from ..layers import (GRU, LSTM, Bidirectional, MultiHeadAttention, SimpleRNN,
                          TimeDistributed)
    if isinstance(layer, (SimpleRNN, LSTM, GRU)):
        return [("cell/vars", weights)]
    if isinstance(layer, TimeDistributed):     # the wrapped layer's own groups, under `layer/`
        return [(f"layer/{p}", w) for p, w in weight_groups(layer.layer, weights)]
    if isinstance(layer, Bidirectional):
        half = len(weights) // 2
        return ([(f"forward_layer/{p}", w) for p, w in weight_groups(layer.forward_layer, weights[:half])]
                + [(f"backward_layer/{p}", w) for p, w in weight_groups(layer.backward_layer, weights[half:])])
    if isinstance(layer, MultiHeadAttention):
        per = len(weights) // 4
        return [(f"{part}_dense/vars", weights[i * per:(i + 1) * per])
                for i, part in enumerate(("query", "key", "value", "output"))]
    return [("vars", weights)]


def _layer_paths(model, prefix: str):
    """[(path, layer)] for every weight-holding layer, Keras's class-based paths."""
    used, out = {}, []
    for layer in keras_layers(model):
        base = keras_snake_case(keras_class_name(layer))
        count = used.get(base)
        used[base] = 0 if count is None else count + 1
        name = base if count is None else f"{base}_{count + 1}"
        path = f"{prefix}layers/{name}"
        if isinstance(layer, Model):
            out.extend(_layer_paths(layer, f"{path}/"))
        else:
            out.append((path, layer))
    return out


def _dataset_array(dataset, raw) -> np.ndarray:
    """A dataset's values; a plain contiguous one straight from the file's bytes `raw`
    (h5py reading through a Python file object costs about 10 ms per MiB)."""
    dtype = dataset.dtype
    if raw is not None and dataset.chunks is None and dataset.compression is None \
            and dtype.kind in "fiub" and dtype.byteorder in "=<|" and dataset.size:
        offset = dataset.id.get_offset()
        nbytes = int(dataset.size) * dtype.itemsize
        if offset is not None and 0 <= offset and offset + nbytes <= len(raw):
            return np.frombuffer(raw, dtype, int(dataset.size), offset).reshape(dataset.shape)
    return np.asarray(dataset[()])


def read_keras_weights(h5file, model, where: str, raw=None) -> None:
    """Every layer's weights from an open Keras weights HDF5 file (by class-based path);
    `raw`: the file's bytes, when in memory."""
    staged, seen = [], set()
    for path, layer in _layer_paths(model, ""):
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        current = layer.get_weights() if layer.built else []
        if not current:
            continue
        groups = weight_groups(layer, current)
        values = []
        for sub, expected in groups:
            group = h5file.get(f"{path}/{sub}")
            if group is None or not hasattr(group, "keys"):
                raise ValueError(f"{where}: no weights for layer '{layer.name}' at '{path}/{sub}'"
                                 f" (the file's model differs from this one)")
            keys = sorted(group.keys(), key=lambda k: int(k) if k.isdigit() else -1)
            if len(keys) != len(expected) or keys != [str(i) for i in range(len(keys))]:
                raise ValueError(f"{where}: layer '{layer.name}' has {len(expected)} weights at "
                                 f"'{path}/{sub}', the file has {len(keys)}")
            for key, want in zip(keys, expected):
                dataset = group[key]
                if not hasattr(dataset, "shape") or not hasattr(dataset, "dtype"):
                    raise ValueError(f"{where}: '{path}/{sub}/{key}' is not an array")
                if tuple(dataset.shape) != tuple(want.shape):
                    raise ValueError(f"{where}: layer '{layer.name}' weight {len(values)} has "
                                     f"shape {tuple(want.shape)} in the model, "
                                     f"{tuple(dataset.shape)} in the file ('{path}/{sub}/{key}')")
                if dataset.dtype.kind not in "fiub" and dataset.attrs.get("dtype") != "bfloat16":
                    raise ValueError(f"{where}: '{path}/{sub}/{key}' holds {dataset.dtype}, not "
                                     f"numbers")
                values.append(_dataset_array(dataset, raw).astype(want.dtype, copy=False))
        staged.append((layer, values))
    for layer, values in staged:
        layer.set_weights(values)


def write_keras_weights(h5file, model) -> None:
    """Every layer's weights at Keras's class-based paths (what Keras's load reads)."""
    seen = set()
    for path, layer in _layer_paths(model, ""):
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        weights = layer.get_weights() if layer.built else []
        for sub, arrays in weight_groups(layer, weights) if weights else []:
            group = h5file.require_group(f"{path}/{sub}")
            group.attrs["name"] = layer.name
            for i, array in enumerate(arrays):
                group.create_dataset(str(i), data=np.asarray(array))


# ---- graphnet -> Keras config --------------------------------------------------------------
def keras_class_name(layer) -> str:
    """The class name Keras knows the layer by (its weight paths are made from it)."""
    if getattr(layer, "_keras_class_name", None):
        return layer._keras_class_name          # read from a Keras file (custom_objects)
    if isinstance(layer, Sequential):
        return "Sequential"
    if isinstance(layer, Model) and type(layer) is Model:
        return "Functional"
    return type(layer).__name__


def keras_operations(model) -> list:
    """The model's layers in Keras's `Functional.operations` order (depth, then the order a
    depth-first walk from the outputs meets them), which fixes the class-based weight paths."""
    nodes_in_order, first_seen, finished = [], {}, set()
    call_nodes = {id(node): node for key in model.graph.nodes
                  for node in [model._calls[key]]}

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
        else:
            config[key] = _keras_value(key, value)
    name = keras_class_name(layer)
    if name in _NO_TRAINABLE and config.get("trainable", True):
        del config["trainable"]
    registered = registry.registered_name(type(layer))
    if registered is None:
        graphnet_class_name(layer)             # a class Keras cannot know: refused, named
    return {"module": None if registered else "keras.layers", "class_name": name,
            "config": config, "registered_name": registered}


def functional_keras_config(model) -> dict:
    if model.added_losses:
        raise ValueError(f"Model '{model.name}' adds a loss in its call (add_loss), which a "
                         f"Keras file's functional config has no place for; save it as a "
                         f".graphnet file, which keeps it")
    operations = keras_operations(model)
    node_index = {}                 # id(call node) -> (layer name, Keras node index)
    for layer in operations:
        offset = 1 if isinstance(layer, Model) and not isinstance(layer, Sequential) else 0
        own = [n for n in layer.call_nodes if _in_model(n, model)]
        for i, node in enumerate(own):
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
                    "config": {"shape": list(value.shape), "dtype": str(value.dtype),
                               "keras_history": ref(value)}}
        if isinstance(value, tuple):
            return {"class_name": "__tuple__", "config": {"value": [encode(v) for v in value]}}
        if isinstance(value, list):
            return [encode(v) for v in value]
        if isinstance(value, dict):
            return {k: encode(v) for k, v in value.items()}
        if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
            return value.item()
        return value

    layers = []
    for layer in operations:
        entry = keras_layer_config(layer)
        entry["name"] = layer.name
        inbound = []
        if not isinstance(layer, InputLayer):
            for node in (n for n in layer.call_nodes if _in_model(n, model)):
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


def _in_model(node, model) -> bool:
    return any(call is node for call in model._calls.values())


def keras_model_config(model) -> dict:
    entry = keras_layer_config(model)
    if not isinstance(model, Sequential):
        entry["module"] = "keras.src.models.functional"
    return entry


# ---- compile config --------------------------------------------------------------------
def compile_from_keras(model, compile_config: dict, where: str) -> None:
    """compile() from a Keras compile config: optimizer, losses, metrics, loss weights."""
    from .. import optimizers
    opt = compile_config.get("optimizer")
    if isinstance(opt, str):
        optimizer = opt
    elif isinstance(opt, dict):
        cls = optimizers.CLASSES.get(opt.get("class_name"))
        if cls is None:
            raise ValueError(f"{where}: its optimizer {opt.get('class_name')!r} is not one "
                             f"graphnet has ({sorted(optimizers.CLASSES)})")
        accepted = _accepted(cls) or set()
        options = {k: _plain(v) for k, v in (opt.get("config") or {}).items() if k in accepted}
        lr = options.get("learning_rate")
        if isinstance(lr, dict):
            raise ValueError(f"{where}: its optimizer's learning rate is a schedule "
                             f"({lr.get('class_name')}); graphnet reads constant rates only")
        optimizer = cls(**options)
    else:
        raise ValueError(f"{where}: its compile config has no optimizer")

    def loss_value(value):
        if isinstance(value, dict) and "class_name" in value:
            from .. import losses
            entry = _plain(value)
            entry.get("config", {}).pop("dtype", None)
            if value.get("class_name") == "LossFunctionWrapper":
                raise ValueError(f"{where}: a LossFunctionWrapper loss cannot be read")
            return losses.deserialize(entry)
        if isinstance(value, dict):
            return {k: loss_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [loss_value(v) for v in value]
        return value

    def metric_value(value):
        if isinstance(value, dict) and "class_name" in value:
            from .. import metrics
            entry = _plain(value)
            entry.get("config", {}).pop("dtype", None)
            return metrics.deserialize(entry)
        if isinstance(value, dict):
            return {k: metric_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [metric_value(v) for v in value]
        return value
    if compile_config.get("weighted_metrics"):
        raise ValueError(f"{where}: weighted_metrics are not read from Keras files yet")
    model.compile(optimizer=optimizer, loss=loss_value(compile_config.get("loss")),
                  metrics=metric_value(compile_config.get("metrics")),
                  loss_weights=compile_config.get("loss_weights"),
                  loss_reduction="sum")        # Keras's total: the weighted sum


def keras_compile_config(model) -> dict | None:
    """The model's compile settings as Keras writes them (None when not compiled or when
    they are not expressible in Keras)."""
    trainer = getattr(model, "_trainer", None)
    if trainer is None:
        return None
    args = trainer.args
    from .. import losses as losses_mod, metrics as metrics_mod
    optimizer = args.optimizer
    opt_config = optimizer.get_config() if hasattr(optimizer, "get_config") else None
    if opt_config is None:
        return None

    def loss_entry(loss):
        if loss is None or isinstance(loss, str):
            return loss
        if isinstance(loss, dict):
            return {k: loss_entry(v) for k, v in loss.items()}
        if isinstance(loss, (list, tuple)):
            return [loss_entry(v) for v in loss]
        entry = losses_mod.serialize(losses_mod.get(loss))
        if entry["class_name"] == "function":
            return entry["config"]
        return {"module": "keras.losses", "class_name": entry["class_name"],
                "config": entry["config"], "registered_name": None}

    def metric_entry(m):
        if m is None or isinstance(m, str):
            return m
        if isinstance(m, dict):
            return {k: metric_entry(v) for k, v in m.items()}
        if isinstance(m, (list, tuple)):
            return [metric_entry(v) for v in m]
        entry = metrics_mod.serialize(metrics_mod.get(m))
        if entry["class_name"] == "function":
            return entry["config"]
        return {"module": "keras.metrics", "class_name": entry["class_name"],
                "config": entry["config"], "registered_name": None}
    return {"optimizer": {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
                          "config": opt_config, "registered_name": None},
            "loss": loss_entry(args.loss), "loss_weights": _keras_loss_weights(model, args),
            "metrics": metric_entry(args.metrics), "weighted_metrics": None,
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": True}


def _keras_loss_weights(model, args):
    """Keras sums the weighted output losses; graphnet's "mean" divides by the weights'
    sum, which Keras gets from weights scaled by that sum."""
    weights = args.loss_weights
    if isinstance(weights, str):
        return None
    if args.loss_reduction != "mean" or len(model.outputs) < 2:
        return weights
    names = model.output_names
    loss = args.loss
    if isinstance(loss, dict):
        trained = [loss.get(n) is not None for n in names]
    elif isinstance(loss, (list, tuple)):
        trained = [l is not None for l in loss]
    else:
        trained = [True] * len(names)
    if weights is None:
        values = [1.0 if t else 0.0 for t in trained]
    elif isinstance(weights, dict):
        values = [float(weights.get(n, 1.0)) if t else 0.0 for n, t in zip(names, trained)]
    else:
        values = [float(w) if t else 0.0 for w, t in zip(weights, trained)]
    total = sum(values) or 1.0
    scaled = [v / total for v in values]
    return dict(zip(names, scaled)) if isinstance(weights, dict) else scaled


# ---- files -------------------------------------------------------------------------------
def _read_zip_member(zf, name, path, limit):
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise _file_error(path, f"it is not a complete .keras file: it has no {name}") from None
    if info.file_size > limit:
        raise _file_error(path, f"its {name} claims {info.file_size} bytes, more than a "
                                f".keras file's {name} may")
    try:
        with zf.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        raise _file_error(path, f"its {name} cannot be read: the file is truncated or "
                                f"damaged ({err})") from None
    if len(data) != info.file_size:
        raise _file_error(path, f"its {name} has {len(data)} bytes, its directory says "
                                f"{info.file_size}: the file is damaged")
    return data


def load_keras(filepath, custom_objects=None, compile=True, safe_mode=True):
    """A Keras 3 `.keras` file as a graphnet model (see the module's docstring)."""
    path = os.fspath(filepath)
    h5py = h5py_module()
    with open_regular_file(path, ".keras file") as f:
        size = os.fstat(f.fileno()).st_size
        try:
            zf = zipfile.ZipFile(f)
        except (zipfile.BadZipFile, EOFError, ValueError, OSError) as err:
            raise _file_error(path, f"it is not a .keras file, or it is truncated: its zip "
                                    f"directory cannot be read ({err})") from None
        with zf:
            total = sum(i.file_size for i in zf.infolist())
            if total > 64 * max(size, 1) + (64 << 20):
                raise _file_error(path, "its members claim far more bytes than the file "
                                        "could hold compressed (a zip bomb)")
            saved = parse_json(_read_zip_member(zf, _CONFIG, path, _MAX_CONFIG_BYTES),
                               lambda what: _file_error(path, f"its {_CONFIG} {what}"))
            weights = _read_zip_member(zf, _WEIGHTS, path, max(size * 64, 1 << 20))
    with custom_objects_scope(custom_objects):
        try:
            with _no_drawing():
                model = model_from_keras_config(saved, custom_objects, safe_mode)
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(f"Cannot load {path!r}: {err}") from None
        try:
            h5 = h5py.File(io.BytesIO(weights), "r")
        except (OSError, ValueError) as err:
            raise _file_error(path, f"its {_WEIGHTS} is not a readable HDF5 file ({err})") from None
        with h5:
            try:
                read_keras_weights(h5, model, f"Cannot load {path!r}", weights)
            except (OSError, KeyError, TypeError) as err:
                raise _file_error(path, f"its {_WEIGHTS} is damaged ({err})") from None
        compile_config = saved.get("compile_config")
        if compile and isinstance(compile_config, dict) and compile_config.get("optimizer"):
            try:
                compile_from_keras(model, compile_config, f"Cannot load {path!r}")
            except (TypeError, KeyError) as err:
                raise ValueError(f"Cannot load {path!r}: its compile config cannot be "
                                 f"compiled from ({err})") from None
    return model


def _no_drawing():
    from ..initializers import without_drawing
    return without_drawing()


def save_keras(model, filepath, overwrite=True) -> None:
    """A `.keras` file that Keras 3's `keras.saving.load_model` reads."""
    h5py = h5py_module()
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built, so it has no weights to save")
    config = keras_model_config(model)
    compile_config = keras_compile_config(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    metadata = {"keras_version": KERAS_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        write_keras_weights(h5, model)
        h5.create_group("vars").attrs["name"] = model.name

    def fill(zf):
        zf.writestr(_METADATA, json.dumps(metadata))
        zf.writestr(_CONFIG, json.dumps(config, default=json_default))
        zf.writestr(_WEIGHTS, buffer.getvalue())
    write_archive_bytes(filepath, fill, overwrite)


def save_keras_weights(model, filepath, overwrite=True) -> None:
    h5py = h5py_module()
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built, so it has no weights to save")
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        write_keras_weights(h5, model)
        h5.create_group("vars").attrs["name"] = model.name
    write_archive_bytes(filepath, lambda f: f.write(buffer.getvalue()), overwrite, raw=True)


def load_keras_weights(model, filepath) -> None:
    path = os.fspath(filepath)
    h5py = h5py_module()
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built, so it has no weights to load into")
    with open_regular_file(path, "weights file") as f:
        data = f.read()
    if path.endswith(".keras"):
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            data = _read_zip_member(zf, _WEIGHTS, path, max(len(data) * 64, 1 << 20))
    try:
        h5 = h5py.File(io.BytesIO(data), "r")
    except (OSError, ValueError) as err:
        raise _file_error(path, f"it is not a readable HDF5 weights file ({err})") from None
    with h5:
        try:
            read_keras_weights(h5, model, f"Cannot load weights from {path!r} into model "
                                          f"'{model.name}'", data)
        except (OSError, KeyError, TypeError) as err:
            raise _file_error(path, f"it is damaged ({err})") from None


__all__ = ["load_keras", "save_keras", "save_keras_weights", "load_keras_weights",
           "FileFormatError"]
