"""Keras's regression, probabilistic, hinge and correlation metrics as classes, and R2Score.

Each but R2Score is the sample-weighted mean of one per-sample function over everything seen
since the last reset (Keras's MeanMetricWrapper), so `metrics=[MeanAbsolutePercentageError()]`
logs the same number as `metrics=["mape"]`.
"""
import jax.numpy as jnp

from .. import losses
from .core import Metric, MeanMetricWrapper, mean_wrapper_init
from .functions import (as_float, concordance_correlation, cosine_similarity,
                        pearson_correlation)


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """The mean of `100 * |y_true - y_pred| / |y_true|`, as a metric.

    Examples:
        >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
        >>> y_pred = np.array([[0.5, 0.8], [0.9, 0.2]], dtype="float32")
        >>> m = metrics.MeanAbsolutePercentageError()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        125000024.0
    """
    __init__ = mean_wrapper_init(losses.mean_absolute_percentage_error,
                                 "mean_absolute_percentage_error")


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """The mean of `(log(y_pred + 1) - log(y_true + 1)) ** 2`, as a metric.

    Examples:
        >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
        >>> y_pred = np.array([[0.5, 0.8], [0.9, 0.2]], dtype="float32")
        >>> m = metrics.MeanSquaredLogarithmicError()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.1098
    """
    __init__ = mean_wrapper_init(losses.mean_squared_logarithmic_error,
                                 "mean_squared_logarithmic_error")


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity along `axis` (+1 for the same direction: the loss's
    negative).

    Examples:
        >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
        >>> y_pred = np.array([[0.5, 0.8], [0.9, 0.2]], dtype="float32")
        >>> m = metrics.CosineSimilarity()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.8458
    """
    __init__ = mean_wrapper_init(cosine_similarity, "cosine_similarity", (("axis", -1),))


class LogCoshError(MeanMetricWrapper):
    """The mean of `log(cosh(y_pred - y_true))`, as a metric.

    Examples:
        >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
        >>> y_pred = np.array([[0.5, 0.8], [0.9, 0.2]], dtype="float32")
        >>> m = metrics.LogCoshError()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.1089
    """
    __init__ = mean_wrapper_init(losses.log_cosh, "logcosh")


class KLDivergence(MeanMetricWrapper):
    """The mean Kullback-Leibler divergence from `y_true` to `y_pred`, as a metric.

    Examples:
        >>> y_true = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype="float32")
        >>> y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]], dtype="float32")
        >>> m = metrics.KLDivergence()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.367
    """
    __init__ = mean_wrapper_init(losses.kl_divergence, "kl_divergence")


class Poisson(MeanMetricWrapper):
    """The mean of `y_pred - y_true * log(y_pred)`, as a metric.

    Examples:
        >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
        >>> y_pred = np.array([[0.5, 0.8], [0.9, 0.2]], dtype="float32")
        >>> m = metrics.Poisson()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0845
    """
    __init__ = mean_wrapper_init(losses.poisson, "poisson")


class BinaryCrossentropy(MeanMetricWrapper):
    """The mean binary crossentropy, as a metric.

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.BinaryCrossentropy()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.4004
    """
    __init__ = mean_wrapper_init(losses.binary_crossentropy, "binary_crossentropy",
                                 (("from_logits", False), ("label_smoothing", 0.0)))


class CategoricalCrossentropy(MeanMetricWrapper):
    """The mean crossentropy of one-hot targets, as a metric.

    Examples:
        >>> y_true = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype="float32")
        >>> y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]], dtype="float32")
        >>> m = metrics.CategoricalCrossentropy()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.367
    """
    __init__ = mean_wrapper_init(losses.categorical_crossentropy, "categorical_crossentropy",
                                 (("from_logits", False), ("label_smoothing", 0.0), ("axis", -1)))


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """The mean crossentropy of integer targets, as a metric.

    Examples:
        >>> y_true = np.array([1, 0])
        >>> y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]], dtype="float32")
        >>> m = metrics.SparseCategoricalCrossentropy()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.367
    """
    __init__ = mean_wrapper_init(losses.sparse_categorical_crossentropy,
                                 "sparse_categorical_crossentropy",
                                 (("from_logits", False), ("axis", -1)))


class Hinge(MeanMetricWrapper):
    """The mean hinge loss, as a metric (0/1 labels become -1/1).

    Examples:
        >>> y_true = np.array([[-1.0, 1.0], [1.0, -1.0]], dtype="float32")
        >>> y_pred = np.array([[0.3, 0.8], [0.6, 0.4]], dtype="float32")
        >>> m = metrics.Hinge()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.825
    """
    __init__ = mean_wrapper_init(losses.hinge, "hinge")


class SquaredHinge(MeanMetricWrapper):
    """The mean squared hinge loss, as a metric (0/1 labels become -1/1).

    Examples:
        >>> y_true = np.array([[-1.0, 1.0], [1.0, -1.0]], dtype="float32")
        >>> y_pred = np.array([[0.3, 0.8], [0.6, 0.4]], dtype="float32")
        >>> m = metrics.SquaredHinge()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.9625
    """
    __init__ = mean_wrapper_init(losses.squared_hinge, "squared_hinge")


class CategoricalHinge(MeanMetricWrapper):
    """The mean categorical hinge loss, as a metric.

    Examples:
        >>> y_true = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype="float32")
        >>> y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]], dtype="float32")
        >>> m = metrics.CategoricalHinge()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.5
    """
    __init__ = mean_wrapper_init(losses.categorical_hinge, "categorical_hinge")


class PearsonCorrelation(MeanMetricWrapper):
    """The mean, over samples, of Pearson's correlation along `axis`.

    Examples:
        >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
        >>> y_pred = np.array([[0.5, 0.8], [0.9, 0.2]], dtype="float32")
        >>> m = metrics.PearsonCorrelation()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        nan
    """
    __init__ = mean_wrapper_init(pearson_correlation, "pearson_correlation", (("axis", -1),))


class ConcordanceCorrelation(MeanMetricWrapper):
    """The mean, over samples, of the concordance correlation along `axis` (Keras's formula).

    Examples:
        >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
        >>> y_pred = np.array([[0.5, 0.8], [0.9, 0.2]], dtype="float32")
        >>> m = metrics.ConcordanceCorrelation()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.2542
    """
    __init__ = mean_wrapper_init(concordance_correlation, "concordance_correlation",
                                 (("axis", -1),))


class R2Score(Metric):
    """Keras R2Score: the coefficient of determination of (batch, outputs) regressions.

    Kept as per-output running sums, so the score covers everything seen since the last
    reset, not a mean of per-batch scores.

    Args:
        class_aggregation: "uniform_average" (the mean of the outputs' scores),
            "variance_weighted_average" (their mean weighted by each target's variance) or
            None (one score per output).
        num_regressors: the number of independent variables, for the adjusted R2 (0: plain);
            as in Keras it falls back to plain R2 when there are too few samples.
        name: the metric's name in the logs.
        dtype: the dtype of the result.

    Examples:
        >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
        >>> y_pred = np.array([[0.5, 0.8], [0.9, 0.2]], dtype="float32")
        >>> m = metrics.R2Score()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.24
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype="float32"):
        super().__init__(name=name, dtype=dtype)
        if class_aggregation not in (None, "uniform_average", "variance_weighted_average"):
            raise ValueError(f"R2Score '{self.name}': class_aggregation must be one of None, "
                             f"'uniform_average', 'variance_weighted_average', received "
                             f"{class_aggregation!r}")
        if num_regressors < 0:
            raise ValueError(f"R2Score '{self.name}': num_regressors must be >= 0, received "
                             f"{num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, int(num_regressors)
        self.num_outputs = None

    def build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2 or y_pred_shape[-1] is None:
            raise ValueError(f"R2Score '{self.name}' expects targets and predictions of shape "
                             f"(batch, outputs), received y_true {tuple(y_true_shape)} and "
                             f"y_pred {tuple(y_pred_shape)}")
        self.num_outputs = int(y_pred_shape[-1])

    def init(self):
        if self.num_outputs is None:
            raise ValueError(f"R2Score '{self.name}' does not know its number of outputs yet: "
                             f"call build(y_true_shape, y_pred_shape) first")
        zeros = jnp.zeros((self.num_outputs,), jnp.float32)
        return {"sum": zeros, "squared_sum": zeros, "residual": zeros, "count": zeros,
                "num_samples": jnp.zeros((), jnp.float32)}

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_true, y_pred = losses.match_ranks(as_float(y_true), as_float(y_pred))
        weight = jnp.ones(()) if sample_weight is None else as_float(sample_weight)
        if weight.ndim == 1:
            weight = weight[:, None]
        weight = jnp.broadcast_to(weight, y_true.shape)
        weighted = y_true * weight
        return {"sum": state["sum"] + jnp.sum(weighted, axis=0),
                "squared_sum": state["squared_sum"] + jnp.sum(y_true * weighted, axis=0),
                "residual": state["residual"] + jnp.sum((y_true - y_pred) ** 2 * weight, axis=0),
                "count": state["count"] + jnp.sum(weight, axis=0),
                "num_samples": state["num_samples"] + y_true.size}

    def result(self, state=None):
        s = self._current(state)
        mean = s["sum"] / s["count"]
        total = s["squared_sum"] - s["sum"] * mean
        raw = 1.0 - s["residual"] / total
        raw = jnp.where(jnp.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = jnp.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = jnp.sum(total * raw) / jnp.sum(total)
        else:
            score = raw
        if self.num_regressors:
            n, p = s["num_samples"], float(self.num_regressors)
            adjusted = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
            score = jnp.where(p < n - 1.0, adjusted, score)
        return score

    def get_config(self):
        return {**super().get_config(), "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}
