"""Regularization layers active only when training: GaussianNoise, GaussianDropout, AlphaDropout
and the spatial dropouts (whole channels dropped, Keras's noise shapes); ActivityRegularization."""
import jax

from .. import regularizers
from .base import Layer
from .core import Dropout


def _need_rng(layer, rng):
    if rng is None:
        raise ValueError(f"{type(layer).__name__} '{layer.name}' needs a random key when "
                         f"training=True: pass rng= to apply")


class GaussianNoise(Layer):
    """Keras GaussianNoise(stddev): adds N(0, stddev^2) noise when training; identity
    otherwise.

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.GaussianNoise(0.5)(x).shape
        (None, 4)
    """
    supports_masking = True

    @property
    def uses_rng(self) -> bool:
        return self.stddev > 0

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not stddev >= 0:
            raise ValueError(f"GaussianNoise '{self.name}': stddev must be >= 0, received "
                             f"{stddev!r}")
        self.stddev, self.seed = float(stddev), seed

    def output_shape(self, input_shape):
        return input_shape

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        if not training or self.stddev == 0:
            return x, state
        _need_rng(self, rng)
        return x + self.stddev * jax.random.normal(rng, x.shape, x.dtype), state

    def get_config(self):
        return {**super().get_config(), "stddev": self.stddev, "seed": self.seed}


class GaussianDropout(Layer):
    """Keras GaussianDropout(rate): multiplies by N(1, rate / (1 - rate)) noise when
    training; identity otherwise.

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.GaussianDropout(0.3)(x).shape
        (None, 4)
    """
    supports_masking = True

    @property
    def uses_rng(self) -> bool:
        return self.rate > 0

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate < 1:
            raise ValueError(f"GaussianDropout '{self.name}': rate must be in [0, 1), received "
                             f"{rate!r}")
        self.rate, self.seed = float(rate), seed

    def output_shape(self, input_shape):
        return input_shape

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        if not training or self.rate == 0:
            return x, state
        _need_rng(self, rng)
        stddev = (self.rate / (1.0 - self.rate)) ** 0.5
        return x * (1.0 + stddev * jax.random.normal(rng, x.shape, x.dtype)), state

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed}


class _SpatialDropout(Dropout):
    """Dropout of whole channels: one draw per (sample, channel), shared over the spatial
    axes."""
    rank = 1

    def __init__(self, rate, seed=None, **kwargs):
        kwargs.pop("noise_shape", None)
        data_format = kwargs.pop("data_format", None)
        super().__init__(rate, noise_shape=(None, *(1,) * self.rank, None), seed=seed, **kwargs)
        if data_format not in (None, "channels_last"):
            raise ValueError(f"{type(self).__name__} '{self.name}': graphnet layers are "
                             f"channels-last; data_format must be None or 'channels_last', "
                             f"received {data_format!r}")

    def output_shape(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects an input of rank "
                             f"{self.rank + 2}, received shape {input_shape}")
        return input_shape

    def get_config(self):
        config = super().get_config()
        del config["noise_shape"]
        return config


class SpatialDropout1D(_SpatialDropout):
    """Keras SpatialDropout1D(rate): drops whole channels of (batch, steps, channels).

    Examples:
        >>> x = graphnet.Input(shape=(5, 2))
        >>> layers.SpatialDropout1D(0.3)(x).shape
        (None, 5, 2)
    """
    rank = 1


class SpatialDropout2D(_SpatialDropout):
    """Keras SpatialDropout2D(rate): drops whole channels of (batch, rows, cols, channels).

    Examples:
        >>> x = graphnet.Input(shape=(3, 3, 2))
        >>> layers.SpatialDropout2D(0.3)(x).shape
        (None, 3, 3, 2)
    """
    rank = 2

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last"}


class SpatialDropout3D(_SpatialDropout):
    """Keras SpatialDropout3D(rate): drops whole channels of 3D feature maps.

    Examples:
        >>> x = graphnet.Input(shape=(2, 2, 2, 2))
        >>> layers.SpatialDropout3D(0.3)(x).shape
        (None, 2, 2, 2, 2)
    """
    rank = 3

    def get_config(self):
        return {**super().get_config(), "data_format": "channels_last"}




class AlphaDropout(Layer):
    """Keras AlphaDropout(rate, noise_shape=None): dropped values set to SELU's negative
    saturation, then an affine map that keeps the mean and variance (self-normalizing
    networks); identity when not training.

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.AlphaDropout(0.3)(x).shape
        (None, 4)
    """
    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= rate <= 1:
            raise ValueError(f"AlphaDropout '{self.name}': rate must be in [0, 1], received "
                             f"{rate!r}")
        self.rate, self.noise_shape, self.seed = float(rate), noise_shape, seed

    @property
    def uses_rng(self) -> bool:
        return self.rate > 0

    def output_shape(self, input_shape):
        return input_shape

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        if not training or self.rate == 0:
            return x, state
        _need_rng(self, rng)
        shape = x.shape if self.noise_shape is None else tuple(
            x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        alpha = 1.6732632423543772848170429916717
        scale = 1.0507009873554804934193349852946
        alpha_p = -alpha * scale
        kept = (jax.random.uniform(rng, shape) >= self.rate).astype(x.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        return a * (x * kept + alpha_p * (1 - kept)) + b, state

    def get_config(self):
        return {**super().get_config(), "rate": self.rate, "seed": self.seed,
                "noise_shape": self.noise_shape}


class ActivityRegularization(Layer):
    """Keras ActivityRegularization(l1=0.0, l2=0.0): the identity, adding
    `l1 * sum|x| + l2 * sum x^2` of its output (divided by the batch size) to the loss.

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.ActivityRegularization(l1=0.1)(x).shape
        (None, 4)
    """
    supports_masking = True

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1, self.l2 = float(l1), float(l2)

    def output_shape(self, input_shape):
        return input_shape

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        return x, state

    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        return {**config, "l1": self.l1, "l2": self.l2}
