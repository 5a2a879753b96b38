"""Keras 3's stateless API on a `Model`: what custom steps and hand-written JAX loops call
(`stateless_call`, `compute_loss`, `stateless_compute_loss`, `metrics_variables`). A base
of `model.Model`, kept in its own module so that each stays short."""
from __future__ import annotations

from . import custom_step
from .functional import leaf_layers
from .interpret import logits_plan
from .losses import behind_activation
from .stateless import stateless_call


class ModelStateless:
    """Keras's stateless methods of a model, pure in the values they are given."""

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
