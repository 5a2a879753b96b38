"""A layer's weights in Keras's layout: `Variable` views in Keras's order, and
`get_weights`/`set_weights` as NumPy arrays, so weights move to and from Keras."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..variables import Variable


def present_names(layer) -> list:
    """`layer.weight_names` that it has (a Dense without bias has no "bias")."""
    return [n for n in layer.weight_names if n in layer.params or n in layer.state]


def own_weights(layer, variables: list) -> list:
    """The layer's own weights as `Variable`s, trainable first: its `add_weight` variables,
    or views of its params and state in `weight_names` order."""
    if layer.keras_form or variables:
        return [v for v in variables if v.trainable] + [v for v in variables if not v.trainable]
    params, state = layer.own_values("params"), layer.own_values("state")
    views = []
    for n in present_names(layer):
        value = params[n] if n in params else state[n]
        views.append(Variable(layer, n, value.shape, value.dtype, n in params))
    return views


def each_once(variables) -> list:
    """`variables` without repeats (a weight shared by two sub-layers counts once)."""
    out, seen = [], set()
    for v in variables:
        key = (id(v.owner), v.name)
        if key not in seen:
            seen.add(key)
            out.append(v)
    return out


def get_weights(layer) -> list:
    if layer.keras_form:
        return [np.asarray(v.value) for v in layer.weights]
    return [np.asarray(layer.params[n] if n in layer.params else layer.state[n])
            for n in present_names(layer)]


def set_weights(layer, weights, has_variables: bool) -> None:
    if layer.keras_form and (layer.built or has_variables):
        variables, weights = layer.weights, list(weights)
        if len(weights) != len(variables):
            raise ValueError(f"Layer '{layer.name}' expects {len(variables)} weights "
                             f"{[v.path for v in variables]}, received {len(weights)}")
        for v, w in zip(variables, weights):
            v.assign(w)
        return
    if not layer.built:
        raise ValueError(f"Layer '{layer.name}' has no weights yet: call it on an input "
                         f"(or add it to a model) before set_weights")
    names = present_names(layer)
    weights = list(weights)
    if len(weights) != len(names):
        raise ValueError(f"Layer '{layer.name}' expects {len(names)} weights {names}, "
                         f"received {len(weights)}")
    params, state = dict(layer.params), dict(layer.state)
    for n, w in zip(names, weights):
        target = params if n in params else state
        current = target[n]
        w = np.asarray(w)
        if w.shape != current.shape:
            raise ValueError(f"Layer '{layer.name}' weight '{n}' has shape {current.shape}, "
                             f"received an array of shape {w.shape}")
        target[n] = jnp.asarray(w, dtype=current.dtype)
    layer.params, layer.state = params, state
