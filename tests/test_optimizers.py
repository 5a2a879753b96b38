"""Each optimizer's step against a hand-written optax step or Keras 3's optimizer, and a small
MLP trained by graphnet and by Keras from the same weights."""
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

import graphnet as gn
from graphnet import layers, optimizers

rng = np.random.default_rng(7)
PARAMS = [jnp.asarray(rng.normal(size=(3, 4)).astype("float32")),
          jnp.asarray(rng.normal(size=(4,)).astype("float32"))]
GRADS = [[jnp.asarray(rng.normal(size=(3, 4)).astype("float32")),
          jnp.asarray(rng.normal(size=(4,)).astype("float32"))] for _ in range(3)]


def steps(tx, params=PARAMS, grads=GRADS):
    # optax's Adam bias correction mixes a float and an int32 count: standard promotion.
    with jax.numpy_dtype_promotion("standard"):
        state = tx.init(params)
        for g in grads:
            updates, state = tx.update(g, state, params)
            params = optax.apply_updates(params, updates)
    return params


# Keras defaults, written out by hand as optax calls.
CASES = [
    ("sgd", optimizers.SGD(), optax.sgd(0.01)),
    ("sgd momentum", optimizers.SGD(0.05, momentum=0.9, nesterov=True),
     optax.sgd(0.05, momentum=0.9, nesterov=True)),
    ("rmsprop", optimizers.RMSprop(),
     optax.rmsprop(0.001, decay=0.9, eps=1e-7, initial_scale=0.0, eps_in_sqrt=True)),
    ("adagrad", optimizers.Adagrad(), optax.adagrad(0.001, initial_accumulator_value=0.1,
                                                    eps=1e-7)),
]


@pytest.mark.parametrize("name,ours,reference", CASES, ids=[c[0] for c in CASES])
def test_steps_match_hand_written_optax(name, ours, reference):
    for a, b in zip(steps(ours.tx), steps(reference)):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-6, atol=1e-7)


def test_strings_map_to_keras_defaults():
    assert isinstance(optimizers.get("rmsprop"), optimizers.RMSprop)
    opt = optimizers.get("RMSprop")
    assert (opt.learning_rate, opt.rho, opt.epsilon) == (0.001, 0.9, 1e-7)
    assert optimizers.get("sgd").learning_rate == 0.01
    assert optimizers.get("adamw").weight_decay == 0.004
    with pytest.raises(ValueError, match="valid optimizers are:.*adam.*rmsprop"):
        optimizers.get("rmsprp")


KERAS_RULES = [
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9}),
    ("RMSprop", {"learning_rate": 0.01}),
    ("Adagrad", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.1}),
    ("Adam", {"learning_rate": 0.1, "amsgrad": True, "epsilon": 1e-3}),
    ("AdamW", {"learning_rate": 0.05, "weight_decay": 0.1}),
    ("Nadam", {"learning_rate": 0.1}),
    ("Nadam", {"learning_rate": 0.1, "beta_1": 0.5, "epsilon": 1e-2}),
    ("Adam", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("Adam", {"learning_rate": 0.1, "global_clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "clipvalue": 0.3}),
]


@pytest.mark.parametrize("name,kw", KERAS_RULES, ids=[f"{n}-{sorted(k)}" for n, k in KERAS_RULES])
def test_same_update_as_keras(name, kw):
    """Three steps on fixed gradients: graphnet's transformation against Keras 3's optimizer."""
    keras = pytest.importorskip("keras")
    grads = [[g * s for g in gs] for gs, s in zip(GRADS, (1.0, 1e-3, 10.0))]  # eps-scale too
    ours = steps(getattr(optimizers, name)(**kw).tx, grads=grads)
    variables = [keras.Variable(np.asarray(p)) for p in PARAMS]
    opt = getattr(keras.optimizers, name)(**kw)
    for g in grads:
        opt.apply_gradients(zip([np.asarray(x) for x in g], variables))
    for a, v in zip(ours, variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(v.value), rtol=1e-6, atol=1e-7)


def test_clipnorm_per_tensor_and_clipvalue():
    big = [[g * 100 for g in GRADS[0]]]
    ours = steps(optimizers.SGD(1.0, clipnorm=0.5).tx, grads=big)
    for p, g, q in zip(PARAMS, big[0], ours):
        g = np.asarray(g)
        np.testing.assert_allclose(np.asarray(q), np.asarray(p) - g * 0.5 / np.linalg.norm(g),
                                   rtol=1e-5)
    ours = steps(optimizers.SGD(1.0, clipvalue=0.2).tx, grads=big)
    for p, g, q in zip(PARAMS, big[0], ours):
        np.testing.assert_allclose(np.asarray(q), np.asarray(p) - np.clip(np.asarray(g), -0.2, 0.2),
                                   rtol=1e-6)
    with pytest.raises(ValueError, match="only one of"):
        optimizers.SGD(clipnorm=1.0, clipvalue=1.0)


def test_schedule_learning_rate():
    schedule = optax.exponential_decay(0.1, transition_steps=1, decay_rate=0.5)
    ours = steps(optimizers.SGD(schedule).tx)
    np.testing.assert_allclose(np.asarray(ours[1]), np.asarray(steps(optax.sgd(schedule))[1]),
                               rtol=1e-6)
    opt = optimizers.SGD(schedule)
    opt.init(PARAMS)
    assert opt.learning_rate == pytest.approx(0.1)
    opt.learning_rate = 0.3                       # a float replaces the schedule
    assert opt.learning_rate == pytest.approx(0.3)
    opt.learning_rate = schedule                  # and a schedule a float, from the step count
    assert opt.learning_rate == pytest.approx(0.1)
    with pytest.raises(TypeError, match="learning_rate must be a float or a schedule"):
        opt.learning_rate = "fast"
    with pytest.raises(ValueError, match=">= 0"):
        optimizers.Adam(-1.0)


def _tiny_model(optimizer):
    inp = gn.Input((3,))
    model = gn.Model(inp, layers.Dense(2, name="d")(inp))
    model.compile(optimizer=optimizer, loss="mse")
    return model


def test_learning_rate_set_between_fits_without_a_recompile(compiles):
    x = rng.normal(size=(8, 3)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    model = _tiny_model(optimizers.SGD(0.1))
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    traces = compiles.count
    assert model.optimizer.learning_rate == pytest.approx(0.1)
    model.optimizer.learning_rate = 0.0
    assert model.optimizer.learning_rate == 0.0
    before = model.get_weights()
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)             # lr 0: nothing moves
    model.optimizer.learning_rate = 0.5
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    kernel, bias = before
    err = x @ kernel + bias - y
    expected = kernel - 0.5 * (2 * x.T @ err / err.size)
    np.testing.assert_allclose(model.get_weights()[0], expected, rtol=1e-5, atol=1e-6)
    assert compiles.count == traces
    assert model.optimizer.iterations == 4


def test_optax_transformation_is_used_as_is():
    x = rng.normal(size=(8, 3)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    model = _tiny_model(optax.sgd(0.2))
    kernel, bias = model.get_weights()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    err = x @ kernel + bias - y
    np.testing.assert_allclose(model.get_weights()[0], kernel - 0.2 * (2 * x.T @ err / err.size),
                               rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="inject_hyperparams"):
        model.optimizer.learning_rate
    injected = _tiny_model(optax.inject_hyperparams(optax.adam)(learning_rate=0.01))
    injected.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert injected.optimizer.learning_rate == pytest.approx(0.01)
    injected.optimizer.learning_rate = 0.002
    assert injected.optimizer.learning_rate == pytest.approx(0.002)


# ---- a small MLP trained by graphnet and by Keras 3 from the same weights -------------------
def _mlp_data():
    r = np.random.default_rng(3)
    x = r.normal(size=(56, 5)).astype("float32")
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype("int32") + (x[:, 3] > 1).astype("int32")
    return x, y


def _train_both(make_ours, make_keras, epochs=2, callbacks=None, keras_callbacks=None):
    """2 epochs of 7 steps, unshuffled; returns (graphnet weights, Keras weights)."""
    keras = pytest.importorskip("keras")
    x, y = _mlp_data()
    kin = keras.Input((5,))
    kh = keras.layers.Dense(16, activation="relu")(kin)
    kmodel = keras.Model(kin, keras.layers.Dense(3, activation="softmax")(kh))
    inp = gn.Input((5,))
    h = layers.Dense(16, activation="relu")(inp)
    model = gn.Model(inp, layers.Dense(3, activation="softmax")(h))
    # Fixed Glorot-uniform weights, not Keras's draw (which depends on what ran before in
    # the process): Adam's update of a weight whose gradient is mostly rounding noise
    # depends on that noise, so some draws magnify float32 rounding far more than others.
    init = np.random.default_rng(0)
    kmodel.set_weights([init.uniform(-1, 1, w.shape).astype("float32")
                        * np.sqrt(6.0 / sum(w.shape)) if w.ndim == 2 else np.zeros_like(w)
                        for w in kmodel.get_weights()])
    model.set_weights(kmodel.get_weights())
    kmodel.compile(optimizer=make_keras(), loss="sparse_categorical_crossentropy")
    model.compile(optimizer=make_ours(), loss="sparse_categorical_crossentropy")
    kmodel.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0,
               callbacks=keras_callbacks)
    model.fit(x, y, batch_size=8, epochs=epochs, shuffle=False, verbose=0, callbacks=callbacks)
    return model, model.get_weights(), kmodel.get_weights()


MLP_CASES = [
    ("Adam", {"learning_rate": 0.1}),
    ("AdamW", {"learning_rate": 1e-2}),
    ("Adam", {"learning_rate": 1e-2, "clipnorm": 1.0}),
    ("Nadam", {"learning_rate": 1e-2}),
]


@pytest.mark.parametrize("name,kw", MLP_CASES, ids=[f"{n}-{sorted(k)}" for n, k in MLP_CASES])
def test_mlp_training_matches_keras(name, kw):
    keras = pytest.importorskip("keras")
    _, ours, theirs = _train_both(lambda: getattr(optimizers, name)(**kw),
                                  lambda: getattr(keras.optimizers, name)(**kw))
    # graphnet takes the crossentropy of a softmax output from its logits (log_softmax, then
    # Keras's clip); Keras takes the log of the clipped softmax. The gradients agree to float32
    # rounding, which Adam at lr 0.1 amplifies over 14 steps, and XLA orders its sums by the
    # CPU's vector width: 3.6e-7 on an AVX2 machine, 1.2e-6 on another. Optax's Adam differs
    # from Keras's by 1e-2 to 1e-1 here.
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


SCHEDULES = [
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5)),
    ("ExponentialDecay", dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5,
                              staircase=True)),
    ("PiecewiseConstantDecay", dict(boundaries=[2, 5], values=[0.1, 0.05, 0.01])),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.7)),
    ("InverseTimeDecay", dict(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.7,
                              staircase=True)),
    ("CosineDecay", dict(initial_learning_rate=0.1, decay_steps=6, alpha=0.1)),
    ("CosineDecay", dict(initial_learning_rate=0.0, decay_steps=6, warmup_target=0.2,
                         warmup_steps=4)),
]


@pytest.mark.parametrize("name,kw", SCHEDULES, ids=[f"{n}-{sorted(k)}" for n, k in SCHEDULES])
def test_schedules_match_keras(name, kw):
    keras = pytest.importorskip("keras")
    ours = getattr(optimizers.schedules, name)(**kw)
    theirs = getattr(keras.optimizers.schedules, name)(**kw)
    steps_ = [0, 1, 2, 3, 4, 5, 9, 13]
    np.testing.assert_allclose([float(ours(jnp.asarray(s, jnp.int32))) for s in steps_],
                               [float(theirs(s)) for s in steps_], rtol=1e-6, atol=1e-8)
    clone = type(ours).from_config(ours.get_config())
    assert float(clone(5)) == float(ours(5))
    assert optimizers.schedules.deserialize(optimizers.schedules.serialize(ours)).get_config() \
        == ours.get_config()


def test_schedule_in_training_matches_keras_and_saves(tmp_path):
    keras = pytest.importorskip("keras")
    kw = dict(initial_learning_rate=0.05, decay_steps=4, decay_rate=0.3)
    model, ours, theirs = _train_both(
        lambda: optimizers.Adam(optimizers.schedules.ExponentialDecay(**kw)),
        lambda: keras.optimizers.Adam(keras.optimizers.schedules.ExponentialDecay(**kw)))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert model.optimizer.iterations == 14
    assert model.optimizer.learning_rate == pytest.approx(0.05 * 0.3 ** (14 / 4), rel=1e-6)
    model.save(tmp_path / "m.graphnet")
    loaded = gn.load_model(tmp_path / "m.graphnet")
    assert loaded.optimizer.get_config()["learning_rate"] == {
        "class_name": "ExponentialDecay", "config": {**kw, "staircase": False,
                                                     "name": "ExponentialDecay"}}
    assert loaded.optimizer.learning_rate == pytest.approx(model.optimizer.learning_rate)


def test_lr_scheduler_callback_matches_keras():
    keras = pytest.importorskip("keras")
    from graphnet.callbacks import LearningRateScheduler

    def schedule(epoch, lr):
        return lr * 0.5 if epoch > 0 else lr
    model, ours, theirs = _train_both(
        lambda: optimizers.Adam(0.05), lambda: keras.optimizers.Adam(0.05), epochs=3,
        callbacks=[LearningRateScheduler(schedule)],
        keras_callbacks=[keras.callbacks.LearningRateScheduler(schedule)])
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-6)
    assert model.optimizer.learning_rate == pytest.approx(0.05 * 0.25)
    assert model.history.history["learning_rate"] == pytest.approx([0.05, 0.025, 0.0125])


def test_learning_rate_assignable_in_any_form_during_training():
    x, y = _mlp_data()
    inp = gn.Input((5,))
    model = gn.Model(inp, layers.Dense(3, activation="softmax")(inp))
    model.compile(optimizer=optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.optimizer.learning_rate = optimizers.schedules.PiecewiseConstantDecay([9], [0.1, 0.0])
    assert model.optimizer.learning_rate == pytest.approx(0.1)     # step 7 <= 9
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert model.optimizer.learning_rate == 0.0                    # step 14 > 9
    before = model.get_weights()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.optimizer.learning_rate = 0.2
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    assert not np.array_equal(before[0], model.get_weights()[0])


def test_schedules_save_in_the_registry_shape_and_earlier_shapes_still_load():
    @gn.register_serializable(name="halving_schedule_fn")
    def halving(step):
        return 0.1 * 0.5 ** (step // 10)

    @gn.register_serializable(name="HalvingSchedule")
    class Halving(optimizers.schedules.LearningRateSchedule):
        def __init__(self, start):
            self.start = start

        def __call__(self, step):
            return self.start * 0.5 ** (step // 10)

        def get_config(self):
            return {"start": self.start}

    by_class = optimizers.Adam(Halving(0.2)).get_config()["learning_rate"]
    assert by_class == {"class_name": "Custom>HalvingSchedule", "config": {"start": 0.2}}
    by_function = optimizers.SGD(halving).get_config()["learning_rate"]
    assert by_function == {"class_name": "function", "config": "Custom>halving_schedule_fn"}
    for config in (by_class, {"registered": "Custom>HalvingSchedule", "config": {"start": 0.2}}):
        schedule = optimizers.Adam.from_config({"learning_rate": config}).configured_learning_rate
        assert type(schedule) is Halving and schedule.start == 0.2
    for config in (by_function, {"registered": "Custom>halving_schedule_fn"}):
        assert optimizers.SGD.from_config({"learning_rate": config}).configured_learning_rate \
            is halving
    entry = optimizers.serialize(optimizers.Adam(0.01))
    assert entry["class_name"] == "Adam"
    assert optimizers.deserialize(entry).learning_rate == pytest.approx(0.01)
