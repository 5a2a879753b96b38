"""Keras's form of a layer: `call(inputs, training=None, mask=None)` reading the
`add_weight` variables it made in `build(input_shape)`.

Such a call still runs as a pure function of its weights: a `CallScope` binds the values
the call was given, so each `Variable` stands for them under jit and grad, and assigned
non-trainable variables become the call's new state. Masks travel with the arrays they
belong to, as Keras's `_keras_mask` does.
"""
from __future__ import annotations

import inspect

import jax
import numpy as np

from ..variables import CallScope, Variable


def is_keras_form(cls) -> bool:
    """Whether `cls.call` is Keras's `call(inputs, ...)` rather than graphnet's pure
    `call(params, state, ...)`: decided once per class, by the names of its parameters."""
    try:
        names = list(inspect.signature(cls.call).parameters)[1:3]
    except (TypeError, ValueError):
        return False
    return names != ["params", "state"]


def accepts(fn, name: str) -> bool:
    """Whether `fn` takes the keyword `name` (or any keyword)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.name == name or p.kind is p.VAR_KEYWORD for p in params)


def is_array(x) -> bool:
    return isinstance(x, (jax.Array, np.ndarray))


def remember_mask(scope, args, kwargs) -> None:
    """A call given `mask=` for its one tensor argument: that tensor carries the mask."""
    mask = kwargs.get("mask")
    if mask is not None and len(args) == 1 and is_array(args[0]):
        scope.masks[id(args[0])] = mask


def known_masks(layer, scope, args, kwargs) -> dict:
    """Keras 3's rule (`Layer.__call__`, step 6) for tensors that carry a mask: one tensor
    argument gives `mask=`, several give `<argument>_mask=` where `call` accepts it."""
    try:
        params = list(inspect.signature(layer.call).parameters.values())
    except (TypeError, ValueError):
        return kwargs
    params = params if layer.keras_form else params[2:]
    positional = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    named = [(positional[i] if i < len(positional) else None, a) for i, a in enumerate(args)]
    named += [(k, v) for k, v in kwargs.items() if not k.endswith("mask")]
    tensors = [(k, v) for k, v in named if is_array(v)]
    kwargs = dict(kwargs)
    if len(tensors) == 1:
        mask = scope.masks.get(id(tensors[0][1]))
        if mask is not None and kwargs.get("mask") is None:
            kwargs["mask"] = mask
        return kwargs
    accepted = {p.name for p in params}
    for k, v in tensors:
        mask = scope.masks.get(id(v))
        if k and mask is not None and f"{k}_mask" in accepted and kwargs.get(f"{k}_mask") is None:
            kwargs[f"{k}_mask"] = mask
    return kwargs


def held_in_attributes(owner, kind) -> list:
    """Objects of `kind` held in `owner`'s attributes (directly, or in lists, tuples and
    dicts), in attribute order: the sub-layers and seed generators a Keras-form layer's
    `__init__`/`build` made."""
    found, seen = [], {id(owner)}

    def visit(value):
        if isinstance(value, kind):
            if id(value) not in seen:
                seen.add(id(value))
                found.append(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)
    for name, value in vars(owner).items():
        if not name.startswith("_") or name in ("_layers",):
            visit(value)
    return found


def keras_call(layer, args, kwargs, training):
    """`layer.call(*args, **kwargs)` with `training=` and `mask=` only where it takes them."""
    kwargs = dict(kwargs)
    if accepts(layer.call, "training"):
        kwargs["training"] = training
    if kwargs.get("mask", 0) is None or ("mask" in kwargs and not accepts(layer.call, "mask")):
        kwargs.pop("mask")
    outputs = layer.call(*args, **kwargs)
    # A call may return a variable itself (`return self.total`): its value is the output.
    return jax.tree_util.tree_map(lambda v: v.value if isinstance(v, Variable) else v,
                                  outputs, is_leaf=lambda v: isinstance(v, Variable))


def pure_keras_call(layer, params, state, args, kwargs, training, rng):
    """`(outputs, new_state, added_loss)` of a Keras-form call on the given weights."""
    carried = kwargs.pop("_arg_masks", None) or {}
    with CallScope(training, rng) as scope:
        scope.bind(layer, params, state)
        for j, mask in carried.items():
            if j < len(args) and is_array(args[j]):
                scope.masks[id(args[j])] = mask
        remember_mask(scope, args, kwargs)
        outputs = keras_call(layer, args, kwargs, bool(training))
        new_state = scope.state_of(layer)
        loss = sum(scope.losses) if scope.losses else 0.0
    return outputs, new_state, loss
