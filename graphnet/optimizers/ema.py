"""Keras's `use_ema`: an exponential moving average of the trained weights, kept in the
optimizer state and updated inside the compiled step, and the swaps SwapEMAWeights and the
end of `fit` make between it and the model's weights (host work, between dispatches)."""
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import optax


class EmaState(NamedTuple):
    """The update rule's state, the number of updates so far and the moving average (in the
    layout of the weights the optimizer updates)."""
    inner: Any
    count: jax.Array
    average: Any


def check_ema(owner, momentum, overwrite_frequency):
    """Keras's checks, made only when `use_ema=True` (as Keras)."""
    if not 0 <= momentum <= 1:
        raise ValueError(f"{owner}: ema_momentum must be in [0, 1], received {momentum}")
    if overwrite_frequency and (not isinstance(overwrite_frequency, (int, np.integer))
                                or isinstance(overwrite_frequency, bool)
                                or overwrite_frequency < 1):
        raise ValueError(f"{owner}: ema_overwrite_frequency must be an int >= 1 or None, "
                         f"received {overwrite_frequency!r}")


def with_ema(inner, momentum, overwrite_frequency) -> optax.GradientTransformationExtraArgs:
    """`inner`, then Keras's average of the updated weights: the first update copies them,
    later ones take `momentum * average + (1 - momentum) * weights`; every
    `overwrite_frequency`-th update sets the weights to the average instead."""
    def init(params):
        return EmaState(inner.init(params), jnp.zeros((), jnp.int32),
                        jax.tree_util.tree_map(jnp.zeros_like, params))

    def update(grads, state, params=None, **extra):
        if params is None:
            raise ValueError("use_ema needs the weights: call update(grads, state, params)")
        updates, inner_state = inner.update(grads, state.inner, params, **extra)
        new = optax.apply_updates(params, updates)
        first = state.count == 0

        def average(old, value):
            m = jnp.where(first, 0.0, momentum).astype(value.dtype)
            return m * old + (1 - m) * value
        averages = jax.tree_util.tree_map(average, state.average, new)
        if overwrite_frequency:
            hit = (state.count + 1) % overwrite_frequency == 0
            updates = jax.tree_util.tree_map(
                lambda u, a, p: jnp.where(hit, (a - p).astype(u.dtype), u),
                updates, averages, params)
        return updates, EmaState(inner_state, state.count + 1, averages)
    return optax.GradientTransformationExtraArgs(init, update)


# ---- between dispatches: the model's trained weights and the average --------------------
def _is_ema(x):
    return isinstance(x, EmaState)


def ema_states(opt_state) -> list:
    return [s for s in jax.tree_util.tree_leaves(opt_state, is_leaf=_is_ema) if _is_ema(s)]


def _paths(params) -> list:
    return ["/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in keys)
            for keys, _ in jax.tree_util.tree_flatten_with_path(params)[0]]


def _weights_part(average):
    """The averages of the model's weights (learned loss weights, if any, come second)."""
    return average[0] if isinstance(average, tuple) else average


def _exchange(model, rule):
    """Apply `rule(weight, average) -> (new weight, new average)` to each trained weight."""
    optimizer = model.optimizer
    states = ema_states(getattr(optimizer, "state", None))
    if not states:
        raise ValueError(f"Model '{model.name}': its optimizer holds no moving average; "
                         f"create the optimizer with use_ema=True and fit first")
    if len(states) > 1:
        raise NotImplementedError(f"Model '{model.name}': swapping the moving averages of "
                                  f"several optimizers (MultiOptimizer) is not supported")
    state = states[0]
    averages = list(_weights_part(state.average))
    wanted = {path: i for i, path in enumerate(optimizer.variable_paths)}
    leaves, treedef = jax.tree_util.tree_flatten(model.params)
    for j, path in enumerate(_paths(model.params)):
        i = wanted.get(path)
        if i is not None:
            leaves[j], averages[i] = rule(leaves[j], averages[i])
    new_average = ((averages, *state.average[1:]) if isinstance(state.average, tuple)
                   else averages)
    fresh = EmaState(state.inner, state.count, new_average)
    model.params = jax.tree_util.tree_unflatten(treedef, leaves)
    optimizer.state = jax.tree_util.tree_map(lambda s: fresh if s is state else s,
                                             optimizer.state, is_leaf=_is_ema)


def swap_ema_weights(model):
    """The model takes the averages and the optimizer keeps the weights (Keras's swap)."""
    _exchange(model, lambda weight, average: (jnp.array(average), jnp.array(weight)))


def copy_weights_to_ema(model):
    """The averages become the model's weights (before the end of fit copies them back)."""
    _exchange(model, lambda weight, average: (weight, jnp.array(weight)))


def finalize_variable_values(model):
    """Keras's end of fit with `use_ema=True`: the model's weights become the averages."""
    if ema_states(getattr(model.optimizer, "state", None)):
        _exchange(model, lambda weight, average: (jnp.array(average), average))
