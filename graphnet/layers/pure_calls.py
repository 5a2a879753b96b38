"""A layer's call as pure functions of its weights, under its dtype policy: `pure_call`,
the specs of its outputs, and what training adds to it (the activity loss, the logits
behind a last softmax or sigmoid).

`Layer` inherits these from `PureCalls`; the dtype properties live here because they decide
the casts every call makes (`_autocast`).
"""
from __future__ import annotations

import copy

from .. import activations, mixed_precision
from .keras_form import pure_keras_call
from .penalties import activity_loss
from .tracing import output_specs


class PureCalls:
    """The pure-call part of `Layer` (documented with it)."""

    @property
    def dtype(self) -> str:
        """The dtype weights are created in (the policy's variable_dtype), as Keras.

        Examples:
            >>> layers.Dense(2, dtype="mixed_float16").dtype
            'float32'
        """
        return self.dtype_policy.variable_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype the layer's weights are kept in (the dtype policy's `variable_dtype`).

        Examples:
            >>> layers.Dense(2, dtype="mixed_bfloat16").variable_dtype
            'float32'
        """
        return self.dtype_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        """The dtype `call` computes in (the dtype policy's `compute_dtype`).

        Examples:
            >>> layers.Dense(2, dtype="mixed_bfloat16").compute_dtype
            'bfloat16'
        """
        return self.dtype_policy.compute_dtype

    def _autocast(self, params, args, kwargs):
        """Keras's autocast: floating inputs and params in compute_dtype for `call`.

        Inputs are cast when `self.autocast` (Keras casts them in `__call__`); params, except
        `no_autocast_weights`, whenever compute and variable dtypes differ (Keras casts
        variables read inside `call`). Under a float32 policy nothing is cast.
        """
        return mixed_precision.cast_for_call(self.dtype_policy, params, args, kwargs,
                                             self.autocast, self.no_autocast_weights)

    def _pure_call(self, params, state, *args, training=False, rng=None, **kwargs):
        """`(outputs, new_state, added_loss)`: `call` as a pure function of its weights,
        under the layer's dtype policy (see `_autocast`): every path (the graph, eager calls,
        shape tracing) comes through here."""
        params, args, kwargs = self._autocast(params, args, kwargs)
        if not self._keras_form:
            outputs, state = self.call(params, state, *args, training=training, rng=rng, **kwargs)
            return outputs, state, 0.0
        return pure_keras_call(self, params, state, args, kwargs, training, rng)

    def pure_call(self, params, state, *args, training=False, rng=None, **kwargs):
        """`(outputs, new_state, added_loss)`: this layer's call as a pure function of its
        weights, whichever form it is written in.

        Args:
            params: the trainable weights.
            state: the non-trainable weights.
            *args: the input tensors.
            training: True for a training call.
            rng: a JAX key, for layers that draw in training.
            **kwargs: the call's other keywords (`mask`, ...).

        Examples:
            >>> layer = layers.Dense(1); layer.build((None, 2))
            >>> params = {"kernel": np.array([[1.0], [2.0]], "float32"),
            ...           "bias": np.array([0.5], "float32")}
            >>> out, state, loss = layer.pure_call(params, {}, np.ones((1, 2), "float32"))
            >>> print(np.asarray(out), state, float(loss))
            [[3.5]] {} 0.0
        """
        return self._pure_call(params, state, *args, training=training, rng=rng, **kwargs)

    def compute_output_spec(self, *args, **kwargs):
        """Specs of this call's outputs: `output_shape` where defined, else traced.

        Args:
            *args: the call's inputs (symbolic tensors).
            **kwargs: its keywords (`training`, `mask`, ...).

        Examples:
            >>> layer = layers.Dense(2); layer.build((None, 3))
            >>> layer.compute_output_spec(graphnet.Input(shape=(3,)))
            TensorSpec(shape=(None, 2), dtype=dtype('float32'))
        """
        return output_specs(self, args, kwargs)

    def call_with_losses(self, params, state, *args, training=False, rng=None, **kwargs):
        """`call` plus this call's activity-regularization loss (Model adds its layers').

        The activity penalty is divided by the batch size, as Keras 3 does.

        Args:
            params: the trainable weights.
            state: the non-trainable weights.
            *args: the input tensors.
            training: True for a training call.
            rng: a JAX key, for layers that draw in training.
            **kwargs: the call's other keywords.

        Returns:
            `(outputs, new_state, loss)`.

        Examples:
            >>> layer = layers.Dense(1, kernel_initializer="ones",
            ...                      activity_regularizer=regularizers.L1(0.5))
            >>> layer.build((None, 2)); x = np.array([[1.0, 2.0], [3.0, 4.0]], "float32")
            >>> out, state, loss = layer.call_with_losses(layer.params, layer.state, x)
            >>> print(np.asarray(out).ravel(), float(loss))      # 0.5 * (3 + 7) / 2
            [3. 7.] 2.5
        """
        outputs, state, loss = self._pure_call(params, state, *args, training=training, rng=rng,
                                               **kwargs)
        return outputs, state, loss + self._activity_loss(outputs)

    def _activity_loss(self, outputs):
        """The activity penalty of each output divided by its batch size, as Keras 3 does,
        so the total loss does not depend on `batch_size`."""
        return activity_loss(self.activity_regularizer, outputs)

    def logits_activation(self):
        """"softmax" or "sigmoid" when this layer's output is that activation of values that
        `call_with_logits` can also return (losses then start from the logits), else None.

        Examples:
            >>> print(layers.Dense(3, activation="softmax").logits_activation())
            softmax
            >>> print(layers.Dense(3).logits_activation())
            None
        """
        if not self.activation_last:
            return None
        if self.activation is activations.softmax:
            return "softmax"
        if self.activation is activations.sigmoid:
            return "sigmoid"
        return None

    def call_with_logits(self, params, state, *args, **kwargs):
        """`call_with_losses` plus the values the last activation was applied to.

        The call runs on a shallow copy whose activation is linear (nothing is mutated);
        the activation is then applied to its result, so the outputs are the same values.

        Args:
            params: the trainable weights.
            state: the non-trainable weights.
            *args: the input tensors.
            **kwargs: `training`, `rng` and the call's other keywords.

        Returns:
            `(outputs, new_state, loss, logits)`.

        Examples:
            >>> layer = layers.Dense(1, activation="sigmoid", kernel_initializer="zeros")
            >>> layer.build((None, 2))
            >>> out, state, loss, logits = layer.call_with_logits(
            ...     layer.params, layer.state, np.ones((1, 2), "float32"))
            >>> print(np.asarray(out), np.asarray(logits))
            [[0.5]] [[0.]]
        """
        bare = copy.copy(self)
        bare.activation = activations.linear
        logits, state, loss = bare.pure_call(params, state, *args, **kwargs)
        outputs = self.activation(logits)
        return outputs, state, loss + self._activity_loss(outputs), logits
