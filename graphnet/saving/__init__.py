"""Saving and loading: `model.save`, `load_model`, `save_weights`, `load_weights`.

A `.graphnet` file is a zip of stored members:
  manifest.json   format name and version, sha256 and size of every other member
  config.json     {"class_name", "config": model.get_config(), "compile_config"?}
  weights.json    per layer (path, class): its params/state leaves -> .npy members
  weights/*.npy   the values, NumPy format, never pickled
  optimizer.json, optimizer/*.npy   `model.opt_state`, when saved with include_optimizer

Compile and optimizer state follow Keras 3's protocol, which the training code provides:
`model.get_compile_config()` returns JSON-able compile settings (or None when not compiled),
`model.compile_from_config(config)` compiles from them, and after compiling `model.opt_state`
is the optax state pytree (`tx.init(params)`): the file holds its values by pytree path and
loading refills the freshly initialized state, so no optimizer code comes from the file.
"""
from __future__ import annotations

import json
import os
import warnings

from .. import files
from ..initializers import without_drawing
from . import schema
from .archive import (FORMAT_VERSION, FileFormatError, open_archive, read_archive,
                      write_archive)
from .keras_config import keras_layer_config, layer_from_keras
from .config import (class_name, deserialize_layer, model_config, model_from_config,
                     resolve_class, serialize_layer)
from .weights import (OPTIMIZER_INDEX, read_optimizer_state, read_training_step,
                      read_weights_by_path,
                      read_weights_by_position, write_optimizer_state, write_weights)

from ..registry import custom_object_scope, register_serializable

CONFIG = "config.json"
_SLACK_BYTES = 1 << 20    # arrays a layer builds beyond its saved weights (none today)

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "load_optimizer_state",
           "serialize_layer", "deserialize_layer", "FileFormatError", "FORMAT_VERSION",
           "register_serializable", "register_keras_serializable", "model_to_json",
           "model_from_json"]


def register_keras_serializable(package="Custom", name=None):
    """Keras's `saving.register_keras_serializable(package, name)`: the same registry as
    `graphnet.register_serializable`, with Keras's argument order (package first)."""
    return register_serializable(name=name, package=package)


def _compile_config(model):
    """The compile settings, or None (not compiled, or not expressible as JSON: warned)."""
    get = getattr(model, "get_compile_config", None)
    if get is None:
        return None
    try:
        return get()
    except (ValueError, TypeError) as err:
        warnings.warn(f"Model '{model.name}': its compile settings cannot be saved ({err}); the "
                      f"file holds the architecture and weights, compile after loading",
                      stacklevel=3)
        return None


def _ending(filepath) -> str:
    name = os.fspath(filepath).lower()
    for ending in (".weights.h5", ".keras", ".graphnet", ".h5"):
        if name.endswith(ending):
            return ending
    return ""


def save_model(model, filepath, overwrite=True, include_optimizer=True) -> None:
    """Keras `model.save(filepath)`: by the file's ending, a `.graphnet` file or a Keras
    3 `.keras` file (which Keras's `load_model` reads); written atomically."""
    ending = _ending(filepath)
    if ending == ".keras":
        from .keras_format import save_keras
        return save_keras(model, filepath, overwrite)
    if ending in (".weights.h5", ".h5"):
        raise ValueError(f"Cannot save a model to {os.fspath(filepath)!r}: a '.weights.h5' file "
                         f"holds weights only (model.save_weights); save the model as "
                         f"'.graphnet' or '.keras'")
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built (no input shape yet), so it has no "
                         f"weights to save: give it an input shape or call it on data first")
    config = {"class_name": class_name(model), "config": model_config(model)}
    compile_config = _compile_config(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    opt_state = getattr(model, "opt_state", None) if include_optimizer else None
    step = getattr(model, "training_step", None) if opt_state is not None else None

    def fill(writer):
        writer.add_json(CONFIG, config)
        write_weights(writer, model)
        if opt_state is not None:
            write_optimizer_state(writer, opt_state, step)
    write_archive(filepath, "model", fill, overwrite)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Keras `load_model`: the saved model, same predictions, compiled as it was saved.

    A file is read by its ending: `.graphnet` (graphnet's own), `.keras` (Keras 3's).
    `custom_objects` ({name: class or function}) resolves names the file uses besides
    graphnet's and the registered ones. `safe_mode=False` allows loading a `Lambda` whose
    function was saved as Python code, which runs that code: only for files you trust.

    Classes come from graphnet and the user's registrations only. The config is checked
    before it is parsed; the arrays are read and checked in the background while the
    model is rebuilt, and all of them before any is used.

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> import os, tempfile; folder = tempfile.mkdtemp()
        >>> model.save(os.path.join(folder, "model.graphnet"))
        >>> loaded = graphnet.load_model(os.path.join(folder, "model.graphnet"))
        >>> [layer.name for layer in loaded.layers]
        ['x', 'dense']
    """
    ending = _ending(filepath)
    if ending == ".keras":
        from .keras_format import load_keras
        return load_keras(filepath, custom_objects, compile, safe_mode)
    if ending in (".weights.h5", ".h5"):
        raise ValueError(f"Cannot load {os.fspath(filepath)!r} as a model: a '.weights.h5' file "
                         f"holds weights only; build the model and call "
                         f"model.load_weights({os.fspath(filepath)!r})")
    from ..registry import custom_object_scope
    with custom_object_scope(custom_objects or {}):
        return _load_graphnet(filepath, compile, safe_mode)


def _load_graphnet(filepath, compile, safe_mode):
    with open_archive(filepath) as archive:
        path = archive.path
        if archive.kind != "model":
            raise archive.error(f"it holds weights only (written by save_weights): build the "
                                f"model and call model.load_weights({path!r})")
        saved = archive.json(CONFIG)
        schema.validate(saved, schema.CONFIG, CONFIG, archive.error)
        schema.validate_objects(saved, CONFIG, archive.error)
        try:
            cls = resolve_class(saved.get("class_name"), saved["config"].get("name", "?"))
            held = archive.stored_bytes("weights/")
            with without_drawing(held + _SLACK_BYTES, f"its {held} bytes of weights"):
                model = model_from_config(saved["config"], cls, draw=False,
                                          safe_mode=safe_mode)
        except (ValueError, TypeError, KeyError) as err:
            raise ValueError(f"Cannot load {path!r}: {err}") from None
        archive.verify()
        read_weights_by_path(archive, model)
        if compile and saved.get("compile_config") is not None:
            compile_from = getattr(model, "compile_from_config", None)
            if compile_from is None:
                warnings.warn(f"{path!r} holds compile settings, but this graphnet cannot "
                              f"compile from them; the model is loaded uncompiled", stacklevel=2)
            else:
                try:
                    from .keras_format import check_metrics, compile_args
                    check_metrics(compile_args(saved["compile_config"]).metrics,
                                  "compile_config.metrics")
                    compile_from(saved["compile_config"])
                    model.opt_state        # the optimizer is made from its config now
                except (ValueError, TypeError, KeyError) as err:
                    raise ValueError(f"Cannot load {path!r}: member 'config.json' field "
                                     f"'compile_config' cannot be compiled from: {err}") from None
        if compile and OPTIMIZER_INDEX in archive:
            if getattr(model, "opt_state", None) is None:
                warnings.warn(f"{path!r} holds optimizer state, but the loaded model is not "
                              f"compiled, so it was not restored: compile it, then call "
                              f"graphnet.saving.load_optimizer_state(model, path)", stacklevel=2)
            else:
                model.opt_state = read_optimizer_state(archive, model.opt_state)
                step = read_training_step(archive)
                if step is not None:
                    model.training_step = step
    return model


def load_optimizer_state(model, filepath) -> None:
    """Fills the compiled `model.opt_state` with the state saved in `filepath`."""
    if getattr(model, "opt_state", None) is None:
        raise ValueError(f"Model '{model.name}' has no optimizer state to fill: compile it first")
    archive = read_archive(filepath)
    if OPTIMIZER_INDEX not in archive:
        raise archive.error("it holds no optimizer state (saved with include_optimizer=False, "
                            "or from an uncompiled model)")
    model.opt_state = read_optimizer_state(archive, model.opt_state)


def save_weights(model, filepath, overwrite=True) -> None:
    """Keras `model.save_weights`: weights and model state only, same container and checks;
    a `.weights.h5` path writes Keras 3's weights file instead."""
    if _ending(filepath) in (".weights.h5", ".h5"):
        from .keras_format import save_keras_weights
        return save_keras_weights(model, filepath, overwrite)
    write_archive(filepath, "weights", lambda writer: write_weights(writer, model), overwrite)


def load_weights(model, filepath) -> None:
    """Keras `model.load_weights`: by layer position, from a weights or a model file;
    `.weights.h5` and `.keras` files are read as Keras does (class-based paths)."""
    if _ending(filepath) in (".weights.h5", ".h5", ".keras"):
        from .keras_format import load_keras_weights
        return load_keras_weights(model, filepath)
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built, so it has no weights to load "
                         f"into: give it an input shape first")
    read_weights_by_position(read_archive(filepath), model)


def model_to_json(model, **kwargs) -> str:
    """Keras's `model.to_json()`: the architecture (no weights) as JSON text, the shape of
    a `.graphnet` file's config.json; `kwargs` go to `json.dumps`."""
    return json.dumps({"class_name": class_name(model), "config": model_config(model)},
                      **kwargs)


def model_from_json(json_string, custom_objects=None):
    """Keras's `models.model_from_json`: a new model (fresh weights) from `to_json`'s text.
    `custom_objects` maps names to classes or functions, as in Keras."""
    try:
        saved = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as err:
        raise ValueError(f"model_from_json: expected the text model.to_json() returned, "
                         f"received {str(json_string)[:60]!r} ({err})") from None
    if not isinstance(saved, dict) or "config" not in saved:
        raise ValueError("model_from_json: expected a JSON object with 'class_name' and "
                         "'config', as model.to_json() writes")
    with custom_object_scope(custom_objects or {}):
        cls = resolve_class(saved.get("class_name"), saved["config"].get("name", "?"))
        return model_from_config(saved["config"], cls)


# Model.save and its siblings call these: the model does not import saving (see files.py).
files.provide(save_model=save_model, save_weights=save_weights, load_weights=load_weights,
              model_config=model_config, model_from_config=model_from_config,
              model_to_json=model_to_json, load_optimizer_state=load_optimizer_state,
              keras_layer_config=keras_layer_config, layer_from_keras=layer_from_keras)
