"""A Model subclass's own `train_step`, `test_step` and `predict_step` in Keras 3's JAX
form, run by `fit`, `evaluate`, `predict` and the `*_on_batch` methods.

The step is a pure function of `state = (trainable_variables, non_trainable_variables,
optimizer_variables, metrics_variables)` (lists of arrays) and one batch; it is traced
once, checked, and scanned K batches per compiled dispatch. The variables are written
back after every dispatch, so callbacks see the weights of the steps run so far.
"""
from __future__ import annotations

import inspect
import math
import weakref

import jax
import jax.numpy as jnp
import numpy as np

from . import naming
from .callbacks import CallbackList, History, wants_batch_logs
from .stateless import tree_signature, values
from .train.predict import batch_end_logs
from .train.progress import Progress, check_batch_size, verbosity
from .train.spec import steps_per_dispatch

# What each step's `state` holds, as in Keras 3's JAX trainer.
PARTS = {"train_step": ("trainable_variables", "non_trainable_variables",
                        "optimizer_variables", "metrics_variables"),
         "test_step": ("trainable_variables", "non_trainable_variables", "metrics_variables"),
         "predict_step": ("trainable_variables", "non_trainable_variables")}


def overrides(model, step: str) -> bool:
    """Whether `model`'s class (below Model) defines `step`."""
    for cls in type(model).__mro__:
        if cls.__name__ == "Model" and cls.__module__ == "graphnet.model":
            return False
        if step in vars(cls):
            return True
    return False


def step_metrics(model) -> list:
    """The metrics a custom step updates, in `metrics_variables` order: `model.metrics`
    (the subclass's own property, or Keras's list: compile's loss tracker and metrics, then
    those held in attributes)."""
    return list(model.metrics)


def metrics_variables(model) -> list:
    return [v for m in step_metrics(model) for v in m.variables]


def held_optimizers(model) -> list:
    """Built optimizers held in the model's attributes besides `model.optimizer` (a GAN's
    `d_optimizer` and `g_optimizer`), in attribute order. Keras's state has no place for
    their variables, so a step reads them (`[v.value for v in opt.variables]`) and
    assigns them; here they travel through the compiled steps beside the state."""
    return [v for v in vars(model).values()
            if hasattr(v, "stateless_apply") and v is not model.optimizer and v.built]


# ---- the data ---------------------------------------------------------------------------
def refuse_options(**given):
    """fit's options that a custom train_step does not take yet: a ValueError names them."""
    used = sorted(k for k, v in given.items() if v is not None and v != 0.0)
    if used:
        raise ValueError(f"fit with a custom train_step does not take {', '.join(used)} yet "
                         f"(compile(devices=...) included): it takes arrays, validation_data "
                         f"and runs on the default device")


def _batches(who, x, y, sample_weight):
    """Keras's `data`: x, (x, y) or (x, y, sample_weight), as NumPy leaves and a treedef."""
    parts = [x] + ([y] if y is not None else []) + \
        ([sample_weight] if sample_weight is not None else [])
    # Keras's pack_x_y_sample_weight: x alone is passed as it is, a list of inputs as (x,).
    data = x if len(parts) == 1 and not isinstance(x, (list, tuple)) else tuple(parts)
    leaves, treedef = jax.tree_util.tree_flatten(data)
    if not leaves:
        raise ValueError(f"{who}: x is required")
    leaves = [np.asarray(leaf) for leaf in leaves]
    if any(leaf.ndim == 0 or leaf.dtype == object for leaf in leaves):
        raise TypeError(f"{who} with a custom step takes arrays (x, y, sample_weight), each "
                        f"with a batch axis; an iterable of batches is not supported yet")
    n = leaves[0].shape[0]
    if any(leaf.shape[0] != n for leaf in leaves):
        raise ValueError(f"{who}: x, y and sample_weight must have the same number of samples, "
                         f"received {[leaf.shape[0] for leaf in leaves]}")
    for leaf in leaves:
        if leaf.dtype.kind in "iu" and leaf.size and (leaf.min() < np.iinfo(np.int32).min or
                                                      leaf.max() > np.iinfo(np.int32).max):
            raise ValueError(f"{who}: integer data outside the int32 range cannot reach the "
                             f"device unchanged (JAX computes in 32 bits)")
    return [jnp.asarray(leaf) for leaf in leaves], treedef, n


def check_signature(model, step: str):
    """Keras 3's JAX form takes (state, data); the TensorFlow form (data) cannot be run."""
    params = list(inspect.signature(getattr(model, step)).parameters)
    if len(params) < 2:
        raise TypeError(f"Model '{model.name}' ({type(model).__name__}) overrides {step}"
                        f"({', '.join(params)}): graphnet runs Keras 3's JAX form, "
                        f"{step}(self, state, data) returning "
                        f"{'y_pred' if step == 'predict_step' else '(logs, new_state)'} "
                        f"(docs: Custom training)")


class _Runner:
    """One step of a model, traced once per batch size and chunk length. It holds the
    model weakly (it is cached per model)."""

    def __init__(self, model, step: str, treedef):
        self.name, self.step, self.treedef = model.name, step, treedef
        check_signature(model, step)
        self.fn = weakref.WeakMethod(getattr(model, step))
        self.held = held_optimizers(model)
        self.order = None
        self._jitted = jax.jit(self._scan)

    def _one(self, carry, leaves):
        """One step on `carry = (state, held optimizers' values)`: the held optimizers
        stand for their traced values while the step runs (reads and `assign`s)."""
        state, held = carry
        saved = [opt.state for opt in self.held]
        try:
            for opt, values_ in zip(self.held, held):
                opt.state = jax.tree_util.tree_unflatten(
                    jax.tree_util.tree_structure(opt.state), values_)
            logs, new_state = self._checked(state, leaves)
            new_held = [jax.tree_util.tree_leaves(opt.state) for opt in self.held]
        finally:
            for opt, value in zip(self.held, saved):
                opt.state = value
        for opt, new, old in zip(self.held, new_held, held):
            if tree_signature(new) != tree_signature(old):
                raise ValueError(f"Model '{self.name}' {self.step}() changed the shapes or "
                                 f"dtypes of the variables of {type(opt).__name__} "
                                 f"optimizer it holds")
        return logs, (new_state, new_held)

    def _checked(self, state, leaves):
        data = jax.tree_util.tree_unflatten(self.treedef, leaves)
        out = self.fn()(state, data)
        predict = self.step == "predict_step"
        if not (isinstance(out, tuple) and len(out) == 2):
            wanted = "(outputs, non_trainable_variables)" if predict else "(logs, new_state)"
            length = f" of length {len(out)}" if isinstance(out, tuple) else ""
            raise TypeError(f"Model '{self.name}' {self.step}() must return {wanted}, as in "
                            f"Keras 3, received {type(out).__name__}{length}")
        logs, new_state = out
        if not predict:
            _check_logs(f"Model '{self.name}' {self.step}()", logs)
        self.order = _key_order(logs)
        if predict:
            self._check_state((state[0], new_state), state)
            return logs, (state[0], list(new_state))
        self._check_state(new_state, state)
        return logs, tuple(new_state)

    def _check_state(self, new_state, state):
        who = f"Model '{self.name}' {self.step}()"
        parts = PARTS[self.step]
        if not isinstance(new_state, (tuple, list)) or len(new_state) != len(state):
            length = f" of length {len(new_state)}" if isinstance(new_state, (tuple, list)) \
                else ""
            raise TypeError(f"{who} must return new_state = ({', '.join(parts)}) as it "
                            f"received it, received {type(new_state).__name__}{length}")
        for part, new, old in zip(parts, new_state, state):
            new_sig, old_sig = tree_signature(new), tree_signature(old)
            if len(new_sig) != len(old_sig):
                raise ValueError(f"{who} returned {len(new_sig)} {part}, received "
                                 f"{len(old_sig)}")
            for i, (a, b) in enumerate(zip(new_sig, old_sig)):
                if a != b:
                    raise ValueError(f"{who} returned {part}[{i}] with shape {a[0]} and dtype "
                                     f"{a[1]}, received shape {b[0]} and dtype {b[1]}: a step "
                                     f"may not change a variable's shape or dtype")

    def _scan(self, state, stacked):
        def body(carry, leaves):
            out, new = self._one(carry, leaves)
            return new, out
        state, outs = jax.lax.scan(body, state, stacked)
        return state, outs

    def check(self, state, leaves):
        """Trace one step on abstract values: a wrong structure, shape or dtype, or Python
        control flow on a traced value, fails here, before any weight changes."""
        try:
            return jax.eval_shape(self._one, state, leaves)
        except jax.errors.ConcretizationTypeError as err:
            raise TypeError(f"Model '{self.name}' {self.step}() branches in Python on a "
                            f"traced value; use jax.lax.cond or ops.where: {err}") from None

    def run(self, state, stacked):
        """The new state and the stacked outputs, logs in the order the step wrote them
        (JAX returns a dict's keys sorted)."""
        state, outs = self._jitted(state, stacked)
        return state, _in_order(outs, self.order)


def _check_logs(who, logs):
    """A step's logs: a dict of scalars (a dict of them under one name, as Keras's
    compile_metrics gives), checked when the step is traced, before anything runs."""
    if not isinstance(logs, dict):
        raise TypeError(f"{who} must return logs as a dict name -> scalar, received "
                        f"{type(logs).__name__}")
    for name, value in logs.items():
        for key, leaf in (value.items() if isinstance(value, dict) else [(name, value)]):
            if np.size(leaf) != 1:
                raise ValueError(f"{who} returned logs['{key}'] with shape "
                                 f"{tuple(np.shape(leaf))}: a log is one number")


def _key_order(tree):
    """The keys of a dict of logs (and of dicts in it), in the order they were written."""
    if not isinstance(tree, dict):
        return None
    return [(k, _key_order(v)) for k, v in tree.items()]


def _in_order(tree, order):
    if order is None or not isinstance(tree, dict):
        return tree
    return {k: _in_order(tree[k], sub) for k, sub in order}


# model -> {(step, data structure, state and batch signature): a runner already checked}:
# a second epoch or fit reuses the first's trace and compile.
_RUNNERS = weakref.WeakKeyDictionary()


def runner_for(model, step, treedef, state, batch):
    """The checked runner of `step` for this data structure and these shapes."""
    key = (step, treedef, tuple(tree_signature(state)), tuple(tree_signature(batch)))
    runners = _RUNNERS.setdefault(model, {})
    if key not in runners:
        runner = _Runner(model, step, treedef)
        runner.check(state, batch)
        runners[key] = runner
    return runners[key]


def forget(model):
    """Drops the model's traced steps (compile does: the next fit traces the step again)."""
    _RUNNERS.pop(model, None)


def _state(model, step: str):
    """What the compiled steps carry: the state `step` receives (lists of the current
    values, see PARTS) and the values of the optimizers the model holds."""
    optimizer = model.optimizer
    if step == "train_step":
        t_vars = model.trainable_variables
        if optimizer is None:
            raise ValueError(f"Model '{model.name}' is not compiled: call "
                             f"compile(optimizer=...) before fit")
        shapes = [(tuple(v.shape), np.dtype(v.dtype)) for v in t_vars]
        if optimizer.built_for != shapes:
            optimizer.build(t_vars)
    return (tuple(values(v) for v in _variables(model, step)),
            [jax.tree_util.tree_leaves(opt.state) for opt in held_optimizers(model)])


def _variables(model, step: str) -> list:
    optimizer = model.optimizer
    found = {"trainable_variables": model.trainable_variables,
             "non_trainable_variables": model.non_trainable_variables,
             "optimizer_variables": optimizer.variables if optimizer is not None else [],
             "metrics_variables": metrics_variables(model)}
    return [found[part] for part in PARTS[step]]


def _write_back(model, step, carry):
    state, held = carry
    for group, new in zip(_variables(model, step), state):
        for variable, value in zip(group, new):
            variable.assign(value)
    for opt, new in zip(held_optimizers(model), held):
        opt.state = jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(opt.state), new)


def _reset_metrics(model):
    for metric in step_metrics(model):
        metric.reset_state()


def _floats(logs):
    logs = jax.device_get(logs)
    if not isinstance(logs, dict):
        raise TypeError(f"a custom step's logs must be a dict name -> value, received "
                        f"{type(logs).__name__}")
    out = {}
    for k, v in logs.items():
        if isinstance(v, dict):
            out.update({kk: float(np.asarray(vv)) for kk, vv in v.items()})
        else:
            out[k] = float(np.asarray(v))
    return out


def _metrics_or_logs(model, logs):
    """Keras's rule for an epoch's (or evaluate's) logs: the metrics' results when the
    step's last logs have exactly their names, else those logs."""
    results = {}
    for metric in step_metrics(model):
        value = metric.result()
        results.update(value if isinstance(value, dict) else {metric.name: value})
    if set(results) != set(logs):
        return logs
    return {name: float(np.asarray(results[name])) for name in logs}


def _dispatches(leaves, n, batch_size, order, k):
    """(stacked leaves, steps) per dispatch: full batches K at a time, then the ragged tail
    as a dispatch of its own. `leaves` are on the device already; `order` None keeps the
    data's order (slices, no gather)."""
    full = n // batch_size

    def rows(start, stop):
        if order is None:
            return [leaf[start:stop] for leaf in leaves]
        idx = order[start:stop]
        return [jnp.take(leaf, idx, axis=0) for leaf in leaves]
    for start in range(0, full, k):
        stop = min(start + k, full)
        yield [part.reshape(stop - start, batch_size, *part.shape[1:])
               for part in rows(start * batch_size, stop * batch_size)], stop - start
    if n % batch_size:
        yield [part[None] for part in rows(full * batch_size, n)], 1


def _run_steps(model, step, leaves, treedef, n, batch_size, k, state, order, on_dispatch=None,
               before=None):
    """Every batch through `step`; the last step's output (logs) and the final state."""
    runner = None
    last = None
    for stacked, count in _dispatches(leaves, n, batch_size, order, k):
        if runner is None:
            runner = runner_for(model, step, treedef, state, [s[0] for s in stacked])
        if before is not None:
            before()
        state, outs = runner.run(state, stacked)
        last = outs
        if on_dispatch is not None:
            on_dispatch(state, outs, count)
    return last, state


def fit(model, x, y, batch_size, epochs, verbose, callbacks, validation_data, shuffle,
        sample_weight, initial_epoch, setting="auto"):
    who = "fit"
    batch_size = check_batch_size(batch_size, who) or 32
    verbose = verbosity(verbose)
    leaves, treedef, n = _batches(who, x, y, sample_weight)
    steps = math.ceil(n / batch_size)
    history = History()
    cbs = CallbackList([*(callbacks or []), history], model,
                       {"epochs": epochs, "steps": steps, "verbose": verbose})
    k = steps_per_dispatch(setting or "auto", steps, cbs.wants_batch_logs or verbose == 1,
                           per_batch=cbs.wants_batch_logs)
    progress = Progress(verbose, epochs)
    model.stop_training, model.history = False, history
    rng = np.random.default_rng(naming.next_seed())
    cbs.on_train_begin(None)
    initial_epoch = cbs.initial_epoch(initial_epoch)     # BackupAndRestore resumes
    logs = {}
    done = [0]

    def on_dispatch(state, outs, count):
        _write_back(model, "train_step", state)
        batch_logs = _floats(jax.tree_util.tree_map(lambda v: v[-1], outs))
        progress.update(count, batch_logs)
        done[0] += count
        cbs.on_train_batch_end(done[0] - 1, batch_logs)

    for epoch in range(initial_epoch, epochs):
        _reset_metrics(model)
        cbs.on_epoch_begin(epoch, None)
        progress.begin(epoch, steps)
        order = jnp.asarray(rng.permutation(n)) if shuffle else None
        done[0] = 0
        outs, _ = _run_steps(model, "train_step", leaves, treedef, n, batch_size, k,
                             _state(model, "train_step"), order, on_dispatch,
                             lambda: cbs.on_train_batch_begin(done[0], None))
        logs = _metrics_or_logs(model, _floats(jax.tree_util.tree_map(lambda v: v[-1], outs)))
        if validation_data is not None:
            val = model.evaluate(*validation_data, batch_size=batch_size, verbose=0,
                                 return_dict=True)
            logs.update({f"val_{name}": value for name, value in val.items()})
        cbs.on_epoch_end(epoch, logs)
        progress.end(epoch, logs)
        if model.stop_training:
            break
    cbs.on_train_end(logs)
    return history


def evaluate(model, x, y, batch_size, verbose, sample_weight, return_dict, callbacks):
    who = "evaluate"
    batch_size = check_batch_size(batch_size, who) or 32
    leaves, treedef, n = _batches(who, x, y, sample_weight)
    steps = math.ceil(n / batch_size)
    cbs = CallbackList(list(callbacks or []), model, {"steps": steps, "verbose": verbose})
    _reset_metrics(model)
    cbs.on_test_begin(None)
    done = [0]

    def on_dispatch(state, outs, count):
        done[0] += count
        cbs.on_test_batch_end(done[0] - 1, _floats(jax.tree_util.tree_map(lambda v: v[-1],
                                                                           outs)))
    per_batch = cbs.wants_test_batch_logs
    outs, state = _run_steps(model, "test_step", leaves, treedef, n, batch_size,
                             1 if per_batch else steps, _state(model, "test_step"), None,
                             on_dispatch if per_batch else None,
                             lambda: cbs.on_test_batch_begin(done[0], None))
    _write_back(model, "test_step", state)
    logs = _metrics_or_logs(model, _floats(jax.tree_util.tree_map(lambda v: v[-1], outs)))
    cbs.on_test_end(logs)
    return _result(logs, return_dict)


def _result(logs, return_dict):
    if return_dict:
        return logs
    values_ = list(logs.values())
    return values_[0] if len(values_) == 1 else values_


def predict(model, x, batch_size, callbacks):
    who = "predict"
    batch_size = check_batch_size(batch_size, who) or 32
    leaves, treedef, n = _batches(who, x, None, None)
    steps = math.ceil(n / batch_size)
    cbs = CallbackList(list(callbacks or []), model, {"steps": steps, "verbose": 0})
    cbs.on_predict_begin(None)
    pieces = []
    state = _state(model, "predict_step")
    runner = None
    per_batch = any(wants_batch_logs(cb, ("on_predict_batch_begin", "on_predict_batch_end"))
                    for cb in cbs.callbacks)
    done = 0
    for stacked, count in _dispatches(leaves, n, batch_size, None, 1 if per_batch else steps):
        if runner is None:
            runner = runner_for(model, "predict_step", treedef, state, [s[0] for s in stacked])
        cbs.on_predict_batch_begin(done, None)
        state, outs = runner.run(state, stacked)
        piece = jax.tree_util.tree_map(lambda v: np.asarray(v).reshape(-1, *v.shape[2:]), outs)
        pieces.append(piece)
        done += count
        cbs.on_predict_batch_end(done - 1, batch_end_logs(piece))
    _write_back(model, "predict_step", state)
    cbs.on_predict_end(None)
    return jax.tree_util.tree_map(lambda *p: np.concatenate(p), *pieces)


def train_on_batch(model, x, y, sample_weight, return_dict):
    """One step of the model's train_step on one batch (the metrics reset first)."""
    leaves, treedef, n = _batches("train_on_batch", x, y, sample_weight)
    _reset_metrics(model)
    outs, state = _run_steps(model, "train_step", leaves, treedef, n, n, 1,
                             _state(model, "train_step"), None)
    _write_back(model, "train_step", state)
    return _result(_floats(jax.tree_util.tree_map(lambda v: v[-1], outs)), return_dict)
