"""Keras's batch-mixing augmentation layers: MixUp.

It mixes every image of a batch with another image of the same batch (a random
permutation), so an image's output depends on its batch: it says `batch_dependent`, and fit
never pads its last batch. As with the colour layers, `get_random_transformation(images,
rng)` draws Keras's parameters from graphnet's key stream (Keras's distributions, other draws)
and `transform_images` applies them with Keras's arithmetic. In a model it receives images
only; `transform_labels(labels, transformation)` mixes labels with the same draw, as Keras
does for a dict with "labels"."""
import jax
import jax.numpy as jnp

from .image_color import ImageAugmentation, factor_range


class MixingAugmentation(ImageAugmentation):
    """Images only in a model: Keras's dict of images and labels is refused by name. Keras
    returns its compute dtype when training."""
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

