"""Dynamic loss scaling under mixed_float16, inside the compiled step, against Keras 3."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, mixed_precision, optimizers

keras = pytest.importorskip("keras")


@pytest.fixture(autouse=True)
def _reset_policies():
    yield
    mixed_precision.set_global_policy("float32")
    keras.mixed_precision.set_global_policy("float32")


def _digits(n=400):
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.data[:n] / 16.0).astype("float32")
    return x, np.eye(10, dtype="float32")[d.target[:n]]


def test_training_converges_under_mixed_float16():
    x, y = _digits()
    mixed_precision.set_global_policy("mixed_float16")
    inp = gn.Input((64,))
    h = layers.Dense(64, activation="relu")(inp)
    model = gn.Model(inp, layers.Dense(10, activation="softmax")(h))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    assert isinstance(model.optimizer, optimizers.LossScaleOptimizer)
    history = model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert history.history["accuracy"][-1] > 0.9
    assert all(w.dtype == np.float32 for w in model.get_weights())


def test_compile_wraps_only_under_mixed_float16_and_respects_auto_scale_loss():
    mixed_precision.set_global_policy("mixed_float16")
    inp = gn.Input((3,))
    model = gn.Model(inp, layers.Dense(1)(inp))
    model.compile(optimizer="sgd", loss="mse")
    assert isinstance(model.optimizer, optimizers.LossScaleOptimizer)
    assert model.optimizer.dynamic_scale == 2.0 ** 15
    assert model.optimizer.dynamic_growth_steps == 2000
    model.compile(optimizer="sgd", loss="mse", auto_scale_loss=False)
    assert isinstance(model.optimizer, optimizers.SGD)


def _overflowing_model(scale):
    """One Dense under mixed_float16 and a target that makes the scaled float16 gradient
    overflow: d(loss)/d(y) * scale > 65504."""
    mixed_precision.set_global_policy("mixed_float16")
    inp = gn.Input((2,))
    model = gn.Model(inp, layers.Dense(1, name="d")(inp))
    model.compile(optimizer=optimizers.LossScaleOptimizer(optimizers.SGD(0.01),
                                                          initial_scale=scale),
                  loss="mse")
    return model


def test_a_non_finite_step_is_skipped_and_the_scale_halved():
    x = np.ones((4, 2), "float32")
    y = np.full((4, 1), 100.0, "float32")
    model = _overflowing_model(2.0 ** 15)
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), before):
        np.testing.assert_array_equal(a, b)
    assert model.optimizer.dynamic_scale == 2.0 ** 14
    assert model.optimizer.iterations == 0
    # With a scale small enough, the same step is taken: SGD moves the weights.
    model = _overflowing_model(1.0)
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    assert model.optimizer.dynamic_scale == 1.0 and model.optimizer.iterations == 1
    kernel = model.get_weights()[0]
    assert not np.array_equal(kernel, before[0])


def test_scale_halves_until_finite_then_grows_like_keras():
    """Keras's rules step by step: halve on overflow, double after the growth steps."""
    x = np.ones((4, 2), "float32")
    y = np.full((4, 1), 100.0, "float32")
    mixed_precision.set_global_policy("mixed_float16")
    inp = gn.Input((2,))
    model = gn.Model(inp, layers.Dense(1, kernel_initializer="zeros")(inp))
    opt = optimizers.LossScaleOptimizer(optimizers.SGD(1e-6), initial_scale=2.0 ** 15,
                                        dynamic_growth_steps=3)
    model.compile(optimizer=opt, loss="mse")
    scales = []
    for _ in range(10):
        model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
        scales.append(opt.dynamic_scale)
    # The kernel's float16 gradient is 4 * 50 * scale: finite once scale <= 2**8 (the 7th
    # step halves 2**9). The third finite step in a row then doubles it.
    assert scales == [2.0 ** e for e in (14, 13, 12, 11, 10, 9, 8, 8, 8, 9)]
    assert scales == _keras_scales(10)


def _keras_scales(steps):
    """Keras 3's LossScaleOptimizer on the same problem, one train_on_batch per step."""
    keras.mixed_precision.set_global_policy("mixed_float16")
    inp = keras.Input((2,))
    model = keras.Model(inp, keras.layers.Dense(1, kernel_initializer="zeros")(inp))
    opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(1e-6),
                                              initial_scale=2.0 ** 15, dynamic_growth_steps=3)
    model.compile(optimizer=opt, loss="mse")
    x = np.ones((4, 2), "float32")
    y = np.full((4, 1), 100.0, "float32")
    scales = []
    for _ in range(steps):
        model.train_on_batch(x, y)
        scales.append(float(opt.dynamic_scale))
    return scales


