"""Weights, model state and optimizer state to archive members, and back into a model.

Each layer with values is one index entry in traversal order (graph order, nested models
depth first, every layer once however often it is shared): its path of names, its class,
and one `.npy` member per leaf of its `params` and `state`. `load_model` matches entries by
path; `load_weights` by position (as Keras does), so a model rebuilt in another session,
with other automatic names, still loads.
"""
from __future__ import annotations

import jax
import numpy as np

from ..functional import walk_layers
from . import schema
from .config import class_name

WEIGHTS_INDEX = "weights.json"
OPTIMIZER_INDEX = "optimizer.json"


def _key_str(key) -> str:
    for attr in ("key", "name", "idx"):
        if hasattr(key, attr):
            return str(getattr(key, attr))
    return str(key)


def leaves_with_paths(tree, prefix: str) -> list:
    """[(path, leaf)] with paths like `params/kernel` (dict keys, fields, indices by `/`)."""
    flat, _ = jax.tree_util.tree_flatten_with_path(tree)
    return [("/".join([prefix, *map(_key_str, path)]), leaf) for path, leaf in flat]


def weight_layers(model) -> list:
    """[(path, layer)] for every layer with params or state, each layer once."""
    return [(path, layer) for path, layer in walk_layers(model)
            if jax.tree_util.tree_leaves((layer.params, layer.state))]


def _class_label(layer) -> str:
    """The saved class name; weights alone need no registration, so else the class's name."""
    try:
        return class_name(layer)
    except ValueError:
        return type(layer).__qualname__


def write_weights(writer, model) -> None:
    """Every layer's params and state as `.npy` members, and the index that names them."""
    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it (give it an "
                         f"input shape or call it on data) before saving")
    entries, count = [], 0
    for path, layer in weight_layers(model):
        arrays = {}
        for leaf_path, leaf in (leaves_with_paths(layer.params, "params")
                                + leaves_with_paths(layer.state, "state")):
            arrays[leaf_path] = writer.add_array(f"weights/{count:05d}.npy", leaf)
            count += 1
        entries.append({"layer": path, "class_name": _class_label(layer), "arrays": arrays})
    writer.add_json(WEIGHTS_INDEX, {"layers": entries})


def _read_index(archive, name, key):
    index = archive.json(name)
    schema.validate(index, schema.WEIGHTS if name == WEIGHTS_INDEX else schema.OPTIMIZER,
                    name, archive.error)
    return index[key]


def _fill(layer_path, template, entry_arrays, archive, cast: bool):
    """`template`'s pytree with every leaf replaced by the file's array of the same path."""
    if not isinstance(entry_arrays, dict):
        raise archive.error(f"the weights index entry of layer '{layer_path}' is damaged")
    flat, treedef = jax.tree_util.tree_flatten_with_path(template)
    values = []
    for key_path, current in flat:
        prefix, rest = key_path[0], key_path[1:]
        leaf_path = "/".join([_key_str(prefix), *map(_key_str, rest)])
        who = f" (layer '{layer_path}' weight '{leaf_path}')"
        spec = entry_arrays.get(leaf_path)
        if not isinstance(spec, dict):
            raise archive.error(f"it has no value for layer '{layer_path}' weight "
                                f"'{leaf_path}'; the file's weights are for another architecture")
        array = archive.array(spec.get("member"), spec.get("dtype"), spec.get("shape", ()), who)
        if array.shape != np.shape(current):
            raise ValueError(f"Cannot load {archive.path!r}: layer '{layer_path}' weight "
                             f"'{leaf_path}' has shape {np.shape(current)} in the model, "
                             f"{array.shape} in the file")
        dtype = np.dtype(current.dtype if hasattr(current, "dtype") else np.asarray(current).dtype)
        if array.dtype != dtype:
            if not cast:
                raise archive.error(f"layer '{layer_path}' weight '{leaf_path}' is {array.dtype} "
                                    f"in the file, {dtype} in the model")
            array = array.astype(dtype)
        values.append(jax.device_put(array))
    extra = set(entry_arrays) - {"/".join(map(_key_str, p)) for p, _ in flat}
    if extra:
        raise archive.error(f"layer '{layer_path}' has weights {sorted(extra)} in the file that "
                            f"the model's layer does not have")
    return treedef.unflatten(values)


def _by_path(archive, entries) -> dict:
    """Index entries by layer path; a path listed twice is damage, not a choice to make."""
    by_path = {}
    for i, entry in enumerate(entries):
        if entry["layer"] in by_path:
            raise archive.error(f"member {WEIGHTS_INDEX!r} is damaged: field 'layers[{i}].layer' "
                                f"lists layer {entry['layer']!r} a second time")
        by_path[entry["layer"]] = entry
    return by_path


def read_weights_by_path(archive, model) -> None:
    """load_model: every layer's values from the entry with the same path."""
    entries = _read_index(archive, WEIGHTS_INDEX, "layers")
    by_path = _by_path(archive, entries)
    targets = weight_layers(model)
    missing = [path for path, _ in targets if path not in by_path]
    unused = sorted(set(by_path) - {path for path, _ in targets})
    if missing or unused:
        raise archive.error(f"its weights do not match its architecture (layers without weights "
                            f"{missing}, weights without layers {unused})")
    staged = [(layer, _fill(path, {"params": layer.params, "state": layer.state},
                            by_path[path].get("arrays", {}), archive, cast=False))
              for path, layer in targets]
    for layer, both in staged:
        layer.params, layer.state = both["params"], both["state"]


def read_weights_by_position(archive, model) -> None:
    """load_weights: the i-th layer with values gets the file's i-th entry (Keras's order)."""
    entries = _read_index(archive, WEIGHTS_INDEX, "layers")
    _by_path(archive, entries)
    targets = weight_layers(model)
    if len(entries) != len(targets):
        raise ValueError(f"Cannot load weights from {archive.path!r} into model '{model.name}': "
                         f"the file has weights for {len(entries)} layers "
                         f"{[e.get('layer') for e in entries]}, the model has {len(targets)} "
                         f"layers with weights {[p for p, _ in targets]}")
    staged = []
    for entry, (path, layer) in zip(entries, targets):
        if entry.get("class_name") != _class_label(layer):
            raise ValueError(f"Cannot load weights from {archive.path!r} into model "
                             f"'{model.name}': layer '{path}' is a {_class_label(layer)}, the file's "
                             f"weights at its position are for '{entry.get('layer')}', a "
                             f"{entry.get('class_name')}")
        staged.append((layer, _fill(path, {"params": layer.params, "state": layer.state},
                                    entry.get("arrays", {}), archive, cast=True)))
    for layer, both in staged:
        layer.params, layer.state = both["params"], both["state"]


# ---- optimizer state --------------------------------------------------------------------
def write_optimizer_state(writer, opt_state, step=None) -> None:
    """Every leaf of the optax state (`model.opt_state`), by its pytree path.

    Only values are stored: the structure comes back from the loaded model's own optimizer
    (compile, then `tx.init(params)`), which is what makes loading it code-free.
    """
    entries = []
    for i, (path, leaf) in enumerate(leaves_with_paths(opt_state, "opt_state")):
        if jax.dtypes.issubdtype(getattr(leaf, "dtype", np.float32), jax.dtypes.prng_key):
            raise TypeError(f"optimizer state {path} is a PRNG key; graphnet saves numeric "
                            f"optimizer state only")
        entry = writer.add_array(f"optimizer/{i:05d}.npy", leaf)
        entries.append({"path": path, **entry})
    index = {"leaves": entries}
    if step is not None:          # the training step count: the dropout stream continues
        index["step"] = writer.add_array("optimizer/step.npy", np.asarray(step, np.int32))
    writer.add_json(OPTIMIZER_INDEX, index)


def read_training_step(archive):
    """The saved training step count (an int32 array), or None in files without one."""
    spec = archive.json(OPTIMIZER_INDEX).get("step")
    if spec is None:
        return None
    return jax.device_put(archive.array(spec["member"], spec["dtype"], spec["shape"],
                                        " (training step)").astype(np.int32))


def read_optimizer_state(archive, template):
    """`template` (a freshly initialized optimizer state) with the file's values."""
    entries = {e.get("path"): e for e in _read_index(archive, OPTIMIZER_INDEX, "leaves")}
    flat, treedef = jax.tree_util.tree_flatten(template)
    paths = [p for p, _ in leaves_with_paths(template, "opt_state")]
    if set(paths) != set(entries):
        raise archive.error(f"its optimizer state does not fit the model's optimizer (file "
                            f"leaves {sorted(entries)[:6]}..., optimizer leaves "
                            f"{sorted(paths)[:6]}...): was the model compiled with another "
                            f"optimizer?")
    values = []
    for path, current in zip(paths, flat):
        spec = entries[path]
        array = archive.array(spec.get("member"), spec.get("dtype"), spec.get("shape", ()),
                              f" (optimizer state {path})")
        if array.shape != np.shape(current) or array.dtype != np.dtype(current.dtype):
            raise archive.error(f"optimizer state {path} is {array.dtype} {array.shape} in the "
                                f"file, {np.dtype(current.dtype)} {np.shape(current)} in the "
                                f"model's optimizer")
        values.append(jax.device_put(array))
    return treedef.unflatten(values)
