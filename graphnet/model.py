"""Model: what a Keras user calls on a graph (structure, the pure function, compile, fit,
predict, files); everything else is delegated.

The graph itself and the layer protocol over it are `functional.Functional`; training and
inference loops are train/; the summary, pictures and files are `model_files.ModelFiles`
(files are graphnet.saving, reached through `files`, since saving imports the model).
"""
from __future__ import annotations

from . import custom_step, naming, step_metrics
from . import metrics as metrics_module
from .costing import remat_plan
from .functional import Functional, from_graph
from .interpret import make_run
from .layers.base import Layer
from .model_files import ModelFiles
from .model_stateless import ModelStateless
from .optimizers import LossScaleOptimizer
from .subclass import first_inputs, inputs_for_shape, inputs_like, trace
from .train import loop, predict as predict_loop, tracking
from .train.spec import compile_config, from_config as compile_kwargs, make_args
from .train.trainer import Trainer
from .train.view import ModelView


class Model(ModelFiles, ModelStateless, Functional):
    """Keras functional Model: `Model(inputs, outputs)`, callable like a layer.

    The graph is `self.graph` (networkx, read-only); `apply` is the whole graph as a pure
    function, derived from that graph alone. `Model.from_graph` builds a model from an
    edited copy of it.

    Examples:
        >>> inputs = graphnet.Input(shape=(4,))
        >>> hidden = layers.Dense(8, activation="relu")(inputs)
        >>> model = graphnet.Model(inputs, layers.Dense(1)(hidden))
        >>> model.count_params(), model.output_shape
        (49, (None, 1))
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
        inferred again from the inputs (stale `shape` attributes are ignored). The layers are
        the graph's own objects, so weights are shared with the model the graph came from.

        Args:
            graph: a `networkx.DiGraph` whose nodes carry `layer` (an `InputLayer` for each
                input) and whose edges carry `args` as `model.graph`'s do.
            name: the new model's name (a fresh `functional_N` when None).

        Returns:
            A new `Model` (of this class when it is a plain functional model).

        Raises:
            ValueError: a layer cannot take its new input (the message names it and both
                shapes), the graph has a cycle, or an output does not depend on the inputs.

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input((3,), name="x"), layers.Dense(2)])
            >>> graph = model.graph.copy()
            >>> graphnet.Model.from_graph(graph, name="copy").output_shape
            (None, 2)
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
        """The model's layers in Keras's order (inputs first), each once even if called twice.

        Examples:
            >>> inputs = graphnet.Input((3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs))
            >>> [layer.name for layer in model.layers]
            ['x', 'dense']
        """
        if not self.built or self._holds_models:
            return [v for v in vars(self).values() if isinstance(v, Layer)]
        return list(self._all_layers)

    def _sub_weights_owners(self) -> list:
        return self.layers if self._holds_models else super()._sub_weights_owners()

    def get_layer(self, name=None, index=None):
        """A layer by `name` (or by position `index` in `layers`); a ValueError lists the names.

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> model.get_layer("dense").units
            2
        """
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

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> outputs, state = model.apply(model.params, model.state, np.ones((4, 3), "float32"))
            >>> outputs.shape
            (4, 2)
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

    # ---- inference -------------------------------------------------------------------
    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Keras `predict`: the outputs for `x`, batch by batch, as NumPy arrays.

        Inputs are not checked against an Embedding's vocabulary (fit and evaluate refuse
        ids outside [0, input_dim)): an id outside gives that sample NaN outputs, never
        another row's vector.

        Args:
            x: the inputs: an array, a list (by input position) or a dict (by `Input` name),
                or a re-iterable of batches (a generator function's result, a `PyDataset`).
            batch_size: samples per batch (32 when None); ignored for batches given as such.
            verbose: 0 silent, 1 a progress bar; "auto" shows it when there are several batches.
            steps: how many batches of an iterable to read (all when None).
            callbacks: `Callback`s whose `on_predict_*` hooks run around it and each batch.

        Returns:
            The outputs in the model's output structure: one array, a list or a dict.

        Raises:
            ValueError: an input is missing or has the wrong shape (the message names it).

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> model.predict(np.ones((5, 3), "float32"), verbose=0).shape
            (5, 2)
        """
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
        """Keras compile: the optimizer, losses and metrics `fit` and `evaluate` use.

        The total loss is sum(w_i L_i) / sum(w_i) over the outputs with a loss, or Keras's
        sum(w_i L_i) with `loss_reduction="sum"`; regularization penalties are added after.
        Dicts (losses, metrics, loss weights) are matched to outputs by name.

        Args:
            optimizer: a name ("rmsprop", "adam", ...), a `graphnet.optimizers` object or any
                `optax.GradientTransformation`.
            loss: a name, a `Loss` or a function `f(y_true, y_pred)`; for several outputs one
                for all, a list by output position or a dict by output name (None: the output
                is not trained).
            metrics: names or `Metric`s, as a list (every output), a list of lists or a dict
                by output name; unweighted, as in Keras.
            loss_weights: a list or dict of floats, or "uncertainty" (learned, Kendall et al.
                2018); read and changed later through `model.loss_weights`.
            loss_reduction: "mean" (the weighted average above) or "sum" (Keras's total).
            devices: None for the default device; "all", a list of devices or a
                `jax.sharding.Mesh` (its first axis the data axis) makes fit, evaluate and
                predict data-parallel, and fit's batch size a multiple of the device count.
            steps_per_execution: training steps run per compiled dispatch.
            head_diagnostics: log each output's loss share, trunk gradient norm and the
                outputs' gradient agreement (docs: Multi-output models).
            grad_combine: "pcgrad" applies PCGrad to the shared trunk's gradients.
            auto_scale_loss: wrap the optimizer in `LossScaleOptimizer` under "mixed_float16".
            weighted_metrics: metrics, in `metrics`' forms, weighted by sample and class weights.
            remat: a memory budget in bytes, "auto", node keys or a `costing.RematPlan`: those
                nodes are recomputed in the backward pass (docs: The cost of every node).

        Raises:
            ValueError: an unknown optimizer or loss name (the message lists the valid ones),
                a non-finite learning rate or loss weight, or a list of the wrong length.
            KeyError: a dict key that names no output, or an unknown metric name (the message
                gives close matches).

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> model.compile(optimizer="adam", loss="mse", metrics=["mae"])
            >>> model.optimizer.learning_rate
            0.001
        """
        metrics_module.check_names(metrics, "metrics")
        metrics_module.check_names(weighted_metrics, "weighted_metrics")
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
        """The optimizer's optax state (made on first read after compile), or None.

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> model.opt_state is None
            True
        """
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
        """Output name -> loss weight of each trained output (None before compile).

        Learned weights (`loss_weights="uncertainty"`) read as exp(-s_i). Assigning a dict
        (all or some outputs) takes effect from the next step on, without compiling again;
        a callback may do it between epochs or batches. Assigning before compile is a
        ValueError; a key naming no trained output is a KeyError; a non-finite or negative
        weight is a ValueError.

        Examples:
            >>> inputs = graphnet.Input(shape=(3,))
            >>> a, b = layers.Dense(1, name="a")(inputs), layers.Dense(1, name="b")(inputs)
            >>> model = graphnet.Model(inputs, [a, b])
            >>> model.compile(optimizer="sgd", loss="mse", loss_weights={"a": 1.0, "b": 0.5})
            >>> model.loss_weights = {"b": 2.0}
            >>> model.loss_weights
            {'a': 1.0, 'b': 2.0}
        """
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
        """Keras fit: train for `epochs` passes over the data, `steps_per_execution` steps per
        compiled dispatch.

        Args:
            x: the inputs, as in `predict`; or a re-iterable of `(x, y)` or
                `(x, y, sample_weight)` batches, with `y` then None.
            y: the targets: an array, a list by output position or a dict by output name.
            batch_size: samples per step (32 when None); ignored for batches given as such.
            epochs: the epoch to stop at (counting `initial_epoch`).
            verbose: 0 silent, 1 a progress bar per epoch, 2 one line per epoch; "auto" is 1.
            callbacks: `Callback`s; a `History` is always added and returned.
            validation_split: the fraction of the arrays, taken from the end before
                shuffling, held out and evaluated after each epoch.
            validation_data: `(x, y)` or `(x, y, sample_weight)` evaluated after each epoch.
            shuffle: shuffle the training samples before each epoch.
            class_weight: {class index: weight}, multiplied into the sample weights.
            sample_weight: one weight per sample (or per timestep, for sequence targets).
            initial_epoch: the epoch to start at (to resume a previous fit).
            steps_per_epoch: each epoch takes the next that many batches (of arrays or of an
                iterable of batches, such as an endless generator), continuing across epochs.

        Returns:
            A `History`: `history.history` maps "loss", each metric, each `<output>_loss` and
            their "val_" forms to one value per epoch.

        Raises:
            ValueError: the model is not compiled; an input or target is missing, has the
                wrong shape or is not finite; labels fall outside a sparse loss's classes
                (each message names the input or output).
            KeyError: a dict of inputs, targets or class weights with a key that names
                nothing in the model.

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> model.compile(optimizer="sgd", loss="mse")
            >>> x, y = np.ones((8, 3), "float32"), np.zeros((8, 2), "float32")
            >>> history = model.fit(x, y, batch_size=4, epochs=2, verbose=0)
            >>> len(history.history["loss"])
            2
        """
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
        """Keras evaluate: the loss and metrics over the data, with the weights as they are.

        Args:
            x: the inputs, as in `fit`.
            y: the targets, as in `fit`.
            batch_size: samples per batch (32 when None).
            verbose: 0 silent, 1 a progress bar; "auto" is 1.
            sample_weight: one weight per sample, used by the loss and `weighted_metrics`.
            return_dict: return {name: value} rather than a scalar or a list.
            callbacks: `Callback`s whose `on_test_*` hooks run around it and each batch.

        Returns:
            The loss alone (no metrics), `[loss, *metrics]` in `metrics_names` order, or a
            dict with `return_dict=True`.

        Raises:
            ValueError: the model is not compiled, or the data do not fit its inputs and
                outputs (the message names them).

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
            >>> x, y = np.ones((8, 3), "float32"), np.zeros((8, 2), "float32")
            >>> sorted(model.evaluate(x, y, verbose=0, return_dict=True))
            ['loss', 'mae']
        """
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
        """One optimizer step on one batch; returns the loss (and metrics), as Keras.

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> model.compile(optimizer="sgd", loss="mse")
            >>> x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
            >>> isinstance(model.train_on_batch(x, y), float)
            True
        """
        self._require_built(x)
        if custom_step.overrides(self, "train_step"):
            self._compiled("train_on_batch")
            return custom_step.train_on_batch(self, x, y, sample_weight, return_dict)
        return loop.train_on_batch(self, self._trainer, x, y, sample_weight, class_weight,
                                   return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (and metrics) on one batch, without training, as Keras.

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> model.compile(optimizer="sgd", loss="mse")
            >>> x, y = np.ones((4, 3), "float32"), np.zeros((4, 2), "float32")
            >>> sorted(model.test_on_batch(x, y, return_dict=True))
            ['loss']
        """
        if custom_step.overrides(self, "test_step"):
            self._require_built(x)
            return custom_step.evaluate(self, x, y, predict_loop.batch_length(x), 0,
                                        sample_weight, return_dict, None)
        return loop.test_on_batch(self, self._trainer, x, y, sample_weight, return_dict)

    def __repr__(self):
        return f"<{type(self).__name__} name='{self.name}' layers={len(self._graph_layers)}>"
