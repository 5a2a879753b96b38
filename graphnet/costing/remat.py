"""Which nodes to recompute in the backward pass, chosen from the cost table alone.

The estimate of a training step's memory is the weights and their gradients plus the
tensors the backward pass keeps (`measure.saved_tensors`): a recomputed node keeps its
tensor inputs instead of what it made inside, so recomputing can also cost memory (its
inputs were not kept otherwise); the planner only takes a node that lowers the estimate.
Nodes are tried by saved bytes per recomputed FLOP, highest first: normalization and
elementwise nodes keep many bytes and are cheap to run again, matrix products the reverse.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .measure import cost, saved_tensors
from .table import size, count

AUTO_EXTRA_FLOPS = 0.1     # "auto": recompute while the step does at most 10% more FLOPs


@dataclass
class RematPlan:
    """The nodes to recompute and the estimates that chose them (bytes per step).

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> plan = graphnet.costing.remat_plan(model, ["dense"], batch_size=4)
        >>> isinstance(plan, graphnet.costing.RematPlan)
        True
    """
    nodes: tuple = ()
    budget: int | str | None = None
    batch_size: int | None = None
    peak_before: int | None = None
    peak_after: int | None = None
    recompute_flops: float = 0.0
    fits: bool = True
    notes: list = field(default_factory=list)

    def __str__(self):
        if self.peak_before is None:
            return f"Rematerialization: recompute {', '.join(self.nodes) or 'nothing'} (given)"
        what = ", ".join(self.nodes) if self.nodes else "nothing"
        budget = (f"budget {size(self.budget)}" if isinstance(self.budget, int)
                  else f"{self.budget}")
        line = (f"Rematerialization ({budget}, batch of {self.batch_size}): recompute {what}; "
                f"estimated peak {size(self.peak_before)} -> {size(self.peak_after)}, "
                f"+{count(self.recompute_flops)} FLOPs per step")
        if not self.fits:
            line += " (the budget cannot be met by recomputing nodes)"
        return line


def activation_bytes(rows, remat=()) -> int:
    """Bytes the backward pass keeps when the nodes in `remat` are recomputed."""
    remat = set(remat)
    sizes = {(r.node, i): s for r in rows for i, s in enumerate(r.output_sizes)}
    inside = sum(r.saved_inside or 0 for r in rows if r.node not in remat)
    return inside + sum(sizes.get(ref, 0) for ref in saved_tensors(rows, remat))


def peak(table, remat=()) -> int:
    """The step's estimated peak: weights, their gradients and the kept activations.
    Optimizer state and XLA's temporaries come on top."""
    return 2 * table.totals["param_bytes"] + activation_bytes(table.rows, remat)


def candidates(table) -> list:
    """Costed call nodes that keep something, by saved bytes per forward FLOP (highest
    first; graph order breaks ties)."""
    rows = [r for r in table.rows if r.type != "InputLayer" and r.forward_flops is not None
            and r.saved_bytes]
    return sorted(rows, key=lambda r: -r.saved_bytes / max(r.forward_flops, 1.0))


def choose_remat(table, budget) -> RematPlan:
    """A pure function of a training cost table: the nodes to recompute so the estimated
    peak fits `budget` (bytes); with "auto", the best nodes while the recomputed forward
    FLOPs stay within `AUTO_EXTRA_FLOPS` of the step's (forward and backward) FLOPs.

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> table = graphnet.cost(model, batch_size=4, training=True)
        >>> plan = graphnet.costing.choose_remat(table, budget=10**9)
        >>> isinstance(plan, graphnet.costing.RematPlan)
        True
    """
    if not (budget == "auto" or (isinstance(budget, int) and not isinstance(budget, bool)
                                 and budget > 0)):
        raise ValueError(f"remat must be None, a budget in bytes (a positive int), 'auto' or a "
                         f"list of node keys, received {budget!r}")
    if not table.training:
        raise ValueError("choose_remat needs the cost of a training step: "
                         "graphnet.cost(model, batch_size=..., training=True)")
    rows = table.rows
    chosen, current = [], peak(table)
    plan = RematPlan(budget=budget, batch_size=table.batch_size, peak_before=current)
    allowance, extra = AUTO_EXTRA_FLOPS * table.totals["flops"], 0.0
    for row in candidates(table):
        if budget != "auto" and current <= budget:
            break
        if budget == "auto" and extra + row.forward_flops > allowance:
            continue
        trial = peak(table, [*chosen, row.node])
        if trial < current:
            chosen.append(row.node)
            current, extra = trial, extra + row.forward_flops
    plan.nodes = tuple(r.node for r in rows if r.node in set(chosen))      # graph order
    plan.peak_after = current
    plan.recompute_flops = sum(table[n].forward_flops for n in plan.nodes)
    plan.fits = budget == "auto" or current <= budget
    if table.unknown:
        plan.notes.append(f"not costed (n/a): {', '.join(table.unknown)}")
    return plan


def remat_plan(model, remat, batch_size=32, input_shape=None) -> RematPlan:
    """What `compile(remat=...)` recomputes: a `RematPlan` as given, a list of node keys, or
    a budget / "auto" planned on a training cost table for `batch_size` rows (fit's default
    batch size; plan for another with this function and pass the plan to compile).

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> plan = graphnet.costing.remat_plan(model, ["dense"], batch_size=4)
        >>> plan.nodes
        ('dense',)
    """
    if isinstance(remat, RematPlan):
        return remat
    if isinstance(remat, (list, tuple)):
        keys = list(model.graph.nodes)
        unknown = [k for k in remat if k not in keys]
        if unknown:
            raise ValueError(f"remat: model '{model.name}' has no node(s) {unknown}; its nodes "
                             f"are {keys}")
        return RematPlan(nodes=tuple(k for k in keys if k in set(remat)))
    if remat != "auto" and not (isinstance(remat, int) and not isinstance(remat, bool)):
        choose_remat(None, remat)           # raises the message that lists the choices
    table = cost(model, batch_size=batch_size, training=True, input_shape=input_shape)
    return choose_remat(table, remat)
