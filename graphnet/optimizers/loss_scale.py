"""Keras's LossScaleOptimizer: dynamic loss scaling for float16 training, in the compiled step.

Float16 gradients underflow to zero below ~6e-8; the training step multiplies the loss by
`scale` before differentiating (`scale_loss`), and this transformation divides the
gradients by it again. A step whose scaled gradients are not all finite is skipped (no
update, inner optimizer state kept) and the scale halved; after `dynamic_growth_steps`
finite steps in a row the scale doubles. Keras 3's rules and defaults (initial scale 2**15,
growth every 2000 steps); everything is traced, so no step costs a host round trip.
"""
from __future__ import annotations

from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax


class LossScaleState(NamedTuple):
    scale: jax.Array            # float32: the current loss scale
    step_counter: jax.Array     # int32: finite steps since the scale last changed
    inner: Any                  # the inner transformation's state


def dynamic_loss_scale(inner: optax.GradientTransformation, initial_scale=2.0 ** 15,
                       dynamic_growth_steps=2000) -> optax.GradientTransformation:
    """`inner` fed gradients divided by the loss scale, skipping non-finite steps."""
    def init(params):
        return LossScaleState(jnp.asarray(initial_scale, jnp.float32), jnp.zeros((), jnp.int32),
                              inner.init(params))

    def update(grads, state, params=None, **extra):
        leaves = jax.tree_util.tree_leaves(grads)
        finite = jnp.all(jnp.stack([jnp.all(jnp.isfinite(g)) for g in leaves])) if leaves \
            else jnp.asarray(True)
        unscaled = jax.tree_util.tree_map(lambda g: g / state.scale.astype(g.dtype), grads)
        updates, inner_state = inner.update(unscaled, state.inner, params, **extra)
        updates = jax.tree_util.tree_map(lambda u: jnp.where(finite, u, jnp.zeros_like(u)),
                                         updates)
        inner_state = jax.tree_util.tree_map(lambda new, old: jnp.where(finite, new, old),
                                             inner_state, state.inner)
        grow = finite & (state.step_counter == dynamic_growth_steps - 1)
        scale = jnp.where(finite, jnp.where(grow, state.scale * 2.0, state.scale),
                          state.scale * 0.5)
        counter = jnp.where(finite & ~grow, state.step_counter + 1, jnp.zeros((), jnp.int32))
        return updates, LossScaleState(scale, counter, inner_state)

    return optax.GradientTransformationExtraArgs(init, update)
