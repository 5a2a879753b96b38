"""Muon and ScheduleFreeAdamW against Keras 3: three steps from the same start on fixed
gradients, written out by hand for one step, configs, strings and saving."""
import doctest

import jax

import numpy as np
import pytest

import graphnet as gn
from graphnet import optimizers
from graphnet.optimizers import recent

from test_optimizers import steps

keras = pytest.importorskip("keras")
rng = np.random.default_rng(21)
TOL = dict(rtol=1e-5, atol=1e-6)


def keras_steps(opt, params, grads):
    """Keras's optimizer on variables named v0, v1, ...: its stateless_apply, jitted (one
    compile instead of one per eager op; the same update_step)."""
    variables = [keras.Variable(np.asarray(p), name=f"v{i}") for i, p in enumerate(params)]
    opt.build(variables)
    step = jax.jit(opt.stateless_apply)
    opt_vars, values = [v.value for v in opt.variables], [v.value for v in variables]
    for g in grads:
        values, opt_vars = step(opt_vars, [np.asarray(x) for x in g], values)
    return [np.asarray(v) for v in values]


PARAMS = [rng.normal(size=(3, 5)).astype("float32"), rng.normal(size=(4, 2)).astype("float32"),
          rng.normal(size=(5,)).astype("float32")]
GRADS = [[rng.normal(size=p.shape).astype("float32") * s for p in PARAMS]
         for s in (1.0, 1e-3, 10.0)]


@pytest.mark.parametrize("kwargs", [
    {"learning_rate": 0.1},
    {"learning_rate": 0.05, "warmup_steps": 2, "weight_decay": 0.1, "beta_1": 0.8}])
def test_schedule_free_adamw_matches_keras(kwargs):
    ours = steps(optimizers.ScheduleFreeAdamW(**kwargs).tx, params=PARAMS, grads=GRADS)
    theirs = keras_steps(keras.optimizers.ScheduleFreeAdamW(**kwargs), PARAMS, GRADS)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(np.asarray(a), b, **TOL)


def test_schedule_free_adamw_one_step_by_hand():
    p, g, lr, b1, b2, eps = PARAMS[2], GRADS[0][2], 0.1, 0.9, 0.999, 1e-8
    (ours,) = steps(optimizers.ScheduleFreeAdamW(lr).tx, params=[p], grads=[[g]])
    v = (1 - b2) * g ** 2
    z = p - lr * g / (np.sqrt(v / (1 - b2)) + eps)
    x = (p - (1 - b1) * p) / b1                    # z starts at the weights
    y = (1 - b1) * z + b1 * z                      # weight 1 / t = 1 on the first step
    np.testing.assert_allclose(np.asarray(ours), y, **TOL)
    assert np.allclose(x, p)


@pytest.mark.parametrize("kwargs", [
    {"learning_rate": 0.05},
    {"learning_rate": 0.05, "nesterov": False, "rms_rate": None, "weight_decay": 0.1,
     "adam_lr_ratio": 0.5, "ns_steps": 3, "exclude_layers": ["v1"]}])
def test_muon_matches_keras(kwargs):
    ours = steps(optimizers.Muon(**kwargs).tx, params={f"v{i}": p for i, p in
                                                         enumerate(PARAMS)},
                 grads=[{f"v{i}": g for i, g in enumerate(gs)} for gs in GRADS])
    theirs = keras_steps(keras.optimizers.Muon(**kwargs), PARAMS, GRADS)
    for i, b in enumerate(theirs):
        np.testing.assert_allclose(np.asarray(ours[f"v{i}"]), b, **TOL, err_msg=f"v{i}")


def test_muon_one_step_by_hand_and_its_variable_choice():
    p, g = PARAMS[0], GRADS[0][0]
    opt = optimizers.Muon(learning_rate=0.1, weight_decay=None, ns_steps=2)
    (ours,) = steps(opt.tx, params=[p], grads=[[g]])
    m = g                                          # m = 0.95 * 0 + g
    x = (g + 0.95 * m).T                           # nesterov; (3, 5) is wide: no transpose
    x = x.T / (np.linalg.norm(x) + 1e-7)
    for _ in range(2):
        gram = x @ x.T
        x = 3.4445 * x + (-4.7750 * gram + 2.0315 * gram @ gram) @ x
    np.testing.assert_allclose(np.asarray(ours), p - 0.1 * x * np.sqrt(5) * 0.2, **TOL)
    assert opt.uses_adamw("embedding/embeddings", (10, 4))
    assert opt.uses_adamw("dense/bias", (4,))
    assert not opt.uses_adamw("dense/kernel", (4, 4))


def test_configs_and_strings():
    for ours, theirs in [(optimizers.Muon(exclude_layers=["head"]),
                          keras.optimizers.Muon(exclude_layers=["head"])),
                         (optimizers.ScheduleFreeAdamW(warmup_steps=3),
                          keras.optimizers.ScheduleFreeAdamW(warmup_steps=3))]:
        config, reference = ours.get_config(), theirs.get_config()
        for key, value in config.items():
            if key in reference and key != "name":
                assert reference[key] == pytest.approx(value), key
        again = optimizers.deserialize(optimizers.serialize(ours))
        assert type(again) is type(ours) and again.get_config() == config
    assert isinstance(optimizers.get("muon"), optimizers.Muon)
    assert isinstance(optimizers.get("schedulefreeadamw"), optimizers.ScheduleFreeAdamW)


@pytest.mark.slow
def test_training_and_saving_with_muon(tmp_path):
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    inputs = gn.Input((4,))
    model = gn.Model(inputs, gn.layers.Dense(2)(gn.layers.Dense(3)(inputs)))
    model.compile(optimizers.Muon(learning_rate=0.01), loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.graphnet")
    loaded = gn.load_model(tmp_path / "m.graphnet")
    assert isinstance(loaded.optimizer, optimizers.Muon)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               **TOL)


def test_docstring_examples_run():
    failed, attempted = doctest.testmod(recent)
    assert attempted and not failed


@pytest.mark.slow
def test_muon_in_fit_routes_weights_by_their_paths_like_keras():
    """An embedding (AdamW by path), a 2-D kernel (Muon) and a bias (AdamW): two steps of
    fit from the same weights as Keras."""
    tokens = rng.integers(0, 6, (8, 3))
    y = rng.normal(size=(8, 3, 4)).astype("float32")

    def build(lib):
        inputs = lib.Input((3,), dtype="int32")
        hidden = lib.layers.Embedding(6, 5, name="embedding")(inputs)
        return lib.Model(inputs, lib.layers.Dense(4, name="dense")(hidden))
    ours, theirs = build(gn), build(keras)
    theirs.set_weights([w.astype("float32") for w in ours.get_weights()])
    ours.compile(optimizers.Muon(learning_rate=0.05), loss="mse")
    theirs.compile(keras.optimizers.Muon(learning_rate=0.05), loss="mse")
    ours.fit(tokens, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    theirs.fit(tokens, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
