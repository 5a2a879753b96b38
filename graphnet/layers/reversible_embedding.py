"""Keras ReversibleEmbedding: an Embedding that also maps vectors back to logits."""
import jax.numpy as jnp

from .. import constraints
from .base import shape_str
from .embedding import Embedding


class ReversibleEmbedding(Embedding):
    """Keras ReversibleEmbedding(input_dim, output_dim, tie_weights=True): ids to vectors,
    and with `reverse=True` vectors to logits over the vocabulary (`x @ embeddings.T`, or
    a separate `reverse_embeddings (output_dim, input_dim)` when `tie_weights=False`).

    With `mask_zero=True`, a forward call on integer ids carries the mask `ids != 0`; a
    reverse call carries none.

    Examples:
        >>> layer = layers.ReversibleEmbedding(10, 4)
        >>> vectors = layer(np.array([[1, 2, 3]]))
        >>> vectors.shape, layer(vectors, reverse=True).shape
        ((1, 3, 4), (1, 3, 10))
    """
    weight_names = ("embeddings", "reverse_embeddings")

    def __init__(self, input_dim, output_dim, tie_weights=True,
                 embeddings_initializer="uniform", embeddings_regularizer=None,
                 embeddings_constraint=None, mask_zero=False, reverse_dtype=None,
                 logit_soft_cap=None, **kwargs):
        super().__init__(input_dim, output_dim, embeddings_initializer=embeddings_initializer,
                         embeddings_regularizer=embeddings_regularizer, mask_zero=mask_zero,
                         **kwargs)
        self.weight_constraints = constraints.of(embeddings=embeddings_constraint)
        self.tie_weights = bool(tie_weights)
        self.reverse_dtype = reverse_dtype
        self.logit_soft_cap = logit_soft_cap
        self.supports_masking = self.mask_zero

    def build(self, input_shape, *, generator):
        params, state = super().build(input_shape, generator=generator)
        if not self.tie_weights:
            params["reverse_embeddings"] = self.embeddings_initializer(
                (self.output_dim, self.input_dim), self.dtype, generator)
        return params, state

    def output_shape(self, input_shape, reverse=False):
        if not reverse:
            return super().output_shape(input_shape)
        if len(input_shape) < 2 or input_shape[-1] != self.output_dim:
            raise ValueError(f"ReversibleEmbedding '{self.name}' with reverse=True expects "
                             f"vectors of shape (..., {self.output_dim}), received "
                             f"{shape_str(input_shape)}")
        return (*input_shape[:-1], self.input_dim)

    def call(self, params, state, inputs, *, reverse=False, training=False, rng=None):
        if not reverse:
            return super().call(params, state, inputs, training=training, rng=rng)
        kernel = (params["embeddings"].T if self.tie_weights
                  else params["reverse_embeddings"])
        if self.reverse_dtype is not None:
            inputs, kernel = inputs.astype(self.reverse_dtype), kernel.astype(self.reverse_dtype)
        logits = inputs @ kernel
        if self.logit_soft_cap is not None:
            logits = jnp.tanh(logits / self.logit_soft_cap) * self.logit_soft_cap
        return logits, state

    def compute_mask(self, inputs, mask=None):
        return None                         # Keras's: the forward call sets its own

    def output_mask(self, args, mask):
        ids = args[0]
        if not self.mask_zero or not jnp.issubdtype(ids.dtype, jnp.integer):
            return None
        return jnp.not_equal(ids, 0)

    def get_config(self):
        config = {**super().get_config(), "tie_weights": self.tie_weights,
                  "reverse_dtype": self.reverse_dtype, "logit_soft_cap": self.logit_soft_cap,
                  **constraints.config_of(self.weight_constraints, "embeddings")}
        config.pop("input_length", None)
        return config
