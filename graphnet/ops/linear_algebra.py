"""Keras's linear-algebra ops (`keras.ops.linalg`): factorizations, solves, inverses.

Each works on the last two axes, any leading axes being a batch, as in Keras.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy as jsp

from .recording import op as _op
from .recording import public_names


def _square(x, who):
    shape = jnp.shape(x)
    if len(shape) < 2 or shape[-1] != shape[-2]:
        raise ValueError(f"ops.{who}: expects square matrices on the last two axes, received "
                         f"shape {shape}")


@_op
def cholesky(x, upper=False):
    """Keras `ops.cholesky`: the triangular factor `L` with `x = L @ L.T` (`upper=True`: `U`
    with `x = U.T @ U`). On arrays, a matrix that is not positive definite is a ValueError as
    in Keras; traced inside a compiled program the result is NaN instead."""
    _square(x, "cholesky")
    out = jnp.linalg.cholesky(x, upper=upper)
    if not isinstance(out, jax.core.Tracer) and bool(jnp.any(jnp.isnan(out))):
        raise ValueError("ops.cholesky: the decomposition failed; the input might not be a "
                         "positive definite matrix")
    return out


@_op
def cholesky_inverse(x, upper=False):
    """Keras `ops.cholesky_inverse`: the inverse of `A` from its Cholesky factor `x`
    (`A = x @ x.T`, or `x.T @ x` with `upper=True`)."""
    _square(x, "cholesky_inverse")
    x = jnp.asarray(x)
    eye = jnp.broadcast_to(jnp.eye(x.shape[-1], dtype=x.dtype), x.shape)
    factor_inv = jsp.linalg.solve_triangular(x, eye, lower=not upper)
    t = jnp.swapaxes(factor_inv, -1, -2)
    return factor_inv @ t if upper else t @ factor_inv


@_op
def det(x):
    """Keras `ops.det`: the determinant of each matrix."""
    _square(x, "det")
    return jnp.linalg.det(x)


@_op
def slogdet(x):
    """Keras `ops.slogdet`: `(sign, log|det|)`, stable where `det` under- or overflows."""
    _square(x, "slogdet")
    return tuple(jnp.linalg.slogdet(x))


@_op
def logdet(x):
    """Keras `ops.logdet`: `log(det(x))` of positive-definite matrices, through `slogdet`."""
    _square(x, "logdet")
    return jnp.linalg.slogdet(x)[1]


@_op
def eig(x):
    """Keras `ops.eig`: `(eigenvalues, eigenvectors)`, complex, of general square matrices.
    JAX computes it on the CPU only."""
    _square(x, "eig")
    return tuple(jnp.linalg.eig(x))


@_op
def eigh(x):
    """Keras `ops.eigh`: `(eigenvalues ascending, eigenvectors)` of symmetric matrices."""
    _square(x, "eigh")
    return tuple(jnp.linalg.eigh(x))


@_op
def inv(x):
    """Keras `ops.inv`: the inverse of each matrix."""
    _square(x, "inv")
    return jnp.linalg.inv(x)


@_op
def lu_factor(x):
    """Keras `ops.lu_factor`: `(lu, pivots)`, the LU factors packed in one matrix and the row
    pivots, as `scipy.linalg.lu_factor` (batched over leading axes)."""
    fn = jsp.linalg.lu_factor
    for _ in range(jnp.ndim(x) - 2):
        fn = jax.vmap(fn)
    return tuple(fn(x))


@_op
def qr(x, mode="reduced"):
    """Keras `ops.qr`: `(q, r)` with `x = q @ r`; `mode` "reduced" or "complete"."""
    if mode not in ("reduced", "complete"):
        raise ValueError(f"ops.qr: mode must be 'reduced' or 'complete', received {mode!r}")
    return tuple(jnp.linalg.qr(x, mode=mode))


@_op
def solve(a, b):
    """Keras `ops.solve`: `x` with `a @ x = b`."""
    _square(a, "solve")
    return jnp.linalg.solve(a, b)


@_op
def solve_triangular(a, b, lower=False):
    """Keras `ops.solve_triangular`: `x` with `a @ x = b`, `a` upper (or `lower`) triangular."""
    _square(a, "solve_triangular")
    return jsp.linalg.solve_triangular(a, b, lower=lower)


@_op
def svd(x, full_matrices=True, compute_uv=True):
    """Keras `ops.svd`: `(u, s, vh)` with `x = u @ diag(s) @ vh` (only `s` when
    `compute_uv=False`)."""
    out = jnp.linalg.svd(x, full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(out) if compute_uv else out


@_op
def lstsq(a, b, rcond=None):
    """Keras `ops.lstsq`: the least-squares solution `x` of `a @ x = b`."""
    return jnp.linalg.lstsq(a, b, rcond=rcond)[0]


@_op
def matrix_rank(x, tol=None):
    """Keras `ops.matrix_rank`: the number of singular values above `tol` (int32)."""
    if jnp.ndim(x) < 2:
        raise ValueError(f"ops.matrix_rank: expects at least 2 axes, received shape "
                         f"{jnp.shape(x)}")
    if tol is None:
        return jnp.linalg.matrix_rank(x).astype(jnp.int32)
    singular = jnp.linalg.svd(x, compute_uv=False)
    return jnp.sum(singular > tol, axis=-1).astype(jnp.int32)


@_op
def pinv(x, rcond=None):
    """Keras `ops.pinv`: the Moore-Penrose pseudo-inverse (singular values below `rcond` times
    the largest are dropped)."""
    if jnp.ndim(x) < 2:
        raise ValueError(f"ops.pinv: expects at least 2 axes, received shape {jnp.shape(x)}")
    return jnp.linalg.pinv(x, rtol=rcond)


def jvp(fun, primals, tangents, has_aux=False):
    """Keras `ops.jvp`: `(fun(*primals), the directional derivative along tangents)`, as
    `jax.jvp`. A function of Python callables: it computes on arrays (also inside a layer's
    `call`) and does not record a graph node."""
    return jax.jvp(fun, tuple(primals), tuple(tangents), has_aux=has_aux)


__all__ = public_names(globals(), __name__)
