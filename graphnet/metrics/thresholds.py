"""Confusion counts as metrics (TruePositives, ...) and the metrics read off a curve of
thresholds (SensitivityAtSpecificity, PrecisionAtRecall, ...)."""
import jax
import jax.numpy as jnp

from ..losses import match_ranks
from .confusion import confusion_counts, divide_no_nan, weighted_class
from .core import Metric
from .functions import as_float


class _Count(Metric):
    """One confusion count per threshold (a prediction above it is positive)."""

    _count = ""

    def __init__(self, thresholds=None, name=None, dtype="float32"):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        values = [0.5] if thresholds is None else (
            list(thresholds) if isinstance(thresholds, (list, tuple)) else [thresholds])
        for t in values:
            if not 0.0 <= float(t) <= 1.0:
                raise ValueError(f"{type(self).__name__} '{self.name}': thresholds must be in "
                                 f"[0, 1], received {thresholds}")
        self.thresholds = [float(t) for t in values]
        self._one = not isinstance(thresholds, (list, tuple))

    def init(self):
        return {"accumulator": jnp.zeros((len(self.thresholds),), jnp.float32)}

    def update(self, state, y_true, y_pred, sample_weight=None):
        counts = dict(zip(("tp", "fp", "tn", "fn"), confusion_counts(
            y_true, y_pred, sample_weight, self.thresholds)))
        return {"accumulator": state["accumulator"] + counts[self._count]}

    def result(self, state=None):
        value = self._current(state)["accumulator"]
        return value[0] if self._one else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_Count):
    """Keras TruePositives: the (weighted) number of positives predicted positive.

    Args:
        thresholds: a float in [0, 1] (default 0.5): a prediction above it is positive. A
            list gives one count per threshold.
        name: the metric's name in the logs.
        dtype: the dtype of the result.

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.TruePositives()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """
    _count = "tp"


class FalsePositives(_Count):
    """Keras FalsePositives: the (weighted) number of negatives predicted positive.

    Args: as TruePositives.

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.FalsePositives()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.0
    """
    _count = "fp"


class TrueNegatives(_Count):
    """Keras TrueNegatives: the (weighted) number of negatives predicted negative.

    Args: as TruePositives.

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.TrueNegatives()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        2.0
    """
    _count = "tn"


class FalseNegatives(_Count):
    """Keras FalseNegatives: the (weighted) number of positives predicted negative.

    Args: as TruePositives.

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.FalseNegatives()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """
    _count = "fn"


def bucket_counts(y_true, y_pred, sample_weight, num_thresholds, class_id=None):
    """Keras's counts at evenly spaced thresholds 0, 1/(n-1), ..., 1: each score goes to
    bucket `ceil(p * (n - 1)) - 1` (scores of 0 to none), then reversed cumulative sums.
    Computed as Keras does rather than as `p > t`, so scores on a threshold count alike."""
    y_true, y_pred = match_ranks(as_float(y_true), as_float(y_pred))
    y_true, y_pred, weight = weighted_class(y_true, y_pred, sample_weight, class_id)
    labels = (y_true != 0).reshape(-1).astype(jnp.float32)
    weight = weight.reshape(-1)
    preds = jnp.clip(y_pred.reshape(-1), 0.0, 1.0)
    buckets = (jnp.ceil(preds * jnp.float32(num_thresholds - 1)) - 1).astype(jnp.int32)
    pos, neg = labels * weight, (1.0 - labels) * weight

    def above(values):
        per_bucket = jax.ops.segment_sum(values, buckets, num_segments=num_thresholds)
        return jnp.cumsum(per_bucket[::-1])[::-1]
    tp, fp = above(pos), above(neg)
    return tp, fp, jnp.sum(neg) - fp, jnp.sum(pos) - tp


class _AtValue(Metric):
    """Counts at `num_thresholds` thresholds in [0, 1]; the result is the best value of one
    rate among the thresholds where another rate reaches `value`."""

    _value_name = ""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype="float32"):
        super().__init__(name=name, dtype=dtype)
        if not 0.0 <= float(value) <= 1.0:
            raise ValueError(f"{type(self).__name__} '{self.name}': {self._value_name} must be "
                             f"in [0, 1], received {value}")
        if int(num_thresholds) <= 0:
            raise ValueError(f"{type(self).__name__} '{self.name}': num_thresholds must be an "
                             f"integer > 0, received {num_thresholds}")
        self.value, self.num_thresholds = float(value), int(num_thresholds)
        self.class_id = None if class_id is None else int(class_id)

    def init(self):
        zeros = jnp.zeros((self.num_thresholds,), jnp.float32)
        return {"tp": zeros, "fp": zeros, "tn": zeros, "fn": zeros}

    def update(self, state, y_true, y_pred, sample_weight=None):
        if self.num_thresholds == 1:
            counts = confusion_counts(y_true, y_pred, sample_weight, [0.5],
                                      class_id=self.class_id)
        else:
            counts = bucket_counts(y_true, y_pred, sample_weight, self.num_thresholds,
                                   self.class_id)
        return {k: state[k] + c for k, c in zip(("tp", "fp", "tn", "fn"), counts)}

    def _rates(self, state):
        s = self._current(state)
        return {"sensitivity": divide_no_nan(s["tp"], s["tp"] + s["fn"]),
                "specificity": divide_no_nan(s["tn"], s["tn"] + s["fp"]),
                "precision": divide_no_nan(s["tp"], s["tp"] + s["fp"])}

    def _best(self, constrained, dependent):
        return jnp.max(jnp.where(constrained >= self.value, dependent, 0.0), initial=0.0)

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "class_id": self.class_id, self._value_name: self.value}


class SensitivityAtSpecificity(_AtValue):
    """Keras SensitivityAtSpecificity: the best sensitivity (recall) among the thresholds
    whose specificity is at least `specificity`.

    Args:
        specificity: a float in [0, 1].
        num_thresholds: how many evenly spaced thresholds in [0, 1] are tried (default 200).
        class_id: measure this one class of (batch, classes) predictions.
        name: the metric's name in the logs.
        dtype: the dtype of the result.

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.SensitivityAtSpecificity(0.5)
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """
    _value_name = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None,
                 dtype="float32"):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def result(self, state=None):
        r = self._rates(state)
        return self._best(r["specificity"], r["sensitivity"])


class SpecificityAtSensitivity(_AtValue):
    """Keras SpecificityAtSensitivity: the best specificity among the thresholds whose
    sensitivity (recall) is at least `sensitivity`.

    Args: `sensitivity` (a float in [0, 1]), then as SensitivityAtSpecificity.

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.SpecificityAtSensitivity(0.5)
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """
    _value_name = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None,
                 dtype="float32"):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def result(self, state=None):
        r = self._rates(state)
        return self._best(r["sensitivity"], r["specificity"])


class PrecisionAtRecall(_AtValue):
    """Keras PrecisionAtRecall: the best precision among the thresholds whose recall is at
    least `recall`.

    Args: `recall` (a float in [0, 1]), then as SensitivityAtSpecificity.

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.PrecisionAtRecall(0.5)
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """
    _value_name = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype="float32"):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def result(self, state=None):
        r = self._rates(state)
        return self._best(r["sensitivity"], r["precision"])


class RecallAtPrecision(_AtValue):
    """Keras RecallAtPrecision: the best recall among the thresholds whose precision is at
    least `precision`.

    Args: `precision` (a float in [0, 1]), then as SensitivityAtSpecificity.

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.RecallAtPrecision(0.5)
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """
    _value_name = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None,
                 dtype="float32"):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def result(self, state=None):
        r = self._rates(state)
        return self._best(r["precision"], r["sensitivity"])
