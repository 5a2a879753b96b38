"""Keras 3 files: `.keras` archives and `.weights.h5` weight files, read and written.

A `.keras` file is a zip of `config.json` (the model as Keras serializes it),
`metadata.json` and `model.weights.h5`. In the HDF5 file a layer's variables live under a
path made of class names, not layer names: the i-th layer of `model.layers` whose class
snake-cases to `dense` is `layers/dense`, the next `layers/dense_1`, and so on per class;
a nested model adds its own `layers/...`; a layer's own variables are `vars/0`, `vars/1`...
in its `weights` order, and the variables of the layers it holds sit under the attribute
that holds them (`cell/vars` for an RNN or ConvLSTM, `cell/cells/lstm_cell/vars` for an
RNN of StackedRNNCells, `layer/vars` for TimeDistributed,
`forward_layer/cell/vars` for Bidirectional,
`query_dense/vars` for MultiHeadAttention).

Layer configs map generically: a Keras `class_name` is the graphnet layer class of that
name, and its config goes to the constructor (serialized initializers, regularizers and
dtype policies are read as graphnet reads its own). A Keras option graphnet does not have
is accepted only at its neutral value (`None`, `False`, 0): anything else would change the
The configs themselves are keras_config.py; here are the files, the weights by Keras's
paths, and the compile settings.
"""
from __future__ import annotations

import datetime
import io
import json
import os
import zipfile
from types import SimpleNamespace

import numpy as np

from .schema import validate_objects
from .archive import (FileFormatError, file_error, json_default, open_regular_file,
                      parse_json, write_archive_bytes)
from ..model import Model
from ..sequential import Sequential
from .keras_config import (accepted_arguments, custom_objects_scope, keras_class_name,
                           keras_model_config, keras_operations, keras_snake_case,
                           model_from_keras_config, plain)

KERAS_VERSION = "3.15.1"      # the Keras version whose format this writes
_CONFIG, _METADATA, _WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
_MAX_CONFIG_BYTES = 64 << 20


def h5py_module():
    try:
        import h5py
    except ImportError:
        raise ImportError("Keras files (.keras, .weights.h5) are HDF5 inside: install h5py "
                          "(pip install 'graphnet-jax[keras]', the 'keras' extra)") from None
    return h5py


# ---- weights: class-based paths ---------------------------------------------------------
def keras_layers(model) -> list:
    """`model.layers` as Keras lists them: a functional model's inputs too, in Keras's
    operation order; a Sequential's layers without its input."""
    if isinstance(model, Sequential):
        return list(model.layers)
    return keras_operations(model)


def weight_groups(layer, weights: list) -> list:
    """[(sub-path, arrays)] of one layer's Keras-ordered weights, as Keras stores them."""
    from ..layers import (GRU, LSTM, RNN, Bidirectional, MultiHeadAttention, SimpleRNN,
                          StackedRNNCells, TimeDistributed)
    if isinstance(layer, (SimpleRNN, LSTM, GRU)):
        return [("cell/vars", weights)]
    if isinstance(layer, RNN):                 # RNN(cell) and ConvLSTM: the cell's, under `cell/`
        return [(f"cell/{p}", w) for p, w in weight_groups(layer.cell, weights)]
    if isinstance(layer, StackedRNNCells):     # each cell under `cells/`, named as layers are
        groups, start = [], 0
        for name, cell in zip(keras_names(layer.cells), layer.cells):
            count = len(cell.get_weights())
            groups += [(f"cells/{name}/{p}", w)
                       for p, w in weight_groups(cell, weights[start:start + count])]
            start += count
        return groups
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


def keras_names(layers) -> list:
    """Keras's names for the items of a list of layers in a weights file: the class in
    snake case, then `_1`, `_2`, ... for the next of the same class."""
    used, names = {}, []
    for layer in layers:
        base = keras_snake_case(keras_class_name(layer))
        count = used.get(base)
        used[base] = 0 if count is None else count + 1
        names.append(base if count is None else f"{base}_{count + 1}")
    return names


def _layer_paths(model, prefix: str):
    """[(path, layer)] for every weight-holding layer, Keras's class-based paths."""
    out = []
    layers = keras_layers(model)
    for name, layer in zip(keras_names(layers), layers):
        path = f"{prefix}layers/{name}"
        if isinstance(layer, Model):
            out.extend(_layer_paths(layer, f"{path}/"))
        else:
            out.append((path, layer))
    return out


MAX_EXPANSION = 64      # a dataset may hold at most this many times its stored bytes


def _member(h5file, path: str, where: str):
    """The object at `path`, reached through hard links only: a soft link (which may loop)
    or an external link (another file on the machine) is refused, so weights come from
    the file's own bytes."""
    h5py = h5py_module()
    node = h5file
    walked = ""
    for part in path.split("/"):
        walked = f"{walked}/{part}" if walked else part
        if not hasattr(node, "keys"):
            return None
        link = node.get(part, getlink=True)
        if link is None:
            return None
        if isinstance(link, h5py.ExternalLink):
            raise ValueError(f"{where}: '{walked}' is an external link to {link.filename!r}; "
                             f"weights are read from the file's own bytes only")
        if isinstance(link, h5py.SoftLink):
            raise ValueError(f"{where}: '{walked}' is a soft link (to {link.path!r}); "
                             f"Keras weights files hold none, and a link may loop")
        node = node.get(part)
    return node


def _checked_dataset(dataset, name: str, where: str) -> None:
    """Refuses a dataset whose values are not the file's own stored bytes, or that would
    expand to more than MAX_EXPANSION times what it stores (Keras writes datasets
    uncompressed; unwritten chunks store nothing)."""
    if dataset.is_virtual:
        raise ValueError(f"{where}: dataset '{name}' is a virtual dataset (its values map to "
                         f"other datasets or files); weights are read from the file's own "
                         f"bytes only")
    if dataset.external:
        files = sorted({str(entry[0]) for entry in dataset.external})
        raise ValueError(f"{where}: dataset '{name}' keeps its values in external storage "
                         f"{files}; weights are read from the file's own bytes only")
    nbytes = int(dataset.size or 0) * dataset.dtype.itemsize
    stored = int(dataset.id.get_storage_size())
    if nbytes > MAX_EXPANSION * stored:
        raise ValueError(f"{where}: dataset '{name}' would expand to {nbytes} bytes from "
                         f"{stored} stored bytes, more than {MAX_EXPANSION}x (Keras writes "
                         f"weights uncompressed)")


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
            group = _member(h5file, f"{path}/{sub}", where)
            if group is None or not hasattr(group, "keys"):
                raise ValueError(f"{where}: no weights for layer '{layer.name}' at '{path}/{sub}'"
                                 f" (the file's model differs from this one)")
            keys = sorted(group.keys(), key=lambda k: int(k) if k.isdigit() else -1)
            if len(keys) != len(expected) or keys != [str(i) for i in range(len(keys))]:
                raise ValueError(f"{where}: layer '{layer.name}' has {len(expected)} weights at "
                                 f"'{path}/{sub}', the file has {len(keys)}")
            for key, want in zip(keys, expected):
                name = f"{path}/{sub}/{key}"
                dataset = _member(h5file, name, where)
                if not hasattr(dataset, "shape") or not hasattr(dataset, "dtype"):
                    raise ValueError(f"{where}: '{name}' is not an array")
                if tuple(dataset.shape) != tuple(want.shape):
                    raise ValueError(f"{where}: layer '{layer.name}' weight {len(values)} has "
                                     f"shape {tuple(want.shape)} in the model, "
                                     f"{tuple(dataset.shape)} in the file ('{name}')")
                if dataset.dtype.kind not in "fiub" and dataset.attrs.get("dtype") != "bfloat16":
                    raise ValueError(f"{where}: '{name}' holds {dataset.dtype}, not numbers")
                _checked_dataset(dataset, name, where)
                values.append(_dataset_array(dataset, raw).astype(want.dtype, copy=False))
        staged.append((layer, values))
    for layer, values in staged:
        layer.set_weights(values)


def read_host_assets(model, assets: dict, h5file, where: str) -> None:
    """Adapted vocabularies as Keras saves them: `assets/<layer path>/vocabulary.txt`, and
    tf-idf weights at `<layer path>/vars/idf_weights` (Keras's `load_assets`)."""
    for path, layer in _layer_paths(model, ""):
        lookup = getattr(layer, "lookup_layer", layer)
        if not getattr(layer, "runs_on_host", False) or not hasattr(lookup, "tokens") \
                or lookup.has_input_vocabulary:
            continue
        text = assets.get(f"assets/{path}/vocabulary.txt")
        if text is None:
            raise ValueError(f"{where}: no vocabulary for layer '{layer.name}' at "
                             f"'assets/{path}/vocabulary.txt'")
        lines = text.decode("utf-8").splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        values = lines if lookup.kind == "string" else [int(v) for v in lines]
        idf = None
        if lookup.output_mode == "tf_idf":
            dataset = _member(h5file, f"{path}/vars/idf_weights", where)
            if not hasattr(dataset, "shape") or dataset.dtype.kind != "f":
                raise ValueError(f"{where}: no tf-idf weights for layer '{layer.name}' at "
                                 f"'{path}/vars/idf_weights'")
            idf = np.asarray(dataset)[:len(values)]
        lookup.set_vocabulary(values, idf)
        lookup.has_input_vocabulary = False


def write_keras_weights(h5file, model) -> None:
    """Every layer's weights at Keras's class-based paths (what Keras's load reads)."""
    seen = set()
    for path, layer in _layer_paths(model, ""):
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        weights = layer.get_weights() if layer.built else []
        lookup = getattr(layer, "lookup_layer", layer)
        if getattr(lookup, "idf", None) is not None:     # Keras loads tf-idf weights here
            for sub in ("vars", "_lookup_layer/vars") if lookup is not layer else ("vars",):
                h5file.require_group(f"{path}/{sub}").create_dataset("idf_weights",
                                                                     data=lookup.idf)
        for sub, arrays in weight_groups(layer, weights) if weights else []:
            group = h5file.require_group(f"{path}/{sub}")
            group.attrs["name"] = layer.name
            for i, array in enumerate(arrays):
                group.create_dataset(str(i), data=np.asarray(array))


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
        accepted = accepted_arguments(cls) or set()
        options = {k: plain(v) for k, v in (opt.get("config") or {}).items() if k in accepted}
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
            entry = plain(value)
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
            entry = plain(value)
            entry.get("config", {}).pop("dtype", None)
            return metrics.deserialize(entry)
        if isinstance(value, dict):
            return {k: metric_value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [metric_value(v) for v in value]
        return value
    if compile_config.get("weighted_metrics"):
        raise ValueError(f"{where}: weighted_metrics are not read from Keras files yet")
    try:
        check_metrics(metric_value(compile_config.get("metrics")), "compile_config.metrics")
    except ValueError as err:
        raise ValueError(f"{where}: member {_CONFIG!r} {err}") from None
    model.compile(optimizer=optimizer, loss=loss_value(compile_config.get("loss")),
                  metrics=metric_value(compile_config.get("metrics")),
                  loss_weights=compile_config.get("loss_weights"),
                  loss_reduction="sum")        # Keras's total: the weighted sum


def keras_compile_config(model) -> dict | None:
    """The model's compile settings as Keras writes them (None when not compiled or when
    they are not expressible in Keras)."""
    graphnet_config = model.get_compile_config()
    if graphnet_config is None:
        return None
    args = compile_args(graphnet_config)
    from .. import losses as losses_mod, metrics as metrics_mod
    optimizer = model.optimizer
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


def compile_args(config: dict) -> SimpleNamespace:
    """What Keras's compile config needs from graphnet's (`Model.get_compile_config`):
    losses and metrics as the objects or strings compile received, loss weights and the
    reduction."""
    def value(v, tag, deserialize):
        if isinstance(v, dict) and set(v) == {tag}:
            return deserialize(v[tag])
        if isinstance(v, dict):
            return {k: value(x, tag, deserialize) for k, x in v.items()}
        if isinstance(v, list):
            return [value(x, tag, deserialize) for x in v]
        return v
    from .. import losses as losses_mod, metrics as metrics_mod
    return SimpleNamespace(loss=value(config["loss"], "loss", losses_mod.deserialize),
                           metrics=value(config.get("metrics"), "metric",
                                         metrics_mod.deserialize),
                           loss_weights=config.get("loss_weights"),
                           loss_reduction=config.get("loss_reduction", "mean"))


def check_metrics(value, where: str, top: bool = True) -> None:
    """Every metric of a loaded compile config resolves now, so a damaged one is refused by
    the load instead of by the first `fit` (accuracy's kind is chosen from stand-in shapes,
    as only the name and type are checked)."""
    from .. import metrics
    if value is None:
        return
    if isinstance(value, dict) and top:          # by output name
        for key, item in value.items():
            check_metrics(item, f"{where}.{key}", False)
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            check_metrics(item, f"{where}[{i}]", False)
    else:
        try:
            metrics.get(value, (1, 1), (1, 1))
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(f"field '{where}' is not a metric: {err}") from None


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
        raise file_error(path, f"it is not a complete .keras file: it has no {name}") from None
    if info.file_size > limit:
        raise file_error(path, f"its {name} claims {info.file_size} bytes, more than a "
                                f".keras file's {name} may")
    try:
        with zf.open(info) as f:
            data = f.read(limit + 1)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as err:
        raise file_error(path, f"its {name} cannot be read: the file is truncated or "
                                f"damaged ({err})") from None
    if len(data) != info.file_size:
        raise file_error(path, f"its {name} has {len(data)} bytes, its directory says "
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
            raise file_error(path, f"it is not a .keras file, or it is truncated: its zip "
                                    f"directory cannot be read ({err})") from None
        with zf:
            total = sum(i.file_size for i in zf.infolist())
            if total > 64 * max(size, 1) + (64 << 20):
                raise file_error(path, "its members claim far more bytes than the file "
                                        "could hold compressed (a zip bomb)")
            saved = parse_json(_read_zip_member(zf, _CONFIG, path, _MAX_CONFIG_BYTES),
                               lambda what: file_error(path, f"its {_CONFIG} {what}"))
            weights = _read_zip_member(zf, _WEIGHTS, path, max(size * 64, 1 << 20))
            assets = {n: _read_zip_member(zf, n, path, max(size * 64, 1 << 20))
                      for n in zf.namelist() if n.startswith("assets/")
                      and n.endswith("/vocabulary.txt")}
    validate_objects(saved, _CONFIG, lambda what: file_error(path, what))
    with custom_objects_scope(custom_objects):
        try:
            with _no_drawing(MAX_EXPANSION * len(weights) + (1 << 20),
                             f"its {len(weights)}-byte {_WEIGHTS} (at most {MAX_EXPANSION}x "
                             f"once expanded)"):
                model = model_from_keras_config(saved, custom_objects, safe_mode)
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(f"Cannot load {path!r}: {err}") from None
        except (AttributeError, IndexError) as err:     # a field of an unexpected type
            raise file_error(path, f"member {_CONFIG!r} is damaged: a field has the wrong "
                                   f"type or length ({type(err).__name__}: {err})") from None
        try:
            h5 = h5py.File(io.BytesIO(weights), "r")
        except (OSError, ValueError) as err:
            raise file_error(path, f"its {_WEIGHTS} is not a readable HDF5 file ({err})") from None
        with h5:
            try:
                read_keras_weights(h5, model, f"Cannot load {path!r}", weights)
                read_host_assets(model, assets, h5, f"Cannot load {path!r}")
            except (OSError, KeyError, TypeError) as err:
                raise file_error(path, f"its {_WEIGHTS} is damaged ({err})") from None
        compile_config = saved.get("compile_config")
        if compile and isinstance(compile_config, dict) and compile_config.get("optimizer"):
            try:
                compile_from_keras(model, compile_config, f"Cannot load {path!r}")
            except (TypeError, KeyError) as err:
                raise ValueError(f"Cannot load {path!r}: its compile config cannot be "
                                 f"compiled from ({err})") from None
            try:
                model.opt_state            # the optimizer is made from its config now
            except (ValueError, TypeError) as err:
                raise ValueError(f"Cannot load {path!r}: member {_CONFIG!r} field "
                                 f"'compile_config.optimizer' cannot make an optimizer: "
                                 f"{err}") from None
    return model


def _no_drawing(limit_bytes, what):
    from ..initializers import without_drawing
    return without_drawing(limit_bytes, what)


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
        raise file_error(path, f"it is not a readable HDF5 weights file ({err})") from None
    with h5:
        try:
            read_keras_weights(h5, model, f"Cannot load weights from {path!r} into model "
                                          f"'{model.name}'", data)
        except (OSError, KeyError, TypeError) as err:
            raise file_error(path, f"it is damaged ({err})") from None


__all__ = ["load_keras", "save_keras", "save_keras_weights", "load_keras_weights",
           "FileFormatError"]
