"""Keras's colour augmentation layers: AutoContrast, Solarization, RandomBrightness,
RandomGrayscale, RandomInvert, RandomPosterization, RandomColorDegeneration.

Each layer splits its work as Keras does: `get_random_transformation(images, rng)` draws the
parameters (graphnet's own key stream: the same distribution as Keras's, other draws) and
`transform_images(images, transformation)` applies them with Keras's arithmetic, so the same
parameters give Keras's numbers. Only AutoContrast acts at inference."""
import jax
import jax.numpy as jnp

from .base import Layer, shape_str

GRAY_WEIGHTS = (0.2989, 0.5870, 0.1140)          # Keras's rgb_to_grayscale (tf.image's)


def factor_range(factor, bounds, who, name="factor"):
    """Keras's `_set_factor`: a number f gives (max(-|f|, low), |f|), a pair is sorted; both
    must lie within `bounds`."""
    low, high = bounds
    error = (f"{who}: {name} must be a number or a pair of numbers in [{low}, {high}], "
             f"received {factor!r}")
    if isinstance(factor, (tuple, list)):
        if len(factor) != 2 or factor[0] > high or factor[1] < low:
            raise ValueError(error)
        lower, upper = sorted(float(f) for f in factor)
    elif isinstance(factor, (int, float)) and not isinstance(factor, bool):
        if factor < low or factor > high:
            raise ValueError(error)
        lower, upper = max(-abs(factor), low), abs(factor)
    else:
        raise ValueError(error)
    return float(lower), float(upper)


def value_range_pair(value_range, who):
    """Keras's `value_range`: two numbers, sorted."""
    if not isinstance(value_range, (tuple, list)) or len(value_range) != 2:
        raise ValueError(f"{who}: value_range must be a pair of numbers (low, high), received "
                         f"{value_range!r}")
    return tuple(sorted(float(v) for v in value_range))


def rescale(images, source, target):
    """Keras's `_transform_value_range`: `source` range mapped linearly onto `target`."""
    if tuple(source) == tuple(target):
        return images
    images = (images - source[0]) / (source[1] - source[0])
    return images * (target[1] - target[0]) + target[0]


def linear_map(values, source, target):
    """Keras Equalization's `_scale_values`: `values * scale + offset` (rounds differently
    from `rescale`, which matters at histogram bin edges)."""
    scale = (target[1] - target[0]) / (source[1] - source[0])
    return values * scale + (target[0] - source[0] * scale)


def grayscale(images, who):
    """Keras's rgb_to_grayscale on channels-last images: one channel is returned as it is."""
    if images.shape[-1] == 1:
        return images
    if images.shape[-1] != 3:
        raise ValueError(f"{who} expects 1 or 3 channels (grayscale or RGB), received "
                         f"{images.shape[-1]}")
    return jnp.tensordot(images, jnp.asarray(GRAY_WEIGHTS, images.dtype), axes=(-1, -1))[..., None]


class ImageAugmentation(Layer):
    """Keras's image preprocessing base: a batch of images (batch, rows, cols, channels) or one
    image (rows, cols, channels); draws and transforms when training, unchanged otherwise
    (`active_at_inference` layers transform always)."""

    uses_rng = True
    active_at_inference = False
    channels = None                      # the channel counts a layer accepts, or None for any

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if data_format not in (None, "channels_last"):
            raise NotImplementedError(f"{type(self).__name__} '{self.name}': data_format="
                                      f"{data_format!r}; only channels_last images are supported")
        self.seed = seed

    @property
    def who(self):
        return f"{type(self).__name__} '{self.name}'"

    def output_shape(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise ValueError(f"{self.who} expects images (batch, rows, cols, channels), "
                             f"received shape {shape_str(input_shape)}")
        if self.channels and input_shape[-1] not in self.channels:
            raise ValueError(f"{self.who} expects {' or '.join(map(str, self.channels))} "
                             f"channels, received shape {shape_str(input_shape)}")
        return input_shape

    def call(self, params, state, x, *, training=False, rng=None):
        if isinstance(x, dict):
            raise NotImplementedError(f"{self.who} takes images only; dicts with "
                                      f"'bounding_boxes' are not supported")
        if not (training or self.active_at_inference):
            return x, state
        if training and self.uses_rng and rng is None:
            raise ValueError(f"{self.who} needs a random key when training=True: pass rng= "
                             f"to apply")
        if not jnp.issubdtype(x.dtype, jnp.floating):
            # Keras returns float32 from some of these layers and the input's dtype from
            # others; rather than guess which, integer images are refused where they change.
            raise TypeError(f"{self.who} transforms float images, received {x.dtype}: cast "
                            f"them first (e.g. layers.Rescaling(1.0) or x.astype('float32'))")
        single = x.ndim == 3
        batch = (x[None] if single else x)
        dtype = batch.dtype
        images = batch.astype(jnp.float32)
        transformation = self.get_random_transformation(images, rng) if training else None
        out = self.transform_images(images, transformation).astype(dtype)
        return (out[0] if single else out), state

    def get_random_transformation(self, images, rng):
        return None

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


class AutoContrast(ImageAugmentation):
    """Keras AutoContrast: each image's channels stretched to fill `value_range`, at
    training and inference alike.

    A channel whose values are all equal is returned unchanged (Keras's NaN guard).

    Args:
        value_range: the (low, high) of the pixel values.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> layers.AutoContrast(value_range=(0, 1))(x).shape
        (None, 4, 4, 3)
    """
    uses_rng = False
    active_at_inference = True

    def __init__(self, value_range=(0, 255), **kwargs):
        super().__init__(**kwargs)
        self.value_range = value_range_pair(value_range, self.who)

    def transform_images(self, images, transformation=None):
        scaled = rescale(images, self.value_range, (0.0, 255.0))
        low = scaled.min(axis=(1, 2), keepdims=True)
        high = scaled.max(axis=(1, 2), keepdims=True)
        scale = 255.0 / (high - low)
        out = jnp.clip(scaled * scale + (-low * scale), 0.0, 255.0)
        out = rescale(out, (0.0, 255.0), self.value_range)
        return jnp.where(jnp.isnan(out), images, out)

    def get_config(self):
        config = super().get_config()
        del config["seed"]
        return {**config, "value_range": list(self.value_range)}


class Solarization(ImageAugmentation):
    """Keras Solarization: when training, each image (in 0..255 terms) gets a random
    addition, is clipped, and its pixels at or above a random threshold are inverted
    (`255 - x`); unchanged at inference, as in Keras.

    The additions and thresholds are uniform in [lower, upper * 255] of their factors, Keras's
    distribution (the lower end is not scaled, as in Keras); the draws are graphnet's own.

    Args:
        addition_factor: a number f in [0, 1] gives (0, f); a pair gives its range.
        threshold_factor: the same for the threshold.
        value_range: the (low, high) of the pixel values.
        seed: an int, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> layers.Solarization(threshold_factor=(0.5, 0.5))(x).shape
        (None, 4, 4, 3)
    """

    def __init__(self, addition_factor=0.0, threshold_factor=0.0, value_range=(0, 255),
                 seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.addition_factor = self._positive_range(addition_factor, "addition_factor")
        self.threshold_factor = self._positive_range(threshold_factor, "threshold_factor")
        self.value_range = value_range_pair(value_range, self.who)

    def _positive_range(self, factor, name):
        """Solarization's own rule: a number f gives (0, f); everything within [0, 1]."""
        values = factor if isinstance(factor, (tuple, list)) else [factor]
        if (len(values) not in (1, 2) or any(isinstance(v, bool) or not isinstance(v, (int, float))
                                             or not 0 <= v <= 1 for v in values)):
            raise ValueError(f"{self.who}: {name} must be a number or a pair of numbers in "
                             f"[0, 1], received {factor!r}")
        return tuple(sorted(map(float, values))) if len(values) == 2 else (0.0, float(factor))

    def get_random_transformation(self, images, rng):
        k1, k2 = jax.random.split(rng)
        shape = (images.shape[0], 1, 1, 1)
        return {"additions": jax.random.uniform(k1, shape, minval=self.addition_factor[0],
                                                maxval=self.addition_factor[1] * 255),
                "thresholds": jax.random.uniform(k2, shape, minval=self.threshold_factor[0],
                                                 maxval=self.threshold_factor[1] * 255)}

    def transform_images(self, images, transformation):
        if transformation is None:
            return images
        out = rescale(images, self.value_range, (0.0, 255.0))
        out = jnp.clip(out + transformation["additions"], 0, 255)
        out = jnp.where(out < transformation["thresholds"], out, 255 - out)
        return rescale(out, (0.0, 255.0), self.value_range)

    def get_config(self):
        return {**super().get_config(), "value_range": list(self.value_range),
                "addition_factor": list(self.addition_factor),
                "threshold_factor": list(self.threshold_factor)}


class RandomBrightness(ImageAugmentation):
    """Keras RandomBrightness: when training, each image shifted by a random fraction of
    `value_range`'s width and clipped to it; unchanged otherwise.

    The shift is uniform in [lower, upper] * (high - low), Keras's distribution; the draws
    are graphnet's own.

    Args:
        factor: a number f in [-1, 1] gives [-|f|, |f|]; a pair (lower, upper) its range.
        value_range: the (low, high) of the pixel values.
        seed: an int, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> layers.RandomBrightness(0.2)(x).shape
        (None, 4, 4, 3)
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.factor = factor_range(factor, (-1, 1), self.who)
        self.value_range = value_range_pair(value_range, self.who)

    def get_random_transformation(self, images, rng):
        delta = jax.random.uniform(rng, (images.shape[0], 1, 1, 1), minval=self.factor[0],
                                   maxval=self.factor[1])
        return {"rgb_delta": delta * (self.value_range[1] - self.value_range[0])}

    def transform_images(self, images, transformation):
        return jnp.clip(images + transformation["rgb_delta"], *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}


class RandomGrayscale(ImageAugmentation):
    """Keras RandomGrayscale: when training, each image turned to grayscale (kept as its
    channel count) with probability `factor`; unchanged otherwise.

    Gray is Keras's `0.2989 R + 0.5870 G + 0.1140 B`. Each image is drawn with probability
    `factor`, Keras's distribution; the draws are graphnet's own.

    Args:
        factor: the probability, in [0, 1].
        data_format: "channels_last" (or None).
        seed: an int, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> layers.RandomGrayscale(0.5)(x).shape
        (None, 4, 4, 3)
    """
    channels = (1, 3)

    def __init__(self, factor=0.5, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 <= factor <= 1:
            raise ValueError(f"{self.who}: factor must be a probability in [0, 1], received "
                             f"{factor!r}")
        self.factor = float(factor)

    def get_random_transformation(self, images, rng):
        return jax.random.uniform(rng, (images.shape[0], 1, 1, 1)) < self.factor

    def transform_images(self, images, transformation):
        return jnp.where(transformation, grayscale(images, self.who), images)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomInvert(ImageAugmentation):
    """Keras RandomInvert: when training, each image replaced by `high - x` (`high` of
    `value_range`) with a random probability; unchanged otherwise.

    As in Keras, each image's probability is uniform in the factor's range and the image is
    inverted when a second uniform draw falls below it (the same distribution as Keras's;
    other draws).

    Args:
        factor: a number f in [0, 1] gives (0, f); a pair gives the probability's range.
        value_range: the (low, high) of the pixel values.
        seed: an int, or None.
        data_format: "channels_last" (or None).
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> layers.RandomInvert(0.5)(x).shape
        (None, 4, 4, 3)
    """

    def __init__(self, factor=1.0, value_range=(0, 255), seed=None, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1), self.who)
        self.value_range = tuple(float(v) for v in value_range)   # Keras keeps its order

    def get_random_transformation(self, images, rng):
        k1, k2 = jax.random.split(rng)
        n = images.shape[0]
        probability = jax.random.uniform(k1, (n,), minval=self.factor[0], maxval=self.factor[1])
        return {"apply_inversion": jax.random.uniform(k2, (n,)) < probability}

    def transform_images(self, images, transformation):
        invert = transformation["apply_inversion"][:, None, None, None]
        return jnp.where(invert, self.value_range[1] - images, images)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}


class RandomPosterization(ImageAugmentation):
    """Keras RandomPosterization: when training, each image (in 0..255 terms, as uint8) keeps
    only its top `bits` bits per pixel, `bits` drawn per image; unchanged otherwise.

    `bits` is a uniform integer in [lower, upper) (always `lower` when they are equal), Keras's
    distribution; the draws are graphnet's own.

    Args:
        factor: a number f in [1, 8] gives [1, f); a pair (lower, upper) its range.
        value_range: the (low, high) of the pixel values.
        data_format: "channels_last" (or None).
        seed: an int, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> layers.RandomPosterization(4)(x).shape
        (None, 4, 4, 3)
    """
    MAX_BITS = 8

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = tuple(int(f) for f in factor_range(factor, (1, 8), self.who))
        self.value_range = value_range_pair(value_range, self.who)

    def get_random_transformation(self, images, rng):
        n = images.shape[0]
        low, high = self.factor
        bits = (jax.random.randint(rng, (n,), low, high) if low != high else
                jnp.full((n,), low)).astype(jnp.uint8)
        return {"shift_factor": self.MAX_BITS - bits}

    def transform_images(self, images, transformation):
        shift = transformation["shift_factor"].astype(jnp.uint8)[:, None, None, None]
        pixels = rescale(images, self.value_range, (0.0, 255.0)).astype(jnp.uint8)
        pixels = jnp.left_shift(jnp.right_shift(pixels, shift), shift)
        return rescale(pixels.astype(jnp.float32), (0.0, 255.0), self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}


class RandomColorDegeneration(ImageAugmentation):
    """Keras RandomColorDegeneration: when training, each image moved towards its grayscale
    by a random fraction, `x + f * (gray - x)`, clipped to `value_range`; unchanged otherwise.

    `f` is uniform in the factor's range, Keras's distribution; the draws are graphnet's own.

    Args:
        factor: a number f in [-1, 1] gives [-|f|, |f|]; a pair (lower, upper) its range.
        value_range: the (low, high) of the pixel values.
        data_format: "channels_last" (or None).
        seed: an int, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> layers.RandomColorDegeneration(0.5)(x).shape
        (None, 4, 4, 3)
    """
    channels = (1, 3)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (-1, 1), self.who)
        self.value_range = value_range_pair(value_range, self.who)

    def get_random_transformation(self, images, rng):
        return {"factor": jax.random.uniform(rng, (images.shape[0], 1, 1, 1),
                                             minval=self.factor[0], maxval=self.factor[1])}

    def transform_images(self, images, transformation):
        out = images + transformation["factor"] * (grayscale(images, self.who) - images)
        return jnp.clip(out, *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}


class Equalization(ImageAugmentation):
    """Keras Equalization: when training, each channel's histogram equalized; unchanged at
    inference, as in Keras.

    As in Keras, a channel's histogram of `bins` bins is counted over the whole batch (so
    each image's result depends on the others: `fit` never pads its last batch), and a
    channel with at most one filled bin is left as it is.

    Args:
        value_range: the (low, high) of the pixel values.
        bins: the histogram's number of bins.
        data_format: "channels_last" (or None).
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> layers.Equalization()(x).shape
        (None, 4, 4, 3)
    """
    uses_rng = False
    batch_dependent = True

    def __init__(self, value_range=(0, 255), bins=256, data_format=None, **kwargs):
        super().__init__(data_format=data_format, **kwargs)
        self.value_range = value_range_pair(value_range, self.who)
        self.bins = int(bins)

    def transform_images(self, images, transformation=None):
        return jax.vmap(self._equalize, in_axes=-1, out_axes=-1)(images)

    def _equalize(self, channel):
        """One channel of the whole batch, in Keras's 0..255 terms."""
        channel = linear_map(channel, self.value_range, (0.0, 255.0))
        bins = self.bins
        index = jnp.clip((channel * (bins - 1) / 255.0).astype(jnp.int32), 0, bins - 1)
        hist = jnp.zeros(bins, jnp.int32).at[index.ravel()].add(1)
        cdf = jnp.cumsum(hist)
        cdf_min = cdf[jnp.argmax(cdf > 0)]
        denominator = cdf[-1] - cdf_min
        denominator = jnp.where(denominator == 0, 1, denominator)
        # round((cdf - cdf_min) * 255 / denominator), half to even, in integers: compiled
        # float division may multiply by a reciprocal and miss an exact half
        quotient, remainder = jnp.divmod((cdf - cdf_min) * 255, denominator)
        up = (2 * remainder > denominator) | ((2 * remainder == denominator) & (quotient % 2 == 1))
        table = jnp.clip(quotient + up.astype(quotient.dtype), 0, 255).astype(jnp.float32)
        lookup = jnp.clip(channel / 255.0 * (bins - 1), 0, bins - 1).astype(jnp.int32)
        equalized = jnp.where(jnp.count_nonzero(hist) <= 1, channel, table[lookup])
        return linear_map(equalized, (0.0, 255.0), self.value_range)

    def get_config(self):
        config = super().get_config()
        del config["seed"]
        return {**config, "value_range": list(self.value_range), "bins": self.bins}
