"""Keras's ops that take Python functions (the loops `cond`, `while_loop`, `fori_loop`,
`scan`, `map`, `vectorized_map`, and `switch`, `associative_scan`, `custom_gradient`,
`vectorize`) and einops-style `rearrange`.

The ones taking functions compute on arrays: call them inside a layer's `call` or a
`Lambda`, where the arrays are JAX values; a function cannot be saved in a graph, so they
never record a graph node.
"""
from __future__ import annotations

import math as _math
import re

import jax
import jax.numpy as jnp
from jax import lax

from ..symbolic import SymbolicTensor
from .recording import op as _op
from .recording import public_names, unwrap


def _arrays_only(who, values):
    found = []
    jax.tree_util.tree_map(lambda v: found.append(v) if isinstance(v, SymbolicTensor) else None,
                           values)
    if found:
        raise TypeError(f"ops.{who} takes Python functions, so it cannot be a graph node: call "
                        f"it inside a layer's call() or a layers.Lambda, received {found[0]!r}")


def switch(index, branches, *operands):
    """Keras `ops.switch`: `branches[index](*operands)`, `index` clamped to the branches
    (`jax.lax.switch`: every branch is traced, one runs). Arrays only (see the module)."""
    _arrays_only("switch", (index, operands))
    return lax.switch(index, list(branches), *unwrap(operands))


def associative_scan(f, elems, reverse=False, axis=0):
    """Keras `ops.associative_scan`: the prefix combinations `f(f(e0, e1), e2), ...` along
    `axis` of `elems` (a pytree), in parallel; `f` must be associative. Arrays only (see the
    module)."""
    _arrays_only("associative_scan", elems)
    return lax.associative_scan(f, unwrap(elems), reverse=reverse, axis=axis)


def custom_gradient(f):
    """Keras `ops.custom_gradient`: decorates `f(*args) -> (output, grad_fn)` so that the
    gradient through it is `grad_fn(upstream)` (`jax.custom_gradient`); layer weights passed
    in are read as their values. Arrays only (see the module).

    ```python
    from graphnet import ops

    @ops.custom_gradient
    def clip_gradient(x):
        def grad(upstream):
            return ops.clip(upstream, -1.0, 1.0)
        return x * 3.0, grad
    ```
    """
    with_gradient = jax.custom_gradient(f)

    def wrapper(*args, **kwargs):
        _arrays_only("custom_gradient", (args, kwargs))
        args, kwargs = unwrap((args, kwargs))
        return with_gradient(*args, **kwargs)
    wrapper.__name__ = getattr(f, "__name__", "custom_gradient")
    wrapper.__doc__ = f.__doc__
    return wrapper


def vectorize(pyfunc, *, excluded=None, signature=None):
    """Keras `ops.vectorize`: `pyfunc` on scalars (or on the core shapes `signature` names)
    broadcast over the other axes (`jax.numpy.vectorize`). Arrays only (see the module)."""
    return jnp.vectorize(pyfunc, excluded=excluded or set(), signature=signature)


def cond(pred, true_fn, false_fn):
    """Keras `ops.cond`: `true_fn()` if `pred` else `false_fn()`, traced once each
    (`jax.lax.cond`)."""
    return lax.cond(pred, true_fn, false_fn)


def fori_loop(lower, upper, body_fun, init_val):
    """Keras `ops.fori_loop`: `body_fun(i, value)` for i from `lower` to `upper`, starting from
    `init_val` (`jax.lax.fori_loop`)."""
    return lax.fori_loop(lower, upper, body_fun, init_val)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Keras `ops.while_loop`: `loop_vars` a tuple or list, `cond`/`body` take them spread."""
    is_tuple = isinstance(loop_vars, (tuple, list))
    state = tuple(loop_vars) if is_tuple else (loop_vars,)
    if maximum_iterations is not None:
        state = (0, state)

        def keep(s):
            return jnp.logical_and(s[0] < maximum_iterations, cond(*s[1]))

        def step(s):
            out = body(*s[1])
            return s[0] + 1, tuple(out) if is_tuple else (out,)
        result = lax.while_loop(keep, step, state)[1]
    else:
        result = lax.while_loop(lambda s: cond(*s),
                                lambda s: tuple(body(*s)) if is_tuple else (body(*s),), state)
    return type(loop_vars)(result) if is_tuple else result[0]


def scan(f, init, xs=None, length=None, reverse=False, unroll=1):
    """Keras `ops.scan`: `f(carry, x)` over the leading axis of `xs`, giving `(carry, stacked
    outputs)` (`jax.lax.scan`)."""
    return lax.scan(f, init, xs, length=length, reverse=reverse, unroll=unroll)


def map(f, xs):
    """Keras `ops.map`: `f` applied to each slice of `xs` along its leading axis, results stacked
    (`jax.lax.map`)."""
    return lax.map(f, xs)


def vectorized_map(function, elements):
    """Keras `ops.vectorized_map`: `function` mapped over the leading axis of `elements`
    (`jax.vmap`)."""
    return jax.vmap(function)(elements)


_AXES = re.compile(r"\(([^)]*)\)|(\w+)")


def _parse(side, who):
    """'b (h h1) c' -> [['b'], ['h', 'h1'], ['c']]."""
    if "..." in side:
        raise NotImplementedError(f"ops.{who}: '...' in a pattern is not supported, as in "
                                  f"Keras; name every axis")
    groups = [m.group(1).split() if m.group(1) is not None else [m.group(2)]
              for m in _AXES.finditer(side)]
    if _AXES.sub("", side).strip():
        raise ValueError(f"ops.{who}: cannot read the pattern side {side!r}")
    return groups


@_op
def rearrange(tensor, pattern, **axes_lengths):
    """Keras `ops.rearrange`: einops-style axis reordering, splitting `(h h1)` and merging,
    e.g. `'b (h h1) (w w1) c -> b h w (c h1 w1)'` with `h1=2, w1=2`."""
    if "->" not in pattern:
        raise ValueError(f"ops.rearrange: the pattern must read 'input -> output', received "
                         f"{pattern!r}")
    left, right = (s.strip() for s in pattern.split("->"))
    inputs, outputs = _parse(left, "rearrange"), _parse(right, "rearrange")
    tensor = jnp.asarray(tensor)
    if len(inputs) != tensor.ndim:
        raise ValueError(f"ops.rearrange: the pattern {left!r} names {len(inputs)} axes, the "
                         f"tensor has shape {tensor.shape}")
    sizes = dict(axes_lengths)
    for group, dim in zip(inputs, tensor.shape):
        unknown = [a for a in group if a not in sizes]
        if len(unknown) > 1:
            raise ValueError(f"ops.rearrange: axes {unknown} of one group need their lengths "
                             f"given as keywords")
        if unknown:
            sizes[unknown[0]] = dim // _math.prod(sizes[a] for a in group if a in sizes)
    flat_in = [a for group in inputs for a in group]
    flat_out = [a for group in outputs for a in group]
    if sorted(flat_in) != sorted(flat_out):
        raise ValueError(f"ops.rearrange: both sides must name the same axes, received "
                         f"{flat_in} and {flat_out}")
    tensor = jnp.reshape(tensor, [sizes[a] for a in flat_in])
    tensor = jnp.transpose(tensor, [flat_in.index(a) for a in flat_out])
    return jnp.reshape(tensor, [_math.prod(sizes[a] for a in group) for group in outputs])


__all__ = public_names(globals(), __name__)
