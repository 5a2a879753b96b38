"""Reshaping layers, channels-last: UpSampling, ZeroPadding and Cropping in 1D, 2D and 3D.

One implementation per kind, for any number of spatial axes; the 1D/2D/3D classes only fix the
rank and Keras's argument forms.
"""
import jax
import jax.numpy as jnp

from .base import Layer, shape_str
from .convolutional import check_data_format, int_tuple


def _pairs(value, rank, arg, who):
    """Keras's padding/cropping forms: an int, `rank` ints (symmetric), or `rank` pairs."""
    def bad():
        raise ValueError(f"{who}: {arg} must be an int, a tuple of {rank} ints or a tuple of "
                         f"{rank} (before, after) pairs of non-negative ints, received {value!r}")

    def check(v):
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            bad()
        return v
    if isinstance(value, int) and not isinstance(value, bool):
        return tuple((check(value), value) for _ in range(rank))
    try:
        items = list(value)
    except TypeError:
        bad()
    if rank == 1 and len(items) == 2 and all(isinstance(v, int) for v in items):
        return ((check(items[0]), check(items[1])),)        # 1D: (before, after)
    if len(items) != rank:
        bad()
    out = []
    for item in items:
        if isinstance(item, int) and not isinstance(item, bool):
            out.append((check(item), item))
        else:
            try:
                a, b = item
            except (TypeError, ValueError):
                bad()
            out.append((check(a), check(b)))
    return tuple(out)


class _Spatial(Layer):
    """Checks an input of rank `rank + 2` (batch, *spatial, channels)."""
    rank = 1

    def _check_rank(self, input_shape):
        if len(input_shape) != self.rank + 2:
            axes = {1: "steps", 2: "rows, cols"}.get(self.rank, "dim1, dim2, dim3")
            raise ValueError(f"{type(self).__name__} '{self.name}' expects an input of rank "
                             f"{self.rank + 2} (batch, {axes}, channels), received shape "
                             f"{shape_str(input_shape)}")


class _UpSampling(_Spatial):
    def __init__(self, size, interpolation="nearest", data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = f"{type(self).__name__} '{self.name}'"
        self.size = int_tuple(size, self.rank, "size", who)
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{who}: interpolation must be 'nearest' or 'bilinear', received "
                             f"{interpolation!r}")
        self.interpolation = interpolation
        self.data_format = check_data_format(data_format, who)

    def output_shape(self, input_shape):
        self._check_rank(input_shape)
        spatial = [None if n is None else n * s for n, s in zip(input_shape[1:-1], self.size)]
        return (input_shape[0], *spatial, input_shape[-1])

    def call(self, params, state, x, *, training=False, rng=None):
        if self.interpolation == "nearest":
            for axis, s in enumerate(self.size, start=1):
                x = jnp.repeat(x, s, axis=axis)
            return x, state
        shape = (x.shape[0], *(n * s for n, s in zip(x.shape[1:-1], self.size)), x.shape[-1])
        return jax.image.resize(x, shape, method="bilinear", antialias=False).astype(x.dtype), state


class UpSampling1D(_UpSampling):
    """Keras UpSampling1D(size=2): each step repeated `size` times.

    Examples:
        >>> x = graphnet.Input(shape=(3, 2))
        >>> layers.UpSampling1D(2)(x).shape
        (None, 6, 2)
    """
    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(size, **kwargs)

    def get_config(self):
        return {**Layer.get_config(self), "size": self.size[0]}


class UpSampling2D(_UpSampling):
    """Keras UpSampling2D(size=(2, 2), interpolation="nearest"|"bilinear"); bilinear is
    `jax.image.resize`, as Keras's JAX backend does it.

    Examples:
        >>> x = graphnet.Input(shape=(2, 3, 2))
        >>> layers.UpSampling2D((2, 1))(x).shape
        (None, 4, 3, 2)
    """
    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(size, interpolation, data_format, **kwargs)

    def get_config(self):
        return {**Layer.get_config(self), "size": list(self.size),
                "data_format": self.data_format, "interpolation": self.interpolation}


class UpSampling3D(_UpSampling):
    """Keras UpSampling3D(size=(2, 2, 2)): each of the three spatial axes repeated.

    Examples:
        >>> x = graphnet.Input(shape=(2, 2, 2, 2))
        >>> layers.UpSampling3D(2)(x).shape
        (None, 4, 4, 4, 2)
    """
    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(size, "nearest", data_format, **kwargs)

    def get_config(self):
        return {**Layer.get_config(self), "size": list(self.size),
                "data_format": self.data_format}


class _Padding(_Spatial):
    """ZeroPadding (sign +1) and Cropping (sign -1) on the spatial axes."""
    arg, sign = "padding", 1

    def __init__(self, amounts, data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = f"{type(self).__name__} '{self.name}'"
        self.amounts = _pairs(amounts, self.rank, self.arg, who)
        self.data_format = check_data_format(data_format, who)

    def output_shape(self, input_shape):
        self._check_rank(input_shape)
        spatial = [None if n is None else n + self.sign * (a + b)
                   for n, (a, b) in zip(input_shape[1:-1], self.amounts)]
        if any(n is not None and n <= 0 for n in spatial):
            raise ValueError(f"{type(self).__name__} '{self.name}': cropping {self.amounts} "
                             f"leaves nothing of an input of shape {shape_str(input_shape)}")
        return (input_shape[0], *spatial, input_shape[-1])

    def call(self, params, state, x, *, training=False, rng=None):
        if self.sign > 0:
            return jnp.pad(x, ((0, 0), *self.amounts, (0, 0))), state
        index = tuple(slice(a, n - b) for (a, b), n in zip(self.amounts, x.shape[1:-1]))
        return x[(slice(None), *index)], state

    def get_config(self):
        value = (list(self.amounts[0]) if self.rank == 1
                 else [list(p) for p in self.amounts])
        config = {**super().get_config(), self.arg: value}
        if self.rank > 1:
            config["data_format"] = self.data_format
        return config


class ZeroPadding1D(_Padding):
    """Keras ZeroPadding1D(padding=1): zeros before/after the steps (an int or a pair).

    Examples:
        >>> x = graphnet.Input(shape=(3, 2))
        >>> layers.ZeroPadding1D((1, 2))(x).shape
        (None, 6, 2)
    """
    rank = 1

    def __init__(self, padding=1, **kwargs):
        super().__init__(padding, **kwargs)


class ZeroPadding2D(_Padding):
    """Keras ZeroPadding2D(padding=(1, 1)): an int, (rows, cols) or ((top, bottom), (left,
    right)).

    Examples:
        >>> x = graphnet.Input(shape=(2, 3, 2))
        >>> layers.ZeroPadding2D(((1, 0), (0, 2)))(x).shape
        (None, 3, 5, 2)
    """
    rank = 2

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class Cropping1D(_Padding):
    """Keras Cropping1D(cropping=(1, 1)): steps removed before/after.

    Examples:
        >>> x = graphnet.Input(shape=(6, 2))
        >>> layers.Cropping1D((1, 2))(x).shape
        (None, 3, 2)
    """
    rank, arg, sign = 1, "cropping", -1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(cropping, **kwargs)


class Cropping2D(_Padding):
    """Keras Cropping2D(cropping=((0, 0), (0, 0))): rows and cols removed at each edge.

    Examples:
        >>> x = graphnet.Input(shape=(4, 5, 2))
        >>> layers.Cropping2D(((1, 0), (0, 2)))(x).shape
        (None, 3, 3, 2)
    """
    rank, arg, sign = 2, "cropping", -1

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)


class ZeroPadding3D(_Padding):
    """Keras ZeroPadding3D(padding=((1, 1), (1, 1), (1, 1))): an int, three ints or three
    (before, after) pairs.

    Examples:
        >>> x = graphnet.Input(shape=(2, 2, 2, 2))
        >>> layers.ZeroPadding3D(1)(x).shape
        (None, 4, 4, 4, 2)
    """
    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(padding, data_format, **kwargs)


class Cropping3D(_Padding):
    """Keras Cropping3D(cropping=((1, 1), (1, 1), (1, 1))): removed at each edge of the three
    spatial axes.

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 4, 2))
        >>> layers.Cropping3D(1)(x).shape
        (None, 2, 2, 2, 2)
    """
    rank, arg, sign = 3, "cropping", -1

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(cropping, data_format, **kwargs)
