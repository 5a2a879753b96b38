"""Keras's erasing, shear and perspective augmentation layers: RandomErasing, RandomShear,
RandomPerspective.

As in image_color.py, `get_random_transformation(images, rng)` draws (graphnet's own stream:
the same distribution as Keras's, other draws) and `transform_images(images, transformation)`
is Keras's arithmetic for those parameters; the sampling is graphnet's `ops.image`
affine and perspective transforms, which follow Keras's."""
import jax
import jax.numpy as jnp

from ..ops import image as image_ops
from .image_color import ImageAugmentation, factor_range

SHEAR_FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def check_choice(value, choices, name, who):
    if value not in choices:
        raise ValueError(f"{who}: {name} must be one of {choices}, received {value!r}")
    return value


class RandomErasing(ImageAugmentation):
    """Keras RandomErasing: when training, a random rectangle of each image replaced, with a
    random probability, by `fill_value` (or Gaussian noise); unchanged otherwise.

    As in Keras, the rectangle's width and height are `sqrt(u) * size` for `u` uniform in
    `scale`, its corner uniform over the places it fits; the probability is uniform in the
    factor's range and the image is erased when a second uniform draw falls below it. Noise
    (`fill_value=None`) is `normal * high` of `value_range`; fills are clipped to
    `value_range`. The draws are graphnet's own.

    Args:
        factor: a number f in [0, 1] gives (0, f); a pair gives the probability's range.
        scale: a number s in [0, 1] gives (0, s); a pair gives the range of the squared
            side ratios.
        fill_value: a number, three numbers (one per RGB channel), or None for noise.
        value_range: the (low, high) of the pixel values.
        seed: an int, or None.
        data_format: "channels_last" (or None).
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(8, 8, 3))
        >>> layers.RandomErasing(fill_value=0.0)(x).shape
        (None, 8, 8, 3)
        >>> image = np.ones((1, 8, 8, 3), "float32")
        >>> bool((layers.RandomErasing()(image) == image).all())       # inference: unchanged
        True
    """

    def __init__(self, factor=1.0, scale=(0.02, 0.33), fill_value=None, value_range=(0, 255),
                 seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1), self.who)
        self.scale = factor_range(scale, (0, 1), self.who, "scale")
        if isinstance(fill_value, (tuple, list)):
            if len(fill_value) != 3:
                raise ValueError(f"{self.who}: fill_value must be a number, three numbers or "
                                 f"None, received {fill_value!r}")
            fill_value = [float(v) for v in fill_value]
            self.channels = (3,)
        elif fill_value is not None:
            if isinstance(fill_value, bool) or not isinstance(fill_value, (int, float)):
                raise ValueError(f"{self.who}: fill_value must be a number, three numbers or "
                                 f"None, received {fill_value!r}")
            fill_value = float(fill_value)
        self.fill_value = fill_value
        self.value_range = tuple(float(v) for v in value_range)    # Keras keeps its order

    def _bounds(self, key, ratio, length):
        """Keras's `_compute_crop_bounds`: a [start, end) of `ratio * length` that fits."""
        size = ratio * length
        start = jax.random.uniform(key, ratio.shape) * (length - size)
        return start, start + size

    def get_random_transformation(self, images, rng):
        n, height, width, _ = images.shape
        k_scale, k_x, k_y, k_probability, k_threshold, k_fill = jax.random.split(rng, 6)
        ratio = jnp.sqrt(jax.random.uniform(k_scale, (n, 2), minval=self.scale[0],
                                            maxval=self.scale[1]))
        x0, x1 = self._bounds(k_x, ratio[:, 0], width)
        y0, y1 = self._bounds(k_y, ratio[:, 1], height)
        rows = jnp.arange(height, dtype=jnp.float32)[None, :, None, None]
        cols = jnp.arange(width, dtype=jnp.float32)[None, None, :, None]
        at = lambda v: v[:, None, None, None]       # noqa: E731
        masks = (cols >= at(x0)) & (cols < at(x1)) & (rows >= at(y0)) & (rows < at(y1))
        probability = jax.random.uniform(k_probability, (n,), minval=self.factor[0],
                                         maxval=self.factor[1])
        if self.fill_value is None:
            fill = jax.random.normal(k_fill, images.shape) * self.value_range[1]
        else:
            fill = jnp.broadcast_to(jnp.asarray(self.fill_value, jnp.float32), images.shape)
        return {"apply_erasing": jax.random.uniform(k_threshold, (n,)) < probability,
                "batch_masks": jnp.broadcast_to(masks, images.shape),
                "fill_value": jnp.clip(fill, *self.value_range)}

    def transform_images(self, images, transformation):
        erased = jnp.where(transformation["batch_masks"], transformation["fill_value"], images)
        return jnp.where(transformation["apply_erasing"][:, None, None, None], erased, images)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "scale": list(self.scale),
                "fill_value": self.fill_value, "value_range": list(self.value_range)}


class RandomShear(ImageAugmentation):
    """Keras RandomShear: when training, each image sheared along x and y by random
    amounts; unchanged otherwise.

    As in Keras, output pixel (x, y) samples the input at (x + sx * y, sy * x + y) with `sx`,
    `sy` uniform in their factors' ranges and both negated together with probability 1/2;
    the draws are graphnet's own.

    Args:
        x_factor: a number f in [0, 1] gives [-f, f]; a pair (lower, upper) in [0, 1] its
            range.
        y_factor: the same for the vertical shear.
        interpolation: "bilinear" or "nearest".
        fill_mode: how points outside the image are filled: "reflect", "wrap", "constant"
            (with `fill_value`) or "nearest".
        fill_value: the value of "constant" filling.
        data_format: "channels_last" (or None).
        seed: an int, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(8, 8, 3))
        >>> layers.RandomShear(x_factor=0.2, y_factor=0.2)(x).shape
        (None, 8, 8, 3)
        >>> image = np.ones((1, 8, 8, 3), "float32")
        >>> bool((layers.RandomShear(0.2)(image) == image).all())       # inference: unchanged
        True
    """

    def __init__(self, x_factor=0.0, y_factor=0.0, interpolation="bilinear",
                 fill_mode="reflect", fill_value=0.0, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.x_factor = self._shear_range(x_factor, "x_factor")
        self.y_factor = self._shear_range(y_factor, "y_factor")
        self.interpolation = check_choice(interpolation, INTERPOLATIONS, "interpolation",
                                          self.who)
        self.fill_mode = check_choice(fill_mode, SHEAR_FILL_MODES, "fill_mode", self.who)
        self.fill_value = float(fill_value)

    def _shear_range(self, factor, name):
        """RandomShear's own rule: numbers within [0, 1]; one number f gives (-f, f)."""
        values = factor if isinstance(factor, (tuple, list)) else [factor]
        if (len(values) not in (1, 2) or any(isinstance(v, bool) or not isinstance(v, (int, float))
                                             or not 0 <= v <= 1 for v in values)):
            raise ValueError(f"{self.who}: {name} must be a number or a pair of numbers in "
                             f"[0, 1], received {factor!r}")
        if len(values) == 2:
            return tuple(sorted(map(float, values)))
        return (-float(factor), float(factor))

    def get_random_transformation(self, images, rng):
        k_invert, k_y, k_x = jax.random.split(rng, 3)
        shape = (images.shape[0], 1)
        invert = jnp.where(jax.random.uniform(k_invert, shape) > 0.5, -1.0, 1.0)
        shear_y = jax.random.uniform(k_y, shape, minval=self.y_factor[0],
                                     maxval=self.y_factor[1])
        shear_x = jax.random.uniform(k_x, shape, minval=self.x_factor[0],
                                     maxval=self.x_factor[1])
        return {"shear_factor": jnp.concatenate([shear_x, shear_y], 1) * invert,
                "input_shape": images.shape}

    def transform_images(self, images, transformation):
        shear = transformation["shear_factor"]
        ones, zeros = jnp.ones_like(shear[:, 0]), jnp.zeros_like(shear[:, 0])
        matrix = jnp.stack([ones, shear[:, 0], zeros, shear[:, 1], ones, zeros, zeros, zeros], 1)
        return image_ops.affine_transform(images, matrix, interpolation=self.interpolation,
                                          fill_mode=self.fill_mode, fill_value=self.fill_value)

    def get_config(self):
        # (-f, f) is saved as the number f it came from: the pair would be refused
        as_given = lambda r: r[1] if r[0] == -r[1] else list(r)     # noqa: E731
        return {**super().get_config(), "x_factor": as_given(self.x_factor),
                "y_factor": as_given(self.y_factor), "interpolation": self.interpolation,
                "fill_mode": self.fill_mode, "fill_value": self.fill_value}


class RandomPerspective(ImageAugmentation):
    """Keras RandomPerspective: when training, each image warped, with a random probability,
    by moving its four corners randomly; unchanged otherwise.

    As in Keras, each corner (x, y) moves to (x, y) * (1 + d) with the two numbers of `d`
    uniform in [-scale / 2, scale / 2] (so the top-left corner stays put); the probability is
    uniform in the factor's range and the image is warped when a second uniform draw falls
    below it. Points from outside the image take `fill_value`. The draws are graphnet's own.

    Args:
        factor: a number f in [0, 1] gives (0, f); a pair gives the probability's range.
        scale: how far the corners move, in [0, 1].
        interpolation: "bilinear" or "nearest".
        fill_value: the value of points from outside the image.
        seed: an int, or None.
        data_format: "channels_last" (or None).
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(8, 8, 3))
        >>> layers.RandomPerspective(scale=0.5)(x).shape
        (None, 8, 8, 3)
        >>> image = np.ones((1, 8, 8, 3), "float32")
        >>> bool((layers.RandomPerspective()(image) == image).all())    # inference: unchanged
        True
    """

    def __init__(self, factor=1.0, scale=1.0, interpolation="bilinear", fill_value=0.0,
                 seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1), self.who)
        if isinstance(scale, bool) or not isinstance(scale, (int, float)) or not 0 <= scale <= 1:
            raise ValueError(f"{self.who}: scale must be a number in [0, 1], received "
                             f"{scale!r}")
        self.scale = float(scale)
        self.interpolation = check_choice(interpolation, INTERPOLATIONS, "interpolation",
                                          self.who)
        self.fill_value = float(fill_value)

    def get_random_transformation(self, images, rng):
        n, height, width, _ = images.shape
        k_probability, k_threshold, k_corners = jax.random.split(rng, 3)
        probability = jax.random.uniform(k_probability, (n,), minval=self.factor[0],
                                         maxval=self.factor[1])
        moves = jax.random.uniform(k_corners, (n, 4, 2), minval=-0.5 * self.scale,
                                   maxval=0.5 * self.scale)
        corners = jnp.asarray([[0.0, 0.0], [width - 1, 0.0], [0.0, height - 1],
                               [width - 1, height - 1]], jnp.float32)
        start = jnp.broadcast_to(corners, (n, 4, 2))
        return {"apply_perspective": jax.random.uniform(k_threshold, (n,)) < probability,
                "start_points": start, "end_points": start + start * moves,
                "input_shape": images.shape}

    def transform_images(self, images, transformation):
        warped = image_ops.perspective_transform(
            images, transformation["start_points"], transformation["end_points"],
            interpolation=self.interpolation, fill_value=self.fill_value)
        apply = transformation["apply_perspective"][:, None, None, None]
        return jnp.where(apply, warped, images)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor), "scale": self.scale,
                "interpolation": self.interpolation, "fill_value": self.fill_value}
