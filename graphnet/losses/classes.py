"""Keras's loss classes over the per-sample functions: each stores its arguments for
`get_config` and reduces with `sample_weight` as Keras's "sum_over_batch_size"."""
from .base import (LossFunctionWrapper, binary_crossentropy, categorical_crossentropy,
                   categorical_hinge, cosine_similarity, ctc, hinge, huber, kl_divergence,
                   log_cosh, mean_absolute_error, mean_absolute_percentage_error,
                   mean_squared_error, mean_squared_logarithmic_error, poisson,
                   sparse_categorical_crossentropy, squared_hinge, wrapper_init)


class MeanSquaredError(LossFunctionWrapper):
    """Mean of squared errors over the last axis, averaged over the batch (`"mse"`)."""
    __init__ = wrapper_init(mean_squared_error, "mean_squared_error")


class MeanAbsoluteError(LossFunctionWrapper):
    """Mean of absolute errors over the last axis, averaged over the batch (`"mae"`)."""
    __init__ = wrapper_init(mean_absolute_error, "mean_absolute_error")


class MeanAbsolutePercentageError(LossFunctionWrapper):
    """100 * mean(|y_true - y_pred| / |y_true|) over the last axis (`"mape"`)."""
    __init__ = wrapper_init(mean_absolute_percentage_error, "mean_absolute_percentage_error")


class MeanSquaredLogarithmicError(LossFunctionWrapper):
    """Mean squared error of log(1 + y) over the last axis (`"msle"`)."""
    __init__ = wrapper_init(mean_squared_logarithmic_error, "mean_squared_logarithmic_error")


class BinaryCrossentropy(LossFunctionWrapper):
    """Crossentropy between 0/1 labels and probabilities (or logits with `from_logits=True`)."""
    __init__ = wrapper_init(binary_crossentropy, "binary_crossentropy",
                        (("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)))


class CategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between one-hot labels and class probabilities (or logits)."""
    __init__ = wrapper_init(categorical_crossentropy, "categorical_crossentropy",
                        (("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)))


class SparseCategoricalCrossentropy(LossFunctionWrapper):
    """Crossentropy between integer labels and class probabilities (or logits). With
    `ignore_class`, targets of that class count neither in the loss nor in the
    "sum_over_batch_size" average (Keras's mask: sum / valid)."""
    __init__ = wrapper_init(sparse_categorical_crossentropy, "sparse_categorical_crossentropy",
                        (("from_logits", False), ("ignore_class", None)))


class Huber(LossFunctionWrapper):
    """Huber loss: squared error below `delta`, linear above it; robust to outliers."""
    __init__ = wrapper_init(huber, "huber_loss", (("delta", 1.0),))


class LogCosh(LossFunctionWrapper):
    """log(cosh(error)): like mean squared error for small errors, absolute error for large."""
    __init__ = wrapper_init(log_cosh, "log_cosh")


class KLDivergence(LossFunctionWrapper):
    """Kullback-Leibler divergence between y_true and y_pred distributions (`"kld"`)."""
    __init__ = wrapper_init(kl_divergence, "kl_divergence")


class Poisson(LossFunctionWrapper):
    """Poisson loss, for counts: mean of y_pred - y_true * log(y_pred)."""
    __init__ = wrapper_init(poisson, "poisson")


class Hinge(LossFunctionWrapper):
    """Hinge loss for labels in {-1, 1} (or {0, 1}, mapped): mean of max(1 - y_true * y_pred, 0)."""
    __init__ = wrapper_init(hinge, "hinge")


class SquaredHinge(LossFunctionWrapper):
    """Squared hinge loss: mean of max(1 - y_true * y_pred, 0) ** 2."""
    __init__ = wrapper_init(squared_hinge, "squared_hinge")


class CategoricalHinge(LossFunctionWrapper):
    """Categorical hinge loss for one-hot labels."""
    __init__ = wrapper_init(categorical_hinge, "categorical_hinge")


class CosineSimilarity(LossFunctionWrapper):
    """Negative cosine similarity between y_true and y_pred along `axis`."""
    __init__ = wrapper_init(cosine_similarity, "cosine_similarity", (("axis", -1),))


class CTC(LossFunctionWrapper):
    """Connectionist temporal classification loss: integer labels (0 = blank), logits (batch, time, classes)."""
    __init__ = wrapper_init(ctc, "ctc")
