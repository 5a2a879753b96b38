"""Names to objects: the string tables and the user's registered classes and functions.

Loading a saved model resolves every layer class, loss and function through this registry
and nothing else, so a file can never name code that the user did not register.
"""
_registered: dict[str, object] = {}


def lookup(table: dict, name, kind: str):
    """`table[name]`, or a ValueError that lists the valid names."""
    key = name.lower() if isinstance(name, str) else name
    try:
        return table[key]
    except (KeyError, TypeError):
        valid = ", ".join(sorted(k for k in table if isinstance(k, str)))
        raise ValueError(f"Unknown {kind} {name!r}; valid {kind}s are: {valid}") from None


def register_serializable(name: str | None = None, package: str = "Custom"):
    """Decorator that makes a layer class, loss or function loadable by name.

    `@register_serializable()` on a class or function, or
    `register_serializable(name="my_fn")(fn)`.
    """
    def register(obj):
        key = f"{package}>{name or obj.__name__}"
        if key in _registered and _registered[key] is not obj:
            raise ValueError(f"register_serializable: {key!r} is already registered to "
                             f"{_registered[key]!r}")
        _registered[key] = obj
        return obj
    return register


def registered_name(obj) -> str | None:
    """The name `obj` was registered under, or None."""
    for key, value in _registered.items():
        if value is obj:
            return key
    return None


def get_registered(key: str):
    """The registered object named `key` (`package>name` or a bare name)."""
    if key in _registered:
        return _registered[key]
    matches = [v for k, v in _registered.items() if k.split(">", 1)[-1] == key]
    if len(matches) == 1:
        return matches[0]
    raise ValueError(f"{key!r} is not registered: decorate it with "
                     f"@graphnet.register_serializable() before loading")
