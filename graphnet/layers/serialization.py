"""One layer as the registry's shape, `{"class_name", "config"}` (Keras's
`layers.serialize`): how a wrapper (TimeDistributed, Bidirectional) keeps the layer it
wraps in its own config. Classes resolve through graphnet's own layers and the user's
registrations only, so a config never names code the user did not register."""
from .. import files
from ..registry import custom_object_scope, get_registered, registered_name
from .base import Layer


def _subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def graphnet_layer_classes() -> dict:
    """graphnet's own layer classes by name: `Layer` and its public subclasses defined in
    graphnet (Model and Sequential included once their module is imported)."""
    table = {"Layer": Layer}
    for cls in _subclasses(Layer):
        if cls.__module__.startswith("graphnet.") and not cls.__name__.startswith("_"):
            table[cls.__name__] = cls
    return table


def serialize(layer) -> dict:
    """`{"class_name", "config"}`: graphnet's class name, or the name it was registered
    under."""
    cls = type(layer)
    name = cls.__name__ if graphnet_layer_classes().get(cls.__name__) is cls else registered_name(cls)
    if name is None:
        raise ValueError(f"Layer '{layer.name}' is of class {cls.__qualname__}, which is not a "
                         f"graphnet layer and is not registered, so it cannot be saved: decorate "
                         f"the class with @graphnet.register_serializable() (and give it a "
                         f"get_config returning its constructor arguments)")
    return {"class_name": name, "config": layer.get_config()}


def deserialize(entry: dict):
    """The layer `serialize` described (entries of a saved model's layer list read too: an
    `id` is ignored, a `name` beside the config is the layer's name)."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ValueError(f"A saved layer is a dict with a string 'class_name', found {entry!r}")
    name, config = entry["class_name"], entry.get("config")
    if not isinstance(config, dict):
        raise ValueError(f"The saved layer of class {name!r} has no config dict")
    cls = graphnet_layer_classes().get(name)
    if cls is None:
        try:
            cls = get_registered(name)
        except ValueError:
            raise ValueError(f"Layer {config.get('name', '?')!r} is of class {name!r}, which is "
                             f"neither a graphnet layer nor registered: define the class and "
                             f"decorate it with @graphnet.register_serializable() before "
                             f"loading") from None
    if not (isinstance(cls, type) and issubclass(cls, Layer)):
        raise ValueError(f"{name!r} is registered, but to {cls!r}, which is not a Layer class")
    layer = cls.from_config(config)      # a Lambda's code only from registered functions
    if isinstance(entry.get("name"), str):
        layer.name = entry["name"]
    return layer


def keras_serialize(layer) -> dict:
    """Keras `layers.serialize`: the layer's Keras entry, `{"module", "class_name",
    "config", "registered_name"}`, with initializers and the like in Keras's own shape, so
    `keras.layers.deserialize` reads it too.

    Examples:
        >>> entry = layers.serialize(layers.Dense(3, activation="relu", name="d"))
        >>> print(entry["module"], entry["class_name"], entry["config"]["units"])
        keras.layers Dense 3
    """
    if not isinstance(layer, Layer):
        raise TypeError(f"layers.serialize: expected a layer, received {type(layer).__name__}")
    return files.entry("keras_layer_config")(layer)


def keras_deserialize(config, custom_objects=None):
    """Keras `layers.deserialize`: a new layer from a Keras entry (what `layers.serialize`
    or `keras.layers.serialize` returns); classes outside graphnet come from
    `custom_objects` or the user's registrations, never from the entry's module.

    Examples:
        >>> layer = layers.deserialize({"class_name": "Dense", "config": {"units": 2}})
        >>> print(type(layer).__name__, layer.units)
        Dense 2
    """
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(f"layers.deserialize: custom_objects must be a dict of name -> class, "
                        f"received {type(custom_objects).__name__}")
    with custom_object_scope(custom_objects or {}):
        return files.entry("layer_from_keras")(config)
