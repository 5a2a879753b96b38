"""Activation layers with arguments: ReLU, LeakyReLU, Softmax, ELU, PReLU (Keras's formulas)."""
import jax
import jax.numpy as jnp

from .. import initializers, regularizers
from .base import Layer, shape_str


class _Elementwise(Layer):
    supports_masking = True

    def output_shape(self, input_shape):
        return input_shape

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        return self.fn(x), state


class ReLU(_Elementwise):
    """Keras ReLU(max_value=None, negative_slope=0.0, threshold=0.0):
    `x` above `threshold`, `negative_slope * (x - threshold)` below, capped at `max_value`.

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.ReLU(max_value=0.8, threshold=0.1)(x).shape
        (None, 4)
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0:
            raise ValueError(f"ReLU '{self.name}': max_value must be >= 0 or None, received "
                             f"{max_value}")
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"ReLU '{self.name}': negative_slope must be >= 0, received "
                             f"{negative_slope}")
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope, self.threshold = float(negative_slope), float(threshold)

    def fn(self, x):
        below = jnp.where(x >= self.threshold, jnp.zeros_like(x), x - self.threshold)
        y = jnp.where(x > self.threshold, x, jnp.zeros_like(x)) if self.threshold else jax.nn.relu(x)
        if self.max_value is not None:
            y = jnp.clip(y, 0, self.max_value)
        return y + self.negative_slope * below if self.negative_slope else y

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(_Elementwise):
    """Keras LeakyReLU: x where x >= 0, else negative_slope * x (default 0.3, unlike the
    `leaky_relu` function's 0.2, as in Keras).

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.LeakyReLU(negative_slope=0.2)(x).shape
        (None, 4)
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:                      # Keras 2's name, still accepted by Keras 3
            negative_slope = kwargs.pop("alpha")
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(f"LeakyReLU '{self.name}': negative_slope must be >= 0, received "
                             f"{negative_slope}")
        self.negative_slope = float(negative_slope)

    def fn(self, x):
        return jax.nn.leaky_relu(x, self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_Elementwise):
    """Keras ELU(alpha=1.0): x for x > 0, alpha * (exp(x) - 1) otherwise.

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.ELU(alpha=0.7)(x).shape
        (None, 4)
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = float(alpha)

    def fn(self, x):
        return jax.nn.elu(x, self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class Softmax(_Elementwise):
    """Keras Softmax(axis=-1); masked positions get a large negative logit first (Keras's
    rule), so they receive ~0 probability.

    Examples:
        >>> x = graphnet.Input(shape=(3, 2))
        >>> layers.Softmax(axis=1)(x).shape
        (None, 3, 2)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else list(axis)

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        axis = self.axis if isinstance(self.axis, int) else tuple(self.axis)
        if mask is not None:
            large = -1e9 if x.dtype == jnp.float32 else -3e4
            x = x + (1.0 - mask.astype(x.dtype).reshape(mask.shape + (1,) * (x.ndim - mask.ndim))
                     ) * jnp.asarray(large, x.dtype)
        if isinstance(axis, tuple):
            return jnp.exp(x - jax.nn.logsumexp(x, axis=axis, keepdims=True)), state
        return jax.nn.softmax(x, axis=axis), state

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class PReLU(Layer):
    """Keras PReLU: `max(x, 0) - alpha * max(-x, 0)`, a learned `alpha` per element of the
    sample shape (size 1 along `shared_axes`, 1-indexed like Keras).

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.PReLU()(x).shape
        (None, 4)
    """
    weight_names = ("alpha",)
    supports_masking = True

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        if alpha_constraint is not None:
            raise ValueError(f"PReLU '{self.name}': alpha_constraint is not supported")
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.weight_regularizers = {"alpha": regularizers.get(alpha_regularizer)}
        if shared_axes is None:
            self.shared_axes = None
        else:
            self.shared_axes = [int(a) for a in (shared_axes if isinstance(shared_axes, (list, tuple))
                                                 else [shared_axes])]

    def _alpha_shape(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis < len(input_shape):
                raise ValueError(f"PReLU '{self.name}': shared_axes {self.shared_axes} must be in "
                                 f"1..{len(input_shape) - 1} for input shape "
                                 f"{shape_str(input_shape)}")
            shape[axis - 1] = 1
        if None in shape:
            raise ValueError(f"PReLU '{self.name}' needs known sizes for the axes it does not "
                             f"share, received input shape {shape_str(input_shape)}")
        return tuple(shape)

    def build(self, input_shape, *, generator):
        self.alpha_shape = self._alpha_shape(input_shape)
        return {"alpha": self.alpha_initializer(self.alpha_shape, self.dtype, generator)}, {}

    def output_shape(self, input_shape):
        if self.built and self._alpha_shape(input_shape) != self.alpha_shape:
            raise ValueError(f"PReLU '{self.name}' was built for alpha of shape "
                             f"{self.alpha_shape}, received input shape {shape_str(input_shape)}")
        return input_shape

    def call(self, params, state, x, *, training=False, rng=None):
        return jax.nn.relu(x) - params["alpha"] * jax.nn.relu(-x), state

    def get_config(self):
        return {**super().get_config(),
                "alpha_initializer": initializers.serialize(self.alpha_initializer),
                "alpha_regularizer": regularizers.serialize(self.weight_regularizers["alpha"]),
                "alpha_constraint": None, "shared_axes": self.shared_axes}
