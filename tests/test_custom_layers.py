"""Keras's layer-writing API: add_weight, call(inputs), sub-layers, add_loss, Metric and
Loss subclasses. Each class is written once, as Keras code, and made against Keras 3 and
graphnet by changing only the modules it imports; same weights must give same outputs."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, metrics, ops

RTOL = 1e-5
ATOL = 1e-6      # float32 sums that cancel to ~1e-3 keep only ~1e-8 absolute


def both(make):
    """The class `make(layers, ops)` returns, for Keras and for graphnet."""
    return make(keras.layers, keras.ops), make(layers, ops)


def data(*shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def make_linear(layers, ops):
    class Linear(layers.Layer):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal", trainable=True, name="w")
            self.b = self.add_weight(shape=(self.units,), initializer="zeros", trainable=True,
                                     name="b")

        def call(self, inputs):
            return ops.relu(ops.matmul(inputs, self.w) + self.b)

        def get_config(self):
            return {**super().get_config(), "units": self.units}
    return Linear


def test_add_weight_in_build_matches_keras():
    KLinear, GLinear = both(make_linear)
    k = keras.Sequential([keras.Input((5,)), KLinear(4)])
    g = gn.Sequential([gn.Input((5,)), GLinear(4)])
    g.set_weights(k.get_weights())
    x = data(6, 5)
    np.testing.assert_allclose(g.predict(x, verbose=0), k.predict(x, verbose=0), rtol=RTOL, atol=ATOL)
    layer = g.layers[0]
    assert isinstance(layer.w, gn.variables.Variable)
    assert [w.path for w in g.weights] == [f"{layer.name}/w", f"{layer.name}/b"]
    assert layer.w.shape == (5, 4) and layer.w.trainable
    # the pure function: weights are the params given, not the layer's
    params = jax.tree_util.tree_map(lambda v: v * 0, g.params)
    out, _ = g.apply(params, g.state, x)
    np.testing.assert_array_equal(out, 0)
    # the compiled step trains it
    g.compile("sgd", "mse")
    before = layer.w.numpy().copy()
    g.fit(x, np.ones((6, 4)), verbose=0)
    assert not np.allclose(layer.w.numpy(), before)


def test_weights_in_init_and_eager_call_match_keras():
    def make(layers, ops):
        class Linear(layers.Layer):           # the Keras guide's first example
            def __init__(self, units=3, input_dim=5):
                super().__init__()
                self.w = self.add_weight(shape=(input_dim, units), initializer="random_normal",
                                         trainable=True)
                self.b = self.add_weight(shape=(units,), initializer="zeros", trainable=True)

            def call(self, inputs):
                return ops.matmul(inputs, self.w) + self.b
        return Linear
    KLinear, GLinear = both(make)
    k, g = KLinear(), GLinear()
    g.set_weights(k.get_weights())
    x = data(2, 5)
    np.testing.assert_allclose(g(x), k(x), rtol=RTOL, atol=ATOL)
    assert len(g.weights) == 2 and len(g.trainable_weights) == 2


def test_non_trainable_weight_assigned_in_call_is_state():
    def make(layers, ops):
        class ComputeSum(layers.Layer):
            def __init__(self, input_dim):
                super().__init__()
                self.total = self.add_weight(initializer="zeros", shape=(input_dim,),
                                             trainable=False)

            def call(self, inputs):
                self.total.assign_add(ops.sum(inputs, axis=0))
                return self.total
        return ComputeSum
    KSum, GSum = both(make)
    x = np.ones((2, 2), "float32")
    k, g = KSum(2), GSum(2)
    for _ in range(2):                        # eager calls update the variable, as in Keras
        np.testing.assert_allclose(g(x), k(x))
    assert g.weights[0].trainable is False and g.trainable_weights == []
    # in a model the sum is state: apply returns it, the layer keeps its value
    inp = gn.Input((2,))
    layer = GSum(2)
    model = gn.Model(inp, layer(inp))
    out, state = model.apply(model.params, model.state, x)
    np.testing.assert_allclose(out, [2.0, 2.0])
    np.testing.assert_allclose(state[layer.name]["variable"], [2.0, 2.0])
    np.testing.assert_allclose(layer.total.numpy(), [0.0, 0.0])
    # a trainable variable cannot be assigned inside a call
    bad = make_assign_trainable(layers, ops)()
    with pytest.raises(ValueError, match="trainable.*non-trainable"):
        gn.Model(inp, bad(inp)).predict(x)


def make_assign_trainable(layers, ops):
    class Bad(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(2,), initializer="zeros")

        def call(self, inputs):
            self.w.assign(inputs[0])
            return inputs
    return Bad


def make_block(layers, ops):
    class MLPBlock(layers.Layer):            # sub-layers made in __init__, training passed on
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.linear_1 = layers.Dense(8, activation="relu")
            self.norm = layers.BatchNormalization()
            self.dropout = layers.Dropout(0.5)
            self.linear_2 = layers.Dense(3)

        def call(self, inputs, training=None):
            x = self.linear_1(inputs)
            x = self.norm(x, training=training)
            x = self.dropout(x, training=training)
            return self.linear_2(x) + ops.mean(inputs, axis=-1, keepdims=True)
    return MLPBlock


def test_sub_layers_weights_order_state_and_training_match_keras():
    KBlock, GBlock = both(make_block)
    k = keras.Sequential([keras.Input((5,)), KBlock()])
    g = gn.Sequential([gn.Input((5,)), GBlock()])
    assert [w.shape for w in g.weights] == [tuple(w.shape) for w in k.weights]
    assert [w.trainable for w in g.weights] == [w.trainable for w in k.weights]
    g.set_weights(k.get_weights())
    x = data(8, 5)
    np.testing.assert_allclose(g.predict(x, verbose=0), k.predict(x, verbose=0), rtol=RTOL,
                               atol=1e-6)
    block = g.layers[0]
    assert set(g.params[block.name]) == {block.linear_1.name, block.linear_2.name,
                                         block.norm.name, block.dropout.name}
    # training: BatchNormalization's moving statistics are the block's new state
    _, state = g.apply(g.params, g.state, x, training=True, rng=jax.random.key(0))
    moved = state[block.name][block.norm.name]["moving_mean"]
    assert not np.allclose(moved, 0.0)
    g.state = state
    np.testing.assert_allclose(block.norm.get_weights()[2], moved)
    # freezing a sub-layer freezes its weights only
    block.linear_1.trainable = False
    assert len(g.trainable_weights) == 4 and len(g.non_trainable_weights) == 4
    mask = g.trainable_mask()[block.name]
    assert mask[block.linear_1.name]["kernel"] is False and mask[block.linear_2.name]["kernel"]


def test_add_loss_enters_the_training_loss_as_in_keras():
    def make(layers, ops):
        class ActivityRegularization(layers.Layer):
            def __init__(self, rate=1e-2):
                super().__init__()
                self.rate = rate

            def call(self, inputs):
                self.add_loss(self.rate * ops.sum(inputs))
                return inputs
        return ActivityRegularization
    KReg, GReg = both(make)
    ki = keras.Input((4,))
    k = keras.Model(ki, keras.layers.Dense(2)(KReg()(keras.layers.Dense(4)(ki))))
    gi = gn.Input((4,))
    g = gn.Model(gi, layers.Dense(2)(GReg()(layers.Dense(4)(gi))))
    g.set_weights(k.get_weights())
    x, y = data(8, 4), data(8, 2, seed=1)
    k.compile("sgd", "mse")
    g.compile("sgd", "mse", loss_reduction="sum")
    np.testing.assert_allclose(g.evaluate(x, y, verbose=0), k.evaluate(x, y, verbose=0),
                               rtol=RTOL, atol=ATOL)


def test_keras_form_layer_saves_and_loads_when_registered(tmp_path):
    _, GLinear = both(make_linear)
    gn.register_serializable(package="test_custom", name="Linear")(GLinear)
    inp = gn.Input((5,))
    model = gn.Model(inp, GLinear(3)(inp))
    x = data(4, 5)
    model.save(tmp_path / "m.graphnet")
    loaded = gn.load_model(tmp_path / "m.graphnet")
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))
    assert loaded.layers[1].units == 3


def make_rmse(metrics, ops):
    class RootMeanSquaredError(metrics.Metric):       # Deep Learning with Python, ch. 7
        def __init__(self, name="rmse", **kwargs):
            super().__init__(name=name, **kwargs)
            self.mse_sum = self.add_weight(name="mse_sum", initializer="zeros")
            self.total_samples = self.add_weight(name="total_samples", initializer="zeros",
                                                 dtype="int32")

        def update_state(self, y_true, y_pred, sample_weight=None):
            y_true = ops.one_hot(y_true, num_classes=ops.shape(y_pred)[1])
            mse = ops.sum(ops.square(y_true - y_pred))
            self.mse_sum.assign_add(mse)
            num_samples = ops.shape(y_pred)[0]
            self.total_samples.assign_add(num_samples)

        def result(self):
            return ops.sqrt(self.mse_sum / ops.cast(self.total_samples, "float32"))

        def reset_state(self):
            self.mse_sum.assign(0.)
            self.total_samples.assign(0)
    return RootMeanSquaredError


def test_metric_subclass_matches_keras_eager_and_in_evaluate():
    KRmse, GRmse = make_rmse(keras.metrics, keras.ops), make_rmse(metrics, ops)
    y_true = np.array([0, 2, 1, 2])
    y_pred = jax.nn.softmax(data(4, 3))
    k, g = KRmse(), GRmse()
    for m in (k, g):
        m.update_state(y_true[:2], y_pred[:2])
        m.update_state(y_true[2:], y_pred[2:])
    np.testing.assert_allclose(g.result(), k.result(), rtol=RTOL, atol=ATOL)
    g.reset_state()
    assert float(g.mse_sum.numpy()) == 0.0
    # in compile: the same value from the compiled evaluation
    ki = keras.Input((5,))
    km = keras.Model(ki, keras.layers.Dense(3, activation="softmax")(ki))
    gi = gn.Input((5,))
    gm = gn.Model(gi, layers.Dense(3, activation="softmax")(gi))
    gm.set_weights(km.get_weights())
    x, y = data(16, 5), np.arange(16) % 3
    km.compile("rmsprop", "sparse_categorical_crossentropy", metrics=[KRmse()])
    gm.compile("rmsprop", "sparse_categorical_crossentropy", metrics=[GRmse()])
    kr = km.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    gr = gm.evaluate(x, y, batch_size=4, verbose=0, return_dict=True)
    np.testing.assert_allclose(gr["rmse"], kr["rmse"], rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gr["loss"], kr["loss"], rtol=RTOL, atol=ATOL)


def test_loss_subclass_in_compile_matches_keras():
    def make(losses, ops):
        class CustomMSE(losses.Loss):              # the Keras training guide's example
            def __init__(self, regularization_factor=0.1, name="custom_mse"):
                super().__init__(name=name)
                self.regularization_factor = regularization_factor

            def call(self, y_true, y_pred):
                mse = ops.mean(ops.square(y_true - y_pred), axis=-1)
                reg = ops.mean(ops.square(0.5 - y_pred), axis=-1)
                return mse + self.regularization_factor * reg
        return CustomMSE
    KLoss, GLoss = make(keras.losses, keras.ops), make(gn.losses, ops)
    ki = keras.Input((5,))
    km = keras.Model(ki, keras.layers.Dense(3)(ki))
    gi = gn.Input((5,))
    gm = gn.Model(gi, layers.Dense(3)(gi))
    gm.set_weights(km.get_weights())
    x, y = data(8, 5), data(8, 3, seed=2)
    km.compile("sgd", KLoss())
    gm.compile("sgd", GLoss())
    np.testing.assert_allclose(gm.evaluate(x, y, verbose=0), km.evaluate(x, y, verbose=0),
                               rtol=RTOL, atol=ATOL)


def test_both_forms_side_by_side_in_one_model():
    class Scale(layers.Layer):                    # graphnet's pure form
        def build(self, input_shape, *, rng):
            return {"scale": np.full(input_shape[-1:], 2.0, "float32")}, {}

        def call(self, params, state, x, *, training=False, rng=None):
            return x * params["scale"], state
    _, GLinear = both(make_linear)
    inp = gn.Input((3,))
    lin = GLinear(2)
    model = gn.Model(inp, lin(Scale()(inp)))
    x = data(4, 3)
    expected = np.maximum((2 * x) @ lin.w.numpy() + lin.b.numpy(), 0)
    np.testing.assert_allclose(model.predict(x), expected, rtol=RTOL, atol=ATOL)
    assert Scale._keras_form is False and GLinear._keras_form is True
