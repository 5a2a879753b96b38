"""Keras's batch-mixing augmentation layers: MixUp and CutMix.

Each mixes every image of a batch with another image of the same batch (a random
permutation), so an image's output depends on its batch: both say `batch_dependent`, and fit
never pads their last batch. As with the colour layers, `get_random_transformation(images,
rng)` draws Keras's parameters from graphnet's key stream (Keras's distributions, other draws)
and `transform_images` applies them with Keras's arithmetic. In a model they receive images
only; `transform_labels(labels, transformation)` mixes labels with the same draw, as Keras
does for a dict with "labels"."""
import jax
import jax.numpy as jnp

from .image_color import ImageAugmentation, factor_range


class MixingAugmentation(ImageAugmentation):
    """Images only in a model: Keras's dict of images and labels is refused by name. Keras
    returns its compute dtype when training (and CutMix at inference too)."""
    batch_dependent = True
    cast_at_inference = False

    def call(self, params, state, x, *, training=False, rng=None):
        if isinstance(x, dict):
            raise NotImplementedError(
                f"{self.who} takes images only; a dict with 'labels' is not supported: mix "
                f"labels with the same draw (get_random_transformation, then transform_labels)")
        out, state = super().call(params, state, x, training=training, rng=rng)
        if training or self.cast_at_inference:
            out = out.astype(self.compute_dtype)
        return out, state

    def permutation(self, rng, n):
        """Keras's `permutation_order`: a random order of the batch."""
        return jax.random.permutation(rng, jnp.arange(n, dtype=jnp.int32))

    def transform_labels(self, labels, transformation):
        """Keras's label mixing: `w * labels + (1 - w) * labels[permutation_order]`.

        Examples:
            >>> t = {"mix_weight": np.array([0.25, 1.0]), "permutation_order": np.array([1, 0])}
            >>> np.asarray(layers.MixUp().transform_labels(np.eye(2), t)).tolist()
            [[0.25, 0.75], [0.0, 1.0]]
        """
        weight = jnp.reshape(transformation["mix_weight"], (-1, 1))
        mixed = jnp.take(labels, transformation["permutation_order"], axis=0)
        return weight * labels + (1.0 - weight) * mixed


class MixUp(MixingAugmentation):
    """Keras MixUp: when training, each image blended with another image of its batch,
    `w * x + (1 - w) * x[permutation]`, `w` drawn per image from Beta(alpha, alpha);
    unchanged at inference.

    The weights and the permutation follow Keras's distributions; the draws are graphnet's
    own. Keras mixes a single image (rows, cols, channels) with its own first row; graphnet
    refuses one image in training rather than differ. A dict of images and labels (Keras's
    way of mixing labels too) is not supported in a model: call `transform_labels` with the
    same `get_random_transformation` draw.

    Args:
        alpha: Beta's concentration, above 0: smaller values mix less.
        data_format: "channels_last" (or None).
        seed: an int, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> model = graphnet.Model(x, layers.MixUp(alpha=0.2)(x))
        >>> images = np.ones((2, 4, 4, 3), "float32")
        >>> model.output_shape, bool((model.predict(images, verbose=0) == images).all())
        ((None, 4, 4, 3), True)
    """

    def __init__(self, alpha=0.2, data_format=None, seed=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, (int, float)) or not alpha > 0:
            raise ValueError(f"{self.who}: alpha must be a number above 0, received {alpha!r}")
        self.alpha = alpha

    def call(self, params, state, x, *, training=False, rng=None):
        if training and not isinstance(x, dict) and x.ndim == 3:
            raise NotImplementedError(
                f"{self.who} mixes the images of a batch; received one image of shape "
                f"{tuple(x.shape)}: pass a batch (batch, rows, cols, channels)")
        return super().call(params, state, x, training=training, rng=rng)

    def get_random_transformation(self, images, rng):
        k1, k2 = jax.random.split(rng)
        n = images.shape[0]
        return {"mix_weight": jax.random.beta(k2, self.alpha, self.alpha, (n,)),
                "permutation_order": self.permutation(k1, n)}

    def transform_images(self, images, transformation):
        weight = jnp.reshape(transformation["mix_weight"], (-1, 1, 1, 1)).astype(images.dtype)
        mixed = jnp.take(images, transformation["permutation_order"], axis=0)
        return weight * images + (1.0 - weight) * mixed

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


def crop_bounds(key, n, length, ratio):
    """Keras CutMix's `_compute_crop_bounds`: a crop of `ratio * length` (not rounded) at a
    uniform start in [0, length - crop)."""
    crop = (ratio * length).astype(jnp.float32)
    start = jax.random.uniform(key, (n,)) * (length - crop)
    return start, start + crop


def box_masks(shape, corners):
    """Keras CutMix's `_generate_batch_mask`: the pixels (x, y) with x0 <= x < x1 and
    y0 <= y < y1, on every channel, and the mix weight `1 - box area / image area` (the box's
    real area, not its pixel count)."""
    rows, cols, channels = shape[1:]
    x0, x1, y0, y1 = (jnp.reshape(c, (-1, 1, 1, 1)) for c in corners)
    grid_y = jnp.arange(rows, dtype=jnp.float32)[None, :, None, None]
    grid_x = jnp.arange(cols, dtype=jnp.float32)[None, None, :, None]
    inside = (grid_x >= x0) & (grid_x < x1) & (grid_y >= y0) & (grid_y < y1)
    masks = jnp.broadcast_to(inside, (inside.shape[0], rows, cols, channels))
    return masks, 1.0 - (x1 - x0) * (y1 - y0) / (cols * rows)


class CutMix(MixingAugmentation):
    """Keras CutMix: when training, a random box of each image replaced by the same box of
    another image of its batch; unchanged at inference.

    As in Keras, a Beta(a, a) weight `w` per image (`a` drawn once per batch from the factor's
    range, plus 1e-6) sets the box's sides to `sqrt(1 - w)` of the image's, at a uniform
    position; `mix_weight` is then `1 - box area / image area`, the labels' weight. The draws
    are graphnet's own. One image (rows, cols, channels) is returned unchanged, as in Keras, and images come
    out in the layer's compute dtype (float32) at inference too, as Keras's do. A
    dict of images and labels is not supported in a model: call `transform_labels` with the
    same `get_random_transformation` draw.

    Args:
        factor: a number f in [0, 1] gives (0, f); a pair gives the range of Beta's `a`.
        seed: an int, or None.
        data_format: "channels_last" (or None).
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> x = graphnet.Input(shape=(4, 4, 3))
        >>> model = graphnet.Model(x, layers.CutMix(factor=0.5)(x))
        >>> images = np.ones((2, 4, 4, 3), "float32")
        >>> model.output_shape, bool((model.predict(images, verbose=0) == images).all())
        ((None, 4, 4, 3), True)
    """

    cast_at_inference = True          # Keras's transform_images casts at inference as well

    def __init__(self, factor=1.0, seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_range(factor, (0, 1), self.who)

    def get_random_transformation(self, images, rng):
        n, rows, cols = images.shape[:3]
        k_alpha, k_weight, k_x, k_y, k_order = jax.random.split(rng, 5)
        alpha = jax.random.uniform(k_alpha, (), minval=self.factor[0],
                                   maxval=self.factor[1]) + 1e-6
        ratio = jnp.sqrt(1.0 - jax.random.beta(k_weight, alpha, alpha, (n,)))
        x0, x1 = crop_bounds(k_x, n, cols, ratio)
        y0, y1 = crop_bounds(k_y, n, rows, ratio)
        masks, mix_weight = box_masks(images.shape, (x0, x1, y0, y1))
        return {"permutation_order": self.permutation(k_order, n), "batch_masks": masks,
                "mix_weight": mix_weight}

    def transform_images(self, images, transformation):
        mixed = jnp.take(images, transformation["permutation_order"], axis=0)
        return jnp.where(transformation["batch_masks"], mixed, images)

    def get_config(self):
        return {**super().get_config(), "factor": list(self.factor)}
