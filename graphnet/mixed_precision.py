"""Keras 3's dtype policies: which dtype a layer keeps its weights in and computes in.

`"mixed_float16"` and `"mixed_bfloat16"` keep weights in float32 (`variable_dtype`) and
compute in the 16-bit type (`compute_dtype`); any float dtype name (`"float32"`) uses it for
both. A layer reads the global policy when it is created, unless given `dtype=`. Losses and
metrics are computed in float32 whatever the policy, as in Keras.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp

from . import registry

MIXED = {"mixed_float16": "float16", "mixed_bfloat16": "bfloat16"}


def _dtype_name(name) -> str:
    if name == "string":                     # Keras's dtype of text inputs (host layers)
        return name
    try:
        return jnp.dtype(name).name
    except TypeError:
        raise ValueError(f"Cannot convert {name!r} to a dtype policy; valid policies are "
                         f"'mixed_float16', 'mixed_bfloat16' and dtype names such as "
                         f"'float32'") from None


class DTypePolicy:
    """Keras's DTypePolicy: `name`, `compute_dtype` and `variable_dtype` (strings).

    Examples:
        >>> policy = graphnet.mixed_precision.DTypePolicy("mixed_float16")
        >>> policy.compute_dtype, policy.variable_dtype
        ('float16', 'float32')
    """

    def __init__(self, name=None):
        if name is None:
            name = global_policy().name
        if not isinstance(name, str):
            raise TypeError(f"DTypePolicy: name must be a string such as 'mixed_float16', "
                            f"received {name!r}")
        self._name = name
        if name in MIXED:
            self._compute_dtype, self._variable_dtype = MIXED[name], "float32"
        else:
            self._compute_dtype = self._variable_dtype = _dtype_name(name)

    @property
    def name(self) -> str:
        """The policy's name: "mixed_float16", "mixed_bfloat16" or a dtype name.

        Examples:
            >>> graphnet.mixed_precision.DTypePolicy("mixed_bfloat16").name
            'mixed_bfloat16'
        """
        return self._name

    @property
    def compute_dtype(self) -> str:
        """The dtype layers compute in ("float16" under "mixed_float16").

        Examples:
            >>> graphnet.mixed_precision.DTypePolicy("mixed_float16").compute_dtype
            'float16'
        """
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype layers keep their weights in ("float32" under a mixed policy).

        Examples:
            >>> graphnet.mixed_precision.DTypePolicy("mixed_float16").variable_dtype
            'float32'
        """
        return self._variable_dtype

    @property
    def quantization_mode(self):
        """Keras's quantization mode: always None (graphnet does not quantize).

        Examples:
            >>> print(graphnet.mixed_precision.DTypePolicy("float32").quantization_mode)
            None
        """
        return None

    def get_config(self) -> dict:
        """`{"name": ...}`, as Keras writes a policy.

        Examples:
            >>> graphnet.mixed_precision.DTypePolicy("mixed_float16").get_config()
            {'name': 'mixed_float16'}
        """
        return {"name": self._name}

    @classmethod
    def from_config(cls, config: dict):
        """The policy a `get_config` dict describes.

        Raises:
            ValueError: the name is neither a mixed policy nor a dtype name.
            TypeError: the name is not a string.

        Examples:
            >>> graphnet.mixed_precision.DTypePolicy.from_config({"name": "bfloat16"})
            <DTypePolicy "bfloat16">
        """
        return cls(**config)

    def __eq__(self, other):
        return type(other) is type(self) and other.name == self.name

    def __hash__(self):
        return hash((type(self).__name__, self._name))

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'


Policy = FloatDTypePolicy = DTypePolicy            # Keras's other names for it

KIND = registry.Kind("dtype policy", {"DTypePolicy": DTypePolicy,
                                       "FloatDTypePolicy": DTypePolicy})

# The policy new layers take by default: module state, as Keras keeps it.
_global = DTypePolicy("float32")


def set_global_policy(policy) -> None:
    """Keras's set_global_policy / set_dtype_policy: a name or a DTypePolicy; None resets
    to float32. Only layers created afterwards follow it.

    Examples:
        >>> graphnet.mixed_precision.set_global_policy("mixed_bfloat16")
        >>> layer = layers.Dense(2)
        >>> layer.compute_dtype, layer.variable_dtype
        ('bfloat16', 'float32')
        >>> graphnet.mixed_precision.set_global_policy("float32")
    """
    global _global
    _global = DTypePolicy("float32") if policy is None else get(policy)


def global_policy() -> DTypePolicy:
    """The policy new layers take when given no `dtype=` (Keras's `global_policy`, alias
    `dtype_policy`).

    Examples:
        >>> graphnet.mixed_precision.global_policy().name
        'float32'
    """
    return _global


set_dtype_policy, dtype_policy = set_global_policy, global_policy


def get(identifier) -> DTypePolicy:
    """A policy from None (the global one), a name, a DTypePolicy, or a config as Keras
    writes it (`{"class_name": "DTypePolicy", "config": {"name": ...}}`)."""
    if identifier is None:
        return _global
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    if isinstance(identifier, dict) and "config" in identifier:
        if identifier.get("class_name", "DTypePolicy") not in KIND.classes:
            raise ValueError(f"Unsupported dtype policy class {identifier.get('class_name')!r}; "
                             f"graphnet has DTypePolicy")
        return registry.deserialize({"class_name": "DTypePolicy", **identifier}, KIND)
    try:                                     # np.float32, jnp.bfloat16, a np.dtype
        return DTypePolicy(jnp.dtype(identifier).name)
    except TypeError:
        pass
    raise TypeError(f"A dtype policy must be a name such as 'mixed_float16', a DTypePolicy or "
                    f"its config, received {identifier!r}")


def cast_for_call(policy: DTypePolicy, params, args, kwargs, cast_inputs: bool,
                  keep: tuple = ()):
    """Keras's autocast: floating inputs and params in `policy.compute_dtype` for a call.

    Inputs are cast when `cast_inputs` (Keras casts them in `__call__`); params, except
    those named in `keep`, whenever compute and variable dtypes differ (Keras casts
    variables read inside `call`). Under a float32 policy nothing is cast.
    """
    compute = policy.compute_dtype

    def cast(x):
        dtype = getattr(x, "dtype", None)
        if (dtype is not None and dtype != compute and hasattr(x, "astype")
                and jnp.issubdtype(dtype, jnp.floating)):
            return x.astype(compute)
        return x
    if cast_inputs:
        args, kwargs = jax.tree_util.tree_map(cast, (args, kwargs))
    if compute != policy.variable_dtype and params:
        params = {k: v if k in keep else jax.tree_util.tree_map(cast, v)
                  for k, v in params.items()}
    return params, args, kwargs


def serialize(policy: DTypePolicy) -> dict:
    """The registry's shape plus the two keys Keras 3 adds, exactly as Keras writes a
    layer's `dtype` in its config (so configs compare equal)."""
    return {"module": "keras", **registry.serialize(policy, KIND), "registered_name": None}
