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


def _returning_arrays(who, fn):
    """`fn`, refusing a symbolic result: a function may reach a symbolic tensor through a
    closure, where no argument of the op shows it (JAX's own error would name neither)."""
    def checked(*args):
        result = fn(*args)
        _arrays_only(who, result)
        return result
    return checked


def switch(index, branches, *operands):
    """Keras `ops.switch`: `branches[index](*operands)`, `index` clamped to the branches
    (`jax.lax.switch`: every branch is traced, one runs). Arrays only (see the module).

    Args:
        index: an int (or int array of shape `()`, traced values included) choosing the branch;
            below 0 it picks the first, past the end the last.
        branches: the functions to choose from; each takes `*operands` and all must return
            the same shapes and dtypes.
        *operands: the arrays passed to the chosen branch.

    Raises:
        TypeError: `index` or an operand is a symbolic tensor.

    Examples:
        >>> branches = [lambda v: v + 1, lambda v: v * 10]
        >>> float(ops.switch(1, branches, np.array(2.0)))
        20.0
        >>> float(ops.switch(5, branches, np.array(2.0)))    # clamped: the last branch
        20.0
        >>> ops.switch(0, branches, graphnet.Input(shape=(2,)))
        Traceback (most recent call last):
        ...
        TypeError: ops.switch takes Python functions, so it cannot be a graph node: ...
    """
    _arrays_only("switch", (index, operands))
    return lax.switch(index, list(branches), *unwrap(operands))


def associative_scan(f, elems, reverse=False, axis=0):
    """Keras `ops.associative_scan`: the prefix combinations `f(f(e0, e1), e2), ...` along
    `axis` of `elems` (a pytree), in parallel; `f` must be associative. Arrays only (see the
    module).

    Args:
        f: the combining function of two pytrees like `elems` (slices of it); it must be
            associative, as `+`, `*` or `max` are, since the order of combining varies.
        elems: an array or pytree of arrays, all of one size along `axis`.
        reverse: combine from the end: entry i combines entries i to the last.
        axis: the axis to scan along.

    Raises:
        TypeError: `elems` holds a symbolic tensor.

    Examples:
        Prefix sums both ways, compiled as one program with `jax.jit` (as inside a layer's
        `call`):

        >>> import jax
        >>> add = lambda a, b: a + b
        >>> both = jax.jit(lambda v: (ops.associative_scan(add, v),
        ...                           ops.associative_scan(add, v, reverse=True)))
        >>> forward, backward = both(np.array([1, 2, 3, 4]))
        >>> print(np.asarray(forward), np.asarray(backward))
        [ 1  3  6 10] [10  9  7  4]
    """
    _arrays_only("associative_scan", elems)
    return lax.associative_scan(f, unwrap(elems), reverse=reverse, axis=axis)


def custom_gradient(f):
    """Keras `ops.custom_gradient`: decorates `f(*args) -> (output, grad_fn)` so that the
    gradient through it is `grad_fn(upstream)` (`jax.custom_gradient`); layer weights passed
    in are read as their values. Arrays only (see the module).

    Args:
        f: the function returning its output and the function that maps the upstream gradient
            to the gradients of its arguments.

    Returns:
        A function of the same arguments that returns `output` alone; calling it on a symbolic
        tensor raises TypeError.

    Examples:
        The value is `3 * x`, but the gradient passed back is the upstream one clipped to
        [-1, 1], so 1.0 where the true derivative is 3.0:

        >>> import jax
        >>> @ops.custom_gradient
        ... def clip_gradient(x):
        ...     def grad(upstream):
        ...         return ops.clip(upstream, -1.0, 1.0)
        ...     return x * 3.0, grad
        >>> float(clip_gradient(2.0)), float(jax.grad(clip_gradient)(2.0))
        (6.0, 1.0)
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
    broadcast over the other axes (`jax.numpy.vectorize`). Arrays only (see the module).

    Args:
        pyfunc: the function to vectorize; it sees traced arrays, so it branches with
            `ops.where`, not `if`.
        excluded: a set of positions of arguments passed through whole, not vectorized
            (keyword arguments always are).
        signature: NumPy's generalized signature, such as `"(n)->()"`: the core axes `pyfunc`
            takes and gives (default: scalars in).

    Returns:
        The vectorized function.

    Examples:
        >>> f = ops.vectorize(lambda a, b: a * b + 1)
        >>> print(np.asarray(f(np.array([1, 2]), np.array([[10], [20]]))))
        [[11 21]
         [21 41]]
        >>> row_sum = ops.vectorize(lambda v: v.sum(), signature="(n)->()")
        >>> print(np.asarray(row_sum(np.arange(6).reshape(2, 3))))
        [ 3 12]
    """
    return jnp.vectorize(pyfunc, excluded=excluded or set(), signature=signature)


def cond(pred, true_fn, false_fn):
    """Keras `ops.cond`: `true_fn()` if `pred` else `false_fn()`, traced once each
    (`jax.lax.cond`). Arrays only (see the module).

    Args:
        pred: a boolean scalar (a traced one included).
        true_fn: the function of no arguments run when `pred` is true.
        false_fn: the one run otherwise; both must return the same shapes and dtypes.

    Raises:
        TypeError: `pred` is a symbolic tensor, or a branch returns one.

    Examples:
        >>> x = np.array([1.0, 2.0])
        >>> print(np.asarray(ops.cond(x.sum() > 2, lambda: x * 2, lambda: x)))
        [2. 4.]
    """
    _arrays_only("cond", pred)
    return lax.cond(pred, _returning_arrays("cond", true_fn), _returning_arrays("cond", false_fn))


def fori_loop(lower, upper, body_fun, init_val):
    """Keras `ops.fori_loop`: `body_fun(i, value)` for i from `lower` to `upper`, starting from
    `init_val` (`jax.lax.fori_loop`). Arrays only (see the module).

    Args:
        lower: the first i.
        upper: the end of the range, not included.
        body_fun: `(i, value) -> new value`, of the same shapes and dtypes as `init_val`.
        init_val: the starting value (an array or pytree).

    Returns:
        The value after the last step (`init_val` if `upper <= lower`).

    Raises:
        TypeError: a bound or `init_val` is (or holds) a symbolic tensor, or `body_fun`
            returns one.

    Examples:
        >>> int(ops.fori_loop(0, 5, lambda i, total: total + i, 0))    # 0 + 1 + 2 + 3 + 4
        10
    """
    _arrays_only("fori_loop", (lower, upper, init_val))
    return lax.fori_loop(lower, upper, _returning_arrays("fori_loop", body_fun), init_val)


def while_loop(cond, body, loop_vars, maximum_iterations=None):
    """Keras `ops.while_loop`: `loop_vars` a tuple or list, `cond`/`body` take them spread.
    Arrays only (see the module).

    Args:
        cond: `(*loop_vars) -> bool`: whether to run `body` again.
        body: `(*loop_vars) -> new loop_vars`, of the same structure, shapes and dtypes.
        loop_vars: the starting values: a tuple or list of them, or one value.
        maximum_iterations: stop after this many steps even if `cond` still holds (None:
            no limit).

    Returns:
        The final values, in the structure of `loop_vars` (a tuple, a list or one value).

    Raises:
        TypeError: `loop_vars` holds a symbolic tensor, or `body` returns one.

    Examples:
        >>> final = ops.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s * 2), (0, 1))
        >>> [int(v) for v in final]
        [4, 16]
        >>> final = ops.while_loop(lambda i, s: i < 4, lambda i, s: (i + 1, s * 2), (0, 1),
        ...                        maximum_iterations=2)
        >>> [int(v) for v in final]
        [2, 4]
        >>> int(ops.while_loop(lambda v: v < 10, lambda v: v * 3, 1))    # 1, 3, 9, 27
        27
    """
    _arrays_only("while_loop", loop_vars)
    body = _returning_arrays("while_loop", body)
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
    outputs)` (`jax.lax.scan`). Arrays only (see the module).

    Args:
        f: `(carry, x) -> (new carry, y)`; the carry keeps its shapes and dtypes, `y` may be
            None.
        init: the first carry.
        xs: the array (or pytree of arrays) scanned along its leading axis; None: `f` gets None
            `length` times.
        length: the number of steps, needed when `xs` is None.
        reverse: scan from the last slice to the first (outputs stay in `xs`'s order).
        unroll: how many steps to unroll per loop iteration (a compile-time trade-off).

    Returns:
        A pair `(carry, ys)`: the last carry and the outputs `y` stacked along a new leading
        axis.

    Raises:
        TypeError: `init` or `xs` holds a symbolic tensor, or `f` returns one.

    Examples:
        Running sums: the carry is the total so far, and each step outputs it:

        >>> carry, ys = ops.scan(lambda c, x: (c + x, c + x), 0.0, np.array([1.0, 2.0, 3.0]))
        >>> print(np.asarray(carry), np.asarray(ys))
        6.0 [1. 3. 6.]
        >>> carry, ys = ops.scan(lambda c, _: (c * 2, c), 1, length=4)
        >>> print(np.asarray(carry), np.asarray(ys))
        16 [1 2 4 8]
    """
    _arrays_only("scan", (init, xs))
    return lax.scan(_returning_arrays("scan", f), init, xs, length=length, reverse=reverse,
                    unroll=unroll)


def map(f, xs):
    """Keras `ops.map`: `f` applied to each slice of `xs` along its leading axis, results stacked
    (`jax.lax.map`). Arrays only (see the module).

    One slice at a time, in a loop: less memory than `vectorized_map`, which runs them all at
    once.

    Args:
        f: the function of one slice.
        xs: the array (or pytree of arrays) to map over.

    Raises:
        TypeError: `xs` holds a symbolic tensor, or `f` returns one.

    Examples:
        >>> print(np.asarray(ops.map(lambda row: row.sum(), np.array([[1, 2], [3, 4]]))))
        [3 7]
    """
    _arrays_only("map", xs)
    return lax.map(_returning_arrays("map", f), xs)


def vectorized_map(function, elements):
    """Keras `ops.vectorized_map`: `function` mapped over the leading axis of `elements`
    (`jax.vmap`). Arrays only (see the module).

    Args:
        function: the function of one slice.
        elements: the array (or pytree of arrays) to map over.

    Raises:
        TypeError: `elements` holds a symbolic tensor, or `function` returns one.

    Examples:
        >>> rows = np.array([[1.0, 2.0], [3.0, 4.0]])
        >>> print(np.asarray(ops.vectorized_map(lambda row: row @ row, rows)))
        [ 5. 25.]
    """
    _arrays_only("vectorized_map", elements)
    return jax.vmap(_returning_arrays("vectorized_map", function))(elements)


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
    e.g. `'b (h h1) (w w1) c -> b h w (c h1 w1)'` with `h1=2, w1=2`.

    Args:
        tensor: the array or symbolic tensor to rearrange.
        pattern: `"input axes -> output axes"`: one name per axis, brackets for axes split or
            merged.
        **axes_lengths: the lengths of split axes, by name; each bracket of the input side
            may leave one length out.

    Raises:
        ValueError: the pattern has no `->`, names another number of axes than the tensor
            has, leaves more than one length of a bracket unknown, or names different axes on
            its two sides.
        NotImplementedError: the pattern has `...` (as in Keras).

    Examples:
        >>> print(np.asarray(ops.rearrange(np.arange(4).reshape(1, 4), "b (h w) -> b h w", h=2)))
        [[[0 1]
          [2 3]]]
        >>> x = graphnet.Input(shape=(6,))
        >>> ops.rearrange(x, "b (h w) -> b w h", h=2).shape
        (None, 3, 2)
    """
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
