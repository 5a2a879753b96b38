"""Many outputs, one loss: the shared trunk, per-output trunk gradients, head diagnostics
and PCGrad, all inside the compiled step.

Each output's term of the total is differentiated on its own with one vectorized backward
pass (a `jax.vjp` whose cotangents are the rows of the identity): n outputs cost n backward
passes instead of one, and nothing else. Summed, the rows are exactly the gradient of the
total, so the optimizer sees the same update as without diagnostics. The statistics need
only the n x n Gram matrix of the trunk gradients, and PCGrad becomes n x n scalar work plus
one weighted sum of the rows.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import networkx as nx

from ..graph import flat

TINY = 1e-12


def trunk_layers(model, outputs) -> list:
    """Names of the layers that are ancestors of two or more of `outputs` (output indices):
    the shared trunk, in the model's layer order."""
    graph = model.graph
    output_keys = [key for key, _ in flat(graph.graph["outputs"])]   # output order
    counts = {}
    for i in outputs:
        key = output_keys[i]
        names = {graph.nodes[k]["layer"].name for k in nx.ancestors(graph, key) | {key}}
        for name in names:
            counts[name] = counts.get(name, 0) + 1
    return [layer.name for layer in model.layers if counts.get(layer.name, 0) >= 2]


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
        rows, = jax.vmap(lambda e: pullback((e, jnp.zeros((), activity.dtype))))(eye)
        if self.activity:
            rest, = pullback((jnp.zeros_like(terms), jnp.ones((), activity.dtype)))
        else:
            rest = jax.tree_util.tree_map(jnp.zeros_like, variables)
        weight_grads = jax.grad(penalty)(variables)
        train_rows = rows[0] if learned else rows
        trunk_rows = [leaf for leaf, t in zip(train_rows, self.trunk) if t]
        flat = (jnp.concatenate([leaf.reshape(n, -1) for leaf in trunk_rows], axis=1)
                if trunk_rows else jnp.zeros((n, 1), terms.dtype))
        gram = flat @ flat.T
        summed = jax.tree_util.tree_map(lambda r: jnp.sum(r, axis=0), rows)
        if self.pcgrad:
            coef = pcgrad_coefficients(gram)
            combined = [jnp.tensordot(coef, leaf, axes=1) if t else s
                        for leaf, s, t in zip(train_rows, summed[0] if learned else summed,
                                              self.trunk)]
            summed = (combined, summed[1]) if learned else combined
        grads = jax.tree_util.tree_map(lambda a, b, c: a + b + c, summed, rest, weight_grads)
        total = jnp.sum(terms) + activity + penalty(variables)
        stats = None
        if self.diagnostics:
            weights = jnp.exp(-loss_weights) if learned else loss_weights
            stats = statistics(weights * aux[0], gram)
        return total, terms, aux, grads, stats


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
