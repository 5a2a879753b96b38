"""Keras 3's `keras.random`: seeded draws, and `SeedGenerator` as state of a layer.

A draw takes `seed` as an int (the same numbers every time), a `SeedGenerator` (new
numbers at each draw, reproducible from its seed) or None (a fresh seed; inside a call,
the call's own key). A `SeedGenerator` held as a layer attribute is part of that layer's
state, like a non-trainable variable: inside a compiled call its state is the traced value
the call was given, and each draw returns the advanced state as the call's new state, so
a jitted training step stays pure and still draws new numbers at every step.

Keys, seeds and the algorithms are those of Keras's JAX backend (a `[seed, counter]`
uint32 pair used as a threefry key), so a graphnet draw equals Keras's for the same seed.

Examples:
    >>> seed = graphnet.random.SeedGenerator(0)
    >>> graphnet.random.normal((2, 3), seed=seed).shape
    (2, 3)
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from . import naming
from .variables import Variable, current_scope

__all__ = ["SeedGenerator", "normal", "uniform", "truncated_normal", "randint", "dropout",
           "shuffle", "categorical"]

_STATE = "seed_generator_state"


def _check_seed(seed, what: str) -> int:
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"{what}: seed must be an int, a SeedGenerator or None, received "
                        f"{seed!r} (of type {type(seed).__name__})")
    return int(seed) & 0xFFFFFFFF


class SeedGenerator:
    """Keras `SeedGenerator(seed=None)`: a `[seed, counter]` state advanced at each draw.

    Create it in a layer's `__init__` (`self.seed_generator = SeedGenerator(1337)`) and pass
    it as `seed=` in `call`: the layer carries its state (`state`, a non-trainable
    `Variable`) among its own state, under the generator's name. It is not one of the
    layer's `weights` (Keras leaves seeds out of them too).
    """

    def __init__(self, seed=None, name=None):
        self.name = name if name is not None else naming.unique_name("seed_generator")
        self._initial_seed = seed
        seed = naming.next_seed() if seed is None else _check_seed(seed, "SeedGenerator")
        self._state = {_STATE: jnp.asarray([seed & 0xFFFFFFFF, 0], jnp.uint32)}
        self.state = Variable(self, _STATE, (2,), np.uint32, trainable=False)

    # The owner interface `Variable` reads and writes through.
    def own_values(self, collection: str) -> dict:
        """The `[seed, counter]` state, as a layer's non-trainable weights."""
        return self._state if collection == "state" else {}

    def set_own_values(self, collection: str, values: dict) -> None:
        """Replaces the state (an `assign`, or a layer's new state after a call)."""
        if collection == "state":
            self._state = dict(values)

    def next(self):
        """The current state (the key of this draw); the state moves one step on."""
        current = self.state.value
        self.state.assign(current + jnp.asarray([0, 1], jnp.uint32))
        return current

    def get_config(self) -> dict:
        """`{"seed", "name"}`, as Keras writes a generator."""
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        """A new generator from the dict `get_config` returned."""
        return cls(**config)

    def __repr__(self):
        return f"<SeedGenerator name='{self.name}' seed={self._initial_seed}>"


def _key(seed, what: str):
    """A JAX key for one draw from `seed` (int, SeedGenerator or None)."""
    if isinstance(seed, SeedGenerator):
        return jax.random.wrap_key_data(seed.next(), impl="threefry2x32")
    if seed is None:
        scope = current_scope()
        if scope is not None:
            if scope.rng is None:
                raise ValueError(f"{what}(seed=None) inside a call that has no random key "
                                 f"(an inference call): give the layer a SeedGenerator "
                                 f"(self.seed_generator = SeedGenerator(1337) in __init__) "
                                 f"and pass seed=self.seed_generator")
            return scope.next_key()
        seed = naming.next_seed()
    seed = _check_seed(seed, what)
    return jax.random.wrap_key_data(jnp.asarray([seed, 0], jnp.uint32), impl="threefry2x32")


def _float(dtype):
    return jnp.dtype(dtype or "float32")


def _shape(shape, what):
    try:
        return tuple(int(d) for d in shape)
    except TypeError:
        raise TypeError(f"{what}: shape must be a tuple of ints, received {shape!r}") from None


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of the normal distribution N(mean, stddev**2).

    Args:
        shape: the result's shape, a tuple of ints.
        mean: the distribution's mean.
        stddev: its standard deviation.
        dtype: a float dtype (default float32).
        seed: an int (the same numbers every time), a `SeedGenerator` (new numbers at each
            draw) or None (a fresh seed; inside a layer's call, the call's own key).
    """
    sample = jax.random.normal(_key(seed, "normal"), _shape(shape, "normal"), _float(dtype))
    return sample * stddev + mean


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples of the uniform distribution on [minval, maxval).

    Args:
        shape: the result's shape, a tuple of ints.
        minval: the lower bound (included).
        maxval: the upper bound (excluded).
        dtype: a float dtype (default float32).
        seed: an int (the same numbers every time), a `SeedGenerator` (new numbers at each
            draw) or None (a fresh seed; inside a layer's call, the call's own key).
    """
    return jax.random.uniform(_key(seed, "uniform"), _shape(shape, "uniform"), _float(dtype),
                              minval=minval, maxval=maxval)


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples of N(0, 1) cut to [-2, 2], then scaled by `stddev` and moved by `mean`, as
    Keras draws them (no value lies more than two standard deviations from the mean).

    Args:
        shape: the result's shape, a tuple of ints.
        mean: the distribution's mean.
        stddev: the standard deviation before truncation.
        dtype: a float dtype (default float32).
        seed: an int (the same numbers every time), a `SeedGenerator` (new numbers at each
            draw) or None (a fresh seed; inside a layer's call, the call's own key).
    """
    sample = jax.random.truncated_normal(_key(seed, "truncated_normal"),
                                         -2.0, 2.0, _shape(shape, "truncated_normal"),
                                         _float(dtype))
    return sample * stddev + mean


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """Integers drawn uniformly from [minval, maxval).

    Args:
        shape: the result's shape, a tuple of ints.
        minval: the lowest value (included).
        maxval: the bound (excluded).
        dtype: an integer dtype (default int32).
        seed: an int (the same numbers every time), a `SeedGenerator` (new numbers at each
            draw) or None (a fresh seed; inside a layer's call, the call's own key).

    Raises:
        TypeError: `dtype` is not an integer dtype.
    """
    if not jnp.issubdtype(jnp.dtype(dtype), jnp.integer):
        raise TypeError(f"randint: dtype must be an integer dtype, received {dtype!r}")
    return jax.random.randint(_key(seed, "randint"), _shape(shape, "randint"), minval, maxval,
                              jnp.dtype(dtype))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes each entry with probability `rate` and scales the rest by 1 / (1 - rate).

    `noise_shape` (None entries take the input's size) shares one draw along the axes
    where it is 1, as Keras's `noise_shape` does.
    """
    inputs = jnp.asarray(inputs)
    if not 0.0 <= float(rate) <= 1.0:
        raise ValueError(f"dropout: rate must be in [0, 1], received {rate}")
    if rate == 1.0:
        return jnp.zeros_like(inputs)
    if rate == 0.0:
        return inputs
    keep = 1.0 - rate
    shape = inputs.shape if noise_shape is None else tuple(
        inputs.shape[i] if d is None else int(d) for i, d in enumerate(noise_shape))
    mask = jnp.broadcast_to(jax.random.bernoulli(_key(seed, "dropout"), keep, shape),
                            inputs.shape)
    return jnp.where(mask, inputs / jnp.asarray(keep, inputs.dtype), jnp.zeros_like(inputs))


def shuffle(x, axis=0, seed=None):
    """`x` with its slices along `axis` in a random order."""
    return jax.random.permutation(_key(seed, "shuffle"), jnp.asarray(x), axis, independent=True)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """`num_samples` class indices per row of `logits` (batch, classes): (batch, num_samples)."""
    logits = jnp.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(f"categorical: logits must have shape (batch, classes), received "
                         f"shape {logits.shape}")
    out = jax.random.categorical(_key(seed, "categorical"), logits[..., None],
                                 axis=1, shape=(logits.shape[0], int(num_samples)))
    return out.astype(dtype)
