"""Keras's sharpness, hue, saturation and Gaussian blur augmentation layers, and
RandomColorJitter which chains brightness, contrast, saturation and hue.

As in image_color.py, `get_random_transformation(images, rng)` draws (graphnet's own stream:
the same distribution as Keras's, other draws) and `transform_images(images, transformation)`
is Keras's arithmetic for those parameters."""
import jax
import jax.numpy as jnp

from .image_color import (ImageAugmentation, RandomBrightness, factor_range, rescale,
                          value_range_pair)
from .preprocessing import RandomContrast

KERAS_EPSILON = 1e-7


def rgb_to_hsv(images):
    """Keras's rgb_to_hsv (dm_pix's formulas) on channels-last RGB in [0, 1] terms: hue in
    [0, 1), 0 where the pixel is gray; saturation 0 where the value is 0."""
    r, g, b = images[..., 0], images[..., 1], images[..., 2]
    value = jnp.maximum(jnp.maximum(r, g), b)
    spread = value - jnp.minimum(jnp.minimum(r, g), b)
    saturation = jnp.where(value > 0, spread / jnp.where(value > 0, value, 1.0), 0.0)
    norm = 1.0 / (6.0 * jnp.where(spread > 0, spread, 1.0))
    hue = jnp.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = jnp.where(value == r, norm * (g - b), hue)
    hue = jnp.where(spread > 0, hue, 0.0) + (hue < 0.0).astype(hue.dtype)
    return jnp.stack([hue, saturation, value], axis=-1)


def hsv_to_rgb(images):
    """Keras's hsv_to_rgb, the inverse of `rgb_to_hsv` (hue taken modulo 1)."""
    hue, saturation, value = images[..., 0], images[..., 1], images[..., 2]
    sector = jnp.mod(hue, 1.0) * 6.0
    weights = [jnp.clip(jnp.abs(sector - 3.0) - 1.0, 0.0, 1.0),
               jnp.clip(2.0 - jnp.abs(sector - 2.0), 0.0, 1.0),
               jnp.clip(2.0 - jnp.abs(sector - 4.0), 0.0, 1.0)]
    return jnp.stack([value * ((1.0 - saturation) + saturation * w) for w in weights], axis=-1)


class RandomSharpness(ImageAugmentation):
    """Keras RandomSharpness: when training, each image blended with its 3x3 smoothing
    (`[[1, 1, 1], [1, 5, 1], [1, 1, 1]] / 13`, zero-padded) by a random factor, clipped to
    `value_range`; unchanged otherwise.

    The output is `x + (1 - 2 f) * (smooth - x)` with `f` uniform in the factor's range
    (Keras's distribution, other draws): f = 0.5 leaves the image as it is, larger sharpens.

    Args:
        factor: a number f in [0, 1] gives [0, f]; a pair (lower, upper) its range.
        value_range: the (low, high) of the pixel values.
        data_format: "channels_last" (or None).
        seed: an int, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> layers.RandomSharpness(0.5)(x).shape
        (None, 4, 4, 3)
    """

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1), self.who)
        self.value_range = value_range_pair(value_range, self.who)

    def get_random_transformation(self, images, rng):
        return {"factor": jax.random.uniform(rng, (images.shape[0],), minval=self.factor[0],
                                             maxval=self.factor[1])}

    def transform_images(self, images, transformation):
        sharpness = (transformation["factor"] * 2).reshape(-1, 1, 1, 1)
        channels = images.shape[-1]
        a, b = 1.0 / 13.0, 5.0 / 13.0
        kernel = jnp.asarray([[a, a, a], [a, b, a], [a, a, a]], images.dtype)
        kernel = jnp.tile(kernel[:, :, None, None], (1, 1, 1, channels))
        smooth = jax.lax.conv_general_dilated(
            images, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
            feature_group_count=channels)
        return jnp.clip(images + (1.0 - sharpness) * (smooth - images), *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}


class RandomHue(ImageAugmentation):
    """Keras RandomHue: when training, each RGB image's hue turned by a random amount (in
    HSV, hue wrapping round); unchanged otherwise.

    The turn is `±f / 2` of a full circle, `f` uniform in the factor's range and the sign
    even odds, Keras's distribution; the draws are graphnet's own.

    Args:
        factor: a number f in [0, 1] gives [0, f]; a pair (lower, upper) its range.
        value_range: the (low, high) of the pixel values.
        data_format: "channels_last" (or None).
        seed: an int, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> layers.RandomHue(0.2)(x).shape
        (None, 4, 4, 3)
    """
    channels = (3,)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1), self.who)
        self.value_range = tuple(float(v) for v in value_range)   # Keras keeps its order

    def get_random_transformation(self, images, rng):
        k1, k2 = jax.random.split(rng)
        n = images.shape[0]
        sign = jnp.where(jax.random.uniform(k1, (n,)) > 0.5, -1.0, 1.0)
        amount = jax.random.uniform(k2, (n,), minval=self.factor[0], maxval=self.factor[1])
        return {"factor": sign * amount * 0.5}

    def transform_images(self, images, transformation):
        hsv = rgb_to_hsv(rescale(images, self.value_range, (0.0, 1.0)))
        hue = hsv[..., 0] + transformation["factor"][:, None, None]
        hue = jnp.where(hue > 1.0, hue - 1.0, hue)
        hue = jnp.where(hue < 0.0, hue + 1.0, hue)
        rgb = jnp.clip(hsv_to_rgb(hsv.at[..., 0].set(hue)), 0, 1)
        return rescale(rgb, (0.0, 1.0), self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}


class RandomSaturation(ImageAugmentation):
    """Keras RandomSaturation: when training, each RGB image's saturation (in HSV) scaled by
    a random factor; unchanged otherwise.

    With `f` uniform in the factor's range the scale is `f / (1 - f + 1e-7)`: 0.5 keeps the
    image, 0 makes it gray, 1 saturates it fully. As in Keras the HSV conversion reads the
    pixels as they are and the scaled saturation is clipped to `value_range`. Keras's
    distribution; the draws are graphnet's own.

    Args:
        factor: a number f in [-1, 1] gives [-|f|, |f|]; a pair (lower, upper) its range.
        value_range: the (low, high) of the pixel values.
        data_format: "channels_last" (or None).
        seed: an int, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> layers.RandomSaturation(0.5)(x).shape
        (None, 4, 4, 3)
    """
    channels = (3,)

    def __init__(self, factor, value_range=(0, 255), data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (-1, 1), self.who)
        self.value_range = value_range_pair(value_range, self.who)

    def get_random_transformation(self, images, rng):
        f = jax.random.uniform(rng, (images.shape[0],), minval=self.factor[0],
                               maxval=self.factor[1])
        return {"factor": f / (1 - f + KERAS_EPSILON)}

    def transform_images(self, images, transformation):
        hsv = rgb_to_hsv(images)
        saturation = jnp.clip(hsv[..., 1] * transformation["factor"][:, None, None],
                              *self.value_range)
        return hsv_to_rgb(hsv.at[..., 1].set(saturation))

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "value_range": list(self.value_range)}


class RandomColorJitter(ImageAugmentation):
    """Keras RandomColorJitter: when training, RandomBrightness, RandomContrast,
    RandomSaturation and RandomHue in that order, each for the factor given (None skips
    it); unchanged otherwise.

    Each step draws from its own key, the same distributions as Keras's, other draws.

    Args:
        value_range: the (low, high) of the pixel values, for every step.
        brightness_factor: RandomBrightness's factor, or None.
        contrast_factor: RandomContrast's factor, or None.
        saturation_factor: RandomSaturation's factor, or None.
        hue_factor: RandomHue's factor, or None.
        seed: an int, or None.
        data_format: "channels_last" (or None).
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> layers.RandomColorJitter(brightness_factor=0.2, hue_factor=0.1)(x).shape
        (None, 4, 4, 3)
    """
    channels = (3,)

    def __init__(self, value_range=(0, 255), brightness_factor=None, contrast_factor=None,
                 saturation_factor=None, hue_factor=None, seed=None, data_format=None,
                 **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.value_range = tuple(value_range)
        self.brightness_factor, self.contrast_factor = brightness_factor, contrast_factor
        self.saturation_factor, self.hue_factor = saturation_factor, hue_factor
        steps = [(RandomBrightness, brightness_factor), (RandomContrast, contrast_factor),
                 (RandomSaturation, saturation_factor), (RandomHue, hue_factor)]
        self.steps = [cls(factor, value_range=value_range, name=f"{self.name}_{cls.__name__}")
                      for cls, factor in steps if factor is not None]

    def get_random_transformation(self, images, rng):
        return {"keys": jax.random.split(rng, 4)}

    def transform_images(self, images, transformation):
        for step, key in zip(self.steps, transformation["keys"]):
            if isinstance(step, RandomContrast):
                images = step.augment(images, key)
            else:
                images = step.transform_images(images, step.get_random_transformation(images,
                                                                                      key))
        return images

    def get_config(self):
        return {**super().get_config(), "value_range": list(self.value_range),
                "brightness_factor": self.brightness_factor,
                "contrast_factor": self.contrast_factor,
                "saturation_factor": self.saturation_factor, "hue_factor": self.hue_factor}


class RandomGaussianBlur(ImageAugmentation):
    """Keras RandomGaussianBlur: when training, each image blurred by a Gaussian kernel
    (zero-padded, the same size out) with a random probability; unchanged otherwise.

    As in Keras, each image is blurred when a uniform draw falls below its probability
    (uniform in the factor's range), and the kernel's two sigmas are drawn once per batch,
    uniform in `sigma`'s range plus 1e-6: the same distribution as Keras's, other draws.

    Args:
        factor: a number f in [0, 1] gives (0, f); a pair gives the probability's range.
        kernel_size: an odd number, or a pair of odd numbers (width, height).
        sigma: a number s in [0, 1] gives (0, s); a pair gives its range.
        value_range: the (low, high) of the pixel values; the output is clipped to it.
        data_format: "channels_last" (or None).
        seed: an int, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> layers.RandomGaussianBlur(0.5)(x).shape
        (None, 4, 4, 3)
    """

    def __init__(self, factor=1.0, kernel_size=3, sigma=1.0, value_range=(0, 255),
                 data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1), self.who)
        self.sigma = factor_range(sigma, (0, 1), self.who, "sigma")
        sizes = tuple(kernel_size) if isinstance(kernel_size, (tuple, list)) else (kernel_size,) * 2
        if len(sizes) != 2 or any(not isinstance(k, int) or k % 2 == 0 or k < 1 for k in sizes):
            raise ValueError(f"{self.who}: kernel_size must be an odd number or a pair of odd "
                             f"numbers, received {kernel_size!r}")
        self.kernel_size = sizes
        self.value_range = tuple(float(v) for v in value_range)   # Keras keeps its order

    def get_random_transformation(self, images, rng):
        k1, k2, k3 = jax.random.split(rng, 3)
        n = images.shape[0]
        probability = jax.random.uniform(k1, (n,), minval=self.factor[0], maxval=self.factor[1])
        sigma = jax.random.uniform(k3, (2,), minval=self.sigma[0], maxval=self.sigma[1]) + 1e-6
        return {"should_apply_blur": jax.random.uniform(k2, (n,)) < probability,
                "blur_factor": sigma}

    def transform_images(self, images, transformation):
        sigma = transformation["blur_factor"]

        def gaussian(size, s):
            x = jnp.arange(size, dtype=images.dtype) - (size - 1) / 2
            weights = jnp.exp(-0.5 * (x / s) ** 2)
            return weights / weights.sum()
        kernel = jnp.outer(gaussian(self.kernel_size[1], sigma[1]),       # rows: height
                           gaussian(self.kernel_size[0], sigma[0]))       # cols: width
        channels = images.shape[-1]
        kernel = jnp.tile(kernel[:, :, None, None], (1, 1, 1, channels))
        blurred = jax.lax.conv_general_dilated(
            images, kernel, (1, 1), "SAME", dimension_numbers=("NHWC", "HWIO", "NHWC"),
            feature_group_count=channels)
        out = jnp.where(transformation["should_apply_blur"][:, None, None, None], blurred, images)
        return jnp.clip(out, *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor),
                "kernel_size": list(self.kernel_size), "sigma": list(self.sigma),
                "value_range": list(self.value_range)}
