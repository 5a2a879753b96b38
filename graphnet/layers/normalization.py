"""BatchNormalization and LayerNormalization with Keras 3's defaults and weight order."""
import jax
import jax.numpy as jnp

from .. import initializers, regularizers
from .base import Layer, shape_str


def _axes(axis, rank: int, who: str) -> tuple:
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    if any(not -rank <= a < rank for a in axes) or any(a % rank == 0 for a in axes):
        raise ValueError(f"{who}: axis {axis} is out of range for an input of rank {rank} "
                         f"(the batch axis cannot be normalized over)")
    return tuple(sorted(a % rank for a in axes))


def _param_shape(shape, axes):
    """Weights span the kept axes: (C,) for axis=-1, or one dim per axis."""
    return tuple(shape[a] for a in axes)


def _broadcast(weight, rank, axes):
    shape = [1] * rank
    for a, n in zip(axes, weight.shape):
        shape[a] = n
    return weight.reshape(shape)


def _float32_at_least(x):
    """Statistics in float32 under a 16-bit compute dtype, as Keras (they overflow in float16)."""
    if jnp.issubdtype(x.dtype, jnp.floating) and jnp.finfo(x.dtype).bits < 32:
        return x.astype(jnp.float32)
    return x


class _Normalization(Layer):
    """Shared gamma/beta handling: `scale` multiplies by gamma, `center` adds beta.

    Under a mixed policy the layer computes in float32 with float32 gamma and beta and casts
    its output to compute_dtype, as Keras's normalization layers do.
    """
    no_autocast_weights = ("gamma", "beta")

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True, beta_initializer="zeros",
                 gamma_initializer="ones", beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else list(axis)
        self.epsilon = float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.weight_regularizers = {"gamma": regularizers.get(gamma_regularizer),
                                    "beta": regularizers.get(beta_regularizer)}

    def _check(self, input_shape):
        who = f"{type(self).__name__} '{self.name}'"
        axes = _axes(self.axis, len(input_shape), who)
        if self.built and (len(input_shape) != self.rank or
                           _param_shape(input_shape, axes) != self.param_shape):
            raise ValueError(f"{who} was built for inputs of rank {self.rank} with sizes "
                             f"{self.param_shape} on axis {self.axis}, received shape "
                             f"{shape_str(input_shape)}")
        return axes

    def build(self, input_shape, *, generator):
        axes = self._check(input_shape)
        self.rank, self.axes = len(input_shape), axes
        self.param_shape = _param_shape(input_shape, axes)
        if None in self.param_shape:
            raise ValueError(f"{type(self).__name__} '{self.name}': the normalized axis {self.axis} "
                             f"must have a known size, received shape {shape_str(input_shape)}")
        params = {}
        if self.scale:
            params["gamma"] = self.gamma_initializer(self.param_shape, self.dtype, generator)
        if self.center:
            params["beta"] = self.beta_initializer(self.param_shape, self.dtype, generator)
        return params, {}

    def output_shape(self, input_shape):
        self._check(input_shape)
        return input_shape

    def _affine(self, params, normalized):
        if self.scale:
            normalized = normalized * _broadcast(params["gamma"], self.rank, self.axes)
        if self.center:
            normalized = normalized + _broadcast(params["beta"], self.rank, self.axes)
        return normalized

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon,
                "center": self.center, "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "beta_regularizer": regularizers.serialize(self.weight_regularizers["beta"]),
                "gamma_regularizer": regularizers.serialize(self.weight_regularizers["gamma"])}


class BatchNormalization(_Normalization):
    """Keras BatchNormalization: batch statistics when training, moving ones otherwise.

    `moving_mean`/`moving_variance` live in `state`; a training call returns them updated
    as `m * momentum + batch_stat * (1 - momentum)`. The variance is the biased one, as Keras.
    A frozen layer (`trainable=False`) always uses and keeps its moving statistics (Keras 3).
    """
    batch_dependent = True             # batch statistics: padded rows would shift them
    weight_names = ("gamma", "beta", "moving_mean", "moving_variance")
    supports_masking = True

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, **kwargs):
        super().__init__(axis, epsilon, center, scale, beta_initializer, gamma_initializer,
                         beta_regularizer, gamma_regularizer, **kwargs)
        self.momentum = float(momentum)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)

    def build(self, input_shape, *, generator):
        params, _ = super().build(input_shape, generator=generator)
        state = {"moving_mean": self.moving_mean_initializer(self.param_shape, self.dtype, generator),
                 "moving_variance": self.moving_variance_initializer(self.param_shape, self.dtype, generator)}
        return params, state

    def _moments(self, x, mask):
        reduce = tuple(a for a in range(self.rank) if a not in self.axes)
        if mask is None:
            mean = jnp.mean(x, axis=reduce, keepdims=True)
            return mean, jnp.mean(jnp.square(x - mean), axis=reduce, keepdims=True)
        weights = jnp.broadcast_to(mask[..., None], x.shape).astype(x.dtype)
        count = jnp.sum(weights, axis=reduce, keepdims=True) + jnp.asarray(1e-7, x.dtype)
        mean = jnp.sum(x * weights, axis=reduce, keepdims=True) / count
        var = jnp.sum(jnp.square(x - mean) * weights, axis=reduce, keepdims=True) / count
        return mean, var

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        x = _float32_at_least(x)
        if training and self.trainable:
            mean, var = self._moments(x, mask)
            m = jnp.asarray(self.momentum, x.dtype)
            new_state = {"moving_mean": state["moving_mean"] * m + mean.reshape(self.param_shape) * (1 - m),
                         "moving_variance": state["moving_variance"] * m
                         + var.reshape(self.param_shape) * (1 - m)}
        else:
            mean = _broadcast(state["moving_mean"], self.rank, self.axes)
            var = _broadcast(state["moving_variance"], self.rank, self.axes)
            new_state = state
        normalized = (x - mean) * jax.lax.rsqrt(var + jnp.asarray(self.epsilon, x.dtype))
        return self._affine(params, normalized).astype(self.compute_dtype), new_state

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum,
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(self.moving_variance_initializer)}


class LayerNormalization(_Normalization):
    """Keras LayerNormalization: normalize each sample over `axis` (the last by default).

    Its inputs are not cast to compute_dtype (Keras sets autocast off for it)."""
    weight_names = ("gamma", "beta")
    supports_masking = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.autocast = False

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        x = _float32_at_least(x)
        mean = jnp.mean(x, axis=self.axes, keepdims=True)
        var = jnp.mean(jnp.square(x - mean), axis=self.axes, keepdims=True)
        normalized = (x - mean) * jax.lax.rsqrt(var + jnp.asarray(self.epsilon, x.dtype))
        return self._affine(params, normalized).astype(self.compute_dtype), state
