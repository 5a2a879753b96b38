"""compile()'s arguments as a plain spec: one loss, weight and metric list per output.

Dicts are matched to outputs by NAME (model.output_names), never by position or sorted
order; a key that names no output is a KeyError listing the names.
"""
from __future__ import annotations

import math

from dataclasses import dataclass, field
from typing import NamedTuple

from .. import losses as losses_module
from .. import metrics as metrics_module
from .. import optimizers as optimizers_module
from .devices import resolve as resolve_devices

# steps_per_execution="auto" (the default): see `steps_per_dispatch` and bench/RESULTS.md.
MIN_STEPS_PER_DISPATCH = 32        # 32 steps per call keep within ~8% of one call per epoch
BAR_UPDATES_PER_EPOCH = 20


def steps_per_dispatch(setting, steps, watched: bool, per_batch: bool = False) -> int:
    """K for one fit or evaluate. An int is used as given (batch hooks then run once per
    dispatch, as Keras's steps_per_execution). "auto": with a callback that overrides a
    batch hook (`per_batch`), one step per dispatch, so the hook runs after every batch
    with that batch's logs and what it changes applies to the next batch, as in Keras;
    when nothing reads the running logs between dispatches (verbose 0 or 2) the whole
    epoch is one dispatch, the fused floor; under a progress bar max(32, ceil(steps / 20))
    steps, so the bar moves ceil(steps / K) times per epoch: 20 times for an epoch of more
    than 640 steps, fewer for shorter ones (4 times for 100 steps, once for 32 or fewer).
    Every K shares one compiled program (the chunk length is a traced argument)."""
    if setting != "auto":
        return setting
    if per_batch:
        return 1
    if steps is None:                  # an iterable of batches: K is the host stacking size
        return MIN_STEPS_PER_DISPATCH
    if not watched:
        return max(int(steps), 1)
    return max(MIN_STEPS_PER_DISPATCH, -(-int(steps) // BAR_UPDATES_PER_EPOCH))


@dataclass
class CompileArgs:
    """What the user passed to compile, kept as given until the model's outputs are known
    (an unbuilt Sequential has none yet)."""
    optimizer: optimizers_module.Optimizer
    loss: object
    metrics: object
    loss_weights: object
    loss_reduction: str
    steps_per_execution: object       # a positive int, or "auto"
    devices: object = None
    head_diagnostics: bool = False
    grad_combine: object = None        # None (the plain sum) or "pcgrad"
    weighted_metrics: object = None


@dataclass
class Spec:
    """The resolved training spec, one entry per model output (in model.outputs order)."""
    output_names: list
    losses: list                       # Loss or None
    loss_weights: list                 # floats (1.0 each with learned weights)
    metrics: list                      # per output: list of unresolved identifiers
    loss_reduction: str
    steps_per_execution: object
    optimizer: optimizers_module.Optimizer
    args: CompileArgs = field(repr=False, default=None)
    learned_weights: bool = False      # loss_weights="uncertainty"
    head_diagnostics: bool = False
    grad_combine: object = None
    weighted_metrics: list = None      # per output, like `metrics`: fed the sample weights

    @property
    def trained_outputs(self) -> list:
        return [i for i, loss in enumerate(self.losses) if loss is not None]


def make_args(optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
              loss_reduction="mean", steps_per_execution=None, devices=None,
              head_diagnostics=False, grad_combine=None, weighted_metrics=None) -> CompileArgs:
    """Check what can be checked without the model's outputs."""
    if not isinstance(head_diagnostics, bool):
        raise TypeError(f"compile: head_diagnostics must be True or False, received "
                        f"{head_diagnostics!r}")
    if grad_combine not in (None, "sum", "pcgrad"):
        raise ValueError(f"compile: grad_combine must be None (the gradient of the total), "
                         f"'sum' (the same) or 'pcgrad', received {grad_combine!r}")
    if isinstance(loss_weights, str) and loss_weights != "uncertainty":
        raise ValueError(f"compile: loss_weights must be a number per output (a list or a "
                         f"dict by output name) or 'uncertainty', received {loss_weights!r}")
    if loss_reduction not in ("mean", "sum"):
        raise ValueError(f"compile: loss_reduction must be 'mean' (sum(w_i L_i) / sum(w_i)) or "
                         f"'sum' (Keras's sum(w_i L_i)), received {loss_reduction!r}")
    if steps_per_execution is None:
        steps_per_execution = "auto"
    if steps_per_execution != "auto" and (not isinstance(steps_per_execution, int) or isinstance(steps_per_execution, bool)
            or steps_per_execution < 1):
        raise ValueError(f"compile: steps_per_execution must be a positive int or 'auto', received "
                         f"{steps_per_execution!r}")
    resolve_devices(devices)           # a wrong devices= fails at compile, not at fit
    return CompileArgs(optimizer=optimizers_module.get(optimizer), loss=loss, metrics=metrics,
                       loss_weights=loss_weights, loss_reduction=loss_reduction,
                       steps_per_execution=steps_per_execution, devices=devices,
                       head_diagnostics=head_diagnostics,
                       grad_combine=None if grad_combine == "sum" else grad_combine,
                       weighted_metrics=weighted_metrics)


def check_output_keys(given: dict, names, prefix: str, trained: bool = False) -> None:
    """Dicts are matched to outputs by name: a key that names no output (or no trained
    output) is a KeyError listing the names there are."""
    unknown = [k for k in given if k not in names]
    if unknown:
        kind, whose = ("trained output", "trained") if trained else ("output", "model's")
        raise KeyError(f"{prefix}key(s) {unknown} name no {kind}; the {whose} outputs are "
                       f"{list(names)}")


def _by_output(value, names, what, default, is_single):
    """One entry per output from a single value, a list (by position) or a dict (by name)."""
    n = len(names)
    if isinstance(value, dict):
        check_output_keys(value, names, f"compile: {what} ")
        return [value.get(name, default) for name in names]
    if isinstance(value, (list, tuple)) and not is_single(value):
        if len(value) != n:
            raise ValueError(f"compile: {what} is a list of {len(value)}, but the model has "
                             f"{n} output(s) {names}; pass one per output or a dict by name")
        return list(value)
    return [value] * n


def resolve(args: CompileArgs, output_names: list) -> Spec:
    """Match compile's arguments to the outputs; losses become Loss objects."""
    names = list(output_names)
    if args.loss is None:
        raise ValueError("compile: a loss is needed to train, e.g. loss='mse' or a dict "
                         f"by output name for the outputs {names}")
    losses = _by_output(args.loss, names, "loss", None, lambda v: False)
    losses = [losses_module.get(loss) for loss in losses]
    if all(loss is None for loss in losses):
        raise ValueError(f"compile: every output's loss is None; give at least one of "
                         f"{names} a loss")
    learned = isinstance(args.loss_weights, str) and args.loss_weights == "uncertainty"
    if args.loss_weights is None or learned:
        weights = [1.0] * len(names)
    else:
        weights = _by_output(args.loss_weights, names, "loss_weights", 1.0, lambda v: False)
    for name, w in zip(names, weights):
        if not isinstance(w, (int, float)) or isinstance(w, bool) or not 0 <= w < math.inf:
            raise ValueError(f"compile: loss_weights for output '{name}' must be a finite "
                             f"number >= 0, received {w!r}")
    weights = [float(w) for w in weights]
    trained = [w for loss, w in zip(losses, weights) if loss is not None]
    if args.loss_reduction == "mean" and sum(trained) == 0:
        raise ValueError("compile: the loss_weights of the outputs with a loss sum to 0, so "
                         "their weighted mean is undefined")
    count = sum(loss is not None for loss in losses)
    for flag, what in ((args.head_diagnostics, "head_diagnostics=True"),
                       (args.grad_combine == "pcgrad", "grad_combine='pcgrad'")):
        if flag and count < 2:
            raise ValueError(f"compile: {what} compares the gradients of two or more trained "
                             f"outputs, but only {count} of the outputs {names} has a loss")
    metrics = _metric_lists(args.metrics, names, "metrics")
    weighted = _metric_lists(args.weighted_metrics, names, "weighted_metrics")
    return Spec(output_names=names, losses=losses, loss_weights=weights, metrics=metrics,
                weighted_metrics=weighted,
                loss_reduction=args.loss_reduction,
                steps_per_execution=args.steps_per_execution, optimizer=args.optimizer,
                args=args, learned_weights=learned, head_diagnostics=args.head_diagnostics,
                grad_combine=args.grad_combine)


def _metric_lists(metrics, names, what):
    """Keras's rules: a flat list applies to every output; a list with one list per output,
    or a dict by output name, is per output."""
    n = len(names)
    if metrics is None:
        return [[] for _ in names]
    if isinstance(metrics, dict):
        check_output_keys(metrics, names, f"compile: {what} ")
        return [_as_list(metrics.get(name)) for name in names]
    if isinstance(metrics, (list, tuple)):
        if n > 1 and len(metrics) == n and all(isinstance(m, (list, tuple, type(None)))
                                               for m in metrics):
            return [_as_list(m) for m in metrics]
        return [list(metrics) for _ in names]
    return [[metrics] for _ in names]


def _as_list(m):
    if m is None:
        return []
    return list(m) if isinstance(m, (list, tuple)) else [m]


class MetricSlot(NamedTuple):
    """One compiled metric: the output it reads, its log name, the Metric, and whether it
    is fed the sample weights (`weighted_metrics`) or not (`metrics`, as Keras)."""
    output: int
    key: str
    metric: object
    weighted: bool


def resolve_metrics(spec: Spec, y_shapes: list, out_shapes: list) -> list:
    """MetricSlots, named as Keras names them: "<metric>" with one output, else
    "<output>_<metric>"; a weighted metric whose name is taken by an unweighted one becomes
    "weighted_<metric>" (after the output's name), then "_1", "_2"... on further clashes.
    "accuracy" is chosen from the target and output shapes."""
    single = len(spec.output_names) == 1
    resolved, taken = [], {}

    def unique(key):
        if key not in taken:
            taken[key] = 1
            return key
        index, taken[key] = taken[key], taken[key] + 1
        return f"{key}_{index}"

    for weighted, lists in ((False, spec.metrics), (True, spec.weighted_metrics or [])):
        for i, (name, ids) in enumerate(zip(spec.output_names, lists)):
            prefix = "" if single else f"{name}_"
            for ident in ids:
                metric = metrics_module.get(ident, y_shapes[i], out_shapes[i])
                key = prefix + metric.name
                if weighted and key in taken:
                    key = f"{prefix}weighted_{metric.name}"
                resolved.append(MetricSlot(i, unique(key), metric, weighted))
    return resolved


def compile_config(args: CompileArgs) -> dict:
    """compile()'s arguments as JSON-able data (for saving); `compile(**from_config(c))`."""
    def loss_config(loss):
        if loss is None or isinstance(loss, str):
            return loss
        if isinstance(loss, dict):
            return {k: loss_config(v) for k, v in loss.items()}
        if isinstance(loss, (list, tuple)):
            return [loss_config(v) for v in loss]
        return {"loss": losses_module.serialize(losses_module.get(loss))}

    def metric_config(m):
        if isinstance(m, dict):
            return {k: metric_config(v) for k, v in m.items()}
        if isinstance(m, (list, tuple)):
            return [metric_config(v) for v in m]
        if m is None or isinstance(m, str):
            return m
        return {"metric": metrics_module.serialize(metrics_module.get(m))}

    return {"optimizer": optimizers_module.serialize(args.optimizer),
            "loss": loss_config(args.loss), "metrics": metric_config(args.metrics),
            **({"weighted_metrics": metric_config(args.weighted_metrics)}
               if args.weighted_metrics is not None else {}),
            "loss_weights": args.loss_weights, "loss_reduction": args.loss_reduction,
            "steps_per_execution": args.steps_per_execution,
            **({"head_diagnostics": True} if args.head_diagnostics else {}),
            **({"grad_combine": args.grad_combine} if args.grad_combine else {})}


def from_config(config: dict) -> dict:
    """The keyword arguments of compile() back from `compile_config`."""
    def loss_value(v):
        if isinstance(v, dict) and set(v) == {"loss"}:
            return losses_module.deserialize(v["loss"])
        if isinstance(v, dict):
            return {k: loss_value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [loss_value(x) for x in v]
        return v

    def metric_value(v):
        if isinstance(v, dict) and set(v) == {"metric"}:
            return metrics_module.deserialize(v["metric"])
        if isinstance(v, dict):
            return {k: metric_value(x) for k, x in v.items()}
        if isinstance(v, list):
            return [metric_value(x) for x in v]
        return v

    steps = config.get("steps_per_execution", "auto")
    return {"optimizer": optimizers_module.deserialize(config["optimizer"]),
            "loss": loss_value(config["loss"]), "metrics": metric_value(config.get("metrics")),
            "weighted_metrics": metric_value(config.get("weighted_metrics")),
            "loss_weights": config.get("loss_weights"),
            "loss_reduction": config.get("loss_reduction", "mean"),
            "steps_per_execution": None if steps == "auto" else steps,
            "head_diagnostics": config.get("head_diagnostics", False),
            "grad_combine": config.get("grad_combine")}
