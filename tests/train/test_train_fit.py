"""fit / evaluate / train_on_batch: history keys, matching by name, data forms, errors raised
before JAX sees anything, traces, determinism and quiet output."""
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, optimizers

rng = np.random.default_rng(13)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mlp(dropout=0.0):
    inp = gn.Input((6,), name="x")
    h = layers.Dense(8, activation="relu", name="h")(inp)
    if dropout:
        h = layers.Dropout(dropout)(h)
    return gn.Model(inp, layers.Dense(3, activation="softmax", name="out")(h))


def two_heads():
    """Outputs deliberately named against sorted order: 'zeta' first, 'alpha' second."""
    inp = gn.Input((6,), name="x")
    h = layers.Dense(8, activation="tanh", name="h")(inp)
    return gn.Model(inp, [layers.Dense(3, activation="softmax", name="zeta")(h),
                          layers.Dense(1, activation="sigmoid", name="alpha")(h)])


def classes(n=40):
    x = rng.normal(size=(n, 6)).astype("float32")
    return x, np.eye(3, dtype="float32")[rng.integers(0, 3, n)], (rng.random((n, 1)) > 0.5).astype("float32")


def test_history_keys_one_output_are_plain():
    model = mlp()
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy", "mae"])
    x, y, _ = classes()
    history = model.fit(x, y, epochs=2, batch_size=8, verbose=0, validation_split=0.25)
    assert list(history.history) == ["loss", "accuracy", "mae", "val_loss", "val_accuracy",
                                     "val_mae"]
    assert all(len(v) == 2 for v in history.history.values())
    assert model.history is history and history.epoch == [0, 1]


def test_history_keys_and_values_by_output_name():
    model = two_heads()
    model.compile(optimizer="sgd", loss={"alpha": "binary_crossentropy",
                                         "zeta": "categorical_crossentropy"},
                  metrics={"alpha": ["accuracy"], "zeta": ["accuracy", "auc"]})
    x, y3, y1 = classes()
    history = model.fit(x, {"alpha": y1, "zeta": y3}, epochs=1, batch_size=40, verbose=0,
                        validation_data=(x, {"zeta": y3, "alpha": y1}), shuffle=False)
    assert list(history.history) == [
        "loss", "zeta_loss", "alpha_loss", "zeta_accuracy", "zeta_auc", "alpha_accuracy",
        "val_loss", "val_zeta_loss", "val_alpha_loss", "val_zeta_accuracy", "val_zeta_auc",
        "val_alpha_accuracy"]
    # The accuracies were resolved per output: categorical for zeta, binary for alpha.
    pz, pa = model.predict(x, verbose=0)
    logs = model.evaluate(x, [y3, y1], verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["zeta_accuracy"], (pz.argmax(-1) == y3.argmax(-1)).mean(),
                               rtol=1e-6)
    np.testing.assert_allclose(logs["alpha_accuracy"], ((pa > 0.5) == (y1 > 0.5)).mean(),
                               rtol=1e-6)
    p = np.clip(pa, 1e-7, 1 - 1e-7)
    np.testing.assert_allclose(logs["alpha_loss"],
                               -(y1 * np.log(p) + (1 - y1) * np.log(1 - p)).mean(), rtol=1e-5)
    np.testing.assert_allclose(history.history["val_loss"][0],
                               (logs["zeta_loss"] + logs["alpha_loss"]) / 2, rtol=1e-5)


@pytest.mark.parametrize("kwargs,match", [
    ({"loss": {"zeta": "mse", "beta": "mse"}}, "beta"),
    ({"loss": "mse", "metrics": {"alfa": ["mae"]}}, "alfa"),
    ({"loss": "mse", "loss_weights": {"zeta": 1.0, "gamma": 2.0}}, "gamma"),
])
def test_unknown_dict_key_is_a_key_error_listing_outputs(kwargs, match):
    model = two_heads()
    with pytest.raises(KeyError, match=rf"{match}.*\['zeta', 'alpha'\]"):
        model.compile(optimizer="sgd", **kwargs)


def test_target_dict_with_unknown_name():
    model = two_heads()
    model.compile(optimizer="sgd", loss="mse")
    x, y3, y1 = classes()
    with pytest.raises(KeyError, match=r"omega.*\['zeta', 'alpha'\]"):
        model.fit(x, {"zeta": y3, "alpha": y1, "omega": y1}, verbose=0)


def test_errors_before_jax_sees_anything():
    model = mlp()
    x, y, _ = classes()
    with pytest.raises(ValueError, match="compile"):
        model.fit(x, y, verbose=0)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match=r"output 'out'.*\(40, 4\).*\(None, 3\)"):
        model.fit(x, np.zeros((40, 4), "float32"), verbose=0)
    with pytest.raises(ValueError, match=r"40 samples.*'x'.*30.*'out'"):
        model.fit(x, y[:30], verbose=0)
    for split in (1.0, -0.1, 1.5):
        with pytest.raises(ValueError, match="validation_split"):
            model.fit(x, y, validation_split=split, verbose=0)
    with pytest.raises(TypeError, match="'out'.*numeric"):
        model.fit(x, np.array([["a", "b", "c"]] * 40), verbose=0)
    with pytest.raises(TypeError, match="'x'.*numeric"):
        model.fit(np.array([["a"] * 6] * 40), y, verbose=0)
    with pytest.raises(ValueError, match="loss_reduction"):
        model.compile(optimizer="sgd", loss="mse", loss_reduction="avg")
    with pytest.raises(ValueError, match="list of 3.*2 output"):
        two_heads().compile(optimizer="sgd", loss=["mse", "mse", "mse"])


def test_no_recompile_across_epochs_nor_fits(compiles):
    model = mlp()
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"],
                  steps_per_execution=2)
    x, y, _ = classes(100)                        # batches 32, 32, 32, 4; chunks of 2 and 1
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)
    first = compiles.count
    model.fit(x, y, batch_size=32, epochs=3, verbose=0)
    assert compiles.count == first
    assert model.optimizer.iterations == 16


def test_predict_evaluate_fit_are_quiet_at_verbose_0(capfd):
    model = mlp()
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y, _ = classes()
    model.fit(x, y, epochs=2, verbose=0, validation_split=0.2)
    model.evaluate(x, y, verbose=0)
    model.predict(x, verbose=0)
    out, err = capfd.readouterr()
    assert out == "" and err == ""
    model.fit(x, y, epochs=2, batch_size=8, verbose=1)
    out, err = capfd.readouterr()
    assert "Epoch 2/2" in out and "loss:" in out and "5/5" in out
    model.fit(x, y, epochs=1, verbose=2)
    out, _ = capfd.readouterr()
    assert out.startswith("Epoch 1/1") and "loss:" in out


def test_evaluate_returns_keras_forms():
    model = mlp()
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y, _ = classes()
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "accuracy"]
    assert model.evaluate(x, y, verbose=0) == [logs["loss"], logs["accuracy"]]
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(logs["loss"])


def test_sample_weight_and_class_weight():
    model = mlp()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y, _ = classes()
    p = np.clip(model.predict(x, verbose=0), 1e-7, 1 - 1e-7)
    per = -(y * np.log(p)).sum(-1)
    w = rng.random(40).astype("float32")
    np.testing.assert_allclose(model.evaluate(x, y, sample_weight=w, batch_size=40, verbose=0),
                               (per * w).mean(), rtol=1e-5)
    # class_weight multiplies each sample's loss by its class's weight: train with it and
    # with the equivalent sample_weight, from the same start.
    cw = {0: 0.5, 1: 2.0, 2: 1.0}
    start = model.get_weights()
    model.fit(x, y, class_weight=cw, batch_size=10, epochs=1, verbose=0, shuffle=False)
    with_cw = model.get_weights()
    model.set_weights(start)
    model.fit(x, y, sample_weight=np.array([cw[c] for c in y.argmax(-1)], "float32"),
              batch_size=10, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(with_cw, model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)
    assert not np.allclose(with_cw[0], start[0])


def test_class_weight_costs_by_its_entries_not_its_largest_key():
    import tracemalloc
    model = mlp()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y, _ = classes()
    start = model.get_weights()
    cw = {0: 0.5, 1: 2.0, 10 ** 8: 3.0}                   # the large key names no sample
    tracemalloc.start()
    model.fit(x, y, class_weight=cw, batch_size=10, epochs=1, verbose=0, shuffle=False)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 50 << 20, peak                        # no 400 MB table by the largest key
    with_cw = model.get_weights()
    model.set_weights(start)                            # Keras: a class not in the dict weighs 1
    model.fit(x, y, sample_weight=np.array([cw.get(c, 1.0) for c in y.argmax(-1)], "float32"),
              batch_size=10, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(with_cw, model.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6)


def test_iterable_of_batches_trains_like_arrays():
    x, y, _ = classes()
    gn.utils.set_random_seed(3)
    a = mlp()
    a.compile(optimizer="adam", loss="categorical_crossentropy", steps_per_execution=2)
    b = mlp()
    b.set_weights(a.get_weights())
    b.compile(optimizer="adam", loss="categorical_crossentropy", steps_per_execution=2)
    a.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 40, 16)]   # 16, 16, 8
    history = b.fit(batches, epochs=2, verbose=0)
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(u, v, rtol=1e-5, atol=1e-6)
    assert len(history.history["loss"]) == 2
    gen = ((x[i:i + 8], y[i:i + 8]) for i in range(0, 40, 8))
    with pytest.raises(ValueError, match="used up after one epoch"):
        b.fit(gen, epochs=2, verbose=0)


def test_sequential_fit_builds_from_data_and_book_listing_runs():
    network = gn.models.Sequential()
    network.add(layers.Dense(16, activation="relu"))
    network.add(layers.Dense(3, activation="softmax"))
    network.compile(optimizer="rmsprop", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y, _ = classes()
    history = network.fit(x, y, epochs=2, batch_size=8, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert network.evaluate(x, y, verbose=0)[0] > 0


def test_train_on_batch_and_initial_epoch():
    model = mlp()
    model.compile(optimizer=optimizers.SGD(0.1), loss="categorical_crossentropy")
    x, y, _ = classes()
    before = model.evaluate(x, y, verbose=0)
    for _ in range(5):
        loss = model.train_on_batch(x, y)
    assert loss < before
    history = model.fit(x, y, epochs=3, initial_epoch=2, verbose=0)
    assert history.epoch == [2] and len(history.history["loss"]) == 1


def test_dropout_uses_a_fresh_key_per_step_and_none_in_evaluate():
    model = mlp(dropout=0.5)
    model.compile(optimizer=optimizers.SGD(0.0), loss="categorical_crossentropy")
    x, y, _ = classes()
    history = model.fit(x, y, batch_size=40, epochs=3, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert len(set(losses)) == 3                   # lr 0: only the dropout masks differ
    assert model.evaluate(x, y, verbose=0) == model.evaluate(x, y, verbose=0)


DETERMINISM = textwrap.dedent("""
    import sys; sys.path.insert(0, {root!r})
    import numpy as np, graphnet as gn
    from graphnet import layers
    gn.utils.set_random_seed(1234)
    data = np.random.default_rng(0)
    x = data.normal(size=(64, 6)).astype("float32")
    y = np.eye(3, dtype="float32")[data.integers(0, 3, 64)]
    inp = gn.Input((6,))
    h = layers.Dropout(0.3)(layers.Dense(8, activation="relu")(inp))
    model = gn.Model(inp, layers.Dense(3, activation="softmax")(h))
    model.compile(optimizer="adam", loss="categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=True)
    print(",".join(w.tobytes().hex() for w in model.get_weights()))
""")


def test_same_seed_same_weights_across_processes():
    script = DETERMINISM.format(root=ROOT)
    env = {**os.environ, "JAX_PLATFORMS": "cpu"}
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=env, timeout=300) for _ in range(2)]
    for r in runs:
        assert r.returncode == 0, r.stderr
    assert runs[0].stdout == runs[1].stdout and len(runs[0].stdout) > 100
    other = subprocess.run([sys.executable, "-c", script.replace("1234", "99")],
                           capture_output=True, text=True, env=env, timeout=300)
    assert other.stdout != runs[0].stdout


def test_validation_data_as_an_iterable_of_batches():
    model = mlp()
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y, _ = classes()
    val = [(x[:16], y[:16]), (x[16:], y[16:])]
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=val)
    assert len(history.history["val_accuracy"]) == 2
    np.testing.assert_allclose(history.history["val_loss"][-1],
                               model.evaluate(x, y, verbose=0)[0], rtol=1e-5)


def test_compile_config_round_trips_through_json():
    import json
    from graphnet.train.spec import compile_config, from_config
    model = two_heads()
    model.compile(optimizer=optimizers.Adam(0.01, clipnorm=1.0),
                  loss={"zeta": gn.losses.CategoricalCrossentropy(label_smoothing=0.1),
                        "alpha": "binary_crossentropy"},
                  metrics={"zeta": ["accuracy", gn.metrics.AUC(num_thresholds=50)]},
                  loss_weights={"zeta": 2.0, "alpha": 1.0}, loss_reduction="sum",
                  steps_per_execution=8)
    config = json.loads(json.dumps(compile_config(model._trainer.args)))
    other = two_heads()
    other.set_weights(model.get_weights())
    other.compile(**from_config(config))
    assert other.optimizer.learning_rate == 0.01 and other.optimizer.clipnorm == 1.0
    x, y3, y1 = classes()
    a = model.evaluate(x, [y3, y1], verbose=0, return_dict=True)
    b = other.evaluate(x, [y3, y1], verbose=0, return_dict=True)
    assert a == pytest.approx(b, rel=1e-6) and "zeta_auc" in b
