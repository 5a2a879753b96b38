"""Model and Sequential: a façade over the graph, the params view and the pure function."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import networkx as nx
import numpy as np

from . import naming
from . import graph as graphs
from .graph import build_graph, check_tensors, layer_order
from .interpret import make_run
from .layers.base import Input, InputLayer, Layer, Spec, shape_str
from .symbolic import SymbolicTensor

DEFAULT_BATCH_SIZE = 32


def _structure(x, role: str, model_name: str):
    """(kind, keys, flat list) of a model's inputs or outputs."""
    if isinstance(x, dict):
        if not x:
            raise ValueError(f"Model '{model_name}': {role} is an empty dict")
        for k in x:
            if not isinstance(k, str):
                raise TypeError(f"Model '{model_name}': {role} dict keys must be strings, received {k!r}")
        return "dict", list(x), list(x.values())
    if isinstance(x, (list, tuple)):
        if not x:
            raise ValueError(f"Model '{model_name}': {role} is an empty list")
        return "list", None, list(x)
    return "single", None, [x]


def _unique(names):
    seen, out = {}, []
    for n in names:
        count = seen.get(n, 0)
        seen[n] = count + 1
        out.append(n if count == 0 else f"{n}_{count}")
    return out


def _bucket(n: int, batch_size: int) -> int:
    """Padded size of a last, ragged batch: a power of two, so its compiles stay few."""
    return min(batch_size, 1 << max(n - 1, 0).bit_length())


class Model(Layer):
    """Keras functional Model: `Model(inputs, outputs)`, callable like a layer.

    The graph is `self.graph` (networkx, read-only); `apply` is the whole graph as a pure
    function, derived from that graph alone. `Model.from_graph` builds a model from an
    edited copy of it.
    """
    _graph_layers: tuple = ()
    added_losses: list = ()   # tensors a subclassed model's call gave add_loss (in the graph)
    _subclassed = False     # a subclass with Keras's `call(inputs)`: traced into a graph

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A model is always run as its graph; a Keras-style `call` is only traced.
        cls._subclassed = cls._keras_form
        cls._keras_form = False

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if name is None:
            base = naming.snake_case(type(self).__name__) if self._subclassed else "functional"
            name = naming.unique_name(base)
        super().__init__(name=name, trainable=trainable, **kwargs)
        if inputs is None and outputs is None and self._subclassed:
            self.built = False      # layers come in the subclass's __init__; traced later
            return
        if inputs is None or outputs is None:
            raise TypeError(f"Model '{self.name}' needs inputs= and outputs= (symbolic tensors); "
                            f"for a stack of layers use Sequential, for layers made in __init__ "
                            f"subclass Model and define call(inputs)")
        self._init_graph(inputs, outputs)

    def _init_graph(self, inputs, outputs, losses=(), ranks=None):
        """`losses`: scalar tensors added to the training loss (a subclassed model's
        `add_loss`), kept in the graph beside the outputs. `ranks`: where replayed inputs
        go in the node order (graph.reachable_nodes)."""
        self._input_kind, self._input_keys, self.inputs = _structure(inputs, "inputs", self.name)
        self._output_kind, self._output_keys, self.outputs = _structure(outputs, "outputs", self.name)
        if self._output_kind == "list" and len(self.outputs) == 1:
            self._output_kind = "single"      # Keras 3: a one-element list gives one array
        check_tensors(self.inputs, "inputs", self.name)
        check_tensors(self.outputs, "outputs", self.name)
        self.added_losses = list(losses)
        check_tensors(self.added_losses, "add_loss", self.name)
        self.graph, self.node_keys = build_graph(
            self.inputs, self.outputs, (self._input_kind, self._input_keys),
            (self._output_kind, self._output_keys), self.name, self.added_losses, ranks)
        self._calls = {key: node for node, key in self.node_keys.items()}
        layers = layer_order(self.graph)
        self._all_layers = layers
        self._graph_layers = tuple(l for l in layers if not isinstance(l, InputLayer))
        self.input_names = (list(self._input_keys) if self._input_kind == "dict"
                            else [t.node.layer.name for t in self.inputs])
        self.output_names = (list(self._output_keys) if self._output_kind == "dict"
                             else _unique([t.name for t in self.outputs]))
        self._run = make_run(self.graph)
        # Inference: (outputs, new_state). The state comes back because a call may change
        # it even when not training (a SeedGenerator's counter, a Keras-form layer's
        # assign), and Keras keeps such changes; the key feeds layers called training=True.
        self._jit_forward = jax.jit(lambda p, s, x, rng: self._run(p, s, x, False, rng)[:2])
        self.built = True

    # ---- a subclassed model: its call traced once into the graph ---------------------
    def build(self, input_shape=None, *, rng=None):
        """Keras `model.build(input_shape)` (batch axis included): traces a subclassed
        model's `call` on inputs of that shape."""
        if self.built:
            return self.params, self.state
        if input_shape is None:
            raise ValueError(f"Model '{self.name}' needs an input shape to build")
        self._trace(_inputs_for_shape(input_shape))
        return self.params, self.state

    def _require_built(self, x=None):
        if self.built:
            return
        if x is None:
            raise ValueError(f"Model '{self.name}' is not built yet: call it on data, or call "
                             f"model.build(input_shape), first")
        self._trace(_inputs_like(x))

    def _trace(self, inputs):
        """Runs the subclass's `call` on symbolic inputs: its layer calls and ops become
        this model's graph (the same graph a functional model has)."""
        self._traced_losses = []        # what add_loss receives during the trace
        try:
            outputs = self.call(inputs)
        except TypeError as err:
            raise TypeError(
                f"Model '{self.name}' ({type(self).__name__}): its call() could not be traced "
                f"into a graph: {err}. A subclassed model's call() runs once on symbolic "
                f"tensors, so it may only call layers and graphnet.ops on them; Python control "
                f"flow on tensor values (if/for/while on a tensor, NumPy or jax.numpy calls) "
                f"cannot be traced. Use graphnet.ops (ops.where, ops.cond) or move that code "
                f"into a custom Layer's call()") from None
        finally:
            losses, self._traced_losses = self._traced_losses, None
        if isinstance(outputs, tuple):
            outputs = list(outputs)
        self._init_graph(inputs, outputs, losses)

    def __call__(self, *args, **kwargs):
        if not self.built and self._subclassed and args:
            self._require_built(args[0])
        return super().__call__(*args, **kwargs)

    def _pure_call(self, params, state, *args, training=False, rng=None, **kwargs):
        return self.call_with_losses(params, state, *args, training=training, rng=rng, **kwargs)

    @classmethod
    def from_graph(cls, graph, name=None):
        """A model from a `networkx.DiGraph` in `model.graph`'s schema (docs: Editing models).

        `model.graph.copy()` edited with networkx calls is the intended input. Shapes are
        inferred again from the inputs (stale `shape` attributes are ignored); a layer that
        cannot take its new input is a ValueError naming it and both shapes. The layers are
        the graph's own objects, so weights are shared with the model the graph came from.
        """
        functional = cls.__init__ is Model.__init__ and not cls._subclassed
        return _from_graph(graph, name, "Model.from_graph", cls if functional else Model)

    # ---- structure -----------------------------------------------------------------
    @property
    def layers(self) -> list:
        """The model's layers in Keras's order (inputs first), each once even if called twice."""
        if not self.built:
            return [v for v in vars(self).values() if isinstance(v, Layer)]
        return list(self._all_layers)

    def get_layer(self, name=None, index=None):
        """A layer by `name` (or by position `index` in `layers`); a ValueError lists the names."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"Model '{self.name}' has no layer named {name!r}; its layers are "
                         f"{[l.name for l in self.layers]}")

    @property
    def input(self):
        """The input tensor (a list or dict of them for several inputs), as Keras's `model.input`."""
        return self._pack(self.inputs, self._input_kind, self._input_keys)

    @property
    def input_shape(self):
        """Keras `model.input_shape`: one shape (batch axis None), or a list of them."""
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        """Keras `model.output_shape`: one shape (batch axis None), or a list of them."""
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    def _sub_weights_owners(self) -> list:
        return list(self._graph_layers)

    @property
    def output(self):
        """The output tensor (a list or dict of them for several outputs)."""
        return self._pack(self.outputs, self._output_kind, self._output_keys)

    def _pack(self, flat, kind, keys):
        if kind == "single":
            return flat[0]
        if kind == "dict":
            return dict(zip(keys, flat))
        return list(flat)

    def pack_outputs(self, flat):
        """A flat list of output arrays in the model's output structure (one, list or dict)."""
        return self._pack(flat, self._output_kind, self._output_keys)

    def flatten_inputs(self, x, who: str = "Model"):
        """The user's inputs (one array, a list or a dict) as a list in `self.inputs` order."""
        n = len(self.inputs)
        if isinstance(x, dict):
            lookup = dict(zip(self.input_names, self.input_names))
            if self._input_kind == "dict":
                lookup.update({t.node.layer.name: k for t, k in zip(self.inputs, self._input_keys)})
            unknown = [k for k in x if k not in lookup]
            if unknown:
                raise ValueError(f"{who} '{self.name}': unknown input name(s) {unknown}; the "
                                 f"model's inputs are {self.input_names}")
            by_key = {lookup[k]: v for k, v in x.items()}
            missing = [k for k in self.input_names if k not in by_key]
            if missing:
                raise ValueError(f"{who} '{self.name}': input(s) {missing} were not passed; "
                                 f"expected {self.input_names}")
            return [by_key[k] for k in self.input_names]
        if isinstance(x, (list, tuple)) and not (n == 1 and _looks_like_data(x)):
            if len(x) != n:
                raise ValueError(f"{who} '{self.name}' expects {n} input(s) {self.input_names}, "
                                 f"received a {type(x).__name__} of {len(x)}")
            return list(x)
        if n != 1:
            raise ValueError(f"{who} '{self.name}' expects {n} inputs {self.input_names} as a "
                             f"list or dict, received one {type(x).__name__}")
        return [x]

    def prepare_inputs(self, x, who: str = "predict"):
        """Check and convert the user's arrays: names, numeric dtype, shape, equal lengths."""
        arrays = []
        for t, name, a in zip(self.inputs, self.input_names, self.flatten_inputs(x, who)):
            if not isinstance(a, jax.Array):
                try:
                    a = np.asarray(a)
                except (ValueError, TypeError) as err:
                    raise ValueError(f"{who}: input '{name}' of model '{self.name}' must be a "
                                     f"numeric array of shape {shape_str(t.shape)}; it could not "
                                     f"be made one ({err})") from None
                if a.dtype.kind not in "biuf":
                    raise TypeError(f"{who}: input '{name}' of model '{self.name}' must be "
                                    f"numeric, received an array of dtype {a.dtype}")
            expected = t.shape
            if a.ndim != len(expected) or any(e is not None and e != r for e, r in zip(expected[1:], a.shape[1:])):
                raise ValueError(f"{who}: input '{name}' of model '{self.name}' expects shape "
                                 f"{shape_str(expected)}, received {tuple(a.shape)}")
            if a.dtype != t.dtype:
                a = a.astype(t.dtype) if isinstance(a, jax.Array) else np.asarray(a, t.dtype)
            arrays.append(a)
        lengths = {name: a.shape[0] for name, a in zip(self.input_names, arrays)}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"{who}: inputs of model '{self.name}' have different numbers of "
                             f"samples {lengths}")
        return arrays

    # ---- values: the params view and the pure function ----------------------------
    @property
    def params(self) -> dict:
        """The current weights: a dict layer name -> dict of arrays (the pytree `apply` takes); assignable."""
        return {layer.name: layer.params for layer in self._graph_layers}

    @params.setter
    def params(self, value):
        """The current weights: a dict layer name -> dict of arrays (the pytree `apply` takes); assignable."""
        for layer in self._graph_layers:
            if layer.name not in value:
                raise KeyError(f"Model '{self.name}': params have no entry for layer '{layer.name}'")
            layer.params = value[layer.name]

    @property
    def state(self) -> dict:
        """The current non-weight state (e.g. moving statistics), a dict like `params`; assignable."""
        return {layer.name: layer.state for layer in self._graph_layers}

    @state.setter
    def state(self, value):
        """The current non-weight state (e.g. moving statistics), a dict like `params`; assignable."""
        for layer in self._graph_layers:
            if layer.name not in value:
                raise KeyError(f"Model '{self.name}': state has no entry for layer '{layer.name}'")
            layer.state = value[layer.name]

    def apply(self, params, state, inputs, *, training=False, rng=None):
        """The whole graph as a pure function: `(outputs, new_state)`.

        Works under jax.jit, grad, vmap and export; reads nothing from the layers.
        Dropout and other random layers need `rng` when `training=True`.
        """
        for what, tree in (("params", params), ("state", state)):
            missing = [layer.name for layer in self._graph_layers if layer.name not in tree]
            if missing:
                raise KeyError(f"apply: model '{self.name}' {what} have no entry for layer(s) "
                               f"{missing}; pass model.{what} (or a pytree like it)")
        outputs, new_state, _ = self._run(params, state, self.flatten_inputs(inputs, "apply"),
                                          training, rng)
        return self.pack_outputs(outputs), new_state

    def run_with_losses(self, params, state, inputs, training=False, rng=None, logits=False):
        """`(outputs, new_state, activity_penalty)` for a flat list of inputs in `inputs`
        order, outputs as a list in `outputs` order: what training differentiates."""
        run = getattr(self, "_remat_run", None) or self._run
        return run(params, state, inputs, training, rng, logits=logits)

    @property
    def uses_rng(self) -> bool:
        """Whether any layer draws randomness when training: if none does, training passes
        no random key, and no random-number code is compiled."""
        return any(layer.uses_rng for layer in self._graph_layers)

    @property
    def batch_dependent(self) -> bool:
        """Whether some layer mixes samples when training (batch statistics), or a loss
        added by `add_loss` is computed over the batch."""
        return bool(self.added_losses) or any(layer.batch_dependent
                                              for layer in self._graph_layers)

    @property
    def has_activity_regularizer(self) -> bool:
        """Whether the run adds loss terms of its own (activity penalties, add_loss)."""
        return bool(self.added_losses) or any(layer.activity_regularizer is not None or
                   getattr(layer, "has_activity_regularizer", False)
                   for layer in self._graph_layers)

    def trainable_mask(self, parent: bool = True) -> dict:
        """A pytree of bools like `params`: False under any frozen layer or model."""
        mask, parent = {}, parent and self.trainable
        for layer in self._graph_layers:
            mask[layer.name] = layer.trainable_mask(parent)
        return mask

    def weight_penalty(self, params):
        """Sum of every layer's kernel/bias regularizers (shared layers counted once)."""
        total = 0.0
        for layer in self._graph_layers:
            total = total + layer.weight_penalty(params[layer.name])
        return total

    def apply_constraints(self, params):
        """`params` with every layer's weight constraints applied (shared layers once)."""
        return {**params, **{layer.name: layer.apply_constraints(params[layer.name])
                             for layer in self._graph_layers if layer.has_constraints}}

    @property
    def has_constraints(self) -> bool:
        return any(layer.has_constraints for layer in self._graph_layers)

    # ---- a model used as a layer -----------------------------------------------------
    def compute_output_spec(self, inputs, **kwargs):
        """The output tensors of a call on symbolic inputs (the model used as a layer)."""
        for t, name, given in zip(self.inputs, self.input_names, self.flatten_inputs(inputs, "Model")):
            if not isinstance(given, SymbolicTensor):
                raise TypeError(f"Model '{self.name}' input '{name}' received {type(given).__name__}")
            if len(given.shape) != len(t.shape) or any(
                    a is not None and b is not None and a != b for a, b in zip(t.shape, given.shape)):
                raise ValueError(f"Model '{self.name}' input '{name}' expects shape "
                                 f"{shape_str(t.shape)}, received {shape_str(given.shape)}")
        return self.pack_outputs([Spec(t.shape, t.dtype) for t in self.outputs])

    def _autocast(self, params, args, kwargs):
        """Nothing: each layer inside casts its own inputs and weights to its policy."""
        return params, args, kwargs

    def call(self, params, state, inputs, *, training=False, rng=None):
        """The graph as a layer's call: `(outputs, new_state)`, for a model used inside another."""
        outputs, state, _ = self.call_with_losses(params, state, inputs, training=training, rng=rng)
        return outputs, state

    def call_with_losses(self, params, state, inputs, *, training=False, rng=None):
        """As `call`, also returning the activity-regularization losses of the call."""
        outputs, state, loss = self._run(params, state, self.flatten_inputs(inputs, "Model"),
                                         training, rng)
        return self.pack_outputs(outputs), state, loss

    def _call_eager(self, args, kwargs):
        if len(args) != 1:
            raise TypeError(f"Model '{self.name}' is called with one argument (an array, a list "
                            f"or a dict of arrays), received {len(args)}")
        training = kwargs.pop("training", False)
        if kwargs:
            raise TypeError(f"Model '{self.name}' got unexpected keyword argument(s) {sorted(kwargs)}")
        arrays = self.prepare_inputs(args[0], "Model call")
        # An eager call updates the model's state, as Keras's eager calls update its
        # variables (moving statistics when training, SeedGenerator counters always).
        if training:
            rng = jax.random.key(naming.next_seed())
            outputs, self.state, _ = self._run(self.params, self.state, arrays, True, rng)
        else:
            outputs, self.state = self._jit_forward(self.params, self.state, arrays,
                                                    self._inference_key())
        return self.pack_outputs(outputs)

    def _inference_key(self):
        """A fresh key for an inference call of a model with random layers (a layer called
        with training=True draws from it, as Keras's layers draw from their seed generators
        in predict), else None: then no random-number code is compiled."""
        return jax.random.key(naming.next_seed()) if self.uses_rng else None

    # ---- inference -------------------------------------------------------------------
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs as NumPy arrays, in the model's output structure.

        One compile per input signature: full batches share one, and a ragged last batch is
        padded to a power of two, so at most log2(batch_size) more ever exist. A progress
        bar with verbose=1 ("auto": when there is more than one batch).
        """
        from .train.loop import Progress, _verbosity, check_batch_size
        self._refuse_custom_step("predict_step", "predict")
        self._require_built(x)
        arrays = self.prepare_inputs(x, "predict")
        n = arrays[0].shape[0]
        if n == 0:
            raise ValueError(f"predict: model '{self.name}' received 0 samples")
        batch_size = check_batch_size(batch_size, "predict")
        batches = -(-n // batch_size)
        level = _verbosity(verbose)
        progress = Progress(1 if level == 1 and (verbose != "auto" or batches > 1) else 0, 1)
        progress.begin(0, batches, desc="Predict")
        params, state = self.params, self.state
        placement = self._trainer.placement if self._trainer is not None else None
        if placement is not None:      # data-parallel: batches padded to split evenly
            params, state = placement.replicate((params, state))
        pieces, key = [], self._inference_key()
        for index, start in enumerate(range(0, n, batch_size)):
            size = min(batch_size, n - start)
            batch = [a[start:start + size] for a in arrays]
            padded = _bucket(size, batch_size)
            if placement is not None:
                padded = placement.round_up(padded)
            if padded != size:
                batch = [_pad_rows(a, padded) for a in batch]
            if placement is not None:
                batch = placement.put_batch(batch)
            batch_key = None if key is None else jax.random.fold_in(key, index)
            out, state = self._jit_forward(params, state, batch, batch_key)
            pieces.append((out, size))
            progress.update(1, {})
        progress.end(0, {})
        self.state = state    # Keras keeps what inference changed (SeedGenerator counters)
        # Sliced as NumPy (a jax slice is one more dispatch), then copied: NumPy views of jax
        # arrays are read-only, and Keras's results are not.
        outputs = [np.concatenate([np.asarray(out[j])[:size] for out, size in pieces])
                   if len(pieces) > 1 else np.array(np.asarray(pieces[0][0][j])[:pieces[0][1]])
                   for j in range(len(self.outputs))]
        return self.pack_outputs(outputs)

    def predict_on_batch(self, x):
        """Keras `predict_on_batch`: the outputs for one batch, as NumPy arrays."""
        return self.predict(x, batch_size=max(self._batch_length(x), 1), verbose=0)

    def _batch_length(self, x):
        leaves = jax.tree_util.tree_leaves(x)
        return int(np.shape(leaves[0])[0]) if leaves else 0

    # ---- training: thin delegations to graphnet/train/ ------------------------------------
    optimizer = None          # the graphnet.optimizers.Optimizer given to compile
    stop_training = False     # set by a callback to end fit after the current dispatch
    history = None            # the History of the last fit
    _trainer = None

    def compile(self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None,
                loss_reduction="mean", devices=None, steps_per_execution=None,
                head_diagnostics=False, grad_combine=None, auto_scale_loss=True,
                weighted_metrics=None, remat=None):
        """Keras compile. The total loss is sum(w_i L_i) / sum(w_i) over the outputs with a
        loss ("mean"), or Keras's sum(w_i L_i) with loss_reduction="sum"; dicts are matched
        to outputs by name. `steps_per_execution` steps run per compiled dispatch.
        As in Keras, `metrics` ignore sample and class weights and `weighted_metrics`
        (same forms) are weighted by them.

        `devices`: None trains on the default device. "all" (jax.devices()), a list of jax
        devices, or a jax.sharding.Mesh whose FIRST axis is the data axis makes fit,
        evaluate and predict data-parallel: each batch is split over the data axis,
        weights are replicated, and the numbers equal one device's up to float rounding.
        fit's and evaluate's batch_size must then be a multiple of the number of data
        devices (a ValueError says which sizes work); predict takes any. docs/devices.md.

        Several outputs: `loss_weights` may be "uncertainty" (learned, Kendall et al. 2018)
        and changes later through `model.loss_weights`; `head_diagnostics=True` logs each
        output's loss share and trunk gradient norm and the gradients' agreement;
        `grad_combine="pcgrad"` applies PCGrad to the shared trunk. docs/multi_output.md.

        `remat`: a memory budget in bytes, "auto", node keys or a `graphnet.costing.RematPlan`;
        the nodes chosen from the cost table are recomputed in the backward pass. docs/cost.md."""
        from .train.loop import Trainer
        from .train.spec import make_args
        args = make_args(optimizer, loss, metrics, loss_weights, loss_reduction,
                         steps_per_execution, devices, head_diagnostics, grad_combine,
                         weighted_metrics)
        from .optimizers import LossScaleOptimizer
        # Keras's auto_scale_loss: float16 gradients need dynamic loss scaling.
        if (auto_scale_loss and self.dtype_policy.name == "mixed_float16"
                and not isinstance(args.optimizer, LossScaleOptimizer)):
            args.optimizer = LossScaleOptimizer(args.optimizer)
        self._remat_plan = self._remat_run = None
        if remat is not None:                   # recompute nodes chosen from the cost table
            from .costing import remat_plan
            self._require_built()
            self._remat_plan = remat_plan(self, remat)
            self._remat_run = make_run(self.graph, self._remat_plan.nodes)
        self._trainer = Trainer(self, args)
        self.optimizer = args.optimizer
        if self.built:
            self._trainer.check()

    def get_compile_config(self):
        """compile()'s arguments as JSON-able data, or None before compile (for saving)."""
        from .train.spec import compile_config
        return None if self._trainer is None else compile_config(self._trainer.args)

    def compile_from_config(self, config):
        """Compile again from what `get_compile_config` returned (used by `load_model`)."""
        from .train.spec import from_config
        self.compile(**from_config(config))

    @property
    def opt_state(self):
        """The optimizer's optax state (made on first read after compile), or None."""
        return None if self._trainer is None else self._trainer.opt_state

    @opt_state.setter
    def opt_state(self, value):
        self._compiled("set opt_state").opt_state = value

    @property
    def loss_weights(self):
        """Output name -> loss weight of each trained output (learned ones: exp(-s_i)).
        Assigning a dict (all or some outputs) takes effect from the next step on, without
        compiling again; a callback may do it between epochs or batches."""
        return None if self._trainer is None else self._trainer.get_loss_weights()

    @loss_weights.setter
    def loss_weights(self, value):
        self._compiled("set loss_weights").set_loss_weights(value)

    def reset_metrics(self):
        """Keras's reset_metrics. graphnet keeps no metric state between calls: fit and
        evaluate start their running metrics afresh, and train_on_batch/test_on_batch report
        their own batch (as Keras 3 does, resetting first), so there is nothing to reset."""

    def _refuse_custom_step(self, step: str, who: str):
        """Keras's `train_step`/`test_step`/`predict_step` overrides are not run: graphnet's
        step is one compiled program made from the graph, so an override would be silently
        ignored. Say so, and name what replaces it."""
        for cls in type(self).__mro__:
            if cls is Model:
                return
            if step in vars(cls):
                raise TypeError(
                    f"Model '{self.name}' ({type(self).__name__}) overrides {step}(), which "
                    f"graphnet does not run: {who} compiles its own step from the model's "
                    f"graph. Write the step as a loop of your own around the pure function "
                    f"model.apply(params, state, inputs, training=..., rng=...) with jax.grad "
                    f"and optax (see the JAX interop guide, 'A training loop of your own'), "
                    f"or remove the {step}() override to use {who}")

    def _compiled(self, what):
        if self._trainer is None:
            raise ValueError(f"Model '{self.name}' is not compiled: call compile before you "
                             f"{what}")
        return self._trainer

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None):
        """Keras fit; returns a History whose `.history` is a dict of lists.
        `steps_per_epoch`: each epoch takes the next that many batches (of arrays or of an
        iterable of batches, such as an endless generator), continuing across epochs."""
        self._refuse_custom_step("train_step", "fit")
        from .train import loop
        self._require_built(_first_inputs(x, y))
        return loop.fit(self, x, y, batch_size, epochs, verbose, callbacks, validation_split,
                        validation_data, shuffle, class_weight, sample_weight, initial_epoch,
                        steps_per_epoch)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 return_dict=False, callbacks=None):
        """Keras evaluate: the loss (and metrics) as a scalar, a list or a dict."""
        self._refuse_custom_step("test_step", "evaluate")
        from .train import loop
        self._require_built(_first_inputs(x, y))
        return loop.evaluate(self, x, y, batch_size, verbose, sample_weight, return_dict,
                             callbacks)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One optimizer step on one batch; returns the loss (and metrics), as Keras."""
        self._refuse_custom_step("train_step", "train_on_batch")
        from .train import loop
        self._require_built(x)
        return loop.train_on_batch(self, x, y, sample_weight, class_weight, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) on one batch, without training, as Keras."""
        self._refuse_custom_step("test_step", "test_on_batch")
        from .train import loop
        return loop.test_on_batch(self, x, y, sample_weight, return_dict)

    # ---- weights and description -------------------------------------------------------
    def get_weights(self) -> list:
        """Every weight as a NumPy array, in Keras's order and layouts."""
        return [w for layer in self._graph_layers for w in layer.get_weights()]

    def set_weights(self, weights) -> None:
        """Set every weight from a list in `get_weights`'s order; shapes are checked."""
        weights = list(weights)
        expected = sum(len(layer.get_weights()) for layer in self._graph_layers)
        if len(weights) != expected:
            raise ValueError(f"Model '{self.name}' expects {expected} weight arrays, received "
                             f"{len(weights)}")
        start = 0
        for layer in self._graph_layers:
            count = len(layer.get_weights())
            layer.set_weights(weights[start:start + count])
            start += count

    def count_params(self) -> int:
        """Weights of every layer, each layer once (also one both nested and called directly)."""
        return sum(layer.count_params() for layer in leaf_layers(self))

    def to_dot(self, **options) -> str:
        """The model's picture as Graphviz DOT text; options as in `graphnet.plot_model`."""
        from .plot import to_dot
        return to_dot(self, **options)

    def to_mermaid(self, **options) -> str:
        """The model's picture as a Mermaid flowchart; options as in `graphnet.plot_model`."""
        from .plot import to_mermaid
        return to_mermaid(self, **options)

    def _repr_svg_(self):
        """Jupyter shows a model as its picture (None before a Sequential knows its input)."""
        if not self.built:
            return None
        from .plot import model_svg
        return model_svg(self)

    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Keras `model.save`: one `.graphnet` file (architecture, weights, optimizer state)."""
        from .saving import save_model
        save_model(self, filepath, overwrite=overwrite, include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Write the weights alone to a file (see `load_weights`)."""
        from .saving import save_weights
        save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Read weights written by `save_weights` into this model (same architecture)."""
        from .saving import load_weights
        load_weights(self, filepath)

    def get_config(self) -> dict:
        """The architecture as JSON-able data: layers, their configs and connections."""
        from .saving import model_config
        return model_config(self)

    @classmethod
    def from_config(cls, config):
        """A new model (fresh weights) from the dict `get_config` returned; registered custom
        layers are found by name (`register_serializable`).
        """
        from .saving import model_from_config
        return model_from_config(config, cls)

    def summary(self, print_fn=None, cost=False):
        """Print a table of layers: name and type, output shape, parameters, inbound layers.
        `cost=True` adds FLOPs and activation memory per node (`graphnet.cost`)."""
        self._require_built()
        from .summary import summary_text
        text = summary_text(self)
        if cost:
            from .costing import cost_summary
            text = cost_summary(self, text, getattr(self, "_remat_plan", None))
        (print_fn or print)(text)

    def __repr__(self):
        return f"<{type(self).__name__} name='{self.name}' layers={len(self._graph_layers)}>"


def _input_dtype(dtype) -> str:
    """The Input dtype for data of `dtype`: float32 for floats, int32 for integers (JAX's
    default widths), as Keras does when it builds a model from data."""
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        return "float32" if dtype.itemsize >= 4 else dtype.name
    if dtype.kind in "iu":
        return "int32"
    return dtype.name


def _input_like(x, name=None):
    if isinstance(x, SymbolicTensor):
        return Input(shape=x.shape[1:], dtype=x.dtype, name=name)
    dtype = getattr(x, "dtype", None) or np.asarray(x).dtype
    return Input(shape=tuple(np.shape(x))[1:], dtype=_input_dtype(dtype), name=name)


def _inputs_like(x):
    """Symbolic inputs shaped like `x` (an array, a list or a dict of them)."""
    if isinstance(x, dict):
        return {k: _input_like(v, name=k) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and x and all(hasattr(v, "shape") for v in x):
        return [_input_like(v) for v in x]
    return _input_like(x)


def _inputs_for_shape(shape):
    if isinstance(shape, dict):
        return {k: Input(shape=tuple(v)[1:], name=k) for k, v in shape.items()}
    if isinstance(shape, list) and shape and isinstance(shape[0], (tuple, list)):
        return [Input(shape=tuple(s)[1:]) for s in shape]
    return Input(shape=tuple(shape)[1:])


def walk_layers(model, prefix: str = "", seen=None):
    """Yield (path, layer) for every layer under `model`, nested models opened (their names
    joined by "/" in the path), each layer once."""
    seen = set() if seen is None else seen
    for layer in model._graph_layers:
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if isinstance(layer, Model):
            yield from walk_layers(layer, f"{prefix}{layer.name}/", seen)
        else:
            yield prefix + layer.name, layer


def leaf_layers(model) -> list:
    """Every layer under `model`, nested models opened, each layer once."""
    return [layer for _, layer in walk_layers(model)]


def _from_graph(graph, name, who, cls, feeds=None, call=None, layer_map=None):
    """Replays `graph`'s calls (see graph.replay) and wraps them in a model of class `cls`."""
    if not isinstance(graph, nx.DiGraph) or graph.is_multigraph():
        raise TypeError(f"{who} expects a networkx.DiGraph in model.graph's schema, received "
                        f"{type(graph).__name__}")
    ranks = {}
    produced = graphs.replay(graph, who, feeds=feeds, call=call, layer_map=layer_map,
                             ranks=ranks)
    inputs = graph.graph.get("inputs")
    if inputs is None:
        keys = [k for k in graph.nodes if not graphs.has_arguments(graph, k)]
        inputs = keys[0] if len(keys) == 1 else keys
    outputs = graph.graph.get("outputs")
    if outputs is None:
        sinks = [(k, 0) for k in graph.nodes if graph.out_degree(k) == 0 and
                 graphs.has_arguments(graph, k)]
        outputs = sinks[0] if len(sinks) == 1 else sinks

    def tensor(key, output=0):
        if key not in produced:
            raise ValueError(f"{who}: the graph's inputs/outputs name node {key!r}, which is "
                             f"not in the graph")
        outs = produced[key]
        if not 0 <= output < len(outs):
            raise ValueError(f"{who}: the graph's outputs name output {output} of node "
                             f"'{key}', which has {len(outs)} output(s)")
        return outs[output]
    for key in graphs.flat(inputs):
        if key in produced and graphs.has_arguments(graph, key):
            raise ValueError(f"{who}: the graph's inputs name node '{key}', which has "
                             f"arguments; inputs are nodes without arguments")
    model_inputs = graphs.pack(inputs, [tensor(k) for k in graphs.flat(inputs)])
    model_outputs = graphs.pack(outputs, [tensor(*ref) for ref in graphs.flat(outputs)])
    model = cls(inputs=model_inputs, outputs=model_outputs,
                name=name if name is not None else graph.graph.get("name"))
    losses = [tensor(*ref) for ref in graph.graph.get("losses", ())]
    # add_loss of a subclassed model's call is kept by edits; an input the graph lists after
    # a call stays there (its Input was made before every call replayed here).
    if losses or _reordered(model, ranks):
        model._init_graph(model_inputs, model_outputs, losses, ranks)
    return model


def _reordered(model, ranks) -> bool:
    """Whether `ranks` moves a node of `model`'s graph (built in creation order)."""
    nodes = list(model.node_keys)
    return nodes != sorted(nodes, key=lambda n: ranks.get(n, n.id))


def _looks_like_data(x) -> bool:
    """A list given to a one-input model: nested numbers (data), or one array per input?"""
    return len(x) != 1 or not hasattr(x[0], "shape")


def _pad_rows(a, rows: int):
    pad = [(0, rows - a.shape[0])] + [(0, 0)] * (a.ndim - 1)
    return jnp.pad(a, pad) if isinstance(a, jax.Array) else np.pad(a, pad)


def _first_inputs(x, y):
    """What Sequential builds from: x, or the inputs of the first of a list of batches."""
    if y is None and isinstance(x, (list, tuple)) and x and isinstance(x[0], (list, tuple)):
        return x[0][0]
    return x


class Sequential(Model):
    """Keras Sequential: a stack of layers, built once its input shape is known."""

    def __init__(self, layers=None, name=None, trainable=True):
        Layer.__init__(self, name=name if name is not None else naming.unique_name("sequential"),
                       trainable=trainable)
        self._stack: list[Layer] = []
        self._tensors: list[SymbolicTensor] = []     # the input, then each layer's output
        self.built = False
        for layer in layers or ():
            self.add(layer)

    @property
    def layers(self) -> list:
        """The stack's layers, in order (without the input)."""
        return list(self._stack)

    def add(self, layer):
        """Append a layer (or an `Input`) to the stack; shapes are checked when known."""
        if isinstance(layer, InputLayer):
            layer = layer.output
        if isinstance(layer, SymbolicTensor):
            if self._tensors or self._stack:
                raise ValueError(f"Sequential '{self.name}': an Input can only be added first")
            self._tensors = [layer]
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential '{self.name}'.add expects a layer, received "
                            f"{type(layer).__name__}")
        if not self._tensors and not self._stack and layer.input_shape_hint is not None:
            self._tensors = [Input(shape=layer.input_shape_hint)]
        if self._tensors:
            output = layer(self._tensors[-1])
            if not isinstance(output, SymbolicTensor):
                raise ValueError(f"Sequential '{self.name}': layer '{layer.name}' returns "
                                 f"several tensors; use the functional Model for it")
            self._tensors.append(output)
        self._stack.append(layer)
        if self._tensors:
            self._init_graph(self._tensors[0], self._tensors[-1])

    def pop(self):
        """Remove the last layer of the stack."""
        if not self._stack:
            raise ValueError(f"Sequential '{self.name}' has no layer to pop")
        layer = self._stack.pop()
        if self._tensors:
            popped = self._tensors.pop()
            layer.call_nodes = [n for n in layer.call_nodes if n.outputs[0] is not popped]
            if self._stack:
                self._init_graph(self._tensors[0], self._tensors[-1])
            else:
                self.built = False
        return layer

    def build(self, input_shape=None, *, rng=None):
        """Keras's `model.build((None, features))`: the shape includes the batch axis."""
        if self.built:
            return self.params, self.state
        if input_shape is None:
            raise ValueError(f"Sequential '{self.name}' needs an input shape to build")
        self._start(Input(shape=tuple(input_shape)[1:]))
        return self.params, self.state

    def _start(self, tensor):
        """Calls the stacked layers on `tensor`, the model's input."""
        stack, self._stack = self._stack, []
        self._tensors = [tensor]
        for layer in stack:
            self.add(layer)

    def _require_built(self, x=None):
        if self.built:
            return
        if isinstance(x, dict):
            if len(x) != 1:
                raise ValueError(f"Sequential '{self.name}' has one input; received a dict of "
                                 f"{len(x)} arrays {list(x)}")
            (name, first), = x.items()
            self._start(Input(shape=np.shape(first)[1:], name=name))
            return
        if x is not None:
            first = x[0] if isinstance(x, (list, tuple)) else x
            self.build((None, *np.shape(first)[1:]))
            return
        raise ValueError(f"Sequential '{self.name}' has no input shape yet: pass input_shape= "
                         f"to its first layer, add a graphnet.Input, or call it on data")

    def __call__(self, *args, **kwargs):
        if not self.built and args:
            first = args[0]
            if isinstance(first, SymbolicTensor):
                self.build(first.shape)
            else:
                self._require_built(first)
        return super().__call__(*args, **kwargs)

    def predict(self, x, *args, **kwargs):
        """As `Model.predict`; builds the stack from the data's shape on first use."""
        self._require_built(x)
        return super().predict(x, *args, **kwargs)

    def fit(self, x=None, y=None, *args, **kwargs):
        """As `Model.fit`; builds the stack from the data's shape on first use."""
        self._require_built(_first_inputs(x, y))
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """As `Model.evaluate`; builds the stack from the data's shape on first use."""
        self._require_built(_first_inputs(x, y))
        return super().evaluate(x, y, *args, **kwargs)

    def summary(self, print_fn=None, cost=False):
        """As `Model.summary`; the stack must be built (given an input shape)."""
        self._require_built()
        super().summary(print_fn, cost=cost)

    def __getattr__(self, name):
        # Graph attributes exist only once the input shape is known; say so clearly.
        if name in ("graph", "inputs", "outputs", "input_names", "output_names", "node_keys"):
            raise AttributeError(f"Sequential '{self.__dict__.get('name')}' is not built yet: it "
                                 f"has no input shape, so no {name}")
        raise AttributeError(name)
