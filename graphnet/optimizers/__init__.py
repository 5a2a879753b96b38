"""Keras-named optimizers with Keras defaults and Keras's numbers, as optax transformations.

SGD, RMSprop and Adagrad use optax's rules (the same arithmetic as Keras's). Adam, AdamW and
Nadam use `rules.keras_adam` / `keras_adamw` / `keras_nadam`, which copy Keras's arithmetic
(epsilon added to sqrt(v), Nadam's momentum schedule); Adamax, Adadelta, Ftrl, Lion, Lamb
and Adafactor copy Keras's `update_step`s (`more.py`); optax's own `optax.adam` etc. stay
available: pass any `optax.GradientTransformation` to `compile`. The learning rate lives in
the optimizer state (`rules.LearningRateState`), so reading or changing it between epochs
(ReduceLROnPlateau, LearningRateScheduler) never recompiles the training step.
"""
import re
from collections.abc import MutableMapping
from typing import NamedTuple

import jax
import numpy as np
import optax

from .. import registry
from ..registry import lookup
from . import loss_scale, rules, schedules
from .rules import (clip_by_global_norm, clip_by_norm, clip_by_value, inject_learning_rate,
                    keras_adam, keras_adamw, keras_nadam)
from .base import Optimizer, check_learning_rate, standard_promotion
from .optax_wrapper import OptaxOptimizer
from . import ema
from .more import Adadelta, Adafactor, Adamax, Ftrl, Lamb, Lion
from .recent import Muon, ScheduleFreeAdamW, variable_paths


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


class OptimizerMap(MutableMapping):
    """Keras OptimizerMap(default_optimizer, optimizer_map=None): variable paths
    (`"layer/weight"`) or regular expressions (matched whole) to optimizers, for
    `MultiOptimizer`; unmatched paths get `default_optimizer`.

    >>> from graphnet import optimizers
    >>> mapping = optimizers.OptimizerMap(optimizers.SGD(), {"encoder/.*": optimizers.Adam()})
    >>> type(mapping["encoder/kernel"]).__name__, type(mapping["head/kernel"]).__name__
    ('Adam', 'SGD')
    """

    def __init__(self, default_optimizer, optimizer_map=None):
        if not isinstance(default_optimizer, Optimizer):
            raise TypeError(f"OptimizerMap: default_optimizer must be a graphnet optimizer, "
                            f"received {default_optimizer!r}")
        if optimizer_map is not None and not isinstance(optimizer_map, dict):
            raise TypeError(f"OptimizerMap: optimizer_map must be a dict, received "
                            f"{optimizer_map!r}")
        self.default_optimizer = default_optimizer
        self.optimizer_map = {}
        for key, optimizer in (optimizer_map or {}).items():
            self[key] = optimizer

    def __getitem__(self, key):
        if key in self.optimizer_map:
            return self.optimizer_map[key]
        matching = [pattern for pattern in self.optimizer_map if re.fullmatch(pattern, key)]
        if len(matching) > 1:
            raise ValueError(f"OptimizerMap: several optimizers match variable {key!r} "
                             f"(patterns {matching})")
        return self.optimizer_map[matching[0]] if matching else self.default_optimizer

    def __setitem__(self, key, optimizer):
        if key in self.optimizer_map:
            raise ValueError(f"OptimizerMap: {key!r} already maps to "
                             f"{self.optimizer_map[key]!r}; keys must not repeat")
        if not isinstance(key, str):
            raise ValueError(f"OptimizerMap: a key must be a string, received {key!r}")
        _check_inner(optimizer, f"OptimizerMap[{key!r}]")
        self.optimizer_map[key] = optimizer

    def __delitem__(self, key):
        del self.optimizer_map[key]

    def __len__(self):
        return len(self.optimizer_map)

    def __iter__(self):
        return iter(self.optimizer_map)

    def __call__(self, variable):
        return self[variable.path]

    def get_config(self):
        """The default optimizer and the map, each optimizer serialized."""
        return {"default_optimizer": serialize(self.default_optimizer),
                "optimizer_map": {k: serialize(v) for k, v in self.optimizer_map.items()}}

    @classmethod
    def from_config(cls, config):
        """A new map (fresh optimizers) from the dict `get_config` returned."""
        return cls(deserialize(config["default_optimizer"]),
                   {k: deserialize(v) for k, v in config["optimizer_map"].items()})


def _check_inner(optimizer, who):
    if not isinstance(optimizer, Optimizer):
        raise ValueError(f"{who}: expected a graphnet optimizer, received {optimizer!r}")
    if isinstance(optimizer, (LossScaleOptimizer, MultiOptimizer)):
        raise ValueError(f"{who}: a {type(optimizer).__name__} cannot be used inside a "
                         f"MultiOptimizer")


class VariableInfo(NamedTuple):
    """What a MultiOptimizer's selector function is given for each trainable variable."""
    path: str
    shape: tuple
    dtype: object


class MultiOptimizer(Optimizer):
    """Keras MultiOptimizer(optimizer_map, loss_scale_factor=None, name=None): each variable
    updated by the optimizer an `OptimizerMap` (or a function of the variable, given its
    `path`, `shape` and `dtype`) chooses for it.

    The combined state is optax's `multi_transform` of the optimizers' own states, and each
    optimizer keeps its part (`optimizers[i].state`): setting one's `learning_rate` changes
    its steps only. As in Keras, the MultiOptimizer itself has no learning rate.

    Examples:
        >>> import numpy as np
        >>> from graphnet import optimizers
        >>> multi = optimizers.MultiOptimizer(optimizers.OptimizerMap(
        ...     optimizers.SGD(0.1), {"head/.*": optimizers.SGD(1.0)}))
        >>> params = {"body": {"w": np.ones(2, "float32")}, "head": {"w": np.ones(2, "float32")}}
        >>> updates, _ = multi.tx.update(params, multi.init(params), params)
        >>> print(updates["body"]["w"], updates["head"]["w"])
        [-0.1 -0.1] [-1. -1.]
    """

    def __init__(self, optimizer_map, loss_scale_factor=None, name=None):
        if loss_scale_factor is not None:
            raise NotImplementedError("MultiOptimizer: loss_scale_factor is not supported; "
                                      "leave it None")
        if not (isinstance(optimizer_map, OptimizerMap) or callable(optimizer_map)):
            raise TypeError(f"MultiOptimizer: optimizer_map must be an OptimizerMap or a "
                            f"function of a variable, received {optimizer_map!r}")
        self.optimizer_map, self.loss_scale_factor = optimizer_map, loss_scale_factor
        self.name = name or "multi_optimizer"
        self.clipnorm = self.clipvalue = self.global_clipnorm = None
        self.optimizers = []
        if isinstance(optimizer_map, OptimizerMap):
            for optimizer in (*optimizer_map.values(), optimizer_map.default_optimizer):
                if optimizer not in self.optimizers:
                    self.optimizers.append(optimizer)
        self._choices = {}           # variable path -> index in self.optimizers
        self._combined = None
        self._tx = None

    variable_paths = None        # set by fit: the trained weights' paths, in order

    def _label(self, path, leaf):
        if path not in self._choices:
            info = VariableInfo(path, tuple(np.shape(leaf)), np.dtype(leaf.dtype))
            chosen = self.optimizer_map(info)
            _check_inner(chosen, f"MultiOptimizer (variable {path!r})")
            if chosen not in self.optimizers:
                self.optimizers.append(chosen)
            self._choices[path] = self.optimizers.index(chosen)
        return self._choices[path]

    def _labels(self, params):
        leaves, treedef = jax.tree_util.tree_flatten(params)
        paths = variable_paths(params, self.variable_paths)
        return treedef.unflatten([self._label(p, leaf) for p, leaf in zip(paths, leaves)])

    @property
    def tx(self) -> optax.GradientTransformation:
        """optax's multi_transform of the chosen optimizers' transformations."""
        def init(params):
            self._labels(params)         # every variable's optimizer chosen first
            return self._multi().init(params)

        def update(updates, state, params=None):
            return self._multi().update(updates, state, params)
        return optax.GradientTransformation(init, update)

    def _multi(self):
        return optax.multi_transform({i: opt.tx for i, opt in enumerate(self.optimizers)},
                                     self._labels)

    def init(self, params):
        """A fresh state: each optimizer's own state for its variables."""
        state = self.tx.init(params)
        inner = {label: optax.MaskedState(inner_state=rules.replace_learning_rate(
                    masked.inner_state, self.optimizers[label].configured_learning_rate))
                 for label, masked in state.inner_states.items()}
        self.state, self._built_for = type(state)(inner_states=inner), None
        return self.state

    @property
    def state(self):
        """The combined optax state, read from the optimizers' own parts."""
        if self._combined is None:
            return None
        inner = {label: optax.MaskedState(inner_state=self.optimizers[label].state)
                 for label in self._combined.inner_states}
        return type(self._combined)(inner_states=inner)

    @state.setter
    def state(self, value):
        self._combined = value
        if value is not None:
            for label, masked in value.inner_states.items():
                self.optimizers[label].state = masked.inner_state

    @property
    def learning_rate(self):
        """Not defined, as in Keras: each optimizer in `optimizers` has its own."""
        raise AttributeError("MultiOptimizer has no learning rate: read or set it on its "
                             "optimizers (multi.optimizers[i].learning_rate)")

    @learning_rate.setter
    def learning_rate(self, value):
        raise AttributeError("MultiOptimizer has no learning rate: read or set it on its "
                             "optimizers (multi.optimizers[i].learning_rate)")

    @property
    def iterations(self) -> int:
        """Number of updates applied so far."""
        return 0 if self._combined is None else int(self._lr_state().count)

    def get_config(self):
        """The optimizer map (an OptimizerMap; a selector function cannot be saved)."""
        if not isinstance(self.optimizer_map, OptimizerMap):
            raise ValueError("MultiOptimizer: a selector function cannot be saved; use an "
                             "OptimizerMap to save the optimizer")
        return {"optimizer_map": {"class_name": "OptimizerMap",
                                  "config": self.optimizer_map.get_config()},
                "loss_scale_factor": self.loss_scale_factor, "name": self.name}

    @classmethod
    def from_config(cls, config):
        """A new MultiOptimizer (fresh state) from the dict `get_config` returned."""
        config = dict(config)
        config["optimizer_map"] = OptimizerMap.from_config(config["optimizer_map"]["config"])
        return cls(**config)

    def __repr__(self):
        return f"<MultiOptimizer optimizers={self.optimizers!r}>"


OPTIMIZERS = {"sgd": SGD, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW, "adagrad": Adagrad,
              "nadam": Nadam, "adamax": Adamax, "adadelta": Adadelta, "ftrl": Ftrl, "lion": Lion,
              "lamb": Lamb, "adafactor": Adafactor, "muon": Muon,
              "schedulefreeadamw": ScheduleFreeAdamW}
CLASSES = {cls.__name__: cls for cls in (*OPTIMIZERS.values(), LossScaleOptimizer,
                                         MultiOptimizer)}


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
