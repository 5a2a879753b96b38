"""Keras-named optimizers with Keras defaults and Keras's numbers, as optax transformations.

SGD, RMSprop and Adagrad use optax's rules (the same arithmetic as Keras's). Adam, AdamW and
Nadam use `rules.keras_adam` / `keras_adamw` / `keras_nadam`, which copy Keras's arithmetic
(epsilon added to sqrt(v), Nadam's momentum schedule); Adamax, Adadelta, Ftrl, Lion, Lamb
and Adafactor copy Keras's `update_step`s (`more.py`); optax's own `optax.adam` etc. stay
available: pass any `optax.GradientTransformation` to `compile`. The learning rate lives in
the optimizer state (`rules.LearningRateState`), so reading or changing it between epochs
(ReduceLROnPlateau, LearningRateScheduler) never recompiles the training step.
"""
import jax
import jax.numpy as jnp
import optax

from .. import registry
from ..registry import lookup
from . import loss_scale, rules, schedules
from .rules import (clip_by_global_norm, clip_by_norm, clip_by_value, inject_learning_rate,
                    keras_adam, keras_adamw, keras_nadam)
from .base import Optimizer, check_learning_rate, standard_promotion
from .more import Adadelta, Adafactor, Adamax, Ftrl, Lamb, Lion


def _is_injected(x):
    return isinstance(x, (optax.InjectHyperparamsState, optax.InjectStatefulHyperparamsState))


def _injected(state):
    return [s for s in jax.tree_util.tree_leaves(state, is_leaf=_is_injected) if _is_injected(s)]


def _set_lr(state, value, name):
    replaced = []

    def swap(s):
        if _is_injected(s) and "learning_rate" in s.hyperparams:
            old = s.hyperparams["learning_rate"]
            replaced.append(True)
            hyperparams = {**s.hyperparams, "learning_rate": jnp.asarray(value, old.dtype)}
            # optax's state is a NamedTuple: rebuilt field by field, hyperparams replaced
            return type(s)(*(hyperparams if field is s.hyperparams else field for field in s))
        return s
    state = jax.tree_util.tree_map(swap, state, is_leaf=_is_injected)
    if not replaced:
        raise ValueError(f"{name}: this optax transformation has no injected learning_rate; "
                         f"wrap it with optax.inject_hyperparams to change it")
    return state


class SGD(Optimizer):
    """Keras SGD(learning_rate=0.01, momentum=0.0, nesterov=False).

    Examples:
        >>> opt = optimizers.SGD(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0], dtype="float32")}
        >>> state = opt.init(params)
        >>> grads = {"w": np.array([0.5, 0.5], dtype="float32")}
        >>> updates, state = opt.tx.update(grads, state, params)
        >>> print(np.asarray(updates["w"]).round(4))
        [-0.05 -0.05]
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate, **kwargs)
        if not 0 <= momentum <= 1:
            raise ValueError(f"SGD: momentum must be in [0, 1], received {momentum}")
        self.momentum, self.nesterov = float(momentum), bool(nesterov)

    def _base(self, learning_rate):
        return optax.sgd(learning_rate, momentum=self.momentum or None, nesterov=self.nesterov)

    def _hyper(self):
        return {"momentum": self.momentum, "nesterov": self.nesterov}


class RMSprop(Optimizer):
    """Keras RMSprop(learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False);
    epsilon inside the square root and a zero initial accumulator, as Keras.

    Examples:
        >>> opt = optimizers.RMSprop(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0], dtype="float32")}
        >>> state = opt.init(params)
        >>> grads = {"w": np.array([0.5, 0.5], dtype="float32")}
        >>> updates, state = opt.tx.update(grads, state, params)
        >>> print(np.asarray(updates["w"]).round(4))
        [-0.3162 -0.3162]
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7, centered=False,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.rho, self.momentum, self.epsilon = float(rho), float(momentum), float(epsilon)
        self.centered = bool(centered)

    def _base(self, learning_rate):
        return optax.rmsprop(learning_rate, decay=self.rho, eps=self.epsilon, initial_scale=0.0,
                             eps_in_sqrt=True, centered=self.centered,
                             momentum=self.momentum or None)

    def _hyper(self):
        return {"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                "centered": self.centered}


class Adam(Optimizer):
    """Keras Adam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False).

    Examples:
        >>> opt = optimizers.Adam(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0], dtype="float32")}
        >>> state = opt.init(params)
        >>> grads = {"w": np.array([0.5, 0.5], dtype="float32")}
        >>> updates, state = opt.tx.update(grads, state, params)
        >>> print(np.asarray(updates["w"]).round(4))
        [-0.1 -0.1]
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, amsgrad=False,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)
        self.amsgrad = bool(amsgrad)

    def _base(self, learning_rate):
        return keras_adam(learning_rate, self.beta_1, self.beta_2, self.epsilon, self.amsgrad)

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                "amsgrad": self.amsgrad}


class AdamW(Adam):
    """Keras AdamW(learning_rate=0.001, weight_decay=0.004, ...): decoupled decay.

    Examples:
        >>> opt = optimizers.AdamW(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0], dtype="float32")}
        >>> state = opt.init(params)
        >>> grads = {"w": np.array([0.5, 0.5], dtype="float32")}
        >>> updates, state = opt.tx.update(grads, state, params)
        >>> print(np.asarray(updates["w"]).round(4))
        [-0.1004 -0.0992]
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, **kwargs)
        self.weight_decay = float(weight_decay)

    def _base(self, learning_rate):
        return keras_adamw(learning_rate, self.weight_decay, self.beta_1, self.beta_2,
                           self.epsilon, self.amsgrad)

    def _hyper(self):
        return {**super()._hyper(), "weight_decay": self.weight_decay}


class Adagrad(Optimizer):
    """Keras Adagrad(learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7).

    Examples:
        >>> opt = optimizers.Adagrad(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0], dtype="float32")}
        >>> state = opt.init(params)
        >>> grads = {"w": np.array([0.5, 0.5], dtype="float32")}
        >>> updates, state = opt.tx.update(grads, state, params)
        >>> print(np.asarray(updates["w"]).round(4))
        [-0.0845 -0.0845]
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.initial_accumulator_value = float(initial_accumulator_value)
        self.epsilon = float(epsilon)

    def _base(self, learning_rate):
        return optax.adagrad(learning_rate, initial_accumulator_value=self.initial_accumulator_value,
                             eps=self.epsilon)

    def _hyper(self):
        return {"initial_accumulator_value": self.initial_accumulator_value,
                "epsilon": self.epsilon}


class Nadam(Optimizer):
    """Keras Nadam(learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7), with Keras's
    momentum schedule.

    Examples:
        >>> opt = optimizers.Nadam(learning_rate=0.1)
        >>> params = {"w": np.array([1.0, -2.0], dtype="float32")}
        >>> state = opt.init(params)
        >>> grads = {"w": np.array([0.5, 0.5], dtype="float32")}
        >>> updates, state = opt.tx.update(grads, state, params)
        >>> print(np.asarray(updates["w"]).round(4))
        [-0.1063 -0.1063]
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = float(beta_1), float(beta_2), float(epsilon)

    def _base(self, learning_rate):
        return keras_nadam(learning_rate, self.beta_1, self.beta_2, self.epsilon)

    def _hyper(self):
        return {"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon}


class OptaxOptimizer(Optimizer):
    """Any optax.GradientTransformation, used as it is (no clipping or LR injection added).

    Examples:
        >>> import optax
        >>> opt = optimizers.OptaxOptimizer(optax.sgd(0.1))
        >>> model = graphnet.Sequential([graphnet.Input(shape=(2,)), layers.Dense(1)])
        >>> model.compile(optimizer=opt, loss="mse")
    """

    def __init__(self, tx, name="optax"):
        self._tx_given = standard_promotion(tx)
        super().__init__(0.0, name=name)

    @property
    def tx(self):
        return self._tx_given

    @property
    def learning_rate(self) -> float:
        if self.state is None:
            raise ValueError(f"{self.name}: the learning rate of an optax transformation is "
                             f"known once fit has initialized its state")
        return float(self._lr_state()["learning_rate"])

    @learning_rate.setter
    def learning_rate(self, value):
        if self.state is None:
            raise ValueError(f"{self.name}: the learning rate of an optax transformation can be "
                             f"set once fit has initialized its state")
        if callable(value):
            raise TypeError(f"{self.name}: a schedule cannot be set on an optax transformation; "
                            f"build it with the schedule (optax.adam(schedule)) or compile with "
                            f"a graphnet.optimizers class")
        self.state = _set_lr(self.state, check_learning_rate(self.name, value), self.name)

    lr = learning_rate

    def _lr_state(self):
        found = [s.hyperparams for s in _injected(self.state) if "learning_rate" in s.hyperparams]
        if not found:
            raise ValueError(f"{self.name}: this optax transformation has no injected "
                             f"learning_rate; wrap it with optax.inject_hyperparams to read or "
                             f"change it")
        return found[0]

    @property
    def iterations(self) -> int:
        counts = [s.count for s in _injected(self.state)] if self.state is not None else []
        return int(counts[0]) if counts else 0

    def init(self, params):
        self.state, self._built_for = self.tx.init(params), None
        return self.state

    def get_config(self):
        raise ValueError("An optax transformation given to compile cannot be saved by name; "
                         "use a graphnet.optimizers class to save the optimizer")


class LossScaleOptimizer(Optimizer):
    """Keras's LossScaleOptimizer: `inner_optimizer` with dynamic loss scaling.

    `compile` wraps the optimizer in one when the model's dtype policy is "mixed_float16"
    (Keras's `auto_scale_loss=True`). The training step multiplies the loss by
    `dynamic_scale` before taking gradients; the update divides them again, skips a step
    whose gradients are not finite and halves the scale, and doubles it after
    `dynamic_growth_steps` finite steps in a row (see `loss_scale.py`).

    Examples:
        >>> opt = optimizers.LossScaleOptimizer(optimizers.Adam(), initial_scale=1024.0)
        >>> model = graphnet.Sequential([graphnet.Input(shape=(2,)), layers.Dense(1)])
        >>> model.compile(optimizer=opt, loss="mse")
    """

    def __init__(self, inner_optimizer, initial_scale=2.0 ** 15, dynamic_growth_steps=2000,
                 name=None):
        inner = get(inner_optimizer)
        if isinstance(inner, LossScaleOptimizer):
            raise ValueError("LossScaleOptimizer: the inner optimizer is already a "
                             "LossScaleOptimizer")
        if not float(initial_scale) > 0:
            raise ValueError(f"LossScaleOptimizer: initial_scale must be > 0, received "
                             f"{initial_scale!r}")
        if not isinstance(dynamic_growth_steps, int) or dynamic_growth_steps < 1:
            raise ValueError(f"LossScaleOptimizer: dynamic_growth_steps must be a positive int, "
                             f"received {dynamic_growth_steps!r}")
        self.inner_optimizer = inner
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = dynamic_growth_steps
        self.name = name or "loss_scale_optimizer"
        self.state = None
        self._tx = None

    @property
    def _learning_rate(self):
        return self.inner_optimizer.configured_learning_rate

    @_learning_rate.setter
    def _learning_rate(self, value):
        self.inner_optimizer.configured_learning_rate = value

    @property
    def tx(self) -> optax.GradientTransformation:
        if self._tx is None:
            self._tx = standard_promotion(loss_scale.dynamic_loss_scale(
                self.inner_optimizer.tx, self.initial_scale, self.dynamic_growth_steps))
        return self._tx

    def init(self, params):
        self.state, self._built_for = self.tx.init(params), None
        if not isinstance(self.inner_optimizer, OptaxOptimizer):
            self.state = rules.replace_learning_rate(self.state, self._learning_rate)
        return self.state

    def scale_loss(self, loss, state):
        """The loss the gradients are taken of (traced): `loss * scale`."""
        return loss * state.scale.astype(loss.dtype)

    @property
    def dynamic_scale(self) -> float:
        return self.initial_scale if self.state is None else float(self.state.scale)

    def get_config(self) -> dict:
        return {"name": self.name, "inner_optimizer": serialize(self.inner_optimizer),
                "initial_scale": self.initial_scale,
                "dynamic_growth_steps": self.dynamic_growth_steps}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["inner_optimizer"] = deserialize(config["inner_optimizer"])
        return cls(**config)

    def __repr__(self):
        return f"<LossScaleOptimizer inner={self.inner_optimizer!r}>"


OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "adagrad": Adagrad,
              "nadam": Nadam, "adamax": Adamax, "adadelta": Adadelta, "ftrl": Ftrl, "lion": Lion,
              "lamb": Lamb, "adafactor": Adafactor}
CLASSES = {cls.__name__: cls for cls in (*OPTIMIZERS.values(), LossScaleOptimizer)}


KIND = registry.Kind("optimizer", CLASSES)


def get(identifier) -> Optimizer:
    """An Optimizer from a name, an Optimizer, or any optax.GradientTransformation."""
    if isinstance(identifier, optax.GradientTransformation):
        return OptaxOptimizer(identifier)
    return registry.get(identifier, KIND, base=Optimizer, instantiate=False,
                        from_name=lambda name: lookup(OPTIMIZERS, name, "optimizer")(),
                        expected="An optimizer must be a string, a graphnet.optimizers.Optimizer "
                                 "or an optax.GradientTransformation")


def serialize(optimizer: Optimizer) -> dict:
    """`{"class_name", "config"}` of an optimizer (the registry's shape, as Keras writes it).

    An optax transformation is code, not data: its entry names OptaxOptimizer, which loading
    refuses with the list of the optimizers it can rebuild."""
    if isinstance(optimizer, OptaxOptimizer):
        return {"class_name": "OptaxOptimizer", "config": optimizer.get_config()}
    return registry.serialize(optimizer, KIND)


def deserialize(config: dict) -> Optimizer:
    """The optimizer a `serialize` config describes (graphnet's classes or registered ones).

    Raises:
        ValueError: the class name is neither one of graphnet's optimizers nor registered.
    """
    return registry.deserialize(config, KIND)
