"""BatchNormalization, LayerNormalization, GroupNormalization, UnitNormalization and
RMSNormalization with Keras 3's defaults and weight order."""
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

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.BatchNormalization()(x).shape
        (None, 4)
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

    Its inputs are not cast to compute_dtype (Keras sets autocast off for it).

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.LayerNormalization()(x).shape
        (None, 4)
    """
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


class GroupNormalization(_Normalization):
    """Keras GroupNormalization(groups=32, axis=-1, epsilon=1e-3): normalize each sample over
    groups of channels (`groups=-1`: one channel per group, instance normalization).

    Written as Keras computes it (`x * inv + (beta - mean * inv)`, `inv = gamma /
    sqrt(var + epsilon)`), in float32 under a 16-bit policy.

    Examples:
        >>> x = graphnet.Input(shape=(3, 4))
        >>> layers.GroupNormalization(groups=2)(x).shape
        (None, 3, 4)
    """
    weight_names = ("gamma", "beta")
    supports_masking = True

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, **kwargs):
        if not isinstance(groups, int) or isinstance(groups, bool) or (groups <= 0
                                                                       and groups != -1):
            raise ValueError(f"GroupNormalization: groups must be a positive int (or -1 for "
                             f"instance normalization), received {groups!r}")
        if not isinstance(axis, int):
            raise TypeError(f"GroupNormalization: axis must be an int, received {axis!r}")
        super().__init__(axis, epsilon, **kwargs)
        self.groups = groups
        self.autocast = False

    def _check(self, input_shape):
        axes = super()._check(input_shape)
        dim = input_shape[axes[0]]
        groups = dim if self.groups == -1 else self.groups
        if dim is not None and (dim < groups or dim % groups):
            raise ValueError(f"GroupNormalization '{self.name}': {dim} channels on axis "
                             f"{self.axis} cannot be split into {groups} groups of equal size")
        return axes

    def build(self, input_shape, *, generator):
        built = super().build(input_shape, generator=generator)
        if self.groups == -1:
            self.groups = self.param_shape[0]      # Keras records the channel count
        return built

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        x = _float32_at_least(x)
        axis = self.axes[0]
        grouped_shape = (*x.shape[:axis], self.groups, x.shape[axis] // self.groups,
                         *x.shape[axis + 1:])
        grouped = x.reshape(grouped_shape)
        reduce = tuple(a for a in range(1, len(grouped_shape)) if a != axis)
        mean = jnp.mean(grouped, axis=reduce, keepdims=True)
        var = jnp.var(grouped, axis=reduce, keepdims=True)
        weight_shape = [1] * len(grouped_shape)
        weight_shape[axis:axis + 2] = [self.groups, x.shape[axis] // self.groups]
        inv = jax.lax.rsqrt(var + jnp.asarray(self.epsilon, x.dtype))
        if self.scale:
            inv = inv * params["gamma"].astype(x.dtype).reshape(weight_shape)
        res = -mean * inv
        if self.center:
            res = res + params["beta"].astype(x.dtype).reshape(weight_shape)
        out = (grouped * inv + res).reshape(x.shape)
        return out.astype(self.compute_dtype), state

    def get_config(self):
        return {**super().get_config(), "groups": self.groups}


class UnitNormalization(Layer):
    """Keras UnitNormalization(axis=-1): each sample scaled to unit L2 norm over `axis`,
    as `x * min(rsqrt(sum(x^2)), 1e12)` (a zero vector stays zero).

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.UnitNormalization()(x).shape
        (None, 4)
    """
    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        if not isinstance(axis, (int, list, tuple)):
            raise TypeError(f"UnitNormalization: axis must be an int or a list of ints, "
                            f"received {axis!r}")
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else list(axis)

    def output_shape(self, input_shape):
        _axes(self.axis, len(input_shape), f"UnitNormalization '{self.name}'")
        return input_shape

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        axes = _axes(self.axis, x.ndim, f"UnitNormalization '{self.name}'")
        inv_norm = jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axes, keepdims=True))
        return x * jnp.minimum(inv_norm, jnp.asarray(1.0 / 1e-12, x.dtype)), state

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class RMSNormalization(Layer):
    """Keras RMSNormalization(axis=-1, epsilon=1e-6): `x * rsqrt(mean(x^2) + epsilon) * scale`
    over `axis`, one `scale` weight per normalized position.

    The axes must be the last ones: Keras multiplies by `scale` by broadcasting from the
    right, so other axes would scale the wrong positions.

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.RMSNormalization()(x).shape
        (None, 4)
    """
    weight_names = ("scale",)
    supports_masking = False            # as Keras 3: a mask stops here

    def __init__(self, axis=-1, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else list(axis)
        self.epsilon = float(epsilon)

    def _check(self, input_shape):
        rank = len(input_shape)
        axes = _axes(self.axis, rank, f"RMSNormalization '{self.name}'")
        if axes != tuple(range(rank - len(axes), rank)):
            raise ValueError(f"RMSNormalization '{self.name}': axis {self.axis} must name the "
                             f"last axes of an input of rank {rank} (Keras broadcasts `scale` "
                             f"from the right)")
        if any(input_shape[a] is None for a in axes):
            raise ValueError(f"RMSNormalization '{self.name}': the normalized axes must have "
                             f"known sizes, received shape {shape_str(input_shape)}")
        shape = _param_shape(input_shape, axes)
        if self.built and shape != self.param_shape:
            raise ValueError(f"RMSNormalization '{self.name}' was built for sizes "
                             f"{self.param_shape} on axis {self.axis}, received shape "
                             f"{shape_str(input_shape)}")
        return axes, shape

    def output_shape(self, input_shape):
        self._check(input_shape)
        return input_shape

    def build(self, input_shape, *, generator):
        self.axes, self.param_shape = self._check(input_shape)
        return {"scale": jnp.ones(self.param_shape, self.dtype)}, {}

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        x32 = _float32_at_least(x)
        rrms = jax.lax.rsqrt(jnp.mean(jnp.square(x32), axis=self.axes, keepdims=True)
                             + jnp.asarray(self.epsilon, x32.dtype))
        out = x32 * rrms * params["scale"].astype(x32.dtype)
        return out.astype(x.dtype), state

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "epsilon": self.epsilon}
