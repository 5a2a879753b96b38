"""MultiHeadAttention with Keras 3's arguments, weight shapes and weight order."""
import math

import jax
import jax.numpy as jnp
import numpy as np

from .. import initializers, regularizers
from .base import Layer, shape_str

_LARGE_NEGATIVE = -1e9        # Keras's masked-softmax fill for float32


class MultiHeadAttention(Layer):
    """Keras MultiHeadAttention(num_heads, key_dim): `mha(query, value, key=None)`.

    Weights, in Keras's order: query, key and value kernels (dim, heads, key_dim |
    value_dim) with biases (heads, key_dim | value_dim), then the output kernel (heads,
    value_dim, *output_shape) and bias. The masks of query, value and key (from an
    Embedding with mask_zero, passed as query_mask/value_mask/key_mask) restrict the
    attention as in Keras; the output carries the query's mask.
    """
    weight_names = ("query_kernel", "query_bias", "key_kernel", "key_bias", "value_kernel",
                    "value_bias", "output_kernel", "output_bias")
    build_kwargs = ("key",)
    supports_masking = True

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        who = f"MultiHeadAttention '{self.name}'"
        for arg, value in (("num_heads", num_heads), ("key_dim", key_dim)):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{who}: {arg} must be a positive int, received {value!r}")
        if value_dim is not None and (not isinstance(value_dim, int) or value_dim < 1):
            raise ValueError(f"{who}: value_dim must be a positive int or None, received {value_dim!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"{who}: dropout must be in [0, 1), received {dropout!r}")
        self.num_heads, self.key_dim = num_heads, key_dim
        self.value_dim = key_dim if value_dim is None else value_dim
        self.declared_value_dim = value_dim
        self.dropout, self.use_bias = float(dropout), bool(use_bias)
        self.output_shape_arg = (None if output_shape is None else
                                 (output_shape,) if isinstance(output_shape, int) else tuple(output_shape))
        if attention_axes is not None and isinstance(attention_axes, int):
            attention_axes = (attention_axes,)
        self.attention_axes = None if attention_axes is None else tuple(attention_axes)
        self.flash_attention = flash_attention
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        kernel_reg, bias_reg = regularizers.get(kernel_regularizer), regularizers.get(bias_regularizer)
        self.weight_regularizers = {f"{part}_{kind}": reg for part in ("query", "key", "value", "output")
                                    for kind, reg in (("kernel", kernel_reg), ("bias", bias_reg))}
        self.seed = seed

    # ---- shapes ------------------------------------------------------------------------
    def _axes(self, rank):
        """Attention axes of a query of `rank` (batch axis 0, features last)."""
        if self.attention_axes is None:
            return tuple(range(1, rank - 1))
        axes = tuple(sorted(a % rank for a in self.attention_axes))
        if any(not 1 <= a <= rank - 2 for a in axes) or any(
                not -rank <= a < rank for a in self.attention_axes):
            raise ValueError(f"MultiHeadAttention '{self.name}': attention_axes "
                             f"{self.attention_axes} must be axes between the batch and the "
                             f"feature axis of a rank-{rank} input")
        return axes

    def _check(self, query, value, key):
        who = f"MultiHeadAttention '{self.name}'"
        key = value if key is None else key
        for role, shape in (("query", query), ("value", value), ("key", key)):
            if len(shape) < 3 or shape[-1] is None:
                raise ValueError(f"{who} expects {role} of rank >= 3 (batch, ..., features) with "
                                 f"known features, received shape {shape_str(shape)}")
        if not len(query) == len(value) == len(key):
            raise ValueError(f"{who} expects query, value and key of the same rank, received "
                             f"{shape_str(query)}, {shape_str(value)} and {shape_str(key)}")
        if value[:-1] != key[:-1] and all(d is not None for d in value[1:-1] + key[1:-1]):
            raise ValueError(f"{who}: key and value must agree on all axes but the last, "
                             f"received key {shape_str(key)} and value {shape_str(value)}")
        if self.built:
            for role, shape in (("query", query), ("value", value), ("key", key)):
                if shape[-1] != self.dims[role]:
                    raise ValueError(f"{who} was built for {role} features {self.dims[role]}, "
                                     f"received {role} of shape {shape_str(shape)}")
        return self._axes(len(query))

    def build(self, query_shape, value_shape, *, rng, key=None):
        self._check(query_shape, value_shape, key)
        key_shape = value_shape if key is None else key
        self.dims = {"query": query_shape[-1], "value": value_shape[-1], "key": key_shape[-1]}
        out_shape = self.output_shape_arg or (query_shape[-1],)
        h, dk, dv = self.num_heads, self.key_dim, self.value_dim
        shapes = {"query": ((self.dims["query"], h, dk), (h, dk)),
                  "key": ((self.dims["key"], h, dk), (h, dk)),
                  "value": ((self.dims["value"], h, dv), (h, dv)),
                  "output": ((h, dv, *out_shape), out_shape)}
        params = {}
        for part, (kernel_shape, bias_shape) in shapes.items():
            params[f"{part}_kernel"] = self.kernel_initializer(kernel_shape, self.dtype, rng)
            if self.use_bias:
                params[f"{part}_bias"] = self.bias_initializer(bias_shape, self.dtype, rng)
        return params, {}

    def output_shape(self, query, value, key=None, return_attention_scores=False, **kwargs):
        axes = self._check(query, value, key)
        out = (*query[:-1], *(self.output_shape_arg or (query[-1],)))
        if not return_attention_scores:
            return out
        others = [query[a] for a in range(1, len(query) - 1) if a not in axes]
        scores = (query[0], *others, self.num_heads, *[query[a] for a in axes],
                  *[value[a] for a in axes])
        return [out, scores]

    # ---- the computation -----------------------------------------------------------------
    def _project(self, params, part, x, depth):
        kernel = params[f"{part}_kernel"]
        y = x @ kernel.reshape(kernel.shape[0], -1)
        if self.use_bias:
            y = y + params[f"{part}_bias"].reshape(-1)
        return y.reshape(*x.shape[:-1], self.num_heads, depth)

    def _to_heads(self, x, axes):
        """(batch, *s, heads, d) -> (flat batch, heads, flat attention axes, d) and its shape."""
        others = [a for a in range(1, x.ndim - 2) if a not in axes]
        order = [0, *others, x.ndim - 2, *axes, x.ndim - 1]
        moved = jnp.transpose(x, order)
        lead = moved.shape[:len(others) + 1]
        flat = moved.reshape(math.prod(lead), self.num_heads, -1, x.shape[-1])
        return flat, lead, [x.shape[a] for a in axes], order

    def call(self, params, state, query, value, key=None, *, training=False, rng=None,
             attention_mask=None, return_attention_scores=False, use_causal_mask=False,
             query_mask=None, value_mask=None, key_mask=None):
        axes = self._axes(query.ndim)
        if key is None or key is value:
            key_mask = None
        key = value if key is None else key

        q = self._project(params, "query", query, self.key_dim)
        k = self._project(params, "key", key, self.key_dim)
        v = self._project(params, "value", value, self.value_dim)
        q = q * jnp.asarray(1.0 / math.sqrt(self.key_dim), q.dtype)
        qf, lead, q_sizes, order = self._to_heads(q, axes)
        kf, _, k_sizes, _ = self._to_heads(k, axes)
        vf, _, _, _ = self._to_heads(v, axes)
        scores = jnp.einsum("bhtd,bhsd->bhts", qf, kf)

        full_mask = self._attention_mask(query_mask, value_mask, key_mask, attention_mask,
                                         use_causal_mask, lead, q_sizes, k_sizes, len(axes))
        if full_mask is not None:
            scores = jnp.where(full_mask, scores, jnp.asarray(_LARGE_NEGATIVE, scores.dtype))
        probs = jax.nn.softmax(scores, axis=-1)
        dropped = probs
        if training and self.dropout:
            if rng is None:
                raise ValueError(f"MultiHeadAttention '{self.name}' has dropout and needs a random "
                                 f"key when training=True: pass rng= to apply")
            keep = jax.random.bernoulli(rng, 1.0 - self.dropout, probs.shape)
            dropped = jnp.where(keep, probs / (1.0 - self.dropout), jnp.zeros((), probs.dtype))
        context = jnp.einsum("bhts,bhsd->bhtd", dropped, vf)

        # Back to (batch, *s, heads, value_dim), then the output projection.
        context = context.reshape(*lead, self.num_heads, *q_sizes, self.value_dim)
        context = jnp.transpose(context, np.argsort(order))
        kernel = params["output_kernel"]
        out = context.reshape(*context.shape[:-2], -1) @ kernel.reshape(-1, math.prod(kernel.shape[2:]))
        if self.use_bias:
            out = out + params["output_bias"].reshape(-1)
        out = out.reshape(*context.shape[:-2], *kernel.shape[2:])
        if return_attention_scores:
            return (out, probs.reshape(*lead, self.num_heads, *q_sizes, *k_sizes)), state
        return out, state

    def _attention_mask(self, query_mask, value_mask, key_mask, attention_mask, causal, lead,
                        q_sizes, k_sizes, n_axes):
        """Keras's `_compute_attention_mask`, flattened to (flat batch, 1, T, S)."""
        t, s = math.prod(q_sizes), math.prod(k_sizes)
        combined = None

        def merge(m):
            return m if combined is None else combined & m
        if query_mask is not None:
            combined = merge(query_mask.astype(bool).reshape(-1, 1, t, 1))
        for m in (value_mask, key_mask):
            if m is not None:
                combined = merge(m.astype(bool).reshape(-1, 1, 1, s))
        if causal:
            combined = merge(jnp.tril(jnp.ones((t, s), bool))[None, None])
        if attention_mask is not None:
            m = attention_mask.astype(bool)
            scores_rank = len(lead) + 1 + 2 * n_axes
            while m.ndim < scores_rank:
                m = jnp.expand_dims(m, -2 * n_axes - 1)
            m = jnp.broadcast_to(m, (*lead, 1, *q_sizes, *k_sizes)).reshape(-1, 1, t, s)
            combined = merge(m)
        return combined

    def get_config(self):
        return {**super().get_config(), "num_heads": self.num_heads, "key_dim": self.key_dim,
                "value_dim": self.declared_value_dim, "dropout": self.dropout,
                "use_bias": self.use_bias,
                "output_shape": None if self.output_shape_arg is None else list(self.output_shape_arg),
                "attention_axes": None if self.attention_axes is None else list(self.attention_axes),
                "flash_attention": self.flash_attention,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(self.weight_regularizers["query_kernel"]),
                "bias_regularizer": regularizers.serialize(self.weight_regularizers["query_bias"]),
                "seed": self.seed}
