"""Preprocessing layers: Rescaling, Normalization (with `adapt`), CategoryEncoding, and the
image augmentation layers, which change their input only when training (identity in
`predict`/`evaluate`, as in Keras)."""
import math

import jax
import jax.numpy as jnp
import numpy as np
from jax.scipy import ndimage

from .base import Layer, shape_str

KERAS_EPSILON = 1e-7


class Rescaling(Layer):
    """Keras Rescaling(scale, offset=0.0): `x * scale + offset` (e.g. 1/255 for pixels).

    Examples:
        >>> x = graphnet.Input(shape=(4,))
        >>> layers.Rescaling(0.5, offset=-1.0)(x).shape
        (None, 4)
    """
    supports_masking = True

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale, self.offset = scale, offset

    def output_shape(self, input_shape):
        return input_shape

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        dtype = x.dtype if jnp.issubdtype(x.dtype, jnp.floating) else jnp.float32
        x = x.astype(dtype)
        return x * jnp.asarray(self.scale, dtype) + jnp.asarray(self.offset, dtype), state

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "offset": self.offset}


class Normalization(Layer):
    """Keras Normalization(axis=-1, mean=None, variance=None, invert=False):
    `(x - mean) / max(sqrt(variance), 1e-7)` per index of the kept `axis`; `invert=True`
    undoes it. Without `mean`/`variance`, `adapt(data)` computes them (population variance)
    and they are the layer's weights `[mean, variance, count]`, as in Keras.

    Examples:
        >>> x = graphnet.Input(shape=(2,))
        >>> layers.Normalization(mean=[0.5, -1.0], variance=[4.0, 1.0])(x).shape
        (None, 2)
    """
    supports_masking = True
    weight_names = ("mean", "variance", "count")

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        self.axis = (axis,) if isinstance(axis, int) else tuple(axis)
        if (mean is None) != (variance is None):
            raise ValueError(f"Normalization '{self.name}': give both mean and variance, or "
                             f"neither (then call adapt); received mean={mean!r}, "
                             f"variance={variance!r}")
        self.input_mean, self.input_variance = mean, variance
        self.invert = bool(invert)
        self._adapted = None            # (mean, variance, count) from adapt before build

    def _shapes(self, input_shape):
        ndim = len(input_shape)
        if any(a < -ndim or a >= ndim for a in self.axis):
            raise ValueError(f"Normalization '{self.name}': axis {self.axis} out of range for "
                             f"input shape {shape_str(input_shape)}")
        keep = tuple(sorted(a % ndim for a in self.axis))
        if any(input_shape[a] is None for a in keep):
            raise ValueError(f"Normalization '{self.name}': the kept axes {keep} must have known "
                             f"sizes, received input shape {shape_str(input_shape)}")
        broadcast = tuple(input_shape[d] if d in keep else 1 for d in range(ndim))
        return keep, broadcast, tuple(input_shape[d] for d in keep)

    def build(self, input_shape, *, generator=None):
        self.keep, self.broadcast, var_shape = self._shapes(input_shape)
        if self.input_mean is not None:
            return {}, {}
        if self._adapted is not None:
            mean, variance, count = self._adapted
        else:
            mean, variance = np.zeros(var_shape, "float32"), np.ones(var_shape, "float32")
            count = np.zeros((), "int32")
        return {}, {"mean": jnp.asarray(mean, jnp.float32),
                    "variance": jnp.asarray(variance, jnp.float32),
                    "count": jnp.asarray(count, jnp.int32)}

    def adapt(self, data, batch_size=None, steps=None):
        """Computes mean and variance over every axis but `axis` from `data` (an array, or
        an iterable of arrays whose statistics are combined)."""
        if self.input_mean is not None:
            raise ValueError(f"Normalization '{self.name}' was given mean and variance; adapt "
                             f"computes them only when both are None")
        chunks = [data] if hasattr(data, "shape") else list(data)
        if steps is not None:
            chunks = chunks[:steps]
        if not chunks:
            raise ValueError(f"Normalization '{self.name}': adapt received no data")
        first = np.asarray(chunks[0])
        keep, _, var_shape = self._shapes((None, *first.shape[1:]))
        reduce = tuple(d for d in range(first.ndim) if d not in keep)
        total, total_sq, count = 0.0, 0.0, 0
        for chunk in chunks:
            chunk = np.asarray(chunk, "float64")
            total = total + chunk.sum(axis=reduce)
            total_sq = total_sq + np.square(chunk).sum(axis=reduce)
            count += int(np.prod([chunk.shape[d] for d in reduce]))
        mean = total / count
        variance = np.maximum(total_sq / count - np.square(mean), 0.0)
        values = (np.asarray(mean, "float32").reshape(var_shape),
                  np.asarray(variance, "float32").reshape(var_shape), np.asarray(count, "int32"))
        if self.built:
            self.state = {"mean": jnp.asarray(values[0]), "variance": jnp.asarray(values[1]),
                          "count": jnp.asarray(values[2])}
        else:
            self._adapted = values

    def output_shape(self, input_shape):
        return input_shape

    def _stats(self, state):
        if self.input_mean is not None:
            mean = jnp.broadcast_to(jnp.asarray(self.input_mean, jnp.float32), self.broadcast) \
                if np.ndim(self.input_mean) == 0 else jnp.asarray(self.input_mean, jnp.float32)
            variance = jnp.broadcast_to(jnp.asarray(self.input_variance, jnp.float32),
                                        self.broadcast) \
                if np.ndim(self.input_variance) == 0 else jnp.asarray(self.input_variance,
                                                                        jnp.float32)
        else:
            mean, variance = state["mean"], state["variance"]
        return mean.reshape(self.broadcast), variance.reshape(self.broadcast)

    def call(self, params, state, x, *, training=False, rng=None):
        mean, variance = self._stats(state)
        x = x.astype(jnp.float32)
        scale = jnp.maximum(jnp.sqrt(variance), KERAS_EPSILON)
        if self.invert:
            return mean + x * scale, state
        return (x - mean) / scale, state

    def get_config(self):
        def plain(v):
            return v.tolist() if isinstance(v, np.ndarray) else v
        return {**super().get_config(), "axis": list(self.axis) if len(self.axis) != 1
                else self.axis[0], "mean": plain(self.input_mean),
                "variance": plain(self.input_variance), "invert": self.invert}


class CategoryEncoding(Layer):
    """Keras CategoryEncoding(num_tokens, output_mode="multi_hot"): integer ids to
    "one_hot", "multi_hot" or "count" vectors of length `num_tokens` (weighted counts with
    `count_weights`).

    Examples:
        >>> x = graphnet.Input(shape=(3,), dtype="int32")
        >>> layers.CategoryEncoding(6, output_mode="multi_hot")(x).shape
        (None, 6)
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if num_tokens is None or int(num_tokens) < 1:
            raise ValueError(f"CategoryEncoding '{self.name}': num_tokens must be a positive "
                             f"int, received {num_tokens!r}")
        if output_mode not in ("one_hot", "multi_hot", "count"):
            raise ValueError(f"CategoryEncoding '{self.name}': output_mode must be 'one_hot', "
                             f"'multi_hot' or 'count', received {output_mode!r}")
        if sparse:
            raise ValueError(f"CategoryEncoding '{self.name}': sparse outputs are not supported")
        self.num_tokens, self.output_mode, self.sparse = int(num_tokens), output_mode, False

    def output_shape(self, input_shape, count_weights=None):
        if self.output_mode == "one_hot" and (len(input_shape) == 1 or input_shape[-1] != 1):
            return (*input_shape, self.num_tokens)
        if self.output_mode == "one_hot":
            return (*input_shape[:-1], self.num_tokens)
        if len(input_shape) == 1:
            return (input_shape[0], self.num_tokens)
        return (*input_shape[:-1], self.num_tokens)

    def call(self, params, state, x, *, training=False, rng=None, count_weights=None):
        ids = x.astype(jnp.int32)
        if self.output_mode == "one_hot":
            if ids.ndim > 1 and ids.shape[-1] == 1:
                ids = ids[..., 0]
            return jax.nn.one_hot(ids, self.num_tokens, dtype=jnp.float32), state
        if ids.ndim == 1:
            ids = ids[:, None]
            count_weights = None if count_weights is None else count_weights[:, None]
        hot = jax.nn.one_hot(ids, self.num_tokens, dtype=jnp.float32)
        if count_weights is not None:
            hot = hot * count_weights.astype(jnp.float32)[..., None]
        counts = hot.sum(axis=-2)
        if self.output_mode == "multi_hot":
            return (counts > 0).astype(jnp.float32), state
        return counts, state

    def get_config(self):
        return {**super().get_config(), "num_tokens": self.num_tokens,
                "output_mode": self.output_mode, "sparse": self.sparse}


# ---- augmentation: active only when training ---------------------------------------------
FILL_MODES = {"reflect": "reflect", "wrap": "wrap", "constant": "constant",
              "nearest": "nearest"}


def _factor_range(value, who, arg, symmetric=True, low_bound=None):
    """Keras's factor forms: a number f gives (-f, f) (or (1 - f, 1 + f) for contrast, by
    the caller), a pair gives itself."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        pair = (-float(value), float(value)) if symmetric else (float(value), float(value))
    else:
        try:
            lo, hi = value
        except (TypeError, ValueError):
            raise ValueError(f"{who}: {arg} must be a number or a (lower, upper) pair, received "
                             f"{value!r}") from None
        pair = (float(lo), float(hi))
    if pair[0] > pair[1]:
        raise ValueError(f"{who}: {arg} lower bound must not exceed upper bound, received "
                         f"{value!r}")
    if low_bound is not None and pair[0] < low_bound:
        raise ValueError(f"{who}: {arg} must be >= {low_bound}, received {value!r}")
    return pair


class _Augmentation(Layer):
    """Identity unless training; then `augment(x, rng)` on a batch of images (batch, rows,
    cols, channels) or one image (rows, cols, channels)."""

    uses_rng = True                    # draws its augmentation when training

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed

    def output_shape(self, input_shape):
        if len(input_shape) not in (3, 4):
            raise ValueError(f"{type(self).__name__} '{self.name}' expects images (batch, rows, "
                             f"cols, channels), received shape {shape_str(input_shape)}")
        return input_shape

    def call(self, params, state, x, *, training=False, rng=None):
        if not training:
            return x, state
        if rng is None:
            raise ValueError(f"{type(self).__name__} '{self.name}' needs a random key when "
                             f"training=True: pass rng= to apply")
        single = x.ndim == 3
        batch = x[None] if single else x
        dtype = batch.dtype
        out = self.augment(batch.astype(jnp.float32), rng).astype(dtype)
        return (out[0] if single else out), state

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def _affine(images, matrices, fill_mode, fill_value, interpolation):
    """Each image resampled at `matrices @ (row, col, 1)` of its output pixels (inverse
    map, pixel centres), per channel; points outside follow `fill_mode`."""
    rows, cols = images.shape[1:3]
    r, c = jnp.meshgrid(jnp.arange(rows, dtype=jnp.float32),
                        jnp.arange(cols, dtype=jnp.float32), indexing="ij")
    grid = jnp.stack([r.ravel(), c.ravel(), jnp.ones(rows * cols, jnp.float32)])
    order = 0 if interpolation == "nearest" else 1

    def one(image, matrix):
        src = matrix @ grid                                     # (2, rows * cols)

        def channel(ch):
            return ndimage.map_coordinates(ch, [src[0], src[1]], order=order,
                                           mode=FILL_MODES[fill_mode],
                                           cval=fill_value).reshape(rows, cols)
        return jax.vmap(channel, in_axes=-1, out_axes=-1)(image)
    return jax.vmap(one)(images, matrices)


def _about_centre(images, linear, shift):
    """(batch, 2, 3) inverse maps: output pixel p reads input `linear @ (p - c) + c - shift`."""
    rows, cols = images.shape[1:3]
    centre = jnp.asarray([(rows - 1) / 2, (cols - 1) / 2], jnp.float32)
    offset = centre - jnp.einsum("bij,j->bi", linear, centre) - shift
    return jnp.concatenate([linear, offset[..., None]], axis=-1)


class _Geometric(_Augmentation):
    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None, fill_value=0.0,
                 **kwargs):
        super().__init__(seed=seed, **kwargs)
        who = f"{type(self).__name__} '{self.name}'"
        if fill_mode not in FILL_MODES:
            raise ValueError(f"{who}: fill_mode must be one of {sorted(FILL_MODES)}, received "
                             f"{fill_mode!r}")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(f"{who}: interpolation must be 'nearest' or 'bilinear', received "
                             f"{interpolation!r}")
        self.fill_mode, self.interpolation = fill_mode, interpolation
        self.fill_value = float(fill_value)

    def augment(self, x, rng):
        linear, shift = self.transform(x, rng)
        return _affine(x, _about_centre(x, linear, shift), self.fill_mode, self.fill_value,
                       self.interpolation)

    def get_config(self):
        return {**super().get_config(), "fill_mode": self.fill_mode,
                "interpolation": self.interpolation, "fill_value": self.fill_value}


class RandomFlip(_Augmentation):
    """Keras RandomFlip: each image flipped left-right and/or upside-down, each with
    probability 1/2, when training; unchanged otherwise.

    Args:
        mode: "horizontal" (left-right), "vertical" (upside-down) or
            "horizontal_and_vertical" (each drawn separately).
        seed: an int, for the same draws every run, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 2))
        >>> layers.RandomFlip()(x).shape
        (None, 4, 4, 2)
    """
    MODES = ("horizontal", "vertical", "horizontal_and_vertical")

    def __init__(self, mode="horizontal_and_vertical", seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        if mode not in self.MODES:
            raise ValueError(f"RandomFlip '{self.name}': mode must be one of {self.MODES}, "
                             f"received {mode!r}")
        self.mode = mode

    def augment(self, x, rng):
        k1, k2 = jax.random.split(rng)
        flips = {"horizontal": (k1, 2), "vertical": (k2, 1)}
        for name, (key, axis) in flips.items():
            if name in self.mode:
                flip = jax.random.bernoulli(key, 0.5, (x.shape[0], 1, 1, 1))
                x = jnp.where(flip, jnp.flip(x, axis=axis), x)
        return x

    def get_config(self):
        return {**super().get_config(), "mode": self.mode}


class RandomRotation(_Geometric):
    """Keras RandomRotation: each image rotated about its centre by a uniform random angle
    when training; unchanged otherwise.

    Args:
        factor: the angle's range as a fraction of a full turn: a number f gives
            [-f * 2 pi, f * 2 pi], a pair (lower, upper) gives [lower * 2 pi, upper * 2 pi].
        fill_mode: how points outside the image are filled: "reflect", "wrap", "constant"
            (with `fill_value`) or "nearest".
        interpolation: "bilinear" or "nearest".
        seed: an int, for the same draws every run, or None.
        fill_value: the value of "constant" filling.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 2))
        >>> layers.RandomRotation(0.1)(x).shape
        (None, 4, 4, 2)
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        self.factor = factor
        self.lower, self.upper = _factor_range(factor, f"RandomRotation '{self.name}'", "factor")

    def transform(self, x, rng):
        angle = jax.random.uniform(rng, (x.shape[0],), minval=self.lower * 2 * math.pi,
                                   maxval=self.upper * 2 * math.pi)
        cos, sin = jnp.cos(angle), jnp.sin(angle)
        linear = jnp.stack([jnp.stack([cos, -sin], -1), jnp.stack([sin, cos], -1)], -2)
        return linear, jnp.zeros((x.shape[0], 2), jnp.float32)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


class RandomZoom(_Geometric):
    """Keras RandomZoom: each image zoomed about its centre by a uniform random factor
    when training; unchanged otherwise.

    Args:
        height_factor: the vertical zoom's range: a number f gives [-f, f], a pair (lower,
            upper) gives [lower, upper]. The output shows (1 + draw) times the image's
            height: negative values zoom in, positive ones zoom out, as in Keras.
        width_factor: the same for the horizontal zoom; None uses the height's draw (the
            aspect ratio is kept).
        fill_mode: how points outside the image are filled: "reflect", "wrap", "constant"
            (with `fill_value`) or "nearest".
        interpolation: "bilinear" or "nearest".
        seed: an int, for the same draws every run, or None.
        fill_value: the value of "constant" filling.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 2))
        >>> layers.RandomZoom(0.1)(x).shape
        (None, 4, 4, 2)
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        who = f"RandomZoom '{self.name}'"
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _factor_range(height_factor, who, "height_factor", low_bound=-1.0)
        self.width_range = None if width_factor is None else _factor_range(
            width_factor, who, "width_factor", low_bound=-1.0)

    def transform(self, x, rng):
        k1, k2 = jax.random.split(rng)
        n = x.shape[0]
        zh = 1.0 + jax.random.uniform(k1, (n,), minval=self.height_range[0],
                                      maxval=self.height_range[1])
        zw = zh if self.width_range is None else 1.0 + jax.random.uniform(
            k2, (n,), minval=self.width_range[0], maxval=self.width_range[1])
        zeros = jnp.zeros_like(zh)
        linear = jnp.stack([jnp.stack([zh, zeros], -1), jnp.stack([zeros, zw], -1)], -2)
        return linear, jnp.zeros((n, 2), jnp.float32)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomTranslation(_Geometric):
    """Keras RandomTranslation: each image shifted by a uniform random fraction of its
    height and width when training; unchanged otherwise.

    Args:
        height_factor: the vertical shift's range as a fraction of the height: a number f
            gives [-f, f], a pair (lower, upper) gives [lower, upper].
        width_factor: the same for the horizontal shift.
        fill_mode: how points outside the image are filled: "reflect", "wrap", "constant"
            (with `fill_value`) or "nearest".
        interpolation: "bilinear" or "nearest".
        seed: an int, for the same draws every run, or None.
        fill_value: the value of "constant" filling.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 2))
        >>> layers.RandomTranslation(0.1, 0.1)(x).shape
        (None, 4, 4, 2)
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, **kwargs):
        super().__init__(fill_mode, interpolation, seed, fill_value, **kwargs)
        who = f"RandomTranslation '{self.name}'"
        self.height_factor, self.width_factor = height_factor, width_factor
        self.height_range = _factor_range(height_factor, who, "height_factor", low_bound=-1.0)
        self.width_range = _factor_range(width_factor, who, "width_factor", low_bound=-1.0)

    def transform(self, x, rng):
        k1, k2 = jax.random.split(rng)
        n, rows, cols = x.shape[:3]
        dy = jax.random.uniform(k1, (n,), minval=self.height_range[0],
                                maxval=self.height_range[1]) * rows
        dx = jax.random.uniform(k2, (n,), minval=self.width_range[0],
                                maxval=self.width_range[1]) * cols
        eye = jnp.broadcast_to(jnp.eye(2, dtype=jnp.float32), (n, 2, 2))
        return eye, jnp.stack([dy, dx], -1)

    def get_config(self):
        return {**super().get_config(), "height_factor": self.height_factor,
                "width_factor": self.width_factor}


class RandomContrast(_Augmentation):
    """Keras RandomContrast: each image's contrast scaled by a random factor when
    training; unchanged otherwise.

    Per image, `(x - mean) * c + mean` with `c` uniform in [1 - lower, 1 + upper] and the
    mean per channel, clipped to `value_range`.

    Args:
        factor: a number f in [0, 1] gives [1 - f, 1 + f]; a pair (lower, upper) gives
            [1 - lower, 1 + upper].
        value_range: the (min, max) of the pixel values.
        seed: an int, for the same draws every run, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 2))
        >>> layers.RandomContrast(0.2)(x).shape
        (None, 4, 4, 2)
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        who = f"RandomContrast '{self.name}'"
        self.factor = factor
        if isinstance(factor, (int, float)) and not isinstance(factor, bool):
            lower = upper = float(factor)
        else:
            lower, upper = _factor_range(factor, who, "factor")
        if lower < 0 or upper < 0 or lower > 1:
            raise ValueError(f"{who}: factor must be in [0, 1] (a number or a pair), received "
                             f"{factor!r}")
        self.lower, self.upper = lower, upper
        self.value_range = tuple(float(v) for v in value_range)

    def augment(self, x, rng):
        c = jax.random.uniform(rng, (x.shape[0], 1, 1, 1), minval=1.0 - self.lower,
                               maxval=1.0 + self.upper)
        mean = x.mean(axis=(1, 2), keepdims=True)
        return jnp.clip((x - mean) * c + mean, *self.value_range)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor,
                "value_range": list(self.value_range)}
