"""What a layer call records: symbolic tensors and call nodes. No values live here."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from . import naming


def normalize_shape(shape, who: str) -> tuple:
    """A shape as a tuple of non-negative ints or None."""
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"{who}: a shape must be a tuple of ints or None, received {shape!r}") from None
    for d in dims:
        if d is not None and (not isinstance(d, (int, np.integer)) or isinstance(d, bool) or d < 0):
            raise TypeError(f"{who}: a shape must be a tuple of non-negative ints or None, "
                            f"received {shape!r}")
    return tuple(None if d is None else int(d) for d in dims)


def shape_str(shape) -> str:
    """`(None, 3)`, `(5,)`: a shape as error messages and pictures write it."""
    return "(" + ", ".join("None" if d is None else str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class TensorSpec(NamedTuple):
    """Shape (batch axis None) and dtype of one tensor: what a call's output is known by
    before any data."""
    shape: tuple
    dtype: object


class SymbolicTensor:
    """A layer output before any data: shape (batch axis None), dtype and the call that made it.

    `Input` makes the first ones; each layer call or op on them makes more and records the
    call, and `Model(inputs, outputs)` reads the graph from those records. Python operators
    and indexing record ops too, as Keras's `KerasTensor` does (`==` stays Python's identity
    test). It has no values: turn it into arrays inside a layer or a `layers.Lambda`.

    Examples:
        >>> x = graphnet.Input(shape=(3,))
        >>> x.shape, x.dtype.name
        ((None, 3), 'float32')
        >>> y = x[:, :2] * 2 + 1        # three op nodes: get_item, multiply, add
        >>> y
        <SymbolicTensor shape=(None, 2) dtype=float32 from layer '...'>
        >>> np.asarray(x)
        Traceback (most recent call last):
        ...
        TypeError: <SymbolicTensor ...> is symbolic: it has a shape but no values. ...
    """

    __slots__ = ("shape", "dtype", "node", "index", "mask_spec")
    # graphnet.ops, through which the operators below record their graph nodes. It
    # registers itself when imported (`record_ops_with`): this module sits below every
    # layer and imports nothing above it.
    _ops = None

    def __init__(self, shape: tuple, dtype, node: "CallNode", index: int = 0):
        self.shape = tuple(shape)
        self.dtype = np.dtype(object if isinstance(dtype, str) and dtype == "string"
                              else dtype)       # Keras's "string" (text inputs): objects
        self.node = node
        self.index = index
        self.mask_spec = None       # the spec of the mask it carries (see `_keras_mask`)

    @property
    def _keras_mask(self):
        """Keras's mask attribute: a symbolic bool tensor (no graph node) for the mask this
        output carries, or None."""
        return self.mask_spec

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def name(self) -> str:
        """The producing layer's name (Keras names outputs after their layer)."""
        name = self.node.layer.name
        return name if len(self.node.outputs) == 1 else f"{name}_{self.index}"

    @classmethod
    def record_ops_with(cls, ops) -> None:
        """Makes `ops` (the `graphnet.ops` module) the namespace the operators call."""
        cls._ops = ops

    def __repr__(self):
        made_by = "a mask" if self.node is None else f"layer '{self.node.layer.name}'"
        return f"<SymbolicTensor shape={self.shape} dtype={self.dtype.name} from {made_by}>"

    def __array__(self, *args, **kwargs):
        raise TypeError(f"{self!r} is symbolic: it has a shape but no values. Call a layer on "
                        f"it, or wrap array code in layers.Lambda")

    def __bool__(self):
        raise TypeError(f"{self!r} is symbolic and has no truth value")

    # ---- operators: each records a graphnet.ops node, as Keras's KerasTensor does ----
    def __getitem__(self, key):
        return self._ops.get_item(self, key)

    def __neg__(self):
        return self._ops.negative(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return self._ops.absolute(self)

    def __invert__(self):
        return self._ops.logical_not(self) if self.dtype == np.bool_ else self._ops.invert(self)

    @property
    def T(self):
        return self._ops.transpose(self)

    def __iter__(self):
        raise TypeError(f"{self!r} is symbolic and cannot be iterated; select parts with a "
                        f"layer (Lambda, Reshape, ...)")


def _binary(op: str, reflected: bool):
    def method(self, other):
        fn = getattr(self._ops, op)
        return fn(other, self) if reflected else fn(self, other)
    return method


for _dunder, _op in (("add", "add"), ("sub", "subtract"), ("mul", "multiply"),
                     ("truediv", "true_divide"), ("floordiv", "floor_divide"), ("mod", "mod"),
                     ("pow", "power"), ("matmul", "matmul"), ("and", "logical_and"),
                     ("or", "logical_or"), ("xor", "logical_xor")):
    setattr(SymbolicTensor, f"__{_dunder}__", _binary(_op, False))
    setattr(SymbolicTensor, f"__r{_dunder}__", _binary(_op, True))
# `!=` records not_equal as in Keras; `==` stays Python's identity test, as Keras keeps it
for _dunder, _op in (("lt", "less"), ("le", "less_equal"), ("gt", "greater"),
                     ("ge", "greater_equal"), ("ne", "not_equal")):
    setattr(SymbolicTensor, f"__{_dunder}__", _binary(_op, False))


@dataclass(eq=False)
class CallNode:
    """One call of a layer: its arguments (tensors and constants) and its outputs.

    `leaves` is the flattened `(args, kwargs)` of the call, symbolic tensors among them;
    `treedef` rebuilds the call's structure from them.
    """
    layer: object
    treedef: object
    leaves: list
    outputs: list = field(default_factory=list)
    out_treedef: object = None
    id: int = field(default_factory=naming.next_node_id)

    @property
    def inputs(self) -> list:
        return [leaf for leaf in self.leaves if isinstance(leaf, SymbolicTensor)]

    @property
    def is_input(self) -> bool:
        """A call with no tensor arguments is a model input (an InputLayer's only node)."""
        return not self.inputs

    def __repr__(self):
        return f"<CallNode {self.id} of layer '{self.layer.name}'>"

