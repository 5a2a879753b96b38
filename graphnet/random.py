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

    Args:
        seed: an int that fixes the numbers drawn; None takes a fresh seed.
        name: the generator's name (its key in the owning layer's state); None makes a
            unique one.

    Raises:
        TypeError: `seed` is not an int or None.

    Examples:
        >>> gen = graphnet.random.SeedGenerator(42)
        >>> a = np.asarray(graphnet.random.normal((2, 3), seed=gen))
        >>> b = np.asarray(graphnet.random.normal((2, 3), seed=gen))
        >>> bool((a == b).all())       # each draw advances the state: new numbers
        False
        >>> again = graphnet.random.normal((2, 3), seed=graphnet.random.SeedGenerator(42))
        >>> bool((a == np.asarray(again)).all())   # the same seed replays the sequence
        True
    """

    def __init__(self, seed=None, name=None):
        self.name = name if name is not None else naming.unique_name("seed_generator")
        self._initial_seed = seed
        seed = naming.next_seed() if seed is None else _check_seed(seed, "SeedGenerator")
        self._state = {_STATE: jnp.asarray([seed & 0xFFFFFFFF, 0], jnp.uint32)}
        self.state = Variable(self, _STATE, (2,), np.uint32, trainable=False)

    # The owner interface `Variable` reads and writes through.
    def own_values(self, collection: str) -> dict:
        """The `[seed, counter]` state, as a layer's non-trainable weights.

        Args:
            collection: `"state"` (where the generator keeps its values) or `"params"` (it
                has none there).

        Returns:
            `{"seed_generator_state": uint32 array [seed, counter]}` for `"state"`, else `{}`.

        Examples:
            >>> gen = graphnet.random.SeedGenerator(7)
            >>> print(np.asarray(gen.own_values("state")["seed_generator_state"]))
            [7 0]
            >>> gen.own_values("params")
            {}
        """
        return self._state if collection == "state" else {}

    def set_own_values(self, collection: str, values: dict) -> None:
        """Replaces the state (an `assign`, or a layer's new state after a call).

        Args:
            collection: `"state"`; values for any other collection are ignored.
            values: `{"seed_generator_state": [seed, counter]}`, a uint32 pair.

        Examples:
            >>> gen = graphnet.random.SeedGenerator(7)
            >>> gen.set_own_values("state", {"seed_generator_state": np.array([7, 5], "uint32")})
            >>> print(np.asarray(gen.state.value))
            [7 5]
        """
        if collection == "state":
            self._state = dict(values)

    def next(self):
        """The current state (the key of this draw); the state moves one step on.

        Returns:
            The uint32 pair `[seed, counter]` before the step.

        Examples:
            >>> gen = graphnet.random.SeedGenerator(7)
            >>> print(np.asarray(gen.next()), np.asarray(gen.next()))
            [7 0] [7 1]
        """
        current = self.state.value
        self.state.assign(current + jnp.asarray([0, 1], jnp.uint32))
        return current

    def get_config(self) -> dict:
        """`{"seed", "name"}`, as Keras writes a generator: the seed it was made with,
        not its current counter.

        Examples:
            >>> gen = graphnet.random.SeedGenerator(7, name="noise_seed")
            >>> gen.get_config()
            {'seed': 7, 'name': 'noise_seed'}
        """
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict):
        """A new generator from the dict `get_config` returned; it starts again at
        counter 0.

        Args:
            config: the dict `get_config` returned.

        Examples:
            >>> gen = graphnet.random.SeedGenerator(7)
            >>> _ = gen.next()
            >>> copy = graphnet.random.SeedGenerator.from_config(gen.get_config())
            >>> print(np.asarray(copy.state.value))
            [7 0]
        """
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

    Raises:
        TypeError: `shape` is not a tuple of ints, or `seed` is not an int, a
            `SeedGenerator` or None.
        ValueError: `seed` is None inside a call that has no random key (an inference
            call): give the layer a `SeedGenerator`.

    Examples:
        >>> x = np.asarray(graphnet.random.normal((2, 3), mean=5.0, stddev=0.1, seed=1))
        >>> x.shape, x.dtype
        ((2, 3), dtype('float32'))
        >>> bool((abs(x - 5.0) < 1.0).all())    # ten standard deviations: always
        True
        >>> again = graphnet.random.normal((2, 3), mean=5.0, stddev=0.1, seed=1)
        >>> bool((x == np.asarray(again)).all())   # an int seed repeats the numbers
        True
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

    Raises:
        TypeError: `shape` is not a tuple of ints, or `seed` is not an int, a
            `SeedGenerator` or None.
        ValueError: `seed` is None inside a call that has no random key (an inference
            call), as in `normal`.

    Examples:
        >>> x = np.asarray(graphnet.random.uniform((2, 3), minval=2.0, maxval=3.0, seed=0))
        >>> x.shape, x.dtype
        ((2, 3), dtype('float32'))
        >>> bool(((x >= 2.0) & (x < 3.0)).all())
        True
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

    Raises:
        TypeError: `shape` is not a tuple of ints, or `seed` is not an int, a
            `SeedGenerator` or None.
        ValueError: `seed` is None inside a call that has no random key (an inference
            call), as in `normal`.

    Examples:
        >>> x = np.asarray(graphnet.random.truncated_normal((2, 3), mean=1.0, stddev=0.5,
        ...                                                 seed=0))
        >>> x.shape
        (2, 3)
        >>> bool(((x >= 0.0) & (x <= 2.0)).all())     # within 1 +- 2 * 0.5
        True
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
        TypeError: `dtype` is not an integer dtype, `shape` is not a tuple of ints, or
            `seed` is not an int, a `SeedGenerator` or None.
        ValueError: `seed` is None inside a call that has no random key (an inference
            call), as in `normal`.

    Examples:
        >>> x = np.asarray(graphnet.random.randint((2, 3), minval=0, maxval=3, seed=0))
        >>> x.shape, x.dtype
        ((2, 3), dtype('int32'))
        >>> bool(((x >= 0) & (x < 3)).all())
        True
    """
    if not jnp.issubdtype(jnp.dtype(dtype), jnp.integer):
        raise TypeError(f"randint: dtype must be an integer dtype, received {dtype!r}")
    return jax.random.randint(_key(seed, "randint"), _shape(shape, "randint"), minval, maxval,
                              jnp.dtype(dtype))


def dropout(inputs, rate, noise_shape=None, seed=None):
    """Zeroes each entry with probability `rate` and scales the rest by 1 / (1 - rate).

    `noise_shape` (None entries take the input's size) shares one draw along the axes
    where it is 1, as Keras's `noise_shape` does.

    Args:
        inputs: the array to drop entries of.
        rate: the probability of zeroing an entry, in [0, 1].
        noise_shape: the shape of the keep/drop draw, broadcast to `inputs`' shape (None
            keeps all entries independent).
        seed: an int, a `SeedGenerator` or None, as in `normal`.

    Raises:
        ValueError: `rate` is outside [0, 1].

    Examples:
        >>> x = np.ones((2, 4), "float32")
        >>> y = np.asarray(graphnet.random.dropout(x, 0.5, noise_shape=(1, None), seed=0))
        >>> sorted(set(y.ravel().tolist()))   # dropped, or kept and scaled by 1 / 0.5
        [0.0, 2.0]
        >>> bool((y[0] == y[1]).all())        # noise_shape (1, None): one draw for all rows
        True
        >>> print(np.asarray(graphnet.random.dropout(x, 0.0)))   # rate 0: unchanged
        [[1. 1. 1. 1.]
         [1. 1. 1. 1.]]
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
    """`x` with its entries along `axis` in a random order.

    As in Keras's JAX backend, each 1-D line along `axis` is permuted on its own: the
    columns of a 2-D array shuffled along axis 0 each keep their values, but its rows are
    not kept together.

    Args:
        x: the array to shuffle.
        axis: the axis along which entries move.
        seed: an int, a `SeedGenerator` or None, as in `normal`.

    Examples:
        >>> x = np.arange(6).reshape(3, 2)
        >>> y = np.asarray(graphnet.random.shuffle(x, seed=0))
        >>> print(np.sort(y, axis=0))        # each column holds the same values
        [[0 1]
         [2 3]
         [4 5]]
    """
    return jax.random.permutation(_key(seed, "shuffle"), jnp.asarray(x), axis, independent=True)


def categorical(logits, num_samples, dtype="int32", seed=None):
    """`num_samples` class indices per row of `logits` (batch, classes): (batch, num_samples).

    Args:
        logits: unnormalized log-probabilities, shape (batch, classes).
        num_samples: how many indices to draw per row.
        dtype: the integer dtype of the result.
        seed: an int, a `SeedGenerator` or None, as in `normal`.

    Returns:
        Class indices of shape (batch, num_samples).

    Raises:
        ValueError: `logits` is not 2-D.

    Examples:
        >>> logits = np.array([[-1e9, 0.0], [0.0, -1e9]], "float32")  # one class each
        >>> print(graphnet.random.categorical(logits, 3, seed=0))
        [[1 1 1]
         [0 0 0]]
    """
    logits = jnp.asarray(logits)
    if logits.ndim != 2:
        raise ValueError(f"categorical: logits must have shape (batch, classes), received "
                         f"shape {logits.shape}")
    out = jax.random.categorical(_key(seed, "categorical"), logits[..., None],
                                 axis=1, shape=(logits.shape[0], int(num_samples)))
    return out.astype(dtype)
