"""Names to objects: the string tables and the user's registered classes and functions.

Loading a saved model resolves every layer class, loss and function through this registry
and nothing else, so a file can never name code that the user did not register.
"""
import contextlib
import contextvars

_registered: dict[str, object] = {}
_custom_objects = contextvars.ContextVar("graphnet_custom_objects", default=None)


@contextlib.contextmanager
def custom_object_scope(objects: dict):
    """Names -> classes or functions that `get_registered` finds first (Keras's
    `custom_objects`), for the duration of the `with` block."""
    token = _custom_objects.set({**(_custom_objects.get() or {}), **objects})
    try:
        yield
    finally:
        _custom_objects.reset(token)


def lookup(table: dict, name, kind: str):
    """`table[name]`, or a ValueError that lists the valid names."""
    key = name.lower() if isinstance(name, str) else name
    try:
        return table[key]
    except (KeyError, TypeError):
        valid = ", ".join(sorted(k for k in table if isinstance(k, str)))
        raise ValueError(f"Unknown {kind} {name!r}; valid {kind}s are: {valid}") from None


_REFUSED = object()


def get(identifier, kind: "Kind", *, from_name, base=(), from_callable=None, none=_REFUSED,
        instantiate: bool = True, expected: str):
    """The one dispatch behind each module's `get` (Keras's `get(identifier)`).

    None gives `none` where the kind accepts it; an instance of `base` is kept; a string
    goes to `from_name` (which reports an unknown name with the valid ones, see `lookup`);
    a `base` subclass is instantiated (when `instantiate`); a dict is a saved entry read by
    `deserialize`; another callable goes to `from_callable`. Anything else is a TypeError
    that says what is `expected`.
    """
    if identifier is None and none is not _REFUSED:
        return none
    if isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        return from_name(identifier)
    if instantiate and isinstance(identifier, type) and base and issubclass(identifier, base):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier, kind)
    if from_callable is not None and callable(identifier):
        return from_callable(identifier)
    raise TypeError(f"{expected}, received {identifier!r}")


def register_serializable(name: str | None = None, package: str = "Custom"):
    """Decorator that makes a layer class, loss or function loadable by name.

    `@register_serializable()` on a class or function, or
    `register_serializable(name="my_fn")(fn)`.

    Examples:
        >>> @graphnet.register_serializable(package="Docs")
        ... class Double(layers.Layer):
        ...     def call(self, inputs):
        ...         return 2.0 * inputs
        ...
        >>> print(np.asarray(Double()(np.ones((1, 2), dtype="float32"))))
        [[2. 2.]]
    """
    def register(obj):
        key = f"{package}>{name or obj.__name__}"
        if key in _registered and _registered[key] is not obj:
            raise ValueError(f"register_serializable: {key!r} is already registered to "
                             f"{_registered[key]!r}")
        _registered[key] = obj
        return obj
    return register


def registered_objects() -> dict:
    """The live registry, `"package>name"` -> object (Keras's `get_custom_objects()`)."""
    return _registered


def registered_name(obj) -> str | None:
    """The name `obj` was registered under, or None."""
    for key, value in _registered.items():
        if value is obj:
            return key
    return None


def get_registered(key: str, exact: bool = False):
    """The registered object named `key` (`package>name` or a bare name). With `exact`, a
    bare name is not matched against the names of registered packages (Keras files name a
    registered class by its whole `package>name`)."""
    scoped = _custom_objects.get()
    if scoped:
        for name in (key, str(key).split(">", 1)[-1]):
            if name in scoped:
                return scoped[name]
    if key in _registered:
        return _registered[key]
    matches = [v for k, v in _registered.items() if k.split(">", 1)[-1] == key]
    if len(matches) == 1 and not exact:
        return matches[0]
    raise ValueError(f"{key!r} is not registered: decorate it with "
                     f"@graphnet.register_serializable() before loading")


# ---- one serialization format for losses, metrics, initializers, regularizers, activations
class Kind:
    """What `serialize`/`deserialize` need to know about one kind of object.

    `classes`: class name -> class; `functions`: name -> function (names are matched
    case-insensitively); `wrapper`: the class that holds a function as an object of this
    kind (`LossFunctionWrapper`: its `fn`, its options in `get_config()`), or None.
    """

    def __init__(self, name: str, classes: dict, functions: dict | None = None, wrapper=None):
        self.name, self.wrapper = name, wrapper
        self.classes = dict(classes)
        self.functions = dict(functions or {})

    def class_named(self, name):
        if name in self.classes:
            return self.classes[name]
        folded = str(name).lower().replace("_", "")
        for key, cls in self.classes.items():
            if key.lower().replace("_", "") == folded:
                return cls
        return None

    def function_name(self, fn):
        return next((k for k, v in self.functions.items() if v is fn), None)


def serialize(obj, kind: Kind):
    """The one on-disk shape (Keras's): `{"class_name": name, "config": config}`.

    A class instance: its class's name (graphnet's own, or the registered `package>name`)
    and `get_config()`. A function: `{"class_name": "function", "config": name}`, with the
    wrapper's options under `"options"` when it is held by a wrapper (a loss function with
    a reduction). Anything neither graphnet's nor registered is a ValueError.
    """
    if obj is None:
        return None
    if kind.wrapper is not None and type(obj) is kind.wrapper:
        entry = {"class_name": "function", "config": _function_key(obj.fn, kind)}
        options = obj.get_config()
        if options:
            entry["options"] = options
        return entry
    if not isinstance(obj, type) and not hasattr(obj, "get_config") and callable(obj):
        return {"class_name": "function", "config": _function_key(obj, kind)}
    cls = type(obj)
    name = cls.__name__ if kind.classes.get(cls.__name__) is cls else registered_name(cls)
    if name is None:
        raise ValueError(f"{kind.name.capitalize()} {cls.__name__} is neither a graphnet "
                         f"{kind.name} and is not registered, so it cannot be saved: decorate the class "
                         f"with @graphnet.register_serializable()")
    return {"class_name": name, "config": obj.get_config()}


def _function_key(fn, kind: Kind) -> str:
    name = kind.function_name(fn) or registered_name(fn)
    if name is None:
        raise ValueError(f"{kind.name.capitalize()} function {getattr(fn, '__name__', fn)!r} is "
                         f"not a graphnet {kind.name} and is not registered, so it cannot be "
                         f"saved: decorate it with @graphnet.register_serializable()")
    return name


def _current_shape(config: dict) -> dict:
    """Entries written by earlier graphnet versions, in the current shape."""
    for old in ("function", "registered_fn"):
        if old in config:
            entry = {"class_name": "function", "config": config[old]}
            if config.get("config"):
                entry["options"] = config["config"]
            return entry
    if "registered" in config and config["registered"] is not True:
        return {"class_name": config["registered"], "config": config.get("config")}
    return config


def deserialize(config, kind: Kind):
    """The object `serialize` described (also reads Keras 3's `module`/`registered_name`
    entries). Names resolve through graphnet's tables and the user's registrations only."""
    if config is None:
        return None
    if isinstance(config, str):
        config = {"class_name": "function", "config": config} if (
            config.lower() in kind.functions or ">" in config) else {"class_name": config}
    if isinstance(config, dict):
        config = _current_shape(config)
    if not isinstance(config, dict) or not isinstance(config.get("class_name"), str):
        raise ValueError(f"A saved {kind.name} is a dict with a string 'class_name', found "
                         f"{config!r}")
    name, options = config["class_name"], config.get("config")
    if name == "function":
        if not isinstance(options, str):
            raise ValueError(f"A saved {kind.name} function is named by a string 'config', "
                             f"found {options!r}")
        fn = kind.functions.get(options.lower())
        if fn is None:
            fn = _registered_or_error(config.get("registered_name") or options, kind)
        wrapper_options = config.get("options") or {}
        if not isinstance(wrapper_options, dict):
            raise ValueError(f"A saved {kind.name}'s options must be a dict, found "
                             f"{wrapper_options!r}")
        return kind.wrapper(fn, **wrapper_options) if kind.wrapper is not None else fn
    cls = kind.class_named(name)
    if cls is None:
        cls = _registered_or_error(config.get("registered_name") or name, kind)
    if not isinstance(cls, type):                 # a registered function under a class name
        return kind.wrapper(cls) if kind.wrapper is not None else cls
    options = {} if options is None else options
    if not isinstance(options, dict):
        raise ValueError(f"A saved {kind.name} {name!r} has a config that is not a dict: "
                         f"{options!r}")
    if hasattr(cls, "from_config"):
        return cls.from_config(dict(options))
    return cls(**options)


def _registered_or_error(name, kind: Kind):
    try:
        return get_registered(name)
    except ValueError:
        valid = sorted({*kind.classes, *kind.functions})
        raise ValueError(f"Unknown {kind.name} {name!r}: it is not one of graphnet's ({', '.join(valid)}) "
                         f"and not registered (decorate it with "
                         f"@graphnet.register_serializable(), or pass it in custom_objects)") from None
