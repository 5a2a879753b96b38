"""The dispatch loop: fit, evaluate and train_on_batch around the compiled chunks.

Host work (callbacks, the progress bar, reading metrics back) happens only between
dispatches; the running logs are read back per dispatch only when a progress bar or a
batch-level callback needs them, otherwise once per epoch.
"""
from __future__ import annotations

import jax
import numpy as np

from .. import naming
from ..callbacks import Callback, CallbackList, History, ProgbarLogger, TerminateOnNaN
from ..optimizers.ema import finalize_variable_values
from . import data as data_module
from .guard import held_interrupts, intact
from .progress import Progress, check_batch_size, check_flag, fmt, verbosity
from .sources import (ArraySource, EpochWindow, IterableSource, is_batches, make_source,
                      shapes, validation_source)
from .spec import resolve_metrics, steps_per_dispatch
from .trainer import compiled, fresh

# ---- fit -------------------------------------------------------------------------------------
def fit(model, trainer, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
        sample_weight=None, initial_epoch=0, steps_per_epoch=None):
    who = "fit"
    if steps_per_epoch is not None and (not isinstance(steps_per_epoch, (int, np.integer))
                                        or isinstance(steps_per_epoch, bool)
                                        or steps_per_epoch < 1):
        raise ValueError(f"{who}: steps_per_epoch must be a positive int or None, received "
                         f"{steps_per_epoch!r}")
    trainer = compiled(trainer, model, who)
    verbose = verbosity(verbose)
    batch_size = check_batch_size(batch_size, who)
    if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"{who}: epochs must be an int >= 0, received {epochs!r}")
    if not isinstance(initial_epoch, (int, np.integer)) or isinstance(initial_epoch, bool) \
            or initial_epoch < 0:
        raise ValueError(f"{who}: initial_epoch must be an int >= 0, received {initial_epoch!r}")
    shuffle = check_flag(shuffle, "shuffle", who)
    if x is None:
        raise ValueError(f"{who}: x is required (arrays, or an iterable of (x, y) batches)")
    spec = trainer.spec
    if is_batches(x, y):
        if validation_split:
            raise ValueError(f"{who}: validation_split needs arrays; with an iterable of batches "
                             f"pass validation_data")
        source = IterableSource(x, trainer, who)
        val_source = None
    else:
        batch = data_module.prepare(trainer.view(), spec, x, y, sample_weight, class_weight, who)
        n = batch[0][0].shape[0]
        batch, val_batch = data_module.split_validation(batch, validation_split, n, who)
        candidates = trainer.one_hot_candidates()
        source = ArraySource(batch, batch_size, shuffle, trainer.placement, who, trainer.pad_tail,
                             candidates)
        val_source = None if val_batch is None else ArraySource(
            val_batch, batch_size, False, trainer.placement, "fit (validation_split)",
            trainer.pad_tail, candidates)
    if validation_data is not None:
        val_source = validation_source(trainer, validation_data, batch_size)
    if steps_per_epoch is not None:
        source = EpochWindow(source, steps_per_epoch, who)

    metrics = resolve_metrics(spec, *shapes(source, trainer.view()))
    callbacks = _callback_list(callbacks, who)
    stop_on_nonfinite = any(isinstance(cb, TerminateOnNaN) for cb in callbacks)
    one_hot = source.one_hot if val_source is None else source.one_hot & val_source.one_hot
    program = trainer.program(metrics, stop_on_nonfinite, one_hot)
    key = jax.random.key(naming.next_seed())
    shuffle_key = jax.random.key(naming.next_seed()) if shuffle else None

    history = History()
    cbs = CallbackList([*callbacks, history], model,
                       {"epochs": epochs, "steps": source.steps, "verbose": verbose})
    k = steps_per_dispatch(spec.steps_per_execution, source.steps,
                           cbs.wants_batch_logs or verbose == 1, per_batch=cbs.wants_batch_logs)
    # The user's ProgbarLogger draws the bar if one was passed, as in Keras: never two bars.
    progress = next((cb for cb in callbacks if isinstance(cb, ProgbarLogger)), None) \
        or Progress(verbose, epochs)
    model.stop_training = False
    model.history = history
    cbs.on_train_begin(None)
    initial_epoch = cbs.initial_epoch(initial_epoch)     # BackupAndRestore resumes
    logs = {}
    try:
        for epoch in range(initial_epoch, epochs):
            cbs.on_epoch_begin(epoch, None)
            progress.begin(epoch, source.steps)
            epoch_key = None if shuffle_key is None else jax.random.fold_in(shuffle_key, epoch)
            logs = _train_epoch(trainer, program, source.chunks(k, epoch_key), key, cbs,
                                progress, epoch)
            record(trainer, program, logs)
            if val_source is not None:
                val_k = steps_per_dispatch(spec.steps_per_execution, val_source.steps, False,
                                           per_batch=cbs.wants_test_batch_logs)
                cbs.on_test_begin(None)
                val_logs = _evaluate_source(program, trainer, val_source, val_k, cbs=cbs)
                cbs.on_test_end(val_logs)
                record(trainer, program, val_logs)     # Keras's metrics end on validation's
                logs.update({f"val_{name}": value for name, value in val_logs.items()})
            cbs.on_epoch_end(epoch, logs)
            progress.end(epoch, logs)
            if model.stop_training or getattr(source, "exhausted", False):
                break
    finally:
        if epochs > 0:      # Keras's finalize_variable_values: the model takes the averages
            finalize_variable_values(model)
    cbs.on_train_end(logs)
    return history


def _callback_list(callbacks, who):
    if callbacks is None:
        return []
    if isinstance(callbacks, Callback):
        raise TypeError(f"{who}: callbacks must be a list of callbacks, received one "
                        f"{type(callbacks).__name__}; pass callbacks=[...]")
    if not isinstance(callbacks, (list, tuple)):
        raise TypeError(f"{who}: callbacks must be a list of graphnet.callbacks.Callback, "
                        f"received {type(callbacks).__name__}")
    return list(callbacks)


def _train_epoch(trainer, program, chunks, key, cbs, progress, epoch):
    """Dispatch the epoch's chunks; the epoch's logs, read back once at its end. The carry
    is private to this loop and donated from dispatch to dispatch; the model receives it
    at the end, or when anything stops the epoch: then the last completed dispatch's
    carry. Only an error raised inside a dispatch after it took the carry leaves nothing
    to receive; the model then keeps what it held before the epoch (the carry was a copy)."""
    if cbs.wants_batch_logs:
        return _train_epoch_watched(trainer, program, chunks, key, cbs, progress, epoch)
    carry = trainer.take(program, program.init_trackers())
    scale = trainer.scale(program)
    out_logs, pending = None, None
    try:
        for data, start, count, offset, rows in chunks:
            cbs.on_train_batch_begin(offset + start, None)
            with held_interrupts():     # a Ctrl-C waits until the result is bound
                carry, out_logs = program.train_chunk(carry, data, start, start + count,
                                                      offset, key, rows, scale)
            if progress.bar is not None:
                # The bar shows the previous dispatch, read while this one runs, so the
                # device never waits for the host.
                if pending is not None:
                    progress.update(pending[0], program.read(pending[1])[0])
                pending = (count, out_logs)
    finally:
        with held_interrupts():
            if intact(carry):
                trainer.finish(carry)
    if pending is not None:
        progress.update(pending[0], program.read(pending[1])[0])
    if out_logs is None:
        raise ValueError(f"fit: epoch {epoch + 1} received no batches")
    logs, trainer.nonfinite_batch = program.read(out_logs)
    return logs


def _train_epoch_watched(trainer, program, chunks, key, cbs, progress, epoch):
    """With batch hooks: the model holds the new weights after every dispatch and the hooks
    run with that dispatch's running logs. Nothing is donated, so the model's own arrays
    are the next dispatch's carry: no copies per batch, and whatever a hook assigns
    (weights, learning rate, loss weights) is what the next batch trains with."""
    model = trainer.model
    trackers, out_logs = program.init_trackers(), None
    for data, start, count, offset, rows in chunks:
        cbs.on_train_batch_begin(offset + start, None)
        with held_interrupts():         # the model takes the whole result, or none of it
            carry, out_logs = program.train_chunk_kept(
                trainer.current_carry(program, trackers), data, start, start + count, offset,
                key, rows, trainer.scale(program))
            trackers = carry["trackers"]
            trainer.finish(carry)
        batch_logs, trainer.nonfinite_batch = program.read(out_logs)
        progress.update(count, batch_logs)
        stopped = program.stop_on_nonfinite and trainer.nonfinite_batch >= 0
        cbs.on_train_batch_end(trainer.nonfinite_batch if stopped else offset + start + count - 1,
                               batch_logs)
        if model.stop_training or stopped:
            break
    if out_logs is None:
        raise ValueError(f"fit: epoch {epoch + 1} received no batches")
    return program.read(out_logs)[0]


def _evaluate_source(program, trainer, source, k, progress=None, cbs=None):
    """Loss and metrics over a whole source, in dispatches of k batches; the test batch
    hooks of `cbs` around each dispatch."""
    model = trainer.model
    trainer.ensure_state()
    trackers, params, state, weights = program.place((
        fresh(program.init_trackers(training=False)), model.params, model.state,
        trainer.loss_weights))
    scale = trainer.scale(program)
    out_logs = None
    # Without a progress bar nothing is read until the end, so one dispatch per K batches
    # costs no host round trip.
    for data, start, count, offset, rows in source.chunks(k):
        if cbs is not None:
            cbs.on_test_batch_begin(offset + start, None)
        (trackers, state), out_logs = program.eval_chunk(trackers, params, state, weights,
                                                         data, start, start + count, offset,
                                                         rows, scale)
        running = None
        if progress is not None or (cbs is not None and cbs.wants_test_batch_logs):
            running = program.read(out_logs, training=False)[0]
        if progress is not None:
            progress.update(count, running)
        if cbs is not None:
            cbs.on_test_batch_end(offset + start + count - 1, running)
    if out_logs is None:
        raise ValueError("evaluate: received no batches")
    model.state = state          # Keras keeps what inference changed (SeedGenerator counters)
    return program.read(out_logs, training=False)[0]


# ---- evaluate and single batches -------------------------------------------------------------
def evaluate(model, trainer, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
             return_dict=False, callbacks=None):
    who = "evaluate"
    trainer = compiled(trainer, model, who)
    verbose = verbosity(verbose)
    batch_size = check_batch_size(batch_size, who)
    source = make_source(trainer, x, y, sample_weight, None, batch_size, False, who)
    program = trainer.program(resolve_metrics(trainer.spec, *shapes(source, trainer.view())),
                              one_hot=source.one_hot)
    cbs = CallbackList(callbacks or [], model, {"steps": source.steps, "verbose": verbose})
    cbs.on_test_begin(None)
    progress = Progress(verbose, 1) if verbose == 1 else None
    if progress is not None:
        progress.begin(0, source.steps, desc="Evaluate")
    k = steps_per_dispatch(trainer.spec.steps_per_execution, source.steps, progress is not None,
                           per_batch=cbs.wants_test_batch_logs)
    logs = _evaluate_source(program, trainer, source, k, progress, cbs)
    if progress is not None:
        progress.end(0, logs)
    elif verbose == 2:
        print(fmt(logs), flush=True)
    cbs.on_test_end(logs)
    record(trainer, program, logs)
    return _result(logs, return_dict, program)


def record(trainer, program, logs):
    """Keep the last run's logs and metrics for `model.metrics` / `get_metrics_result()`."""
    trainer.last_logs, trainer.last_slots = dict(logs), list(program.metrics)


def _result(logs, return_dict, program):
    """A dict, or Keras's list: the loss, the per-output losses, the metrics whose log name
    is the metric's own name (one output) in compile order, then every other name sorted."""
    if return_dict:
        return logs
    first = ["loss", *(f"{name}_loss" for name in program.losses_spec.names)]
    first += [slot.key for slot in program.metrics if slot.key == slot.metric.name]
    order = [k for k in dict.fromkeys(first) if k in logs]
    order += sorted(k for k in logs if k not in order)
    values = [logs[k] for k in order]
    return values[0] if len(values) == 1 else values


def train_on_batch(model, trainer, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
    """One optimizer step on one batch; the loss and metrics of that batch, as Keras 3 (whose
    train_on_batch resets the metrics first)."""
    trainer = compiled(trainer, model, "train_on_batch")
    batch = data_module.prepare(trainer.view(), trainer.spec, x, y, sample_weight, class_weight,
                                "train_on_batch")
    source = ArraySource(batch, batch[0][0].shape[0], False, trainer.placement, "train_on_batch",
                         one_hot_check=trainer.one_hot_candidates())
    program = trainer.program(resolve_metrics(trainer.spec, *shapes(source, trainer.view())),
                              one_hot=source.one_hot)
    (data, start, count, offset, rows), = source.chunks(1)
    key = jax.random.key(naming.next_seed())
    carry = trainer.take(program, program.init_trackers())
    with held_interrupts():
        carry, out_logs = program.train_chunk(carry, data, start, start + count, offset, key,
                                              rows, trainer.scale(program))
        trainer.finish(carry)
    logs = program.read(out_logs)[0]
    record(trainer, program, logs)
    return _result(logs, return_dict, program)


def test_on_batch(model, trainer, x, y=None, sample_weight=None, return_dict=False):
    """Loss and metrics of one batch, without training."""
    trainer = compiled(trainer, model, "test_on_batch")
    batch = data_module.prepare(trainer.view(), trainer.spec, x, y, sample_weight, None, "test_on_batch")
    source = ArraySource(batch, batch[0][0].shape[0], False, trainer.placement, "test_on_batch",
                         one_hot_check=trainer.one_hot_candidates())
    program = trainer.program(resolve_metrics(trainer.spec, *shapes(source, trainer.view())),
                              one_hot=source.one_hot)
    logs = _evaluate_source(program, trainer, source, 1)
    record(trainer, program, logs)
    return _result(logs, return_dict, program)
