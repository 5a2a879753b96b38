"""Keras TimeDistributed and Masking."""
import jax
import jax.numpy as jnp

from . import serialization
from .base import Layer, shape_str


class Masking(Layer):
    """Keras Masking(mask_value=0.0): steps whose features all equal `mask_value` are
    masked (and zeroed), so the layers after it (RNNs, pooling, attention) skip them.

    Examples:
        >>> x = graphnet.Input(shape=(5, 2))
        >>> layers.Masking(0.0)(x).shape
        (None, 5, 2)
    """
    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def output_shape(self, input_shape):
        return input_shape

    def _keep(self, x):
        return jnp.any(x != jnp.asarray(self.mask_value, x.dtype), axis=-1)

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        return x * self._keep(x)[..., None].astype(x.dtype), state

    def compute_mask(self, inputs, mask=None):
        return self._keep(inputs)

    def get_config(self):
        return {**super().get_config(), "mask_value": self.mask_value}


class TimeDistributed(Layer):
    """Keras TimeDistributed(layer): `layer` applied to every step of axis 1, with one set of
    weights (the wrapped layer's, in its order). Runs as one call on (batch * steps, ...).

    Examples:
        >>> x = graphnet.Input(shape=(3, 4))
        >>> layers.TimeDistributed(layers.Dense(2))(x).shape
        (None, 3, 2)
    """
    supports_masking = True

    @property
    def uses_rng(self) -> bool:
        return self.layer.uses_rng

    @property
    def batch_dependent(self) -> bool:
        return self.layer.batch_dependent

    def __init__(self, layer, **kwargs):
        if isinstance(layer, dict):
            layer = serialization.deserialize(layer)
        if not isinstance(layer, Layer):
            raise TypeError(f"TimeDistributed wraps a Layer, received {type(layer).__name__}")
        super().__init__(**kwargs)
        self.layer = layer
        self.weight_regularizers = {}

    def _inner_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(f"TimeDistributed '{self.name}' expects an input of rank >= 3 "
                             f"(batch, steps, ...), received shape {shape_str(input_shape)}")
        return (None, *input_shape[2:])

    def build(self, input_shape, *, generator):
        inner = self._inner_shape(input_shape)
        params, state = self.layer.make_weights([inner], generator)
        self.layer.params, self.layer.state, self.layer.built = params, state, True
        return {"layer": params}, {"layer": state}

    def output_shape(self, input_shape):
        inner = self.layer.output_shape(self._inner_shape(input_shape))
        if inner is None or not isinstance(inner, tuple):
            return None                     # traced by the base class
        return (input_shape[0], input_shape[1], *inner[1:])

    def call(self, params, state, x, *, training=False, rng=None, mask=None):
        """The wrapped layer on (batch * steps, ...); a (batch, steps, ...) mask reaches it
        the same way, where its call takes one (Keras hands each step its slice)."""
        batch, steps = x.shape[:2]
        kwargs = {}
        if mask is not None and self.layer.receives_mask:
            kwargs["mask"] = mask.reshape(batch * steps, *mask.shape[2:])
        y, inner_state = self.layer.call(params["layer"], state["layer"],
                                         x.reshape(batch * steps, *x.shape[2:]),
                                         training=training, rng=rng, **kwargs)
        return jax.tree_util.tree_map(lambda t: t.reshape(batch, steps, *t.shape[1:]), y), \
            {"layer": inner_state}

    def get_weights(self):
        self.layer.params, self.layer.state = self.params["layer"], self.state["layer"]
        return self.layer.get_weights()

    def set_weights(self, weights):
        if not self.built:
            raise ValueError(f"Layer '{self.name}' has no weights yet: call it on an input "
                             f"before set_weights")
        self.layer.params, self.layer.state = self.params["layer"], self.state["layer"]
        self.layer.set_weights(weights)
        self.params = {"layer": self.layer.params}
        self.state = {"layer": self.layer.state}

    def weight_penalty(self, params):
        return self.layer.weight_penalty(params["layer"])

    def get_config(self):
        return {**super().get_config(), "layer": serialization.serialize(self.layer)}
