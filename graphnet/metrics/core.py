"""The sample-weighted mean metrics (Keras's Mean, Sum and the MeanMetricWrapper family),
built on one function per sample."""
import jax.numpy as jnp

from .. import losses
from ..losses import match_weight
from .base import Metric
from .functions import (as_float, binary_accuracy, categorical_accuracy, accuracy,
                        sparse_categorical_accuracy, sparse_top_k_categorical_accuracy,
                        squared_error, top_k_categorical_accuracy)


def reduce_to_samplewise(values, sample_weight, reduce):
    """Keras's reduce_to_samplewise_values: per-sample values (and weights) for a batch,
    the extra axes reduced with `reduce` (mean for Mean, sum for Sum)."""
    values = as_float(values)
    if sample_weight is not None:
        weight = as_float(sample_weight)
        values, weight = match_weight(values, weight)
        if values.ndim > weight.ndim:
            values = reduce(values, axis=tuple(range(weight.ndim, values.ndim)))
        weight = jnp.broadcast_to(weight, values.shape)
        values = values * weight
        if weight.ndim > 1:
            weight = reduce(weight, axis=tuple(range(1, weight.ndim)))
        sample_weight = weight
    if values.ndim > 1:
        values = reduce(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


class _ValuesMetric(Metric):
    """A metric of values (Keras's Mean and Sum): `update_state(values, sample_weight=None)`."""

    def update_state(self, values, sample_weight=None):
        """Fold a batch of values (weighted by `sample_weight`) into the metric's state."""
        state = self.init() if self._state is None else self._state
        self._state = self.update(state, jnp.asarray(values),
                                  None if sample_weight is None else jnp.asarray(sample_weight))

    update_state.pure_form = True


class Sum(_ValuesMetric):
    """Keras Sum: the (weighted) sum of every value seen since the last reset.

    Examples:
        >>> m = metrics.Sum()
        >>> m.update_state([1.0, 2.0, 6.0])
        >>> float(m.result())
        9.0
    """

    def __init__(self, name="sum", dtype="float32"):
        super().__init__(name=name, dtype=dtype)

    def init(self):
        """A running total."""
        return {"total": jnp.zeros((), jnp.float32)}

    def update(self, state, values, sample_weight=None):
        """Add one batch's values, each multiplied by its weight."""
        values, _ = reduce_to_samplewise(values, sample_weight, jnp.sum)
        return {"total": state["total"] + jnp.sum(values)}

    def result(self, state=None):
        """The total so far."""
        return self._current(state)["total"]


class Mean(_ValuesMetric):
    """Keras Mean: the (weighted) mean of every value seen since the last reset.

    The count is the number of samples (or the sum of their weights), so a batch of
    (batch, n) values adds each row's mean once: Keras's rule, not numpy's mean of all
    the numbers.

    Examples:
        >>> m = metrics.Mean()
        >>> m.update_state([1.0, 2.0, 6.0])
        >>> float(m.result())
        3.0
    """

    def __init__(self, name="mean", dtype="float32"):
        super().__init__(name=name, dtype=dtype)

    def init(self):
        """A running (weighted sum, count) pair."""
        return {"total": jnp.zeros((), jnp.float32), "count": jnp.zeros((), jnp.float32)}

    def update(self, state, values, sample_weight=None):
        """Add one batch's per-sample values (weighted by `sample_weight`)."""
        values, weight = reduce_to_samplewise(values, sample_weight, jnp.mean)
        if weight is None:
            count = jnp.asarray(values.shape[0] if values.ndim else 1, jnp.float32)
        else:
            count = jnp.sum(weight)
        return {"total": state["total"] + jnp.sum(values), "count": state["count"] + count}

    def result(self, state=None):
        """The weighted mean so far (0 before any value)."""
        state = self._current(state)
        return jnp.where(state["count"] == 0, 0.0,
                         state["total"] / jnp.where(state["count"] == 0, 1.0, state["count"]))


class MeanMetricWrapper(Mean):
    """Keras MeanMetricWrapper: the sample-weighted mean of `fn(y_true, y_pred, **kwargs)`.

    Examples:
        >>> def abs_error(y_true, y_pred):
        ...     return ops.mean(ops.abs(y_true - y_pred), axis=-1)
        ...
        >>> m = metrics.MeanMetricWrapper(abs_error, name="abs_error")
        >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
        >>> y_pred = np.array([[0.5, 0.8], [0.9, 0.2]], dtype="float32")
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.4
    """

    def __init__(self, fn, name=None, dtype="float32", **kwargs):
        Metric.__init__(self, name=name or getattr(fn, "__name__", None), dtype=dtype)
        self.fn = fn
        self.fn_kwargs = kwargs

    def update(self, state, y_true, y_pred, sample_weight=None):
        """Add one batch's per-sample values of `fn` (weighted by `sample_weight`)."""
        return Mean.update(self, state, self.fn(y_true, y_pred, **self.fn_kwargs), sample_weight)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Fold one batch into the metric's own state (Keras's stateful form)."""
        Metric.update_state(self, y_true, y_pred, sample_weight)

    update_state.pure_form = True

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {**super().get_config(), **self.fn_kwargs}


def mean_wrapper_init(fn, default_name, arg_names=()):
    """The `__init__(name, dtype, **kwargs)` of a MeanMetricWrapper class over `fn`: only
    the keyword arguments in `arg_names` (with their defaults), as Keras's signatures."""
    defaults = dict(arg_names)

    def __init__(self, name=default_name, dtype="float32", **kwargs):
        unknown = set(kwargs) - set(defaults)
        if unknown:
            raise TypeError(f"{type(self).__name__}() got unexpected keyword argument(s) "
                            f"{sorted(unknown)}")
        MeanMetricWrapper.__init__(self, fn, name=name, dtype=dtype, **{**defaults, **kwargs})
    return __init__


class Accuracy(MeanMetricWrapper):
    """Keras's `"accuracy"`: the fraction of predictions that equal the labels.

    Examples:
        >>> y_true = np.array([1, 2, 3, 4])
        >>> y_pred = np.array([1, 2, 0, 4])
        >>> m = metrics.Accuracy()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.75
    """
    __init__ = mean_wrapper_init(accuracy, "accuracy")


class BinaryAccuracy(MeanMetricWrapper):
    """The fraction of 0/1 labels matched by `y_pred > threshold`.

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.BinaryAccuracy()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.75
    """
    __init__ = mean_wrapper_init(binary_accuracy, "binary_accuracy", (("threshold", 0.5),))


class CategoricalAccuracy(MeanMetricWrapper):
    """The fraction of samples whose argmax matches the one-hot label.

    Examples:
        >>> y_true = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype="float32")
        >>> y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]], dtype="float32")
        >>> m = metrics.CategoricalAccuracy()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """
    __init__ = mean_wrapper_init(categorical_accuracy, "categorical_accuracy")


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """The fraction of samples whose argmax matches the integer label.

    Examples:
        >>> y_true = np.array([1, 0])
        >>> y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]], dtype="float32")
        >>> m = metrics.SparseCategoricalAccuracy()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """
    __init__ = mean_wrapper_init(sparse_categorical_accuracy, "sparse_categorical_accuracy")


class MeanSquaredError(MeanMetricWrapper):
    """The mean squared error, as a metric (averaged over the epoch).

    Examples:
        >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
        >>> y_pred = np.array([[0.5, 0.8], [0.9, 0.2]], dtype="float32")
        >>> m = metrics.MeanSquaredError()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.235
    """
    __init__ = mean_wrapper_init(losses.mean_squared_error, "mean_squared_error")


class MeanAbsoluteError(MeanMetricWrapper):
    """The mean absolute error, as a metric (averaged over the epoch).

    Examples:
        >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
        >>> y_pred = np.array([[0.5, 0.8], [0.9, 0.2]], dtype="float32")
        >>> m = metrics.MeanAbsoluteError()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.4
    """
    __init__ = mean_wrapper_init(losses.mean_absolute_error, "mean_absolute_error")


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """The fraction of samples whose one-hot label is among the `k` (default 5) highest scores.

    Examples:
        >>> y_true = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype="float32")
        >>> y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]], dtype="float32")
        >>> m = metrics.TopKCategoricalAccuracy(k=2)
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """
    __init__ = mean_wrapper_init(top_k_categorical_accuracy, "top_k_categorical_accuracy", (("k", 5),))


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """The fraction of samples whose integer label is among the `k` (default 5) highest
    scores (`from_sorted_ids=True`: `y_pred` already holds class ids, best first).

    Examples:
        >>> y_true = np.array([1, 0])
        >>> y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]], dtype="float32")
        >>> m = metrics.SparseTopKCategoricalAccuracy(k=2)
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """
    __init__ = mean_wrapper_init(sparse_top_k_categorical_accuracy, "sparse_top_k_categorical_accuracy",
                        (("k", 5), ("from_sorted_ids", False)))


class RootMeanSquaredError(MeanMetricWrapper):
    """Keras RootMeanSquaredError: the square root of the (weighted) mean squared error
    over everything seen since the last reset (not the mean of per-batch roots).

    Examples:
        >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], dtype="float32")
        >>> y_pred = np.array([[0.5, 0.8], [0.9, 0.2]], dtype="float32")
        >>> m = metrics.RootMeanSquaredError()
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.4848
    """
    __init__ = mean_wrapper_init(squared_error, "root_mean_squared_error")

    def result(self, state=None):
        return jnp.sqrt(super().result(state))
