"""Training data: checked on the host, put on the device once, batched by reshaping.

Arrays become `(steps, batch, ...)` stacks on the device; shuffling is a permutation drawn
and applied on the device. An iterable of `(x, y)` batches (data that does not fit in
memory) is stacked K batches at a time on the host instead.
"""
from __future__ import annotations

import math
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from .. import losses as losses_module
from ..layers.base import shape_str
from ..layers.embedding import Embedding
from .spec import check_output_keys


# ---- checks and conversion on the host ------------------------------------------------
def _numeric(a, what):
    if isinstance(a, jax.Array):
        return a
    try:
        a = np.asarray(a)
    except (ValueError, TypeError) as err:
        raise TypeError(f"{what} cannot be read as a numeric array: {err}") from None
    if a.dtype.kind not in "biuf":
        raise TypeError(f"{what} must be numeric, received an array of dtype {a.dtype}")
    return a


_INT32 = np.iinfo(np.int32)


def _device_dtype(a, what=None):
    """float64 -> float32, int64 -> int32, bool -> float32: what JAX computes with. An
    integer that int32 cannot hold is refused (`what` names the array), never wrapped."""
    kind = a.dtype.kind
    if kind == "b" or (kind == "f" and a.dtype.itemsize > 4):
        return a.astype(np.float32) if isinstance(a, np.ndarray) else a.astype(jnp.float32)
    if kind in "iu" and a.dtype.itemsize > 4 and isinstance(a, np.ndarray) and a.size \
            and what is not None:
        low, high = a.min(), a.max()
        if low < _INT32.min or high > _INT32.max:
            bad = high if high > _INT32.max else low
            raise ValueError(f"{what} holds the integer {int(bad)}, outside int32's range "
                             f"[{_INT32.min}, {_INT32.max}], which JAX computes with; cast "
                             f"it to float32 (or rescale it) rather than let it wrap")
    if kind in "iu" and a.dtype.itemsize > 4:
        return a.astype(np.int32) if isinstance(a, np.ndarray) else a.astype(jnp.int32)
    return a


def _builtin_fn(loss):
    fn = getattr(loss, "fn", None)
    return fn if fn in losses_module.LOSSES.values() else None


def check_target(y, output, name, loss, who):
    """A ValueError naming the output and both shapes when `y` cannot fit the output."""
    fn = _builtin_fn(loss)
    if fn is None:                     # a custom loss: its own business
        return
    out = tuple(output.shape[1:])
    got = tuple(y.shape[1:])

    def fits(a, b):
        return len(a) == len(b) and all(p is None or p == q for p, q in zip(a, b))
    if fn is losses_module.ctc:
        ok = y.ndim == 2
    elif fn is losses_module.sparse_categorical_crossentropy:
        ok = fits(out[:-1], got) or fits(out[:-1] + (1,), got)
    else:
        ok = fits(out, got) or (out == (1,) and got == ()) or (got == (1,) and out == ())
    if not ok:
        raise ValueError(f"{who}: the target for output '{name}' has shape {tuple(y.shape)}, "
                         f"which does not fit the output's shape {shape_str(output.shape)} "
                         f"under the loss '{loss.name}'")


def flatten_targets(view, spec, y, who):
    """The user's targets as a list in output order (None where an output needs none)."""
    names = view.output_names
    needed = [spec.losses[i] is not None or bool(spec.metrics[i]) for i in range(len(names))]
    if isinstance(y, dict):
        check_output_keys(y, names, f"{who}: target ")
        flat = [y.get(name) for name in names]
    elif isinstance(y, (list, tuple)) and len(names) > 1:
        if len(y) != len(names):
            raise ValueError(f"{who}: y is a list of {len(y)}, but the model has {len(names)} "
                             f"outputs {names}; pass one target per output or a dict by name")
        flat = list(y)
    elif len(names) == 1 and isinstance(y, (list, tuple)) and len(y) == 1 and hasattr(y[0], "shape"):
        flat = [y[0]]
    else:
        if len(names) > 1:
            raise ValueError(f"{who}: the model has {len(names)} outputs {names}; pass y as a "
                             f"list (one per output) or a dict by output name")
        flat = [y]
    out = []
    for i, (name, target) in enumerate(zip(names, flat)):
        if target is None:
            if needed[i]:
                raise ValueError(f"{who}: no target for output '{name}', which has a loss or "
                                 f"metrics")
            out.append(None)
            continue
        what = f"{who}: the target for output '{name}'"
        target = _device_dtype(_numeric(target, what), what)
        if target.ndim == 0:
            raise ValueError(f"{who}: the target for output '{name}' must have a batch axis, "
                             f"received a scalar")
        if spec.losses[i] is not None:
            check_target(target, view.outputs[i], name, spec.losses[i], who)
            check_labels(target, view.outputs[i], name, spec.losses[i], who)
        out.append(target if needed[i] else None)
    return out


def check_labels(y, output, name, loss, who):
    """Sparse class labels must lie in [0, classes) (or be the loss's ignore_class): a label
    outside would train silently on a zero one-hot row."""
    if _builtin_fn(loss) is not losses_module.sparse_categorical_crossentropy:
        return
    classes = output.shape[-1]
    if classes is None:
        return
    labels = np.asarray(jax.device_get(y)).reshape(-1)
    ignore = getattr(loss, "fn_kwargs", {}).get("ignore_class")
    valid = (labels >= 0) & (labels < classes) & (labels == np.round(labels))
    if ignore is not None:
        valid |= labels == ignore
    if not valid.all():
        bad = int(np.argmin(valid))
        per_row = max(labels.size // max(y.shape[0], 1), 1)
        raise ValueError(f"{who}: the target for output '{name}' holds class label "
                         f"{labels[bad]:g} (row {bad // per_row}), but the loss "
                         f"'{loss.name}' needs labels in [0, {classes}): the output has "
                         f"{classes} classes")


def check_embedding_ids(view, xs, who):
    """Ids fed straight from an input into an Embedding must lie in [0, input_dim), as
    class labels must: an id outside would read a row of NaN and train every weight to NaN."""
    graph = view.graph
    for node in graph.nodes:
        layer = graph.nodes[node]["layer"]
        if not isinstance(layer, Embedding):
            continue
        for source in graph.predecessors(node):
            name = graph.nodes[source]["layer"].name
            if name not in view.input_names:
                continue
            ids = xs[view.input_names.index(name)]
            ids = ids if isinstance(ids, np.ndarray) else np.asarray(jax.device_get(ids))
            valid = (ids >= 0) & (ids < layer.input_dim)
            if not valid.all():
                at = np.unravel_index(int(np.argmin(valid)), ids.shape)
                raise ValueError(f"{who}: input '{name}' holds index {ids[at]:g} (row {at[0]}), "
                                 f"but Embedding '{layer.name}' has input_dim="
                                 f"{layer.input_dim}: its indices must lie in "
                                 f"[0, {layer.input_dim})")


def check_finite(arrays, what, who):
    """A ValueError naming the array and its first row holding NaN or inf, before any step
    runs: one bad value would turn every weight into NaN."""
    for label, a in zip(what, arrays):
        if a is None or a.dtype.kind != "f":
            continue
        finite = (np.isfinite(a) if isinstance(a, np.ndarray) else
                  np.asarray(jax.device_get(jnp.isfinite(a))))
        if not finite.all():
            rows = finite.reshape(finite.shape[0], -1).all(axis=1) if finite.ndim else finite
            row = int(np.argmin(rows))
            raise ValueError(f"{who}: {label} holds NaN or infinite values, first at row {row}; "
                             f"clean or drop those samples")


def flatten_weights(view, spec, sample_weight, ys, who):
    names = view.output_names
    if sample_weight is None:
        return [None] * len(names)
    if isinstance(sample_weight, dict):
        check_output_keys(sample_weight, names, f"{who}: sample_weight ")
        flat = [sample_weight.get(name) for name in names]
    elif isinstance(sample_weight, (list, tuple)) and len(names) > 1 and len(sample_weight) == len(names) \
            and not np.isscalar(sample_weight[0]):
        flat = list(sample_weight)
    else:
        flat = [sample_weight] * len(names)
    out = []
    for name, w, y in zip(names, flat, ys):
        if w is None or y is None:
            out.append(None)
            continue
        w = _numeric(w, f"{who}: sample_weight for output '{name}'")
        w = w.astype(np.float32) if isinstance(w, np.ndarray) else w.astype(jnp.float32)
        if w.ndim == 0 or w.shape[0] != y.shape[0]:
            raise ValueError(f"{who}: sample_weight for output '{name}' has shape "
                             f"{tuple(w.shape)}; expected one weight per sample ({y.shape[0]},)")
        out.append(w)
    return out


def apply_class_weight(spec, class_weight, ys, sws, who):
    """Keras: the weight of each sample's class multiplies its sample weight (one output)."""
    if class_weight is None:
        return sws
    if not isinstance(class_weight, dict):
        raise TypeError(f"{who}: class_weight must be a dict {{class index: weight}}, received "
                        f"{type(class_weight).__name__}")
    trained = spec.trained_outputs
    if len(trained) != 1:
        raise ValueError(f"{who}: class_weight is supported for one trained output only; use "
                         f"sample_weight per output for the outputs {spec.output_names}")
    for k, v in class_weight.items():
        if not isinstance(k, (int, np.integer)) or isinstance(k, bool) or k < 0:
            raise ValueError(f"{who}: class_weight keys must be class indices (ints >= 0), "
                             f"received {k!r}")
        if not isinstance(v, (int, float, np.number)) or isinstance(v, bool) or not np.isfinite(v):
            raise ValueError(f"{who}: class_weight for class {k} must be a finite number, "
                             f"received {v!r}")
    i = trained[0]
    y = np.asarray(ys[i])
    classes = (np.argmax(y, axis=-1) if y.ndim > 1 and y.shape[-1] > 1
               else np.round(y.reshape(y.shape[0], -1)[:, 0]).astype(np.int64))
    # A weight per class present, 1 for classes not in the dict (Keras's `get(c, 1.0)`):
    # the cost follows the data and the dict, never the largest key.
    present, where = np.unique(classes, return_inverse=True)
    per_class = np.array([float(class_weight.get(int(c), 1.0)) for c in present], np.float32)
    weights = per_class[where.reshape(classes.shape)]
    sws = list(sws)
    base = sws[i]
    sws[i] = weights if base is None else np.asarray(base, np.float32) * weights
    return sws


def check_lengths(view, xs, ys, sws, who):
    n = xs[0].shape[0]
    for name, y in zip(view.output_names, ys):
        if y is not None and y.shape[0] != n:
            raise ValueError(f"{who}: x has {n} samples (input '{view.input_names[0]}') but y "
                             f"has {y.shape[0]} (output '{name}'); they must have the same length")
    if n == 0:
        raise ValueError(f"{who}: received 0 samples")
    return n


def prepare(view, spec, x, y, sample_weight=None, class_weight=None, who="fit"):
    """Checked host arrays: (xs, ys, sws), each a list in input / output order."""
    xs = [_device_dtype(a) for a in view.prepare_inputs(x, who)]
    ys = flatten_targets(view, spec, y, who)
    sws = flatten_weights(view, spec, sample_weight, ys, who)
    sws = apply_class_weight(spec, class_weight, ys, sws, who)
    check_lengths(view, xs, ys, sws, who)
    check_embedding_ids(view, xs, who)
    check_finite(xs, [f"x (input '{n}')" for n in view.input_names], who)
    check_finite(ys, [f"y (output '{n}')" for n in view.output_names], who)
    check_finite(sws, [f"sample_weight (output '{n}')" for n in view.output_names], who)
    return xs, ys, sws


def split_validation(batch, validation_split, n, who="fit"):
    """Keras: the last `validation_split` fraction of the samples, before any shuffling."""
    if not (isinstance(validation_split, (int, float)) and 0.0 <= validation_split < 1.0):
        raise ValueError(f"{who}: validation_split must be a float in [0, 1), received "
                         f"{validation_split!r}")
    if not validation_split:
        return batch, None
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(f"{who}: validation_split={validation_split} of {n} samples leaves "
                         f"{split_at} for training and {n - split_at} for validation; both "
                         f"need at least one")
    head = jax.tree_util.tree_map(lambda a: a[:split_at], batch)
    tail = jax.tree_util.tree_map(lambda a: a[split_at:], batch)
    return head, tail


# ---- on the device -------------------------------------------------------------------------
def bucket_steps(steps: int) -> int:
    """`steps` rounded up to a number with three significant bits (8, 10, 12, 14, 16, 20,
    ...): at most 25% more, and a handful of stack shapes per octave of dataset sizes, so
    fits on data of many lengths share a few compiled programs."""
    if steps <= 8:
        return steps
    shift = steps.bit_length() - 3
    return -(-steps >> shift) << shift


@partial(jax.jit, static_argnums=(3, 4, 5, 6, 7))
def _cut(arrays, key, n, batch_size, shardings, steps, tail_rows, merge_tail):
    """`arrays` hold n real rows, then zero rows up to a bucketed count: full batches
    `(steps, B, ...)` (zero batches after the real ones, never run) and a
    `(1, tail_rows, ...)` tail; the real rows permuted first when `key` is given. With
    `merge_tail` the tail, zero-padded to B rows, is the stack's last real batch instead
    (one program runs them all, masking it). `n` is traced and the row count bucketed, so
    data of a new length compiles nothing new. `shardings` (data-parallel only) places both."""
    rows = jax.tree_util.tree_leaves(arrays)[0].shape[0]
    if key is not None:
        # A uniform permutation of all rows, the real ones moved first in their drawn
        # order: a uniform shuffle of the n real rows, with the zero rows after them.
        perm = jax.random.permutation(key, rows)
        perm = perm[jnp.argsort(perm >= n, stable=True)]
        arrays = jax.tree_util.tree_map(lambda a: jnp.take(a, perm, axis=0), arrays)
    full = n // batch_size * batch_size

    def pad(a, count):
        return jnp.concatenate([a, jnp.zeros((count - a.shape[0], *a.shape[1:]), a.dtype)])
    stacked = jax.tree_util.tree_map(
        lambda a: pad(a, max(rows, steps * batch_size))[:steps * batch_size].reshape(
            steps, batch_size, *a.shape[1:]), arrays)
    tail = None
    if not merge_tail and tail_rows:
        tail = jax.tree_util.tree_map(
            lambda a: lax.dynamic_slice_in_dim(a, full, tail_rows)[None], arrays)
    if shardings is not None:
        stacked = jax.lax.with_sharding_constraint(stacked, shardings[0])
        if tail is not None:
            tail = jax.lax.with_sharding_constraint(tail, shardings[1])
    return stacked, tail


def _pad_rows(tree, rows):
    """Host arrays with zero rows appended up to `rows`."""
    def pad(a):
        a = np.asarray(a)
        if a.shape[0] == rows:
            return a
        return np.concatenate([a, np.zeros((rows - a.shape[0], *a.shape[1:]), a.dtype)])
    return jax.tree_util.tree_map(pad, tree)


class DeviceData:
    """One dataset on the device, cut into full batches `(steps, B, ...)` and a tail.

    The stack's length is bucketed (`bucket_steps`) and, with `pad_tail`, the tail is
    padded to a whole batch and stacked last, its real row count kept (`rows`): the
    compiled step masks the padding, so an epoch with a ragged tail is one program and
    data of a new length seldom needs a new compile. With a
    data-parallel `placement` the rows are split over its devices and so is every batch
    (see graphnet/train/devices.py).
    """

    def __init__(self, batch, batch_size: int, shuffle: bool, placement=None, who="fit",
                 pad_tail=False):
        n = jax.tree_util.tree_leaves(batch)[0].shape[0]
        if placement is None:
            self.batch_size = min(int(batch_size), n)
        else:
            self.batch_size = placement.check_batch_size(int(batch_size), n, who)
        # The rows go to the device padded to the bucketed stack's rows (see
        # `bucket_steps`), so that shuffling and cutting compile once per bucket, not once
        # per length; an unmasked tail past them needs the next bucket.
        full_steps, tail_size = divmod(n, self.batch_size)
        merged = bool(pad_tail and tail_size)
        bucketed = bucket_steps(full_steps + merged) * self.batch_size
        if bucketed < n:
            bucketed = bucket_steps(full_steps + 1) * self.batch_size
        if placement is None:
            self.n = n
            arrays, self._shardings = jax.device_put(_pad_rows(batch, bucketed)), None
        elif placement.multi_process:      # each host's own rows: cut at their count
            arrays, self.n = placement.put_rows(batch, who)
        else:
            arrays, self.n = placement.put_rows(_pad_rows(batch, bucketed), who)[0], n
        self.full_steps, self.tail_size = divmod(self.n, self.batch_size)
        # A tail the step can mask rides in the stack as its last batch, padded to B rows:
        # one compiled program for the whole epoch. Otherwise it keeps its own exact size.
        self.merged = bool(pad_tail and self.tail_size)
        self.stacked_steps = self.full_steps + (1 if self.merged else 0)
        self.stack_steps = bucket_steps(self.stacked_steps)
        self.tail_rows = self.tail_size
        # (index of the masked batch in the stack, its real rows), given to the compiled
        # chunk, or None: every batch is whole. Whenever the step can mask, it is given
        # (with no tail: a batch past the real ones, its rows whole), so data whose length
        # divides by the batch size shares the program of the lengths that do not.
        self.masked = bool(pad_tail)
        self.rows = (np.asarray([self.full_steps, self.tail_size if self.merged
                                 else self.batch_size], np.int32) if self.masked else None)
        if placement is not None:
            self._shardings = (placement.split_batch(self.batch_size),
                               placement.split_batch(self.tail_rows))
        self.steps = self.full_steps + (1 if self.tail_size else 0)
        self._arrays = arrays if shuffle else None
        self._fixed = None if shuffle else self._stack(arrays, None)

    def _stack(self, arrays, key):
        return _cut(arrays, key, np.int32(self.n), self.batch_size, self._shardings,
                    self.stack_steps, 0 if self.masked else self.tail_rows, self.masked)

    def epoch(self, key=None):
        """(stacked, tail) for one epoch; shuffled on the device when `key` is given."""
        if key is None or self._arrays is None:
            return self._fixed
        return self._stack(self._arrays, key)


def as_batch(item, view, spec, who):
    if not isinstance(item, (tuple, list)) or len(item) not in (2, 3):
        raise ValueError(f"{who}: an iterable of batches must yield (x, y) or "
                         f"(x, y, sample_weight) tuples, received {type(item).__name__}")
    x, y, *sw = item
    xs, ys, sws = prepare(view, spec, x, y, sw[0] if sw else None, None, who)
    return xs, ys, sws


def batch_chunks(source, view, spec, k: int, who="fit", put=jax.device_put):
    """Yield (data, count, offset): up to k consecutive same-shaped batches stacked on the
    host and padded to k steps, so every chunk of one batch shape shares a compile.
    `put` places a stack (data-parallel: `Placement.put_stacked`)."""
    group, shapes, offset = [], None, 0

    def flush():
        stacked = jax.tree_util.tree_map(lambda *a: np.stack(a), *group)
        count = len(group)
        if count < k:
            stacked = jax.tree_util.tree_map(
                lambda a: np.concatenate([a, np.zeros((k - count, *a.shape[1:]), a.dtype)]),
                stacked)
        return put(stacked), count

    for item in source:
        batch = as_batch(item, view, spec, who)
        batch = jax.tree_util.tree_map(np.asarray, batch)
        batch_shapes = jax.tree_util.tree_map(lambda a: (a.shape, a.dtype), batch)
        if group and (batch_shapes != shapes or len(group) == k):
            data, count = flush()
            yield data, count, offset
            offset += count
            group = []
        shapes = batch_shapes
        group.append(batch)
    if group:
        data, count = flush()
        yield data, count, offset
