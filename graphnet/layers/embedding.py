"""Embedding: integer ids to dense vectors, with Keras's `mask_zero`."""
import jax.numpy as jnp
import numpy as np

from .. import initializers, regularizers
from .base import Layer, shape_str


class Embedding(Layer):
    """Keras Embedding(input_dim, output_dim): weights `[embeddings (input_dim, output_dim)]`.

    With `mask_zero=True`, id 0 is padding: the layer's output carries the mask `ids != 0`,
    which the recurrent layers after it honour. `input_length` (Keras 2) only fixes the
    input shape, so a Sequential model is built as soon as it is added.

    Examples:
        >>> x = graphnet.Input(shape=(5,), dtype="int32")
        >>> layers.Embedding(10, 4)(x).shape
        (None, 5, 4)
    """
    weight_names = ("embeddings",)

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, mask_zero=False, input_length=None, **kwargs):
        if input_length is not None and "input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,)
        super().__init__(**kwargs)
        for arg, value in (("input_dim", input_dim), ("output_dim", output_dim)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"Embedding '{self.name}': {arg} must be a positive int, "
                                 f"received {value!r}")
        self.input_dim, self.output_dim = int(input_dim), int(output_dim)
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.weight_regularizers = {"embeddings": regularizers.get(embeddings_regularizer)}
        self.mask_zero = bool(mask_zero)
        self.supports_masking = self.mask_zero
        self.input_length = input_length

    def build(self, input_shape, *, generator):
        return {"embeddings": self.embeddings_initializer((self.input_dim, self.output_dim),
                                                          self.dtype, generator)}, {}

    def output_shape(self, input_shape):
        if len(input_shape) < 1:
            raise ValueError(f"Embedding '{self.name}' expects integer ids of shape (batch, ...), "
                             f"received shape {shape_str(input_shape)}")
        return (*input_shape, self.output_dim)

    def call(self, params, state, ids, *, training=False, rng=None):
        if not jnp.issubdtype(ids.dtype, jnp.integer):
            # Keras casts float ids (e.g. from a float Input) to int.
            ids = ids.astype(jnp.int32)
        return jnp.take(params["embeddings"], ids, axis=0), state

    def compute_mask(self, inputs, mask=None):
        if not self.mask_zero:
            return None
        return jnp.not_equal(inputs, 0)

    def get_config(self):
        return {**super().get_config(), "input_dim": self.input_dim, "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.weight_regularizers["embeddings"]),
                "mask_zero": self.mask_zero, "input_length": self.input_length}
