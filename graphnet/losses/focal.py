"""Keras's focal and generalized crossentropies: losses that weigh hard examples more.

Keras computes them from probabilities: with `from_logits=True` it applies the sigmoid or
softmax first and clips the probabilities as for a crossentropy, so these do too (a
log-sigmoid would be more exact, and would differ from Keras's numbers)."""
import jax
import jax.numpy as jnp

from .base import EPSILON, LossFunctionWrapper, prepare


def _check_axis(axis, loss):
    if isinstance(axis, bool):
        raise ValueError(f"{loss}: `axis` must be an int, received axis={axis!r}")


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per sample: the mean over `axis` of `(1 - p_t) ** gamma` times the binary
    crossentropy, `p_t` the probability given to the true class.

    >>> import numpy as np
    >>> from graphnet import losses
    >>> loss = losses.binary_focal_crossentropy([[0, 1]], [[0.4, 0.4]], gamma=2.0)
    >>> print(np.round(np.asarray(loss), 4))
    [0.2058]
    """
    y_true, y_pred = prepare(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    if from_logits:
        y_pred = jax.nn.sigmoid(y_pred)
    p = jnp.clip(y_pred, EPSILON, 1.0 - EPSILON)
    bce = -(y_true * jnp.log(p) + (1.0 - y_true) * jnp.log(1.0 - p))
    # Keras takes p_t from the unclipped probabilities.
    p_t = y_true * y_pred + (1.0 - y_true) * (1.0 - y_pred)
    focal = jnp.power(1.0 - p_t, gamma) * bce
    if apply_class_balancing:
        focal = (y_true * alpha + (1.0 - y_true) * (1.0 - alpha)) * focal
    return jnp.mean(focal, axis=axis)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Per sample: the sum over classes of `alpha * (1 - p) ** gamma * -y * log(p)`, the
    probabilities renormalized and clipped as Keras's crossentropy. `alpha` may be one
    number or one per class.

    >>> import numpy as np
    >>> from graphnet import losses
    >>> loss = losses.categorical_focal_crossentropy([[0, 1, 0]], [[0.05, 0.9, 0.05]])
    >>> print(np.round(np.asarray(loss) * 1e4, 2))
    [2.63]
    """
    _check_axis(axis, "categorical_focal_crossentropy")
    y_true, y_pred = prepare(y_true, y_pred)
    if label_smoothing:
        classes = y_true.shape[-1]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / classes
    if from_logits:
        y_pred = jax.nn.softmax(y_pred, axis=axis)
    p = y_pred / jnp.sum(y_pred, axis=axis, keepdims=True)
    p = jnp.clip(p, EPSILON, 1.0 - EPSILON)
    weight = jnp.power(1.0 - p, gamma) * jnp.asarray(alpha, p.dtype)
    return jnp.sum(weight * (-y_true * jnp.log(p)), axis=axis)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Per sample: `(1 - p ** q) / q`, `p` the probability of the integer label; robust to
    noisy labels (crossentropy as q -> 0, mean absolute error as q -> 1).

    >>> import numpy as np
    >>> from graphnet import losses
    >>> loss = losses.categorical_generalized_cross_entropy([1], [[0.36, 0.64]], q=0.5)
    >>> print(np.round(np.asarray(loss), 4))
    [0.4]
    """
    y_pred = jnp.asarray(y_pred)
    if not jnp.issubdtype(y_pred.dtype, jnp.floating):
        y_pred = y_pred.astype(jnp.float32)
    labels = jnp.asarray(y_true)
    if labels.ndim != y_pred.ndim - 1:
        # Keras would broadcast (batch, 1) labels against every sample's row.
        raise ValueError(
            f"categorical_generalized_cross_entropy expects integer labels of shape "
            f"{tuple(y_pred.shape[:-1])} for predictions of shape {tuple(y_pred.shape)}, "
            f"received {tuple(labels.shape)}; pass labels without a trailing axis of 1")
    one_hot = jax.nn.one_hot(labels.astype(jnp.int32), y_pred.shape[-1], dtype=y_pred.dtype)
    p = jnp.sum(y_pred * one_hot, axis=-1)
    return (1.0 - jnp.power(p, q)) / q


class BinaryFocalCrossentropy(LossFunctionWrapper):
    """Keras BinaryFocalCrossentropy: binary crossentropy scaled by `(1 - p_t) ** gamma`,
    so easy examples count less; `apply_class_balancing` weighs class 1 by `alpha`.

    >>> from graphnet import losses
    >>> loss = losses.BinaryFocalCrossentropy(gamma=2.0)
    >>> print(round(float(loss([[0, 1]], [[0.4, 0.4]])), 3))
    0.206
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy"):
        super().__init__(binary_focal_crossentropy, name=name, reduction=reduction,
                         apply_class_balancing=apply_class_balancing, alpha=alpha,
                         gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalFocalCrossentropy(LossFunctionWrapper):
    """Keras CategoricalFocalCrossentropy: categorical crossentropy weighted by
    `alpha * (1 - p) ** gamma`, for imbalanced classes without `class_weight`.

    >>> from graphnet import losses
    >>> loss = losses.CategoricalFocalCrossentropy(reduction="sum")
    >>> print(round(float(loss([[0, 1, 0]], [[0.05, 0.9, 0.05]])), 6))
    0.000263
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy"):
        _check_axis(axis, "CategoricalFocalCrossentropy")
        super().__init__(categorical_focal_crossentropy, name=name, reduction=reduction,
                         alpha=alpha, gamma=gamma, from_logits=from_logits,
                         label_smoothing=label_smoothing, axis=axis)


class CategoricalGeneralizedCrossEntropy(LossFunctionWrapper):
    """Keras CategoricalGeneralizedCrossEntropy: `(1 - p ** q) / q` for integer labels,
    `q` in (0, 1).

    >>> from graphnet import losses
    >>> loss = losses.CategoricalGeneralizedCrossEntropy(q=0.5)
    >>> print(round(float(loss([1], [[0.36, 0.64]])), 4))
    0.4
    """

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy"):
        if not 0 < q < 1:
            raise ValueError(f"CategoricalGeneralizedCrossEntropy: q must be in the interval "
                             f"(0, 1), received {q!r}")
        super().__init__(categorical_generalized_cross_entropy, name=name,
                         reduction=reduction, q=q)
