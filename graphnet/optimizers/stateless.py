"""Keras 3's stateless optimizer API: `build(variables)`, `variables` and
`stateless_apply(optimizer_variables, grads, trainable_variables)`, over the optax state
the optimizer already keeps, so a hand-written step gets the same arithmetic as `fit`."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..stateless import check_values, value_of
from ..variables import Variable


def _leaf_names(state) -> list:
    paths = jax.tree_util.tree_flatten_with_path(state)[0]
    names = []
    for i, (path, _) in enumerate(paths):
        text = jax.tree_util.keystr(path).strip(".[]").replace("][", "_").replace(".", "_")
        names.append(f"{i}_{text.replace('[', '_').replace(']', '')}" if text else str(i))
    return names


class StatelessOptimizer:
    """Keras's `build`, `variables` and `stateless_apply` (mixed into `Optimizer`)."""

    _built_for = None          # [(shape, dtype)] of the variables `build` was given

    @property
    def built(self) -> bool:
        """Whether `build(variables)` made the optimizer's variables (Keras's `built`)."""
        return self._built_for is not None and self.state is not None

    @property
    def built_for(self) -> list:
        """[(shape, dtype)] of the variables the optimizer was built for (empty before)."""
        return list(self._built_for or []) if self.built else []

    def build(self, variables):
        """Keras `optimizer.build(model.trainable_variables)`: a fresh state (moments,
        step count, learning rate) for these variables, in their order."""
        given = [jnp.asarray(value_of(v)) for v in variables]
        self.init(given)
        self._built_for = [(tuple(v.shape), np.dtype(v.dtype)) for v in given]

    def own_values(self, collection):
        """The state's leaves by variable name: what `optimizer.variables` read."""
        leaves = jax.tree_util.tree_leaves(self.state)
        return dict(zip(_leaf_names(self.state), leaves))

    def set_own_values(self, collection, values):
        """Replaces the state's leaves (a variable's `assign`)."""
        names = _leaf_names(self.state)
        treedef = jax.tree_util.tree_structure(self.state)
        self.state = jax.tree_util.tree_unflatten(treedef, [values[n] for n in names])

    @property
    def variables(self) -> list:
        """Keras `optimizer.variables`: the state as `Variable`s, in one fixed order
        (empty before `build`)."""
        if not self.built:
            return []
        leaves = jax.tree_util.tree_leaves(self.state)
        return [Variable(self, name, np.shape(leaf), leaf.dtype, False)
                for name, leaf in zip(_leaf_names(self.state), leaves)]

    def stateless_apply(self, optimizer_variables, grads, trainable_variables):
        """Keras `stateless_apply`: `(new_trainable_variables, new_optimizer_variables)`
        from the values given, the optimizer's own state untouched."""
        who = f"{type(self).__name__} stateless_apply"
        if not self.built:
            raise ValueError(f"{who}: the optimizer is not built; call "
                             f"optimizer.build(model.trainable_variables) first")
        variables = self.variables
        opt_values = check_values(who, variables, optimizer_variables, "optimizer_variables")
        if len(trainable_variables) != len(self._built_for) or len(grads) != len(self._built_for):
            raise ValueError(f"{who}: the optimizer was built for {len(self._built_for)} "
                             f"variables, received {len(trainable_variables)} trainable "
                             f"variables and {len(grads)} gradients")
        params = [value_of(v) for v in trainable_variables]
        grads = [value_of(g) for g in grads]
        for i, ((shape, _), p, g) in enumerate(zip(self._built_for, params, grads)):
            if tuple(np.shape(p)) != shape or tuple(np.shape(g)) != shape:
                raise ValueError(f"{who}: trainable variable {i} and its gradient must have "
                                 f"the shape {shape} the optimizer was built for, received "
                                 f"{tuple(np.shape(p))} and {tuple(np.shape(g))}")
        treedef = jax.tree_util.tree_structure(self.state)
        state = jax.tree_util.tree_unflatten(treedef, opt_values)
        updates, new_state = self.tx.update(grads, state, params)
        new_params = [jnp.asarray(p, dtype) for p, (_, dtype) in
                      zip(optax.apply_updates(params, updates), self._built_for)]
        return new_params, jax.tree_util.tree_leaves(new_state)
