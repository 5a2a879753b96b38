"""Keras's adaptive pooling layers (1D/2D/3D, average and max), channels-last.

Output position i of an axis of length L pools `[floor(i L / n), ceil((i + 1) L / n))`.
As Keras's JAX backend does, each axis in turn is pooled with the two window sizes that occur
(`ceil(L / n)` and one more) and the right one gathered per position; averaging axis by axis
gives the mean over the box.
"""
import math

import jax.numpy as jnp
from jax import lax

from .base import Layer, shape_str
from .convolutional import check_data_format, int_tuple


def _pool_axis(x, axis, out, average):
    length = x.shape[axis]
    small = math.ceil(length / out)
    big = small + 1
    starts = [math.floor(i * length / out) for i in range(out)]
    ends = [math.ceil((i + 1) * length / out) for i in range(out)]

    def pool(size):
        window = [1] * x.ndim
        window[axis] = size
        if average:
            summed = lax.reduce_window(x, jnp.asarray(0, x.dtype), lax.add, window,
                                       (1,) * x.ndim, "valid")
            return summed / jnp.asarray(size, x.dtype)
        return lax.reduce_window(x, jnp.asarray(-jnp.inf, x.dtype), lax.max, window,
                                 (1,) * x.ndim, "valid")
    pools = [pool(small)]
    small_len = length - small + 1
    if big <= length:
        pools.append(pool(big))
    index = [s + small_len if e - s == big else s for s, e in zip(starts, ends)]
    return jnp.take(jnp.concatenate(pools, axis=axis), jnp.asarray(index), axis=axis)


class _AdaptivePooling(Layer):
    """Shared arguments and shapes: `output_size` per spatial axis."""
    rank = 1
    average = True

    def __init__(self, output_size, data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = f"{type(self).__name__} '{self.name}'"
        if isinstance(output_size, (list, tuple)) and len(output_size) != self.rank:
            raise TypeError(f"{who}: output_size must be an int or a tuple of {self.rank} ints, "
                            f"received {output_size!r}")
        self.output_size = int_tuple(output_size, self.rank, "output_size", who)
        self.data_format = check_data_format(data_format, who)

    def output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects an input of rank "
                             f"{self.rank + 2} (batch, {self.rank} spatial axes, channels), "
                             f"received shape {shape_str(input_shape)}")
        if any(n is None for n in input_shape[1:-1]):
            raise ValueError(f"{type(self).__name__} '{self.name}' needs known spatial sizes, "
                             f"received shape {shape_str(input_shape)}")
        return (input_shape[0], *self.output_size, input_shape[-1])

    def call(self, params, state, x, *, training=False, rng=None):
        for axis, out in enumerate(self.output_size, start=1):
            x = _pool_axis(x, axis, out, self.average)
        return x, state

    def get_config(self):
        return {**super().get_config(), "output_size": list(self.output_size),
                "data_format": self.data_format}


class AdaptiveAveragePooling1D(_AdaptivePooling):
    """Keras AdaptiveAveragePooling1D(output_size): the mean over adaptive windows of steps.

    Examples:
        >>> x = graphnet.Input(shape=(7, 2))
        >>> layers.AdaptiveAveragePooling1D(3)(x).shape
        (None, 3, 2)
    """
    rank, average = 1, True


class AdaptiveAveragePooling2D(_AdaptivePooling):
    """Keras AdaptiveAveragePooling2D(output_size): the mean over adaptive boxes of rows and
    columns.

    Examples:
        >>> x = graphnet.Input(shape=(5, 5, 2))
        >>> layers.AdaptiveAveragePooling2D(2)(x).shape
        (None, 2, 2, 2)
    """
    rank, average = 2, True


class AdaptiveAveragePooling3D(_AdaptivePooling):
    """Keras AdaptiveAveragePooling3D(output_size): the mean over adaptive 3D boxes.

    Examples:
        >>> x = graphnet.Input(shape=(3, 3, 3, 2))
        >>> layers.AdaptiveAveragePooling3D(2)(x).shape
        (None, 2, 2, 2, 2)
    """
    rank, average = 3, True


class AdaptiveMaxPooling1D(_AdaptivePooling):
    """Keras AdaptiveMaxPooling1D(output_size): the maximum over adaptive windows of steps.

    Examples:
        >>> x = graphnet.Input(shape=(7, 2))
        >>> layers.AdaptiveMaxPooling1D(3)(x).shape
        (None, 3, 2)
    """
    rank, average = 1, False


class AdaptiveMaxPooling2D(_AdaptivePooling):
    """Keras AdaptiveMaxPooling2D(output_size): the maximum over adaptive boxes of rows and
    columns.

    Examples:
        >>> x = graphnet.Input(shape=(5, 5, 2))
        >>> layers.AdaptiveMaxPooling2D(2)(x).shape
        (None, 2, 2, 2)
    """
    rank, average = 2, False


class AdaptiveMaxPooling3D(_AdaptivePooling):
    """Keras AdaptiveMaxPooling3D(output_size): the maximum over adaptive 3D boxes.

    Examples:
        >>> x = graphnet.Input(shape=(3, 3, 3, 2))
        >>> layers.AdaptiveMaxPooling3D(2)(x).shape
        (None, 2, 2, 2, 2)
    """
    rank, average = 3, False
