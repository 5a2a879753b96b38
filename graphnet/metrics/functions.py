"""Keras's per-sample metric functions (accuracies, top-k, squared error)."""
import jax.numpy as jnp

from .. import losses
from ..losses import match_ranks


def as_float(x):
    """`x` as a float32 array (metrics accumulate in float32, as Keras's do)."""
    x = jnp.asarray(x)
    return x if x.dtype == jnp.float32 else x.astype(jnp.float32)


# ---- per-sample functions (Keras's accuracy functions) ---------------------------------
def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Per sample: 1.0 where (y_pred > threshold) equals the 0/1 label, else 0.0."""
    y_true, y_pred = match_ranks(as_float(y_true), as_float(y_pred))
    return (y_true == (y_pred > threshold).astype(jnp.float32)).astype(jnp.float32)


def categorical_accuracy(y_true, y_pred):
    """Per sample: 1.0 where argmax(y_pred) equals argmax of the one-hot y_true."""
    return (jnp.argmax(y_true, axis=-1) == jnp.argmax(y_pred, axis=-1)).astype(jnp.float32)


def sparse_categorical_accuracy(y_true, y_pred):
    """Per sample: 1.0 where argmax(y_pred) equals the integer label."""
    y_true = jnp.asarray(y_true)
    if y_true.ndim == jnp.ndim(y_pred) and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    predicted = jnp.argmax(y_pred, axis=-1).astype(jnp.int32)
    return (y_true.astype(jnp.int32) == predicted).astype(jnp.float32)


def accuracy(y_true, y_pred):
    """Keras's `Accuracy` class: exact equality (the string "accuracy" is resolved per
    output to binary, categorical or sparse accuracy instead)."""
    y_true, y_pred = match_ranks(as_float(y_true), as_float(y_pred))
    return (y_true == y_pred).astype(jnp.float32)


def _in_top_k(targets, predictions, k):
    """Keras's in_top_k: the target's score is beaten by fewer than k others (NaN never
    counts as a high score)."""
    at_label = jnp.take_along_axis(predictions, targets[..., None], axis=-1)
    at_label = jnp.where(jnp.isnan(at_label), -jnp.inf, at_label)
    return jnp.sum(predictions > at_label, axis=-1) + 1 <= k


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the one-hot target's class is among the k highest scores."""
    y_pred = as_float(y_pred)
    return _in_top_k(jnp.argmax(y_true, axis=-1).astype(jnp.int32), y_pred, k).astype(jnp.float32)


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1 where the class index is among the k highest scores (or, with `from_sorted_ids`,
    among the first k ids of `y_pred`)."""
    y_true = jnp.asarray(y_true)
    if from_sorted_ids:
        ids = jnp.asarray(y_pred)[..., :k]
        target = y_true.astype(ids.dtype).reshape(ids.shape[:-1] + (1,))
        hits = jnp.any(ids == target, axis=-1)
    else:
        y_pred = as_float(y_pred)
        if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
            y_true = y_true[..., 0]
        hits = _in_top_k(y_true.astype(jnp.int32), y_pred, k)
    return hits.astype(jnp.float32)


def squared_error(y_true, y_pred):
    """Element-wise (y_pred - y_true)^2 (RootMeanSquaredError averages it over everything)."""
    y_true, y_pred = match_ranks(as_float(y_true), as_float(y_pred))
    return jnp.square(y_pred - y_true)


def cosine_similarity(y_true, y_pred, axis=-1):
    """Per sample: the cosine of the angle between `y_true` and `y_pred` along `axis`
    (Keras's metric form: +1 when they point the same way, the loss's negative)."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


def pearson_correlation(y_true, y_pred, axis=-1):
    """Per sample: Pearson's correlation between `y_true` and `y_pred` along `axis`."""
    y_true, y_pred = match_ranks(as_float(y_true), as_float(y_pred))
    t = y_true - jnp.mean(y_true, axis=axis, keepdims=True)
    p = y_pred - jnp.mean(y_pred, axis=axis, keepdims=True)
    t = t / jnp.std(t, axis=axis, keepdims=True)
    p = p / jnp.std(p, axis=axis, keepdims=True)
    return jnp.mean(t * p, axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Per sample: Lin's concordance correlation along `axis`, computed as Keras 3 does
    (its covariance term centres `y_true` on the mean of `y_pred`; kept so values match)."""
    y_true, y_pred = match_ranks(as_float(y_true), as_float(y_pred))
    true_mean = jnp.mean(y_true, axis=axis, keepdims=True)
    pred_mean = jnp.mean(y_pred, axis=axis, keepdims=True)
    true_var = jnp.var(y_true - true_mean, axis=axis, keepdims=True)
    pred_var = jnp.var(y_pred - pred_mean, axis=axis, keepdims=True)
    covar = (y_true - pred_mean) * (y_pred - pred_mean)
    norm = true_var + pred_var + jnp.square(true_mean - pred_mean)
    return jnp.mean(2.0 * covar / (norm + 1e-7), axis=axis)
