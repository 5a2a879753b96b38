"""Keras's `model.metrics` for a model with its own train or test step: real metric
objects a step updates with `stateless_update_state`, in Keras 3's order: the `loss`
tracker, `compile_metrics` (the metrics given to compile, as one metric), each output's
`<output>_loss` tracker (several outputs), then the metrics the model holds in its
attributes."""
from __future__ import annotations

import weakref

import numpy as np

from .metrics import Mean, Metric
from .train.spec import resolve_metrics


class CompileMetrics(Metric):
    """Keras's `compile_metrics`: compile's metrics as one metric whose `result()` is the
    dict of their log names -> values; `update_state(y_true, y_pred, sample_weight)` feeds
    each its output (the sample weights only to `weighted_metrics`)."""

    def __init__(self, slots, output_names, name="compile_metrics"):
        super().__init__(name=name)
        self.slots, self.output_names = list(slots), list(output_names)

    def init(self):
        """One state per compiled metric, in compile's order (Keras's variables' order)."""
        return tuple(slot.metric.init() for slot in self.slots)

    def _per_output(self, value, what):
        if len(self.output_names) == 1:
            return [value]
        if isinstance(value, dict):
            return [value[name] for name in self.output_names]
        if isinstance(value, (list, tuple)) and len(value) == len(self.output_names):
            return list(value)
        raise ValueError(f"compile_metrics: {what} must hold one array per output "
                         f"{self.output_names} (a list or a dict by name), received "
                         f"{type(value).__name__}")

    def update(self, state, y_true, y_pred, sample_weight=None):
        """Each compiled metric's state after one batch."""
        ys, preds = self._per_output(y_true, "y_true"), self._per_output(y_pred, "y_pred")
        return tuple(slot.metric.update(s, ys[slot.output], preds[slot.output],
                                        sample_weight if slot.weighted else None)
                     for slot, s in zip(self.slots, state))

    def result(self, state=None):
        """Each compiled metric's log name -> its value."""
        state = self._current(state)
        return {slot.key: slot.metric.result(s) for slot, s in zip(self.slots, state)}


# model -> the metrics made for its compile (dropped when it is compiled again).
_MADE = weakref.WeakKeyDictionary()


def forget(model):
    _MADE.pop(model, None)


def _shapes(y, names):
    if y is None:
        return None
    if isinstance(y, dict):
        return [tuple(np.shape(y[n])) if n in y else None for n in names]
    if isinstance(y, (list, tuple)) and len(names) > 1:
        return [tuple(np.shape(v)) for v in y]
    return [tuple(np.shape(y))]


def compiled_metrics(model, trainer, y=None) -> list:
    """The loss tracker, compile_metrics and the outputs' loss trackers for this compile,
    made once (the first fit or evaluate's targets choose what "accuracy" means). A step
    that computes its own loss (compile without one) has the loss tracker alone."""
    args = trainer.args
    if model not in _MADE and args.loss is None and not args.metrics and \
            not args.weighted_metrics:
        _MADE[model] = [Mean(name="loss")]
    if model not in _MADE:
        spec = trainer.spec
        outputs = [tuple(t.shape) for t in model.outputs] if model.built and \
            getattr(model, "outputs", None) else []
        y_shapes = _shapes(y, spec.output_names) or outputs
        made = [Mean(name="loss")]
        if any(spec.metrics) or any(spec.weighted_metrics or []):
            made.append(CompileMetrics(resolve_metrics(spec, y_shapes, outputs),
                                       spec.output_names))
        if len(spec.output_names) > 1:
            made += [Mean(name=f"{name}_loss") for name, loss in
                     zip(spec.output_names, spec.losses) if loss is not None]
        _MADE[model] = made
    return list(_MADE[model])


def held_metrics(model) -> list:
    """Metrics held in the model's attributes, in the order they were set (Keras's)."""
    return [v for v in vars(model).values() if isinstance(v, Metric)]
