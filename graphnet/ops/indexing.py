"""Keras's indexing ops: items and slices, scatters into arrays, and reductions over
segments of rows."""
from __future__ import annotations

import jax
import jax.numpy as jnp
from jax import lax

from .recording import op as _op
from .recording import public_names


@_op
def get_item(x, key):
    """`x[key]`: what indexing a symbolic tensor records.

    Args:
        x: the array or symbolic tensor.
        key: an int, slice, tuple of them, `None` or `...`, as after `x[`.

    Examples:
        >>> print(np.asarray(ops.get_item(np.array([[1, 2, 3], [4, 5, 6]]), (1, slice(0, 2)))))
        [4 5]
        >>> x = graphnet.Input(shape=(3,))
        >>> x[:, 1:].shape
        (None, 2)
    """
    return x[key]


@_op
def unstack(x, num=None, axis=0):
    """Keras `ops.unstack`: the list of slices of `x` along `axis` (that axis removed).

    Args:
        x: the array to take apart.
        num: accepted as in Keras; the count is always `x.shape[axis]`.
        axis: the axis to split along.

    Returns:
        A list of `x.shape[axis]` arrays.

    Examples:
        >>> a, b = ops.unstack(np.array([[1, 2], [3, 4]]))
        >>> print(np.asarray(a), np.asarray(b))
        [1 2] [3 4]
        >>> a, b = ops.unstack(np.array([[1, 2], [3, 4]]), axis=1)
        >>> print(np.asarray(a), np.asarray(b))
        [1 3] [2 4]
    """
    return [jnp.squeeze(t, axis) for t in jnp.split(x, x.shape[axis], axis)]


@_op
def slice(inputs, start_indices, shape):
    """Keras `ops.slice`: the block of `shape` starting at `start_indices`.

    A start too close to the end is moved back so that the block fits, as in Keras's JAX
    backend (`jax.lax.dynamic_slice`): the block always has `shape`.

    Args:
        inputs: the array to cut from.
        start_indices: the first index of the block on each axis (may be traced values).
        shape: the size of the block on each axis (Python ints).

    Examples:
        >>> print(np.asarray(ops.slice(np.arange(12).reshape(3, 4), (1, 1), (2, 2))))
        [[ 5  6]
         [ 9 10]]
        >>> print(np.asarray(ops.slice(np.arange(5), (4,), (2,))))
        [3 4]
    """
    return lax.dynamic_slice(inputs, start_indices, shape)


@_op
def slice_update(inputs, start_indices, updates):
    """Keras `ops.slice_update`: `inputs` with the block at `start_indices` replaced by
    `updates`.

    Args:
        inputs: the array to update (it is not changed: a new array is returned).
        start_indices: the first index of the block on each axis; moved back, as in `slice`,
            where the block would not fit.
        updates: the new block, of `inputs`'s dtype and rank.

    Examples:
        >>> z = np.zeros((3, 3), dtype="int32")
        >>> print(np.asarray(ops.slice_update(z, (1, 1), np.ones((2, 2), dtype="int32"))))
        [[0 0 0]
         [0 1 1]
         [0 1 1]]
    """
    return lax.dynamic_update_slice(inputs, updates, start_indices)


@_op
def scatter(indices, values, shape):
    """Keras `ops.scatter`: zeros of `shape` with `values` added at `indices`.

    Values at a repeated index add up.

    Args:
        indices: ints of shape `(n, len(shape))`: one full index per row (or shorter rows, then
            each `values` entry fills the remaining axes).
        values: the `n` values (or slices) to add.
        shape: the shape of the result.

    Examples:
        >>> indices = np.array([[0, 1], [1, 0], [0, 1]])
        >>> print(np.asarray(ops.scatter(indices, np.array([1.0, 2.0, 3.0]), (2, 2))))
        [[0. 4.]
         [2. 0.]]
    """
    indices = jnp.asarray(indices)
    zeros = jnp.zeros(shape, jnp.asarray(values).dtype)
    return zeros.at[tuple(jnp.moveaxis(indices, -1, 0))].add(values)


@_op
def scatter_update(inputs, indices, updates):
    """Keras `ops.scatter_update`: `inputs` with the entries at `indices` (one index per row, last
    axis) set to `updates`.

    Args:
        inputs: the array to update (it is not changed: a new array is returned).
        indices: ints of shape `(n, k)`: one index into the first `k` axes per row.
        updates: the `n` new entries (or slices, when `k < inputs.ndim`).

    Examples:
        >>> z, indices = np.zeros((2, 3)), np.array([[0, 0], [1, 2]])
        >>> print(np.asarray(ops.scatter_update(z, indices, np.array([5.0, 6.0]))))
        [[5. 0. 0.]
         [0. 0. 6.]]
    """
    indices = jnp.asarray(indices)
    return jnp.asarray(inputs).at[tuple(jnp.moveaxis(indices, -1, 0))].set(updates)


@_op
def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Keras `ops.segment_sum`: the sums of the rows of `data` that share a segment id.

    Args:
        data: the rows, shape `(n, ...)`.
        segment_ids: the segment of each row, ints of shape `(n,)`.
        num_segments: how many segments the result has (default: the largest id + 1); give it
            where `segment_ids` are traced, as inside `jit`.
        sorted: promise that `segment_ids` are sorted (a hint that may speed it up).

    Returns:
        Shape `(num_segments, ...)`; a segment with no rows sums to 0.

    Examples:
        >>> data = np.array([1.0, 2.0, 3.0, 4.0])
        >>> print(np.asarray(ops.segment_sum(data, np.array([0, 0, 1, 1]), num_segments=3)))
        [3. 7. 0.]
    """
    return jax.ops.segment_sum(data, segment_ids, num_segments, indices_are_sorted=sorted)


@_op
def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Keras `ops.segment_max`: the maxima of the rows of `data` that share a segment id.

    Args:
        data: the rows, shape `(n, ...)`.
        segment_ids: the segment of each row, ints of shape `(n,)`.
        num_segments: how many segments the result has (default: the largest id + 1); give it
            where `segment_ids` are traced, as inside `jit`.
        sorted: promise that `segment_ids` are sorted (a hint that may speed it up).

    Returns:
        Shape `(num_segments, ...)`; a segment with no rows gives `-inf` (floats) or the
        dtype's smallest integer.

    Examples:
        >>> data = np.array([1.0, 2.0, 3.0, 4.0])
        >>> print(np.asarray(ops.segment_max(data, np.array([0, 0, 1, 1]), num_segments=3)))
        [  2.   4. -inf]
    """
    return jax.ops.segment_max(data, segment_ids, num_segments, indices_are_sorted=sorted)


@_op
def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """Keras `ops.segment_min`: the minima of the rows of `data` that share a segment id.

    Args:
        data: the rows, shape `(n, ...)`.
        segment_ids: the segment of each row, ints of shape `(n,)`.
        num_segments: how many segments the result has (default: the largest id + 1); give it
            where `segment_ids` are traced, as inside `jit`.
        sorted: promise that `segment_ids` are sorted (a hint that may speed it up).

    Returns:
        Shape `(num_segments, ...)`; a segment with no rows gives `inf` (floats) or the dtype's
        largest integer.

    Examples:
        >>> data = np.array([[1, 5], [2, 4], [3, 3]])
        >>> print(np.asarray(ops.segment_min(data, np.array([0, 0, 1]), num_segments=2)))
        [[1 4]
         [3 3]]
    """
    return jax.ops.segment_min(data, segment_ids, num_segments, indices_are_sorted=sorted)


@_op
def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Keras `ops.segment_prod`: the products of the rows of `data` that share a segment id.

    Args:
        data: the rows, shape `(n, ...)`.
        segment_ids: the segment of each row, ints of shape `(n,)`.
        num_segments: how many segments the result has (default: the largest id + 1); give it
            where `segment_ids` are traced, as inside `jit`.
        sorted: promise that `segment_ids` are sorted (a hint that may speed it up).

    Returns:
        Shape `(num_segments, ...)`; a segment with no rows gives 1.

    Examples:
        >>> data = np.array([1.0, 2.0, 3.0, 4.0])
        >>> print(np.asarray(ops.segment_prod(data, np.array([0, 0, 1, 1]), num_segments=3)))
        [ 2. 12.  1.]
    """
    return jax.ops.segment_prod(data, segment_ids, num_segments, indices_are_sorted=sorted)


__all__ = public_names(globals(), __name__)
