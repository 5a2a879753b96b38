"""Keras's Resizing and CenterCrop: images to a fixed height and width, channels-last."""
import jax
import jax.numpy as jnp
import numpy as np

from .base import Layer, shape_str
from .convolutional import check_data_format

INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic")


def aspect_crop(images, target_height, target_width):
    """The centered window of the target's aspect ratio (Keras's arithmetic, in ints)."""
    height, width = images.shape[1], images.shape[2]
    crop_h = max(min(height, int(float(width * target_height) / target_width)), 1)
    crop_w = max(min(width, int(float(height * target_width) / target_height)), 1)
    top, left = int(float(height - crop_h) / 2), int(float(width - crop_w) / 2)
    return images[:, top:top + crop_h, left:left + crop_w, :]


def aspect_pad(images, target_height, target_width, fill_value):
    """Keras's padding to the target's aspect ratio: the same band on both sides."""
    height, width = images.shape[1], images.shape[2]
    top = int(float(max(height, int(float(width * target_height) / target_width)) - height) / 2)
    left = int(float(max(width, int(float(height * target_width) / target_height)) - width) / 2)
    if top > 0:
        pads = ((0, 0), (top, top), (0, 0), (0, 0))
    elif left > 0:
        pads = ((0, 0), (0, 0), (left, left), (0, 0))
    else:
        return images
    return jnp.pad(images, pads, constant_values=jnp.asarray(fill_value, images.dtype))


def resize(images, height, width, interpolation="bilinear", antialias=False):
    """`jax.image.resize` to (height, width), as Keras's JAX backend calls it."""
    return jax.image.resize(images, (images.shape[0], height, width, images.shape[-1]),
                            method=interpolation, antialias=antialias)


def _check_size(layer, height, width):
    for arg, value in (("height", height), ("width", width)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{type(layer).__name__} '{layer.name}': {arg} must be a positive "
                             f"int, received {value!r}")
    return int(height), int(width)


def _image_shape(layer, input_shape):
    if len(input_shape) != 4:
        raise ValueError(f"{type(layer).__name__} '{layer.name}' expects images of shape (batch, "
                         f"height, width, channels), received {shape_str(input_shape)}")
    return (input_shape[0], layer.height, layer.width, input_shape[3])


class Resizing(Layer):
    """Keras Resizing(height, width, interpolation="bilinear"): images resized, optionally
    cropped or padded first to the target's aspect ratio.

    Integer images are rounded and clipped back to their dtype, as Keras does.

    Examples:
        >>> layers.Resizing(4, 6)(np.ones((2, 8, 8, 3), "float32")).shape
        (2, 4, 6, 3)
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        who = f"Resizing '{self.name}'"
        self.height, self.width = _check_size(self, height, width)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(f"{who}: interpolation must be one of {INTERPOLATIONS}, received "
                             f"{interpolation!r}")
        if fill_mode != "constant":
            raise ValueError(f"{who}: fill_mode must be 'constant' (Keras's only one), received "
                             f"{fill_mode!r}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError(f"{who}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio "
                             f"can be True")
        self.interpolation, self.antialias = interpolation, bool(antialias)
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode, self.fill_value = fill_mode, fill_value
        self.data_format = check_data_format(data_format, who)

    def output_shape(self, input_shape):
        return _image_shape(self, input_shape)

    def call(self, params, state, images, *, training=False, rng=None):
        x = images
        if self.crop_to_aspect_ratio:
            x = aspect_crop(x, self.height, self.width)
        elif self.pad_to_aspect_ratio:
            x = aspect_pad(x, self.height, self.width, self.fill_value)
        y = resize(x.astype(jnp.float32) if jnp.issubdtype(x.dtype, jnp.integer) else x,
                   self.height, self.width, self.interpolation, self.antialias)
        if jnp.issubdtype(images.dtype, jnp.integer):
            info = jnp.iinfo(images.dtype)
            y = jnp.clip(jnp.round(y), info.min, info.max)
        return y.astype(images.dtype), state

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "interpolation": self.interpolation,
                "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
                "pad_to_aspect_ratio": self.pad_to_aspect_ratio, "fill_mode": self.fill_mode,
                "fill_value": self.fill_value, "antialias": self.antialias,
                "data_format": self.data_format}


class CenterCrop(Layer):
    """Keras CenterCrop(height, width): the central window of each image; an image smaller
    than the window is cropped to its aspect ratio and resized up (bilinear), as Keras.

    Examples:
        >>> images = np.arange(20.0).reshape(1, 4, 5, 1)
        >>> np.asarray(layers.CenterCrop(2, 2)(images))[0, :, :, 0].tolist()
        [[6.0, 7.0], [11.0, 12.0]]
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = _check_size(self, height, width)
        self.data_format = check_data_format(data_format, f"CenterCrop '{self.name}'")

    def output_shape(self, input_shape):
        return _image_shape(self, input_shape)

    def call(self, params, state, images, *, training=False, rng=None):
        x = images.astype(self.compute_dtype)
        h_diff, w_diff = x.shape[1] - self.height, x.shape[2] - self.width
        if h_diff >= 0 and w_diff >= 0:
            top, left = h_diff // 2, w_diff // 2
            return x[:, top:top + self.height, left:left + self.width, :], state
        return resize(aspect_crop(x, self.height, self.width), self.height, self.width), state

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "data_format": self.data_format}


class RandomCrop(Layer):
    """Keras RandomCrop(height, width): in training, one random window of the batch's
    images (the same offsets for every image); an image not larger than the window on both
    axes is cropped to its aspect ratio and resized instead.

    As in Keras, an inference call passes the images through unchanged: the output shape the
    model declares, (batch, height, width, channels), holds in training, so what follows
    should not depend on the spatial size (global pooling does not).

    Examples:
        >>> crop = layers.RandomCrop(4, 4, seed=1)
        >>> images = np.ones((2, 6, 6, 1), "float32")
        >>> crop(images, training=True).shape
        (2, 4, 4, 1)
        >>> crop(images).shape                                  # inference: unchanged
        (2, 6, 6, 1)
    """

    @property
    def uses_rng(self) -> bool:
        return True

    def __init__(self, height, width, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height, self.width = _check_size(self, height, width)
        self.seed = seed
        self.data_format = check_data_format(data_format, f"RandomCrop '{self.name}'")

    def output_shape(self, input_shape):
        if len(input_shape) == 4 and None in input_shape[1:3]:
            raise ValueError(f"RandomCrop '{self.name}' needs known image height and width, "
                             f"received {shape_str(input_shape)}")
        return _image_shape(self, input_shape)

    def call(self, params, state, images, *, training=False, rng=None):
        if not training:
            return images, state
        if rng is None:
            raise ValueError(f"RandomCrop '{self.name}' needs a random key when "
                             f"training=True: pass rng= to apply")
        x = images.astype(self.compute_dtype)
        batch, height, width, channels = x.shape
        if height > self.height and width > self.width:
            h_key, w_key = jax.random.split(rng)
            top = jax.random.randint(h_key, (), 0, height - self.height + 1)
            left = jax.random.randint(w_key, (), 0, width - self.width + 1)
            return jax.lax.dynamic_slice(x, (0, top, left, 0),
                                         (batch, self.height, self.width, channels)), state
        x = aspect_crop(x, self.height, self.width)
        if x.shape[1:3] != (self.height, self.width):
            x = resize(x, self.height, self.width)
        return x, state

    def get_config(self):
        return {**super().get_config(), "height": self.height, "width": self.width,
                "seed": self.seed, "data_format": self.data_format}
