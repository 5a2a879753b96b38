"""Metrics with Keras 3's names and numerics, as pure (init, update, result) triples.

`fit` threads each metric's state through the compiled step, so a metric costs no host
round trip; `update_state` / `result()` / `reset_state()` give Keras's stateful use outside.
"""
import jax.numpy as jnp
import numpy as np

from . import losses
from .losses import match_ranks
from .naming import snake_case
from . import registry
from .registry import lookup
from .variables import CallScope, Variable, unique_name


def _as_float(x):
    x = jnp.asarray(x)
    return x if x.dtype == jnp.float32 else x.astype(jnp.float32)


# ---- per-sample functions (Keras's accuracy functions) ---------------------------------
def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Per sample: 1.0 where (y_pred > threshold) equals the 0/1 label, else 0.0."""
    y_true, y_pred = match_ranks(_as_float(y_true), _as_float(y_pred))
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
    y_true, y_pred = match_ranks(_as_float(y_true), _as_float(y_pred))
    return (y_true == y_pred).astype(jnp.float32)


def _in_top_k(targets, predictions, k):
    """Keras's in_top_k: the target's score is beaten by fewer than k others (NaN never
    counts as a high score)."""
    at_label = jnp.take_along_axis(predictions, targets[..., None], axis=-1)
    at_label = jnp.where(jnp.isnan(at_label), -jnp.inf, at_label)
    return jnp.sum(predictions > at_label, axis=-1) + 1 <= k


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1 where the one-hot target's class is among the k highest scores."""
    y_pred = _as_float(y_pred)
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
        y_pred = _as_float(y_pred)
        if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
            y_true = y_true[..., 0]
        hits = _in_top_k(y_true.astype(jnp.int32), y_pred, k)
    return hits.astype(jnp.float32)


def squared_error(y_true, y_pred):
    """Element-wise (y_pred - y_true)^2 (RootMeanSquaredError averages it over everything)."""
    y_true, y_pred = match_ranks(_as_float(y_true), _as_float(y_pred))
    return jnp.square(y_pred - y_true)


# ---- metric objects ----------------------------------------------------------------------
class Metric:
    """Keras Metric, in either of two forms.

    graphnet's pure triple over a pytree state of float32 arrays: `init() -> state`,
    `update(state, y_true, y_pred, sample_weight) -> state`, `result(state) -> scalar`.

    Keras's form: variables made with `self.add_weight(...)` in `__init__`, and
    `update_state(y_true, y_pred, sample_weight=None)` assigning them, `result()` reading
    them. Inside `fit` the variables stand for the traced state (the same mechanism as a
    Keras-form layer's weights), so the metric runs in the compiled step.
    """
    _keras_form = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._keras_form = cls.update_state is not Metric.update_state
        if cls._keras_form and "result" in vars(cls):
            cls.result = _result_of_state(vars(cls)["result"])

    def __init__(self, name=None, dtype="float32"):
        self.name = name or snake_case(type(self).__name__)
        self.dtype = dtype or "float32"
        self._state = None
        self._variables = []
        self._values = {}
        self._initial = {}

    def build(self, y_true_shape, y_pred_shape):
        """Called with the target and prediction shapes (batch axis first) before `init`,
        by `compile`/`fit` and by the first `update_state`: a metric whose state size
        depends on them (F1Score's classes) sets it here."""

    def init(self):
        """The metric's initial state, a pytree (e.g. running sums); pure form."""
        if self._keras_form:
            return dict(self._initial)
        raise NotImplementedError(f"{type(self).__name__} must define init()")

    def update(self, state, y_true, y_pred, sample_weight=None):
        """The state after one batch: a pure function, traced inside the compiled step."""
        if self._keras_form:
            with CallScope() as scope:
                scope.bind(self, {}, state)
                self.update_state(y_true, y_pred, sample_weight=sample_weight)
                return scope.state_of(self)
        raise NotImplementedError(f"{type(self).__name__} must define update()")

    def result(self, state=None):
        """The metric's value from a state (or from the metric's own, outside `fit`)."""
        raise NotImplementedError(f"{type(self).__name__} must define result(state)")

    # ---- Keras's form: variables ------------------------------------------------------
    def add_weight(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                   name=None):
        """Keras `Metric.add_weight`: a non-trainable variable of the metric's state."""
        from . import initializers
        name = unique_name(self._variables, name)
        dtype = np.dtype(dtype or self.dtype)
        value = jnp.asarray(initializers.get(initializer)(tuple(shape), dtype.name, None), dtype)
        variable = Variable(self, name, tuple(shape), dtype, False, initializer)
        self._variables.append(variable)
        self._values[name] = self._initial[name] = value
        return variable

    def _own_values(self, collection):
        return self._values

    def _set_own_values(self, collection, values):
        self._values = values

    @property
    def variables(self) -> list:
        """The metric's state variables (Keras's form)."""
        return list(self._variables)

    # Keras's stateful API, for use outside `fit`.
    def update_state(self, y_true, y_pred, sample_weight=None):
        """Keras's stateful form: fold one batch into the metric's own state."""
        if self._state is None:
            self.build(tuple(np.shape(y_true)), tuple(np.shape(y_pred)))
        state = self.init() if self._state is None else self._state
        self._state = self.update(state, jnp.asarray(y_true), jnp.asarray(y_pred),
                                  None if sample_weight is None else jnp.asarray(sample_weight))

    def reset_state(self):
        """Forget everything seen so far (Keras's stateful form)."""
        self._state = None
        if self._keras_form:
            self._values = dict(self._initial)

    def _current(self, state):
        if state is not None:
            return state
        return self.init() if self._state is None else self._state

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        """A new metric (fresh state) from the dict `get_config` returned."""
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name='{self.name}'>"


def _result_of_state(user_result):
    """A Keras-form `result()` that `fit` can also call on a traced state."""
    def result(self, state=None):
        if state is None:
            return user_result(self)
        with CallScope() as scope:
            scope.bind(self, {}, state)
            return user_result(self)
    result.__doc__ = user_result.__doc__
    result.__wrapped__ = user_result
    return result


class MeanMetricWrapper(Metric):
    """The sample-weighted mean of `fn(y_true, y_pred)` per sample (Keras's reduction)."""

    def __init__(self, fn, name=None, dtype="float32", **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), dtype=dtype)
        self.fn = fn
        self.fn_kwargs = kwargs

    def init(self):
        """A running (weighted sum, count) pair."""
        return {"total": jnp.zeros((), jnp.float32), "count": jnp.zeros((), jnp.float32)}

    def update(self, state, y_true, y_pred, sample_weight=None):
        """Add one batch's per-sample values (weighted by `sample_weight`)."""
        values = _as_float(self.fn(y_true, y_pred, **self.fn_kwargs))
        if sample_weight is None:
            values = values.reshape(values.shape[0], -1).mean(-1) if values.ndim > 1 else values
            count = jnp.asarray(values.shape[0] if values.ndim else 1, jnp.float32)
            return {"total": state["total"] + jnp.sum(values), "count": state["count"] + count}
        weight = _as_float(sample_weight)
        values, weight = match_ranks(values, weight)
        if values.ndim > weight.ndim:
            values = values.mean(axis=tuple(range(weight.ndim, values.ndim)))
        weight = jnp.broadcast_to(weight, values.shape)
        values = values * weight
        if weight.ndim > 1:
            weight = weight.mean(axis=tuple(range(1, weight.ndim)))
            values = values.mean(axis=tuple(range(1, values.ndim)))
        return {"total": state["total"] + jnp.sum(values),
                "count": state["count"] + jnp.sum(weight)}

    def result(self, state=None):
        """The weighted mean so far."""
        state = self._current(state)
        return jnp.where(state["count"] == 0, 0.0, state["total"] / state["count"])

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {**super().get_config(), **self.fn_kwargs}


def _wrapper(fn, default_name, arg_names=()):
    defaults = dict(arg_names)

    def __init__(self, name=default_name, dtype="float32", **kwargs):
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) "
                            f"{sorted(unknown)}")
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **{**defaults, **kwargs})
    return __init__


class Accuracy(MeanMetricWrapper):
    """Keras's `"accuracy"`: the fraction of predictions that equal the labels."""
    __init__ = _wrapper(accuracy, "accuracy")


class BinaryAccuracy(MeanMetricWrapper):
    """The fraction of 0/1 labels matched by `y_pred > threshold`."""
    __init__ = _wrapper(binary_accuracy, "binary_accuracy", (("threshold", 0.5),))


class CategoricalAccuracy(MeanMetricWrapper):
    """The fraction of samples whose argmax matches the one-hot label."""
    __init__ = _wrapper(categorical_accuracy, "categorical_accuracy")


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """The fraction of samples whose argmax matches the integer label."""
    __init__ = _wrapper(sparse_categorical_accuracy, "sparse_categorical_accuracy")


class MeanSquaredError(MeanMetricWrapper):
    """The mean squared error, as a metric (averaged over the epoch)."""
    __init__ = _wrapper(losses.mean_squared_error, "mean_squared_error")


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean absolute error, as a metric (averaged over the epoch)."""
    __init__ = _wrapper(losses.mean_absolute_error, "mean_absolute_error")


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """The fraction of samples whose one-hot label is among the `k` (default 5) highest scores."""
    __init__ = _wrapper(top_k_categorical_accuracy, "top_k_categorical_accuracy", (("k", 5),))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """The fraction of samples whose integer label is among the `k` (default 5) highest
    scores (`from_sorted_ids=True`: `y_pred` already holds class ids, best first)."""
    __init__ = _wrapper(sparse_top_k_categorical_accuracy, "sparse_top_k_categorical_accuracy",
                        (("k", 5), ("from_sorted_ids", False)))


class RootMeanSquaredError(MeanMetricWrapper):
    """Keras RootMeanSquaredError: the square root of the (weighted) mean squared error
    over everything seen since the last reset (not the mean of per-batch roots)."""
    __init__ = _wrapper(squared_error, "root_mean_squared_error")

    def result(self, state=None):
        return jnp.sqrt(super().result(state))


NEG_INF = -1e10     # Keras's stand-in for "not in the top k"


def _confusion_counts(y_true, y_pred, sample_weight, thresholds, top_k=None, class_id=None):
    """Keras's update_confusion_matrix_variables (one label set): per threshold, the
    weighted counts of (tp, fp, tn, fn) with positive = `y_pred > threshold`, label =
    `y_true != 0`; `top_k` keeps each row's k best scores, `class_id` one column."""
    y_true, y_pred = match_ranks(_as_float(y_true), _as_float(y_pred))
    if top_k is not None:
        # rank of each score in its row, ties to the lower index (as lax.top_k picks)
        rank = jnp.argsort(jnp.argsort(-y_pred, axis=-1, stable=True), axis=-1, stable=True)
        y_pred = jnp.where(rank < top_k, y_pred, NEG_INF)
    weight = jnp.ones_like(y_pred)
    if sample_weight is not None:
        w = _as_float(sample_weight)
        w = w.reshape(w.shape + (1,) * max(y_pred.ndim - w.ndim, 0))
        weight = jnp.broadcast_to(w, y_pred.shape)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(f"class_id={class_id} needs predictions of shape (batch, classes), "
                             f"received shape {y_pred.shape}")
        y_true, y_pred, weight = (a[..., class_id] for a in (y_true, y_pred, weight))
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
        counts = dict(zip(("tp", "fp", "tn", "fn"), _confusion_counts(
            y_true, y_pred, sample_weight, self.thresholds, self.top_k, self.class_id)))
        return {name: state[name] + counts[name] for name in self._counts}

    def _ratio(self, state, other):
        value = _divide(state["tp"], state["tp"] + state[other])
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
        y_true, y_pred = _as_float(y_true), _as_float(y_pred)
        if self.threshold is None:
            top = jnp.max(y_pred, axis=-1, keepdims=True)
            y_pred = (y_pred >= top) & (jnp.abs(y_pred) > 1e-9)
        else:
            y_pred = y_pred > self.threshold
        y_pred = y_pred.astype(jnp.float32)
        axis = None if self.average == "micro" else 0

        def total(v):
            if sample_weight is not None:
                v = v * _as_float(sample_weight).reshape(-1, 1)
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
        y_true = _as_float(y_true).reshape(-1).astype(jnp.int32)
        y_pred = _as_float(y_pred).reshape(-1).astype(jnp.int32)
        weight = (jnp.ones(y_true.shape, jnp.float32) if sample_weight is None
                  else jnp.broadcast_to(_as_float(sample_weight).reshape(-1), y_true.shape))
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
    (ROC or PR curve; PR with "interpolation" uses Davis & Goadrich as Keras does)."""

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
            y_pred = 1.0 / (1.0 + jnp.exp(-_as_float(y_pred)))
        tp, fp, tn, fn = _confusion_counts(y_true, y_pred, sample_weight, self.thresholds)
        return {"tp": state["tp"] + tp, "fp": state["fp"] + fp,
                "fn": state["fn"] + fn, "tn": state["tn"] + tn}

    def result(self, state=None):
        """The area under the ROC or PR curve from the counts so far."""
        s = self._current(state)
        tp, fp, tn, fn = s["tp"], s["fp"], s["tn"], s["fn"]
        if self.curve == "PR" and self.summation_method == "interpolation":
            return _interpolated_pr_auc(tp, fp, fn)
        recall = _divide(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide(fp, fp + tn), recall
        else:
            x, y = recall, _divide(tp, tp + fp)
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


def _divide(a, b):
    return jnp.where(b == 0, 0.0, a / jnp.where(b == 0, 1.0, b))


def _interpolated_pr_auc(tp, fp, fn):
    dtp = tp[:-1] - tp[1:]
    p = tp + fp
    dp = p[:-1] - p[1:]
    slope = _divide(dtp, jnp.maximum(dp, 0.0))
    intercept = tp[1:] - slope * p[1:]
    ratio = jnp.where((p[:-1] > 0) & (p[1:] > 0), _divide(p[:-1], jnp.maximum(p[1:], 0.0)), 1.0)
    return jnp.sum(_divide(slope * (dtp + intercept * jnp.log(ratio)),
                           jnp.maximum(tp[1:] + fn[1:], 0.0)))


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
}
ACCURACY_NAMES = ("accuracy", "acc")
# Names that make a metric object of their own (Keras's strings for these classes).
NAMED_CLASSES = {"auc": "AUC", "precision": "Precision", "recall": "Recall",
                 "root_mean_squared_error": "RootMeanSquaredError",
                 "f1_score": "F1Score"}
_VALID = {**METRIC_FUNCTIONS, "accuracy": None, "acc": None, **NAMED_CLASSES}

CLASSES = {cls.__name__: cls for cls in (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, MeanSquaredError,
    MeanAbsoluteError, AUC, Precision, Recall, TopKCategoricalAccuracy,
    SparseTopKCategoricalAccuracy, RootMeanSquaredError, FBetaScore, F1Score, MeanIoU)}


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


def get(identifier, y_true_shape=None, y_pred_shape=None):
    """A Metric from a name (named as given, like Keras), a Metric, a class or a function.

    "accuracy"/"acc" need the target and output shapes to choose their kind.
    """
    metric = _get(identifier, y_true_shape, y_pred_shape)
    if y_true_shape is not None and y_pred_shape is not None:
        metric.build(tuple(y_true_shape), tuple(y_pred_shape))
    return metric


def _get(identifier, y_true_shape, y_pred_shape):
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, str):
        key = identifier.lower()
        lookup(_VALID, key, "metric")
        if key in ACCURACY_NAMES:
            if y_true_shape is None:
                raise ValueError(f"metric {identifier!r} is chosen per output from the shapes "
                                 f"of its target and prediction; pass them")
            return resolve_accuracy(identifier, y_true_shape, y_pred_shape)
        if key in NAMED_CLASSES:
            return CLASSES[NAMED_CLASSES[key]](name=identifier)
        return MeanMetricWrapper(METRIC_FUNCTIONS[key], name=identifier)
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise TypeError(f"A metric must be a string, a graphnet.metrics.Metric or a function "
                    f"(y_true, y_pred), received {identifier!r}")


KIND = registry.Kind("metric", CLASSES, METRIC_FUNCTIONS, MeanMetricWrapper)


def serialize(metric):
    """A metric name as given, or the registry's one shape for metric objects."""
    return metric if isinstance(metric, str) else registry.serialize(metric, KIND)


def deserialize(config):
    """A metric from the dict `serialize` made."""
    if isinstance(config, str):
        return config
    return registry.deserialize(config, KIND)
