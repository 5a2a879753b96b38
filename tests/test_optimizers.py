"""Each optimizer's step against a hand-written optax step (and Keras where the rules agree)."""
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
    ("adam", optimizers.Adam(), optax.adam(0.001, b1=0.9, b2=0.999, eps=1e-7)),
    ("adamw", optimizers.AdamW(), optax.adamw(0.001, b1=0.9, b2=0.999, eps=1e-7,
                                              weight_decay=0.004)),
    ("adagrad", optimizers.Adagrad(), optax.adagrad(0.001, initial_accumulator_value=0.1,
                                                    eps=1e-7)),
    ("nadam", optimizers.Nadam(), optax.nadam(0.001, b1=0.9, b2=0.999, eps=1e-7)),
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


@pytest.mark.parametrize("name", ["SGD", "RMSprop", "Adagrad"])
def test_same_rule_as_keras(name):
    """SGD, RMSprop and Adagrad have the same update rule in Keras and optax."""
    keras = pytest.importorskip("keras")
    kw = {"SGD": {"learning_rate": 0.1, "momentum": 0.9}}.get(name, {"learning_rate": 0.01})
    ours = steps(getattr(optimizers, name)(**kw).tx)
    variables = [keras.Variable(np.asarray(p)) for p in PARAMS]
    opt = getattr(keras.optimizers, name)(**kw)
    for g in GRADS:
        opt.apply_gradients(zip([np.asarray(x) for x in g], variables))
    for a, v in zip(ours, variables):
        np.testing.assert_allclose(np.asarray(a), np.asarray(v.value), rtol=1e-5, atol=1e-6)


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
    with pytest.raises(TypeError, match="schedule"):
        opt.learning_rate = 0.3


def _tiny_model(optimizer):
    inp = gn.Input((3,))
    model = gn.Model(inp, layers.Dense(2, name="d")(inp))
    model.compile(optimizer=optimizer, loss="mse")
    return model


def test_learning_rate_set_between_fits_without_a_recompile():
    x = rng.normal(size=(8, 3)).astype("float32")
    y = rng.normal(size=(8, 2)).astype("float32")
    model = _tiny_model(optimizers.SGD(0.1))
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    program = next(iter(model._trainer._programs.values()))
    traces = program.trace_count
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
    assert program.trace_count == traces
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
