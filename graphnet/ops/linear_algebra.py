"""Keras's linear-algebra ops (`keras.ops.linalg`): factorizations, solves, inverses.

Each works on the last two axes, any leading axes being a batch, as in Keras; `lstsq`
alone takes one matrix, as Keras's does.
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
    in Keras; traced inside a compiled program the result is NaN instead.

    Args:
        x: symmetric positive-definite matrices `(..., n, n)`.
        upper: return the upper factor `U = L.T` instead of `L`.

    Raises:
        ValueError: `x` is not square on its last two axes, or (on arrays) not positive
            definite.

    Examples:
        >>> a = np.array([[4.0, 2.0], [2.0, 5.0]], "float32")
        >>> print(np.asarray(ops.cholesky(a)))          # [[2, 0], [1, 2]] @ its transpose is a
        [[2. 0.]
         [1. 2.]]
        >>> print(np.asarray(ops.cholesky(a, upper=True)))
        [[2. 1.]
         [0. 2.]]
    """
    _square(x, "cholesky")
    out = jnp.linalg.cholesky(x, upper=upper)
    if not isinstance(out, jax.core.Tracer) and bool(jnp.any(jnp.isnan(out))):
        raise ValueError("ops.cholesky: the decomposition failed; the input might not be a "
                         "positive definite matrix")
    return out


@_op
def cholesky_inverse(x, upper=False):
    """Keras `ops.cholesky_inverse`: the inverse of `A` from its Cholesky factor `x`
    (`A = x @ x.T`, or `x.T @ x` with `upper=True`).

    Computed by triangular solves with the factor; `A` itself is never formed.

    Args:
        x: lower-triangular factors `(..., n, n)` (upper with `upper=True`).
        upper: `x` is the upper factor.

    Raises:
        ValueError: `x` is not square on its last two axes.

    Examples:
        >>> factor = np.array([[2.0, 0.0], [1.0, 2.0]], "float32")   # A = [[4, 2], [2, 5]]
        >>> print((np.asarray(ops.cholesky_inverse(factor)) * 16).round(3))  # det(A) = 16
        [[ 5. -2.]
         [-2.  4.]]
    """
    _square(x, "cholesky_inverse")
    x = jnp.asarray(x)
    eye = jnp.broadcast_to(jnp.eye(x.shape[-1], dtype=x.dtype), x.shape)
    factor_inv = jsp.linalg.solve_triangular(x, eye, lower=not upper)
    t = jnp.swapaxes(factor_inv, -1, -2)
    return factor_inv @ t if upper else t @ factor_inv


@_op
def det(x):
    """Keras `ops.det`: the determinant of each matrix.

    Raises:
        ValueError: `x` is not square on its last two axes.

    Examples:
        >>> print(np.asarray(ops.det(np.array([[1.0, 2.0], [3.0, 4.0]], "float32"))).round(3))
        -2.0
        >>> ops.det(graphnet.Input(shape=(3, 3))).shape       # one per sample
        (None,)
    """
    _square(x, "det")
    return jnp.linalg.det(x)


@_op
def slogdet(x):
    """Keras `ops.slogdet`: `(sign, log|det|)`, stable where `det` under- or overflows.

    Returns:
        A pair `(sign, logabsdet)`, each of shape `x.shape[:-2]`: `det = sign * exp(logabsdet)`.

    Raises:
        ValueError: `x` is not square on its last two axes.

    Examples:
        >>> sign, logabsdet = ops.slogdet(np.array([[1.0, 2.0], [3.0, 4.0]], "float32"))
        >>> float(sign), round(float(logabsdet), 3)          # det = -2: -1, log 2
        (-1.0, 0.693)
    """
    _square(x, "slogdet")
    return tuple(jnp.linalg.slogdet(x))


@_op
def logdet(x):
    """Keras `ops.logdet`: `log(det(x))` of positive-definite matrices, through `slogdet`.

    Raises:
        ValueError: `x` is not square on its last two axes.

    Examples:
        >>> a = np.array([[4.0, 2.0], [2.0, 5.0]], "float32")      # det 16
        >>> print(np.asarray(ops.logdet(a)).round(3), np.log(16).round(3))
        2.773 2.773
    """
    _square(x, "logdet")
    return jnp.linalg.slogdet(x)[1]


@_op
def eig(x):
    """Keras `ops.eig`: `(eigenvalues, eigenvectors)`, complex, of general square matrices.
    JAX computes it on the CPU only.

    Returns:
        A pair `(w, v)`, complex: eigenvalues `(..., n)` and unit eigenvectors as the columns
        of `v` `(..., n, n)`, so that `x @ v = v * w`.

    Raises:
        ValueError: `x` is not square on its last two axes.

    Examples:
        >>> w, v = ops.eig(np.array([[2.0, 0.0], [0.0, 3.0]], "float32"))
        >>> print(np.asarray(w))
        [2.+0.j 3.+0.j]
        >>> a = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
        >>> w, v = ops.eig(a)
        >>> w.dtype, np.allclose(a @ np.asarray(v), np.asarray(v) * np.asarray(w), atol=1e-5)
        (dtype('complex64'), True)
    """
    _square(x, "eig")
    return tuple(jnp.linalg.eig(x))


@_op
def eigh(x):
    """Keras `ops.eigh`: `(eigenvalues ascending, eigenvectors)` of symmetric matrices.

    `x` is symmetrized first (`(x + x.T) / 2`); the results are real.

    Returns:
        A pair `(w, v)`: eigenvalues `(..., n)` in ascending order and orthonormal
        eigenvectors as the columns of `v` `(..., n, n)`.

    Raises:
        ValueError: `x` is not square on its last two axes.

    Examples:
        >>> a = np.array([[2.0, 1.0], [1.0, 2.0]], "float32")
        >>> w, v = ops.eigh(a)
        >>> print(np.asarray(w).round(3))
        [1. 3.]
        >>> np.allclose(np.asarray(v) @ np.diag(np.asarray(w)) @ np.asarray(v).T, a, atol=1e-5)
        True
        >>> [t.shape for t in ops.eigh(graphnet.Input(shape=(3, 3)))]
        [(None, 3), (None, 3, 3)]
    """
    _square(x, "eigh")
    return tuple(jnp.linalg.eigh(x))


@_op
def inv(x):
    """Keras `ops.inv`: the inverse of each matrix.

    Raises:
        ValueError: `x` is not square on its last two axes.

    Examples:
        >>> print(np.asarray(ops.inv(np.array([[1.0, 2.0], [3.0, 4.0]], "float32"))).round(3))
        [[-2.   1. ]
         [ 1.5 -0.5]]
    """
    _square(x, "inv")
    return jnp.linalg.inv(x)


@_op
def lu_factor(x):
    """Keras `ops.lu_factor`: `(lu, pivots)`, the LU factors packed in one matrix and the row
    pivots, as `scipy.linalg.lu_factor` (batched over leading axes).

    Returns:
        A pair `(lu, pivots)`: `lu` `(..., n, n)` holds `U` on and above the diagonal and
        `L` (unit diagonal, not stored) below it; `pivots` `(..., n)`, int32, says that row
        `i` was swapped with row `pivots[i]`.

    Examples:
        >>> lu, pivots = ops.lu_factor(np.array([[1.0, 2.0], [3.0, 4.0]], "float32"))
        >>> print(np.asarray(lu).round(3))        # rows swapped: 3 is the larger pivot
        [[3.    4.   ]
         [0.333 0.667]]
        >>> print(np.asarray(pivots))
        [1 1]
    """
    fn = jsp.linalg.lu_factor
    for _ in range(jnp.ndim(x) - 2):
        fn = jax.vmap(fn)
    return tuple(fn(x))


@_op
def qr(x, mode="reduced"):
    """Keras `ops.qr`: `(q, r)` with `x = q @ r`; `mode` "reduced" or "complete".

    Args:
        x: matrices `(..., m, n)`.
        mode: "reduced": `q` `(..., m, k)` and `r` `(..., k, n)` with `k = min(m, n)`;
            "complete": `q` square `(..., m, m)` and `r` `(..., m, n)`.

    Returns:
        A pair `(q, r)`: `q` with orthonormal columns, `r` upper triangular.

    Raises:
        ValueError: `mode` is neither "reduced" nor "complete".

    Examples:
        >>> a = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
        >>> q, r = ops.qr(a)
        >>> np.allclose(np.asarray(q) @ np.asarray(r), a, atol=1e-5)
        True
        >>> x = graphnet.Input(shape=(3, 2))                  # a batch of 3 x 2 matrices
        >>> [t.shape for t in ops.qr(x)], [t.shape for t in ops.qr(x, mode="complete")]
        ([(None, 3, 2), (None, 2, 2)], [(None, 3, 3), (None, 3, 2)])
    """
    if mode not in ("reduced", "complete"):
        raise ValueError(f"ops.qr: mode must be 'reduced' or 'complete', received {mode!r}")
    return tuple(jnp.linalg.qr(x, mode=mode))


@_op
def solve(a, b):
    """Keras `ops.solve`: `x` with `a @ x = b`.

    Args:
        a: invertible matrices `(..., n, n)`.
        b: the right-hand sides: a vector `(n,)` or matrices `(..., n, k)`.

    Raises:
        ValueError: `a` is not square on its last two axes.

    Examples:
        >>> a = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
        >>> print(np.asarray(ops.solve(a, np.array([5.0, 11.0], "float32"))).round(3))
        [1. 2.]
    """
    _square(a, "solve")
    return jnp.linalg.solve(a, b)


@_op
def solve_triangular(a, b, lower=False):
    """Keras `ops.solve_triangular`: `x` with `a @ x = b`, `a` upper (or `lower`) triangular.

    By substitution; the other triangle of `a` is not read.

    Args:
        a: triangular matrices `(..., n, n)`.
        b: the right-hand sides `(..., n, k)` (or a vector `(n,)`).
        lower: `a` is lower triangular (default: upper).

    Raises:
        ValueError: `a` is not square on its last two axes.

    Examples:
        >>> a = np.array([[2.0, 1.0], [0.0, 4.0]], "float32")
        >>> b = np.array([[4.0], [8.0]], "float32")
        >>> print(np.asarray(ops.solve_triangular(a, b)))    # x2 = 8 / 4, then x1
        [[1.]
         [2.]]
        >>> print(np.asarray(ops.solve_triangular(a.T, b, lower=True)))
        [[2. ]
         [1.5]]
    """
    _square(a, "solve_triangular")
    return jsp.linalg.solve_triangular(a, b, lower=lower)


@_op
def svd(x, full_matrices=True, compute_uv=True):
    """Keras `ops.svd`: `(u, s, vh)` with `x = u @ diag(s) @ vh` (only `s` when
    `compute_uv=False`).

    Args:
        x: matrices `(..., m, n)`.
        full_matrices: square `u` `(..., m, m)` and `vh` `(..., n, n)`; False keeps
            `k = min(m, n)` columns of `u` and rows of `vh`.
        compute_uv: also compute `u` and `vh`; False returns `s` alone.

    Returns:
        A triple `(u, s, vh)`, `s` `(..., k)` the singular values in descending order; or
        `s` alone when `compute_uv=False`.

    Examples:
        >>> a = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
        >>> u, s, vh = ops.svd(a)
        >>> np.allclose(np.asarray(u) * np.asarray(s) @ np.asarray(vh), a, atol=1e-5)
        True
        >>> d = np.array([[3.0, 0.0], [0.0, -2.0]], "float32")
        >>> print(np.asarray(ops.svd(d, compute_uv=False)))
        [3. 2.]
        >>> [t.shape for t in ops.svd(graphnet.Input(shape=(3, 2)), full_matrices=False)]
        [(None, 3, 2), (None, 2), (None, 2, 2)]
    """
    out = jnp.linalg.svd(x, full_matrices=full_matrices, compute_uv=compute_uv)
    return tuple(out) if compute_uv else out


@_op
def lstsq(a, b, rcond=None):
    """Keras `ops.lstsq`: the least-squares solution `x` of `a @ x = b`.

    One system, as in Keras: no batch axes (`ops.vectorized_map` maps it over a batch).

    Args:
        a: a matrix `(m, n)`.
        b: the right-hand side `(m,)` or `(m, k)`.
        rcond: singular values of `a` below `rcond` times the largest count as zero;
            None uses machine precision times `max(m, n)`.

    Returns:
        `x` of shape `(n,)` or `(n, k)`, as `b`.

    Raises:
        ValueError: `a` is not 2-D, `b` not 1-D or 2-D, or their first axes differ.

    Examples:
        >>> a = np.array([[1.0, 0.0], [1.0, 1.0], [1.0, 2.0]], "float32")   # 1 and t
        >>> b = np.array([1.0, 2.0, 4.0], "float32")      # the line through (0,1) (1,2) (2,4)
        >>> print(np.asarray(ops.lstsq(a, b)).round(3))   # 5/6 + 1.5 t
        [0.833 1.5  ]
    """
    a_shape, b_shape = jnp.shape(a), jnp.shape(b)
    if len(a_shape) != 2 or len(b_shape) not in (1, 2) or b_shape[0] != a_shape[0]:
        raise ValueError(f"ops.lstsq: expects a of shape (m, n) and b of shape (m,) or (m, k), "
                         f"as Keras's; received a {a_shape}, b {b_shape}")
    return jnp.linalg.lstsq(a, b, rcond=rcond)[0]


@_op
def matrix_rank(x, tol=None):
    """Keras `ops.matrix_rank`: the number of singular values above `tol` (int32).

    Args:
        x: matrices `(..., m, n)`.
        tol: the threshold; None is the largest singular value times `max(m, n)` times the
            machine precision.

    Raises:
        ValueError: `x` has fewer than 2 axes.

    Examples:
        >>> int(ops.matrix_rank(np.array([[1.0, 2.0], [2.0, 4.0]], "float32")))
        1
        >>> small = np.array([[1.0, 0.0], [0.0, 1e-3]], "float32")
        >>> int(ops.matrix_rank(small)), int(ops.matrix_rank(small, tol=0.01))
        (2, 1)
    """
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
    the largest are dropped).

    Args:
        x: matrices `(..., m, n)`; the result is `(..., n, m)`.
        rcond: the relative cut-off; None is 10 times machine precision times `max(m, n)`.

    Raises:
        ValueError: `x` has fewer than 2 axes.

    Examples:
        >>> print(np.asarray(ops.pinv(np.array([[2.0, 0.0], [0.0, 0.0]], "float32"))))
        [[0.5 0. ]
         [0.  0. ]]
        >>> print(np.asarray(ops.pinv(np.array([[1.0], [1.0]], "float32"))).round(3))
        [[0.5 0.5]]
    """
    if jnp.ndim(x) < 2:
        raise ValueError(f"ops.pinv: expects at least 2 axes, received shape {jnp.shape(x)}")
    return jnp.linalg.pinv(x, rtol=rcond)


def jvp(fun, primals, tangents, has_aux=False):
    """Keras `ops.jvp`: `(fun(*primals), the directional derivative along tangents)`, as
    `jax.jvp`. A function of Python callables: it computes on arrays (also inside a layer's
    `call`) and does not record a graph node.

    Args:
        fun: a function of arrays returning an array (or a pytree of them).
        primals: the point: a list or tuple with one value per argument of `fun`.
        tangents: the direction: values of the same structure, shapes and dtypes.
        has_aux: `fun` returns a pair `(output, aux)`; `aux` is passed through.

    Returns:
        A pair `(output, tangent_out)`, or a triple `(output, tangent_out, aux)` with
        `has_aux=True`.

    Examples:
        >>> y, dy = ops.jvp(lambda x: x ** 2, (np.float32(3.0),), (np.float32(1.0),))
        >>> float(y), float(dy)                  # 3 ** 2, 2 * 3
        (9.0, 6.0)
    """
    return jax.jvp(fun, tuple(primals), tuple(tangents), has_aux=has_aux)


__all__ = public_names(globals(), __name__)
