"""Keras's loss classes over the per-sample functions: each stores its arguments for
`get_config` and reduces with `sample_weight` as Keras's "sum_over_batch_size"."""
from .base import (LossFunctionWrapper, binary_crossentropy, categorical_crossentropy,
                   categorical_hinge, cosine_similarity, ctc, hinge, huber, kl_divergence,
                   log_cosh, mean_absolute_error, mean_absolute_percentage_error,
                   mean_squared_error, mean_squared_logarithmic_error, poisson,
                   sparse_categorical_crossentropy, squared_hinge, wrapper_init)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors over the last axis, averaged over the batch (`"mse"`).

    >>> y_true, y_pred = [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]
    >>> print(round(float(losses.MeanSquaredError()(y_true, y_pred)), 4))
    0.5
    """
    __init__ = wrapper_init(mean_squared_error, "mean_squared_error")


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors over the last axis, averaged over the batch (`"mae"`).

    >>> y_true, y_pred = [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]
    >>> print(round(float(losses.MeanAbsoluteError()(y_true, y_pred)), 4))
    0.5
    """
    __init__ = wrapper_init(mean_absolute_error, "mean_absolute_error")


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """100 * mean(|y_true - y_pred| / |y_true|) over the last axis (`"mape"`).

    >>> y_true, y_pred = [[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [2.0, 2.0]]
    >>> print(round(float(losses.MeanAbsolutePercentageError()(y_true, y_pred)), 4))
    37.5
    """
    __init__ = wrapper_init(mean_absolute_percentage_error, "mean_absolute_percentage_error")


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared error of log(1 + y) over the last axis (`"msle"`).

    >>> y_true, y_pred = [[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [2.0, 2.0]]
    >>> print(round(float(losses.MeanSquaredLogarithmicError()(y_true, y_pred)), 4))
    0.0822
    """
    __init__ = wrapper_init(mean_squared_logarithmic_error, "mean_squared_logarithmic_error")


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy between 0/1 labels and probabilities (or logits with `from_logits=True`).

    >>> y_true, y_pred = [[0.0, 1.0], [0.0, 0.0]], [[0.6, 0.4], [0.4, 0.6]]
    >>> print(round(float(losses.BinaryCrossentropy()(y_true, y_pred)), 4))
    0.8149
    """
    __init__ = wrapper_init(binary_crossentropy, "binary_crossentropy",
                        (("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)))


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between one-hot labels and class probabilities (or logits).

    >>> y_true, y_pred = [[0.0, 1.0], [1.0, 0.0]], [[0.4, 0.6], [0.3, 0.7]]
    >>> print(round(float(losses.CategoricalCrossentropy()(y_true, y_pred)), 4))
    0.8574
    """
    __init__ = wrapper_init(categorical_crossentropy, "categorical_crossentropy",
                        (("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)))


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between integer labels and class probabilities (or logits). With
    `ignore_class`, targets of that class count neither in the loss nor in the
    "sum_over_batch_size" average (Keras's mask: sum / valid).

    >>> y_true, y_pred = [1, 0], [[0.4, 0.6], [0.3, 0.7]]
    >>> print(round(float(losses.SparseCategoricalCrossentropy()(y_true, y_pred)), 4))
    0.8574
    """
    __init__ = wrapper_init(sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
                        (("from_logits", False), ("ignore_class", None)))


class Huber(LossFunctionWrapper):
    """Huber loss: squared error below `delta`, linear above it; robust to outliers.

    >>> y_true, y_pred = [[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [2.0, 2.0]]
    >>> print(round(float(losses.Huber()(y_true, y_pred)), 4))
    0.25
    """
    __init__ = wrapper_init(huber, "huber_loss", (("delta", 1.0),))


class LogCosh(LossFunctionWrapper):
    """log(cosh(error)): like mean squared error for small errors, absolute error for large.

    >>> y_true, y_pred = [[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [2.0, 2.0]]
    >>> print(round(float(losses.LogCosh()(y_true, y_pred)), 4))
    0.2169
    """
    __init__ = wrapper_init(log_cosh, "log_cosh")


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence between y_true and y_pred distributions (`"kld"`).

    >>> y_true, y_pred = [[0.0, 1.0], [1.0, 0.0]], [[0.4, 0.6], [0.3, 0.7]]
    >>> print(round(float(losses.KLDivergence()(y_true, y_pred)), 4))
    0.8574
    """
    __init__ = wrapper_init(kl_divergence, "kl_divergence")


class Poisson(LossFunctionWrapper):
    """Poisson loss, for counts: mean of y_pred - y_true * log(y_pred).

    >>> y_true, y_pred = [[1.0, 2.0], [2.0, 1.0]], [[1.0, 1.0], [2.0, 2.0]]
    >>> print(round(float(losses.Poisson()(y_true, y_pred)), 4))
    0.9801
    """
    __init__ = wrapper_init(poisson, "poisson")


class Hinge(LossFunctionWrapper):
    """Hinge loss for labels in {-1, 1} (or {0, 1}, mapped): mean of max(1 - y_true * y_pred, 0).

    >>> y_true, y_pred = [[-1.0, 1.0], [1.0, -1.0]], [[0.6, 0.4], [0.4, 0.6]]
    >>> print(round(float(losses.Hinge()(y_true, y_pred)), 4))
    1.1
    """
    __init__ = wrapper_init(hinge, "hinge")


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss: mean of max(1 - y_true * y_pred, 0) ** 2.

    >>> y_true, y_pred = [[-1.0, 1.0], [1.0, -1.0]], [[0.6, 0.4], [0.4, 0.6]]
    >>> print(round(float(losses.SquaredHinge()(y_true, y_pred)), 4))
    1.46
    """
    __init__ = wrapper_init(squared_hinge, "squared_hinge")


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss for one-hot labels.

    >>> y_true, y_pred = [[0.0, 1.0], [1.0, 0.0]], [[0.4, 0.6], [0.3, 0.7]]
    >>> print(round(float(losses.CategoricalHinge()(y_true, y_pred)), 4))
    1.1
    """
    __init__ = wrapper_init(categorical_hinge, "categorical_hinge")


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity between y_true and y_pred along `axis`.

    >>> y_true, y_pred = [[0.0, 1.0], [1.0, 1.0]], [[1.0, 1.0], [1.0, 1.0]]
    >>> print(round(float(losses.CosineSimilarity()(y_true, y_pred)), 4))
    -0.8536
    """
    __init__ = wrapper_init(cosine_similarity, "cosine_similarity", (("axis", -1),))


class CTC(LossFunctionWrapper):
    """Connectionist temporal classification loss: integer labels (0 = blank), logits (batch, time, classes).

    >>> logits = np.log(np.array([[[0.2, 0.5, 0.3], [0.3, 0.2, 0.5], [0.4, 0.3, 0.3]]], "float32"))
    >>> y_true, y_pred = [[1, 2]], logits
    >>> print(round(float(losses.CTC()(y_true, y_pred)), 4))
    1.3394
    """
    __init__ = wrapper_init(ctc, "ctc")
