"""Keras 3's stateless API and custom train/test/predict steps in the JAX form: the keras.io
guides "Writing a training loop from scratch in JAX" and "Customizing what happens in fit()
with JAX", run with graphnet and with Keras 3 from the same weights."""
import jax
import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers

RNG = np.random.default_rng(7)
X = RNG.normal(size=(72, 6)).astype("float32")
Y = RNG.normal(size=(72, 1)).astype("float32")
LABELS = np.eye(4, dtype="float32")[RNG.integers(0, 4, 72)]


def _mlp(lib, batch_norm=True):
    inputs = lib.Input(shape=(6,), name="digits")
    x = lib.layers.Dense(8, activation="relu", name="hidden")(inputs)
    if batch_norm:
        x = lib.layers.BatchNormalization(name="norm")(x)
    outputs = lib.layers.Dense(4, name="predictions")(x)
    return inputs, outputs


def _pair(batch_norm=True):
    model = gn.Model(*_mlp(gn, batch_norm))
    reference = keras.Model(*_mlp(keras, batch_norm))
    reference.set_weights(model.get_weights())
    return model, reference


def _guide_loop(lib, model, steps=4):
    """The guide's loop, verbatim but for the library: stateless_call under value_and_grad,
    stateless_apply, all under jax.jit."""
    loss_fn = lib.losses.CategoricalCrossentropy(from_logits=True)
    optimizer = lib.optimizers.Adam(learning_rate=1e-2)

    def compute_loss_and_updates(trainable_variables, non_trainable_variables, x, y):
        y_pred, non_trainable_variables = model.stateless_call(
            trainable_variables, non_trainable_variables, x, training=True)
        loss = loss_fn(y, y_pred)
        return loss, non_trainable_variables

    grad_fn = jax.value_and_grad(compute_loss_and_updates, has_aux=True)

    @jax.jit
    def train_step(state, data):
        trainable_variables, non_trainable_variables, optimizer_variables = state
        x, y = data
        (loss, non_trainable_variables), grads = grad_fn(
            trainable_variables, non_trainable_variables, x, y)
        trainable_variables, optimizer_variables = optimizer.stateless_apply(
            optimizer_variables, grads, trainable_variables)
        return loss, (trainable_variables, non_trainable_variables, optimizer_variables)

    optimizer.build(model.trainable_variables)
    # Variables passed to jax.jit as their values: JAX 0.10 no longer converts objects
    # with __jax_array__ (Keras's own Variables included) when tracing.
    state = ([v.value for v in model.trainable_variables],
             [v.value for v in model.non_trainable_variables],
             [v.value for v in optimizer.variables])
    losses = []
    for step in range(steps):
        batch = slice(16 * step, 16 * step + 16)
        loss, state = train_step(state, (X[batch], LABELS[batch]))
        losses.append(float(loss))
    trainable_variables, non_trainable_variables, _ = state
    for variable, value in zip(model.trainable_variables, trainable_variables):
        variable.assign(value)
    for variable, value in zip(model.non_trainable_variables, non_trainable_variables):
        variable.assign(value)
    return losses


def test_the_jax_training_loop_guide_gives_keras_numbers():
    model, reference = _pair()
    assert [v.path for v in model.trainable_variables] == \
        [v.path for v in reference.trainable_variables]
    assert [tuple(v.shape) for v in model.non_trainable_variables] == \
        [tuple(v.shape) for v in reference.non_trainable_variables]
    ours, theirs = _guide_loop(gn, model), _guide_loop(keras, reference)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    for a, b in zip(model.get_weights(), reference.get_weights()):   # moving stats included
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_stateless_call_touches_no_variable_and_checks_its_lists():
    model, reference = _pair()
    before = model.get_weights()
    trainable = [v.value * 0 for v in model.trainable_variables]
    y, non_trainable = model.stateless_call(trainable, [v.value for v in
                                                        model.non_trainable_variables], X)
    np.testing.assert_array_equal(y, np.zeros((72, 4)))   # zero weights: zero outputs
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    y_ref, _ = reference.stateless_call(trainable, [v.value for v in
                                                    reference.non_trainable_variables], X)
    np.testing.assert_allclose(y, y_ref)
    with pytest.raises(ValueError, match="trainable_variables must hold 6 arrays"):
        model.stateless_call(trainable[:-1], non_trainable, X)
    with pytest.raises(ValueError, match=r"'predictions/kernel' has shape \(4, 8\)"):
        model.stateless_call([*trainable[:4], trainable[4].T, trainable[5]], non_trainable, X)


def test_stateless_apply_is_keras_arithmetic_and_leaves_the_optimizer_alone():
    model, reference = _pair(batch_norm=False)
    grads = [RNG.normal(size=v.shape).astype("float32") for v in model.trainable_variables]
    results = []
    for lib, m in ((gn, model), (keras, reference)):
        opt = lib.optimizers.Adam(learning_rate=0.1)
        opt.build(m.trainable_variables)
        variables = [v.value for v in opt.variables]
        params = [v.value for v in m.trainable_variables]
        for _ in range(3):
            params, variables = opt.stateless_apply(variables, grads, params)
        results.append(params)
    for a, b in zip(*results):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    opt = gn.optimizers.SGD(0.1)
    with pytest.raises(ValueError, match="not built"):
        opt.stateless_apply([], grads, [v.value for v in model.trainable_variables])


class Mean(gn.metrics.Metric):
    """Keras's Mean, written Keras's way (the catalogue's own may differ in form)."""

    def __init__(self, name="mean"):
        super().__init__(name=name)
        self.total = self.add_weight(name="total", initializer="zeros")
        self.count = self.add_weight(name="count", initializer="zeros")

    def update_state(self, values, sample_weight=None):
        values = jax.numpy.asarray(values, "float32")
        self.total.assign_add(values.sum())
        self.count.assign_add(np.float32(values.size))

    def result(self):
        return self.total.value / jax.numpy.maximum(self.count.value, 1.0)


class MeanAbsoluteError(Mean):
    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(jax.numpy.abs(y_true - y_pred).mean(-1))


def test_metric_stateless_methods_leave_the_metric_alone():
    metric = Mean()
    variables = metric.stateless_reset_state()
    variables = metric.stateless_update_state(variables, np.array([1.0, 2.0], "float32"))
    variables = jax.jit(metric.stateless_update_state)(variables, np.array([6.0], "float32"))
    assert float(metric.stateless_result(variables)) == pytest.approx(3.0)
    assert float(metric.result()) == 0.0 and float(metric.count.value) == 0.0
    with pytest.raises(ValueError, match="metric_variables must hold 2 arrays"):
        metric.stateless_update_state(variables[:1], np.ones(2, "float32"))


def _custom_model_class(lib, mean, mae, use_compute_loss=False):
    """The guide's second example: a Mean loss tracker and an MAE metric made in __init__,
    listed by the `metrics` property."""
    class CustomModel(lib.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = mean(name="loss")
            self.mae_metric = mae(name="mae")
            self.loss_fn = lib.losses.MeanSquaredError()

        def compute_loss_and_updates(self, trainable_variables, non_trainable_variables, x, y,
                                     training=False):
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, x, training=training)
            if use_compute_loss:
                loss = self.compute_loss(x, y, y_pred)
            else:
                loss = self.loss_fn(y, y_pred)
            return loss, (y_pred, non_trainable_variables)

        def train_step(self, state, data):
            (trainable_variables, non_trainable_variables, optimizer_variables,
             metrics_variables) = state
            x, y = data
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, (y_pred, non_trainable_variables)), grads = grad_fn(
                trainable_variables, non_trainable_variables, x, y, training=True)
            trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable_variables)
            loss_tracker_vars = metrics_variables[: len(self.loss_tracker.variables)]
            mae_metric_vars = metrics_variables[len(self.loss_tracker.variables):]
            loss_tracker_vars = self.loss_tracker.stateless_update_state(loss_tracker_vars,
                                                                         loss)
            mae_metric_vars = self.mae_metric.stateless_update_state(mae_metric_vars, y, y_pred)
            logs = {self.loss_tracker.name: self.loss_tracker.stateless_result(loss_tracker_vars),
                    self.mae_metric.name: self.mae_metric.stateless_result(mae_metric_vars)}
            new_metrics_vars = loss_tracker_vars + mae_metric_vars
            state = (trainable_variables, non_trainable_variables, optimizer_variables,
                     new_metrics_vars)
            return logs, state

        def test_step(self, state, data):
            x, y = data
            trainable_variables, non_trainable_variables, metrics_variables = state
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, x, training=False)
            loss = self.loss_fn(y, y_pred)
            loss_vars = metrics_variables[:2]
            loss_vars = self.loss_tracker.stateless_update_state(loss_vars, loss)
            logs = {"loss": self.loss_tracker.stateless_result(loss_vars)}
            return logs, (trainable_variables, non_trainable_variables,
                          loss_vars + list(metrics_variables[2:]))

        def predict_step(self, state, data):
            trainable_variables, non_trainable_variables = state
            x = data
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, x)
            return y_pred * 2, non_trainable_variables

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_metric]
    return CustomModel


def _guide_models(use_compute_loss=False):
    def arch(lib):
        inputs = lib.Input(shape=(6,))
        return inputs, lib.layers.Dense(1)(lib.layers.Dense(5, activation="tanh")(inputs))
    ours = _custom_model_class(gn, Mean, MeanAbsoluteError, use_compute_loss)(*arch(gn))
    theirs = _custom_model_class(keras, keras.metrics.Mean, keras.metrics.MeanAbsoluteError,
                                 use_compute_loss)(*arch(keras))
    theirs.set_weights(ours.get_weights())
    return ours, theirs


@pytest.mark.slow
@pytest.mark.parametrize("use_compute_loss", [False, True])
def test_the_custom_fit_guide_gives_keras_numbers(use_compute_loss):
    ours, theirs = _guide_models(use_compute_loss)
    loss = "mse" if use_compute_loss else None
    ours.compile(optimizer="adam", loss=loss, steps_per_execution=2)
    theirs.compile(optimizer="adam", loss=loss)
    ends = []

    class Count(gn.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            ends.append(batch)
    h1 = ours.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0, callbacks=[Count()],
                  validation_data=(X[:24], Y[:24]))
    h2 = theirs.fit(X, Y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                    validation_data=(X[:24], Y[:24]))
    assert ends == [1, 3, 4] * 3              # K=2 steps per dispatch, the ragged tail last
    for key in ("loss", "mae", "val_loss"):
        np.testing.assert_allclose(h1.history[key], h2.history[key], rtol=1e-5, atol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    # The metrics hold what the last step left (here validation's), as Keras's do.
    for name in ("loss_tracker", "mae_metric"):
        assert float(getattr(ours, name).result()) == pytest.approx(
            float(getattr(theirs, name).result()), rel=1e-5)
    np.testing.assert_allclose(ours.evaluate(X, Y, verbose=0), theirs.evaluate(X, Y, verbose=0),
                               rtol=1e-5)
    np.testing.assert_allclose(ours.predict(X, batch_size=32, verbose=0),
                               theirs.predict(X, batch_size=32, verbose=0), rtol=1e-5, atol=1e-6)
    # Keras's train_on_batch hands the step (x, y, None), which the guide's `x, y = data`
    # cannot take: one step of fit is the same thing there.
    step = theirs.fit(X[:8], Y[:8], batch_size=8, shuffle=False, verbose=0).history
    np.testing.assert_allclose(ours.train_on_batch(X[:8], Y[:8]),
                               [step["loss"][0], step["mae"][0]], rtol=1e-5)
    np.testing.assert_allclose(ours.test_on_batch(X[:8], Y[:8]),
                               theirs.evaluate(X[:8], Y[:8], batch_size=8, verbose=0),
                               rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_the_step_is_traced_once_for_every_epoch_and_fit():
    traces = []

    class Counted(gn.Model):
        def train_step(self, state, data):
            traces.append(1)
            return {"n": jax.numpy.zeros(())}, state

    inputs = gn.Input(shape=(6,))
    model = Counted(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd")
    model.fit(X, Y, batch_size=16, verbose=0)
    first = len(traces)
    model.fit(X, Y, batch_size=16, epochs=3, verbose=0)
    assert len(traces) == first


def test_a_wrong_step_is_refused_before_any_weight_changes():
    class Bad(gn.Model):
        mode = "structure"

        def train_step(self, state, data):
            trainable, non_trainable, opt, metric = state
            if self.mode == "structure":
                return {"loss": 0.0}
            if self.mode == "shape":
                return {}, ([t[:1] for t in trainable], non_trainable, opt, metric)
            if self.mode == "branch":
                if trainable[0].sum() > 0:
                    pass
            if self.mode == "logs":
                return [trainable[0].sum()], state
            if self.mode == "vector":
                return {"loss": trainable[0][:, 0]}, state
            if self.mode == "dtype":
                return {}, ([t.astype("float16") for t in trainable], non_trainable, opt,
                            metric)
            return {"loss": trainable[0].sum()}, (trainable, non_trainable, opt)

    inputs = gn.Input(shape=(6,))
    model = Bad(inputs, layers.Dense(1)(inputs), name="bad")
    model.compile(optimizer="sgd")
    before = model.get_weights()
    for mode, error, text in (
            ("structure", TypeError, r"'bad' train_step\(\) must return \(logs, new_state\)"),
            ("shape", ValueError, r"train_step\(\) returned trainable_variables\[0\] with "
                                  r"shape \(1, 1\)"),
            ("branch", TypeError, r"branches in Python on a traced value"),
            ("tuple", TypeError, r"received tuple of length 3"),
            ("logs", TypeError, r"train_step\(\) must return logs as a dict name -> scalar, "
                                r"received list"),
            ("vector", ValueError, r"returned logs\['loss'\] with shape \(6,\)"),
            ("dtype", ValueError, r"trainable_variables\[0\] with shape \(6, 1\) and dtype "
                                  r"float16, received shape \(6, 1\) and dtype float32")):
        model.mode = mode
        with pytest.raises(error, match=text):
            model.fit(X, Y, verbose=0)
        for a, b in zip(model.get_weights(), before):
            np.testing.assert_array_equal(a, b)


def test_the_tensorflow_form_of_train_step_is_named():
    class Old(gn.Model):
        def train_step(self, data):
            raise AssertionError("never run")
    inputs = gn.Input(shape=(6,))
    model = Old(inputs, layers.Dense(1)(inputs), name="old")
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match=r"train_step\(data\): graphnet runs Keras 3's JAX "
                                        r"form, train_step\(self, state, data\)"):
        model.fit(X, Y, verbose=0)


def test_what_a_custom_step_does_not_take_yet_is_named():
    class Step(gn.Model):
        def train_step(self, state, data):
            x, y = data
            y_pred, _ = self.stateless_call(state[0], state[1], x)
            return {"loss": self.compute_loss(x, y, y_pred)}, state

    inputs = gn.Input(shape=(6,))
    model = Step(inputs, layers.Dense(1, kernel_regularizer="l2")(inputs), name="step")
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="does not take class_weight, validation_split yet"):
        model.fit(X, Y, validation_split=0.2, class_weight={0: 1.0}, verbose=0)
    model.compile(optimizer="sgd", loss="mse", devices="all")
    with pytest.raises(ValueError, match=r"does not take devices yet \(compile\(devices"):
        model.fit(X, Y, verbose=0)
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(TypeError, match="an iterable of batches is not supported yet"):
        model.fit((batch for batch in [(X, Y)]), verbose=0)
    with pytest.raises(NotImplementedError, match="'step' compute_loss: the model has "
                                                  "regularizers"):
        model.fit(X, Y, verbose=0)


def _held_metric_model(lib, mean):
    class Held(lib.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.tracker = mean(name="tracker")

        def train_step(self, state, data):
            return {}, state

    inputs = lib.Input(shape=(6,))
    return Held(inputs, lib.layers.Dense(1)(inputs), name="held")


def test_metrics_held_without_a_metrics_property_follow_compiles_as_in_keras():
    ours, theirs = _held_metric_model(gn, Mean), _held_metric_model(keras, keras.metrics.Mean)
    assert ours.metrics_names == theirs.metrics_names == ["tracker"]    # before compile
    for model in (ours, theirs):
        model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    assert ours.metrics_names == theirs.metrics_names == ["loss", "compile_metrics", "tracker"]
    assert ours.metrics[0] is ours.metrics[0]       # the same objects a step updates


def _guide_first_class(lib):
    """The guide's first example (compile's loss and metrics in `self.metrics`) and its
    evaluation step, verbatim but for the library."""
    class CustomModel(lib.Model):
        def compute_loss_and_updates(self, trainable_variables, non_trainable_variables,
                                     metrics_variables, x, y, sample_weight, training=False):
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, x, training=training)
            loss, (trainable_variables, non_trainable_variables, metrics_variables) = \
                self.stateless_compute_loss(trainable_variables, non_trainable_variables,
                                            metrics_variables, x=x, y=y, y_pred=y_pred,
                                            sample_weight=sample_weight, training=training)
            return loss, (y_pred, non_trainable_variables, metrics_variables)

        def update_metrics(self, metrics_variables, loss, y, y_pred, sample_weight):
            new_metrics_vars, logs = [], {}
            for metric in self.metrics:
                this_metric_vars = metrics_variables[
                    len(new_metrics_vars):len(new_metrics_vars) + len(metric.variables)]
                if metric.name == "loss":
                    this_metric_vars = metric.stateless_update_state(
                        this_metric_vars, loss, sample_weight=sample_weight)
                else:
                    this_metric_vars = metric.stateless_update_state(
                        this_metric_vars, y, y_pred, sample_weight=sample_weight)
                logs[metric.name] = metric.stateless_result(this_metric_vars)
                new_metrics_vars += this_metric_vars
            return logs, new_metrics_vars

        def train_step(self, state, data):
            (trainable_variables, non_trainable_variables, optimizer_variables,
             metrics_variables) = state
            x, y, sample_weight = lib.utils.unpack_x_y_sample_weight(data)
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, (y_pred, non_trainable_variables, metrics_variables)), grads = grad_fn(
                trainable_variables, non_trainable_variables, metrics_variables, x, y,
                sample_weight, training=True)
            trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable_variables)
            logs, new_metrics_vars = self.update_metrics(metrics_variables, loss, y, y_pred,
                                                         sample_weight)
            return logs, (trainable_variables, non_trainable_variables, optimizer_variables,
                          new_metrics_vars)

        def test_step(self, state, data):
            x, y, sample_weight = lib.utils.unpack_x_y_sample_weight(data)
            trainable_variables, non_trainable_variables, metrics_variables = state
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, x, training=False)
            loss, (trainable_variables, non_trainable_variables, metrics_variables) = \
                self.stateless_compute_loss(trainable_variables, non_trainable_variables,
                                            metrics_variables, x=x, y=y, y_pred=y_pred,
                                            sample_weight=sample_weight, training=False)
            logs, new_metrics_vars = self.update_metrics(metrics_variables, loss, y, y_pred,
                                                         sample_weight)
            return logs, (trainable_variables, non_trainable_variables, new_metrics_vars)
    return CustomModel


@pytest.mark.slow
def test_compiles_metrics_are_real_metrics_a_step_updates_as_in_the_guide():
    models = []
    for lib in (gn, keras):
        inputs = lib.Input(shape=(6,))
        model = _guide_first_class(lib)(inputs, lib.layers.Dense(1)(inputs))
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        models.append(model)
    ours, theirs = models
    theirs.set_weights(ours.get_weights())
    h1 = ours.fit(X, Y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    h2 = theirs.fit(X, Y, batch_size=16, epochs=2, shuffle=False, verbose=0).history
    assert list(h1) == list(h2) == ["mae", "loss"]
    for key in h1:
        np.testing.assert_allclose(h1[key], h2[key], rtol=1e-5, atol=1e-6)
    assert len(ours.metrics_variables) == len(theirs.metrics_variables) == 4
    for lhs, rhs in ((ours.get_metrics_result(), theirs.get_metrics_result()),
                     (ours.evaluate(X, Y, batch_size=32, verbose=0, return_dict=True),
                      theirs.evaluate(X, Y, batch_size=32, verbose=0, return_dict=True))):
        assert lhs.keys() == rhs.keys() == {"loss", "mae"}
        for key in lhs:
            np.testing.assert_allclose(lhs[key], rhs[key], rtol=1e-5, atol=1e-6)


def test_a_frozen_layers_weights_are_non_trainable_variables_as_in_keras():
    model, reference = _pair()
    for m in (model, reference):
        m.layers[1].trainable = False
    for ours, theirs in ((model.trainable_variables, reference.trainable_variables),
                         (model.non_trainable_variables, reference.non_trainable_variables)):
        assert [v.path for v in ours] == [v.path for v in theirs]
    trainable = [v.value for v in model.trainable_variables]
    non_trainable = [v.value for v in model.non_trainable_variables]
    ours = model.stateless_call(trainable, non_trainable, X, training=True)
    theirs = reference.stateless_call(trainable, non_trainable, X, training=True)
    np.testing.assert_allclose(ours[0], theirs[0], rtol=1e-5, atol=1e-6)
    for a, b in zip(ours[1], theirs[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_callbacks_and_the_progress_bar_run_around_a_custom_step(capsys):
    class Constant(gn.Model):
        def train_step(self, state, data):
            return {"constant": jax.numpy.ones(())}, state

    inputs = gn.Input(shape=(6,))
    model = Constant(inputs, layers.Dense(1)(inputs))
    model.compile(optimizer="sgd")
    stop = gn.callbacks.EarlyStopping(monitor="constant", patience=1)
    history = model.fit(X, Y, epochs=10, verbose=1, callbacks=[stop])
    assert history.history["constant"] == [1.0, 1.0]      # no improvement: stopped after 2
    assert "Epoch 2/10" in capsys.readouterr().out
    # Logs named as the metrics are are the metrics' results, as in Keras: a step that
    # logs "loss" without updating compile's loss tracker reports the tracker (0).
    Constant.train_step = lambda self, state, data: ({"loss": jax.numpy.ones(())}, state)
    model.compile(optimizer="sgd")
    assert model.fit(X, Y, verbose=0).history["loss"] == [0.0]


@pytest.mark.slow
def test_test_and_predict_batch_hooks_run_around_custom_steps():
    ours, _ = _guide_models()
    ours.compile(optimizer="adam")
    seen = []

    class Hooks(gn.callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            seen.append(("test", batch, round(logs["loss"], 6)))

        def on_predict_batch_end(self, batch, logs=None):
            seen.append(("predict", batch, logs["outputs"].shape))
    loss = ours.evaluate(X, Y, batch_size=32, verbose=0, callbacks=[Hooks()])
    ours.predict(X, batch_size=32, verbose=0, callbacks=[Hooks()])
    assert [s[:2] for s in seen] == [("test", 0), ("test", 1), ("test", 2),
                                     ("predict", 0), ("predict", 1), ("predict", 2)]
    assert seen[2][2] == pytest.approx(loss, rel=1e-5)     # the running mean over all batches
    assert [s[2] for s in seen[3:]] == [(32, 1), (32, 1), (8, 1)]


def _regularized(lib):
    inputs = lib.Input(shape=(6,))
    hidden = lib.layers.Dense(4, kernel_regularizer="l2", activity_regularizer="l1")(inputs)
    return lib.Model(inputs, lib.layers.Dense(1, bias_regularizer="l1")(hidden))


@pytest.mark.slow
def test_build_without_a_key_and_the_losses_keras_code_reads():
    layer, reference = gn.layers.Dense(3, kernel_regularizer="l2"), keras.layers.Dense(3)
    assert layer.build((None, 6)) is None and layer.built       # Keras's build(input_shape)
    assert [w.shape for w in layer.get_weights()] == [(6, 3), (3,)]
    reference.build((None, 6))
    kernel = layer.get_weights()[0]
    np.testing.assert_allclose(layer.losses, [0.01 * np.sum(kernel ** 2)], rtol=1e-6)
    ours, theirs = _regularized(gn), _regularized(keras)
    theirs.set_weights(ours.get_weights())
    for call in (False, True):           # the weights' penalties, then the call's too
        if call:
            ours(X), theirs(X)
        assert len(ours.losses) == len(theirs.losses) == 2 + call
        np.testing.assert_allclose(ours.losses, theirs.losses, rtol=1e-5, atol=1e-6)
    # stateless_call(return_losses=True): the penalties on the values given, as Keras's.
    trainable = [v.value * 2 for v in ours.trainable_variables]
    _, _, ours_losses = ours.stateless_call(trainable, [], X, return_losses=True)
    _, _, theirs_losses = theirs.stateless_call(trainable, [], X, return_losses=True)
    np.testing.assert_allclose(sum(ours_losses), sum(theirs_losses), rtol=1e-5, atol=1e-6)


def test_compute_loss_on_a_softmax_output_gives_keras_numbers():
    """compute_loss on the outputs stateless_call returned starts from the logits behind the
    softmax (the cost of built-in training), with Keras's values."""
    histories = []
    for lib in (gn, keras):
        class Softmax(lib.Model):
            def train_step(self, state, data):
                trainable, non_trainable, optimizer_variables, metrics_variables = state
                x, y = data

                def loss_fn(trainable, non_trainable):
                    y_pred, non_trainable = self.stateless_call(trainable, non_trainable, x,
                                                                training=True)
                    return self.compute_loss(x, y, y_pred), non_trainable
                (loss, non_trainable), grads = jax.value_and_grad(loss_fn, has_aux=True)(
                    trainable, non_trainable)
                trainable, optimizer_variables = self.optimizer.stateless_apply(
                    optimizer_variables, grads, trainable)
                tracker = self.metrics[0]            # compile's loss tracker
                metrics_variables = tracker.stateless_update_state(metrics_variables, loss)
                return {"loss": tracker.stateless_result(metrics_variables)}, (
                    trainable, non_trainable, optimizer_variables, metrics_variables)

        inputs = lib.Input(shape=(6,))
        model = Softmax(inputs, lib.layers.Dense(4, activation="softmax")(inputs))
        model.compile(optimizer=lib.optimizers.SGD(0.5), loss="categorical_crossentropy")
        histories.append(model)
    ours, theirs = histories
    theirs.set_weights(ours.get_weights())
    h1, h2 = (m.fit(X, LABELS, batch_size=24, shuffle=False, epochs=2, verbose=0).history
              for m in (ours, theirs))
    np.testing.assert_allclose(h1["loss"], h2["loss"], rtol=1e-5, atol=1e-6)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
