"""Metrics over confusion counts: Precision, Recall, F-beta and F1, MeanIoU and AUC."""
import jax.numpy as jnp
import numpy as np

from ..losses import match_ranks
from .core import Metric
from .functions import as_float


NEG_INF = -1e10     # Keras's stand-in for "not in the top k"


def weighted_class(y_true, y_pred, sample_weight, class_id):
    """`(y_true, y_pred, weight)` with `sample_weight` broadcast over each prediction's
    trailing axes, then only column `class_id` when one is given (Keras's class_id)."""
    weight = jnp.ones_like(y_pred)
    if sample_weight is not None:
        w = as_float(sample_weight)
        w = w.reshape(w.shape + (1,) * max(y_pred.ndim - w.ndim, 0))
        weight = jnp.broadcast_to(w, y_pred.shape)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(f"class_id={class_id} needs predictions of shape (batch, classes), "
                             f"received shape {y_pred.shape}")
        y_true, y_pred, weight = (a[..., class_id] for a in (y_true, y_pred, weight))
    return y_true, y_pred, weight


def confusion_counts(y_true, y_pred, sample_weight, thresholds, top_k=None, class_id=None):
    """Keras's update_confusion_matrix_variables (one label set): per threshold, the
    weighted counts of (tp, fp, tn, fn) with positive = `y_pred > threshold`, label =
    `y_true != 0`; `top_k` keeps each row's k best scores, `class_id` one column."""
    y_true, y_pred = match_ranks(as_float(y_true), as_float(y_pred))
    if top_k is not None:
        # rank of each score in its row, ties to the lower index (as lax.top_k picks)
        rank = jnp.argsort(jnp.argsort(-y_pred, axis=-1, stable=True), axis=-1, stable=True)
        y_pred = jnp.where(rank < top_k, y_pred, NEG_INF)
    y_true, y_pred, weight = weighted_class(y_true, y_pred, sample_weight, class_id)
    labels = (y_true != 0).reshape(-1).astype(jnp.float32)
    preds, weight = y_pred.reshape(-1), weight.reshape(-1)
    above = (preds[None, :] > jnp.asarray(thresholds, jnp.float32)[:, None]).astype(jnp.float32)
    pos, neg = labels * weight, (1.0 - labels) * weight
    tp, fp = above @ pos, above @ neg
    return tp, fp, jnp.sum(neg) - fp, jnp.sum(pos) - tp


class _ThresholdMetric(Metric):
    """Precision and Recall: counts per threshold (0.5, or none beyond top_k by default)."""

    _counts = ()           # which of tp, fp, tn, fn the metric keeps

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype="float32"):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.top_k = None if top_k is None else int(top_k)
        self.class_id = None if class_id is None else int(class_id)
        default = 0.5 if top_k is None else NEG_INF
        values = [default] if thresholds is None else (
            list(thresholds) if isinstance(thresholds, (list, tuple)) else [thresholds])
        for t in values:
            if not (t == NEG_INF or 0.0 <= float(t) <= 1.0):
                raise ValueError(f"{type(self).__name__} '{self.name}': thresholds must be in "
                                 f"[0, 1], received {thresholds}")
        self.thresholds = [float(t) for t in values]
        self._one = not isinstance(thresholds, (list, tuple))

    def init(self):
        zeros = jnp.zeros((len(self.thresholds),), jnp.float32)
        return {name: zeros for name in self._counts}

    def update(self, state, y_true, y_pred, sample_weight=None):
        counts = dict(zip(("tp", "fp", "tn", "fn"), confusion_counts(
            y_true, y_pred, sample_weight, self.thresholds, self.top_k, self.class_id)))
        return {name: state[name] + counts[name] for name in self._counts}

    def _ratio(self, state, other):
        value = divide_no_nan(state["tp"], state["tp"] + state[other])
        return value[0] if self._one else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds, "top_k": self.top_k,
                "class_id": self.class_id}


class Precision(_ThresholdMetric):
    """Keras Precision: the fraction of predicted positives that are positive.

    `tp / (tp + fp)` over everything seen since the last reset, 0 when nothing was
    predicted positive. A label counts as positive when it is not 0.

    Args:
        thresholds: a float in [0, 1]: a prediction above it is positive (default 0.5, or
            with `top_k` none). A list gives one precision per threshold.
        top_k: only the `top_k` highest scores of each row can be positive.
        class_id: measure this one class of (batch, classes) predictions.
        name: the metric's name in the logs.
        dtype: the dtype of the result.

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.Precision()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """
    _counts = ("tp", "fp")

    def result(self, state=None):
        return self._ratio(self._current(state), "fp")


class Recall(_ThresholdMetric):
    """Keras Recall: the fraction of positives that are predicted positive.

    `tp / (tp + fn)` over everything seen since the last reset, 0 when there were no
    positives. A label counts as positive when it is not 0.

    Args:
        thresholds: a float in [0, 1]: a prediction above it is positive (default 0.5, or
            with `top_k` none). A list gives one recall per threshold.
        top_k: only the `top_k` highest scores of each row can be positive.
        class_id: measure this one class of (batch, classes) predictions.
        name: the metric's name in the logs.
        dtype: the dtype of the result.

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.Recall()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.5
    """
    _counts = ("tp", "fn")

    def result(self, state=None):
        return self._ratio(self._current(state), "fn")


KERAS_EPSILON = 1e-7


class FBetaScore(Metric):
    """Keras FBetaScore: the weighted harmonic mean of precision and recall, per class.

    `(1 + beta^2) * precision * recall / (beta^2 * precision + recall)` for one-hot (or
    multi-label) targets and scores of shape (batch, classes).

    Args:
        average: None (one score per class), "micro" (one score from the counts of all
            classes), "macro" (the mean of the class scores) or "weighted" (their mean
            weighted by each class's number of positives).
        beta: how much more recall counts than precision (a float > 0).
        threshold: a score above it is positive; None: each row's highest score is the
            positive (Keras's rule, including its 1e-9 floor).
        name: the metric's name in the logs.
        dtype: the dtype of the result.

    Raises:
        ValueError: `average`, `beta` or `threshold` is not one of the values above, or (at
            the first batch) targets and predictions are not of shape (batch, classes).

    Examples:
        >>> y_true = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype="float32")
        >>> y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]], dtype="float32")
        >>> m = metrics.FBetaScore(beta=2.0, threshold=0.5)
        >>> m.update_state(y_true, y_pred)
        >>> print(np.asarray(m.result()).round(4))
        [1. 1. 0.]
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score",
                 dtype="float32"):
        super().__init__(name=name, dtype=dtype)
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError(f"{type(self).__name__} '{self.name}': average must be one of None, "
                             f"'micro', 'macro', 'weighted', received {average!r}")
        if not isinstance(beta, float) or beta <= 0:
            raise ValueError(f"{type(self).__name__} '{self.name}': beta must be a float > 0, "
                             f"received {beta!r}")
        if threshold is not None and (not isinstance(threshold, float)
                                      or not 0.0 < threshold <= 1.0):
            raise ValueError(f"{type(self).__name__} '{self.name}': threshold must be a float in "
                             f"(0, 1], received {threshold!r}")
        self.average, self.beta, self.threshold = average, beta, threshold
        self.num_classes = None

    def build(self, y_true_shape, y_pred_shape):
        if len(y_pred_shape) != 2 or len(y_true_shape) != 2 or y_pred_shape[-1] is None:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects targets and "
                             f"predictions of shape (batch, classes), received "
                             f"y_true {tuple(y_true_shape)} and y_pred {tuple(y_pred_shape)}")
        self.num_classes = int(y_pred_shape[-1])

    def init(self):
        if self.num_classes is None:
            raise ValueError(f"{type(self).__name__} '{self.name}' does not know its number of "
                             f"classes yet: call build(y_true_shape, y_pred_shape) first")
        zeros = jnp.zeros(() if self.average == "micro" else (self.num_classes,), jnp.float32)
        return {"tp": zeros, "fp": zeros, "fn": zeros, "weights": zeros}

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_true, y_pred = as_float(y_true), as_float(y_pred)
        if self.threshold is None:
            top = jnp.max(y_pred, axis=-1, keepdims=True)
            y_pred = (y_pred >= top) & (jnp.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.astype(jnp.float32)
        axis = None if self.average == "micro" else 0

        def total(v):
            if sample_weight is not None:
                v = v * as_float(sample_weight).reshape(-1, 1)
            return jnp.sum(v, axis=axis)
        return {"tp": state["tp"] + total(y_pred * y_true),
                "fp": state["fp"] + total(y_pred * (1 - y_true)),
                "fn": state["fn"] + total((1 - y_pred) * y_true),
                "weights": state["weights"] + total(y_true)}

    def result(self, state=None):
        s = self._current(state)
        precision = s["tp"] / (s["tp"] + s["fp"] + KERAS_EPSILON)
        recall = s["tp"] / (s["tp"] + s["fn"] + KERAS_EPSILON)
        beta2 = self.beta ** 2
        score = precision * recall / (beta2 * precision + recall + KERAS_EPSILON) * (1 + beta2)
        if self.average == "weighted":
            return jnp.sum(score * s["weights"] / (jnp.sum(s["weights"]) + KERAS_EPSILON))
        if self.average is not None:
            return jnp.mean(score)
        return score

    def get_config(self):
        return {**super().get_config(), "average": self.average, "beta": self.beta,
                "threshold": self.threshold}


class F1Score(FBetaScore):
    """Keras F1Score: the harmonic mean of precision and recall (`FBetaScore` with beta 1).

    Args:
        average: None, "micro", "macro" or "weighted", as for `FBetaScore`.
        threshold: a score above it is positive; None: each row's highest score.
        name: the metric's name in the logs.
        dtype: the dtype of the result.

    Examples:
        >>> y_true = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype="float32")
        >>> y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]], dtype="float32")
        >>> m = metrics.F1Score(threshold=0.5)
        >>> m.update_state(y_true, y_pred)
        >>> print(np.asarray(m.result()).round(4))
        [1. 1. 0.]
    """

    def __init__(self, average=None, threshold=None, name="f1_score", dtype="float32"):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


class MeanIoU(Metric):
    """Keras MeanIoU: the intersection over union of each class, averaged over classes.

    Keeps a (num_classes, num_classes) confusion matrix of class indices; the result is the
    mean, over the classes that occur, of `tp / (tp + fp + fn)`. Labels outside
    [0, num_classes) and `ignore_class` are left out.

    Args:
        num_classes: the number of classes (>= 1).
        name: the metric's name in the logs (default "mean_io_u").
        dtype: the dtype of the result.
        ignore_class: a label left out of the count (e.g. a "void" class), or None.
        sparse_y_true: True: targets are class indices; False: scores, argmax over `axis`.
        sparse_y_pred: the same for predictions.
        axis: the class axis of non-sparse targets or predictions.

    Examples:
        >>> y_true = np.array([0, 1, 2, 2])
        >>> y_pred = np.array([0, 1, 1, 2])
        >>> m = metrics.MeanIoU(num_classes=3)
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.6667
    """

    def __init__(self, num_classes, name=None, dtype="float32", ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name or "mean_io_u", dtype=dtype)
        if int(num_classes) < 1:
            raise ValueError(f"MeanIoU '{self.name}': num_classes must be >= 1, received "
                             f"{num_classes}")
        self.num_classes, self.ignore_class = int(num_classes), ignore_class
        self.sparse_y_true, self.sparse_y_pred, self.axis = sparse_y_true, sparse_y_pred, axis

    def init(self):
        return {"cm": jnp.zeros((self.num_classes, self.num_classes), jnp.float32)}

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_true, y_pred = jnp.asarray(y_true), jnp.asarray(y_pred)
        if not self.sparse_y_true:
            y_true = jnp.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = jnp.argmax(y_pred, axis=self.axis)
        # Keras casts to the metric dtype (float32) and back: labels truncate toward zero.
        y_true = as_float(y_true).reshape(-1).astype(jnp.int32)
        y_pred = as_float(y_pred).reshape(-1).astype(jnp.int32)
        weight = (jnp.ones(y_true.shape, jnp.float32) if sample_weight is None
                  else jnp.broadcast_to(as_float(sample_weight).reshape(-1), y_true.shape))
        n = self.num_classes
        valid = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            valid = valid & (y_true != int(self.ignore_class))
        weight = jnp.where(valid, weight, 0.0)
        index = jnp.where(valid, y_true, 0) * n + jnp.where(valid, y_pred, 0)
        cm = jnp.zeros((n * n,), jnp.float32).at[index].add(weight).reshape(n, n)
        return {"cm": state["cm"] + cm}

    def result(self, state=None):
        cm = self._current(state)["cm"]
        tp = jnp.diagonal(cm)
        denominator = cm.sum(0) + cm.sum(1) - tp
        valid = denominator > 1e-9
        iou = jnp.where(valid, tp / (denominator + KERAS_EPSILON), 0.0)
        return jnp.sum(iou) / (jnp.sum(valid.astype(jnp.float32)) + KERAS_EPSILON)

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                "sparse_y_pred": self.sparse_y_pred, "axis": self.axis}


class AUC(Metric):
    """Keras AUC: confusion counts at `num_thresholds` thresholds, then a Riemann sum
    (ROC or PR curve; PR with "interpolation" uses Davis & Goadrich as Keras does).

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.AUC()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype="float32", thresholds=None, from_logits=False):
        super().__init__(name=name or "auc", dtype=dtype)
        curve, summation_method = str(curve).upper(), str(summation_method).lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(f"AUC '{self.name}': curve must be 'ROC' or 'PR', received {curve!r}")
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(f"AUC '{self.name}': summation_method must be 'interpolation', "
                             f"'minoring' or 'majoring', received {summation_method!r}")
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            num_thresholds = len(inner) + 2
        else:
            if int(num_thresholds) <= 1:
                raise ValueError(f"AUC '{self.name}': num_thresholds must be > 1, received "
                                 f"{num_thresholds}")
            inner = [(i + 1) / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self.num_thresholds = int(num_thresholds)
        self.curve, self.summation_method = curve, summation_method
        self.from_logits = bool(from_logits)
        self._init_thresholds = None if thresholds is None else list(thresholds)
        self.thresholds = np.array([0.0 - 1e-7] + inner + [1.0 + 1e-7], dtype=np.float32)

    def init(self):
        """Confusion counts (true/false positives/negatives) per threshold, all zero."""
        zeros = jnp.zeros((self.num_thresholds,), jnp.float32)
        return {"tp": zeros, "fp": zeros, "tn": zeros, "fn": zeros}

    def update(self, state, y_true, y_pred, sample_weight=None):
        """Add one batch's confusion counts at every threshold."""
        if self.from_logits:
            y_pred = 1.0 / (1.0 + jnp.exp(-as_float(y_pred)))
        tp, fp, tn, fn = confusion_counts(y_true, y_pred, sample_weight, self.thresholds)
        return {"tp": state["tp"] + tp, "fp": state["fp"] + fp,
                "fn": state["fn"] + fn, "tn": state["tn"] + tn}

    def result(self, state=None):
        """The area under the ROC or PR curve from the counts so far."""
        s = self._current(state)
        tp, fp, tn, fn = s["tp"], s["fp"], s["tn"], s["fn"]
        if self.curve == "PR" and self.summation_method == "interpolation":
            return _interpolated_pr_auc(tp, fp, fn)
        recall = divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = divide_no_nan(fp, fp + tn), recall
        else:
            x, y = recall, divide_no_nan(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = jnp.minimum(y[:-1], y[1:])
        else:
            heights = jnp.maximum(y[:-1], y[1:])
        return jnp.sum((x[:-1] - x[1:]) * heights)

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "curve": self.curve, "summation_method": self.summation_method,
                "thresholds": self._init_thresholds, "from_logits": self.from_logits}


def divide_no_nan(a, b):
    """`a / b`, 0 where `b` is 0 (Keras's divide_no_nan)."""
    return jnp.where(b == 0, 0.0, a / jnp.where(b == 0, 1.0, b))


def _interpolated_pr_auc(tp, fp, fn):
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = divide_no_nan(dtp, jnp.maximum(dp, 0.0))
    intercept = tp[1:] - slope * p[1:]
    ratio = jnp.where((p[:-1] > 0) & (p[1:] > 0), divide_no_nan(p[:-1], jnp.maximum(p[1:], 0.0)), 1.0)
    return jnp.sum(divide_no_nan(slope * (dtp + intercept * jnp.log(ratio)),
                           jnp.maximum(tp[1:] + fn[1:], 0.0)))
