"""How an output's mask (Keras's `_keras_mask`) weights its loss and metrics in the
compiled step, with Keras 3's arithmetic.

The loss: the mask joins the sample weights and a "sum_over_batch_size" average runs over
the valid values only (`call_with_mask`). A padded last batch adds its padding rows
to the mask as invalid, so the average is the unpadded batch's without a correction.

Metrics: a mean metric (Keras's MeanMetricWrapper: accuracy, mse, ...) multiplies its
weights by the mask, so it averages over the valid values; other metrics (AUC, precision,
...) do not read masks, as in Keras. Keras's JAX trainer hands the metrics the mask in
evaluation only (in its training step the outputs lose `_keras_mask` through the
gradient), so `fit`'s training metrics average over every value and its validation
metrics over the valid ones; the step follows it.
"""
import jax
import jax.numpy as jnp

from .. import losses as losses_module
from ..loss_masks import apply_mask
from ..metrics import MeanMetricWrapper


def call_with_mask(loss, y_true, y_pred, sample_weight, mask):
    """`loss(y_true, y_pred, sample_weight)` for a prediction that carries `mask`: Keras's
    Loss.__call__, where the mask (and the loss's own, such as `ignore_class`'s) joins the
    sample weights and a "sum_over_batch_size" average runs over the valid values only."""
    base = losses_module.Loss
    if not isinstance(loss, base) or type(loss).__call__ is not base.__call__:
        raise NotImplementedError(
            f"loss {getattr(loss, 'name', loss)!r} overrides __call__, so a masked output "
            f"cannot weight it as Keras does; define call(y_true, y_pred) instead")
    y_pred = jax.tree_util.tree_map(
        lambda p: p.astype(jnp.float32) if jnp.issubdtype(p.dtype, jnp.floating)
        and jnp.finfo(p.dtype).bits < 32 else p, y_pred)        # losses run in float32 at least
    values = jnp.asarray(loss.call(y_true, y_pred))
    valid = jnp.asarray(mask).astype(bool)
    matched, _ = losses_module.match_ranks(values, valid)
    if matched.shape != valid.shape:
        raise ValueError(f"loss {loss.name!r} gives values of shape {values.shape}, which the "
                         f"output's mask of shape {valid.shape} cannot weight (Keras needs "
                         f"one loss value per mask entry)")
    own = loss.valid_mask(y_true, y_pred)
    if own is not None:
        valid = valid & own
    return losses_module.reduce_weighted(
        values, apply_mask(values, valid, sample_weight, loss.reduction), loss.reduction)


def output_loss(loss, y_true, y_pred, sample_weight, mask, padded, size, name):
    """One output's loss as a float32 scalar. `mask`: the output's mask or None; `padded`:
    the batch's rows; `size`: its real rows when the batch was padded, else None."""
    if mask is None:
        scale = 1.0 if size is None else losses_module.padding_scale(loss, padded, size)
        return (loss(y_true, y_pred, sample_weight) * scale).astype(jnp.float32)
    mask = jnp.asarray(mask).astype(bool)
    if size is not None:                       # padding rows count as masked
        real = jnp.arange(padded, dtype=jnp.float32) < jnp.asarray(size, jnp.float32)
        mask = mask & real.reshape(real.shape + (1,) * (mask.ndim - 1))
    try:
        return call_with_mask(loss, y_true, y_pred, sample_weight, mask).astype(jnp.float32)
    except ValueError as err:
        raise ValueError(f"Output '{name}': {err}") from None


def metric_weight(metric, mask, weight):
    """The sample weight `metric` is updated with when its output carries `mask`: Keras's
    apply_mask (reduction "sum") for a mean metric, `weight` unchanged otherwise."""
    if mask is None or not isinstance(metric, MeanMetricWrapper):
        return weight
    valid = jnp.asarray(mask).astype(bool)
    return apply_mask(valid.astype(jnp.float32), valid, weight, "sum")
