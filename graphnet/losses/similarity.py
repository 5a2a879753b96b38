"""Keras's overlap and metric-learning losses: Dice, Tversky and Circle.

Unlike the other losses, these compare samples with each other (Circle always; Dice and
Tversky with Keras's default `axis=None`, one value for the whole batch), so a batch padded
with masked rows would change their values: the trainer never pads a batch for them."""
import jax
import jax.numpy as jnp

from .base import EPSILON, LossFunctionWrapper, match_ranks, prepare


def dice(y_true, y_pred, axis=None):
    """`1 - 2 * sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + 1e-7)` over `axis`
    (None: the whole batch, one value).

    >>> from graphnet import losses
    >>> print(round(float(losses.dice([[1.0, 0.0]], [[0.5, 0.5]])), 4))
    0.5
    """
    y_true, y_pred = prepare(y_true, y_pred)
    intersection = jnp.sum(y_true * y_pred, axis=axis)
    total = jnp.sum(y_true, axis=axis) + jnp.sum(y_pred, axis=axis) + EPSILON
    return 1.0 - 2.0 * intersection / total


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """`1 - TP / (TP + alpha * FP + beta * FN + 1e-7)` over `axis`, where Keras counts
    `FP = sum((1 - y_pred) * y_true)` and `FN = sum(y_pred * (1 - y_true))`.

    >>> from graphnet import losses
    >>> print(round(float(losses.tversky([[1.0, 0.0]], [[0.5, 0.5]])), 4))
    0.5
    """
    y_true, y_pred = prepare(y_true, y_pred)
    intersection = jnp.sum(y_true * y_pred, axis=axis)
    fp = jnp.sum((1.0 - y_pred) * y_true, axis=axis)
    fn = jnp.sum(y_pred * (1.0 - y_true), axis=axis)
    return 1.0 - intersection / (intersection + fp * alpha + fn * beta + EPSILON)


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True,
           gamma=80, margin=0.4):
    """Per sample: Circle loss between integer labels and L2-normalized embeddings, each
    sample against every reference (the batch itself by default).

    >>> import numpy as np
    >>> from graphnet import losses
    >>> e = np.eye(3, dtype="float32")[[0, 0, 1]]
    >>> print(np.round(np.asarray(losses.circle([0, 0, 1], e, gamma=1.0)), 4))
    [0.5459 0.5459 0.    ]
    """
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(jnp.float32)
    labels = jnp.asarray(y_true).astype(jnp.int32)
    refs = y_pred if ref_embeddings is None else jnp.asarray(ref_embeddings, y_pred.dtype)
    ref_labels = labels if ref_labels is None else jnp.asarray(ref_labels).astype(jnp.int32)
    distances = jnp.maximum(1.0 - y_pred @ refs.T, 0.0)
    positive = labels.reshape(-1, 1) == ref_labels.reshape(1, -1)
    negative = ~positive
    if remove_diagonal:
        positive = positive & ~jnp.eye(labels.size, ref_labels.size, dtype=bool)
    pos_mask, neg_mask = positive.astype(distances.dtype), negative.astype(distances.dtype)
    pos_weights = jnp.maximum((margin + distances) * pos_mask, 0.0)
    neg_weights = jnp.maximum((1.0 + margin - distances) * neg_mask, 0.0)
    pos_scores = -gamma * pos_weights * (margin - distances)
    neg_scores = gamma * neg_weights * ((1.0 - margin) - distances)
    p_loss = _masked_logsumexp(pos_scores, positive)
    n_loss = _masked_logsumexp(neg_scores, negative)
    return jax.nn.softplus(p_loss + n_loss)


def _masked_logsumexp(x, mask):
    """log sum over the row's masked-in entries of exp(x): -inf for an empty row, with a
    zero gradient there (a plain where(mask, x, -inf) gives NaN gradients)."""
    shift = jnp.max(jnp.where(mask, x, -jnp.inf), axis=1, keepdims=True)
    shift = jax.lax.stop_gradient(jnp.where(jnp.isfinite(shift), shift, 0.0))
    total = jnp.sum(jnp.where(mask, jnp.exp(x - shift), 0.0), axis=1)
    safe = jnp.where(total > 0, total, 1.0)
    return jnp.where(total > 0, jnp.log(safe) + shift[:, 0], -jnp.inf)


class Dice(LossFunctionWrapper):
    """Keras Dice: one minus the Dice coefficient, for segmentation masks.

    >>> from graphnet import losses
    >>> print(round(float(losses.Dice()([[1.0, 0.0]], [[0.5, 0.5]])), 4))
    0.5
    """
    couples_samples = True

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None):
        super().__init__(dice, name=name, reduction=reduction, axis=axis)


class Tversky(LossFunctionWrapper):
    """Keras Tversky: Dice with false positives weighed by `alpha` and false negatives by
    `beta` (alpha = beta = 0.5 is Dice).

    >>> from graphnet import losses
    >>> print(round(float(losses.Tversky()([[1.0, 0.0]], [[0.5, 0.5]])), 4))
    0.5
    """
    couples_samples = True

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None):
        super().__init__(tversky, name=name, reduction=reduction, alpha=alpha, beta=beta,
                         axis=axis)


class Circle(LossFunctionWrapper):
    """Keras Circle: metric-learning loss between integer labels and L2-normalized
    embeddings. As Keras, samples whose loss is 0 are left out of the average.

    >>> import numpy as np
    >>> from graphnet import losses
    >>> e = np.eye(3, dtype="float32")[[0, 0, 1]]
    >>> print(round(float(losses.Circle(gamma=1.0)([0, 0, 1], e)), 4))
    0.5459
    """
    couples_samples = True

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle"):
        super().__init__(circle, name=name, reduction=reduction, gamma=gamma, margin=margin,
                         remove_diagonal=remove_diagonal)

    def call(self, y_true, y_pred):
        """The per-sample Circle loss, labels and embeddings matched in rank as Keras's."""
        y_true, y_pred = match_ranks(jnp.asarray(y_true), jnp.asarray(y_pred))
        return circle(y_true, y_pred, **self.fn_kwargs)

    def valid_mask(self, y_true, y_pred):
        return self.call(y_true, y_pred) > 0
