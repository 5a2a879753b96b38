"""Adamax, Adadelta, Ftrl, Lion, Lamb and Adafactor against Keras 3's optimizers: steps on
fixed gradients, a small MLP trained from the same weights, strings, configs and saving."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, optimizers

from test_optimizers import GRADS, PARAMS, _train_both, steps

RULES = [
    ("Adamax", {"learning_rate": 0.1}),
    ("Adamax", {"learning_rate": 0.1, "beta_1": 0.5, "epsilon": 1e-2, "weight_decay": 0.1}),
    ("Adadelta", {"learning_rate": 1.0}),
    ("Adadelta", {"learning_rate": 0.5, "rho": 0.8, "epsilon": 1e-3, "clipnorm": 0.5}),
    ("Ftrl", {"learning_rate": 0.1}),
    ("Ftrl", {"learning_rate": 0.1, "learning_rate_power": -0.7, "initial_accumulator_value": 0.5,
              "l1_regularization_strength": 0.01, "l2_regularization_strength": 0.02,
              "l2_shrinkage_regularization_strength": 0.03, "beta": 0.1}),
    ("Lion", {"learning_rate": 0.01}),
    ("Lion", {"learning_rate": 0.01, "beta_1": 0.5, "beta_2": 0.9, "weight_decay": 0.5}),
    ("Lamb", {"learning_rate": 0.1}),
    ("Lamb", {"learning_rate": 0.1, "epsilon": 1e-2, "weight_decay": 0.1,
              "global_clipnorm": 1.0}),
    ("Adafactor", {"learning_rate": 0.1}),
    ("Adafactor", {"learning_rate": 0.5, "beta_2_decay": -0.5, "epsilon_2": 1e-2,
                   "clip_threshold": 0.5, "relative_step": False, "clipvalue": 0.3}),
]


def _keras_steps(keras, name, kw, grads, params=PARAMS):
    variables = [keras.Variable(np.asarray(p)) for p in params]
    opt = getattr(keras.optimizers, name)(**kw)
    for g in grads:
        opt.apply_gradients(zip([np.asarray(x) for x in g], variables))
    return [np.asarray(v.value) for v in variables]


@pytest.mark.parametrize("name,kw", RULES, ids=[f"{n}-{sorted(k)}" for n, k in RULES])
def test_same_update_as_keras(name, kw):
    """Three steps on fixed gradients (scaled by 1, 1e-3 and 10, so epsilon matters)."""
    keras = pytest.importorskip("keras")
    grads = [[g * s for g in gs] for gs, s in zip(GRADS, (1.0, 1e-3, 10.0))]
    ours = steps(getattr(optimizers, name)(**kw).tx, grads=grads)
    for a, b in zip(ours, _keras_steps(keras, name, kw, grads)):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-6, atol=1e-7)


def test_adafactor_factors_a_rank_3_variable_like_keras():
    keras = pytest.importorskip("keras")
    r = np.random.default_rng(5)
    params = [r.normal(size=(2, 3, 4)).astype("float32"), r.normal(size=(5,)).astype("float32")]
    grads = [[r.normal(size=p.shape).astype("float32") for p in params] for _ in range(3)]
    ours = steps(optimizers.Adafactor(0.1).tx, params=params, grads=grads)
    for a, b in zip(ours, _keras_steps(keras, "Adafactor", {"learning_rate": 0.1}, grads,
                                        params)):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-6, atol=1e-7)


def test_adamax_by_hand():
    """One Adamax step written out: m = 0.1 g, u = |g|, p -= lr m / ((1 - 0.9) (u + eps))."""
    g = np.asarray(GRADS[0][0])
    (p, _) = steps(optimizers.Adamax(0.1).tx, grads=[GRADS[0]])
    expected = np.asarray(PARAMS[0]) - 0.1 * (0.1 * g) / (0.1 * (np.abs(g) + 1e-7))
    np.testing.assert_allclose(np.asarray(p), expected, rtol=1e-5)


MLP_CASES = [("Adamax", {"learning_rate": 0.05}), ("Adadelta", {"learning_rate": 1.0}),
             ("Ftrl", {"learning_rate": 0.1}), ("Lion", {"learning_rate": 0.01}),
             ("Lamb", {"learning_rate": 0.05}), ("Adafactor", {"learning_rate": 0.05})]


@pytest.mark.slow
@pytest.mark.parametrize("name,kw", MLP_CASES, ids=[n for n, _ in MLP_CASES])
def test_mlp_training_matches_keras(name, kw):
    keras = pytest.importorskip("keras")
    _, ours, theirs = _train_both(lambda: getattr(optimizers, name)(**kw),
                                  lambda: getattr(keras.optimizers, name)(**kw))
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


NAMES = ["adamax", "adadelta", "ftrl", "lion", "lamb", "adafactor"]


@pytest.mark.parametrize("name", NAMES)
def test_strings_give_keras_defaults(name):
    keras = pytest.importorskip("keras")
    ours = optimizers.get(name).get_config()
    # Keras's `get` does not know "lamb" (its class has the same defaults)
    theirs = getattr(keras.optimizers, type(optimizers.get(name)).__name__)().get_config()
    if name != "lamb":
        from_string = keras.optimizers.get(name).get_config()
        assert {**from_string, "name": None} == {**theirs, "name": None}
    for key, value in ours.items():
        if key != "name":
            assert value == pytest.approx(theirs[key]), key
    assert type(optimizers.get(name.capitalize())).__name__.lower() == name


def test_config_round_trip_and_saving(tmp_path):
    opt = optimizers.Ftrl(0.2, l1_regularization_strength=0.1, beta=0.3, clipnorm=1.0)
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert type(again) is optimizers.Ftrl and again.get_config() == opt.get_config()
    x = np.random.default_rng(1).normal(size=(16, 3)).astype("float32")
    y = x.sum(1, keepdims=True)
    inp = gn.Input((3,))
    model = gn.Model(inp, layers.Dense(1)(inp))
    model.compile(optimizer=optimizers.Lamb(0.01, weight_decay=0.01), loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "m.graphnet")
    loaded = gn.load_model(tmp_path / "m.graphnet")
    assert type(loaded.optimizer) is optimizers.Lamb
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    model.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    loaded.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_bad_arguments_name_the_optimizer():
    with pytest.raises(ValueError, match="Ftrl: `l1_regularization_strength` must be >= 0"):
        optimizers.Ftrl(l1_regularization_strength=-1)
    with pytest.raises(ValueError, match="Ftrl: `learning_rate_power` must be <= 0"):
        optimizers.Ftrl(learning_rate_power=0.5)
    with pytest.raises(ValueError, match="Lion: `beta_1` must be in"):
        optimizers.Lion(beta_1=0.0)
    with pytest.raises(TypeError):
        optimizers.Adamax(not_an_argument=True)
