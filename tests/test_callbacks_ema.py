"""use_ema on the optimizers and SwapEMAWeights, against Keras from the same weights."""
import jax
import keras
import numpy as np
import pytest

import graphnet
from graphnet import callbacks, layers, optimizers

RNG = np.random.default_rng(3)
X = RNG.normal(size=(12, 3)).astype("float32")
Y = RNG.normal(size=(12, 2)).astype("float32")
XV = RNG.normal(size=(4, 3)).astype("float32")
YV = RNG.normal(size=(4, 2)).astype("float32")


def pair(ours_opt, keras_opt):
    kmodel = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                               keras.layers.Dense(2)])
    model = graphnet.Sequential([graphnet.Input(shape=(3,)), layers.Dense(4, activation="tanh"),
                                 layers.Dense(2)])
    model.set_weights([np.asarray(w) for w in kmodel.get_weights()])
    kmodel.compile(optimizer=keras_opt, loss="mse")
    model.compile(optimizer=ours_opt, loss="mse")
    return model, kmodel


def close(ours, theirs):
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-5, atol=1e-6)


@pytest.mark.slow                     # the swap test below also trains SGD with overwrites
@pytest.mark.parametrize("name, args", [
    ("SGD", {"learning_rate": 0.1, "momentum": 0.5, "ema_overwrite_frequency": 2}),
    pytest.param("Adam", {"learning_rate": 0.05, "ema_momentum": 0.8},
                 marks=pytest.mark.slow),
])
def test_fit_with_use_ema_gives_keras_weights(name, args):
    model, kmodel = pair(getattr(optimizers, name)(use_ema=True, **args),
                         getattr(keras.optimizers, name)(use_ema=True, **args))
    model.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    with jax.numpy_dtype_promotion("standard"):     # Keras's overwrite mixes dtypes
        kmodel.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0)
    close(model.get_weights(), kmodel.get_weights())     # the end of fit: the averages


def test_swap_on_epoch_evaluates_with_the_averages_as_keras():
    args = {"learning_rate": 0.2, "ema_momentum": 0.5, "ema_overwrite_frequency": 5}
    model, kmodel = pair(optimizers.SGD(use_ema=True, **args),
                         keras.optimizers.SGD(use_ema=True, **args))
    ours = model.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0,
                     validation_data=(XV, YV),
                     callbacks=[callbacks.SwapEMAWeights(swap_on_epoch=True)])
    with jax.numpy_dtype_promotion("standard"):     # Keras's overwrite mixes dtypes
        theirs = kmodel.fit(X, Y, batch_size=4, epochs=2, shuffle=False, verbose=0,
                            validation_data=(XV, YV),
                            callbacks=[keras.callbacks.SwapEMAWeights(swap_on_epoch=True)])
    np.testing.assert_allclose(ours.history["val_loss"], theirs.history["val_loss"],
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.history["loss"], theirs.history["loss"], rtol=1e-5,
                               atol=1e-6)
    close(model.get_weights(), kmodel.get_weights())
    # evaluate with the callback: the averages in, then the weights back
    before = model.get_weights()
    swap = callbacks.SwapEMAWeights()
    got = model.evaluate(XV, YV, verbose=0, callbacks=[swap])
    want = kmodel.evaluate(XV, YV, verbose=0, callbacks=[keras.callbacks.SwapEMAWeights()])
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    close(model.get_weights(), before)


def test_the_average_is_keras_arithmetic():
    opt = optimizers.SGD(learning_rate=1.0, use_ema=True, ema_momentum=0.75)
    params = [np.array([1.0, 2.0], "float32")]
    state = opt.init(params)
    weights, expected = params, None
    for step, g in enumerate([np.array([0.5, -1.0], "float32"), np.array([1.0, 1.0], "float32")]):
        updates, state = opt.tx.update([g], state, weights)
        weights = [weights[0] + np.asarray(updates[0])]
        expected = weights[0] if step == 0 else 0.75 * expected + 0.25 * weights[0]
    average = optimizers.ema.ema_states(state)[0].average[0]
    np.testing.assert_allclose(average, expected, rtol=1e-6, atol=1e-6)


def test_config_round_trip_keeps_the_ema_arguments():
    opt = optimizers.Adam(use_ema=True, ema_momentum=0.9, ema_overwrite_frequency=5)
    config = opt.get_config()
    again = optimizers.Adam.from_config(config)
    assert (again.use_ema, again.ema_momentum, again.ema_overwrite_frequency) == (True, 0.9, 5)
    keras_config = keras.optimizers.Adam(use_ema=True, ema_momentum=0.9,
                                         ema_overwrite_frequency=5).get_config()
    for key in ("use_ema", "ema_momentum", "ema_overwrite_frequency"):
        assert config[key] == keras_config[key]


def test_bad_ema_arguments_and_a_swap_without_ema_are_errors():
    with pytest.raises(ValueError, match="ema_momentum"):
        optimizers.SGD(use_ema=True, ema_momentum=1.5)
    with pytest.raises(ValueError, match="ema_overwrite_frequency"):
        optimizers.SGD(use_ema=True, ema_overwrite_frequency=-1)
    model = graphnet.Sequential([graphnet.Input(shape=(3,)), layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    swap = callbacks.SwapEMAWeights()
    swap.set_model(model)
    with pytest.raises(ValueError, match="use_ema=True"):
        swap.on_test_begin()
