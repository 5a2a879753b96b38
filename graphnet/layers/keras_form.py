"""Keras's form of a layer: `call(inputs, training=None, mask=None)` reading the
`add_weight` variables it made in `build(input_shape)`.

Such a call still runs as a pure function of its weights: a `CallScope` binds the values
the call was given, so each `Variable` stands for them under jit and grad, and assigned
non-trainable variables become the call's new state. Masks travel with the arrays they
belong to, as Keras's `_keras_mask` does.
"""
from __future__ import annotations

import functools
import inspect

import jax
import jax.numpy as jnp
import numpy as np

from .. import constraints, initializers, naming, regularizers
from ..symbolic import SymbolicTensor, normalize_shape
from ..variables import CallScope, Variable, current_scope, unique_name
from .input_spec import check_inputs
from .tracing import specs_of


@functools.lru_cache(maxsize=None)
def _positional_names(cls) -> tuple:
    try:
        params = list(inspect.signature(cls.call).parameters.values())[3:]
    except (TypeError, ValueError):
        return ()
    names = []
    for p in params:       # up to the first one `build` takes by keyword (MHA's key)
        if p.kind is not p.POSITIONAL_OR_KEYWORD or p.name in cls.build_kwargs:
            break
        names.append(p.name)
    return tuple(names)


def bind_by_position(cls, args, kwargs):
    """Tensor arguments given by keyword (`mha(query=q, value=v)`) moved to their
    positions, as Keras binds them: a pure-form layer's build sees them all in order."""
    names = _positional_names(cls)
    if len(args) >= len(names) or names[len(args)] not in kwargs:
        return args, kwargs
    args, kwargs = list(args), dict(kwargs)
    for name in names[len(args):]:
        if name not in kwargs:
            break
        args.append(kwargs.pop(name))
    return tuple(args), kwargs


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
        if mask is not None and kwargs.get("mask") is None and layer.receives_mask:
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


def generator_keyword(cls) -> str:
    """The keyword a pure-form `build` takes its NumPy generator by: "generator" where it
    names that parameter, else "rng" (builds written before it had that name)."""
    return "generator" if "generator" in _build_parameters(cls) else "rng"


@functools.lru_cache(maxsize=None)
def _build_parameters(cls) -> tuple:
    try:
        return tuple(inspect.signature(cls.build).parameters)
    except (TypeError, ValueError):
        return ()


def make_weight(layer, variables: list, build_generator, shape, initializer, dtype, trainable,
                autocast, regularizer, constraint, name, unknown: dict) -> Variable:
    """Keras's `add_weight` on `layer`: its initial value drawn (from `build_generator`
    inside `build`, else a fresh seeded generator) into the layer's params or state, the
    `Variable` appended to `variables`."""
    if unknown.pop("overwrite_with_gradient", False):
        raise ValueError(f"Layer '{layer.name}': add_weight(overwrite_with_gradient=True) "
                         f"is not supported")
    if unknown:
        raise TypeError(f"Layer '{layer.name}': add_weight() got unexpected keyword "
                        f"argument(s) {sorted(unknown)}")
    shape = () if shape is None else normalize_shape(shape, f"Layer '{layer.name}' add_weight")
    if any(d is None for d in shape):
        raise ValueError(f"Layer '{layer.name}': add_weight needs a fully known shape, "
                         f"received {shape}")
    dtype = np.dtype(dtype or layer.dtype)
    if initializer is None:
        initializer = "glorot_uniform" if dtype.kind == "f" else "zeros"
    initializer = initializers.get(initializer)
    name = unique_name(variables, name)
    generator = build_generator if build_generator is not None else naming.next_generator()
    value = jnp.asarray(initializer(shape, dtype.name, generator), dtype)
    variable = Variable(layer, name, shape, dtype, trainable, initializer,
                        regularizers.get(regularizer), constraints.get(constraint))
    if not autocast:            # kept in variable_dtype when called under a mixed policy
        layer.no_autocast_weights = (*layer.no_autocast_weights, name)
    variables.append(variable)
    collection = "params" if variable.trainable else "state"
    layer.set_own_values(collection, {**layer.own_values(collection), name: value})
    if variable.regularizer is not None:
        layer.weight_regularizers[name] = variable.regularizer
    if variable.constraint is not None:
        layer.weight_constraints[name] = variable.constraint
    return variable


def add_loss(layer, loss, traced) -> None:
    """Keras's `add_loss`: into the current call's losses, or into `traced` (the symbolic
    losses of a subclassed model's traced `call`); anywhere else an error that says where
    it belongs."""
    scope = current_scope()
    if scope is not None:
        scope.losses.append(jnp.asarray(loss, jnp.float32))
        return
    if traced is not None and isinstance(loss, SymbolicTensor):
        traced.append(loss)
        return
    if traced is not None:
        raise ValueError(f"Model '{layer.name}': add_loss in call() takes a tensor computed "
                         f"from the inputs, received {type(loss).__name__}; a penalty on "
                         f"weights belongs in a layer's call() or a kernel_regularizer")
    if isinstance(loss, SymbolicTensor):
        raise ValueError(f"Layer '{layer.name}': add_loss on a symbolic tensor works inside a "
                         f"subclassed model's call() only (Keras 3 refuses it on functional "
                         f"models too); add the loss in a layer's call() with "
                         f"self.add_loss(...), or subclass graphnet.Model")
    raise ValueError(f"Layer '{layer.name}': add_loss is called inside call() (the loss "
                     f"of one call is added to the training loss)")


def call_in_scope(layer, scope, args, kwargs, build):
    """A call with arrays inside another layer's call: on the values the scope bound, not
    the layer's own; `build(spec_args, spec_kwargs)` builds it on its first call."""
    kwargs = dict(kwargs)
    training = kwargs.pop("training", None)
    training = scope.training if training is None else bool(training)
    if not layer.built:
        spec_args, spec_kwargs = specs_of((args, kwargs))
        check_inputs(layer, spec_args)
        build(spec_args, spec_kwargs)
        scope.bind(layer, layer.params, layer.state)
    elif not scope.has(layer):
        scope.bind(layer, layer.params, layer.state)
    if scope.masks:
        kwargs = known_masks(layer, scope, args, kwargs)
    if layer.keras_form:
        remember_mask(scope, args, kwargs)
        outer, scope.training = scope.training, training
        try:
            outputs = keras_call(layer, args, kwargs, training)
        finally:
            scope.training = outer
        return outputs
    _, params, state = scope.bound[id(layer)]
    outputs, new_state, loss = layer.call_with_losses(
        params, state, *args, training=training, rng=scope.next_key(), **kwargs)
    scope.set_state(layer, new_state)
    if not (isinstance(loss, float) and loss == 0.0):
        scope.losses.append(loss)
    return outputs
