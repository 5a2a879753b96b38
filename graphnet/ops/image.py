"""Keras's `ops.image`: colour conversions, resizing, padding and cropping, geometric
transforms, blurs, edges and patches, on one image `(height, width, channels)` or a batch.

Each works on arrays and on symbolic tensors (an `Operation` node, as every op). The
arithmetic is Keras 3's JAX backend's, so the numbers match it: resizing is
`jax.image.resize`, sampling is `jax.scipy.ndimage.map_coordinates`.

Examples:
    >>> images = np.random.default_rng(0).uniform(size=(2, 8, 8, 3)).astype("float32")
    >>> ops.image.resize(images, (4, 6)).shape
    (2, 4, 6, 3)
    >>> x = graphnet.Input(shape=(8, 8, 3))
    >>> ops.image.rgb_to_grayscale(x).shape
    (None, 8, 8, 1)
"""
from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from .. import _conv
from .. import random as _random
from ..layers.image_resizing import INTERPOLATIONS, aspect_crop, aspect_pad
from .image_windows import channels_axis as _channels_axis
from .image_windows import check_images as _images
from .image_windows import (  # noqa: F401  (part of this namespace)
    crop_images, extract_patches, extract_patches_3d, pad_images)
from .recording import op as _op

FILL_MODES = ("constant", "nearest", "wrap", "mirror", "reflect")
SAMPLING_ORDERS = {"nearest": 0, "bilinear": 1}
SCALE_METHODS = ("linear", "bilinear", "trilinear", "cubic", "bicubic", "tricubic",
                 "lanczos3", "lanczos5")


def _channels_last(fn):
    """`fn` on a batch of channels-last images, whatever layout and rank it is given."""
    @functools.wraps(fn)
    def wrapped(images, *args, data_format=None, who, **kwargs):
        first = _channels_axis(data_format, who) == -3
        images = _images(images, who)
        single = images.ndim == 3
        x = images[None] if single else images
        x = jnp.moveaxis(x, 1, -1) if first else x
        y = fn(x, *args, **kwargs)
        y = jnp.moveaxis(y, -1, 1) if first else y
        return y[0] if single else y
    return wrapped


def _compute_dtype(dtype):
    """Keras's `result_type(dtype, float)`: float dtypes stay, integers compute in float32."""
    return dtype if jnp.issubdtype(dtype, jnp.floating) else jnp.dtype("float32")


def _float_images(images, who):
    images = _images(images, who)
    if not jnp.issubdtype(images.dtype, jnp.floating):
        raise ValueError(f"ops.image.{who} expects float images, received dtype {images.dtype}")
    return images


@_op
def rgb_to_grayscale(images, data_format=None):
    """Keras `ops.image.rgb_to_grayscale`: ITU-R 601 luma (0.2989, 0.5870, 0.1140), in the
    images' dtype; one-channel images are returned as they are.

    Example:
        >>> ops.image.rgb_to_grayscale(np.ones((2, 2, 3), "float32")).shape
        (2, 2, 1)
    """
    axis = _channels_axis(data_format, "rgb_to_grayscale")
    images = _images(images, "rgb_to_grayscale")
    if images.shape[axis] not in (1, 3):
        raise ValueError(f"ops.image.rgb_to_grayscale expects 3 (RGB) or 1 channels, received "
                         f"shape {images.shape}")
    if images.shape[axis] == 1:
        return images
    x = images.astype(_compute_dtype(images.dtype))
    y = jnp.tensordot(x, jnp.asarray([0.2989, 0.5870, 0.1140], x.dtype), axes=(axis, -1))
    return jnp.expand_dims(y, axis).astype(images.dtype)


def _planes(images, axis):
    return [jnp.squeeze(p, axis) for p in jnp.split(images, 3, axis)]


@_op
def rgb_to_hsv(images, data_format=None):
    """Keras `ops.image.rgb_to_hsv`: hue, saturation and value in [0, 1] (dm_pix's formula;
    values within the dtype's epsilon of zero count as zero).

    Example:
        >>> np.asarray(ops.image.rgb_to_hsv(np.array([[[1.0, 0.0, 0.0]]], "float32"))).tolist()
        [[[0.0, 1.0, 1.0]]]
    """
    axis = _channels_axis(data_format, "rgb_to_hsv")
    images = _float_images(images, "rgb_to_hsv")
    images = jnp.where(jnp.abs(images) < jnp.finfo(images.dtype).eps, 0.0, images)
    r, g, b = _planes(images, axis)
    value = jnp.maximum(jnp.maximum(r, g), b)
    spread = value - jnp.minimum(jnp.minimum(r, g), b)
    saturation = jnp.where(value > 0, spread / jnp.where(value > 0, value, 1.0), 0.0)
    norm = 1.0 / (6.0 * jnp.where(spread > 0, spread, 1.0))
    hue = jnp.where(value == g, norm * (b - r) + 2.0 / 6.0, norm * (r - g) + 4.0 / 6.0)
    hue = jnp.where(value == r, norm * (g - b), hue)
    hue = jnp.where(spread > 0, hue, 0.0) + (hue < 0.0).astype(hue.dtype)
    return jnp.stack([hue, saturation, value], axis=axis)


@_op
def hsv_to_rgb(images, data_format=None):
    """Keras `ops.image.hsv_to_rgb`: the inverse of `rgb_to_hsv` (hue taken modulo 1).

    Example:
        >>> np.asarray(ops.image.hsv_to_rgb(np.array([[[0.0, 1.0, 1.0]]], "float32"))).tolist()
        [[[1.0, 0.0, 0.0]]]
    """
    axis = _channels_axis(data_format, "hsv_to_rgb")
    images = _float_images(images, "hsv_to_rgb")
    hue, saturation, value = _planes(images, axis)
    dh = jnp.mod(hue, 1.0) * 6.0
    shares = (jnp.clip(jnp.abs(dh - 3.0) - 1.0, 0.0, 1.0),
              jnp.clip(2.0 - jnp.abs(dh - 2.0), 0.0, 1.0),
              jnp.clip(2.0 - jnp.abs(dh - 4.0), 0.0, 1.0))
    return jnp.stack([value * (1.0 - saturation + saturation * s) for s in shares], axis=axis)


@_channels_last
def _resize(x, size, interpolation, antialias, crop_to_aspect_ratio, pad_to_aspect_ratio,
            fill_value):
    height, width = size
    if crop_to_aspect_ratio:
        x = aspect_crop(x, height, width)
    elif pad_to_aspect_ratio:
        x = aspect_pad(x, height, width, fill_value)
    return jax.image.resize(x, (x.shape[0], height, width, x.shape[-1]), method=interpolation,
                            antialias=antialias)


@_op
def resize(images, size, interpolation="bilinear", antialias=False, crop_to_aspect_ratio=False,
           pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0, data_format=None):
    """Keras `ops.image.resize`: images to `size = (height, width)`; optionally first cropped
    or padded (with `fill_value`) to the target's aspect ratio. Integer images are resized
    in float, rounded and saturated back to their dtype, as Keras does.

    Example:
        >>> ops.image.resize(np.ones((8, 6, 3), "float32"), (4, 4), crop_to_aspect_ratio=True).shape
        (4, 4, 3)
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"ops.image.resize: interpolation must be one of {INTERPOLATIONS}, "
                         f"received {interpolation!r}")
    if fill_mode != "constant":
        raise ValueError(f"ops.image.resize: only fill_mode='constant' is supported, received "
                         f"{fill_mode!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("ops.image.resize: only one of crop_to_aspect_ratio and "
                         "pad_to_aspect_ratio can be True")
    if len(size) != 2:
        raise ValueError(f"ops.image.resize: size must be (height, width), received {size!r}")
    images = jnp.asarray(images)
    resized = _resize(images, tuple(int(s) for s in size), interpolation, antialias,
                      crop_to_aspect_ratio, pad_to_aspect_ratio, fill_value,
                      data_format=data_format, who="resize")
    if resized.dtype == images.dtype:
        return resized
    if jnp.issubdtype(images.dtype, jnp.integer):
        info = jnp.iinfo(images.dtype)
        return jnp.clip(jnp.round(resized), info.min, info.max).astype(images.dtype)
    return resized.astype(images.dtype)


def _check_sampling(interpolation, fill_mode, who):
    if interpolation not in SAMPLING_ORDERS:
        raise ValueError(f"ops.image.{who}: interpolation must be one of "
                         f"{tuple(SAMPLING_ORDERS)}, received {interpolation!r}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"ops.image.{who}: fill_mode must be one of {FILL_MODES}, received "
                         f"{fill_mode!r}")
    return SAMPLING_ORDERS[interpolation]


@_channels_last
def _affine(x, transform, order, fill_mode, fill_value):
    if transform.ndim == 1:
        transform = transform[None]
    if transform.shape[0] == 1:         # one for all (Keras's JAX backend refuses this)
        transform = jnp.broadcast_to(transform, (x.shape[0], 8))
    if transform.shape[0] != x.shape[0]:
        raise ValueError(f"ops.image.affine_transform: {transform.shape[0]} transforms for "
                         f"{x.shape[0]} images; give one transform per image, or one for all")
    a0, a1, a2, b0, b1, b2, c0, c1 = (transform[:, i] for i in range(8))
    # (row, column, channel) of each output pixel times Keras's matrix: rows sample at
    # b0 x + b1 y + b2, columns at a0 x + a1 y + a2 (c0, c1 reach only the channel index).
    zeros = jnp.zeros_like(a0)
    rows = jnp.stack([jnp.stack([b1, a1, zeros], -1), jnp.stack([b0, a0, zeros], -1),
                      jnp.stack([c0, c1, jnp.ones_like(c0)], -1)], 1)
    offset = jnp.stack([b2, a2, jnp.zeros_like(a2)], -1)
    grid = jnp.stack(jnp.meshgrid(*[jnp.arange(s) for s in x.shape[1:]], indexing="ij"), -1)
    coords = jnp.einsum("hwij,bjk->bkhwi", grid.astype(rows.dtype), rows)
    coords = coords + offset[:, :, None, None, None]
    sample = functools.partial(jax.scipy.ndimage.map_coordinates, order=order, mode=fill_mode,
                               cval=fill_value)
    return jax.vmap(sample)(x, coords)


@_op
def affine_transform(images, transform, interpolation="bilinear", fill_mode="constant",
                     fill_value=0, data_format=None):
    """Keras `ops.image.affine_transform`: output pixel (x, y) samples the input at
    (a0 x + a1 y + a2, b0 x + b1 y + b2) for `transform = [a0, a1, a2, b0, b1, b2, c0, c1]`
    (one row per image, or one for all). As in Keras's JAX backend, c0 and c1 do not divide:
    keep them 0.

    Example:
        >>> shift = np.array([1, 0, 1, 0, 1, 0, 0, 0], "float32")    # x + 1
        >>> row = np.arange(4, dtype="float32").reshape(1, 4, 1)
        >>> np.asarray(ops.image.affine_transform(row, shift))[0, :, 0].tolist()
        [1.0, 2.0, 3.0, 0.0]
    """
    order = _check_sampling(interpolation, fill_mode, "affine_transform")
    transform = jnp.asarray(transform)
    if transform.ndim not in (1, 2) or transform.shape[-1] != 8:
        raise ValueError(f"ops.image.affine_transform expects a transform of shape (8,) or "
                         f"(batch, 8), received {transform.shape}")
    return _affine(images, transform, order, fill_mode, fill_value, data_format=data_format,
                   who="affine_transform")


@_op
def map_coordinates(inputs, coordinates, order, fill_mode="constant", fill_value=0.0):
    """Keras `ops.image.map_coordinates`: `inputs` sampled at `coordinates` (one row per
    axis of `inputs`), spline order 0 or 1.

    Example:
        >>> x = np.array([0.0, 10.0], "float32")
        >>> float(ops.image.map_coordinates(x, np.array([[0.25]], "float32"), order=1)[0])
        2.5
    """
    inputs, coordinates = jnp.asarray(inputs), jnp.asarray(coordinates)
    if coordinates.ndim < 2 or coordinates.shape[0] != inputs.ndim:
        raise ValueError(f"ops.image.map_coordinates expects coordinates of shape "
                         f"({inputs.ndim}, ...) for inputs of rank {inputs.ndim}, received "
                         f"{coordinates.shape}")
    if fill_mode not in FILL_MODES:
        raise ValueError(f"ops.image.map_coordinates: fill_mode must be one of {FILL_MODES}, "
                         f"received {fill_mode!r}")
    if order not in (0, 1):
        raise ValueError(f"ops.image.map_coordinates: order must be 0 or 1, received {order!r}")
    return jax.scipy.ndimage.map_coordinates(inputs, coordinates, order, fill_mode, fill_value)


def _homographies(start, end):
    """The 8 projective numbers mapping each `end` quadrilateral onto its `start` one."""
    sx, sy, ex, ey = start[..., 0], start[..., 1], end[..., 0], end[..., 1]
    zeros, ones = jnp.zeros_like(ex), jnp.ones_like(ex)
    x_rows = jnp.stack([ex, ey, ones, zeros, zeros, zeros, -sx * ex, -sx * ey], -1)
    y_rows = jnp.stack([zeros, zeros, zeros, ex, ey, ones, -sy * ex, -sy * ey], -1)
    matrix = jnp.concatenate([x_rows, y_rows], 1)
    return jnp.linalg.solve(matrix, jnp.concatenate([sx, sy], -1)[..., None])[..., 0]


@_channels_last
def _perspective(x, start, end, order, fill_value):
    height, width = x.shape[1], x.shape[2]
    if start.shape[0] == 1:             # one for all (Keras's JAX backend refuses this)
        start, end = (jnp.broadcast_to(p, (x.shape[0], 4, 2)) for p in (start, end))
    if start.shape[0] != x.shape[0]:
        raise ValueError(f"ops.image.perspective_transform: {start.shape[0]} sets of points "
                         f"for {x.shape[0]} images; give one set per image, or one for all")
    h = _homographies(start, end)
    cols, rows = jnp.meshgrid(jnp.arange(width), jnp.arange(height), indexing="xy")
    cols, rows = cols.ravel().astype(h.dtype), rows.ravel().astype(h.dtype)

    def one(image, t):
        denom = t[6] * cols + t[7] * rows + 1.0
        coords = jnp.stack([(t[3] * cols + t[4] * rows + t[5]) / denom,
                            (t[0] * cols + t[1] * rows + t[2]) / denom])
        sample = lambda plane: jax.scipy.ndimage.map_coordinates(  # noqa: E731
            plane, coords, order=order, mode="constant", cval=fill_value).reshape(height, width)
        return jnp.moveaxis(jax.vmap(sample)(jnp.moveaxis(image, -1, 0)), 0, -1)
    return jax.vmap(one)(x, h)


@_op
def perspective_transform(images, start_points, end_points, interpolation="bilinear",
                          fill_value=0, data_format=None):
    """Keras `ops.image.perspective_transform`: the projective warp that takes the four
    `start_points` (x, y) to the four `end_points`, per image (or one set for all).

    Example:
        >>> corners = np.array([[0, 0], [3, 0], [0, 3], [3, 3]], "float32")
        >>> image = np.random.default_rng(0).uniform(size=(4, 4, 1)).astype("float32")
        >>> bool(np.allclose(ops.image.perspective_transform(image, corners, corners), image))
        True
    """
    order = _check_sampling(interpolation, "constant", "perspective_transform")
    start, end = jnp.asarray(start_points), jnp.asarray(end_points)
    for name, points in (("start_points", start), ("end_points", end)):
        if points.ndim not in (2, 3) or points.shape[-2:] != (4, 2):
            raise ValueError(f"ops.image.perspective_transform expects {name} of shape (4, 2) "
                             f"or (batch, 4, 2), received {points.shape}")
    if start.shape != end.shape:
        raise ValueError(f"ops.image.perspective_transform: start_points {start.shape} and "
                         f"end_points {end.shape} must have the same shape")
    start = (start[None] if start.ndim == 2 else start).astype(jnp.float32)
    end = (end[None] if end.ndim == 2 else end).astype(jnp.float32)
    return _perspective(images, start, end, order, fill_value, data_format=data_format,
                        who="perspective_transform")


def _depthwise_same(x, kernel):
    """Every channel of channels-last `x` convolved with one 2-D `kernel`, 'same' padding."""
    channels = x.shape[-1]
    weights = jnp.tile(kernel[:, :, None, None], (1, 1, 1, channels))
    return _conv.conv(x, weights.astype(x.dtype), padding="same", groups=channels)


def _gaussian_1d(size, sigma, dtype):
    x = jnp.arange(size, dtype=dtype) - jnp.asarray((size - 1) / 2, dtype)
    kernel = jnp.exp(-0.5 * (x / sigma) ** 2)
    return kernel / jnp.sum(kernel)


@_channels_last
def _blur(x, kernel_size, sigma):
    # Keras's kernel: rows from (kernel_size[1], sigma[1]), columns from index 0.
    sigma = jnp.asarray(sigma, x.dtype)
    kernel = jnp.outer(_gaussian_1d(kernel_size[1], sigma[1], x.dtype),
                       _gaussian_1d(kernel_size[0], sigma[0], x.dtype))
    return _depthwise_same(x, kernel)


@_op
def gaussian_blur(images, kernel_size=(3, 3), sigma=(1.0, 1.0), data_format=None):
    """Keras `ops.image.gaussian_blur`: a normalized Gaussian per channel, 'same' padding
    (zeros beyond the border).

    `data_format=None` means channels-last, as Keras documents and as its symbolic call does
    (Keras 3.15's eager call with `data_format=None` reads the images as channels-first);
    integer images are blurred in float32, where Keras refuses them.

    Example:
        >>> round(float(ops.image.gaussian_blur(np.ones((5, 5, 1), "float32"))[2, 2, 0]), 5)
        1.0
    """
    images = jnp.asarray(images)
    if not jnp.issubdtype(images.dtype, jnp.floating):
        images = images.astype(jnp.float32)
    return _blur(images, tuple(kernel_size), tuple(sigma), data_format=data_format,
                 who="gaussian_blur")


@_op
def sobel_edges(images, data_format=None):
    """Keras `ops.image.sobel_edges`: the vertical and horizontal Sobel responses per
    channel, stacked on a new last axis as `[dy, dx]` ('same' padding).

    Example:
        >>> ops.image.sobel_edges(np.ones((1, 4, 4, 1), "float32")).shape
        (1, 4, 4, 1, 2)
    """
    first = _channels_axis(data_format, "sobel_edges") == -3
    images = _float_images(images, "sobel_edges")
    if images.ndim != 4:
        raise ValueError(f"ops.image.sobel_edges expects a batch of images (rank 4), received "
                         f"shape {images.shape}")
    x = jnp.moveaxis(images, 1, -1) if first else images
    sobel_x = jnp.asarray([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], x.dtype)
    dy, dx = _depthwise_same(x, sobel_x.T), _depthwise_same(x, sobel_x)
    if first:
        dy, dx = jnp.moveaxis(dy, -1, 1), jnp.moveaxis(dx, -1, 1)
    return jnp.stack([dy, dx], axis=-1)


@_channels_last
def _elastic(x, alpha, sigma, order, fill_mode, fill_value, seed):
    batch, height, width, channels = x.shape
    # Keras draws one field from one key and uses it for both axes: so does this.
    field = _random.normal((batch, height, width, 1), dtype=x.dtype, seed=seed) * sigma
    size = int(6 * sigma) | 1
    field = jnp.reshape(_blur(field, (size, size), (sigma, sigma), who="elastic_transform"),
                        (batch, height, width))
    cols, rows = jnp.meshgrid(jnp.arange(width, dtype=x.dtype),
                              jnp.arange(height, dtype=x.dtype))
    coords = jnp.stack([rows[None] + alpha * field, cols[None] + alpha * field], 1)
    sample = functools.partial(jax.scipy.ndimage.map_coordinates, order=order, mode=fill_mode,
                               cval=fill_value)
    per_channel = jax.vmap(sample, in_axes=(-1, None), out_axes=-1)      # (h, w, c), (2, h, w)
    return jax.vmap(per_channel)(x, coords).astype(x.dtype)


@_op
def elastic_transform(images, alpha=20.0, sigma=5.0, interpolation="bilinear",
                      fill_mode="reflect", fill_value=0.0, seed=None, data_format=None):
    """Keras `ops.image.elastic_transform`: pixels displaced by a Gaussian-blurred random
    field scaled by `alpha`, as Keras's JAX backend draws it (one field from `seed`, used
    for both axes).

    An int `seed` gives Keras's numbers; `seed=None` draws from graphnet's seed stream (or,
    inside a layer's training call, from its random key).

    Example:
        >>> flat = np.ones((6, 6, 3), "float32")          # a flat image stays flat
        >>> bool(np.allclose(ops.image.elastic_transform(flat, seed=1), 1.0))
        True
    """
    order = _check_sampling(interpolation, fill_mode, "elastic_transform")
    images = _float_images(images, "elastic_transform")
    return _elastic(images, float(alpha), float(sigma), order, fill_mode, fill_value, seed,
                    data_format=data_format, who="elastic_transform")


@_op
def scale_and_translate(images, output_shape, scale, translation, spatial_dims, method,
                        antialias=True):
    """Keras `ops.image.scale_and_translate`: `jax.image.scale_and_translate`.

    Resamples so that input location `x` (pixel `i` centred at `i + 0.5`) lands at `x * scale
    + translation` in the output, along each axis of `spatial_dims`; output pixels that map
    outside the input are 0.

    Args:
        images: an array of any rank.
        output_shape: the shape of the result, every axis included.
        scale: one factor per axis of `spatial_dims`.
        translation: one shift per axis of `spatial_dims`, in output pixels.
        spatial_dims: the axes to resample.
        method: "linear", "bilinear", "trilinear", "cubic", "bicubic", "tricubic",
            "lanczos3" or "lanczos5".
        antialias: widen the kernel when downsampling (`scale < 1`) to avoid aliasing.

    Raises:
        ValueError: `method` is none of those.

    Example:
        >>> image, twice = np.ones((4, 4, 1), "float32"), np.array([2.0, 2.0], "float32")
        >>> ops.image.scale_and_translate(image, (8, 8, 1), twice, np.zeros(2, "float32"),
        ...                               (0, 1), "linear").shape
        (8, 8, 1)
    """
    if method not in SCALE_METHODS:
        raise ValueError(f"ops.image.scale_and_translate: method must be one of "
                         f"{SCALE_METHODS}, received {method!r}")
    return jax.image.scale_and_translate(jnp.asarray(images), tuple(output_shape),
                                         tuple(spatial_dims), jnp.asarray(scale),
                                         jnp.asarray(translation), method, antialias)


@_op
def ssim(image1, image2, max_val=1.0, filter_size=11, filter_sigma=1.5, k1=0.01, k2=0.03,
         data_format=None):
    """Keras `ops.image.ssim`: structural similarity per image, averaged over channels, with
    a Gaussian window and 'valid' padding.

    Args:
        image1: one image `(height, width, channels)` or a batch of them.
        image2: images of `image1`'s shape.
        max_val: the dynamic range of the values (1.0 for images in [0, 1], 255 for bytes).
        filter_size: the side of the Gaussian window; the images must be at least as large.
        filter_sigma: the standard deviation of the Gaussian window.
        k1: the constant stabilizing the luminance term, `(k1 * max_val) ** 2`.
        k2: the constant stabilizing the contrast term, `(k2 * max_val) ** 2`.
        data_format: "channels_last" (or None) or "channels_first".

    Returns:
        The similarity per image, up to 1 for identical images: a scalar for one image,
        `(batch,)` for a batch; in the images' dtype.

    Raises:
        ValueError: an image's rank is not 3 or 4, or `data_format` is unknown.

    Example:
        >>> image = np.random.default_rng(0).uniform(size=(5, 5, 1)).astype("float32")
        >>> round(float(ops.image.ssim(image, image, filter_size=3)), 5)
        1.0
    """
    first = _channels_axis(data_format, "ssim") == -3
    image1, image2 = _images(image1, "ssim", "image1"), _images(image2, "ssim", "image2")
    dtype = image1.dtype
    compute = _compute_dtype(dtype)
    x, y = image1.astype(compute), image2.astype(compute)
    single = x.ndim == 3
    if single:
        x, y = x[None], y[None]
    if first:
        x, y = jnp.moveaxis(x, 1, -1), jnp.moveaxis(y, 1, -1)
    gauss = jnp.arange(filter_size, dtype=compute) - (filter_size - 1) / 2.0
    gauss = jnp.exp(-(gauss ** 2) / (2.0 * filter_sigma ** 2))
    gauss = gauss / jnp.sum(gauss)
    kernel = jnp.outer(gauss, gauss)[:, :, None, None]

    def mean(v):           # every channel alone: (B, H, W, C) -> (B * C, H', W', 1)
        v = jnp.moveaxis(v, -1, 1).reshape(-1, v.shape[1], v.shape[2], 1)
        return _conv.conv(v, kernel, padding="valid")
    mu1, mu2 = mean(x), mean(y)
    c1, c2 = (k1 * max_val) ** 2, (k2 * max_val) ** 2
    var1, var2, cov = mean(x * x) - mu1 * mu1, mean(y * y) - mu2 * mu2, mean(x * y) - mu1 * mu2
    ssim_map = ((2.0 * mu1 * mu2 + c1) * (2.0 * cov + c2)
                / ((mu1 * mu1 + mu2 * mu2 + c1) * (var1 + var2 + c2)))
    result = jnp.mean(ssim_map, axis=(1, 2, 3)).reshape(x.shape[0], x.shape[-1]).mean(-1)
    return (result[0] if single else result).astype(dtype)


__all__ = ["rgb_to_grayscale", "rgb_to_hsv", "hsv_to_rgb", "resize", "affine_transform",
           "map_coordinates", "perspective_transform", "gaussian_blur", "sobel_edges",
           "pad_images", "crop_images", "extract_patches", "extract_patches_3d",
           "elastic_transform", "scale_and_translate", "ssim"]
