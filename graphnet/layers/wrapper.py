"""Keras's Wrapper base class, and SpectralNormalization built on it."""
import jax
import jax.numpy as jnp
import numpy as np

from .. import initializers
from . import serialization
from .base import Layer


class Wrapper(Layer):
    """Keras Wrapper(layer): the base of layers that wrap another; not a layer to call.

    A subclass written Keras's way calls `self.layer(...)` in its `call`; the wrapped
    layer's weights are then the wrapper's, under the wrapped layer's name. Its config holds
    the wrapped layer's, so it saves and loads with it.

    Examples:
        >>> class Twice(layers.Wrapper):
        ...     def call(self, inputs):
        ...         return 2.0 * self.layer(inputs)
        >>> layer = Twice(layers.Dense(3, name="inner"))
        >>> layer(np.ones((1, 4), "float32")).shape
        (1, 3)
        >>> [w.shape for w in layer.get_weights()]
        [(4, 3), (3,)]
    """

    def __init__(self, layer, **kwargs):
        if isinstance(layer, dict):
            layer = serialization.deserialize(layer)
        if not isinstance(layer, Layer):
            raise ValueError(f"{type(self).__name__} wraps a Layer, received "
                             f"{type(layer).__name__}")
        super().__init__(**kwargs)
        self.layer = layer

    @property
    def uses_rng(self) -> bool:
        return self.layer.uses_rng or super().uses_rng

    @property
    def batch_dependent(self) -> bool:
        return self.layer.batch_dependent or super().batch_dependent

    def get_config(self):
        return {**super().get_config(), "layer": serialization.serialize(self.layer)}


def _l2_normalize(x):
    """Keras's `ops.normalize(x, axis=None)`: x * rsqrt(sum(x ** 2)), capped at 1 / 1e-7."""
    return x * jnp.minimum(jax.lax.rsqrt(jnp.sum(jnp.square(x))), 1e7)


class SpectralNormalization(Wrapper):
    """Keras SpectralNormalization(layer, power_iterations=1): divides the wrapped layer's
    kernel (or embeddings) by its largest singular value, estimated by power iteration.

    As with Keras's trainer on JAX, the normalized kernel is used in training calls (and
    the estimate `vector_u` kept as state); the kernel itself stays what the optimizer
    makes it, and an inference call uses it as it is. Weights are Keras's order: the
    kernel, `vector_u`, then the wrapped layer's others.

    Examples:
        >>> layer = layers.SpectralNormalization(layers.Dense(3))
        >>> layer(np.ones((1, 4), "float32")).shape
        (1, 3)
        >>> [w.shape for w in layer.get_weights()]              # kernel, vector_u, bias
        [(4, 3), (1, 3), (3,)]
    """

    def __init__(self, layer, power_iterations=1, **kwargs):
        super().__init__(layer, **kwargs)
        if not isinstance(power_iterations, (int, np.integer)) or power_iterations <= 0:
            raise ValueError(f"SpectralNormalization '{self.name}': power_iterations must be a "
                             f"positive int, received {power_iterations!r}")
        self.power_iterations = int(power_iterations)

    @property
    def uses_rng(self) -> bool:
        return self.layer.uses_rng

    def build(self, input_shape, *, generator):
        params, state = self.layer.make_weights([input_shape], generator)
        self.layer.params, self.layer.state, self.layer.built = params, state, True
        for name in ("kernel", "embeddings"):
            if name in params:
                self.kernel_name = name
                break
        else:
            raise ValueError(f"SpectralNormalization '{self.name}': the wrapped "
                             f"{type(self.layer).__name__} has no 'kernel' nor 'embeddings'")
        kernel = params[self.kernel_name]
        u = initializers.TruncatedNormal(stddev=0.02)((1, kernel.shape[-1]), kernel.dtype,
                                                      generator)
        return {"layer": params}, {"layer": state, "vector_u": u}

    def output_shape(self, input_shape):
        return self.layer.output_shape(input_shape)

    def normalized(self, kernel, u):
        """`(kernel / sigma, new vector_u)`, Keras's power iteration (u, v not
        differentiated); an all-zero kernel is left as it is."""
        w = kernel.reshape(-1, kernel.shape[-1])
        v = None
        for _ in range(self.power_iterations):
            v = _l2_normalize(u @ w.T)
            u = _l2_normalize(v @ w)
        u, v = jax.lax.stop_gradient(u), jax.lax.stop_gradient(v)
        sigma = (v @ w) @ u.T
        return kernel / sigma, u

    def call(self, params, state, x, *, training=False, rng=None):
        inner, new_state = params["layer"], dict(state)
        if training:
            kernel, u = inner[self.kernel_name], state["vector_u"]
            zero = jnp.all(kernel == 0)
            normalized, new_u = self.normalized(kernel, u)
            inner = {**inner, self.kernel_name: jnp.where(zero, kernel, normalized)}
            new_state["vector_u"] = jnp.where(zero, u, new_u).astype(u.dtype)
        out, new_state["layer"], _ = self.layer.pure_call(inner, state["layer"], x,
                                                          training=training, rng=rng)
        return jax.tree_util.tree_map(lambda o: o.astype(x.dtype), out), new_state

    # ---- weights: Keras's order, kernel, vector_u, then the wrapped layer's others -----
    def _inner_weights(self):
        self.layer.params, self.layer.state = self.params["layer"], self.state["layer"]
        return self.layer.get_weights(), list(self.layer.weight_names)

    def get_weights(self):
        weights, names = self._inner_weights()
        present = [n for n in names if n in self.params["layer"] or n in self.state["layer"]]
        k = present.index(self.kernel_name)
        return [weights[k], np.asarray(self.state["vector_u"]), *weights[:k], *weights[k + 1:]]

    def set_weights(self, weights):
        if not self.built:
            raise ValueError(f"Layer '{self.name}' has no weights yet: call it on an input "
                             f"before set_weights")
        current = self.get_weights()
        weights = list(weights)
        if len(weights) != len(current) or any(
                np.shape(w) != c.shape for w, c in zip(weights, current)):
            raise ValueError(f"SpectralNormalization '{self.name}' expects weights of shapes "
                             f"{[c.shape for c in current]} (kernel, vector_u, then the "
                             f"wrapped layer's), received {[np.shape(w) for w in weights]}")
        _, names = self._inner_weights()
        present = [n for n in names if n in self.params["layer"] or n in self.state["layer"]]
        k = present.index(self.kernel_name)
        others = weights[2:]
        self.layer.set_weights([*others[:k], weights[0], *others[k:]])
        u = jnp.asarray(weights[1], current[1].dtype)
        self.params = {"layer": self.layer.params}
        self.state = {"layer": self.layer.state, "vector_u": u}

    def weight_penalty(self, params):
        return self.layer.weight_penalty(params["layer"])

    def apply_constraints(self, params):
        return {"layer": self.layer.apply_constraints(params["layer"])}

    @property
    def has_constraints(self) -> bool:
        return self.layer.has_constraints

    def get_config(self):
        return {**super().get_config(), "power_iterations": self.power_iterations}
