"""Keras GroupQueryAttention: fewer key and value heads than query heads, each shared by a
group of query heads."""
import math

import jax
import jax.numpy as jnp
import numpy as np

from .. import constraints, initializers, regularizers
from .base import Layer, shape_str
from .einsum_dense import einsum_kernel

_LARGE_NEGATIVE = -1e9        # Keras's masked-softmax fill for float32


class GroupQueryAttention(Layer):
    """Keras GroupQueryAttention(head_dim, num_query_heads, num_key_value_heads):
    `gqa(query, value, key=None)` on (batch, steps, features).

    Weights in Keras's order: query, key, (gate,) value kernels (features, heads, head_dim)
    and biases (heads, head_dim), then the output kernel (query heads, head_dim, features)
    and bias. Masks of query, value and key restrict the attention as in Keras; the output
    carries the query's mask.

    Examples:
        >>> gqa = layers.GroupQueryAttention(head_dim=4, num_query_heads=4, num_key_value_heads=2)
        >>> x = np.ones((2, 5, 8), "float32")
        >>> gqa(x, x).shape
        (2, 5, 8)
    """
    build_kwargs = ("key",)
    supports_masking = True

    def __init__(self, head_dim, num_query_heads, num_key_value_heads, dropout=0.0,
                 use_bias=True, sliding_window=None, flash_attention=None,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, use_gate=False, seed=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        who = f"GroupQueryAttention '{self.name}'"
        for arg, value in (("head_dim", head_dim), ("num_query_heads", num_query_heads),
                           ("num_key_value_heads", num_key_value_heads)):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{who}: {arg} must be a positive int, received {value!r}")
        if num_query_heads % num_key_value_heads:
            raise ValueError(f"{who}: num_query_heads ({num_query_heads}) must be divisible by "
                             f"num_key_value_heads ({num_key_value_heads})")
        if sliding_window is not None and (not isinstance(sliding_window, int)
                                           or sliding_window <= 0):
            raise ValueError(f"{who}: sliding_window must be None or a positive int, received "
                             f"{sliding_window!r}")
        if not 0 <= dropout < 1:
            raise ValueError(f"{who}: dropout must be in [0, 1), received {dropout!r}")
        if flash_attention and dropout:
            raise ValueError(f"{who}: dropout is not supported with flash_attention (as Keras)")
        self.head_dim, self.num_query_heads = int(head_dim), int(num_query_heads)
        self.num_key_value_heads = int(num_key_value_heads)
        self.dropout, self.use_bias, self.use_gate = float(dropout), bool(use_bias), bool(use_gate)
        self.sliding_window, self.flash_attention, self.seed = sliding_window, flash_attention, seed
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        parts = ["query", "key", *(["gate"] if self.use_gate else []), "value", "output"]
        self.weight_names = tuple(f"{p}_{k}" for p in parts for k in ("kernel", "bias")
                                  if k == "kernel" or self.use_bias)
        kernel_reg, bias_reg = regularizers.get(kernel_regularizer), regularizers.get(bias_regularizer)
        self.weight_regularizers = {n: kernel_reg if n.endswith("kernel") else bias_reg
                                    for n in self.weight_names}
        self.weight_constraints = {n: c for n in self.weight_names for c in [constraints.get(
            kernel_constraint if n.endswith("kernel") else bias_constraint)] if c is not None}
        self.constraint_configs = (kernel_constraint, bias_constraint)

    @property
    def uses_rng(self) -> bool:
        return self.dropout > 0

    def _check(self, query, value, key):
        who = f"GroupQueryAttention '{self.name}'"
        key = value if key is None else key
        for role, shape in (("query", query), ("value", value), ("key", key)):
            if len(shape) != 3 or shape[-1] is None:
                raise ValueError(f"{who} expects {role} of shape (batch, steps, features) with "
                                 f"known features, received {shape_str(shape)}")
        if query[-1] != value[-1]:
            raise ValueError(f"{who}: query and value must have the same features, received "
                             f"{shape_str(query)} and {shape_str(value)}")
        if None not in (value[1], key[1]) and value[1] != key[1]:
            raise ValueError(f"{who}: key and value must have the same steps, received key "
                             f"{shape_str(key)} and value {shape_str(value)}")
        if self.built and (query[-1], key[-1]) != self.dims:
            raise ValueError(f"{who} was built for query and key features {self.dims}, "
                             f"received {shape_str(query)} and {shape_str(key)}")

    def build(self, query_shape, value_shape, *, generator, key=None):
        self._check(query_shape, value_shape, key)
        key_shape = value_shape if key is None else key
        self.dims = (query_shape[-1], key_shape[-1])
        hq, hkv, d, m = self.num_query_heads, self.num_key_value_heads, self.head_dim, query_shape[-1]
        shapes = {"query": ((m, hq, d), (hq, d), 1), "key": ((key_shape[-1], hkv, d), (hkv, d), 1),
                  "gate": ((m, hq, d), (hq, d), 1), "value": ((value_shape[-1], hkv, d), (hkv, d), 1),
                  "output": ((hq, d, m), (m,), 2)}
        params = {}
        for name in self.weight_names:
            part, kind = name.rsplit("_", 1)
            kernel_shape, bias_shape, n_in = shapes[part]
            if kind == "kernel":
                params[name] = einsum_kernel(self.kernel_initializer, kernel_shape,
                                             range(n_in), range(n_in, 3), self.dtype, generator)
            else:
                params[name] = self.bias_initializer(bias_shape, self.dtype, generator)
        return params, {}

    def output_shape(self, query, value, key=None, return_attention_scores=False, **kwargs):
        self._check(query, value, key)
        if not return_attention_scores:
            return tuple(query)
        key = value if key is None else key
        return [tuple(query), (query[0], self.num_query_heads, query[1], key[1])]

    def _dense(self, params, part, equation, x):
        y = jnp.einsum(equation, x, params[f"{part}_kernel"])
        return y + params[f"{part}_bias"] if self.use_bias else y

    def call(self, params, state, query, value, key=None, *, training=False, rng=None,
             attention_mask=None, return_attention_scores=False, use_causal_mask=False,
             query_mask=None, value_mask=None, key_mask=None):
        if key is None or key is value:
            key_mask = None
        key = value if key is None else key
        q = self._dense(params, "query", "bqm,muh->bquh", query)
        k = self._dense(params, "key", "bkm,mvh->bkvh", key)
        v = self._dense(params, "value", "bkm,mvh->bkvh", value)
        repeats = self.num_query_heads // self.num_key_value_heads
        k, v = jnp.repeat(k, repeats, axis=2), jnp.repeat(v, repeats, axis=2)
        q = q * jnp.asarray(1.0 / math.sqrt(self.head_dim), q.dtype)
        scores = jnp.einsum("bquh,bkuh->buqk", q, k)
        mask = self._attention_mask(query_mask, value_mask, key_mask, attention_mask,
                                    use_causal_mask, q.shape[1], k.shape[1])
        if mask is not None:
            scores = jnp.where(mask, scores, jnp.asarray(_LARGE_NEGATIVE, scores.dtype))
        probs = jax.nn.softmax(scores, axis=-1)
        dropped = probs
        if training and self.dropout:
            if rng is None:
                raise ValueError(f"GroupQueryAttention '{self.name}' has dropout and needs a "
                                 f"random key when training=True: pass rng= to apply")
            keep = jax.random.bernoulli(rng, 1.0 - self.dropout, probs.shape)
            dropped = jnp.where(keep, probs / (1.0 - self.dropout), jnp.zeros((), probs.dtype))
        out = jnp.einsum("buqk,bkuh->bquh", dropped, v)
        if self.use_gate:
            out = out * jax.nn.sigmoid(self._dense(params, "gate", "bqm,muh->bquh", query))
        out = self._dense(params, "output", "bquh,uhm->bqm", out)
        if return_attention_scores:
            return (out, probs), state
        return out, state

    def _attention_mask(self, query_mask, value_mask, key_mask, attention_mask, causal, t, s):
        """Keras's `_compute_attention_mask`, as (batch or 1, 1, T, S) for the heads."""
        combined = None

        def merge(m):
            return m if combined is None else combined & m
        if query_mask is not None:
            combined = merge(query_mask.astype(bool)[:, :, None])
        for m in (value_mask, key_mask):
            if m is not None:
                combined = merge(m.astype(bool)[:, None, :])
        rows, cols = jnp.arange(t)[:, None], jnp.arange(s)[None, :]
        if causal:
            combined = merge((rows >= cols)[None])
        if self.sliding_window is not None:
            combined = merge((jnp.abs(rows - cols) < self.sliding_window)[None])
        if attention_mask is not None:
            combined = (attention_mask.astype(bool) if combined is None
                        else attention_mask.astype(bool) & combined)
        return None if combined is None else combined[:, None]

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            return mask[0] if mask else None
        return mask

    def get_config(self):
        regs = self.weight_regularizers
        return {**super().get_config(), "head_dim": self.head_dim,
                "num_query_heads": self.num_query_heads,
                "num_key_value_heads": self.num_key_value_heads, "use_bias": self.use_bias,
                "use_gate": self.use_gate, "sliding_window": self.sliding_window,
                "dropout": self.dropout, "flash_attention": self.flash_attention,
                "kernel_initializer": initializers.serialize(self.kernel_initializer),
                "bias_initializer": initializers.serialize(self.bias_initializer),
                "kernel_regularizer": regularizers.serialize(regs["query_kernel"]),
                "bias_regularizer": regularizers.serialize(regs.get("query_bias")),
                "kernel_constraint": (None if self.constraint_configs[0] is None else
                                      constraints.serialize(constraints.get(
                                          self.constraint_configs[0]))),
                "bias_constraint": (None if self.constraint_configs[1] is None else
                                    constraints.serialize(constraints.get(
                                        self.constraint_configs[1]))),
                "seed": self.seed}
