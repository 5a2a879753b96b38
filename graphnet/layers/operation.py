"""Operation: the graph node an op on symbolic tensors adds (`x + y`, `ops.mean(x, 1)`).

Its config holds the op's name and its non-tensor arguments, so a saved graph refers to
`graphnet.ops` by name and never holds code; the tensors are the call's inputs, hence
edges of the graph like any layer's.
"""
import numpy as np

from .. import naming
from ..symbolic import SymbolicTensor
from ..variables import Variable
from .base import Layer

OPS: dict = {}     # op name -> the array function behind it (`graphnet.ops` fills it)


class _Arg:
    """Where the i-th tensor goes in the op's arguments."""
    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _template(value, tensors):
    if isinstance(value, SymbolicTensor):
        tensors.append(value)
        return _Arg(len(tensors) - 1)
    if isinstance(value, list):
        return [_template(v, tensors) for v in value]
    if isinstance(value, tuple):
        return tuple(_template(v, tensors) for v in value)
    if isinstance(value, dict):
        return {k: _template(v, tensors) for k, v in value.items()}
    return value


def _fill(value, tensors):
    if isinstance(value, _Arg):
        return tensors[value.index]
    if isinstance(value, list):
        return [_fill(v, tensors) for v in value]
    if isinstance(value, tuple):
        return tuple(_fill(v, tensors) for v in value)
    if isinstance(value, dict):
        return {k: _fill(v, tensors) for k, v in value.items()}
    return value


def encode(value, who):
    """An op argument as JSON: tensors by position, tuples, slices, arrays tagged."""
    if isinstance(value, _Arg):
        return {"arg": value.index}
    if isinstance(value, list):
        return [encode(v, who) for v in value]
    if isinstance(value, tuple):
        return {"tuple": [encode(v, who) for v in value]}
    if isinstance(value, dict):
        return {"dict": {str(k): encode(v, who) for k, v in value.items()}}
    if isinstance(value, slice):
        return {"slice": [encode(value.start, who), encode(value.stop, who),
                          encode(value.step, who)]}
    if value is Ellipsis:
        return {"ellipsis": True}
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (np.generic, np.ndarray)) or hasattr(value, "__array__") and hasattr(value, "dtype"):
        array = np.asarray(value)
        return {"array": array.tolist(), "dtype": array.dtype.name}
    if isinstance(value, (type, np.dtype)):
        return {"dtype": np.dtype(value).name}
    raise ValueError(f"{who}: argument {value!r} ({type(value).__name__}) cannot be saved")


def decode(value):
    if isinstance(value, list):
        return [decode(v) for v in value]
    if isinstance(value, dict):
        if "arg" in value:
            return _Arg(value["arg"])
        if "tuple" in value:
            return tuple(decode(v) for v in value["tuple"])
        if "dict" in value:
            return {k: decode(v) for k, v in value["dict"].items()}
        if "slice" in value:
            return slice(*(decode(v) for v in value["slice"]))
        if "ellipsis" in value:
            return Ellipsis
        if "array" in value:
            return np.asarray(value["array"], dtype=value["dtype"])
        if "dtype" in value:
            return np.dtype(value["dtype"])
        raise ValueError(f"unknown op argument encoding {value!r}")
    return value


class Operation(Layer):
    """One `graphnet.ops` call in a graph: `op` by name, its constant arguments in config.

    Examples:
        >>> x = graphnet.Input(shape=(3,))
        >>> y = ops.exp(x)
        >>> type(y.node.layer).__name__
        'Operation'
    """

    def __init__(self, op, args=(), kwargs=None, **base):
        if op not in OPS:
            raise ValueError(f"Operation: unknown op {op!r}; it must be a graphnet.ops name")
        base.setdefault("name", naming.unique_name(op))
        super().__init__(**base)
        self.op = op
        self.fn = OPS[op]
        self.args = tuple(args)
        self.kwargs = dict(kwargs or {})

    @classmethod
    def apply_symbolic(cls, op, args, kwargs):
        """`ops.<op>(*args, **kwargs)` where some arguments are symbolic tensors."""
        tensors: list = []
        args, kwargs = _template(tuple(args), tensors), _template(dict(kwargs), tensors)
        for leaf in (args, kwargs):
            _reject_variables(leaf, op)
        return cls(op, args, kwargs)(*tensors)

    @classmethod
    def from_template(cls, op, args, kwargs, tensor_index, **base):
        """The node of `ops.<op>(*args, **kwargs)` where `tensor_index(leaf)` numbers the
        leaves that are the call's tensors (None for a constant): a saved call read back."""
        def mark(value):
            index = tensor_index(value)
            if index is not None:
                return _Arg(index)
            if isinstance(value, list):
                return [mark(v) for v in value]
            if isinstance(value, tuple):
                return tuple(mark(v) for v in value)
            if isinstance(value, dict):
                return {k: mark(v) for k, v in value.items()}
            return value
        return cls(op, mark(tuple(args)), mark(dict(kwargs)), **base)

    def arguments(self, tensors):
        """`(args, kwargs)` of the op's call with `tensors` in their places."""
        return _fill(self.args, tensors), _fill(self.kwargs, tensors)

    def call(self, params, state, *tensors, training=False, rng=None):
        args, kwargs = _fill(self.args, tensors), _fill(self.kwargs, tensors)
        return self.fn(*args, **kwargs), state

    def get_config(self):
        who = f"Operation '{self.name}' ({self.op})"
        return {**super().get_config(), "op": self.op,
                "args": [encode(a, who) for a in self.args],
                "kwargs": {k: encode(v, who) for k, v in self.kwargs.items()}}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["args"] = tuple(decode(a) for a in config.get("args", ()))
        config["kwargs"] = {k: decode(v) for k, v in config.get("kwargs", {}).items()}
        return cls(**config)


def _reject_variables(value, op):
    if isinstance(value, Variable):
        raise TypeError(f"ops.{op}: a layer's weight {value.path!r} cannot enter a graph "
                        f"directly; use it inside a layer's call()")
    if isinstance(value, (list, tuple)):
        for v in value:
            _reject_variables(v, op)
    if isinstance(value, dict):
        for v in value.values():
            _reject_variables(v, op)

