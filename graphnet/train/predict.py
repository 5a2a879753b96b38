"""The predict loop: batches through the model's jitted inference function.

One compile per input signature: full batches are padded to a bucketed size (a few per
octave of batch sizes, see `bucket_steps`), and a ragged last batch to a power of two below
it, so calls with many batch sizes share a handful of programs.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..callbacks import CallbackList, wants_batch_logs
from .data import bucket_steps
from .progress import Progress, check_batch_size, verbosity


def bucket(n: int, batch_size: int) -> int:
    """Padded size of a batch of n rows: a full batch is padded to `batch_size` bucketed,
    a last, ragged one to a power of two (no larger), so compiles stay few."""
    full = bucket_steps(batch_size)
    return full if n == batch_size else min(full, 1 << max(n - 1, 0).bit_length())


def batch_length(x) -> int:
    """Rows of the first array in `x` (one array, a list or a dict of them), 0 if none."""
    leaves = jax.tree_util.tree_leaves(x)
    return int(np.shape(leaves[0])[0]) if leaves else 0


def _pad_rows(a, rows: int):
    pad = [(0, rows - a.shape[0])] + [(0, 0)] * (a.ndim - 1)
    return jnp.pad(a, pad) if isinstance(a, jax.Array) else np.pad(a, pad)


def batch_end_logs(outputs) -> dict:
    """The logs Keras's `on_predict_batch_end` receives for a batch's outputs (one array, a
    list or a dict, as the model gives them). Keras's callback list flattens a dict of
    outputs into the logs (keys sorted) and turns each array into NumPy, or a float where
    NumPy's `float()` takes it; a list is passed as it is."""
    def plain(value):
        value = np.asarray(value)
        try:
            return float(value)
        except TypeError:       # NumPy 2 converts only 0-d arrays
            return value
    if isinstance(outputs, dict):
        return {key: plain(outputs[key]) for key in sorted(outputs)}
    if isinstance(outputs, (list, tuple)):
        return {"outputs": outputs}
    return {"outputs": plain(outputs)}


def predict(model, view, x, batch_size=None, verbose="auto", callbacks=None, placement=None):
    """Outputs as NumPy arrays, in the model's output structure. `placement`: the compiled
    model's data-parallel placement (batches padded to split evenly), or None."""
    arrays = view.prepare_inputs(x, "predict")
    n = arrays[0].shape[0]
    if n == 0:
        raise ValueError(f"predict: model '{view.name}' received 0 samples")
    batch_size = check_batch_size(batch_size, "predict")
    batches = -(-n // batch_size)
    level = verbosity(verbose)
    cbs = CallbackList(callbacks or [], model, {"steps": batches, "verbose": level})
    progress = Progress(1 if level == 1 and (verbose != "auto" or batches > 1) else 0, 1)
    cbs.on_predict_begin(None)
    progress.begin(0, batches, desc="Predict")
    params, state = model.params, model.state
    if placement is not None:
        params, state = placement.replicate((params, state))
    pieces, key = [], view.inference_key()
    # Logs are built (a host read per batch) only for a callback that reads them.
    hooked = any(wants_batch_logs(cb, ("on_predict_batch_end",)) for cb in cbs.callbacks)
    for index, start in enumerate(range(0, n, batch_size)):
        cbs.on_predict_batch_begin(index, None)
        size = min(batch_size, n - start)
        batch = [a[start:start + size] for a in arrays]
        padded = bucket(size, batch_size)
        if placement is not None:
            padded = placement.round_up(padded)
        if padded != size:
            batch = [_pad_rows(a, padded) for a in batch]
        if placement is not None:
            batch = placement.put_batch(batch)
        batch_key = None if key is None else jax.random.fold_in(key, index)
        out, state = view.forward(params, state, batch, batch_key)
        pieces.append((out, size))
        progress.update(1, {})
        logs = None
        if hooked:      # the batch's real rows: padding never reaches a hook
            real = list(out) if padded == size else [o[:size] for o in out]
            logs = batch_end_logs(view.pack_outputs(real))
        cbs.on_predict_batch_end(index, logs)
    progress.end(0, {})
    model.state = state    # Keras keeps what inference changed (SeedGenerator counters)
    # Sliced as NumPy (a jax slice is one more dispatch), then copied: NumPy views of jax
    # arrays are read-only, and Keras's results are not.
    outputs = [np.concatenate([np.asarray(out[j])[:size] for out, size in pieces])
               if len(pieces) > 1 else np.array(np.asarray(pieces[0][0][j])[:pieces[0][1]])
               for j in range(len(view.outputs))]
    cbs.on_predict_end(None)
    return view.pack_outputs(outputs)
