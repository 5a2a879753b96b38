"""The base of the Keras-named optimizers: an optax transformation (Keras's clipping, then
the update rule, the learning rate kept in the state) plus its state and its config."""
import jax
import numpy as np
import optax

from . import rules, schedules
from .ema import check_ema, with_ema
from .stateless import StatelessOptimizer


def standard_promotion(tx):
    """`tx` run under JAX's standard dtype promotion: optax's bias corrections raise a float
    to an int32 count, which jax_numpy_dtype_promotion="strict" rejects."""
    def init(params):
        with jax.numpy_dtype_promotion("standard"):
            return tx.init(params)

    def update(updates, state, params=None, **extra):
        with jax.numpy_dtype_promotion("standard"):
            return tx.update(updates, state, params, **extra)
    return optax.GradientTransformationExtraArgs(init, update)


def check_learning_rate(owner, value):
    """A float >= 0 or a schedule (any callable of the step count)."""
    if callable(value):
        return value
    if isinstance(value, (str, bytes)) or not np.isscalar(value) and np.ndim(value) != 0:
        raise TypeError(f"{owner}: learning_rate must be a float or a schedule (a callable of "
                        f"the step count), received {value!r}")
    value = float(value)
    if not 0 <= value < np.inf:         # NaN or inf would turn every weight into NaN
        raise ValueError(f"{owner}: learning_rate must be a finite number >= 0, received "
                         f"{value}")
    return value


class Optimizer(StatelessOptimizer):
    """Base of the Keras-named optimizers: an optax transformation plus its state.

    With `use_ema=True` (Keras's `ema_momentum`, `ema_overwrite_frequency`) the state also
    holds the moving average of the weights, updated inside the compiled step; `fit` ends
    with the model holding the average, as Keras's, and `callbacks.SwapEMAWeights`
    evaluates with it.

    The transformation is Keras's clipping (clipnorm, global_clipnorm or clipvalue) followed
    by the update rule, with the learning rate kept in the state (`rules.LearningRateState`):
    `optimizer.learning_rate` reads the current rate and accepts a float or a schedule at
    any time, and a float change takes effect on the next step without a recompile.

    Examples:
        >>> model = graphnet.Sequential([graphnet.Input(shape=(2,)), layers.Dense(1)])
        >>> model.compile(optimizer=optimizers.SGD(learning_rate=0.01, momentum=0.9), loss="mse")
        >>> model.optimizer.learning_rate
        0.01
    """

    def __init__(self, learning_rate=0.001, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None):
        if use_ema:
            check_ema(type(self).__name__, ema_momentum, ema_overwrite_frequency)
        self.use_ema, self.ema_momentum = bool(use_ema), ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        if sum(c is not None for c in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(f"{type(self).__name__}: only one of clipnorm, clipvalue and "
                             f"global_clipnorm can be set (as in Keras)")
        self._learning_rate = check_learning_rate(type(self).__name__, learning_rate)
        self.clipnorm, self.clipvalue, self.global_clipnorm = clipnorm, clipvalue, global_clipnorm
        self.name = name or type(self).__name__.lower()
        self.state = None           # set by `fit`: the optax state of the trainable weights
        self._tx = None

    def _base(self, learning_rate) -> optax.GradientTransformation:
        raise NotImplementedError(f"{type(self).__name__} must define _base(learning_rate)")

    def _hyper(self) -> dict:
        return {}

    @property
    def tx(self) -> optax.GradientTransformation:
        """The optax transformation: Keras's clipping (if any), then the update rule.

        Built once, on first use; `fit` runs its `update` inside the compiled step.

        Examples:
            >>> opt = optimizers.SGD(learning_rate=0.1)
            >>> params = {"w": np.array([1.0, 2.0], "float32")}
            >>> grads = {"w": np.array([0.5, -1.0], "float32")}
            >>> updates, state = opt.tx.update(grads, opt.init(params), params)
            >>> print(np.asarray(updates["w"]))          # -0.1 * grads
            [-0.05  0.1 ]
            >>> print(params["w"] + np.asarray(updates["w"]))
            [0.95 2.1 ]
        """
        if self._tx is None:
            parts = []
            if self.clipnorm is not None:
                parts.append(rules.clip_by_norm(self.clipnorm))
            if self.global_clipnorm is not None:
                parts.append(rules.clip_by_global_norm(self.global_clipnorm))
            if self.clipvalue is not None:
                parts.append(rules.clip_by_value(self.clipvalue))
            parts.append(rules.inject_learning_rate(self._base, self._learning_rate))
            tx = parts[0] if len(parts) == 1 else optax.chain(*parts)
            if self.use_ema:        # the average lives in the state: updated in the step
                tx = with_ema(tx, self.ema_momentum, self.ema_overwrite_frequency)
            self._tx = standard_promotion(tx)
        return self._tx

    def init(self, params):
        """A fresh state for `params`, starting from the current learning rate; it also
        becomes `self.state`.

        Args:
            params: the pytree of weights the optimizer will update.

        Returns:
            The optax state: the update rule's slots (e.g. Adam's moments), the step count
            and the learning rate.

        Examples:
            >>> opt = optimizers.Adam(learning_rate=0.1)
            >>> params = {"w": np.array([1.0, 2.0], "float32")}
            >>> state = opt.init(params)
            >>> opt.state is state, opt.iterations
            (True, 0)
        """
        state = self.tx.init(params)
        state = rules.replace_learning_rate(state, self._learning_rate)
        self.state, self._built_for = state, None
        return state

    # ---- the learning rate, readable and settable in any form -----------------------------
    @property
    def learning_rate(self) -> float:
        """The rate of the next step (a schedule is evaluated at `iterations`).

        Setting it takes a float (the next steps use it, without a recompile) or a
        schedule; `lr` is the same property, Keras's older name.

        Raises:
            TypeError: the value set is neither a number nor a schedule (a string, or an
                array of several numbers).
            ValueError: the value set is negative, infinite or NaN.

        Examples:
            >>> opt = optimizers.SGD(learning_rate=0.1)
            >>> opt.learning_rate
            0.1
            >>> opt.learning_rate = 0.05
            >>> opt.lr
            0.05
        """
        if self.state is None:
            if callable(self._learning_rate):
                return float(self._learning_rate(0))
            return self._learning_rate
        return float(self._lr_state().current())

    @learning_rate.setter
    def learning_rate(self, value):
        """A float (the next steps use it; no recompile) or a schedule (the step is traced
        again once, then follows it from the current step count)."""
        self._learning_rate = check_learning_rate(self.name, value)
        if self.state is not None:
            self.state = rules.replace_learning_rate(self.state, self._learning_rate)

    lr = learning_rate

    @property
    def configured_learning_rate(self):
        """The learning rate as given: a float or a schedule (`learning_rate` is its value
        at the next step). Setting it stores it as it is; `learning_rate=` also updates
        the state.

        Examples:
            >>> schedule = optimizers.schedules.PiecewiseConstantDecay([10], [0.1, 0.01])
            >>> opt = optimizers.SGD(learning_rate=schedule)
            >>> opt.configured_learning_rate is schedule
            True
        """
        return self._learning_rate

    @configured_learning_rate.setter
    def configured_learning_rate(self, value):
        self._learning_rate = value

    def _lr_state(self):
        found = rules.find_learning_rate_states(self.state)
        if not found:
            raise ValueError(f"{self.name}: this optimizer state holds no learning rate")
        return found[0]

    @property
    def iterations(self) -> int:
        """Number of updates applied so far (Keras's optimizer.iterations), read from
        `self.state` (0 before `init`).

        Examples:
            >>> opt = optimizers.SGD(learning_rate=0.1)
            >>> opt.iterations
            0
            >>> params = {"w": np.zeros(2, "float32")}
            >>> grads = {"w": np.ones(2, "float32")}
            >>> _, opt.state = opt.tx.update(grads, opt.init(params), params)
            >>> opt.iterations
            1
        """
        if self.state is None:
            return 0
        return int(self._lr_state().count)

    def get_config(self) -> dict:
        """The constructor arguments (learning rate or schedule config, clipping,
        hyperparameters): what `save` writes.

        Raises:
            ValueError: the learning rate is a schedule that is neither built in nor registered.

        Examples:
            >>> config = optimizers.SGD(learning_rate=0.1, momentum=0.9).get_config()
            >>> config["learning_rate"], config["momentum"], config["clipnorm"]
            (0.1, 0.9, None)
            >>> schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
            >>> optimizers.SGD(learning_rate=schedule).get_config()["learning_rate"]["class_name"]
            'ExponentialDecay'
        """
        return {"learning_rate": _serialize_lr(self.name, self._learning_rate),
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm, "name": self.name,
                "use_ema": self.use_ema, "ema_momentum": self.ema_momentum,
                "ema_overwrite_frequency": self.ema_overwrite_frequency, **self._hyper()}

    @classmethod
    def from_config(cls, config):
        """A new optimizer (fresh state) from the dict `get_config` returned; a schedule's
        config becomes the schedule again.

        Args:
            config: the dict `get_config` returned.

        Examples:
            >>> config = optimizers.Adam(learning_rate=0.01, beta_1=0.8).get_config()
            >>> opt = optimizers.Adam.from_config(config)
            >>> opt.learning_rate, opt.beta_1, opt.iterations
            (0.01, 0.8, 0)
        """
        config = dict(config)
        config["learning_rate"] = _deserialize_lr(config.get("learning_rate", 0.001))
        return cls(**config)

    def scale_loss(self, loss, state):
        """The loss the training step differentiates: as it is (LossScaleOptimizer scales it).

        Args:
            loss: the step's loss (a traced scalar inside `fit`).
            state: the optimizer's state (where LossScaleOptimizer keeps its scale).

        Examples:
            >>> optimizers.SGD(learning_rate=0.1).scale_loss(2.0, None)
            2.0
        """
        return loss

    def __repr__(self):
        lr = self._learning_rate if callable(self._learning_rate) else f"{self.learning_rate:g}"
        return f"<{type(self).__name__} learning_rate={lr}>"


def _serialize_lr(owner, lr):
    """A float as it is; a schedule in the registry's shape (graphnet's or registered)."""
    if not callable(lr):
        return lr
    try:
        return schedules.serialize(lr)
    except ValueError:
        raise ValueError(f"{owner}: the learning-rate schedule {lr!r} is not registered; use "
                         f"@graphnet.register_serializable() to save it") from None


def _deserialize_lr(lr):
    """Also reads the `{"registered": name, "config"}` entries earlier versions wrote."""
    return schedules.deserialize(lr) if isinstance(lr, dict) else lr
