"""Model: what a Keras user calls on a graph (structure, the pure function, compile, fit,
predict, files); everything else is delegated.

The graph itself and the layer protocol over it are `functional.Functional`; training and
inference loops are train/; files are graphnet.saving (reached through `files`, since
saving imports the model).
"""
from __future__ import annotations

from . import custom_step, files, naming, step_metrics
from .costing import cost_summary, remat_plan
from .functional import Functional, from_graph, leaf_layers
from .interpret import logits_plan, make_run
from .losses import behind_activation
from .layers.base import Layer
from .optimizers import LossScaleOptimizer
from .plot import model_svg, to_dot, to_mermaid
from .stateless import stateless_call
from .subclass import first_inputs, inputs_for_shape, inputs_like, trace
from .summary import summary_text
from .train import loop, predict as predict_loop, tracking
from .train.spec import compile_config, from_config as compile_kwargs, make_args
from .train.trainer import Trainer
from .train.view import ModelView


class Model(Functional):
    """Keras functional Model: `Model(inputs, outputs)`, callable like a layer.

    The graph is `self.graph` (networkx, read-only); `apply` is the whole graph as a pure
    function, derived from that graph alone. `Model.from_graph` builds a model from an
    edited copy of it.
    """

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # A model is always run as its graph; a Keras-style `call` is only traced.
        cls.subclassed = cls._keras_form
        cls._keras_form = False

    _holds_models = False     # a subclass with its own train_step and no call (a GAN)

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        holds = not self.subclassed and custom_step.overrides(self, "train_step")
        if inputs is None and outputs is None and (self.subclassed or holds):
            if holds and name is None:          # Keras names it after its class: "gan"
                name = naming.unique_name(naming.snake_case(type(self).__name__))
            Layer.__init__(self, name=self._default_name(name), trainable=trainable, **kwargs)
            self.built = False      # layers come in the subclass's __init__; traced later
            # Without a call, the model is what its attributes hold (sub-models, metrics),
            # as a Keras GAN is: its step calls them; there is nothing to trace.
            self._holds_models = holds
            self._graph_layers = self._all_layers = ()
            return
        if inputs is None or outputs is None:
            name = self._default_name(name)
            raise TypeError(f"Model '{name}' needs inputs= and outputs= (symbolic tensors); "
                            f"for a stack of layers use Sequential, for layers made in __init__ "
                            f"subclass Model and define call(inputs)")
        super().__init__(inputs, outputs, name, trainable, **kwargs)

    @classmethod
    def from_graph(cls, graph, name=None):
        """A model from a `networkx.DiGraph` in `model.graph`'s schema (docs: Editing models).

        `model.graph.copy()` edited with networkx calls is the intended input. Shapes are
        inferred again from the inputs (stale `shape` attributes are ignored); a layer that
        cannot take its new input is a ValueError naming it and both shapes. The layers are
        the graph's own objects, so weights are shared with the model the graph came from.
        """
        functional = cls.__init__ is Model.__init__ and not cls.subclassed
        return from_graph(graph, cls if functional else Model, name)

    # ---- a subclassed model: its call traced once into the graph ---------------------
    def build(self, input_shape=None, *, rng=None):
        """Keras `model.build(input_shape)` (batch axis included): traces a subclassed
        model's `call` on inputs of that shape."""
        if self.built:
            return self.params, self.state
        if input_shape is None:
            raise ValueError(f"Model '{self.name}' needs an input shape to build")
        self._trace(inputs_for_shape(input_shape))
        return self.params, self.state

    def _require_built(self, x=None):
        if self.built or self._holds_models:
            return
        if x is None:
            raise ValueError(f"Model '{self.name}' is not built yet: call it on data, or call "
                             f"model.build(input_shape), first")
        self._trace(inputs_like(x))

    def _trace(self, inputs):
        """The subclass's `call` on symbolic inputs becomes this model's graph; what
        `add_loss` receives meanwhile is kept beside the outputs."""
        self._traced_losses = []
        try:
            outputs = trace(self, inputs)
        finally:
            losses, self._traced_losses = self._traced_losses, None
        self._init_graph(inputs, outputs, losses)

    def __call__(self, *args, **kwargs):
        if not self.built and self.subclassed and args:
            self._require_built(args[0])
        return super().__call__(*args, **kwargs)

    # ---- structure -----------------------------------------------------------------
    @property
    def layers(self) -> list:
        """The model's layers in Keras's order (inputs first), each once even if called twice."""
        if not self.built or self._holds_models:
            return [v for v in vars(self).values() if isinstance(v, Layer)]
        return list(self._all_layers)

    def _sub_weights_owners(self) -> list:
        return self.layers if self._holds_models else super()._sub_weights_owners()

    def get_layer(self, name=None, index=None):
        """A layer by `name` (or by position `index` in `layers`); a ValueError lists the names."""
        if index is not None:
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(f"Model '{self.name}' has no layer named {name!r}; its layers are "
                         f"{[l.name for l in self.layers]}")

    # ---- the pure function -----------------------------------------------------------
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
        outputs, new_state, _ = self._run(params, state, self._flatten_inputs(inputs, "apply"),
                                          training, rng)
        return self._pack_outputs(outputs), new_state

    def _view(self) -> ModelView:
        """What train/ sees of this model (made again when the graph changes)."""
        return ModelView(
            name=self.name, graph=self.graph, input_names=list(self.input_names),
            output_names=list(self.output_names), outputs=list(self.outputs),
            run=self._remat_run or self._run_graph, forward=self._forward_only,
            weight_penalty=self.weight_penalty,
            constrain=self.apply_constraints if self.has_constraints else None,
            trainable_mask=self.trainable_mask, prepare_inputs=self._prepare_inputs,
            pack_outputs=self._pack_outputs, inference_key=self._inference_key,
            uses_rng=self.uses_rng, batch_dependent=self.batch_dependent,
            activity=self.has_activity_regularizer)

    # ---- Keras 3's stateless API (custom steps and hand-written JAX loops) ------------
    @property
    def metrics_variables(self) -> list:
        """Keras `model.metrics_variables`: the variables of the metrics a custom step updates."""
        return custom_step.metrics_variables(self)

    def stateless_call(self, trainable_variables, non_trainable_variables, x, training=False,
                       rng=None, return_losses=False):
        """Keras `stateless_call`: `(y_pred, non_trainable_variables)` computed from the
        values given (lists in the order of the model's variable lists), no variable
        touched; `return_losses=True` adds the list of the call's losses (add_loss,
        activity and weight penalties), whose sum is what Keras's list sums to. With
        random layers, training=True takes `rng` (a JAX key)."""
        self._require_built(x)
        # graphnet's random layers draw from `rng`; a custom layer that draws with seed=None
        # and gets no key says so itself (seed generators need none).
        draws = any(layer.uses_rng and type(layer).__module__.startswith("graphnet.")
                    for layer in leaf_layers(self))
        return stateless_call(self, trainable_variables, non_trainable_variables, x,
                              training=training, rng=rng, return_losses=return_losses,
                              draws=draws, run=self._run_keeping_logits)

    def _run_keeping_logits(self, params, state, x, training, rng):
        """`(outputs, new_state, added_loss)`, remembering the logits behind each softmax or
        sigmoid output, so that `compute_loss` on these very outputs starts from them (as
        built-in training does: Keras's values, the cost of logits)."""
        flat, state, added, logits = self._run_graph(
            params, state, self._flatten_inputs(x, "stateless_call"), training, rng, logits=True)
        self._logits_seen = [(y, z, activation) for y, z, activation in
                             zip(flat, logits, logits_plan(self.graph)) if z is not None]
        return self._pack_outputs(flat), state, added

    def stateless_compute_loss(self, trainable_variables, non_trainable_variables,
                               metrics_variables, x=None, y=None, y_pred=None,
                               sample_weight=None, training=True):
        """Keras `stateless_compute_loss`: `(loss, (trainable_variables,
        non_trainable_variables, metrics_variables))`, the loss as `compute_loss` gives it.
        With one output nothing else changes (Keras updates per-output loss trackers only
        for several outputs, which this refuses)."""
        if len(self._compiled("stateless_compute_loss").spec.trained_outputs) > 1:
            raise NotImplementedError(
                f"Model '{self.name}' stateless_compute_loss with several trained outputs: "
                f"the per-output loss trackers are not updated yet; call compute_loss and "
                f"update the `<output>_loss` trackers in your step")
        loss = self.compute_loss(x, y, y_pred, sample_weight, training)
        return loss, (trainable_variables, non_trainable_variables, metrics_variables)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Keras `compute_loss`: the loss given to compile, on `y` and `y_pred` (traceable).
        Several outputs combine as compile combines them."""
        spec = self._compiled("compute_loss").spec
        if self.has_activity_regularizer or self.graph.graph.get("losses") or not isinstance(
                self.weight_penalty(self.params), float):
            raise NotImplementedError(
                f"Model '{self.name}' compute_loss: the model has regularizers or add_loss "
                f"losses, which compute_loss does not add yet (Keras's adds the penalties of "
                f"the weights as they were when the step was traced); add them in your step: "
                f"stateless_call(..., return_losses=True) returns them for the values given")
        if len(spec.output_names) == 1:
            y, y_pred = [y], [y_pred]
        weights = [spec.loss_weights[i] for i in spec.trained_outputs]
        total = sum(w * self._loss_term(spec.losses[i], y[i], y_pred[i], sample_weight)
                    for w, i in zip(weights, spec.trained_outputs))
        return total / sum(weights) if spec.loss_reduction == "mean" else total

    def _loss_term(self, loss, y, y_pred, sample_weight):
        """`loss(y, y_pred)`, from the logits behind `y_pred` when it is an output the last
        `stateless_call` returned and the loss is a crossentropy on its activation."""
        for seen, logits, activation in self.__dict__.get("_logits_seen", ()):
            if seen is y_pred:
                from_logits = behind_activation(loss, activation)
                if from_logits is not None:
                    return from_logits(y, logits, sample_weight)
        return loss(y, y_pred, sample_weight)

    # ---- inference -------------------------------------------------------------------
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs as NumPy arrays, in the model's output structure; `on_predict_*` hooks
        of `callbacks` run around it and each batch. A progress bar with verbose=1
        ("auto": when there is more than one batch). Inputs are not checked against an
        Embedding's vocabulary (fit and evaluate refuse ids outside [0, input_dim)): an id
        outside gives that sample NaN outputs, never another row's vector."""
        self._require_built(x)
        if custom_step.overrides(self, "predict_step"):
            return custom_step.predict(self, x, batch_size, callbacks)
        if self._holds_models:
            raise TypeError(f"Model '{self.name}' has no call(): it holds other models "
                            f"(its train_step uses them); call those, or define "
                            f"predict_step(self, state, data)")
        placement = self._trainer.placement if self._trainer is not None else None
        return predict_loop.predict(self, self._view(), x, batch_size, verbose, callbacks,
                                    placement)

    def predict_on_batch(self, x):
        """Keras `predict_on_batch`: the outputs for one batch, as NumPy arrays."""
        return self.predict(x, batch_size=max(predict_loop.batch_length(x), 1), verbose=0)

    # ---- training: thin delegations to graphnet/train/ ------------------------------------
    optimizer = None          # the graphnet.optimizers.Optimizer given to compile
    stop_training = False     # set by a callback to end fit after the current dispatch
    history = None            # the History of the last fit
    _trainer = None
    _remat_plan = _remat_run = None           # compile(remat=...): the plan and its run

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
        args = make_args(optimizer, loss, metrics, loss_weights, loss_reduction,
                         steps_per_execution, devices, head_diagnostics, grad_combine,
                         weighted_metrics)
        # Keras's auto_scale_loss: float16 gradients need dynamic loss scaling.
        if (auto_scale_loss and self.dtype_policy.name == "mixed_float16"
                and not isinstance(args.optimizer, LossScaleOptimizer)):
            args.optimizer = LossScaleOptimizer(args.optimizer)
        self._remat_plan = self._remat_run = None
        if remat is not None:                   # recompute nodes chosen from the cost table
            self._require_built()
            self._remat_plan = remat_plan(self, remat)
            self._remat_run = make_run(self.graph, self._remat_plan.nodes)
        self._trainer = Trainer(self, args, self._view)
        self.optimizer = args.optimizer
        custom_step.forget(self)
        step_metrics.forget(self)
        if self.built and not custom_step.overrides(self, "train_step"):
            self._trainer.check()

    def get_compile_config(self):
        """compile()'s arguments as JSON-able data, or None before compile (for saving)."""
        return None if self._trainer is None else compile_config(self._trainer.args)

    def compile_from_config(self, config):
        """Compile again from what `get_compile_config` returned (used by `load_model`)."""
        self.compile(**compile_kwargs(config))

    @property
    def opt_state(self):
        """The optimizer's optax state (made on first read after compile), or None."""
        return None if self._trainer is None else self._trainer.opt_state

    @opt_state.setter
    def opt_state(self, value):
        self._compiled("set opt_state").opt_state = value

    @property
    def training_step(self):
        """Steps trained so far with random layers (an int32 array), or None before
        compile: the position of training's random stream, saved with the optimizer state
        so that a loaded model draws what the saved one would have drawn next."""
        return None if self._trainer is None else self._trainer.step

    @training_step.setter
    def training_step(self, value):
        self._compiled("set training_step").step = value

    @property
    def loss_weights(self):
        """Output name -> loss weight of each trained output (learned ones: exp(-s_i)).
        Assigning a dict (all or some outputs) takes effect from the next step on, without
        compiling again; a callback may do it between epochs or batches."""
        return None if self._trainer is None else self._trainer.get_loss_weights()

    @loss_weights.setter
    def loss_weights(self, value):
        self._compiled("set loss_weights").set_loss_weights(value)

    @property
    def metrics(self) -> list:
        """Keras's `model.metrics`: [] before compile, then the `loss` tracker, the compiled
        metrics as one `compile_metrics` and each output's `<output>_loss` (several
        outputs), holding the values the last fit, evaluate or *_on_batch ended with.
        With a step of your own they are the metric objects the step updates, followed
        by the metrics the model holds in its attributes, as in Keras."""
        if self._custom_steps:
            made = [] if self._trainer is None else \
                step_metrics.compiled_metrics(self, self._trainer)
            return made + step_metrics.held_metrics(self)
        if self._trainer is None:
            return []
        trainer = self._trainer
        return tracking.model_metrics(trainer.spec, trainer.last_slots, trainer.last_logs)

    @property
    def metrics_names(self) -> list:
        """Keras's `metrics_names`: the names of `model.metrics`."""
        return [m.name for m in self.metrics]

    def get_metrics_result(self) -> dict:
        """Keras's `get_metrics_result()`: each log name -> its value at the end of the last
        run (after fit with validation data: validation's, as in Keras)."""
        return tracking.metrics_result(self.metrics)

    def reset_metrics(self):
        """Keras's reset_metrics. graphnet keeps no metric state between calls: fit and
        evaluate start their running metrics afresh, and train_on_batch/test_on_batch report
        their own batch (as Keras 3 does, resetting first), so there is nothing to reset."""

    @property
    def _custom_steps(self) -> bool:
        return custom_step.overrides(self, "train_step") or custom_step.overrides(self,
                                                                                 "test_step")

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
        self._require_built(first_inputs(x, y))
        if custom_step.overrides(self, "train_step"):
            self._compiled("fit")
            step_metrics.compiled_metrics(self, self._trainer, y)   # y: "accuracy"'s kind
            custom_step.refuse_options(validation_split=validation_split,
                                       class_weight=class_weight,
                                       steps_per_epoch=steps_per_epoch,
                                       devices=self._trainer.args.devices)
            return custom_step.fit(self, x, y, batch_size, epochs, verbose, callbacks,
                                   validation_data, shuffle, sample_weight, initial_epoch,
                                   self._trainer.args.steps_per_execution)
        return loop.fit(self, self._trainer, x, y, batch_size, epochs, verbose, callbacks,
                        validation_split, validation_data, shuffle, class_weight,
                        sample_weight, initial_epoch, steps_per_epoch)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 return_dict=False, callbacks=None):
        """Keras evaluate: the loss (and metrics) as a scalar, a list or a dict."""
        self._require_built(first_inputs(x, y))
        if custom_step.overrides(self, "test_step"):
            if self._trainer is not None:
                step_metrics.compiled_metrics(self, self._trainer, y)
            return custom_step.evaluate(self, x, y, batch_size, verbose, sample_weight,
                                        return_dict, callbacks)
        return loop.evaluate(self, self._trainer, x, y, batch_size, verbose, sample_weight,
                             return_dict, callbacks)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One optimizer step on one batch; returns the loss (and metrics), as Keras."""
        self._require_built(x)
        if custom_step.overrides(self, "train_step"):
            self._compiled("train_on_batch")
            return custom_step.train_on_batch(self, x, y, sample_weight, return_dict)
        return loop.train_on_batch(self, self._trainer, x, y, sample_weight, class_weight,
                                   return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) on one batch, without training, as Keras."""
        if custom_step.overrides(self, "test_step"):
            self._require_built(x)
            return custom_step.evaluate(self, x, y, predict_loop.batch_length(x), 0,
                                        sample_weight, return_dict, None)
        return loop.test_on_batch(self, self._trainer, x, y, sample_weight, return_dict)

    # ---- description and files -----------------------------------------------------------
    def to_dot(self, **options) -> str:
        """The model's picture as Graphviz DOT text; options as in `graphnet.plot_model`."""
        return to_dot(self, **options)

    def to_mermaid(self, **options) -> str:
        """The model's picture as a Mermaid flowchart; options as in `graphnet.plot_model`."""
        return to_mermaid(self, **options)

    def _repr_svg_(self):
        """Jupyter shows a model as its picture (None before a Sequential knows its input)."""
        if not self.built:
            return None
        return model_svg(self)

    def summary(self, print_fn=None, cost=False):
        """Print a table of layers: name and type, output shape, parameters, inbound layers.
        `cost=True` adds FLOPs and activation memory per node (`graphnet.cost`)."""
        self._require_built()
        text = summary_text(self)
        if cost:
            text = cost_summary(self, text, self._remat_plan)
        (print_fn or print)(text)

    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Keras `model.save`: one `.graphnet` file (architecture, weights, optimizer state)."""
        files.entry("save_model")(self, filepath, overwrite=overwrite,
                                  include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Write the weights alone to a file (see `load_weights`)."""
        files.entry("save_weights")(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Read weights written by `save_weights` into this model (same architecture)."""
        files.entry("load_weights")(self, filepath)

    def get_config(self) -> dict:
        """The architecture as JSON-able data: layers, their configs and connections."""
        return files.entry("model_config")(self)

    def to_json(self, **kwargs) -> str:
        """Keras's `to_json()`: the architecture as JSON text (`models.model_from_json`)."""
        return files.entry("model_to_json")(self, **kwargs)

    @classmethod
    def from_config(cls, config):
        """A new model (fresh weights) from the dict `get_config` returned; registered custom
        layers are found by name (`register_serializable`).
        """
        return files.entry("model_from_config")(config, cls)

    def __repr__(self):
        return f"<{type(self).__name__} name='{self.name}' layers={len(self._graph_layers)}>"
