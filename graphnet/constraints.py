"""Weight constraints (Keras's NonNeg, MaxNorm, MinMaxNorm, UnitNorm): a projection applied
to a weight after each optimizer update, inside the compiled training step.

A constraint is a pure function `w -> w`; `add_weight(..., constraint=...)` attaches one to
a weight, and training applies it to the updated value, as Keras's optimizers do.
"""
import jax.numpy as jnp

from . import registry
from .registry import lookup

EPSILON = 1e-7          # Keras's backend.epsilon(), in the norms' denominators


def _norms(w, axis):
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return jnp.sqrt(jnp.sum(jnp.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class of weight constraints: `__call__(w)` returns the projected weight.

    Examples:
        >>> class Clip(constraints.Constraint):
        ...     def __call__(self, w):
        ...         return ops.clip(w, -1.0, 1.0)
        ...
        >>> w = np.array([[1.0, -2.0], [0.5, 0.0]], dtype="float32")
        >>> print(np.asarray(Clip()(w)))
        [[ 1.  -1. ]
         [ 0.5  0. ]]
        >>> layer = layers.Dense(2, kernel_constraint=Clip())
    """

    def __call__(self, w):
        return w

    def get_config(self):
        """The constructor's arguments, for saving (a subclass with arguments returns them).

        Examples:
            >>> constraints.MaxNorm(2.0).get_config()
            {'max_value': 2.0, 'axis': 0}
        """
        return {}

    @classmethod
    def from_config(cls, config):
        """A new constraint from the dict `get_config` returned.

        Examples:
            >>> config = constraints.MaxNorm(2.0).get_config()
            >>> constraints.MaxNorm.from_config(config).max_value
            2.0
        """
        return cls(**config)


class NonNeg(Constraint):
    """Weights below zero become zero.

    Examples:
        >>> w = np.array([[1.0, -2.0], [0.5, 0.0]], dtype="float32")
        >>> print(np.asarray(constraints.NonNeg()(w)))
        [[1.  0. ]
         [0.5 0. ]]
    """

    def __call__(self, w):
        return jnp.maximum(w, 0)


class MaxNorm(Constraint):
    """Each slice along `axis` (Dense: each unit's incoming weights) scaled down to a norm of
    at most `max_value`.

    Examples:
        >>> w = np.array([[3.0, 0.0], [4.0, 1.0]], dtype="float32")
        >>> print(np.asarray(constraints.MaxNorm(max_value=1.0)(w)).round(3))
        [[0.6 0. ]
         [0.8 1. ]]
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value, self.axis = max_value, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        return w * (jnp.clip(norms, 0, self.max_value) / (EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class MinMaxNorm(Constraint):
    """Norms along `axis` moved into [min_value, max_value]: fully with rate 1, a fraction
    `rate` of the way otherwise.

    Examples:
        >>> w = np.array([[3.0, 0.0], [4.0, 0.1]], dtype="float32")
        >>> print(np.asarray(constraints.MinMaxNorm(min_value=0.5, max_value=1.0)(w)).round(3))
        [[0.6 0. ]
         [0.8 0.5]]
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value, self.max_value, self.rate, self.axis = min_value, max_value, rate, axis

    def __call__(self, w):
        norms = _norms(w, self.axis)
        desired = (self.rate * jnp.clip(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


class UnitNorm(Constraint):
    """Each slice along `axis` scaled to norm 1.

    Examples:
        >>> w = np.array([[3.0, 0.0], [4.0, 2.0]], dtype="float32")
        >>> print(np.asarray(constraints.UnitNorm()(w)).round(3))
        [[0.6 0. ]
         [0.8 1. ]]
    """

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        return w / (EPSILON + _norms(w, self.axis))

    def get_config(self):
        return {"axis": self.axis}


# Keras's lower-case aliases.
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

CONSTRAINTS = {"non_neg": NonNeg, "nonneg": NonNeg, "max_norm": MaxNorm, "maxnorm": MaxNorm,
               "min_max_norm": MinMaxNorm, "minmaxnorm": MinMaxNorm, "unit_norm": UnitNorm,
               "unitnorm": UnitNorm}


def get(identifier):
    """A constraint from a name (`"non_neg"`, `"max_norm"`, ...), a config dict, an instance,
    any callable `w -> w`, or None."""
    return registry.get(
        identifier, KIND, base=Constraint, none=None, instantiate=False,
        from_callable=lambda fn: fn,
        from_name=lambda name: lookup(CONSTRAINTS, name, "constraint")(),
        expected="A constraint must be a string, a Constraint or a callable w -> w")


def of(**weights) -> dict:
    """A layer's `weight_constraints` from its `<weight>_constraint` arguments (None left out)."""
    return {name: get(c) for name, c in weights.items() if c is not None}


def config_of(weight_constraints: dict, *names) -> dict:
    """`{"<name>_constraint": serialized or None}` for a layer's `get_config`."""
    return {f"{name}_constraint": None if weight_constraints.get(name) is None
            else serialize(weight_constraints[name]) for name in names}


KIND = registry.Kind("constraint", {"NonNeg": NonNeg, "MaxNorm": MaxNorm,
                                    "MinMaxNorm": MinMaxNorm, "UnitNorm": UnitNorm})


def serialize(constraint):
    """`{"class_name": "MaxNorm", "config": {"max_value": 2, "axis": 0}}`."""
    return registry.serialize(constraint, KIND)


def deserialize(config):
    """A constraint from the dict `serialize` made."""
    return registry.deserialize(config, KIND)
