"""Keras's general `keras.utils`: the progress bar, the custom-object registry's helpers,
object serialization, data packing, and the session and logging switches."""
from __future__ import annotations

import math
import os
import sys
import time

import numpy as np

from . import activations, constraints, initializers, losses, metrics, naming, optimizers
from . import registry, regularizers
from .layers.base import Layer
from .model import Model
from .saving import register_keras_serializable  # noqa: F401  (Keras's utils name)
from .saving.keras_config import custom_objects_scope, keras_layer_config, layer_from_keras
from .symbolic import SymbolicTensor

_LOGGING = {"interactive": True}


# ---- progress ------------------------------------------------------------------------------
class Progbar:
    """Keras's `Progbar(target)`: a progress bar with running means of the values shown.

    `update(current, values)` averages each value over steps (weighted by the steps since the
    last update) unless it is one of `stateful_metrics`; the final update shows the values it
    is given as they are (Keras's logs are already means by then). `verbose=1` redraws one
    line, `verbose=2` writes one line at the end.

    Examples:
        >>> from graphnet.utils import Progbar
        >>> bar = Progbar(target=4, verbose=2)
        >>> for step in range(1, 5):
        ...     bar.update(step, values=[("loss", 1.0 / step)])
        4/4 - ... - loss: 0.2500
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 unit_name="step"):
        self.target, self.width, self.verbose = target, width, verbose
        self.interval, self.unit_name = interval, unit_name
        self.stateful_metrics = set(stateful_metrics or ())
        self._dynamic = sys.stdout.isatty() or "ipykernel" in sys.modules
        self._seen, self._values, self._order = 0, {}, []
        self._start = time.time()
        self._last_update, self._after_first, self._width_shown = 0.0, None, 0

    def update(self, current, values=None, finalize=None):
        """Moves the bar to step `current`; `values` is a list of `(name, value)`.

        Examples:
            >>> from graphnet.utils import Progbar
            >>> bar = Progbar(target=2, verbose=2)
            >>> bar.update(1, values=[("loss", 0.8)])
            >>> bar.update(2, values=[("loss", 0.6)])           # the last step: shown
            2/2 - ... - loss: 0.6000
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            if name not in self._order:
                self._order.append(name)
            if name in self.stateful_metrics or finalize:
                self._values[name] = [value, 1]
            else:
                weight = max(current - self._seen, 1)
                total, count = self._values.get(name, [0.0, 0])
                self._values[name] = [total + value * weight, count + weight]
        self._seen = current
        now = time.time()
        per_unit = self._step_time(current, now)
        if self.verbose == 1 and (finalize or now - self._last_update >= self.interval):
            self._draw(current, now, per_unit, finalize)
        elif self.verbose == 2 and finalize and self.target:
            digits = int(math.log10(self.target)) + 1
            line = (f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s -"
                    f"{self._time(per_unit)}{self._shown_values()}\n")
            _write(line)
        self._last_update = now

    def add(self, n, values=None):
        """Moves the bar `n` steps on.

        Examples:
            >>> from graphnet.utils import Progbar
            >>> bar = Progbar(target=10, verbose=2)
            >>> bar.add(5)
            >>> bar.add(5, values=[("accuracy", 0.75)])
            10/10 - ... - accuracy: 0.7500
        """
        self.update(self._seen + n, values)

    def _draw(self, current, now, per_unit, finalize):
        if self.target:
            digits = int(math.log10(self.target)) + 1
            filled = int(self.width * current / self.target)
            bar = f"{current:{digits}d}/{self.target} " + "━" * filled \
                + "·" * (self.width - filled)
        else:
            bar = f"{current:7d}/Unknown"
        if self.target and not finalize:
            eta = per_unit * (self.target - current)
            info = (f" {int(eta // 3600)}:{int(eta % 3600 // 60):02d}:{int(eta % 60):02d}"
                    if eta > 3600 else f" {int(eta // 60)}:{int(eta % 60):02d}" if eta > 60
                    else f" {int(eta)}s")
        else:
            info = f" {now - self._start:.0f}s"
        text = bar + info + self._time(per_unit) + self._shown_values()
        pad = " " * max(self._width_shown - len(text), 0)
        start = "\r" if self._dynamic else "\n"
        _write(start + text + pad + ("\n" if finalize else ""))
        self._width_shown = len(text)

    def _shown_values(self):
        out = ""
        for name in self._order:
            total, count = self._values[name]
            mean = np.mean(total) / max(1, count)
            out += f" - {name}: {mean:.4f}" if abs(mean) > 1e-3 else f" - {name}: {mean:.4e}"
        return out

    def _time(self, per_unit):
        if per_unit >= 1 or per_unit == 0:
            return f" {per_unit:.0f}s/{self.unit_name}"
        if per_unit >= 1e-3:
            return f" {per_unit * 1e3:.0f}ms/{self.unit_name}"
        return f" {per_unit * 1e6:.0f}us/{self.unit_name}"

    def _step_time(self, current, now):
        """Seconds per step, the first step (compilation) left out once there are more."""
        if not current:
            return 0
        if self._after_first is not None and current > 1:
            per_unit = (now - self._after_first) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._after_first = now
        return per_unit


def _write(text):
    if _LOGGING["interactive"]:
        sys.stdout.write(text)
        sys.stdout.flush()
    else:
        import logging
        logging.getLogger("graphnet").info(text.strip("\r\n"))


def enable_interactive_logging():
    """Keras's switch: progress and summaries are written to stdout (the default)."""
    _LOGGING["interactive"] = True


def disable_interactive_logging():
    """Keras's switch: progress bars go to the `logging` module (logger "graphnet")."""
    _LOGGING["interactive"] = False


def is_interactive_logging_enabled():
    """Whether progress bars are written to stdout (see `disable_interactive_logging`)."""
    return _LOGGING["interactive"]


# ---- custom objects --------------------------------------------------------------------
class CustomObjectScope:
    """Keras's `CustomObjectScope(*dicts)` (alias `custom_object_scope`): inside the `with`
    block, loading finds these names (`{"MyLayer": MyLayer}`) as if passed in
    `custom_objects`.

    ```python
    import graphnet as gn

    class Twice(gn.layers.Layer):
        def call(self, x):
            return 2 * x

    with gn.utils.custom_object_scope({"Twice": Twice}):
        assert gn.utils.get_registered_object("Twice") is Twice
    ```
    """

    def __init__(self, *custom_objects):
        self.custom_objects = {}
        for objects in custom_objects:
            if not isinstance(objects, dict):
                raise TypeError(f"CustomObjectScope takes dicts of name -> class or function, "
                                f"received {type(objects).__name__}")
            self.custom_objects.update(objects)
        self._scope = None

    def __enter__(self):
        self._scope = registry.custom_object_scope(self.custom_objects)
        self._scope.__enter__()
        return self

    def __exit__(self, *exc):
        self._scope.__exit__(*exc)
        self._scope = None


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict:
    """Keras's `get_custom_objects()`: the live dict of registered objects, keyed
    `"package>name"`; adding to it registers an object."""
    return registry.registered_objects()


def get_registered_name(obj) -> str:
    """Keras's `get_registered_name`: the `"package>name"` `obj` is registered under, else
    its `__name__`."""
    return registry.registered_name(obj) or obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    """Keras's `get_registered_object`: the object named `name` in the active custom-object
    scope, the registry, then `custom_objects` and `module_objects`; None if none has it."""
    try:
        return registry.get_registered(name)
    except ValueError:
        pass
    for table in (custom_objects, module_objects):
        if table and name in table:
            return table[name]
    return None


# ---- serialization ---------------------------------------------------------------------
_FAMILIES = (("keras.losses", losses), ("keras.metrics", metrics),
             ("keras.optimizers", optimizers), ("keras.initializers", initializers),
             ("keras.regularizers", regularizers), ("keras.constraints", constraints),
             ("keras.activations", activations))


def serialize_keras_object(obj):
    """Keras's `serialize_keras_object`: `{"module", "class_name", "config",
    "registered_name"}` for a layer, model, loss, metric, optimizer, initializer,
    regularizer, constraint or activation; plain values as they are.

    Examples:
        >>> from graphnet.utils import serialize_keras_object
        >>> entry = serialize_keras_object(layers.Dense(2))
        >>> entry["module"], entry["class_name"], entry["config"]["units"]
        ('keras.layers', 'Dense', 2)
        >>> serialize_keras_object(3)
        3
    """
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(v) for v in obj]
    if isinstance(obj, dict):
        return {k: serialize_keras_object(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(),
                                                      "dtype": obj.dtype.name}}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (Layer, Model)):
        return keras_layer_config(obj)
    for module, family in _FAMILIES:
        try:
            entry = family.serialize(obj)
        except (ValueError, TypeError, AttributeError):
            continue
        if isinstance(entry, str):
            entry = {"class_name": "function", "config": entry}
        if entry["class_name"] == "function":        # Keras writes any function so
            return {"module": "builtins", "class_name": "function",
                    "config": entry["config"], "registered_name": "function"}
        registered = registry.registered_name(type(obj))
        return {"module": None if registered else module, **entry,
                "registered_name": registered}
    raise TypeError(f"serialize_keras_object: cannot serialize {obj!r} "
                    f"({type(obj).__name__}): it is no graphnet layer, model, loss, metric, "
                    f"optimizer, initializer, regularizer, constraint or activation, and not "
                    f"registered")


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """Keras's `deserialize_keras_object`: the object a `serialize_keras_object` entry (or
    Keras's own) describes; names resolve through graphnet's catalogue, `custom_objects`
    and registrations only.

    Examples:
        >>> from graphnet.utils import deserialize_keras_object, serialize_keras_object
        >>> entry = serialize_keras_object(layers.Dense(2, activation="relu"))
        >>> layer = deserialize_keras_object(entry)
        >>> type(layer).__name__, layer.units
        ('Dense', 2)
    """
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, list):
        return [deserialize_keras_object(v, custom_objects, safe_mode) for v in config]
    if not isinstance(config, dict) or "class_name" not in config:
        if isinstance(config, dict):
            return {k: deserialize_keras_object(v, custom_objects, safe_mode)
                    for k, v in config.items()}
        return config
    if config["class_name"] == "__numpy__":
        return np.asarray(config["config"]["value"], dtype=config["config"]["dtype"])
    module = config.get("module") or ""
    with custom_objects_scope(custom_objects):
        if config["class_name"] == "function":
            for _, family in _FAMILIES[::-1]:        # activations first
                try:
                    return family.deserialize({"class_name": "function",
                                               "config": config["config"]})
                except (ValueError, TypeError):
                    continue
            raise ValueError(f"deserialize_keras_object: no graphnet or registered function "
                             f"named {config['config']!r}")
        for prefix, family in _FAMILIES:
            if module.startswith(prefix):
                return family.deserialize(config)
        if module.startswith("keras.layers") or module.startswith("keras.src.models") \
                or module in ("keras", "keras.models") or not module:
            return layer_from_keras(config, custom_objects, safe_mode)
    raise ValueError(f"deserialize_keras_object: module {module!r} of {config['class_name']!r} "
                     f"is none of Keras's layers, models, losses, metrics, optimizers, "
                     f"initializers, regularizers, constraints or activations")


# ---- data and tensors ------------------------------------------------------------------
def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """Keras's `pack_x_y_sample_weight`: `x` alone (a list or tuple `x` as `(x,)`), `(x, y)`
    or `(x, y, sample_weight)`, as `fit` takes them.

    Examples:
        >>> from graphnet.utils import pack_x_y_sample_weight
        >>> x, y = np.ones((4, 3)), np.zeros(4)
        >>> pack_x_y_sample_weight(x) is x
        True
        >>> len(pack_x_y_sample_weight(x, y)), len(pack_x_y_sample_weight([x, x]))
        (2, 1)
    """
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """Keras's `unpack_x_y_sample_weight`: `(x, y, sample_weight)` of `x`, `(x,)`, `(x, y)` or
    `(x, y, sample_weight)`, None for what is missing.

    Examples:
        >>> from graphnet.utils import unpack_x_y_sample_weight
        >>> unpack_x_y_sample_weight(("x", "y"))
        ('x', 'y', None)
        >>> unpack_x_y_sample_weight("x")
        ('x', None, None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if 1 <= len(data) <= 3:
        return tuple(data) + (None,) * (3 - len(data))
    raise ValueError(f"unpack_x_y_sample_weight: data must be x, (x,), (x, y) or "
                     f"(x, y, sample_weight), received a tuple of {len(data)}")


def normalize(x, axis=-1, order=2):
    """Keras's `utils.normalize`: `x` divided by its `order`-norm along `axis` (a zero norm
    leaves the row unchanged)."""
    if isinstance(x, np.ndarray):
        norm = np.atleast_1d(np.linalg.norm(x, order, axis))
        norm[norm == 0] = 1
        return x / np.expand_dims(norm, axis or -1)
    from . import ops
    return ops.normalize(x, axis=axis, order=order)


def is_keras_tensor(x) -> bool:
    """Keras's `is_keras_tensor`: whether `x` is a symbolic tensor (from `Input` or a layer
    call on one)."""
    return isinstance(x, SymbolicTensor)


def get_source_inputs(tensor):
    """Keras's `get_source_inputs`: the `Input` tensors `tensor` is computed from."""
    if not isinstance(tensor, SymbolicTensor):
        raise TypeError(f"get_source_inputs expects a symbolic tensor, received "
                        f"{type(tensor).__name__}")
    found, seen, stack = [], set(), [tensor]
    while stack:
        t = stack.pop()
        if id(t.node) in seen:
            continue
        seen.add(id(t.node))
        if t.node.is_input:
            found.append(t)
        stack.extend(reversed(t.node.inputs))
    return found


def standardize_dtype(dtype=None) -> str:
    """Keras's `standardize_dtype`: a dtype's name ("float32"); None is Keras's float32."""
    if dtype is None:
        return "float32"
    if hasattr(dtype, "name") and not isinstance(dtype, (type, np.dtype)):
        dtype = dtype.name
    return np.dtype(dtype).name


def clear_session(free_memory=True):
    """Keras's `clear_session`: layer names count from the start again (`dense`, then
    `dense_1`, ...), as in a fresh session; compiled programs are freed with their models."""
    naming.clear_names()
    if free_memory:
        import gc
        gc.collect()


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False):
    """Keras's `get_file` without downloading: graphnet never fetches anything from the
    network. A file already at `cache_dir/cache_subdir/fname` (Keras's cache,
    `~/.keras/datasets` by default) is returned; otherwise the error says where to put it.

    Examples:
        >>> import os, tempfile
        >>> from graphnet.utils import get_file
        >>> cache = tempfile.mkdtemp()
        >>> os.makedirs(os.path.join(cache, "datasets"))
        >>> path = os.path.join(cache, "datasets", "data.csv")
        >>> _ = open(path, "w").write("a,b")
        >>> get_file("data.csv", origin="https://example.com/data.csv", cache_dir=cache) == path
        True
        >>> get_file("more.csv", origin="https://example.com/more.csv", cache_dir=cache)
        Traceback (most recent call last):
        ...
        NotImplementedError: get_file: graphnet does not download files; ...
    """
    if fname is None and origin is not None:
        fname = os.path.basename(origin.split("?")[0])
    if not fname:
        raise ValueError("get_file: give fname (or an origin to take the name from)")
    base = cache_dir or os.path.join(os.path.expanduser("~"), ".keras")
    path = os.path.join(base, cache_subdir, fname)
    if os.path.exists(path) and not force_download:
        return path
    raise NotImplementedError(f"get_file: graphnet does not download files; download "
                              f"{origin or fname!r} yourself and place it at {path!r} (or pass "
                              f"that path where the file is needed)")


class Config:
    """Keras's `utils.Config`: a dict whose keys are also attributes; `freeze()` makes it
    read-only.

    Examples:
        >>> from graphnet.utils import Config
        >>> config = Config(learning_rate=0.1)
        >>> config.epochs = 3
        >>> config["epochs"], config.learning_rate
        (3, 0.1)
        >>> config.freeze()
        >>> config.epochs = 4
        Traceback (most recent call last):
        ...
        AttributeError: Config is frozen: cannot set 'epochs'; call unfreeze() first
    """

    def __init__(self, **kwargs):
        object.__setattr__(self, "_data", dict(kwargs))
        object.__setattr__(self, "_frozen", False)

    def freeze(self):
        object.__setattr__(self, "_frozen", True)

    def unfreeze(self):
        object.__setattr__(self, "_frozen", False)

    @property
    def frozen(self):
        return self._frozen

    def _check(self, name):
        if self._frozen:
            raise AttributeError(f"Config is frozen: cannot set {name!r}; call unfreeze() first")

    def __getattr__(self, name):
        try:
            return self._data[name]
        except KeyError:
            raise AttributeError(f"Config has no key {name!r}") from None

    def __setattr__(self, name, value):
        self._check(name)
        self._data[name] = value

    def __getitem__(self, key):
        return self._data[key]

    def __setitem__(self, key, value):
        self._check(key)
        self._data[key] = value

    def __delitem__(self, key):
        self._check(key)
        del self._data[key]

    def __contains__(self, key):
        return key in self._data

    def __iter__(self):
        return iter(self._data)

    def __len__(self):
        return len(self._data)

    def keys(self):
        return self._data.keys()

    def values(self):
        return self._data.values()

    def items(self):
        return self._data.items()

    def get(self, key, default=None):
        return self._data.get(key, default)

    def update(self, *args, **kwargs):
        self._check("update")
        self._data.update(*args, **kwargs)

    def pop(self, *args):
        self._check("pop")
        return self._data.pop(*args)

    def as_dict(self):
        return dict(self._data)

    def to_json(self):
        import json
        return json.dumps(self._data)

    def __repr__(self):
        return f"<Config {self._data}>"
