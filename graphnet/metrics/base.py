"""The Metric base: graphnet's pure (init, update, result) triple, or Keras's form (variables
made with `add_weight`, assigned in `update_state`), both run inside the compiled step."""
import jax.numpy as jnp
import numpy as np

from ..naming import snake_case
from ..stateless import StatelessMetric, state_by_name, state_from
from ..variables import CallScope, Variable, unique_name


class Metric(StatelessMetric):
    """Keras Metric, in either of two forms.

    graphnet's pure triple over a pytree state of float32 arrays: `init() -> state`,
    `update(state, y_true, y_pred, sample_weight) -> state`, `result(state) -> scalar`.

    Keras's form: variables made with `self.add_weight(...)` in `__init__`, and
    `update_state(y_true, y_pred, sample_weight=None)` assigning them, `result()` reading
    them. Inside `fit` the variables stand for the traced state (the same mechanism as a
    Keras-form layer's weights), so the metric runs in the compiled step.

    Examples:
        >>> class Count(metrics.Metric):
        ...     def __init__(self, name="count", **kwargs):
        ...         super().__init__(name=name, **kwargs)
        ...         self.n = self.add_weight(shape=(), initializer="zeros", name="n")
        ...     def update_state(self, y_true, y_pred, sample_weight=None):
        ...         self.n.assign(self.n + ops.shape(y_true)[0])
        ...     def result(self):
        ...         return self.n
        ...
        >>> m = Count()
        >>> m.update_state(np.zeros((3, 1)), np.zeros((3, 1)))
        >>> float(m.result())
        3.0
    """
    _keras_form = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        cls._keras_form = not getattr(cls.update_state, "pure_form", False)
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
        from .. import initializers
        name = unique_name(self._variables, name)
        dtype = np.dtype(dtype or self.dtype)
        value = jnp.asarray(initializers.get(initializer)(tuple(shape), dtype.name, None), dtype)
        variable = Variable(self, name, tuple(shape), dtype, False, initializer)
        self._variables.append(variable)
        self._values[name] = self._initial[name] = value
        return variable

    @property
    def keras_form(self) -> bool:
        """Whether the metric is written Keras's way (`add_weight`, `update_state`)."""
        return self._keras_form

    def own_values(self, collection):
        """The state variables' values: what its `Variable`s read (a pure metric's are
        its state's leaves)."""
        if self._keras_form:
            return self._values
        return state_by_name(self._current(None))

    def set_own_values(self, collection, values):
        """Replaces the state variables' values (a `Variable`'s `assign`)."""
        if self._keras_form:
            self._values = values
        else:
            self._state = state_from(self._current(None), values)

    @property
    def variables(self) -> list:
        """Keras's `metric.variables`: the `add_weight` variables, or a pure metric's state
        leaves as variables (Keras's Mean: total, count), for the stateless methods."""
        if self._keras_form:
            return list(self._variables)
        return [Variable(self, name, np.shape(leaf), np.dtype(leaf.dtype), False)
                for name, leaf in state_by_name(self._current(None)).items()]

    # Keras's stateful API, for use outside `fit`.
    def update_state(self, y_true, y_pred, sample_weight=None):
        """Keras's stateful form: fold one batch into the metric's own state."""
        if self._state is None:
            self.build(tuple(np.shape(y_true)), tuple(np.shape(y_pred)))
        state = self.init() if self._state is None else self._state
        self._state = self.update(state, jnp.asarray(y_true), jnp.asarray(y_pred),
                                  None if sample_weight is None else jnp.asarray(sample_weight))

    update_state.pure_form = True

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
