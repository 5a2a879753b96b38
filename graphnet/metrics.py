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
from .variables import CallScope, Variable


def _as_float(x):
    x = jnp.asarray(x)
    return x if x.dtype == jnp.float32 else x.astype(jnp.float32)


# ---- per-sample functions (Keras's accuracy functions) ---------------------------------
def binary_accuracy(y_true, y_pred, threshold=0.5):
    y_true, y_pred = match_ranks(_as_float(y_true), _as_float(y_pred))
    return (y_true == (y_pred > threshold).astype(jnp.float32)).astype(jnp.float32)


def categorical_accuracy(y_true, y_pred):
    return (jnp.argmax(y_true, axis=-1) == jnp.argmax(y_pred, axis=-1)).astype(jnp.float32)


def sparse_categorical_accuracy(y_true, y_pred):
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

    def init(self):
        if self._keras_form:
            return dict(self._initial)
        raise NotImplementedError(f"{type(self).__name__} must define init()")

    def update(self, state, y_true, y_pred, sample_weight=None):
        if self._keras_form:
            with CallScope() as scope:
                scope.bind(self, {}, state)
                self.update_state(y_true, y_pred, sample_weight=sample_weight)
                return scope.state_of(self)
        raise NotImplementedError(f"{type(self).__name__} must define update()")

    def result(self, state=None):
        raise NotImplementedError(f"{type(self).__name__} must define result(state)")

    # ---- Keras's form: variables ------------------------------------------------------
    def add_weight(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                   name=None):
        """Keras `Metric.add_weight`: a non-trainable variable of the metric's state."""
        from . import initializers
        taken = {v.name for v in self._variables}
        base = name or "variable"
        name, count = base, 0
        while name in taken:
            count += 1
            name = f"{base}_{count}"
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
        return list(self._variables)

    # Keras's stateful API, for use outside `fit`.
    def update_state(self, y_true, y_pred, sample_weight=None):
        state = self.init() if self._state is None else self._state
        self._state = self.update(state, jnp.asarray(y_true), jnp.asarray(y_pred),
                                  None if sample_weight is None else jnp.asarray(sample_weight))

    def reset_state(self):
        self._state = None
        if self._keras_form:
            self._values = dict(self._initial)

    def _current(self, state):
        if state is not None:
            return state
        return self.init() if self._state is None else self._state

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
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
        return {"total": jnp.zeros((), jnp.float32), "count": jnp.zeros((), jnp.float32)}

    def update(self, state, y_true, y_pred, sample_weight=None):
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
        state = self._current(state)
        return jnp.where(state["count"] == 0, 0.0, state["total"] / state["count"])

    def get_config(self):
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
    __init__ = _wrapper(accuracy, "accuracy")


class BinaryAccuracy(MeanMetricWrapper):
    __init__ = _wrapper(binary_accuracy, "binary_accuracy", (("threshold", 0.5),))


class CategoricalAccuracy(MeanMetricWrapper):
    __init__ = _wrapper(categorical_accuracy, "categorical_accuracy")


class SparseCategoricalAccuracy(MeanMetricWrapper):
    __init__ = _wrapper(sparse_categorical_accuracy, "sparse_categorical_accuracy")


class MeanSquaredError(MeanMetricWrapper):
    __init__ = _wrapper(losses.mean_squared_error, "mean_squared_error")


class MeanAbsoluteError(MeanMetricWrapper):
    __init__ = _wrapper(losses.mean_absolute_error, "mean_absolute_error")


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
        zeros = jnp.zeros((self.num_thresholds,), jnp.float32)
        return {"tp": zeros, "fp": zeros, "tn": zeros, "fn": zeros}

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_true, y_pred = match_ranks(_as_float(y_true), _as_float(y_pred))
        if self.from_logits:
            y_pred = 1.0 / (1.0 + jnp.exp(-y_pred))
        if sample_weight is None:
            weight = jnp.ones_like(y_pred)
        else:
            w = _as_float(sample_weight)
            weight = jnp.broadcast_to(w.reshape(w.shape + (1,) * (y_pred.ndim - w.ndim)),
                                      y_pred.shape)
        labels, preds, weight = y_true.reshape(-1), y_pred.reshape(-1), weight.reshape(-1)
        above = (preds[None, :] > jnp.asarray(self.thresholds)[:, None]).astype(jnp.float32)
        pos, neg = labels * weight, (1.0 - labels) * weight
        tp = above @ pos
        fp = above @ neg
        return {"tp": state["tp"] + tp, "fp": state["fp"] + fp,
                "fn": state["fn"] + (jnp.sum(pos) - tp), "tn": state["tn"] + (jnp.sum(neg) - fp)}

    def result(self, state=None):
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
}
ACCURACY_NAMES = ("accuracy", "acc")
_VALID = {**METRIC_FUNCTIONS, "accuracy": None, "acc": None, "auc": None}

CLASSES = {cls.__name__: cls for cls in (
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy, MeanSquaredError,
    MeanAbsoluteError, AUC)}


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
        if key == "auc":
            return AUC(name=identifier)
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
    if isinstance(config, str):
        return config
    return registry.deserialize(config, KIND)
