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

    Examples:
        >>> a = graphnet.Input(shape=(5, 4))
        >>> b = graphnet.Input(shape=(5, 4))
        >>> layers.MultiHeadAttention(num_heads=2, key_dim=3)(a, b).shape
        (None, 5, 4)
    """
    weight_names = ("query_kernel", "query_bias", "key_kernel", "key_bias", "value_kernel",
                    "value_bias", "output_kernel", "output_bias")
    build_kwargs = ("key",)
    supports_masking = True

    @property
    def uses_rng(self) -> bool:
        return self.dropout > 0

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

    def build(self, query_shape, value_shape, *, generator, key=None):
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
            params[f"{part}_kernel"] = self.kernel_initializer(kernel_shape, self.dtype, generator)
            if self.use_bias:
                params[f"{part}_bias"] = self.bias_initializer(bias_shape, self.dtype, generator)
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
            fill = -3e4 if scores.dtype == jnp.float16 else _LARGE_NEGATIVE   # Keras's, in range
            scores = jnp.where(full_mask, scores, jnp.asarray(fill, scores.dtype))
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


class _BaseDenseAttention(Layer):
    """Keras's Attention/AdditiveAttention: `layer([query, value])` or `[query, value,
    key]`; softmax of the scores over the value steps (masked steps get -1e9), times value.
    The query's mask zeroes masked output steps and is passed on."""
    supports_masking = True

    @property
    def uses_rng(self) -> bool:
        return self.dropout > 0

    def __init__(self, dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not 0 <= dropout < 1:
            raise ValueError(f"{type(self).__name__} '{self.name}': dropout must be in [0, 1), "
                             f"received {dropout!r}")
        self.dropout, self.seed = float(dropout), seed

    def _check(self, input_shape):
        if not isinstance(input_shape, list) or len(input_shape) not in (2, 3):
            raise ValueError(f"{type(self).__name__} '{self.name}' expects a list [query, value] "
                             f"or [query, value, key], received {input_shape!r}")
        q, v, *k = input_shape
        k = k[0] if k else v
        if q[-1] != k[-1]:
            raise ValueError(f"{type(self).__name__} '{self.name}': query and key must have the "
                             f"same last dimension, received query {shape_str(q)} and key "
                             f"{shape_str(k)}")
        if v[1] is not None and k[1] is not None and v[1] != k[1]:
            raise ValueError(f"{type(self).__name__} '{self.name}': value and key must have the "
                             f"same number of steps, received value {shape_str(v)} and key "
                             f"{shape_str(k)}")
        return q, v, k

    def output_shape(self, input_shape, return_attention_scores=False, use_causal_mask=False,
                     **kwargs):
        q, v, _ = self._check(input_shape)
        out = (*q[:-1], v[-1])
        if return_attention_scores:
            return [out, (*q[:-1], v[1])]
        return out

    def call(self, params, state, inputs, *, training=False, rng=None, mask=None,
             return_attention_scores=False, use_causal_mask=False):
        q, v, *k = inputs
        k = k[0] if k else v
        masks = list(mask) if isinstance(mask, (list, tuple)) else [mask, None]
        q_mask, v_mask = (masks + [None, None])[:2]
        scores = self.scores(params, q, k)
        keep = None
        if v_mask is not None:
            keep = v_mask[:, None, :]
        if use_causal_mask:
            causal = jnp.tril(jnp.ones((scores.shape[-2], scores.shape[-1]), bool))[None]
            keep = causal if keep is None else keep & causal
        if keep is not None:
            scores = scores - 1e9 * (~keep).astype(scores.dtype)
        weights = jax.nn.softmax(scores, axis=-1)
        if training and self.dropout > 0:
            if rng is None:
                raise ValueError(f"{type(self).__name__} '{self.name}' needs a random key when "
                                 f"training with dropout: pass rng= to apply")
            kept = jax.random.bernoulli(rng, 1.0 - self.dropout, weights.shape)
            weights = jnp.where(kept, weights / (1.0 - self.dropout), 0.0)
        out = weights @ v
        if q_mask is not None:
            out = out * q_mask[..., None].astype(out.dtype)
        if return_attention_scores:
            return [out, weights], state
        return out, state

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            return None if not mask else mask[0]
        return mask

    def get_config(self):
        return {**super().get_config(), "dropout": self.dropout, "seed": self.seed}


class Attention(_BaseDenseAttention):
    """Keras Attention: dot-product (Luong) attention of a query sequence over a value
    sequence: softmax of the scores over the value steps, times value.

    Called on `[query, value]` or `[query, value, key]` (key defaults to value), each
    (batch, steps, features); returns (batch, query steps, value features). Call keywords:
    `mask` (a list of the query's and the value's masks), `return_attention_scores`
    (also return the softmax weights) and `use_causal_mask` (query step i attends only to
    value steps <= i).

    Args:
        use_scale: multiply the scores by a learned scalar `scale`.
        score_mode: "dot" (`query @ key^T`) or "concat"
            (`concat_score_weight * sum(tanh(scale * (query + key)))`).
        dropout: the fraction of attention weights dropped when training.
        seed: an int, for the same dropout draws every run, or None.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> a = graphnet.Input(shape=(3, 4))
        >>> b = graphnet.Input(shape=(5, 4))
        >>> layers.Attention()([a, b]).shape
        (None, 3, 4)
    """
    weight_names = ("scale", "concat_score_weight")

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(dropout, seed, **kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(f"Attention '{self.name}': score_mode must be 'dot' or 'concat', "
                             f"received {score_mode!r}")
        self.use_scale, self.score_mode = bool(use_scale), score_mode

    def build(self, input_shape, *, generator):
        self._check(input_shape)
        params = {}
        if self.use_scale:
            params["scale"] = jnp.ones((), jnp.float32)
        if self.score_mode == "concat":
            params["concat_score_weight"] = jnp.ones((), jnp.float32)
        return params, {}

    def scores(self, params, q, k):
        scale = params.get("scale")
        if self.score_mode == "dot":
            s = q @ jnp.swapaxes(k, -1, -2)
            return s if scale is None else s * scale
        summed = q[..., :, None, :] + k[..., None, :, :]
        if scale is not None:
            summed = scale * summed
        return params["concat_score_weight"] * jnp.sum(jnp.tanh(summed), axis=-1)

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale,
                "score_mode": self.score_mode}


class AdditiveAttention(_BaseDenseAttention):
    """Keras AdditiveAttention: additive (Bahdanau) attention, scores
    `sum(scale * tanh(query + key))` over the features.

    Called on `[query, value]` or `[query, value, key]` (key defaults to value), each
    (batch, steps, features); returns (batch, query steps, value features). Call keywords:
    `mask` (a list of the query's and the value's masks), `return_attention_scores`
    (also return the softmax weights) and `use_causal_mask` (query step i attends only to
    value steps <= i).

    Args:
        use_scale: `scale` is a learned vector of the feature size (else 1).
        dropout: the fraction of attention weights dropped when training.
        **kwargs: the base layer's arguments (`name`, `dtype`, ...).

    Examples:
        >>> a = graphnet.Input(shape=(3, 4))
        >>> b = graphnet.Input(shape=(5, 4))
        >>> layers.AdditiveAttention()([a, b]).shape
        (None, 3, 4)
    """
    weight_names = ("scale",)

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(dropout, **kwargs)
        self.use_scale = bool(use_scale)

    def build(self, input_shape, *, generator):
        q, _, _ = self._check(input_shape)
        if not self.use_scale:
            return {}, {}
        return {"scale": initializers.get("glorot_uniform")((q[-1],), self.dtype, generator)}, {}

    def scores(self, params, q, k):
        scale = params.get("scale", 1.0)
        return jnp.sum(scale * jnp.tanh(q[..., :, None, :] + k[..., None, :, :]), axis=-1)

    def get_config(self):
        return {**super().get_config(), "use_scale": self.use_scale}
