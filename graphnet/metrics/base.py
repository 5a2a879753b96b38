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
        depends on them (F1Score's classes) sets it here.

        Args:
            y_true_shape: the targets' shape, a tuple.
            y_pred_shape: the predictions' shape, a tuple.

        Examples:
            >>> class Shapes(metrics.MeanSquaredError):
            ...     def build(self, y_true_shape, y_pred_shape):
            ...         print(y_true_shape, y_pred_shape)
            ...
            >>> m = Shapes()
            >>> m.update_state(np.zeros((2, 3), "float32"), np.ones((2, 3), "float32"))
            (2, 3) (2, 3)
            >>> m.update_state(np.zeros((2, 3), "float32"), np.ones((2, 3), "float32"))
        """

    def init(self):
        """The metric's initial state, a pytree (e.g. running sums); pure form.

        A Keras-form metric's is a dict of its `add_weight` variables' initial values.

        Examples:
            >>> state = metrics.Mean().init()
            >>> {name: float(value) for name, value in state.items()}
            {'total': 0.0, 'count': 0.0}
        """
        if self._keras_form:
            return dict(self._initial)
        raise NotImplementedError(f"{type(self).__name__} must define init()")

    def update(self, state, y_true, y_pred, sample_weight=None):
        """The state after one batch: a pure function, traced inside the compiled step.

        Args:
            state: the state so far (from `init` or an earlier `update`).
            y_true: the batch's targets.
            y_pred: the batch's predictions.
            sample_weight: optional per-sample weights.

        Returns:
            The new state, a pytree of the same structure; the metric itself is unchanged.

        Examples:
            >>> m = metrics.MeanSquaredError()
            >>> y_true = np.array([[0.0, 1.0]], "float32")
            >>> y_pred = np.array([[1.0, 1.0]], "float32")
            >>> state = m.update(m.init(), y_true, y_pred)
            >>> {name: float(value) for name, value in state.items()}  # (1 + 0) / 2 for 1 sample
            {'total': 0.5, 'count': 1.0}
            >>> float(m.result(state)), float(m.result())  # m's own state is still empty
            (0.5, 0.0)
        """
        if self._keras_form:
            with CallScope() as scope:
                scope.bind(self, {}, state)
                self.update_state(y_true, y_pred, sample_weight=sample_weight)
                return scope.state_of(self)
        raise NotImplementedError(f"{type(self).__name__} must define update()")

    def result(self, state=None):
        """The metric's value from a state (or from the metric's own, outside `fit`).

        Args:
            state: a state from `init`/`update`; None reads the metric's own state.

        Examples:
            >>> m = metrics.Mean()
            >>> float(m.result({"total": np.float32(6.0), "count": np.float32(4.0)}))
            1.5
            >>> m.update_state([1.0, 2.0])
            >>> float(m.result())
            1.5
        """
        raise NotImplementedError(f"{type(self).__name__} must define result(state)")

    # ---- Keras's form: variables ------------------------------------------------------
    def add_weight(self, shape=(), initializer="zeros", dtype=None, aggregation="sum",
                   name=None):
        """Keras `Metric.add_weight`: a non-trainable variable of the metric's state.

        Call it in `__init__`; `update_state` then `assign`s the variable and `result`
        reads it.

        Args:
            shape: the variable's shape (default a scalar).
            initializer: an initializer or its name (default "zeros").
            dtype: its dtype (default the metric's).
            aggregation: accepted for Keras compatibility; graphnet does not use it.
            name: its name, unique within the metric (a suffix is added when taken).

        Returns:
            The `Variable`.

        Raises:
            ValueError: `initializer` names no known initializer.

        Examples:
            >>> class ColumnSums(metrics.Metric):
            ...     def __init__(self, name="column_sums", **kwargs):
            ...         super().__init__(name=name, **kwargs)
            ...         self.total = self.add_weight(shape=(2,), initializer="ones", name="total")
            ...     def update_state(self, y_true, y_pred, sample_weight=None):
            ...         self.total.assign(self.total + ops.sum(y_pred, axis=0))
            ...     def result(self):
            ...         return self.total
            ...
            >>> m = ColumnSums()
            >>> m.update_state(None, np.array([[1.0, 2.0], [3.0, 4.0]], "float32"))
            >>> print(np.asarray(m.result()))          # ones + column sums [4, 6]
            [5. 7.]
        """
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
        """Whether the metric is written Keras's way (`add_weight`, `update_state`).

        Examples:
            >>> class Count(metrics.Metric):
            ...     def __init__(self):
            ...         super().__init__(name="count")
            ...         self.n = self.add_weight(name="n")
            ...     def update_state(self, y_true, y_pred, sample_weight=None):
            ...         self.n.assign(self.n + 1.0)
            ...     def result(self):
            ...         return self.n
            ...
            >>> Count().keras_form, metrics.Mean().keras_form
            (True, False)
        """
        return self._keras_form

    def own_values(self, collection):
        """The state variables' values: what its `Variable`s read (a pure metric's are
        its state's leaves).

        Args:
            collection: `"state"`, where a metric keeps its values (its variables are
                non-trainable).

        Returns:
            A dict of variable name to value.

        Examples:
            >>> m = metrics.Mean()
            >>> m.update_state([2.0, 4.0])
            >>> {name: float(value) for name, value in m.own_values("state").items()}
            {'total': 6.0, 'count': 2.0}
        """
        if self._keras_form:
            return self._values
        return state_by_name(self._current(None))

    def set_own_values(self, collection, values):
        """Replaces the state variables' values (a `Variable`'s `assign`).

        Args:
            collection: `"state"`, as in `own_values`.
            values: a dict of variable name to new value, every variable named.

        Examples:
            >>> m = metrics.Mean()
            >>> m.set_own_values("state", {"total": np.float32(6.0), "count": np.float32(4.0)})
            >>> float(m.result())
            1.5
        """
        if self._keras_form:
            self._values = values
        else:
            self._state = state_from(self._current(None), values)

    @property
    def variables(self) -> list:
        """Keras's `metric.variables`: the `add_weight` variables, or a pure metric's state
        leaves as variables (Keras's Mean: total, count), for the stateless methods.

        Examples:
            >>> [(v.name, v.shape) for v in metrics.Mean().variables]
            [('total', ()), ('count', ())]
        """
        if self._keras_form:
            return list(self._variables)
        return [Variable(self, name, np.shape(leaf), np.dtype(leaf.dtype), False)
                for name, leaf in state_by_name(self._current(None)).items()]

    # Keras's stateful API, for use outside `fit`.
    def update_state(self, y_true, y_pred, sample_weight=None):
        """Keras's stateful form: fold one batch into the metric's own state.

        Args:
            y_true: the batch's targets.
            y_pred: the batch's predictions.
            sample_weight: optional per-sample weights.

        Examples:
            >>> m = metrics.MeanSquaredError()
            >>> y_true = np.array([[0.0, 1.0], [1.0, 1.0]], "float32")
            >>> y_pred = np.array([[1.0, 1.0], [1.0, 3.0]], "float32")
            >>> m.update_state(y_true, y_pred)
            >>> float(m.result())            # per sample 0.5 and 2.0
            1.25
            >>> m.update_state(y_true, y_pred, sample_weight=np.array([1.0, 0.0], "float32"))
            >>> float(m.result())            # (0.5 + 2.0 + 0.5) / 3 samples counted
            1.0
        """
        if self._state is None:
            self.build(tuple(np.shape(y_true)), tuple(np.shape(y_pred)))
        state = self.init() if self._state is None else self._state
        self._state = self.update(state, jnp.asarray(y_true), jnp.asarray(y_pred),
                                  None if sample_weight is None else jnp.asarray(sample_weight))

    update_state.pure_form = True

    def reset_state(self):
        """Forget everything seen so far (Keras's stateful form).

        Examples:
            >>> m = metrics.Mean()
            >>> m.update_state([1.0, 3.0])
            >>> float(m.result())
            2.0
            >>> m.reset_state()
            >>> float(m.result())
            0.0
        """
        self._state = None
        if self._keras_form:
            self._values = dict(self._initial)

    def _current(self, state):
        if state is not None:
            return state
        return self.init() if self._state is None else self._state

    def get_config(self):
        """The constructor's arguments, for saving.

        Examples:
            >>> metrics.Mean(name="avg").get_config()
            {'name': 'avg', 'dtype': 'float32'}
        """
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        """A new metric (fresh state) from the dict `get_config` returned.

        Args:
            config: the dict `get_config` returned.

        Examples:
            >>> m = metrics.Mean.from_config({"name": "avg", "dtype": "float32"})
            >>> m.name, float(m.result())
            ('avg', 0.0)
        """
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
