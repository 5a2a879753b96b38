"""Keras's `add_weight` variables over graphnet's params/state dicts.

A `Variable` owns no value: it names one entry of its owner's weights (`params` when
trainable, `state` when not). Outside a call it reads and writes the owner's current
values; inside a pure call (`Layer.apply`-style code under jit or grad) the call binds the
values it was given, and the variable stands for those traced values, as in Keras 3's
StatelessScope. `assign` on a non-trainable variable inside a call becomes the call's new
state; nothing is written to the layer.
"""
from __future__ import annotations

import threading

import jax
import jax.numpy as jnp
import numpy as np

_local = threading.local()


def _stack() -> list:
    stack = getattr(_local, "stack", None)
    if stack is None:
        stack = _local.stack = []
    return stack


def current_scope():
    """The innermost active call scope, or None outside any call."""
    stack = _stack()
    return stack[-1] if stack else None


class CallScope:
    """The values one pure call runs with: per owner (layer or metric) its params and a
    new-state dict that `assign` writes to, plus the rng, training flag and added losses."""

    def __init__(self, training=False, rng=None):
        self.training = bool(training)
        self.rng = rng
        self.count = 0
        self.losses = []
        self.bound: dict = {}          # id(owner) -> (owner, params, new_state)
        # Keras attaches a mask to the tensor it belongs with (`_keras_mask`), and a layer
        # called on that very tensor inside another's call receives it: id(array) -> mask.
        self.masks: dict = {}

    def __enter__(self):
        _stack().append(self)
        return self

    def __exit__(self, *exc):
        _stack().pop()
        return False

    def next_key(self):
        """A key for one sub-call: the call's rng folded with a counter (None if no rng)."""
        self.count += 1
        return None if self.rng is None else jax.random.fold_in(self.rng, self.count)

    def bind(self, owner, params, state) -> None:
        """Binds `owner`'s values, and recursively its sub-layers' (Keras-form layers)."""
        params, state = dict(params or {}), dict(state or {})
        self.bound[id(owner)] = (owner, params, state)
        for gen in getattr(owner, "seed_generators", ()):
            if gen.name in state:
                self.bind(gen, {}, state[gen.name])
        for sub in getattr(owner, "sublayers", ()):
            # An unbuilt sub-layer is bound when it is first called (and built).
            if getattr(sub, "built", True) and (sub.name in params or sub.name in state):
                self.bind(sub, params.get(sub.name, {}), state.get(sub.name, {}))

    def has(self, owner) -> bool:
        return id(owner) in self.bound

    def state_of(self, owner) -> dict:
        """The owner's new state, its sub-layers' new states nested under their names."""
        _, _, state = self.bound[id(owner)]
        state = dict(state)
        for sub in (*getattr(owner, "seed_generators", ()), *getattr(owner, "sublayers", ())):
            if id(sub) in self.bound:
                state[sub.name] = self.state_of(sub)
        return state

    def set_state(self, owner, state) -> None:
        _, params, _ = self.bound[id(owner)]
        self.bound[id(owner)] = (owner, params, dict(state))


def _value_of(x):
    return x.value if isinstance(x, Variable) else x


def unique_name(variables, name) -> str:
    """`name` (or "variable"), suffixed _1, _2, ... until no variable in `variables` has it,
    as Keras names a layer's or metric's weights."""
    taken = {v.name for v in variables}
    base = name or "variable"
    name, count = base, 0
    while name in taken:
        count += 1
        name = f"{base}_{count}"
    return name


class Variable:
    """One weight made by `add_weight`: Keras's `Variable` as a name into its owner's values.

    `owner` is the layer, metric or seed generator whose `own_values(collection)` and
    `set_own_values(collection, values)` hold the value outside a call.

    Reads (`.value`, arithmetic, `ops` functions, `np.asarray`) give the value current in
    this context; `assign`, `assign_add`, `assign_sub` write it (inside a call only a
    non-trainable variable may be assigned: it becomes the call's new state).
    """

    __array_priority__ = 100

    def __init__(self, owner, name: str, shape, dtype, trainable: bool, initializer=None,
                 regularizer=None, constraint=None):
        self.owner = owner
        self.name = name
        self._shape = tuple(shape)
        self._dtype = np.dtype(dtype)
        self.trainable = bool(trainable)
        self.initializer = initializer
        self.regularizer = regularizer
        self.constraint = constraint

    # ---- where the value lives ---------------------------------------------------------
    @property
    def _collection(self) -> str:
        return "params" if self.trainable else "state"

    @property
    def path(self) -> str:
        return f"{self.owner.name}/{self.name}"

    @property
    def value(self):
        scope = current_scope()
        if scope is not None and scope.has(self.owner):
            _, params, state = scope.bound[id(self.owner)]
            return (params if self.trainable else state)[self.name]
        return self.owner.own_values(self._collection)[self.name]

    def assign(self, value):
        value = jnp.asarray(_value_of(value), self._dtype)
        if value.shape != self._shape:
            raise ValueError(f"Variable '{self.path}' has shape {self._shape}; cannot assign a "
                             f"value of shape {value.shape}")
        scope = current_scope()
        if scope is not None and scope.has(self.owner):
            if self.trainable:
                raise ValueError(f"Variable '{self.path}' is trainable: inside call() only "
                                 f"non-trainable variables (add_weight(..., trainable=False)) "
                                 f"may be assigned; the optimizer updates trainable ones")
            scope.bound[id(self.owner)][2][self.name] = value
        else:
            values = dict(self.owner.own_values(self._collection))
            values[self.name] = value
            self.owner.set_own_values(self._collection, values)
        return value

    def assign_add(self, delta):
        return self.assign(self.value + _value_of(delta))

    def assign_sub(self, delta):
        return self.assign(self.value - _value_of(delta))

    # ---- array protocol --------------------------------------------------------------
    @property
    def shape(self) -> tuple:
        return self._shape

    @property
    def dtype(self):
        return self._dtype

    @property
    def ndim(self) -> int:
        return len(self._shape)

    def numpy(self):
        return np.asarray(self.value)

    def __jax_array__(self):
        return self.value

    def __array__(self, dtype=None, copy=None):
        return np.asarray(self.value, dtype=dtype)

    def __len__(self):
        return self._shape[0]

    def __getitem__(self, index):
        return self.value[index]

    def __repr__(self):
        return f"<Variable path={self.path} shape={self._shape} dtype={self._dtype.name}>"

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __bool__(self):
        return bool(self.value)

    def __neg__(self):
        return -self.value

    def __pos__(self):
        return self.value

    def __abs__(self):
        return abs(self.value)

    @property
    def T(self):
        return self.value.T


def _binary(name):
    def forward(self, other):
        return getattr(self.value, name)(_value_of(other))
    forward.__name__ = name
    return forward


for _op in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or",
            "xor"):
    setattr(Variable, f"__{_op}__", _binary(f"__{_op}__"))
    setattr(Variable, f"__r{_op}__", _binary(f"__r{_op}__"))
for _op in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(Variable, f"__{_op}__", _binary(f"__{_op}__"))
Variable.__hash__ = object.__hash__
