"""Keras's JaxLayer and FlaxLayer: a JAX function (or a Flax module) as a node of the graph.

`call_fn` takes, by name and in its own order, some of `params`, `state`, `rng`,
`inputs` (required) and `training`; `init_fn` some of `rng`, `inputs` (required) and
`training` (always True). With a `state` argument, `call_fn` returns `(outputs,
new_state)` and `init_fn` `(params, state)`; without, the outputs and the params. These
are Keras's conventions, so the same functions serve both libraries.
"""
import inspect

import jax
import jax.numpy as jnp
import numpy as np

from ..registry import get_registered, registered_name
from .base import Layer

CALL_ARGS = ("params", "state", "rng", "inputs", "training")
INIT_ARGS = ("rng", "inputs", "training")


def _arguments(fn, what, allowed, who):
    try:
        names = list(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        raise TypeError(f"{who}: {what} must be a Python function, received {fn!r}") from None
    if "inputs" not in names:
        raise ValueError(f"{who}: {what} must take an argument named 'inputs', it takes "
                         f"{names}")
    unknown = [n for n in names if n not in allowed]
    if unknown:
        raise ValueError(f"{who}: {what} takes unsupported argument(s) {unknown}; the "
                         f"supported ones are {list(allowed)}")
    return names


def _as_weights(tree, dtype):
    """Arrays and Python numbers become arrays (floats in the layer's dtype, as Keras)."""
    if tree is None:
        return None

    def leaf(value):
        if isinstance(value, (bool, int, float, np.ndarray, np.generic, jax.Array)):
            value = jnp.asarray(value)
            return value.astype(dtype) if jnp.issubdtype(value.dtype, jnp.floating) else value
        raise TypeError(f"JaxLayer params and state hold arrays and numbers, found "
                        f"{type(value).__name__}")
    return jax.tree_util.tree_map(leaf, tree)


def _function_config(fn):
    """The name `fn` was registered under; else its Python name, which loading refuses
    with an error that says to register it."""
    if fn is None:
        return None
    name = registered_name(fn)
    return name if name is not None else f"unregistered:{getattr(fn, '__qualname__', fn)}"


class JaxLayer(Layer):
    """Keras JaxLayer(call_fn, init_fn=None, params=None, state=None): a pure JAX function
    with its own weights, called as a layer.

    Its weights are the leaves of `params` then of `state`; `state` is what `call_fn`
    returns beside its outputs, kept between calls as a non-trainable weight. `rng` is a
    key when training and None otherwise, as in Keras.

    Examples:
        >>> import jax
        >>> def init_fn(rng, inputs):
        ...     return {"w": jax.random.normal(rng, (inputs.shape[-1], 2))}
        >>> def call_fn(params, inputs):
        ...     return inputs @ params["w"]
        >>> layer = layers.JaxLayer(call_fn, init_fn)
        >>> layer(np.ones((3, 4), "float32")).shape
        (3, 2)
    """

    def __init__(self, call_fn, init_fn=None, params=None, state=None, seed=None, **kwargs):
        kwargs.pop("native_serialization_platforms", None)      # TensorFlow's export only
        super().__init__(**kwargs)
        who = f"{type(self).__name__} '{self.name}'"
        self.call_fn, self.init_fn, self.seed = call_fn, init_fn, seed
        self.call_arguments = _arguments(call_fn, "call_fn", CALL_ARGS, who)
        self.init_arguments = (None if init_fn is None
                               else _arguments(init_fn, "init_fn", INIT_ARGS, who))
        self.has_state = "state" in self.call_arguments
        needs_weights = "params" in self.call_arguments or self.has_state
        if init_fn is None and params is None and state is None and needs_weights:
            raise ValueError(f"{who}: call_fn takes params or state, so give init_fn, or "
                             f"params and state")
        self.initial = (params, state)

    @property
    def uses_rng(self) -> bool:
        return "rng" in self.call_arguments

    @property
    def batch_dependent(self) -> bool:
        """The user's function may mix the samples of a batch: fit never pads a batch."""
        return True

    def build(self, input_shape, *, generator):
        params, state = self.initial
        if params is None and state is None and self.init_fn is not None:
            # Keras initializes on ones with unknown sizes (the batch's included) set to 1.
            ones = jax.tree_util.tree_map(
                lambda s: jnp.ones(tuple(1 if d is None else d for d in s)), input_shape,
                is_leaf=lambda s: isinstance(s, tuple))
            args = {"rng": jax.random.key(int(generator.integers(2 ** 31))), "inputs": ones,
                    "training": True}
            result = self.init_fn(*[args[n] for n in self.init_arguments])
            params, state = result if self.has_state else (result, None)
        return {"params": _as_weights(params, self.dtype)}, {"state": _as_weights(state, self.dtype)}

    def call(self, params, state, inputs, *, training=False, rng=None):
        if training and self.uses_rng and rng is None:
            raise ValueError(f"{type(self).__name__} '{self.name}' takes an rng and needs a "
                             f"random key when training=True: pass rng= to apply")
        args = {"params": params["params"], "state": state["state"],
                "rng": rng if training else None, "inputs": inputs, "training": bool(training)}
        result = self.call_fn(*[args[n] for n in self.call_arguments])
        if self.has_state:
            outputs, new_state = result
            return outputs, {"state": new_state}
        return result, state

    # ---- weights: the leaves of params, then of state ----------------------------------
    def _leaves(self):
        return (jax.tree_util.tree_leaves(self.params.get("params")) +
                jax.tree_util.tree_leaves(self.state.get("state")))

    def get_weights(self):
        return [np.asarray(leaf) for leaf in self._leaves()]

    def set_weights(self, weights):
        if not self.built:
            raise ValueError(f"Layer '{self.name}' has no weights yet: call it on an input "
                             f"before set_weights")
        weights, current = list(weights), self._leaves()
        if len(weights) != len(current) or any(
                np.shape(w) != c.shape for w, c in zip(weights, current)):
            raise ValueError(f"{type(self).__name__} '{self.name}' expects weights of shapes "
                             f"{[c.shape for c in current]} (params' leaves, then state's), "
                             f"received {[np.shape(w) for w in weights]}")
        new = [jnp.asarray(w, c.dtype) for w, c in zip(weights, current)]
        n = len(jax.tree_util.tree_leaves(self.params.get("params")))
        p_def = jax.tree_util.tree_structure(self.params.get("params"))
        s_def = jax.tree_util.tree_structure(self.state.get("state"))
        self.params = {"params": p_def.unflatten(new[:n])}
        self.state = {"state": s_def.unflatten(new[n:])}

    def count_params(self) -> int:
        return int(sum(np.size(leaf) for leaf in self._leaves()))

    def get_config(self):
        """Its functions by their registered names; `params` and `state` given directly are
        not kept (the weights are), so such a layer loads only with an `init_fn`."""
        return {**super().get_config(), "call_fn": _function_config(self.call_fn),
                "init_fn": _function_config(self.init_fn), "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("call_fn", "init_fn"):
            name = config.get(key)
            if isinstance(name, str) and name.startswith("unregistered:"):
                raise ValueError(f"JaxLayer {config.get('name', '?')!r}: its {key} "
                                 f"{name[len('unregistered:'):]!r} was not registered when "
                                 f"saved: decorate it with @graphnet.register_serializable() "
                                 f"and save again")
            if isinstance(name, str):
                config[key] = get_registered(name)
        return cls(**config)


class FlaxLayer(JaxLayer):
    """Keras FlaxLayer(module): a Flax Linen module as a layer, its variables as weights.

    Needs the `flax` package, which graphnet does not install; without it, making one is
    an ImportError that says what to do instead.

    Examples:
        >>> layers.FlaxLayer(module=None)
        Traceback (most recent call last):
        ...
        ImportError: FlaxLayer needs the flax package, which graphnet does not install: ...
    """

    def __init__(self, module, method=None, variables=None, **kwargs):
        try:
            import flax  # noqa: F401
        except ImportError:
            raise ImportError("FlaxLayer needs the flax package, which graphnet does not "
                              "install: pip install flax (then use JaxLayer with the "
                              "module's init and apply, or FlaxLayer)") from None
        raise NotImplementedError("FlaxLayer is not supported yet: wrap the module's init and "
                                  "apply in a JaxLayer (call_fn(params, inputs) -> "
                                  "module.apply({'params': params}, inputs))")
