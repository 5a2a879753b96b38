"""The one compiled training program: K steps of forward, losses, gradient, optax update
and metric updates per dispatch.

A chunk runs `lax.fori_loop(start, start + count, step)` over batches stacked on the device
as (steps, batch, ...): `start` and `count` are traced, so every chunk length, including an
epoch's last short chunk, reuses one compiled program (a scan's static length would compile
once per length). Only a ragged last batch, whose shape differs, compiles once more, in the
first epoch. The carry (params, state, optimizer state, metric state, step) is donated.

Data-parallel (compile(devices=...)): the same function, jitted with every output
replicated; its batches arrive split over the data axis and GSPMD partitions the program
(see devices.py), so it is still one compiled function per batch shape.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import optax
from jax import lax

try:        # jax has no public dead-code elimination of jaxprs; without it, always a key
    from jax._src.interpreters.partial_eval import dce_jaxpr
except ImportError:  # pragma: no cover
    dce_jaxpr = None

from .spec import Spec


def distinct_buffers(tree):
    """`tree` with any array that shares a device buffer with an earlier leaf copied.

    JAX may hand out one cached buffer for equal small constants (the zeros of fresh metric
    and optimizer states); donating it twice in one call is an error.
    """
    seen = set()

    def fresh(leaf):
        if not isinstance(leaf, jax.Array) or leaf.is_deleted():
            return leaf
        try:
            ptr = leaf.unsafe_buffer_pointer()
        except Exception:           # sharded or otherwise unaddressable: leave it
            return leaf
        if ptr in seen:
            return jnp.copy(leaf)
        seen.add(ptr)
        return leaf
    return jax.tree_util.tree_map(fresh, tree)


def _index(data, i):
    return jax.tree_util.tree_map(lambda a: lax.dynamic_index_in_dim(a, i, 0, keepdims=False),
                                  data)


class Program:
    """The compiled train and eval chunks for one model, spec, metric set and trainable mask.

    `trace_count` counts how often the Python bodies were traced (tests assert on it).
    """

    def __init__(self, model, spec: Spec, metrics: list, trainable: list, placement=None):
        self.model, self.spec, self.metrics = model, spec, metrics
        self.trainable = list(trainable)            # one bool per params leaf (tree order)
        self.tx = spec.optimizer.tx
        self.trace_count = 0
        self._uses_rng = None
        self.run = model._run
        self.trained = spec.trained_outputs
        self.weights = [spec.loss_weights[i] for i in self.trained]
        self.weight_sum = sum(self.weights)
        self.placement = placement
        out = {} if placement is None else {"out_shardings": placement.replicated}
        self.train_chunk = jax.jit(self._train_chunk, donate_argnums=(0,), **out)
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

    def init_trackers(self):
        return {"loss": jnp.zeros((2,), jnp.float32),
                "outputs": jnp.zeros((len(self.trained),), jnp.float32),
                "metrics": [m.init() for _, _, m in self.metrics],
                "nonfinite": jnp.full((), -1, jnp.int32)}

    # ---- numerics -----------------------------------------------------------------------
    def losses(self, params, state, batch, training, rng):
        """(total, per-output losses, outputs, new_state): total = reduce(w_i L_i) + penalties."""
        xs, ys, sws = batch
        outs, new_state, activity = self.run(params, state, list(xs), training, rng)
        per = [self.spec.losses[i](ys[i], outs[i], sws[i]) for i in self.trained]
        weighted = sum(w * loss for w, loss in zip(self.weights, per))
        total = weighted / self.weight_sum if self.spec.loss_reduction == "mean" else weighted
        total = total + self.model.weight_penalty(params) + activity
        return total, per, outs, new_state

    def track(self, trackers, total, per, outs, batch, index):
        _, ys, sws = batch
        size = jnp.asarray(jax.tree_util.tree_leaves(batch[0])[0].shape[0], jnp.float32)
        loss = trackers["loss"] + jnp.stack([total * size, size])
        outputs = trackers["outputs"] + jnp.stack(per) * size
        metric_states = [m.update(s, ys[i], outs[i], sws[i])
                         for (i, _, m), s in zip(self.metrics, trackers["metrics"])]
        bad = (trackers["nonfinite"] < 0) & ~jnp.isfinite(total)
        nonfinite = jnp.where(bad, index.astype(jnp.int32), trackers["nonfinite"])
        return {"loss": loss, "outputs": outputs, "metrics": metric_states,
                "nonfinite": nonfinite}

    @property
    def log_names(self) -> list:
        """Keras's log names, in Keras's order: loss, <output>_loss (several outputs), metrics."""
        names = ["loss"]
        if len(self.spec.output_names) > 1:
            names += [f"{self.spec.output_names[i]}_loss" for i in self.trained]
        return names + [key for _, key, _ in self.metrics]

    def logs(self, trackers):
        """The running values of `log_names` (a tuple: a dict's keys would come back sorted)
        and the index of the first batch whose loss was not finite (-1 if none)."""
        count = jnp.maximum(trackers["loss"][1], 1.0)
        values = [trackers["loss"][0] / count]
        if len(self.spec.output_names) > 1:
            values += [trackers["outputs"][j] / count for j in range(len(self.trained))]
        values += [metric.result(s) for (_, _, metric), s in zip(self.metrics, trackers["metrics"])]
        return tuple(values), trackers["nonfinite"]

    def uses_rng(self, params, state, xs) -> bool:
        """Whether the training forward pass reads its random key (Dropout and the like).

        Decided once per trace from the jaxpr: a model without randomness then gets no key,
        so no threefry code is compiled (about a third of an MLP step's compile time).
        """
        if self._uses_rng is None and dce_jaxpr is None:
            self._uses_rng = True
        if self._uses_rng is None:
            spec = lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype)  # noqa: E731
            args = jax.tree_util.tree_map(spec, (params, state, list(xs)))
            closed = jax.make_jaxpr(lambda k, p, s, x: self.run(p, s, x, True, k))(
                jax.random.key(0), *args)
            _, used = dce_jaxpr(closed.jaxpr, [True] * len(closed.jaxpr.outvars))
            self._uses_rng = bool(used[0])
        return self._uses_rng

    # ---- the compiled chunks ------------------------------------------------------------
    def _train_step(self, carry, batch, key, index):
        params, state, opt_state, trackers, step = carry
        train, frozen, treedef = self.split(params)
        rng = jax.random.fold_in(key, step) if self.uses_rng(params, state, batch[0]) else None

        def objective(train):
            total, per, outs, new_state = self.losses(self.merge(train, frozen, treedef), state,
                                                      batch, True, rng)
            return total, (per, outs, new_state)

        (total, (per, outs, new_state)), grads = jax.value_and_grad(objective, has_aux=True)(train)
        updates, opt_state = self.tx.update(grads, opt_state, train)
        train = optax.apply_updates(train, updates)
        trackers = self.track(trackers, total, per, outs, batch, index)
        return self.merge(train, frozen, treedef), new_state, opt_state, trackers, step + 1

    def _train_chunk(self, carry, data, start, count, offset, key):
        self.trace_count += 1

        def body(i, carry):
            return self._train_step(carry, _index(data, i), key, i + offset)
        carry = lax.fori_loop(start, start + count, body, carry)
        return carry, self.logs(carry[3])

    def _eval_chunk(self, trackers, params, state, data, start, count, offset):
        self.trace_count += 1

        def body(i, trackers):
            batch = _index(data, i)
            total, per, outs, _ = self.losses(params, state, batch, False, None)
            return self.track(trackers, total, per, outs, batch, i + offset)
        trackers = lax.fori_loop(start, start + count, body, trackers)
        return trackers, self.logs(trackers)
