"""The dispatch loop: fit, evaluate and train_on_batch around the compiled chunks.

Host work (callbacks, the progress bar, reading metrics back) happens only between
dispatches; the running logs are read back per dispatch only when a progress bar or a
batch-level callback needs them, otherwise once per epoch.
"""
from __future__ import annotations

import itertools
import sys
import time
import warnings

import jax
import jax.numpy as jnp
import numpy as np

from .. import losses as losses_module
from ..interpret import logits_plan
from .. import naming
from ..callbacks import Callback, CallbackList, History, TerminateOnNaN
from . import data as data_module
from .devices import resolve as resolve_devices
from .spec import CompileArgs, resolve, resolve_metrics, steps_per_dispatch
from . import heads as heads_module
from .step import Losses, Program, distinct_buffers


@jax.jit
def _copy_replicated(tree):
    return jax.tree_util.tree_map(jnp.copy, tree)


def _copy(tree, placement=None):
    """Fresh buffers for every leaf: what the compiled chunks donate is never an array a
    user was handed, and no two leaves share a buffer. On one device a transfer call that
    compiles nothing; arrays spread over devices (or hosts) are copied by a compiled copy."""
    if placement is None:
        return jax.device_put(tree, may_alias=False)
    return _copy_replicated(tree)


class Trainer:
    """What compile leaves on a model: its arguments, the resolved spec, the programs
    compiled for it (one per metric set, trainable mask and stop rule, so a second fit
    reuses the first's compile), and the training state that is not the model's weights:
    optimizer state, step count, loss weights and the first non-finite batch index."""

    def __init__(self, model, args: CompileArgs):
        self.model, self.args = model, args
        self.optimizer = args.optimizer
        self._programs = {}
        self._spec = None
        self.placement = resolve_devices(args.devices)   # None: the default device
        self.step = None                  # device int32: optimizer steps so far (rng stream)
        self.trainable_key = None         # the trainable mask the optimizer state was made for
        self.loss_weights = None          # device float32 (trained outputs,): w_i, or s_i learned
        self.fixed_weights = None         # host float32 copy of fixed w_i (None when learned)
        self.nonfinite_batch = -1         # first batch of the last epoch whose loss was not finite

    # ---- the spec and the programs ------------------------------------------------------
    @property
    def spec(self):
        """The spec for the model's current outputs (an unbuilt Sequential has none until
        it is built, so this is resolved on first use)."""
        names = self.model.output_names
        if self._spec is None or self._spec.output_names != names:
            self._spec = resolve(self.args, names)
            self._programs = {}
            self.loss_weights = None
        return self._spec

    def check(self):
        """Resolve the spec now: a dict key that names no output fails at compile."""
        return self.spec

    def _trainable(self):
        return tuple(bool(t) for t in jax.tree_util.tree_leaves(self.model.trainable_mask()))

    def program(self, metrics, stop_on_nonfinite=False, one_hot=frozenset()) -> Program:
        """`one_hot`: the outputs whose targets are one-hot rows in all the data this
        program will see (see `ArraySource.one_hot`)."""
        spec, model = self.spec, self.model
        trainable = self._trainable()
        one_hot = frozenset(one_hot)
        key = (trainable, bool(stop_on_nonfinite), one_hot,
               tuple((slot.output, slot.key, slot.weighted, type(slot.metric).__name__,
                      repr(sorted(slot.metric.get_config().items()))) for slot in metrics))
        if key not in self._programs:
            trained = spec.trained_outputs
            losses = Losses(fns=tuple(spec.losses[i] for i in trained), outputs=tuple(trained),
                            names=tuple(spec.output_names[i] for i in trained),
                            reduction=spec.loss_reduction, learned=spec.learned_weights,
                            log_each=len(spec.output_names) > 1,
                            behind=_behind_activation(model, spec, trained, one_hot))
            heads = None
            if spec.head_diagnostics or spec.grad_combine == "pcgrad":
                trunk = heads_module.trunk_layers(model, trained)
                heads = heads_module.Heads(
                    names=losses.names,
                    trunk=heads_module.trunk_mask(model.params, trainable, trunk),
                    diagnostics=spec.head_diagnostics, pcgrad=spec.grad_combine == "pcgrad",
                    activity=model.has_activity_regularizer)
            self._programs[key] = Program(
                model.run_with_losses, model.weight_penalty, self.optimizer.tx, losses, metrics,
                trainable, uses_rng=model.uses_rng, heads=heads,
                stop_on_nonfinite=stop_on_nonfinite, placement=self.placement,
                scale_loss=self.optimizer.scale_loss,
                constrain=model.apply_constraints if model.has_constraints else None)
        self.ensure_state(trainable)
        return self._programs[key]

    def one_hot_candidates(self) -> tuple:
        """The outputs trained with a categorical crossentropy: their losses compile
        faster when the targets are known to be one-hot rows."""
        return tuple(i for i, loss in enumerate(self.spec.losses)
                     if getattr(loss, "fn", None) is losses_module.categorical_crossentropy)

    @property
    def pad_tail(self) -> bool:
        """Whether a ragged last batch may be padded and masked with exactly the numbers of
        the unpadded one: every loss reduces by a rule the mask can correct, and no layer
        sees the padded rows in a way the mask cannot undo (batch statistics, activity
        penalties). Otherwise the last batch keeps its own size (one compile per size)."""
        model = self.model
        if model.has_activity_regularizer or model.batch_dependent:
            return False
        return all(losses_module.maskable(loss) for loss in self.spec.losses if loss is not None)

    # ---- the training state -------------------------------------------------------------
    def ensure_state(self, trainable=None):
        """Loss weights, step and optimizer state, made when first needed; the optimizer
        state is made again when the set of trainable weights changed."""
        spec = self.spec
        if self.loss_weights is None:
            n = len(spec.trained_outputs)
            self._set_weights(np.zeros((n,), np.float32) if spec.learned_weights else
                              np.asarray([spec.loss_weights[i] for i in spec.trained_outputs],
                                         np.float32))
        if self.step is None:
            self.step = jnp.zeros((), jnp.int32)
        trainable = self._trainable() if trainable is None else trainable
        if self.trainable_key != trainable or self.optimizer.state is None:
            leaves = jax.tree_util.tree_leaves(self.model.params)
            train = [leaf for leaf, t in zip(leaves, trainable) if t]
            self.optimizer.init((train, self.loss_weights) if spec.learned_weights else train)
            self.trainable_key = trainable

    @property
    def opt_state(self):
        self.ensure_state()
        return self.optimizer.state

    @opt_state.setter
    def opt_state(self, value):
        self.ensure_state()
        self.optimizer.state = value

    def take(self, program, trackers):
        """The carry for a run of dispatches: copies of everything a user can hold."""
        model = self.model
        carry = {"params": model.params, "state": model.state, "opt_state": self.optimizer.state,
                 "loss_weights": self.loss_weights, "step": self.step}
        carry = _copy(carry, program.placement)
        carry["trackers"] = distinct_buffers(trackers)
        return program.place(carry)

    def current_carry(self, program, trackers):
        """The carry made of the model's own arrays, for a dispatch that donates nothing."""
        model = self.model
        return program.place({"params": model.params, "state": model.state,
                              "opt_state": self.optimizer.state,
                              "loss_weights": self.loss_weights, "step": self.step,
                              "trackers": trackers})

    def finish(self, carry):
        """The end of a run of dispatches: the model takes the carry itself (no copy: it is
        not donated again)."""
        self.model.params, self.model.state = carry["params"], carry["state"]
        self.optimizer.state, self.loss_weights = carry["opt_state"], carry["loss_weights"]
        self.step = carry["step"]

    # ---- loss weights as the user sees them ---------------------------------------------
    def get_loss_weights(self) -> dict:
        spec = self.spec
        self.ensure_state()
        values = np.asarray(jax.device_get(self.loss_weights), np.float64)
        if spec.learned_weights:
            values = np.exp(-values)
        return {spec.output_names[i]: float(v) for i, v in zip(spec.trained_outputs, values)}

    def set_loss_weights(self, weights):
        spec = self.spec
        if not isinstance(weights, dict):
            raise TypeError(f"loss_weights: assign a dict output name -> weight, received "
                            f"{type(weights).__name__}")
        names = [spec.output_names[i] for i in spec.trained_outputs]
        unknown = [k for k in weights if k not in names]
        if unknown:
            raise KeyError(f"loss_weights: key(s) {unknown} name no trained output; the "
                           f"trained outputs are {names}")
        current = self.get_loss_weights()
        for name, w in weights.items():
            if not isinstance(w, (int, float, np.number)) or isinstance(w, bool) or not w >= 0 \
                    or not np.isfinite(w):
                raise ValueError(f"loss_weights: the weight of output '{name}' must be a finite "
                                 f"number >= 0, received {w!r}")
            if spec.learned_weights and w == 0:
                raise ValueError(f"loss_weights: output '{name}' has a learned weight exp(-s), "
                                 f"which cannot be 0")
            current[name] = float(w)
        values = np.asarray([current[n] for n in names], np.float32)
        if spec.loss_reduction == "mean" and not spec.learned_weights and values.sum() == 0:
            raise ValueError("loss_weights: the weights of the trained outputs sum to 0, so "
                             "their weighted mean is undefined")
        if spec.learned_weights:
            values = -np.log(values)
        self._set_weights(values)

    def _set_weights(self, values):
        """Fixed weights are also kept on the host: the chunks take their scale as data, so
        nothing is read back from the device to compute it."""
        values = np.asarray(values, np.float32)
        self.loss_weights = jnp.asarray(values)
        self.fixed_weights = None if self.spec.learned_weights else values

    def scale(self, program):
        """The fixed-weight scale the chunks take (see Program.scale); `program()` made the
        state, so this is host arithmetic only (it runs before every watched dispatch)."""
        return program.scale(self.fixed_weights)


def _behind_activation(model, spec, trained, one_hot) -> tuple:
    """Per trained output, its crossentropy computed from the logits behind a softmax or
    sigmoid output layer, or None: Keras's values at the compile cost of logits."""
    plan = logits_plan(model.graph)
    return tuple(losses_module.behind_activation(spec.losses[i], plan[i], i in one_hot)
                 if plan[i] else None for i in trained)


def trainer_of(model, who):
    trainer = getattr(model, "_trainer", None)
    if trainer is None:
        raise ValueError(f"{who}: model '{model.name}' must be compiled first: call "
                           f"model.compile(optimizer=..., loss=...) before {who}")
    return trainer


# ---- data sources --------------------------------------------------------------------------
def _is_batches(x, y):
    """fit(x) with y None: x must be an iterable of (x, y) batches."""
    return y is None and not isinstance(x, (np.ndarray, jax.Array, dict))


class ArraySource:
    """Arrays on the device; chunks of K batches, then a ragged tail that keeps its own size
    when it cannot be masked. Each chunk is (data, start, count, offset, rows): `rows` is
    (index of the padded batch in `data`, its real rows), or None."""

    def __init__(self, batch, batch_size, shuffle, placement=None, who="fit", pad_tail=False,
                 one_hot_check=()):
        self.data = data_module.DeviceData(batch, batch_size, shuffle, placement, who, pad_tail)
        self.steps = self.data.steps
        self.shapes = batch
        # Of the outputs `one_hot_check` names, those whose targets are all one-hot rows.
        self.one_hot = frozenset(i for i in one_hot_check
                                 if losses_module.one_hot_rows(batch[1][i]))

    def chunks(self, k, key=None):
        stacked, tail = self.data.epoch(key)
        steps, rows = self.data.stacked_steps, self.data.rows
        for start in range(0, steps, k):
            yield stacked, start, min(k, steps - start), 0, rows
        if tail is not None:
            yield tail, 0, 1, steps, None


class IterableSource:
    """An iterable of (x, y[, sample_weight]) batches, stacked K at a time on the host."""

    one_hot = frozenset()          # batches not seen yet: nothing is known about them

    def __init__(self, source, model, trainer, who):
        self.source, self.model, self.spec, self.who = source, model, trainer.spec, who
        placement = trainer.placement
        self.put = jax.device_put if placement is None else placement.put_stacked
        self.steps = len(source) if hasattr(source, "__len__") else None
        self.used = False
        first = self._peek()
        self.shapes = data_module._as_batch(first, model, self.spec, who)

    def _peek(self):
        iterator = iter(self.source)
        try:
            first = next(iterator)
        except StopIteration:
            raise ValueError(f"{self.who}: the iterable of batches is empty") from None
        self._pending = itertools.chain([first], iterator)
        return first

    def chunks(self, k, key=None):
        if self._pending is None:
            iterator = iter(self.source)
            if iterator is self.source:
                raise ValueError(f"{self.who}: the iterator of batches was used up after one "
                                 f"epoch; pass a re-iterable (a list, or an object whose "
                                 f"__iter__ starts over) to train for several epochs")
        else:
            iterator, self._pending = self._pending, None
        for data, count, offset in data_module.batch_chunks(iterator, self.model, self.spec, k,
                                                            self.who, self.put):
            yield data, 0, count, offset, None


_END = object()


class EpochWindow:
    """fit(steps_per_epoch=N), as Keras: each epoch takes the next N batches, continuing
    where the previous epoch stopped. An epoch that reaches the end of a pass over the
    data stops there (with a warning when it is short of N batches) and the next epoch
    starts a new pass (reshuffled); an iterator that cannot start over ends training.
    Batch indices given to callbacks count from 0 in every epoch."""

    def __init__(self, source, steps_per_epoch: int, who="fit"):
        self.source, self.steps, self.who = source, int(steps_per_epoch), who
        self.shapes, self.one_hot = source.shapes, source.one_hot
        self.position = 0              # batches of the current pass already used
        self.pass_data = None          # arrays: the current pass's (stacked, tail)
        self.iterator = None           # iterables: the current pass's iterator
        self.exhausted = False         # a one-shot iterator ran out: no more epochs

    def chunks(self, k, key=None):
        if isinstance(self.source, ArraySource):
            yield from self._array_chunks(k, key)
        else:
            yield from self._iterable_chunks(k)

    def _array_chunks(self, k, key):
        data = self.source.data
        if self.position == 0:
            self.pass_data = data.epoch(key)
        stacked, tail = self.pass_data
        lo = self.position
        hi = min(lo + self.steps, data.steps)
        stacked_hi = min(hi, data.stacked_steps)
        for start in range(lo, stacked_hi, k):
            yield stacked, start, min(k, stacked_hi - start), -lo, data.rows
        if hi > data.stacked_steps:        # an unmasked ragged tail ends this epoch
            yield tail, 0, 1, data.stacked_steps - lo, None
        self._advance(hi - lo, ended=hi == data.steps)

    def _iterable_chunks(self, k):
        one_shot = iter(self.source.source) is self.source.source
        for _ in range(2):
            if self.iterator is None:
                self.iterator, self.position = self._fresh_iterator(), 0
            used = 0
            window = itertools.islice(self.iterator, self.steps)
            for data, count, offset in data_module.batch_chunks(
                    window, self.source.model, self.source.spec, k, self.who, self.source.put):
                used += count
                yield data, 0, count, offset, None
            if used or one_shot:
                break
            self.iterator = None         # a re-iterable ended on the last epoch's boundary
        length = self.source.steps       # len() of the iterable, or None
        ended = used < self.steps or (length is not None and self.position + used >= length)
        if one_shot and not ended:       # peek: a generator that has just ended ends training
            following = next(self.iterator, _END)
            ended = following is _END
            if not ended:
                self.iterator = itertools.chain([following], self.iterator)
        if ended:
            self.iterator = None
            self.exhausted = one_shot
        self._advance(used, ended)

    def _fresh_iterator(self):
        pending = getattr(self.source, "_pending", None)
        if pending is not None:            # the batches peeked at to learn the shapes
            self.source._pending = None
            return pending
        return iter(self.source.source)

    def _advance(self, used, ended):
        if ended and (used < self.steps or self.exhausted):
            warnings.warn(f"{self.who}: the data ran out after {used} of the "
                          f"steps_per_epoch={self.steps} batches of this epoch; "
                          + ("training stops: pass a re-iterable (a list, a PyDataset) or an "
                             "endless generator to train longer" if self.exhausted else
                             "the next epoch starts a new pass over the data"), stacklevel=4)
        self.position = 0 if ended else self.position + used


def _shapes(source, model):
    xs, ys, _ = source.shapes
    return ([None if y is None else tuple(y.shape) for y in ys],
            [tuple(t.shape) for t in model.outputs])


def make_source(model, trainer, x, y, sample_weight, class_weight, batch_size, shuffle, who):
    if _is_batches(x, y):
        if sample_weight is not None or class_weight is not None:
            raise ValueError(f"{who}: with an iterable of batches, give sample weights inside "
                             f"the batches as (x, y, sample_weight)")
        return IterableSource(x, model, trainer, who)
    batch = data_module.prepare(model, trainer.spec, x, y, sample_weight, class_weight, who)
    return ArraySource(batch, batch_size, shuffle, trainer.placement, who, trainer.pad_tail,
                       trainer.one_hot_candidates())


def check_batch_size(batch_size, who):
    """None -> 32; anything but a positive int (2.7, "8", True) is a clear error."""
    if batch_size is None:
        return 32
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"{who}: batch_size must be a positive int, received {batch_size!r}")
    return int(batch_size)


def _check_flag(value, name, who):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{who}: {name} must be True or False, received {value!r}")
    return bool(value)


# ---- progress --------------------------------------------------------------------------------
def _fmt(logs):
    """One line of logs; a metric with a vector result (F1Score per class) prints its values."""
    def value(v):
        if np.ndim(v):
            return np.array2string(np.asarray(v), precision=4, separator=", ")
        return f"{v:.4g}"
    return " - ".join(f"{k}: {value(v)}" for k, v in logs.items())


class Progress:
    """A tqdm bar per epoch (verbose=1), one line per epoch (verbose=2), or nothing (0)."""

    def __init__(self, verbose, epochs):
        self.verbose, self.epochs, self.bar = verbose, epochs, None

    def begin(self, epoch, total, desc=None):
        self.t0 = time.perf_counter()
        if self.verbose == 1:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, desc=desc or f"Epoch {epoch + 1}/{self.epochs}", unit="step",
                            file=sys.stdout, dynamic_ncols=True, leave=True)

    def update(self, count, logs):
        if self.bar is not None:
            self.bar.update(count)
            self.bar.set_postfix_str(_fmt(logs), refresh=False)

    def end(self, epoch, logs):
        if self.bar is not None:
            self.bar.set_postfix_str(_fmt(logs), refresh=False)
            self.bar.close()
            self.bar = None
        elif self.verbose == 2:
            print(f"Epoch {epoch + 1}/{self.epochs} - {time.perf_counter() - self.t0:.1f}s - "
                  f"{_fmt(logs)}", flush=True)


def _verbosity(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', received {verbose!r}")
    return int(verbose)


# ---- fit -------------------------------------------------------------------------------------
def fit(model, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
        validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
        sample_weight=None, initial_epoch=0, steps_per_epoch=None):
    who = "fit"
    if steps_per_epoch is not None and (not isinstance(steps_per_epoch, (int, np.integer))
                                        or isinstance(steps_per_epoch, bool)
                                        or steps_per_epoch < 1):
        raise ValueError(f"{who}: steps_per_epoch must be a positive int or None, received "
                         f"{steps_per_epoch!r}")
    trainer = trainer_of(model, who)
    verbose = _verbosity(verbose)
    batch_size = check_batch_size(batch_size, who)
    if not isinstance(epochs, (int, np.integer)) or isinstance(epochs, bool) or epochs < 0:
        raise ValueError(f"{who}: epochs must be an int >= 0, received {epochs!r}")
    if not isinstance(initial_epoch, (int, np.integer)) or isinstance(initial_epoch, bool) \
            or initial_epoch < 0:
        raise ValueError(f"{who}: initial_epoch must be an int >= 0, received {initial_epoch!r}")
    shuffle = _check_flag(shuffle, "shuffle", who)
    if x is None:
        raise ValueError(f"{who}: x is required (arrays, or an iterable of (x, y) batches)")
    spec = trainer.spec
    if _is_batches(x, y):
        if validation_split:
            raise ValueError(f"{who}: validation_split needs arrays; with an iterable of batches "
                             f"pass validation_data")
        source = IterableSource(x, model, trainer, who)
        val_source = None
    else:
        batch = data_module.prepare(model, spec, x, y, sample_weight, class_weight, who)
        n = batch[0][0].shape[0]
        batch, val_batch = data_module.split_validation(batch, validation_split, n, who)
        candidates = trainer.one_hot_candidates()
        source = ArraySource(batch, batch_size, shuffle, trainer.placement, who, trainer.pad_tail,
                             candidates)
        val_source = None if val_batch is None else ArraySource(
            val_batch, batch_size, False, trainer.placement, "fit (validation_split)",
            trainer.pad_tail, candidates)
    if validation_data is not None:
        val_source = _validation_source(model, trainer, validation_data, batch_size)
    if steps_per_epoch is not None:
        source = EpochWindow(source, steps_per_epoch, who)

    metrics = resolve_metrics(spec, *_shapes(source, model))
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
    progress = Progress(verbose, epochs)
    model.stop_training = False
    model.history = history
    cbs.on_train_begin(None)
    logs = {}
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch, None)
        progress.begin(epoch, source.steps)
        epoch_key = None if shuffle_key is None else jax.random.fold_in(shuffle_key, epoch)
        logs = _train_epoch(trainer, program, source.chunks(k, epoch_key), key, cbs,
                            progress, epoch)
        if val_source is not None:
            val_k = steps_per_dispatch(spec.steps_per_execution, val_source.steps, False)
            val_logs = _evaluate_source(program, trainer, val_source, val_k)
            logs.update({f"val_{name}": value for name, value in val_logs.items()})
        cbs.on_epoch_end(epoch, logs)
        progress.end(epoch, logs)
        if model.stop_training or getattr(source, "exhausted", False):
            break
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
    at the end."""
    if cbs.wants_batch_logs:
        return _train_epoch_watched(trainer, program, chunks, key, cbs, progress, epoch)
    carry = trainer.take(program, program.init_trackers())
    scale = trainer.scale(program)
    out_logs, pending = None, None
    try:
        for data, start, count, offset, rows in chunks:
            cbs.on_train_batch_begin(offset + start, None)
            carry, out_logs = program.train_chunk(carry, data, start, start + count, offset, key,
                                                  rows, scale)
            if progress.bar is not None:
                # The bar shows the previous dispatch, read while this one runs, so the
                # device never waits for the host.
                if pending is not None:
                    progress.update(pending[0], program.read(pending[1])[0])
                pending = (count, out_logs)
    finally:
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
        carry, out_logs = program.train_chunk_kept(trainer.current_carry(program, trackers),
                                                   data, start, start + count, offset, key,
                                                   rows, trainer.scale(program))
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


def _validation_source(model, trainer, validation_data, batch_size):
    who = "fit (validation_data)"
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3) \
            and not _is_batch_list(validation_data):
        vx, vy, *vsw = validation_data
        batch = data_module.prepare(model, trainer.spec, vx, vy, vsw[0] if vsw else None,
                                    None, who)
        return ArraySource(batch, batch_size, False, trainer.placement, who, trainer.pad_tail,
                           trainer.one_hot_candidates())
    return IterableSource(validation_data, model, trainer, who)


def _is_batch_list(value) -> bool:
    """A list whose items are (x, y) batches, rather than [x, y] arrays."""
    return isinstance(value, list) and all(isinstance(v, tuple) and len(v) in (2, 3)
                                           for v in value)


def _evaluate_source(program, trainer, source, k, progress=None):
    """Loss and metrics over a whole source, in dispatches of k batches."""
    model = trainer.model
    trainer.ensure_state()
    trackers, params, state, weights = program.place((
        distinct_buffers(program.init_trackers(training=False)), model.params, model.state,
        trainer.loss_weights))
    scale = trainer.scale(program)
    out_logs = None
    # Without a progress bar nothing is read until the end, so one dispatch per K batches
    # costs no host round trip.
    for data, start, count, offset, rows in source.chunks(k):
        (trackers, state), out_logs = program.eval_chunk(trackers, params, state, weights,
                                                         data, start, start + count, offset,
                                                         rows, scale)
        if progress is not None:
            progress.update(count, program.read(out_logs, training=False)[0])
    if out_logs is None:
        raise ValueError("evaluate: received no batches")
    model.state = state          # Keras keeps what inference changed (SeedGenerator counters)
    return program.read(out_logs, training=False)[0]


# ---- evaluate and single batches -------------------------------------------------------------
def evaluate(model, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
             return_dict=False, callbacks=None):
    who = "evaluate"
    trainer = trainer_of(model, who)
    verbose = _verbosity(verbose)
    batch_size = check_batch_size(batch_size, who)
    source = make_source(model, trainer, x, y, sample_weight, None, batch_size, False, who)
    program = trainer.program(resolve_metrics(trainer.spec, *_shapes(source, model)),
                              one_hot=source.one_hot)
    cbs = CallbackList(callbacks or [], model, {"steps": source.steps, "verbose": verbose})
    cbs.on_test_begin(None)
    progress = Progress(verbose, 1) if verbose == 1 else None
    if progress is not None:
        progress.begin(0, source.steps, desc="Evaluate")
    k = steps_per_dispatch(trainer.spec.steps_per_execution, source.steps, progress is not None)
    logs = _evaluate_source(program, trainer, source, k, progress)
    if progress is not None:
        progress.end(0, logs)
    elif verbose == 2:
        print(_fmt(logs), flush=True)
    cbs.on_test_end(logs)
    return _result(logs, return_dict, program)


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


def train_on_batch(model, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
    """One optimizer step on one batch; the loss and metrics of that batch, as Keras 3 (whose
    train_on_batch resets the metrics first)."""
    trainer = trainer_of(model, "train_on_batch")
    batch = data_module.prepare(model, trainer.spec, x, y, sample_weight, class_weight,
                                "train_on_batch")
    source = ArraySource(batch, batch[0][0].shape[0], False, trainer.placement, "train_on_batch",
                         one_hot_check=trainer.one_hot_candidates())
    program = trainer.program(resolve_metrics(trainer.spec, *_shapes(source, model)),
                              one_hot=source.one_hot)
    (data, start, count, offset, rows), = source.chunks(1)
    key = jax.random.key(naming.next_seed())
    carry = trainer.take(program, program.init_trackers())
    carry, out_logs = program.train_chunk(carry, data, start, start + count, offset, key, rows,
                                          trainer.scale(program))
    trainer.finish(carry)
    return _result(program.read(out_logs)[0], return_dict, program)


def test_on_batch(model, x, y=None, sample_weight=None, return_dict=False):
    """Loss and metrics of one batch, without training."""
    trainer = trainer_of(model, "test_on_batch")
    batch = data_module.prepare(model, trainer.spec, x, y, sample_weight, None, "test_on_batch")
    source = ArraySource(batch, batch[0][0].shape[0], False, trainer.placement, "test_on_batch",
                         one_hot_check=trainer.one_hot_candidates())
    program = trainer.program(resolve_metrics(trainer.spec, *_shapes(source, model)),
                              one_hot=source.one_hot)
    return _result(_evaluate_source(program, trainer, source, 1), return_dict, program)
