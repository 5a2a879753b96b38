"""Keras 3's stateless API: a model, metric or optimizer run on values passed in, with
the new values handed back, so a hand-written JAX step stays a pure function.

The values travel as flat lists in the order of the owner's variables
(`model.trainable_variables`, `metric.variables`, `optimizer.variables`), as in Keras.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .variables import CallScope, Variable


def value_of(x):
    """An array from a `Variable` or anything array-like (a traced value stays traced)."""
    return x.value if isinstance(x, Variable) else x


def values(variables) -> list:
    """The current values of `variables`, as a list of arrays (what a jitted step takes)."""
    return [v.value for v in variables]


def check_values(who: str, variables, given, what: str) -> list:
    """`given` as arrays, one per variable with the variable's shape; a ValueError names
    `who`, `what` and the first mismatch."""
    if not isinstance(given, (list, tuple)):
        raise TypeError(f"{who}: {what} must be a list of arrays (one per variable), received "
                        f"{type(given).__name__}")
    if len(given) != len(variables):
        raise ValueError(f"{who}: {what} must hold {len(variables)} arrays (one per variable), "
                         f"received {len(given)}")
    out = []
    for variable, value in zip(variables, given):
        value = value_of(value)
        if tuple(np.shape(value)) != tuple(variable.shape):
            raise ValueError(f"{who}: {what} for variable '{variable.path}' has shape "
                             f"{tuple(np.shape(value))}, expected {tuple(variable.shape)}")
        out.append(value)
    return out


def _assign_all(variables, given):
    for variable, value in zip(variables, given):
        variable.assign(value)


def stateless_call(model, trainable, non_trainable, inputs, training=False, rng=None,
                   return_losses=False, draws=True, run=None):
    """Keras `model.stateless_call`: `(outputs, new_non_trainable)` computed from the values
    given, touching no variable; with `return_losses`, also the losses the call adds
    (add_loss, activity penalties: summed into one) and the weight regularizers' penalty
    on the values given, as Keras's list whose sum is the loss to add. The values are
    placed in the model's params and state trees by writing them through the variables
    and reading the trees back (the model's own values are restored at once), so the order
    is exactly that of the variable lists."""
    who = f"Model '{model.name}' stateless_call"
    t_vars, n_vars = model.trainable_variables, model.non_trainable_variables
    trainable = check_values(who, t_vars, trainable, "trainable_variables")
    non_trainable = check_values(who, n_vars, non_trainable, "non_trainable_variables")
    if training and draws and rng is None:
        raise ValueError(f"{who}: the model has random layers (Dropout, noise), so "
                         f"training=True needs rng=jax.random.key(...)")
    saved = model.params, model.state
    try:
        _assign_all(t_vars, trainable)
        _assign_all(n_vars, non_trainable)
        params, state = model.params, model.state
    finally:
        model.params, model.state = saved
    if run is None:
        outputs, new_state, added = model.call_with_losses(params, state, inputs,
                                                           training=training, rng=rng)
    else:                           # the model's own run, `(outputs, new_state, added)`
        outputs, new_state, added = run(params, state, inputs, training, rng)
    try:
        model.params, model.state = params, new_state
        new_non_trainable = values(n_vars)
    finally:
        model.params, model.state = saved
    if not return_losses:
        return outputs, new_non_trainable
    losses = [] if isinstance(added, float) else [added]     # 0.0: the call added none
    penalty = model.weight_penalty(params)
    if not isinstance(penalty, float):
        losses.append(penalty)
    return outputs, new_non_trainable, losses


def state_names(state) -> list:
    """Names for the leaves of a pure metric's state: a dict's keys in their order (Keras's
    Mean lists total, then count), else each leaf's path."""
    if isinstance(state, dict) and all(hasattr(v, "shape") for v in state.values()):
        return list(state)
    return [jax.tree_util.keystr(path) for path, _ in
            jax.tree_util.tree_flatten_with_path(state)[0]]


def state_by_name(state) -> dict:
    """A pure state's leaves by `state_names`."""
    if isinstance(state, dict) and all(hasattr(v, "shape") for v in state.values()):
        return dict(state)
    return dict(zip(state_names(state), jax.tree_util.tree_leaves(state)))


def state_from(template, by_name: dict):
    """A state shaped like `template` from leaves by name (the inverse of `state_by_name`)."""
    if isinstance(template, dict) and all(hasattr(v, "shape") for v in template.values()):
        return {k: by_name[k] for k in template}
    treedef = jax.tree_util.tree_structure(template)
    return jax.tree_util.tree_unflatten(treedef, [by_name[n] for n in state_names(template)])


class StatelessMetric:
    """Keras's `stateless_update_state`, `stateless_result` and `stateless_reset_state`,
    for a metric written Keras's way (its state in `add_weight` variables) and for the
    catalogue's pure metrics (their state's leaves are their variables)."""

    def _bound(self, who, metric_variables, fn):
        variables = self.variables
        given = check_values(f"Metric '{self.name}' {who}", variables, metric_variables,
                             "metric_variables")
        if not self.keras_form:
            state = state_from(self.init(), {v.name: value for v, value in zip(variables, given)})
            out, state = fn(state)
            by_name = state_by_name(state)
            return out, [by_name[v.name] for v in variables]
        with CallScope() as scope:
            scope.bind(self, {}, {v.name: value for v, value in zip(variables, given)})
            out, _ = fn(None)
            state = scope.state_of(self)
        return out, [state[v.name] for v in variables]

    def stateless_update_state(self, metric_variables, *args, **kwargs):
        """The metric's variables after `update_state(*args, **kwargs)`, from those given."""
        def update(state):
            if state is None:
                self.update_state(*args, **kwargs)
                return None, None
            return None, self.update(state, *args, **kwargs)
        return self._bound("stateless_update_state", metric_variables, update)[1]

    def stateless_result(self, metric_variables):
        """`result()` computed from the variables given."""
        return self._bound("stateless_result", metric_variables,
                           lambda state: (self.result(state) if state is not None
                                          else self.result(), state))[0]

    def stateless_reset_state(self):
        """The variables' values after `reset_state()`, without touching the metric."""
        if not self.keras_form:
            by_name = state_by_name(self.init())
            return [jnp.asarray(by_name[v.name]) for v in self.variables]
        return [jnp.asarray(self._initial[v.name]) for v in self.variables]


def tree_signature(tree) -> list:
    """(shape, dtype) of every leaf, for comparing a step's new state with its old one."""
    return [(tuple(np.shape(x)), np.dtype(x.dtype if hasattr(x, "dtype") else
                                          np.asarray(x).dtype))
            for x in jax.tree_util.tree_leaves(tree)]
