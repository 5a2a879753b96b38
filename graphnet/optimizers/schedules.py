"""Keras's learning-rate schedules (`keras.optimizers.schedules`), built on optax schedules.

A schedule is a callable of the optimizer's step count (0 for the first update, as Keras's
`optimizer.iterations`), so an instance is also a plain optax schedule: `optax.adam(
ExponentialDecay(...))` works. Each takes Keras's arguments and has `get_config`, so an
optimizer with a schedule saves and loads.

Examples:
    >>> schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> round(float(schedule(10)), 4)
    0.05
    >>> opt = optimizers.SGD(learning_rate=schedule)
"""

import jax
import jax.numpy as jnp
import optax

from .. import registry

F32 = jnp.float32


class LearningRateSchedule:
    """Keras LearningRateSchedule: subclass it and define `__call__(step)` (and `get_config`
    to save it; register the class with `graphnet.register_serializable`).

    Examples:
        >>> class Halving(optimizers.schedules.LearningRateSchedule):
        ...     def __call__(self, step):
        ...         return 0.1 * 0.5 ** (step // 10)
        ...
        >>> round(float(Halving()(20)), 4)
        0.025
        >>> opt = optimizers.SGD(learning_rate=Halving())
    """

    def __call__(self, step):
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  f"override __call__(self, step)")

    def get_config(self):
        """The constructor arguments that rebuild the schedule (what saving writes).

        Raises:
            NotImplementedError: a subclass that is saved must define it.

        Examples:
            >>> class Halving(optimizers.schedules.LearningRateSchedule):
            ...     def __init__(self, initial_learning_rate):
            ...         self.initial_learning_rate = initial_learning_rate
            ...     def __call__(self, step):
            ...         return self.initial_learning_rate * 0.5 ** (step // 10)
            ...     def get_config(self):
            ...         return {"initial_learning_rate": self.initial_learning_rate}
            ...
            >>> Halving(0.1).get_config()
            {'initial_learning_rate': 0.1}
        """
        raise NotImplementedError(f"Learning rate schedule '{type(self).__name__}' must "
                                  f"override get_config() to be saved")

    @classmethod
    def from_config(cls, config):
        """A new schedule from the dict `get_config` returned: `cls(**config)`.

        Args:
            config: the dict `get_config` returned.

        Examples:
            >>> Decay = optimizers.schedules.InverseTimeDecay
            >>> schedule = Decay(0.1, decay_steps=10, decay_rate=1.0)
            >>> copy = Decay.from_config(schedule.get_config())
            >>> type(copy).__name__, copy.get_config() == schedule.get_config()
            ('InverseTimeDecay', True)
        """
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


class _OptaxSchedule(LearningRateSchedule):
    """A Keras schedule whose value is `self._schedule(step)`, an optax schedule."""

    _schedule = None

    def __call__(self, step):
        with jax.numpy_dtype_promotion("standard"):
            return jnp.asarray(self._schedule(jnp.asarray(step)), F32)


def _check_decay_steps(owner, decay_steps):
    if decay_steps <= 0:
        raise ValueError(f"{owner}: decay_steps must be > 0, received {decay_steps}")


class ExponentialDecay(_OptaxSchedule):
    """Keras ExponentialDecay: `initial_learning_rate * decay_rate ** (step / decay_steps)`
    (the exponent floored with `staircase=True`).

    Examples:
        >>> schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
        >>> round(float(schedule(5)), 4)
        0.0707
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        _check_decay_steps("ExponentialDecay", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name
        self._schedule = optax.exponential_decay(float(initial_learning_rate), decay_steps,
                                                 float(decay_rate), staircase=bool(staircase))

    def get_config(self):
        """The constructor arguments, as Keras writes them.

        Examples:
            >>> schedule = optimizers.schedules.ExponentialDecay(0.1, decay_steps=10,
            ...                                                  decay_rate=0.5)
            >>> schedule.get_config()
            {'initial_learning_rate': 0.1, 'decay_steps': 10, 'decay_rate': 0.5,
             'staircase': False, 'name': 'ExponentialDecay'}
        """
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(_OptaxSchedule):
    """Keras PiecewiseConstantDecay: `values[0]` while step <= boundaries[0], `values[1]`
    while step <= boundaries[1], ..., `values[-1]` after the last boundary.

    Examples:
        >>> schedule = optimizers.schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001])
        >>> [round(float(schedule(step)), 4) for step in (5, 15, 25)]
        [0.1, 0.01, 0.001]
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(f"PiecewiseConstantDecay: boundaries must have one element fewer "
                             f"than values; received boundaries={list(boundaries)} (length "
                             f"{len(boundaries)}) and values={list(values)} (length "
                             f"{len(values)})")
        self.boundaries, self.values, self.name = list(boundaries), list(values), name
        # optax switches at step >= boundary, Keras after it: shift by one.
        self._schedule = optax.join_schedules(
            [optax.constant_schedule(float(v)) for v in self.values],
            [int(b) + 1 for b in self.boundaries])

    def get_config(self):
        """The constructor arguments, as Keras writes them.

        Examples:
            >>> schedule = optimizers.schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001])
            >>> schedule.get_config()
            {'boundaries': [10, 20], 'values': [0.1, 0.01, 0.001], 'name': 'PiecewiseConstant'}
        """
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """Keras InverseTimeDecay: `initial_learning_rate / (1 + decay_rate * step / decay_steps)`
    (the ratio floored with `staircase=True`).

    Examples:
        >>> schedule = optimizers.schedules.InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0)
        >>> round(float(schedule(10)), 4)
        0.05
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        _check_decay_steps("InverseTimeDecay", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.decay_rate, self.staircase, self.name = decay_rate, staircase, name

    def __call__(self, step):
        p = jnp.asarray(step).astype(F32) / jnp.asarray(self.decay_steps, F32)
        if self.staircase:
            p = jnp.floor(p)
        return (jnp.asarray(self.initial_learning_rate, F32)
                / (1.0 + jnp.asarray(self.decay_rate, F32) * p))

    def get_config(self):
        """The constructor arguments, as Keras writes them.

        Examples:
            >>> schedule = optimizers.schedules.InverseTimeDecay(0.1, decay_steps=10,
            ...                                                  decay_rate=1.0, staircase=True)
            >>> schedule.get_config()
            {'initial_learning_rate': 0.1, 'decay_steps': 10, 'decay_rate': 1.0,
             'staircase': True, 'name': 'InverseTimeDecay'}
        """
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class CosineDecay(_OptaxSchedule):
    """Keras CosineDecay: an optional linear warmup from `initial_learning_rate` to
    `warmup_target` over `warmup_steps`, then a cosine decay over `decay_steps` down to
    `alpha` times the starting rate.

    Examples:
        >>> schedule = optimizers.schedules.CosineDecay(0.1, decay_steps=10)
        >>> round(float(schedule(5)), 4)
        0.05
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_decay_steps("CosineDecay", decay_steps)
        self.initial_learning_rate, self.decay_steps = initial_learning_rate, decay_steps
        self.alpha, self.name = alpha, name
        self.warmup_target, self.warmup_steps = warmup_target, warmup_steps
        if warmup_target is None:
            self._schedule = optax.cosine_decay_schedule(float(initial_learning_rate),
                                                         decay_steps, float(alpha))
        else:
            self._schedule = optax.join_schedules(
                [optax.linear_schedule(float(initial_learning_rate), float(warmup_target),
                                       warmup_steps),
                 optax.cosine_decay_schedule(float(warmup_target), decay_steps, float(alpha))],
                [int(warmup_steps)])

    def get_config(self):
        """The constructor arguments, as Keras writes them (warmup ones included).

        Examples:
            >>> schedule = optimizers.schedules.CosineDecay(0.0, decay_steps=100,
            ...                                             warmup_target=0.1, warmup_steps=10)
            >>> schedule.get_config()
            {'initial_learning_rate': 0.0, 'decay_steps': 100, 'alpha': 0.0, 'name': 'CosineDecay',
             'warmup_target': 0.1, 'warmup_steps': 10}
        """
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


BUILTIN = {cls.__name__: cls for cls in (ExponentialDecay, PiecewiseConstantDecay,
                                         InverseTimeDecay, CosineDecay)}


def is_builtin(schedule) -> bool:
    return BUILTIN.get(type(schedule).__name__) is type(schedule)


KIND = registry.Kind("learning-rate schedule", BUILTIN)


def serialize(schedule) -> dict:
    """The registry's shape (Keras's): `{"class_name", "config"}` for graphnet's schedules and
    registered classes, `{"class_name": "function", "config": name}` for a registered
    function."""
    return registry.serialize(schedule, KIND)


def deserialize(config: dict):
    """The schedule `serialize` described; also reads the `{"registered": name}` entries
    earlier versions wrote."""
    return registry.deserialize(config, KIND)


__all__ = ["LearningRateSchedule", "ExponentialDecay", "PiecewiseConstantDecay",
           "InverseTimeDecay", "CosineDecay", "serialize", "deserialize"]
