"""Keras 3's apply_mask: how a mask on loss values joins the sample weights.

One function for every mask a loss meets: its own (`ignore_class`) and the prediction's
(`_keras_mask`, weighed in by the training step)."""
import jax.numpy as jnp


def apply_mask(values, valid, sample_weight, reduction):
    """The sample weights times the mask `valid` (bools shaped like `values`), rescaled under
    "sum_over_batch_size" and "mean" so that their average over all values is the average
    over the valid ones: each valid value weighs size / valid, or 0 when none is valid
    (Keras's divide_no_nan). A (batch, 1, ...) weight loses its trailing 1s and a weight of
    lower rank is broadcast over the mask's trailing axes."""
    mask = valid.astype(values.dtype)
    if reduction in ("sum_over_batch_size", "mean"):
        count = jnp.sum(mask)
        mask = mask * jnp.where(count > 0, mask.size / jnp.where(count > 0, count, 1.0), 0.0)
    if sample_weight is None:
        return mask
    weight = jnp.asarray(sample_weight)
    weight = weight if weight.dtype == values.dtype else weight.astype(values.dtype)
    if weight.ndim > mask.ndim:
        weight = weight.reshape(weight.shape[:mask.ndim])     # (batch, 1) weights
    return mask * weight.reshape(weight.shape + (1,) * (mask.ndim - weight.ndim))
