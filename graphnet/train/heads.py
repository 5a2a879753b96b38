"""Many outputs, one loss: the shared trunk, per-output trunk gradients, head diagnostics
and PCGrad, all inside the compiled step.

The gradient of the total comes from one backward pass, as without diagnostics. Each
output's own gradient is needed only on the shared trunk, so each extra backward pass keeps
only the trunk's leaves and XLA drops the rest of its work (the heads' weight gradients).
Without activity penalties the last output's trunk gradient is the total's minus the others',
so n outputs cost n - 1 extra trunk passes. The statistics need only the n x n Gram matrix
of the trunk gradients, and PCGrad becomes n x n scalar work plus one weighted sum.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp

TINY = 1e-12


def trunk_mask(params, trainable, trunk) -> tuple:
    """One bool per trainable leaf of `params` (tree order): True under a trunk layer."""
    trunk = set(trunk)
    flags = jax.tree_util.tree_leaves(      # tree order: dict keys sorted, as the leaves
        {name: jax.tree_util.tree_map(lambda _, f=name in trunk: f, sub)
         for name, sub in params.items()})
    return tuple(f for f, t in zip(flags, trainable) if t)


@dataclass(frozen=True)
class Heads:
    """Static facts of the per-output gradient work."""
    names: tuple             # trained output names, in output order
    trunk: tuple             # one bool per trainable leaf: in the shared trunk
    diagnostics: bool        # log <output>_loss_share, <output>_grad_norm, grad_cosine, grad_conflict
    pcgrad: bool             # combine the trunk gradients with PCGrad
    activity: bool = False   # the model has activity regularizers (one more backward row)

    @property
    def stat_names(self) -> list:
        return ([f"{n}_loss_share" for n in self.names] + [f"{n}_grad_norm" for n in self.names]
                + ["grad_cosine", "grad_conflict"])

    @property
    def stat_count(self) -> int:
        return 2 * len(self.names) + 2

    def gradients(self, objective, penalty, variables, learned, loss_weights):
        """(total, terms, aux, grads, stats) for `objective(variables) -> (terms, activity,
        aux)` and `penalty(variables) -> weight penalty`; grads are the total's, or
        PCGrad's combination on the trunk. `aux[0]` is the per-output losses."""
        (terms, activity), pullback, aux = _vjp_with_aux(objective, variables)
        n = terms.shape[0]
        eye = jnp.eye(n, dtype=terms.dtype)
        no_activity = jnp.zeros((), activity.dtype)

        def trunk_of(tree):
            leaves = tree[0] if learned else tree
            return [leaf for leaf, t in zip(leaves, self.trunk) if t]

        grads, = pullback((jnp.ones_like(terms), jnp.ones((), activity.dtype)))
        total_trunk = trunk_of(grads)
        # With activity penalties the total's trunk gradient holds them too, so every
        # output's row is its own pass; otherwise the last row is what the others leave.
        direct = n if self.activity else n - 1
        rows = [trunk_of(pullback((eye[i], no_activity))[0]) for i in range(direct)]
        if direct < n:
            rows.append([t - sum(r[k] for r in rows) for k, t in enumerate(total_trunk)])
        gram = _gram(rows, terms.dtype)
        if self.pcgrad:
            # Replace the rows' plain sum inside the total by PCGrad's combination.
            coef = pcgrad_coefficients(gram) - 1.0
            combined = iter([t + sum(coef[i] * r[k] for i, r in enumerate(rows))
                             for k, t in enumerate(total_trunk)])
            leaves = grads[0] if learned else grads
            leaves = [next(combined) if t else leaf for leaf, t in zip(leaves, self.trunk)]
            grads = (leaves, grads[1]) if learned else leaves
        weight_grads = jax.grad(penalty)(variables)
        grads = jax.tree_util.tree_map(jnp.add, grads, weight_grads)
        total = jnp.sum(terms) + activity + penalty(variables)
        stats = None
        if self.diagnostics:
            weights = jnp.exp(-loss_weights) if learned else loss_weights
            stats = statistics(weights * aux[0], gram)
        return total, terms, aux, grads, stats


def _gram(rows, dtype):
    """The n x n matrix of dot products between the outputs' trunk gradients, leaf by leaf
    (no copy of the gradients into one matrix)."""
    n = len(rows)
    dots = {}
    for i in range(n):
        for j in range(i, n):
            dots[i, j] = dots[j, i] = sum((jnp.vdot(a, b) for a, b in zip(rows[i], rows[j])),
                                          jnp.zeros((), dtype))
    return jnp.stack([jnp.stack([dots[i, j] for j in range(n)]) for i in range(n)])


def _vjp_with_aux(objective, variables):
    def split(v):
        terms, activity, aux = objective(v)
        return (terms, jnp.asarray(activity, terms.dtype)), aux
    (terms, activity), pullback, aux = jax.vjp(split, variables, has_aux=True)
    return (terms, activity), pullback, aux


def statistics(weighted, gram):
    """[loss shares, trunk gradient norms, mean pairwise cosine, fraction of conflicting
    pairs] from the weighted per-output losses and the Gram matrix of trunk gradients."""
    n = gram.shape[0]
    share = weighted / jnp.where(jnp.sum(weighted) == 0, 1.0, jnp.sum(weighted))
    norms = jnp.sqrt(jnp.maximum(jnp.diagonal(gram), 0.0))
    i, j = jnp.triu_indices(n, 1)
    cos = gram[i, j] / jnp.maximum(norms[i] * norms[j], TINY)
    conflict = (gram[i, j] < 0).astype(gram.dtype)
    return jnp.concatenate([share, norms, jnp.stack([jnp.mean(cos), jnp.mean(conflict)])])


def pcgrad_coefficients(gram):
    """PCGrad (Yu et al. 2020) in output order, as coefficients: the combined gradient is
    `sum_j a_j g_j`. Output i's gradient, projected in turn against each other output j's
    original gradient when their dot product is negative, is `g_i - sum_j c_ij g_j`, and
    every dot product it needs comes from the Gram matrix."""
    n = gram.shape[0]
    c = jnp.zeros((n, n), gram.dtype)
    for i in range(n):
        for j in range(n):
            if i == j:
                continue
            dot = gram[i, j] - c[i] @ gram[:, j]           # (g_i - sum_k c_ik g_k) . g_j
            step = jnp.where(dot < 0, dot / jnp.maximum(gram[j, j], TINY), 0.0)
            c = c.at[i, j].add(step)
    return 1.0 - jnp.sum(c, axis=0)
