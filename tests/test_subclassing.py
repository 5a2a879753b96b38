"""Subclassed models traced into graphs, and the model attributes Keras code reads."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import networkx as nx
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, ops

RTOL = 1e-5


def make_ticket_model(keras_module, layers):
    class CustomerTicketModel(keras_module.Model):      # Deep Learning with Python, 7.14
        def __init__(self, num_departments):
            super().__init__()
            self.concat_layer = layers.Concatenate()
            self.mixing_layer = layers.Dense(64, activation="relu")
            self.priority_scorer = layers.Dense(1, activation="sigmoid")
            self.department_classifier = layers.Dense(num_departments, activation="softmax")

        def call(self, inputs):
            title = inputs["title"]
            text_body = inputs["text_body"]
            tags = inputs["tags"]
            features = self.concat_layer([title, text_body, tags])
            features = self.mixing_layer(features)
            priority = self.priority_scorer(features)
            department = self.department_classifier(features)
            return priority, department
    return CustomerTicketModel


def ticket_data(n=16):
    rng = np.random.default_rng(0)
    return ({"title": rng.integers(0, 2, (n, 20)).astype("float32"),
             "text_body": rng.integers(0, 2, (n, 30)).astype("float32"),
             "tags": rng.integers(0, 2, (n, 10)).astype("float32")},
            [rng.random((n, 1)).astype("float32"),
             np.eye(4, dtype="float32")[rng.integers(0, 4, n)]])


def test_book_subclassed_model_matches_keras_and_is_a_graph(tmp_path):
    KModel = make_ticket_model(keras, keras.layers)
    GModel = make_ticket_model(gn, layers)
    x, y = ticket_data()
    k, g = KModel(num_departments=4), GModel(num_departments=4)
    assert not g.built
    k(x)
    priority, department = g(x)                  # traced on the first call
    assert g.built and isinstance(g.graph, nx.DiGraph)
    assert set(g.input_names) == {"title", "text_body", "tags"}
    assert g.name == "customer_ticket_model"
    g.set_weights(k.get_weights())
    for e, o in zip(k.predict(x, verbose=0), g.predict(x)):
        np.testing.assert_allclose(o, e, rtol=RTOL)
    assert g.mixing_layer is g.get_layer(g.mixing_layer.name)
    lines = []
    g.summary(print_fn=lines.append)
    assert "concatenate" in lines[0] and "dense" in lines[0]
    # the compiled step: book's compile and fit
    for m, extra in ((k, {}), (g, {"loss_reduction": "sum"})):     # Keras's total loss
        m.compile(optimizer="rmsprop", loss=["mean_squared_error", "categorical_crossentropy"],
                  metrics=[["mean_absolute_error"], ["accuracy"]], **extra)
    kh = k.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    gh = g.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    np.testing.assert_allclose(gh.history["loss"], kh.history["loss"], rtol=1e-4)
    # saving needs the class registered; loading gives the class back, with its attributes
    with pytest.raises(ValueError, match="register_serializable"):
        g.save(tmp_path / "m.graphnet")
    gn.register_serializable(package="test_subclassing")(GModel)
    g.save(tmp_path / "m.graphnet")
    loaded = gn.load_model(tmp_path / "m.graphnet")
    assert type(loaded) is GModel and loaded.mixing_layer.name == g.mixing_layer.name
    for e, o in zip(g.predict(x), loaded.predict(x)):
        np.testing.assert_array_equal(o, e)


def test_build_and_symbolic_call_trace_and_nest():
    class MLP(gn.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = layers.Dense(8, activation="relu")
            self.dropout = layers.Dropout(0.5)
            self.out = layers.Dense(2)

        def call(self, inputs, training=None):
            x = self.dropout(self.hidden(inputs), training=training)
            return self.out(x) + ops.mean(inputs, axis=-1, keepdims=True)

    m = MLP()
    m.build((None, 5))
    assert m.input_shape == (None, 5) and m.output_shape == (None, 2)
    inner = MLP()
    inp = gn.Input((5,))
    outer = gn.Model(inp, layers.Dense(1)(inner(inp)))      # traced on a symbolic call
    x = np.ones((3, 5), "float32")
    assert outer.predict(x).shape == (3, 1)
    # training reaches the Dropout inside the traced graph
    assert any(type(n["layer"]).__name__ == "Dropout" for _, n in inner.graph.nodes(data=True))


def test_untraceable_call_is_a_clear_error():
    class Branchy(gn.Model):
        def __init__(self):
            super().__init__()
            self.d = layers.Dense(2)

        def call(self, inputs):
            if ops.sum(inputs) > 0:                 # Python control flow on a value
                return self.d(inputs)
            return inputs

    with pytest.raises(TypeError, match=r"Branchy.*could not be traced.*control flow.*ops\.where"):
        Branchy()(np.ones((2, 2), "float32"))


def test_model_attributes_as_keras():
    ki = keras.Input((4,))
    k = keras.Model(ki, [keras.layers.Dense(3, name="d")(keras.layers.Dense(5)(ki))])
    gi = gn.Input((4,))
    g = gn.Model(gi, [layers.Dense(3, name="d")(layers.Dense(5)(gi))])
    g.set_weights(k.get_weights())
    x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")
    # a one-element output list gives one array, as in Keras 3
    for m in (k, g):
        assert isinstance(m.predict(x, verbose=0), np.ndarray)
        assert isinstance(m.predict_on_batch(x), np.ndarray)
    np.testing.assert_allclose(g.predict_on_batch(x), k.predict_on_batch(x), rtol=RTOL)
    assert g.input_shape == k.input_shape == (None, 4)
    assert g.output_shape == tuple(k.output_shape) == (None, 3)
    assert [w.path.split("/")[-1] for w in g.weights] == [w.path.split("/")[-1] for w in k.weights]
    assert [w.shape for w in g.trainable_weights] == [tuple(w.shape) for w in k.trainable_weights]
    d = g.get_layer("d")
    np.testing.assert_array_equal(d.kernel.numpy(), k.get_layer("d").kernel.numpy())
    np.testing.assert_array_equal(np.asarray(d.bias), k.get_layer("d").bias.numpy())
    d.trainable = False
    assert len(g.trainable_weights) == 2 and len(g.non_trainable_weights) == 2
    # two outputs: lists of shapes
    g2 = gn.Model(gi, [g.output, g.output * 2])
    assert g2.output_shape == [(None, 3), (None, 3)]


def test_default_names_follow_keras():
    made = [layers.Conv2D(2, 2), layers.Conv2DTranspose(2, 2), layers.SeparableConv2D(2, 2),
            layers.GlobalAveragePooling2D(), layers.MaxPooling1D(), layers.LSTM(2),
            layers.SimpleRNN(2), layers.MultiHeadAttention(2, 2), layers.BatchNormalization()]
    keras_made = [keras.layers.Conv2D(2, 2), keras.layers.Conv2DTranspose(2, 2),
                  keras.layers.SeparableConv2D(2, 2), keras.layers.GlobalAveragePooling2D(),
                  keras.layers.MaxPooling1D(), keras.layers.LSTM(2), keras.layers.SimpleRNN(2),
                  keras.layers.MultiHeadAttention(2, 2), keras.layers.BatchNormalization()]
    strip = lambda n: n.rsplit("_", 1)[0] if n.rsplit("_", 1)[-1].isdigit() else n  # noqa: E731
    assert [strip(l.name) for l in made] == [strip(l.name) for l in keras_made]
    inp = gn.Input((8, 8, 1))
    model = gn.Model(inp, layers.Conv2D(2, 3, name=None)(inp))
    assert model.get_layer(model.layers[1].name).name.startswith("conv2d")


def test_lambda_with_python_lambda_saves_and_needs_safe_mode_false(tmp_path):
    inp = gn.Input((3,))
    model = gn.Model(inp, layers.Lambda(lambda t: ops.square(t) + 1.0)(inp))
    model.save(tmp_path / "l.graphnet")
    with pytest.raises(ValueError, match="safe_mode=False"):
        gn.load_model(tmp_path / "l.graphnet")
    x = np.arange(6, dtype="float32").reshape(2, 3)
    loaded = gn.load_model(tmp_path / "l.graphnet", safe_mode=False)
    np.testing.assert_array_equal(loaded.predict(x), x ** 2 + 1)


def make_penalized(keras_module, layers, ops):
    class Penalized(keras_module.Model):
        """A model whose call adds a loss computed from an intermediate tensor."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = layers.Dense(3, activation="tanh")
            self.out = layers.Dense(2)

        def call(self, inputs):
            h = self.hidden(inputs)
            self.add_loss(0.1 * ops.mean(ops.sum(ops.square(h), axis=1)))
            self.add_loss(0.01 * ops.mean(ops.abs(h)))
            return self.out(h)
    return Penalized


def test_add_loss_in_a_subclassed_call_matches_keras_and_survives_saving(tmp_path):
    x = np.random.default_rng(0).normal(size=(8, 4)).astype("float32")
    y = np.random.default_rng(1).normal(size=(8, 2)).astype("float32")
    k = make_penalized(keras, keras.layers, keras.ops)()
    GModel = make_penalized(gn, layers, ops)
    g = GModel()
    k(x)
    g(x)
    g.set_weights(k.get_weights())
    assert len(g.graph.graph["losses"]) == 2 and len(g.added_losses) == 2
    k.compile(keras.optimizers.SGD(0.1), "mse")
    g.compile(gn.optimizers.SGD(0.1), "mse")
    for _ in range(2):
        g.train_on_batch(x, y)
        k.train_on_batch(x, y)
    for ours, theirs in zip(g.get_weights(), k.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=1e-6)
    expected = k.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(g.evaluate(x, y, verbose=0), expected, rtol=RTOL)
    # The losses are part of the saved graph, and of a graph rebuilt by from_graph.
    gn.register_serializable(package="test_subclassing")(GModel)
    g.save(tmp_path / "p.graphnet")
    loaded = gn.load_model(tmp_path / "p.graphnet")
    assert type(loaded) is GModel and len(loaded.added_losses) == 2
    np.testing.assert_allclose(loaded.evaluate(x, y, verbose=0), expected, rtol=RTOL)
    with pytest.raises(ValueError, match="add_loss.*graphnet"):
        g.save(tmp_path / "p.keras")          # Keras's format would drop the loss
    rebuilt = gn.Model.from_graph(g.graph.copy())
    rebuilt.compile(gn.optimizers.SGD(0.1), "mse")
    np.testing.assert_allclose(rebuilt.evaluate(x, y, verbose=0), expected, rtol=RTOL)
    clone = gn.clone_model(g)
    clone.set_weights(g.get_weights())
    clone.compile(gn.optimizers.SGD(0.1), "mse")
    np.testing.assert_allclose(clone.evaluate(x, y, verbose=0), expected, rtol=RTOL)
    features = gn.edit.cut(g, g.hidden.name)     # the losses are not part of what is kept
    assert features.added_losses == [] and "losses" not in features.graph.graph


def test_add_loss_outside_a_subclassed_call_is_a_clear_error():
    inputs = gn.Input((3,))
    h = layers.Dense(2)(inputs)
    model = gn.Model(inputs, h)
    with pytest.raises(ValueError, match="subclassed model's call"):
        model.add_loss(ops.mean(h))          # Keras 3 refuses it on functional models too
    with pytest.raises(NotImplementedError):
        keras_inputs = keras.Input((3,))
        keras.Model(keras_inputs, keras.layers.Dense(2)(keras_inputs)).add_loss(0.0)

    class WeightPenalty(gn.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(2)

        def call(self, inputs):
            out = self.dense(inputs)
            self.add_loss(0.1 * float(np.sum(np.square(self.dense.kernel))))
            return out
    with pytest.raises(ValueError, match="kernel_regularizer"):
        WeightPenalty()(np.zeros((2, 3), "float32"))


def test_a_train_step_in_the_tensorflow_form_is_refused_naming_the_jax_form():
    class CustomStep(gn.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

        def train_step(self, data):
            raise AssertionError("never run")

    model = CustomStep()
    model.compile("sgd", "mse")
    x, y = np.zeros((4, 3), "float32"), np.zeros((4, 1), "float32")
    for run in (lambda: model.fit(x, y, verbose=0), lambda: model.train_on_batch(x, y)):
        with pytest.raises(TypeError, match=r"train_step\(data\): graphnet runs Keras 3's "
                                            r"JAX form, train_step\(self, state, data\)"):
            run()
    assert model.evaluate(x, y, verbose=0) == 0.0        # test_step is not overridden
    assert model.predict(x, verbose=0).shape == (4, 1)

    class CustomTest(CustomStep):
        def test_step(self, data):
            raise AssertionError("never run")
    with pytest.raises(TypeError, match=r"test_step\(data\)"):
        CustomTest().evaluate(x, y, verbose=0)
