"""Keras's `model.metrics` after a run: the loss tracker, the compiled metrics, the outputs'
loss trackers, each holding the values the last fit/evaluate/*_on_batch ended with."""
import jax.numpy as jnp

from ..metrics import Mean, Metric


class CompileMetrics(Metric):
    """Keras's `compile_metrics`: the compiled metrics as one; `result()` is their logs."""

    def __init__(self, metrics, results, name="compile_metrics"):
        super().__init__(name=name)
        self.metrics = list(metrics)
        self._results = {k: jnp.asarray(v, jnp.float32) for k, v in results.items()}

    def init(self):
        return {}

    def result(self, state=None):
        """Each compiled metric's log name -> its value at the end of the last run."""
        return dict(self._results)


def _tracker(name, value):
    tracker = Mean(name=name)
    if value is not None:
        tracker.update_state(jnp.asarray(value, jnp.float32))
    return tracker


def model_metrics(spec, slots, logs) -> list:
    """Keras 3's `model.metrics` once compiled: `loss`, then `compile_metrics` (when
    compile was given metrics), then `<output>_loss` per trained output of several."""
    logs = logs or {}
    trackers = [_tracker("loss", logs.get("loss"))]
    if any(spec.metrics) or any(spec.weighted_metrics or []):
        results = {slot.key: logs[slot.key] for slot in slots if slot.key in logs}
        trackers.append(CompileMetrics([slot.metric for slot in slots], results))
    if len(spec.output_names) > 1:
        trackers += [_tracker(f"{name}_loss", logs.get(f"{name}_loss"))
                     for name, loss in zip(spec.output_names, spec.losses) if loss is not None]
    return trackers


def metrics_result(trackers) -> dict:
    """Keras's `get_metrics_result()`: every tracker's value, compiled metrics flattened."""
    out = {}
    for tracker in trackers:
        value = tracker.result()
        if isinstance(value, dict):
            out.update(value)
        else:
            out[tracker.name] = value
    return out
