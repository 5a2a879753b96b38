"""A layer's weights beyond its `params`/`state` dicts: made with `add_weight`, seen as Keras
`Variable`s and in Keras's `get_weights` layout, counted, and what training does with them
(regularizer penalties and `losses`, constraints, the trainable mask).

`Layer` inherits these from `LayerWeights`; they only read the layer's own attributes
(`_params`, `_state`, `_variables`, `_sublayers`, the regularizer and constraint dicts).
"""
from __future__ import annotations

import jax
import numpy as np

from .keras_form import make_weight
from .penalties import apply_constraints, weight_losses, weight_penalty
from .weights import each_once, get_weights, own_weights, set_weights


class LayerWeights:
    """The weights part of `Layer` (documented with it)."""

    def own_values(self, collection: str) -> dict:
        """This layer's own weights of `collection` ("params" or "state"), not its
        sub-layers': what its `Variable`s read outside a call.

        Examples:
            >>> class Scaled(layers.Layer):
            ...     def __init__(self):
            ...         super().__init__()
            ...         self.dense = layers.Dense(2, name="inner")
            ...         self.scale = self.add_weight(shape=(), initializer="ones", name="scale")
            ...     def call(self, inputs):
            ...         return self.scale * self.dense(inputs)
            >>> layer = Scaled(); _ = layer(graphnet.Input(shape=(3,)))
            >>> list(layer.own_values("params")), list(layer.params)
            (['scale'], ['scale', 'inner'])
        """
        return self._params if collection == "params" else self._state

    def set_own_values(self, collection: str, values: dict) -> None:
        """Replaces this layer's own weights of `collection` (a `Variable`'s `assign`).

        Args:
            collection: "params" (trainable) or "state".
            values: the new dict of this layer's own weights (sub-layers' are not in it).

        Examples:
            >>> layer = layers.Dense(1); layer.build((None, 2))
            >>> layer.set_own_values("params", {"kernel": np.ones((2, 1), "float32"),
            ...                                 "bias": np.zeros(1, "float32")})
            >>> print(layer.get_weights()[0])
            [[1.]
             [1.]]
        """
        if collection == "params":
            self._params = values
        else:
            self._state = values

    def add_weight(self, shape=None, initializer=None, dtype=None, trainable=True,
                   autocast=True, regularizer=None, constraint=None, aggregation="none",
                   name=None, **kwargs):
        """Keras `add_weight`: a `Variable` over this layer's params (trainable) or state.

        Call it in `build(input_shape)` (or `__init__` when the shape is known) and keep
        the result as an attribute; `call` reads it like an array.

        Args:
            shape: the weight's shape (fully known); None for a scalar.
            initializer: an initializer or its name; default "glorot_uniform" for floats,
                "zeros" for others.
            dtype: default the layer's `variable_dtype`.
            trainable: False keeps it in `state`: training leaves it alone, `call` may
                `assign` it.
            autocast: False keeps it in `variable_dtype` when the layer computes in another.
            regularizer: a penalty on it added to the training loss.
            constraint: a projection applied after each optimizer update.
            aggregation: Keras's distributed aggregation, accepted and ignored.
            name: unique within the layer (made unique when repeated).
            **kwargs: `overwrite_with_gradient=True` is refused.

        Returns:
            A `Variable` naming an entry of the layer's params or state.

        Raises:
            ValueError: the shape has an unknown size, or `overwrite_with_gradient=True`.
            TypeError: another keyword argument.

        Examples:
            >>> class Affine(layers.Layer):
            ...     def build(self, input_shape):
            ...         self.w = self.add_weight(shape=(input_shape[-1], 2), name="w")
            ...         self.b = self.add_weight(shape=(2,), initializer="zeros", name="b")
            ...     def call(self, inputs):
            ...         return inputs @ self.w + self.b
            >>> layer = Affine(name="affine"); _ = layer(graphnet.Input(shape=(3,)))
            >>> layer.w
            <Variable path=affine/w shape=(3, 2) dtype=float32>
            >>> {name: value.shape for name, value in layer.params.items()}
            {'w': (3, 2), 'b': (2,)}
        """
        return make_weight(self, self._variables, self._build_generator, shape, initializer, dtype,
                           trainable, autocast, regularizer, constraint, name, kwargs)

    def _sub_weights_owners(self) -> list:
        """Objects whose weights follow this layer's own in `weights` (Keras order)."""
        return list(self._sublayers)

    @property
    def weights(self) -> list:
        """Keras `layer.weights`: Variables, own first, then sub-layers' (each once).

        Examples:
            >>> layer = layers.Dense(2); _ = layer(graphnet.Input(shape=(3,)))
            >>> [w.shape for w in layer.weights]
            [(3, 2), (2,)]
        """
        return each_once(own_weights(self, self._variables) +
                         [w for s in self._sub_weights_owners() for w in s.weights])

    @property
    def trainable_weights(self) -> list:
        """The trainable weights as Keras `Variable`s; none for a frozen layer.

        Examples:
            >>> layer = layers.Dense(2); _ = layer(graphnet.Input(shape=(3,)))
            >>> layer.trainable = False; len(layer.trainable_weights)
            0
        """
        return self._weights_split(True)

    @property
    def non_trainable_weights(self) -> list:
        """The weights training does not change, as `Variable`s (all of a frozen layer's).

        Examples:
            >>> layer = layers.BatchNormalization(); _ = layer(graphnet.Input(shape=(3,)))
            >>> [w.shape for w in layer.non_trainable_weights]
            [(3,), (3,)]
        """
        return self._weights_split(False)

    def _weights_split(self, trainable: bool) -> list:
        if not self.trainable:
            return [] if trainable else self.weights
        own = [v for v in own_weights(self, self._variables) if v.trainable == trainable]
        subs = [w for s in self._sub_weights_owners()
                for w in (s.trainable_weights if trainable else s.non_trainable_weights)]
        return each_once(own + subs)

    @property
    def variables(self) -> list:
        """Every weight as a `Variable` (Keras's `layer.variables`, the same as `weights`).

        Examples:
            >>> layer = layers.Dense(2); layer.build((None, 3)); len(layer.variables)
            2
        """
        return self.weights

    @property
    def losses(self) -> list:
        """Keras's `layer.losses`: the last eager call's added losses (add_loss, activity),
        then each regularized weight's penalty on its current value (training has its own).

        Examples:
            >>> layer = layers.Dense(1, kernel_initializer="ones",
            ...                      kernel_regularizer=regularizers.L2(0.5))
            >>> layer.build((None, 2)); [float(loss) for loss in layer.losses]
            [1.0]
        """
        return list(self.__dict__.get("_eager_losses", ())) + weight_losses(self)

    def trainable_mask(self, parent: bool = True) -> dict:
        """A pytree of bools like `params`: False under any frozen layer.

        Args:
            parent: False when a layer holding this one is frozen.

        Examples:
            >>> layer = layers.Dense(2); layer.build((None, 3)); layer.trainable = False
            >>> layer.trainable_mask()
            {'kernel': False, 'bias': False}
        """
        flag = parent and self.trainable
        mask = {k: jax.tree_util.tree_map(lambda _: flag, v) for k, v in self._params.items()}
        for sub in self._sublayers:
            mask[sub.name] = sub.trainable_mask(flag)
        return mask

    def weight_penalty(self, params):
        """Sum of this layer's kernel/bias regularizers on `params` (its sub-layers' too).

        Examples:
            >>> layer = layers.Dense(1, kernel_regularizer=regularizers.L2(0.5))
            >>> layer.build((None, 2))
            >>> params = {"kernel": np.array([[1.0], [2.0]], "float32"),
            ...           "bias": np.zeros(1, "float32")}
            >>> float(layer.weight_penalty(params))        # 0.5 * (1 + 4)
            2.5
        """
        return weight_penalty(self, params)

    def apply_constraints(self, params):
        """`params` with this layer's weight constraints applied (its sub-layers' too): what
        training does after each optimizer update, as Keras's optimizers do.

        Examples:
            >>> layer = layers.Dense(1, kernel_constraint=constraints.NonNeg())
            >>> layer.build((None, 2))
            >>> params = {"kernel": np.array([[-1.0], [2.0]], "float32"),
            ...           "bias": np.array([-3.0], "float32")}
            >>> constrained = layer.apply_constraints(params)
            >>> print(np.asarray(constrained["kernel"]).ravel(), constrained["bias"])
            [0. 2.] [-3.]
        """
        return apply_constraints(self, params)

    @property
    def has_constraints(self) -> bool:
        """Whether this layer or one of its sub-layers has a weight constraint (`fit` then
        projects those weights after each update).

        Examples:
            >>> layers.Dense(1, kernel_constraint="non_neg").has_constraints
            True
        """
        return bool(self.weight_constraints) or any(s.has_constraints for s in self._sublayers)

    def get_weights(self) -> list:
        """The weights as NumPy arrays, in Keras's order (kernel before bias, trainable
        before non-trainable).

        Examples:
            >>> layer = layers.Dense(2); layer.build((None, 3))
            >>> [w.shape for w in layer.get_weights()]
            [(3, 2), (2,)]
        """
        return get_weights(self)

    def set_weights(self, weights) -> None:
        """Replace the weights with arrays in `get_weights`'s order.

        Args:
            weights: a list of arrays, one per weight.

        Raises:
            ValueError: the layer is not built, or the number or shapes of the arrays differ
                from its weights'.

        Examples:
            >>> layer = layers.Dense(1); layer.build((None, 2))
            >>> layer.set_weights([np.array([[1.0], [2.0]]), np.array([0.5])])
            >>> print(np.asarray(layer(np.array([[1.0, 1.0]], "float32"))))   # 1 + 2 + 0.5
            [[3.5]]
        """
        set_weights(self, weights, bool(self._variables))

    def count_params(self) -> int:
        """Keras's count: every weight, trainable or not, but no SeedGenerator state (Keras
        does not count seeds as weights either).

        Examples:
            >>> layer = layers.Dense(2); _ = layer(graphnet.Input(shape=(3,)))
            >>> layer.count_params()                   # a 3 x 2 kernel and 2 biases
            8
        """
        own = sum(np.size(x) for x in jax.tree_util.tree_leaves((self._params, self._state)))
        return int(own + sum(sub.count_params() for sub in self._sublayers))
