"""How an op is made: on arrays it computes, on symbolic tensors it records a graph node.

The array function behind each op is kept in `layers.operation.OPS` under the op's name:
that is what an `Operation` node calls and what a saved graph refers to.
"""
from __future__ import annotations

import functools
import inspect

from ..layers.operation import OPS, Operation
from ..symbolic import SymbolicTensor
from ..variables import Variable
from .numpy_examples import docstring


def walk(value, leaf):
    """`value` with `leaf` applied through lists, tuples and dicts."""
    if isinstance(value, list):
        return [walk(v, leaf) for v in value]
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(walk(v, leaf) for v in value)
    if isinstance(value, dict):
        return {k: walk(v, leaf) for k, v in value.items()}
    return leaf(value)


def any_symbolic(value) -> bool:
    found = []
    walk(value, lambda x: found.append(1) if isinstance(x, SymbolicTensor) else None)
    return bool(found)


def unwrap(value):
    """`value` with every `add_weight` variable replaced by its current value."""
    return walk(value, lambda x: x.value if isinstance(x, Variable) else x)


def op(fn=None, *, name=None):
    """Registers `fn` as an op: symbolic arguments make a graph node, others compute."""
    if fn is None:
        return functools.partial(op, name=name)
    key = name or fn.__name__

    @functools.wraps(fn)
    def dispatch(*args, **kwargs):
        if any_symbolic((args, kwargs)):
            return Operation.apply_symbolic(key, args, kwargs)
        args, kwargs = unwrap((args, kwargs))
        return fn(*args, **kwargs)
    OPS[key] = fn
    return dispatch


def same(jnp_fn, name):
    """An op that is exactly `jnp_fn` (Keras's NumPy-named ops match NumPy).

    The op computes `jnp_fn` on arrays and records a node named `name` on symbolic
    tensors; its docstring names both and shows the example `ops.numpy_examples` holds for
    `name`. `ops.abs` is `same(jax.numpy.abs, "abs")`.

    Args:
        jnp_fn: the `jax.numpy` function computing the op; its signature becomes the op's.
        name: the op's Keras name, under which a saved graph refers to it.

    Examples:
        >>> print(ops.abs(np.array([-2, 3])))
        [2 3]
        >>> print(ops.abs.__doc__.splitlines()[0])
        Keras `ops.abs` (as `jax.numpy.abs`).
    """
    def fn(*args, **kwargs):
        return jnp_fn(*args, **kwargs)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = docstring(name, jnp_fn.__name__)
    try:                        # its parameters, for reading Keras's op layers by name
        fn.__signature__ = inspect.signature(jnp_fn)
    except (TypeError, ValueError):
        pass
    return op(fn)


def public_names(namespace: dict, module: str) -> list:
    """The ops a module defines (its `__all__`): functions made there, aliases included."""
    return [n for n, v in namespace.items()
            if not n.startswith("_") and callable(v) and getattr(v, "__module__", None) == module]
