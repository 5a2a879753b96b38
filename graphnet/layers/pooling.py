"""Pooling layers, channels-last: windowed max/average and global max/average."""
import jax.numpy as jnp

from .. import _conv as ops
from .base import Layer, shape_str
from .convolutional import check_data_format, int_tuple

_AXES = {1: "steps", 2: "rows, cols", 3: "depth, rows, cols"}


class _Pooling(Layer):
    """Keras Max/AveragePoolingND: `strides` default to `pool_size`; all run `ops.pool`."""
    rank, kind = 2, "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = f"{type(self).__name__} '{self.name}'"
        self.pool_size = int_tuple(pool_size, self.rank, "pool_size", who)
        self.strides = self.pool_size if strides is None else int_tuple(strides, self.rank, "strides", who)
        if not isinstance(padding, str) or padding.lower() not in ("valid", "same"):
            raise ValueError(f"{who}: padding must be 'valid' or 'same', received {padding!r}")
        self.padding = padding.lower()
        self.data_format = check_data_format(data_format, who)

    def output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects an input of rank "
                             f"{self.rank + 2} (batch, {_AXES[self.rank]}, channels), received "
                             f"shape {shape_str(input_shape)}")
        spatial = tuple(ops.conv_output_length(n, p, s, 1, self.padding)
                        for n, p, s in zip(input_shape[1:-1], self.pool_size, self.strides))
        if any(n is not None and n <= 0 for n in spatial):
            raise ValueError(f"{type(self).__name__} '{self.name}' (pool_size={self.pool_size}) "
                             f"gets an input too small, shape {shape_str(input_shape)}")
        return (input_shape[0], *spatial, input_shape[-1])

    def call(self, params, state, x, *, training=False, rng=None):
        return ops.pool(x, self.pool_size, self.strides, self.padding, self.kind), state

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format}


class MaxPooling1D(_Pooling):
    """Keras MaxPooling1D(pool_size=2) over (batch, steps, channels).

    Examples:
        >>> x = graphnet.Input(shape=(6, 2))
        >>> layers.MaxPooling1D(2)(x).shape
        (None, 3, 2)
    """
    rank, kind = 1, "max"


class AveragePooling1D(_Pooling):
    """Keras AveragePooling1D(pool_size); "same" windows average their real elements.
    `pool_size` has no default, as in Keras.

    Examples:
        >>> x = graphnet.Input(shape=(6, 2))
        >>> layers.AveragePooling1D(2)(x).shape
        (None, 3, 2)
    """
    rank, kind = 1, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling2D(_Pooling):
    """Keras MaxPooling2D(pool_size=(2, 2)) over (batch, rows, cols, channels).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 2))
        >>> layers.MaxPooling2D(2)(x).shape
        (None, 2, 2, 2)
    """
    rank, kind = 2, "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling2D(_Pooling):
    """Keras AveragePooling2D(pool_size); "same" windows average their real elements.
    `pool_size` has no default, as in Keras.

    Examples:
        >>> x = graphnet.Input(shape=(5, 5, 2))
        >>> layers.AveragePooling2D(2, padding="same")(x).shape
        (None, 3, 3, 2)
    """
    rank, kind = 2, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class MaxPooling3D(_Pooling):
    """Keras MaxPooling3D(pool_size=(2, 2, 2)) over (batch, depth, rows, cols, channels).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 4, 2))
        >>> layers.MaxPooling3D(2)(x).shape
        (None, 2, 2, 2, 2)
    """
    rank, kind = 3, "max"

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class AveragePooling3D(_Pooling):
    """Keras AveragePooling3D(pool_size); "same" windows average their real elements.
    `pool_size` has no default, as in Keras.

    Examples:
        >>> x = graphnet.Input(shape=(3, 3, 3, 2))
        >>> layers.AveragePooling3D(2, padding="same")(x).shape
        (None, 2, 2, 2, 2)
    """
    rank, kind = 3, "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling(Layer):
    """Keras Global{Max,Average}PoolingND: reduce the spatial axes, optionally keeping them."""
    rank, kind = 2, "max"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, f"{type(self).__name__} '{self.name}'")
        self.keepdims = bool(keepdims)

    def output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects an input of rank "
                             f"{self.rank + 2} (batch, {_AXES[self.rank]}, channels), received "
                             f"shape {shape_str(input_shape)}")
        if self.keepdims:
            return (input_shape[0], *(1,) * self.rank, input_shape[-1])
        return (input_shape[0], input_shape[-1])

    def call(self, params, state, x, *, training=False, rng=None):
        axes = tuple(range(1, self.rank + 1))
        reduce = jnp.max if self.kind == "max" else jnp.mean
        return reduce(x, axis=axes, keepdims=self.keepdims), state

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format, "keepdims": self.keepdims}


class GlobalMaxPooling1D(_GlobalPooling):
    """Keras GlobalMaxPooling1D: max over steps.

    Examples:
        >>> x = graphnet.Input(shape=(6, 2))
        >>> layers.GlobalMaxPooling1D()(x).shape
        (None, 2)
    """
    rank, kind = 1, "max"


class GlobalMaxPooling2D(_GlobalPooling):
    """Keras GlobalMaxPooling2D: max over rows and cols.

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 2))
        >>> layers.GlobalMaxPooling2D()(x).shape
        (None, 2)
    """
    rank, kind = 2, "max"


class GlobalAveragePooling2D(_GlobalPooling):
    """Keras GlobalAveragePooling2D: mean over rows and cols.

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 2))
        >>> layers.GlobalAveragePooling2D()(x).shape
        (None, 2)
    """
    rank, kind = 2, "average"


class GlobalAveragePooling1D(_GlobalPooling):
    """Keras GlobalAveragePooling1D: mean over steps, over unmasked steps only given a mask.

    Examples:
        >>> x = graphnet.Input(shape=(6, 2))
        >>> layers.GlobalAveragePooling1D()(x).shape
        (None, 2)
    """
    rank, kind = 1, "average"
    supports_masking = True

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        if mask is None:
            return super().call(params, state, x)
        weights = mask.astype(x.dtype)[..., None]
        total = jnp.sum(x * weights, axis=1, keepdims=self.keepdims)
        return total / jnp.sum(weights, axis=1, keepdims=self.keepdims), state

    def compute_mask(self, inputs, mask=None):
        return None


class GlobalMaxPooling3D(_GlobalPooling):
    """Keras GlobalMaxPooling3D: max over depth, rows and cols.

    Examples:
        >>> x = graphnet.Input(shape=(3, 3, 3, 2))
        >>> layers.GlobalMaxPooling3D()(x).shape
        (None, 2)
    """
    rank, kind = 3, "max"


class GlobalAveragePooling3D(_GlobalPooling):
    """Keras GlobalAveragePooling3D: mean over depth, rows and cols.

    Examples:
        >>> x = graphnet.Input(shape=(3, 3, 3, 2))
        >>> layers.GlobalAveragePooling3D()(x).shape
        (None, 2)
    """
    rank, kind = 3, "average"
