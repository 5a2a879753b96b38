"""graphnet.constraints: Keras's weight constraints, applied after each optimizer update
inside the compiled step, as Keras's optimizers apply them."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import constraints, layers, ops

RTOL = 1e-5


def data(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


@pytest.mark.parametrize("name, make", [
    ("NonNeg", lambda m: m.NonNeg()),
    ("MaxNorm", lambda m: m.MaxNorm(0.5, axis=0)),
    ("MaxNorm", lambda m: m.MaxNorm(1.0, axis=[0, 1])),
    ("MinMaxNorm", lambda m: m.MinMaxNorm(0.5, 0.8, rate=0.7, axis=1)),
    ("UnitNorm", lambda m: m.UnitNorm(axis=1)),
])
def test_constraint_values_match_keras(name, make):
    w = data(3, 4, 2)
    np.testing.assert_allclose(make(constraints)(w), make(keras.constraints)(w), rtol=RTOL,
                               atol=1e-7)
    assert constraints.get(name.lower()).__class__.__name__ == name
    again = constraints.deserialize(constraints.serialize(make(constraints)))
    assert again.get_config() == make(constraints).get_config()


def test_unknown_constraint_names_the_valid_ones():
    with pytest.raises(ValueError, match="max_norm"):
        constraints.get("maxi_norm")


def train_side_by_side(g, k, x, y, learning_rate, steps=3, check_each=False):
    """`steps` SGD batches on graphnet model `g` and Keras model `k` (same weights); their
    weights compared after every step, or only after the last."""
    k.compile(keras.optimizers.SGD(learning_rate), "mse")
    g.compile(gn.optimizers.SGD(learning_rate), "mse")
    for step in range(steps):
        g.train_on_batch(x, y)
        k.train_on_batch(x, y)
        if check_each or step == steps - 1:
            for ours, theirs in zip(g.get_weights(), k.get_weights()):
                np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=1e-6)


def make_constrained(layers, ops, constraints_module):
    class Constrained(layers.Layer):
        """A Dense-like layer whose kernel stays non-negative and whose bias has norm <= 0.1."""

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], 3), initializer="random_normal",
                                     constraint=constraints_module.NonNeg(), name="w")
            self.b = self.add_weight(shape=(3,), initializer="zeros", name="b",
                                     constraint=constraints_module.MaxNorm(0.1))

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b
    return Constrained


def test_add_weight_constraint_applied_after_each_update_as_keras():
    def model(keras_module, layers_module, ops_module, constraints_module):
        inputs = keras_module.Input((4,))
        h = layers_module.Dense(4, activation="tanh")(inputs)
        out = make_constrained(layers_module, ops_module, constraints_module)()(h)
        return keras_module.Model(inputs, out)
    k = model(keras, keras.layers, keras.ops, keras.constraints)
    g = model(gn, layers, ops, constraints)
    g.set_weights(k.get_weights())
    x, y = data(16, 4), data(16, 3, seed=1)
    train_side_by_side(g, k, x, y, 0.5, check_each=True)
    np.testing.assert_allclose(g.evaluate(x, y, verbose=0), k.evaluate(x, y, verbose=0),
                               rtol=RTOL)
    kernel, bias = g.layers[-1].get_weights()
    assert kernel.min() >= 0 and (kernel == 0).any()        # the constraint did act
    assert np.linalg.norm(bias) <= 0.1 + 1e-6
    g.fit(x, y, batch_size=4, epochs=1, verbose=0)           # several steps per dispatch
    assert g.layers[-1].get_weights()[0].min() >= 0
    assert g.layers[-1].w.constraint.__class__ is constraints.NonNeg


def test_frozen_constrained_weights_are_left_alone():
    inputs = gn.Input((4,))
    layer = make_constrained(layers, ops, constraints)()
    model = gn.Model(inputs, layer(inputs))
    kernel = -np.abs(data(4, 3))                             # violates NonNeg on purpose
    layer.set_weights([kernel, np.zeros(3, "float32")])
    layer.trainable = False
    model.compile("sgd", "mse")
    model.train_on_batch(data(8, 4), data(8, 3))
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)


def _constrained_dense_model(keras_module, layers_module, constraints_module):
    inputs = keras_module.Input((5,))
    h = layers_module.Dense(4, activation="relu",
                            kernel_constraint=constraints_module.MaxNorm(0.6),
                            bias_constraint=constraints_module.NonNeg())(inputs)
    h = layers_module.Reshape((2, 2, 1))(h)
    h = layers_module.Conv2D(2, 2, kernel_constraint=constraints_module.UnitNorm(axis=[0, 1, 2]))(h)
    return keras_module.Model(inputs, layers_module.Flatten()(h))


def test_layer_constraint_arguments_match_keras_and_save(tmp_path):
    k = _constrained_dense_model(keras, keras.layers, keras.constraints)
    g = _constrained_dense_model(gn, layers, constraints)
    g.set_weights(k.get_weights())
    x, y = data(16, 5), data(16, 2, seed=1)
    train_side_by_side(g, k, x, y, 0.3)
    dense = g.layers[1]
    assert dense.get_config()["kernel_constraint"]["class_name"] == "MaxNorm"
    g.save(tmp_path / "c.graphnet")
    again = gn.load_model(tmp_path / "c.graphnet")
    assert isinstance(again.layers[1].weight_constraints["kernel"], constraints.MaxNorm)
    g.save(tmp_path / "c.keras")                 # Keras reads our file, and we read Keras's
    from_ours = keras.saving.load_model(tmp_path / "c.keras")
    assert isinstance(from_ours.layers[1].kernel_constraint, keras.constraints.MaxNorm)
    k.save(tmp_path / "k.keras")
    from_keras = gn.load_model(tmp_path / "k.keras")
    assert isinstance(from_keras.layers[3].weight_constraints["kernel"], constraints.UnitNorm)
