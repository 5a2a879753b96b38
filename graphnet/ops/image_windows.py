"""Keras's `ops.image` ops that move windows rather than values: padding, cropping and
patches; and the argument checks every image op shares."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from .. import _conv
from .recording import op as _op

def channels_axis(data_format, who):
    """-1 for channels-last images, -3 for channels-first, or a ValueError naming the op."""
    if data_format in (None, "channels_last"):
        return -1
    if data_format == "channels_first":
        return -3
    raise ValueError(f"ops.image.{who}: data_format must be 'channels_last' or "
                     f"'channels_first', received {data_format!r}")


def check_images(images, who, name="images"):
    """`images` as an array of rank 3 (one image) or 4 (a batch), or a ValueError."""
    images = jnp.asarray(images)
    if images.ndim not in (3, 4):
        raise ValueError(f"ops.image.{who} expects {name} of rank 3 (one image) or 4 (a batch), "
                         f"received shape {images.shape}")
    return images


def _sides(who, target, first, second, names):
    """Two of (first side, second side, target) given: the missing one."""
    if sum(v is None for v in (first, second, target)) != 1:
        raise ValueError(f"ops.image.{who}: give exactly two of {names[0]}, {names[1]} and "
                         f"{names[2]}, received {first!r}, {second!r}, {target!r}")
    for name, value in zip(names, (first, second, target)):
        if value is not None and value < 0:
            raise ValueError(f"ops.image.{who}: {name} must be >= 0, received {value}")
    return first, second, target


@_op
def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """Keras `ops.image.pad_images`: zeros around the images; on each axis give two of the
    two sides and the target size.

    Example:
        >>> ops.image.pad_images(np.ones((2, 3, 1)), 1, 1, target_height=5, target_width=6).shape
        (5, 6, 1)
    """
    axis = channels_axis(data_format, "pad_images")
    images = check_images(images, "pad_images")
    h_axis = images.ndim + axis - 2 if axis == -1 else images.ndim - 2
    height, width = images.shape[h_axis], images.shape[h_axis + 1]
    top, bottom, target_height = _sides("pad_images", target_height, top_padding,
                                        bottom_padding,
                                        ("top_padding", "bottom_padding", "target_height"))
    left, right, target_width = _sides("pad_images", target_width, left_padding,
                                       right_padding,
                                       ("left_padding", "right_padding", "target_width"))
    top = target_height - bottom - height if top is None else top
    bottom = target_height - top - height if bottom is None else bottom
    left = target_width - right - width if left is None else left
    right = target_width - left - width if right is None else right
    for name, value in (("top_padding", top), ("bottom_padding", bottom),
                        ("left_padding", left), ("right_padding", right)):
        if value < 0:
            raise ValueError(f"ops.image.pad_images: {name} must be >= 0, received {value} "
                             f"(images of height {height} and width {width})")
    pads = [(0, 0)] * images.ndim
    pads[h_axis], pads[h_axis + 1] = (top, bottom), (left, right)
    return jnp.pad(images, pads)


@_op
def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """Keras `ops.image.crop_images`: a window of the images; on each axis give two of the
    two sides and the target size.

    Example:
        >>> ops.image.crop_images(np.ones((5, 6, 1)), 1, 2, target_height=3, target_width=3).shape
        (3, 3, 1)
    """
    axis = channels_axis(data_format, "crop_images")
    images = check_images(images, "crop_images")
    h_axis = images.ndim + axis - 2 if axis == -1 else images.ndim - 2
    height, width = images.shape[h_axis], images.shape[h_axis + 1]
    top, bottom, target_height = _sides("crop_images", target_height, top_cropping,
                                        bottom_cropping,
                                        ("top_cropping", "bottom_cropping", "target_height"))
    left, right, target_width = _sides("crop_images", target_width, left_cropping,
                                       right_cropping,
                                       ("left_cropping", "right_cropping", "target_width"))
    top = height - target_height - bottom if top is None else top
    target_height = height - bottom - top if target_height is None else target_height
    left = width - target_width - right if left is None else left
    target_width = width - right - left if target_width is None else target_width
    for name, value in (("top_cropping", top), ("left_cropping", left),
                        ("target_height", target_height), ("target_width", target_width)):
        if value < 0:
            raise ValueError(f"ops.image.crop_images: {name} must be >= 0, received {value} "
                             f"(images of height {height} and width {width})")
    if top + target_height > height or left + target_width > width:
        raise ValueError(f"ops.image.crop_images: the window ({top}+{target_height}, "
                         f"{left}+{target_width}) exceeds images of height {height} and "
                         f"width {width}")
    index = [slice(None)] * images.ndim
    index[h_axis] = slice(top, top + target_height)
    index[h_axis + 1] = slice(left, left + target_width)
    return images[tuple(index)]


@_op
def extract_patches(images, size, strides=None, dilation_rate=1, padding="valid",
                    data_format=None):
    """Keras `ops.image.extract_patches`: each (h, w) patch's pixels flattened into the
    channel axis (row-major, channels fastest), as Keras's identity-kernel convolution.

    Example:
        >>> ops.image.extract_patches(np.ones((1, 4, 6, 3), "float32"), 2).shape
        (1, 2, 3, 12)
    """
    if not isinstance(size, int) and len(size) == 3:
        return extract_patches_3d(images, size, strides, dilation_rate, padding, data_format)
    patch = (size, size) if isinstance(size, int) else tuple(size)
    if len(patch) != 2:
        raise TypeError(f"ops.image.extract_patches: size must be an int or (height, width), "
                        f"received {size!r}")
    return _batched_patches(images, patch, strides or size, dilation_rate, padding,
                            data_format, "extract_patches")


def _patches(x, patch, strides, dilation_rate, padding, data_format, who):
    """Each window's values as channels: a convolution with an identity kernel (any rank)."""
    rank = len(patch)
    if channels_axis(data_format, who) == -3:
        x = jnp.moveaxis(x, 1, -1)
    depth = int(np.prod(patch)) * x.shape[-1]
    kernel = jnp.eye(depth, dtype=x.dtype).reshape(*patch, x.shape[-1], depth)
    y = _conv.conv(x, kernel, strides=_conv.as_tuple(strides, rank), padding=padding,
                   dilation_rate=dilation_rate)
    return jnp.moveaxis(y, -1, 1) if data_format == "channels_first" else y


def _batched_patches(images, patch, strides, dilation_rate, padding, data_format, who):
    x = jnp.asarray(images)
    if x.ndim not in (len(patch) + 1, len(patch) + 2):
        raise ValueError(f"ops.image.{who} expects inputs of rank {len(patch) + 1} or "
                         f"{len(patch) + 2} (a batch), received shape {x.shape}")
    single = x.ndim == len(patch) + 1
    y = _patches(x[None] if single else x, patch, strides, dilation_rate, padding, data_format,
                 who)
    return y[0] if single else y


@_op
def extract_patches_3d(volumes, size, strides=None, dilation_rate=1, padding="valid",
                       data_format=None):
    """Keras `ops.image.extract_patches_3d`: each (d, h, w) patch of a volume flattened into
    the channel axis, as `extract_patches` does for images.

    Example:
        >>> ops.image.extract_patches_3d(np.ones((4, 4, 4, 1), "float32"), 2).shape
        (2, 2, 2, 8)
    """
    patch = (size,) * 3 if isinstance(size, int) else tuple(size)
    if len(patch) != 3:
        raise TypeError(f"ops.image.extract_patches_3d: size must be an int or (depth, height, "
                        f"width), received {size!r}")
    return _batched_patches(volumes, patch, size if strides is None else strides,
                            dilation_rate, padding, data_format, "extract_patches_3d")
