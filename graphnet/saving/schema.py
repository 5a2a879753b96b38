"""The shapes of a graphnet file's JSON members, checked before anything reads them.

A damaged or crafted file must fail with a ValueError that names the member and the field,
never with a TypeError or KeyError from deep inside the loader. A schema is plain data:
a type (`str`, `int`, `bool`, `dict`, `list`), `ANY`, or one of the small classes below.
"""
from __future__ import annotations

ANY = object()


class Optional:
    """`None` or a value of `schema`."""

    def __init__(self, schema):
        self.schema = schema


class ListOf:
    def __init__(self, schema):
        self.schema = schema


class DictOf:
    """A dict with string keys and values of `schema`."""

    def __init__(self, schema):
        self.schema = schema


class Record:
    """A dict with `required` and `optional` keys; others allowed only when `extra`."""

    def __init__(self, required: dict, optional: dict | None = None, extra: bool = False):
        self.required, self.optional, self.extra = required, optional or {}, extra


class Check:
    """A value accepted by `accept(value)`; `expected` says what in an error message."""

    def __init__(self, accept, expected: str):
        self.accept, self.expected = accept, expected


NON_NEGATIVE_INT = Check(lambda v: type(v) is int and v >= 0, "a non-negative int")
SHAPE = ListOf(NON_NEGATIVE_INT)
ARRAY = Record({"member": str, "dtype": str, "shape": SHAPE})

WEIGHTS = Record({"layers": ListOf(Record({"layer": str, "class_name": str,
                                           "arrays": DictOf(ARRAY)}))})
OPTIMIZER = Record({"leaves": ListOf(Record({"path": str, "member": str, "dtype": str,
                                             "shape": SHAPE}))},
                   optional={"step": ARRAY})

LAYER_ENTRY = Record({"id": int}, optional={"class_name": str, "config": dict, "name": str})
NODE = Record({"layer": str}, optional={"args": list, "kwargs": dict})
MODEL_CONFIG = Record({"name": str},
                      optional={"trainable": bool, "layers": ListOf(LAYER_ENTRY),
                                "nodes": ListOf(NODE), "inputs": ANY, "outputs": ANY,
                                "input": LAYER_ENTRY},
                      extra=True)
SERIALIZED = Record({}, optional={"class_name": str, "config": ANY, "module": Optional(str),
                                  "registered_name": Optional(str)}, extra=True)
COMPILE_CONFIG = Record({"optimizer": Record({"class_name": str, "config": dict}), "loss": ANY},
                        optional={"metrics": ANY, "loss_weights": ANY, "loss_reduction": str,
                                  "steps_per_execution": ANY},
                        extra=True)
CONFIG = Record({"class_name": str, "config": MODEL_CONFIG},
                optional={"compile_config": Optional(COMPILE_CONFIG)})

# Serialized objects (Keras 3 and graphnet): checked wherever they appear in a config.
KERAS_HISTORY = Check(lambda v: isinstance(v, list) and len(v) == 3
                      and isinstance(v[0], str) and all(type(i) is int for i in v[1:]),
                      "[layer name, node index, tensor index]")
KERAS_OBJECT = Record({"class_name": str},
                      optional={"config": ANY, "module": Optional(str),
                                "registered_name": Optional(str), "build_config": ANY,
                                "compile_config": ANY, "name": str,
                                "inbound_nodes": ListOf(Record({}, optional={"args": list,
                                                                            "kwargs": dict},
                                                               extra=True))},
                      extra=True)
KERAS_TENSOR = Record({"class_name": str, "config": Record({"keras_history": KERAS_HISTORY},
                                                          extra=True)}, extra=True)

_TYPE_NAMES = {str: "a string", int: "an int", bool: "a bool", dict: "an object (dict)",
               list: "a list", float: "a number"}


def problem(value, schema, field: str = "") -> str | None:
    """Where `value` departs from `schema` and how (`"field 'a.b[2]': expected ..."`), or None."""
    def fail(expected):
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return f"field '{field or '<top>'}' should be {expected}, found {shown}"

    if schema is ANY:
        return None
    if isinstance(schema, type):
        ok = isinstance(value, schema) and not (schema is int and isinstance(value, bool))
        return None if ok else fail(_TYPE_NAMES.get(schema, schema.__name__))
    if isinstance(schema, Optional):
        return None if value is None else problem(value, schema.schema, field)
    if isinstance(schema, Check):
        return None if schema.accept(value) else fail(schema.expected)
    if isinstance(schema, ListOf):
        if not isinstance(value, list):
            return fail("a list")
        for i, item in enumerate(value):
            found = problem(item, schema.schema, f"{field}[{i}]")
            if found:
                return found
        return None
    if isinstance(schema, DictOf):
        if not isinstance(value, dict):
            return fail("an object (dict)")
        for key, item in value.items():
            found = problem(item, schema.schema, f"{field}.{key}" if field else key)
            if found:
                return found
        return None
    if isinstance(schema, Record):
        if not isinstance(value, dict):
            return fail("an object (dict)")
        for key, sub in schema.required.items():
            name = f"{field}.{key}" if field else key
            if key not in value:
                return f"field '{name}' is missing"
            found = problem(value[key], sub, name)
            if found:
                return found
        for key, item in value.items():
            name = f"{field}.{key}" if field else key
            if key in schema.required:
                continue
            if key in schema.optional:
                found = problem(item, schema.optional[key], name)
                if found:
                    return found
            elif not schema.extra:
                return f"field '{name}' is not one a graphnet file has"
        return None
    raise TypeError(f"not a schema: {schema!r}")


def validate(value, schema, member: str, error) -> None:
    """Raises `error(message)` (a ValueError) naming `member` and the field that is wrong."""
    found = problem(value, schema)
    if found:
        raise error(f"member {member!r} is damaged: {found}")


def validate_objects(value, member: str, error, field: str = "") -> None:
    """Every serialized object in a config (a dict with a `class_name`) has the shape
    Keras and graphnet write, wherever it sits: layers, their nodes, initializers, dtype
    policies, tensors."""
    if isinstance(value, dict):
        if "class_name" in value:
            shape = KERAS_TENSOR if value.get("class_name") == "__keras_tensor__" else KERAS_OBJECT
            found = problem(value, shape, field)
            if found:
                raise error(f"member {member!r} is damaged: {found}")
        for key, item in value.items():
            validate_objects(item, member, error, f"{field}.{key}" if field else str(key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            validate_objects(item, member, error, f"{field}[{i}]")
