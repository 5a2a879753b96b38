"""The one compiled training program: K steps of forward, losses, gradient, optax update
and metric updates per dispatch.

`Program` is built from pure functions and plain data only: the model's run function, its
weight penalty, the optax transformation, the losses and metrics per output. Everything that
changes while training (weights, optimizer state, learned loss weights, the step count)
travels in the carry, and fixed loss weights arrive as data, so changing a loss weight or
the learning rate never compiles again.

A chunk runs a `lax.while_loop` over batches stacked on the device as (steps, batch, ...):
`start` and `end` are traced, so every chunk length, including an epoch's last short
chunk, reuses one compiled program. The chunk returns raw running sums; the host turns
them into logs, so no scalar arithmetic is compiled after the loop. With `stop_on_nonfinite` the loop also ends after the
first step whose loss is not finite (TerminateOnNaN), inside the dispatch. The carry is
donated: the trainer hands it copies, never arrays a user may hold.

Data-parallel (compile(devices=...)): the same function, jitted with every output
replicated; its batches arrive split over the data axis and GSPMD partitions the program
(see devices.py), so it is still one compiled function per batch shape.
"""
from __future__ import annotations

from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax import lax

from . import masking


def _index(data, i):
    return jax.tree_util.tree_map(lambda a: lax.dynamic_index_in_dim(a, i, 0, keepdims=False),
                                  data)


def _rows(data, i, rows):
    """Batch i's real row count: `rows` is (index of the padded batch, its real rows) or
    None (every batch whole, nothing masked)."""
    if rows is None:
        return None
    size = jax.tree_util.tree_leaves(data)[0].shape[1]
    return jnp.where(i == rows[0], rows[1], size)


@dataclass(frozen=True)
class Losses:
    """What the total loss is made of: one loss per trained output, in output order."""
    fns: tuple                 # Loss objects of the trained outputs
    outputs: tuple             # their output indices
    names: tuple               # their output names
    reduction: str             # "mean": sum(w_i L_i) / sum(w_i); "sum": sum(w_i L_i)
    learned: bool = False      # loss_weights="uncertainty": the weights array holds s_i
    # Per trained output: its loss computed from the logits behind a softmax/sigmoid output
    # (losses.behind_activation), or None; any present, the run returns those logits.
    behind: tuple = ()
    log_each: bool = False     # several outputs: each output's loss is logged


class Program:
    """The compiled train and eval chunks for one set of pure functions.

    run(params, state, xs, training, rng) -> (outputs, new_state, activity_penalty);
    weight_penalty(params) -> scalar; tx an optax transformation; trainable one bool per
    params leaf (tree order); heads a `heads.Heads` (diagnostics, PCGrad) or None.
    """

    def __init__(self, run, weight_penalty, tx, losses: Losses, metrics, trainable, *,
                 uses_rng: bool, heads=None, stop_on_nonfinite=False, placement=None,
                 scale_loss=None, constrain=None):
        self.run, self.weight_penalty, self.tx = run, weight_penalty, tx
        # (loss, opt_state) -> the loss differentiated: LossScaleOptimizer scales it.
        self.scale_loss = scale_loss or (lambda loss, opt_state: loss)
        # params -> params with weight constraints applied after each update (None: none).
        self.constrain = constrain
        self.losses_spec, self.metrics = losses, list(metrics)
        self.trainable = tuple(trainable)
        self.uses_rng, self.heads = bool(uses_rng), heads
        self.stop_on_nonfinite = bool(stop_on_nonfinite)
        self.placement = placement
        out = {} if placement is None else {"out_shardings": placement.replicated}
        self.train_chunk = jax.jit(self._train_chunk, donate_argnums=(0,), **out)
        # Batch hooks read the weights after every dispatch: nothing donated, no copies.
        self.train_chunk_kept = jax.jit(self._train_chunk, **out)
        self.eval_chunk = jax.jit(self._eval_chunk, donate_argnums=(0,), **out)

    def place(self, tree):
        """The carry where the chunks expect it: as it is on one device, else replicated."""
        return tree if self.placement is None else self.placement.replicate(tree)

    # ---- the parts of the carry ---------------------------------------------------------
    def split(self, params):
        leaves, treedef = jax.tree_util.tree_flatten(params)
        train = [leaf for leaf, t in zip(leaves, self.trainable) if t]
        frozen = [leaf for leaf, t in zip(leaves, self.trainable) if not t]
        return train, frozen, treedef

    def merge(self, train, frozen, treedef):
        train, frozen = iter(train), iter(frozen)
        return treedef.unflatten([next(train) if t else next(frozen) for t in self.trainable])

    def optimized(self, params, loss_weights):
        """What the optimizer updates: the trainable leaves, and with learned loss weights
        their log-variances too."""
        train = self.split(params)[0]
        return (train, loss_weights) if self.losses_spec.learned else train

    def init_trackers(self, training=True):
        n = len(self.losses_spec.fns)
        # NumPy zeros: moved to the device with the carry, no small compile per shape.
        # [sum of total * rows, rows, (with several outputs) sum of each loss * rows]
        trackers = {"sums": np.zeros((2 + (n if self.losses_spec.log_each else 0),),
                                     np.float32),
                    "metrics": [slot.metric.init() for slot in self.metrics]}
        if training and self.stop_on_nonfinite:
            trackers["nonfinite"] = np.full((), -1, np.int32)
        if training and self.heads is not None and self.heads.diagnostics:
            trackers["heads"] = np.zeros((self.heads.stat_count,), np.float32)
            trackers["steps"] = np.zeros((), np.int32)
        return trackers

    # ---- numerics -----------------------------------------------------------------------
    def scale(self, loss_weights):
        """What fixed loss weights (host values) multiply the per-output losses by, passed to
        the chunks as data: w_i / sum(w) ("mean") or w_i ("sum"); None when that is always
        1 (one output averaged: w L / w), so the program multiplies by nothing. Learned
        weights return None: the chunks read them from the carry."""
        spec = self.losses_spec
        if spec.learned:
            return None
        weights = np.asarray(loss_weights, np.float32)
        if spec.reduction != "mean":
            return weights
        if len(weights) == 1:
            return None
        return (weights / weights.sum()).astype(np.float32)

    def _scale_in(self, carry_weights, scale):
        """The chunk's view of `scale`: the learned weights, the fixed scale, or 1."""
        if self.losses_spec.learned:
            return carry_weights
        return jnp.ones((1,), jnp.float32) if scale is None else scale

    def terms(self, per, scale):
        """Each trained output's term of the total: the terms sum to the total before
        regularization. Fixed weights: `scale(w)_i L_i`; learned (Kendall et al. 2018):
        (exp(-s_i) L_i + s_i) / n ("mean"), or without the 1/n; `scale` is then s itself."""
        spec = self.losses_spec
        if spec.learned:
            terms = jnp.exp(-scale) * per + scale
            return terms / per.shape[0] if spec.reduction == "mean" else terms
        return scale * per

    @staticmethod
    def unpad(batch, rows):
        """(batch, size, mask): a padded last batch gets sample weight 0 on its padding, its
        size is its real row count `rows`, and `mask` is 1 on real rows (None: the batch is
        all real, size its length, mask None)."""
        xs, ys, sws = batch
        size = jax.tree_util.tree_leaves(xs)[0].shape[0]
        if rows is None:
            return batch, jnp.asarray(size, jnp.float32), None
        real = jnp.arange(size) < rows
        mask = real.astype(jnp.float32)
        # The padding rows repeat the first row: zero rows can be wholly masked, and a
        # masked mean over nothing (GlobalAveragePooling1D) is NaN, which weight 0 keeps.
        xs = jax.tree_util.tree_map(
            lambda x: jnp.where(real.reshape(real.shape + (1,) * (x.ndim - 1)), x, x[:1]), xs)

        def weight(y, sw):
            if y is None:
                return sw
            if sw is None:       # by rank: (batch, 1, ...) against the target's axes
                return mask.reshape(mask.shape + (1,) * (max(jnp.ndim(y), 1) - 1))
            return sw * mask.reshape(mask.shape + (1,) * (sw.ndim - 1)).astype(sw.dtype)
        return ((xs, ys, [weight(y, sw) for y, sw in zip(ys, sws)]), rows.astype(jnp.float32),
                mask)

    def forward(self, params, state, batch, scale, training, rng, size=None):
        """(terms, activity penalty, per-output losses, outputs, new_state, output masks).
        `scale`: see `terms`; `size`: the real row count of a batch padded by `unpad`. An
        output that carries a mask weights its loss by it (masking.output_loss)."""
        xs, ys, sws = batch
        behind = self.losses_spec.behind or (None,) * len(self.losses_spec.fns)
        if any(b is not None for b in behind):      # losses from the logits behind outputs
            outs, new_state, activity, logits, masks = self.run(
                params, state, list(xs), training, rng, logits=True, masks=True)
        else:
            outs, new_state, activity, masks = self.run(params, state, list(xs), training, rng,
                                                        masks=True)
            logits = outs
        padded = jax.tree_util.tree_leaves(xs)[0].shape[0]
        per = jnp.stack([
            masking.output_loss(fn if b is None else b, ys[i], outs[i] if b is None else logits[i],
                                sws[i], masks[i], padded, size, self.losses_spec.names[k])
            for k, (fn, b, i) in enumerate(zip(self.losses_spec.fns, behind,
                                               self.losses_spec.outputs))])
        return self.terms(per, scale), activity, per, outs, new_state, masks

    def track(self, trackers, total, per, outs, batch, size, mask, index, head_stats=None,
              masks=None):
        """Add one batch to the running loss and metrics. `metrics` see no sample weights
        (only the padding mask), `weighted_metrics` see them, as in Keras. `masks`: the
        outputs' masks where metrics see them (evaluation, see masking.metric_weight)."""
        _, ys, sws = batch
        masks = masks or [None] * len(outs)
        metric_states = [slot.metric.update(s, ys[slot.output], outs[slot.output],
                                            masking.metric_weight(
                                                slot.metric, masks[slot.output],
                                                sws[slot.output] if slot.weighted else mask))
                         for slot, s in zip(self.metrics, trackers["metrics"])]
        sums = jnp.stack([total, jnp.ones_like(total)])
        if self.losses_spec.log_each:
            sums = jnp.concatenate([sums, per])
        out = {"sums": trackers["sums"] + sums * size,
               "metrics": metric_states}
        if "nonfinite" in trackers:
            bad = (trackers["nonfinite"] < 0) & ~jnp.isfinite(total)
            out["nonfinite"] = jnp.where(bad, index.astype(jnp.int32), trackers["nonfinite"])
        if "heads" in trackers:
            out["heads"] = trackers["heads"] + head_stats
            out["steps"] = trackers["steps"] + 1
        return out

    def log_names(self, training=True) -> list:
        """Keras's log names, in Keras's order: loss, <output>_loss (several outputs),
        metrics; then, when training, the learned loss weights and the head diagnostics."""
        spec = self.losses_spec
        names = ["loss"]
        if spec.log_each:
            names += [f"{name}_loss" for name in spec.names]
        names += [slot.key for slot in self.metrics]
        if training and spec.learned:
            names += [f"{name}_loss_weight" for name in spec.names]
        if training and self.heads is not None and self.heads.diagnostics:
            names += self.heads.stat_names
        return names

    def readout(self, trackers, loss_weights, training=True):
        """What the host needs for `log_names`, as raw device values: the running sums,
        the metric results, and what only some programs track. The means and the rest of
        the arithmetic happen in `read`, on the host, so the compiled program carries no
        scalar arithmetic after its loop. When every metric result is a scalar, all of it
        is one float32 vector: one transfer per read, which a batch hook pays every step."""
        out = {"sums": trackers["sums"],
               "metrics": [slot.metric.result(s)
                           for slot, s in zip(self.metrics, trackers["metrics"])]}
        if training and self.losses_spec.learned:
            out["loss_weights"] = loss_weights
        for name in ("heads", "steps", "nonfinite"):
            if name in trackers:
                out[name] = trackers[name]
        if any(jnp.ndim(m) for m in out["metrics"]):
            return out
        return jnp.concatenate([jnp.reshape(v, (-1,)).astype(jnp.float32)
                                for v in jax.tree_util.tree_leaves(out)])

    def read(self, out, training=True):
        """(logs dict in `log_names` order, index of the first batch whose loss was not
        finite or -1) from a chunk's `readout`, fetched in one call."""
        if isinstance(out, dict):
            out = jax.device_get(out)
        else:                               # np.asarray: the fastest read of one array
            out = self._unpack(np.asarray(out, np.float64), training)
        sums = np.asarray(out["sums"], np.float64)
        means = sums / max(sums[1], 1.0)
        values = [means[0]]
        if self.losses_spec.log_each:
            values += list(means[2:])
        values += out["metrics"]
        if "loss_weights" in out:
            values += list(np.exp(-np.asarray(out["loss_weights"], np.float64)))
        if "heads" in out:
            values += list(np.asarray(out["heads"], np.float64) / max(int(out["steps"]), 1))
        logs = {k: float(v) if np.ndim(v) == 0 else v
                for k, v in zip(self.log_names(training), values)}
        return logs, int(out.get("nonfinite", -1))

    def _unpack(self, vector, training):
        """`readout`'s dict from its one vector: the same parts, in the dict's leaf order
        (its keys sorted)."""
        n = len(self.losses_spec.fns)
        sizes = {"sums": 2 + (n if self.losses_spec.log_each else 0),
                 "metrics": len(self.metrics)}
        if training and self.losses_spec.learned:
            sizes["loss_weights"] = n
        if training and self.heads is not None and self.heads.diagnostics:
            sizes["heads"], sizes["steps"] = self.heads.stat_count, 1
        if training and self.stop_on_nonfinite:
            sizes["nonfinite"] = 1
        out, at = {}, 0
        for name in sorted(sizes):
            out[name] = vector[at:at + sizes[name]]
            at += sizes[name]
        out["metrics"] = list(out["metrics"])
        for name in ("steps", "nonfinite"):
            if name in out:
                out[name] = out[name][0]
        return out

    # ---- the compiled chunks ------------------------------------------------------------
    def _train_step(self, carry, batch, key, index, rows, scale):
        params, state, opt_state = carry["params"], carry["state"], carry["opt_state"]
        loss_weights, step = carry["loss_weights"], carry["step"]
        train, frozen, treedef = self.split(params)
        rng = jax.random.fold_in(key, step) if self.uses_rng else None
        learned = self.losses_spec.learned
        batch, size, mask = self.unpad(batch, rows)
        real = None if rows is None else size

        def unpack(variables):
            return variables if learned else (variables, scale)

        def objective(variables):
            train, weights = unpack(variables)
            terms, activity, per, outs, new_state, _ = self.forward(
                self.merge(train, frozen, treedef), state, batch, weights, True, rng, real)
            return terms, activity, (per, outs, new_state)

        def penalty(variables):
            return self.weight_penalty(self.merge(unpack(variables)[0], frozen, treedef))

        variables = (train, loss_weights) if learned else train
        if self.heads is None:
            def scalar(variables):
                terms, activity, aux = objective(variables)
                total = jnp.sum(terms) + activity + penalty(variables)
                return self.scale_loss(total, opt_state), (total, aux)
            (_, (total, (per, outs, new_state))), grads = jax.value_and_grad(
                scalar, has_aux=True)(variables)
            head_stats = None
        else:
            total, _, (per, outs, new_state), grads, head_stats = self.heads.gradients(
                objective, penalty, variables, learned, loss_weights if learned else scale)
            # Unscaled gradients: scaled here so a LossScaleOptimizer's division undoes it.
            grads = jax.tree_util.tree_map(lambda g: self.scale_loss(g, opt_state), grads)
        updates, opt_state = self.tx.update(grads, opt_state, variables)
        train, learned_weights = unpack(optax.apply_updates(variables, updates))
        if learned:                         # fixed weights stay as the user set them: the
            loss_weights = learned_weights  # normalized scale is only used in this step
        if self.constrain is not None:      # Keras: constraints after the update, trained only
            train = self.split(self.constrain(self.merge(train, frozen, treedef)))[0]
        trackers = self.track(carry["trackers"], total, per, outs, batch, size, mask, index,
                              head_stats)
        return {"params": self.merge(train, frozen, treedef), "state": new_state,
                "opt_state": opt_state, "loss_weights": loss_weights, "trackers": trackers,
                "step": step + 1 if self.uses_rng else step}   # the step only keys the rng

    def _train_chunk(self, carry, data, start, end, offset, key, rows=None, scale=None):
        """Batches start..end-1 of `data`; `scale` from `Program.scale` (fixed weights)."""
        scale = self._scale_in(carry["loss_weights"], scale)

        def cond(loop):
            i, carry = loop
            more = i < end
            if self.stop_on_nonfinite:
                more = more & (carry["trackers"]["nonfinite"] < 0)
            return more

        def body(loop):
            i, carry = loop
            return i + 1, self._train_step(carry, _index(data, i), key, i + offset,
                                           _rows(data, i, rows), scale)
        _, carry = lax.while_loop(cond, body, (start, carry))
        return carry, self.readout(carry["trackers"], carry["loss_weights"])

    def _eval_chunk(self, trackers, params, state, loss_weights, data, start, end, offset,
                    rows=None, scale=None):
        """`((trackers, new_state), logs)`: the state is carried from batch to batch and
        returned, as Keras's evaluate keeps what inference changed (SeedGenerator counters)."""
        scale = self._scale_in(loss_weights, scale)

        def body(i, carry):
            trackers, state = carry
            batch, size, mask = self.unpad(_index(data, i), _rows(data, i, rows))
            terms, activity, per, outs, new_state, masks = self.forward(
                params, state, batch, scale, False, None, None if rows is None else size)
            total = jnp.sum(terms) + activity + self.weight_penalty(params)
            # Keras's evaluation hands metrics the outputs' masks; its training step does not
            # (its JAX trainer's outputs lose `_keras_mask` through the gradient).
            return (self.track(trackers, total, per, outs, batch, size, mask, i + offset,
                               masks=masks), new_state)
        trackers, state = lax.fori_loop(start, end, body, (trackers, state))
        return (trackers, state), self.readout(trackers, loss_weights, training=False)
