"""What compile leaves on a model: the Trainer, which makes the compiled programs from the
model's view and keeps the training state that is not the model's weights."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from .. import losses as losses_module
from ..graph import trunk_layers
from ..interpret import logits_plan
from .devices import resolve as resolve_devices
from .spec import CompileArgs, check_output_keys, resolve
from . import heads as heads_module
from .step import Losses, Program

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


def fresh(tree):
    """Fresh device buffers for every leaf of a tree that will be donated: JAX may hand out
    one cached buffer for equal small constants (the zeros of fresh metric states), and
    donating one buffer twice in a call is an error."""
    return jax.device_put(tree, may_alias=False)


class Trainer:
    """What compile leaves on a model: its arguments, the resolved spec, the programs
    compiled for it (one per metric set, trainable mask and stop rule, so a second fit
    reuses the first's compile), and the training state that is not the model's weights:
    optimizer state, step count, loss weights and the first non-finite batch index."""

    def __init__(self, model, args: CompileArgs, view):
        """`view`: a function giving the model's current `ModelView` (a Sequential's graph
        may grow after compile). `model` is written back to through its public
        `params` and `state` only."""
        self.model, self.args, self.view = model, args, view
        self.optimizer = args.optimizer
        self._programs = {}
        self._spec = None
        self.placement = resolve_devices(args.devices)   # None: the default device
        self.step = None                  # device int32: optimizer steps so far (rng stream)
        self.trainable_key = None         # the trainable mask the optimizer state was made for
        self.loss_weights = None          # device float32 (trained outputs,): w_i, or s_i learned
        self.fixed_weights = None         # host float32 copy of fixed w_i (None when learned)
        self.last_logs, self.last_slots = None, []   # the last run's, for model.metrics
        self.nonfinite_batch = -1         # first batch of the last epoch whose loss was not finite

    # ---- the spec and the programs ------------------------------------------------------
    @property
    def spec(self):
        """The spec for the model's current outputs (an unbuilt Sequential has none until
        it is built, so this is resolved on first use)."""
        names = list(self.view().output_names)
        if self._spec is None or self._spec.output_names != names:
            self._spec = resolve(self.args, names)
            self._programs = {}
            self.loss_weights = None
        return self._spec

    def check(self):
        """Resolve the spec now: a dict key that names no output fails at compile."""
        return self.spec

    def _trainable(self):
        return tuple(bool(t) for t in jax.tree_util.tree_leaves(self.view().trainable_mask()))

    def program(self, metrics, stop_on_nonfinite=False, one_hot=frozenset()) -> Program:
        """`one_hot`: the outputs whose targets are one-hot rows in all the data this
        program will see (see `ArraySource.one_hot`)."""
        spec, model, view = self.spec, self.model, self.view()
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
                            behind=_behind_activation(view.graph, spec, trained, one_hot))
            heads = None
            if spec.head_diagnostics or spec.grad_combine == "pcgrad":
                trunk = trunk_layers(view.graph, trained)
                heads = heads_module.Heads(
                    names=losses.names,
                    trunk=heads_module.trunk_mask(model.params, trainable, trunk),
                    diagnostics=spec.head_diagnostics, pcgrad=spec.grad_combine == "pcgrad",
                    activity=view.activity)
            self._programs[key] = Program(
                view.run, view.weight_penalty, self.optimizer.tx, losses, metrics,
                trainable, uses_rng=view.uses_rng, heads=heads,
                stop_on_nonfinite=stop_on_nonfinite, placement=self.placement,
                scale_loss=self.optimizer.scale_loss,
                constrain=view.constrain)
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
        view = self.view()
        if view.activity or view.batch_dependent:
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
            # Path-routed optimizers (Muon, MultiOptimizer) learn which weight is which.
            paths = ["/".join(str(getattr(k, "key", getattr(k, "idx", k))) for k in keys)
                     for keys, _ in jax.tree_util.tree_flatten_with_path(self.model.params)[0]]
            self.optimizer.variable_paths = [p for p, t in zip(paths, trainable) if t]
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
        carry["trackers"] = fresh(trackers)
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
        check_output_keys(weights, names, "loss_weights: ", trained=True)
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


def _behind_activation(graph, spec, trained, one_hot) -> tuple:
    """Per trained output, its crossentropy computed from the logits behind a softmax or
    sigmoid output layer, or None: Keras's values at the compile cost of logits."""
    plan = logits_plan(graph)
    return tuple(losses_module.behind_activation(spec.losses[i], plan[i], i in one_hot)
                 if plan[i] else None for i in trained)


def compiled(trainer, model, who):
    """`trainer`, or the error that says `model` must be compiled before `who`."""
    if trainer is None:
        raise ValueError(f"{who}: model '{model.name}' must be compiled first: call "
                           f"model.compile(optimizer=..., loss=...) before {who}")
    return trainer
