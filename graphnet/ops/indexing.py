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
    """`x[key]`: what indexing a symbolic tensor records."""
    return x[key]


@_op
def unstack(x, num=None, axis=0):
    """Keras `ops.unstack`: the list of slices of `x` along `axis` (that axis removed)."""
    return [jnp.squeeze(t, axis) for t in jnp.split(x, x.shape[axis], axis)]


@_op
def slice(inputs, start_indices, shape):
    """Keras `ops.slice`: the block of `shape` starting at `start_indices`."""
    return lax.dynamic_slice(inputs, start_indices, shape)


@_op
def slice_update(inputs, start_indices, updates):
    """Keras `ops.slice_update`: `inputs` with the block at `start_indices` replaced by
    `updates`."""
    return lax.dynamic_update_slice(inputs, updates, start_indices)


@_op
def scatter(indices, values, shape):
    """Keras `ops.scatter`: zeros of `shape` with `values` added at `indices`."""
    indices = jnp.asarray(indices)
    zeros = jnp.zeros(shape, jnp.asarray(values).dtype)
    return zeros.at[tuple(jnp.moveaxis(indices, -1, 0))].add(values)


@_op
def scatter_update(inputs, indices, updates):
    """Keras `ops.scatter_update`: `inputs` with the entries at `indices` (one index per row, last
    axis) set to `updates`."""
    indices = jnp.asarray(indices)
    return jnp.asarray(inputs).at[tuple(jnp.moveaxis(indices, -1, 0))].set(updates)


@_op
def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """Keras `ops.segment_sum`: the sums of the rows of `data` that share a segment id."""
    return jax.ops.segment_sum(data, segment_ids, num_segments, indices_are_sorted=sorted)


@_op
def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """Keras `ops.segment_max`: the maxima of the rows of `data` that share a segment id."""
    return jax.ops.segment_max(data, segment_ids, num_segments, indices_are_sorted=sorted)


@_op
def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """Keras `ops.segment_min`: the minima of the rows of `data` that share a segment id."""
    return jax.ops.segment_min(data, segment_ids, num_segments, indices_are_sorted=sorted)


@_op
def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """Keras `ops.segment_prod`: the products of the rows of `data` that share a segment id."""
    return jax.ops.segment_prod(data, segment_ids, num_segments, indices_are_sorted=sorted)


__all__ = public_names(globals(), __name__)
