"""Metrics with Keras 3's names and numerics, as pure (init, update, result) triples.

`fit` threads each metric's state through the compiled step, so a metric costs no host
round trip; `update_state` / `result()` / `reset_state()` give Keras's stateful use outside.
"""
import difflib

from .. import losses, registry
from ..naming import snake_case
from ..registry import lookup
from .confusion import AUC, F1Score, FBetaScore, MeanIoU, Precision, Recall
from .core import (Accuracy, BinaryAccuracy, CategoricalAccuracy, Mean, MeanAbsoluteError,
                   MeanMetricWrapper, MeanSquaredError, Metric, RootMeanSquaredError,
                   SparseCategoricalAccuracy, SparseTopKCategoricalAccuracy, Sum,
                   TopKCategoricalAccuracy)
from .iou import BinaryIoU, IoU, OneHotIoU, OneHotMeanIoU
from .functions import (accuracy, binary_accuracy, categorical_accuracy,
                        concordance_correlation, cosine_similarity, pearson_correlation,
                        sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
                        squared_error, top_k_categorical_accuracy)
from .regression import (BinaryCrossentropy, CategoricalCrossentropy, CategoricalHinge,
                         ConcordanceCorrelation, CosineSimilarity, Hinge, KLDivergence,
                         LogCoshError, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
                         PearsonCorrelation, Poisson, R2Score, SparseCategoricalCrossentropy,
                         SquaredHinge)
from .thresholds import (FalseNegatives, FalsePositives, PrecisionAtRecall, RecallAtPrecision,
                         SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives,
                         TruePositives)

# Keras's metric functions under their own names (keras.metrics.huber, ...).
from ..losses import (binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
                      categorical_focal_crossentropy, categorical_hinge, hinge, huber,
                      kl_divergence, log_cosh, mean_absolute_error,
                      mean_absolute_percentage_error, mean_squared_error,
                      mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy,
                      squared_hinge)


# ---- names -----------------------------------------------------------------------------
METRIC_FUNCTIONS = {
    "binary_accuracy": binary_accuracy, "categorical_accuracy": categorical_accuracy,
    "sparse_categorical_accuracy": sparse_categorical_accuracy,
    "mse": losses.mean_squared_error, "mean_squared_error": losses.mean_squared_error,
    "mae": losses.mean_absolute_error, "mean_absolute_error": losses.mean_absolute_error,
    "mape": losses.mean_absolute_percentage_error,
    "mean_absolute_percentage_error": losses.mean_absolute_percentage_error,
    "msle": losses.mean_squared_logarithmic_error,
    "binary_crossentropy": losses.binary_crossentropy,
    "categorical_crossentropy": losses.categorical_crossentropy,
    "sparse_categorical_crossentropy": losses.sparse_categorical_crossentropy,
    "kld": losses.kl_divergence, "kl_divergence": losses.kl_divergence,
    "poisson": losses.poisson, "hinge": losses.hinge, "squared_hinge": losses.squared_hinge,
    "categorical_hinge": losses.categorical_hinge, "log_cosh": losses.log_cosh,
    "top_k_categorical_accuracy": top_k_categorical_accuracy,
    "sparse_top_k_categorical_accuracy": sparse_top_k_categorical_accuracy,
    "cosine_similarity": cosine_similarity, "pearson_correlation": pearson_correlation,
    "concordance_correlation": concordance_correlation, "huber": losses.huber,
}
ACCURACY_NAMES = ("accuracy", "acc")

CLASSES = {cls.__name__: cls for cls in (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, MeanSquaredError,
    MeanAbsoluteError, AUC, Precision, Recall, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, RootMeanSquaredError, FBetaScore, F1Score, MeanIoU,
    Mean, Sum, MeanMetricWrapper, MeanAbsolutePercentageError, MeanSquaredLogarithmicError,
    CosineSimilarity, LogCoshError, R2Score, KLDivergence, Poisson, BinaryCrossentropy,
    CategoricalCrossentropy, SparseCategoricalCrossentropy, Hinge, SquaredHinge,
    CategoricalHinge, PearsonCorrelation, ConcordanceCorrelation, TruePositives,
    FalsePositives, TrueNegatives, FalseNegatives, SensitivityAtSpecificity,
    SpecificityAtSensitivity, PrecisionAtRecall, RecallAtPrecision, IoU, BinaryIoU, OneHotIoU,
    OneHotMeanIoU)}
# Names that make a metric object of their own: Keras's snake-case names of its classes
# (where no function has the name) and a few of its aliases.
NAMED_CLASSES = {**{snake_case(name): name for name in CLASSES
                    if snake_case(name) not in METRIC_FUNCTIONS
                    and snake_case(name) not in ACCURACY_NAMES},
                 "auc": "AUC", "logcosh": "LogCoshError", "bce": "BinaryCrossentropy"}
_VALID = {**METRIC_FUNCTIONS, "accuracy": None, "acc": None, **NAMED_CLASSES}


def resolve_accuracy(name, y_true_shape, y_pred_shape):
    """Keras's choice for "accuracy": binary for one unit, sparse when targets are class
    indices (lower rank, or a last axis of 1 against several classes), else categorical."""
    is_binary = y_pred_shape[-1] == 1
    is_sparse = (len(y_true_shape) < len(y_pred_shape)
                 or (y_true_shape[-1] == 1 and y_pred_shape[-1] > 1))
    if is_binary:
        return BinaryAccuracy(name=name)
    if is_sparse:
        return SparseCategoricalAccuracy(name=name)
    return CategoricalAccuracy(name=name)


class UnknownMetricError(KeyError, ValueError):
    """A metric name compile does not know: a KeyError (the name is looked up) that is also
    the ValueError an unknown string has always been, with its message as given."""

    def __str__(self):
        return str(self.args[0])


def check_names(metrics, what="metrics"):
    """Refuse, at compile, a metric string that names no metric: an `UnknownMetricError`
    naming it, its close matches and the valid names. `metrics` in any of compile's forms
    (a list, a list of lists, a dict by output)."""
    if isinstance(metrics, dict):
        for value in metrics.values():
            check_names(value, what)
    elif isinstance(metrics, (list, tuple)):
        for value in metrics:
            check_names(value, what)
    elif isinstance(metrics, str) and metrics not in CLASSES and metrics.lower() not in _VALID:
        names = sorted({*_VALID, *CLASSES})
        close = difflib.get_close_matches(metrics.lower(), names, n=3, cutoff=0.6)
        hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise UnknownMetricError(f"Unknown metric {metrics!r} in compile's {what}{hint} "
                                 f"(valid metrics are: {', '.join(sorted(_VALID))})")


def get(identifier, y_true_shape=None, y_pred_shape=None):
    """A Metric from a name (named as given, like Keras), a Metric, a class or a function.

    "accuracy"/"acc" need the target and output shapes to choose their kind.
    """
    metric = _get(identifier, y_true_shape, y_pred_shape)
    if y_true_shape is not None and y_pred_shape is not None:
        metric.build(tuple(y_true_shape), tuple(y_pred_shape))
    return metric


def _get(identifier, y_true_shape, y_pred_shape):
    def from_name(name):
        if name in CLASSES and name.lower() not in ACCURACY_NAMES:  # named as given
            return CLASSES[name](name=name)
        key = name.lower()
        lookup(_VALID, key, "metric")
        if key in ACCURACY_NAMES:
            if y_true_shape is None:
                raise ValueError(f"metric {name!r} is chosen per output from the shapes "
                                 f"of its target and prediction; pass them")
            return resolve_accuracy(name, y_true_shape, y_pred_shape)
        if key in NAMED_CLASSES:
            return CLASSES[NAMED_CLASSES[key]](name=name)
        return MeanMetricWrapper(METRIC_FUNCTIONS[key], name=name)
    return registry.get(identifier, KIND, base=Metric, from_name=from_name,
                        from_callable=MeanMetricWrapper,
                        expected="A metric must be a string, a graphnet.metrics.Metric or a "
                                 "function (y_true, y_pred)")


KIND = registry.Kind("metric", CLASSES, METRIC_FUNCTIONS, MeanMetricWrapper)


def serialize(metric):
    """A metric name as given, or the registry's one shape for metric objects."""
    return metric if isinstance(metric, str) else registry.serialize(metric, KIND)


def deserialize(config):
    """A metric from the dict `serialize` made."""
    if isinstance(config, str):
        return config
    return registry.deserialize(config, KIND)
