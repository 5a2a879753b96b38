"""Fixes found by probing the trainer: new data lengths, bad labels and values, the activity
penalty's scale, train_on_batch's metrics, ignore_class, argument checks, predict's bar."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import callbacks, layers, losses, optimizers, regularizers

rng = np.random.default_rng(2)


def classifier(seed=0, classes=3):
    gn.utils.set_random_seed(seed)
    inp = gn.Input((4,), name="x")
    h = layers.Dense(6, activation="relu", name="h")(inp)
    return gn.Model(inp, layers.Dense(classes, activation="softmax", name="probs")(h))


def data(n, classes=3):
    x = rng.normal(size=(n, 4)).astype("float32")
    return x, np.eye(classes, dtype="float32")[rng.integers(0, classes, n)]


# ---- new data lengths --------------------------------------------------------------------------
def test_fits_on_many_lengths_share_a_few_compiles(compiles):
    model = classifier()
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = data(150)
    model.fit(x[:100], y[:100], batch_size=32, verbose=0)
    for n in range(101, 150, 3):
        model.fit(x[:n], y[:n], batch_size=32, verbose=0)
        model.evaluate(x[:n], y[:n], batch_size=32, verbose=0)
    # stacks of 3 or 4 batches; tails padded to 1, 2, 4, 8 or 16 rows
    assert compiles.of("_train_chunk") <= 7
    assert compiles.of("_eval_chunk") <= 7


def test_a_ragged_last_batch_costs_no_second_compile(compiles):
    model = classifier()
    model.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=["accuracy"])
    x, y = data(142)                        # 4 batches of 32 and one of 14
    model.fit(x, y, batch_size=32, epochs=2, verbose=0, validation_data=(x, y))
    model.evaluate(x, y, batch_size=32, verbose=0)
    assert compiles.of("_train_chunk") == 1
    assert compiles.of("_eval_chunk") == 1


def test_a_padded_last_batch_trains_exactly_as_an_unpadded_one():
    x, y = data(37)
    w = rng.uniform(0.5, 2.0, size=37).astype("float32")
    model = classifier()
    model.compile(optimizer=optimizers.SGD(0.1), loss="categorical_crossentropy",
                  metrics=["accuracy"])
    logs = model.fit(x, y, batch_size=32, epochs=1, verbose=0, shuffle=False,
                     sample_weight=w).history
    reference = classifier()
    reference.compile(optimizer=optimizers.SGD(0.1), loss="categorical_crossentropy",
                      metrics=["accuracy"])
    first = reference.train_on_batch(x[:32], y[:32], sample_weight=w[:32], return_dict=True)
    last = reference.train_on_batch(x[32:], y[32:], sample_weight=w[32:], return_dict=True)
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    for key in ("loss", "accuracy"):       # the epoch's running mean over its 37 rows
        np.testing.assert_allclose(logs[key][0], (first[key] * 32 + last[key] * 5) / 37,
                                   rtol=1e-5)
    # evaluate over the padded tail: the plain formula over all 37 rows
    p = model.predict(x, verbose=0)
    ce = -(y * np.log(np.clip(p / p.sum(-1, keepdims=True), 1e-7, 1 - 1e-7))).sum(-1)
    batches = [(w[:32] * ce[:32]).sum() / 32, (w[32:] * ce[32:]).sum() / 5]
    got = model.evaluate(x, y, batch_size=32, verbose=0, sample_weight=w, return_dict=True)
    np.testing.assert_allclose(got["loss"], (batches[0] * 32 + batches[1] * 5) / 37, rtol=1e-5)


def test_batch_statistics_keep_an_exact_last_batch():
    gn.utils.set_random_seed(0)
    inp = gn.Input((4,))
    model = gn.Model(inp, layers.Dense(1)(layers.BatchNormalization()(inp)))
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    assert not model._trainer.pad_tail
    x, y = rng.normal(size=(37, 4)).astype("float32"), rng.normal(size=(37, 1)).astype("float32")
    model.fit(x, y, batch_size=32, verbose=0, shuffle=False)
    gn.utils.set_random_seed(0)
    inp = gn.Input((4,))
    reference = gn.Model(inp, layers.Dense(1)(layers.BatchNormalization()(inp)))
    reference.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    reference.train_on_batch(x[:32], y[:32])
    reference.train_on_batch(x[32:], y[32:])
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


# ---- labels and values ---------------------------------------------------------------------------
def test_sparse_labels_outside_the_classes_are_named():
    model = classifier()
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    x, _ = data(8)
    with pytest.raises(ValueError, match="output 'probs'.*label 3 \\(row 5\\).*\\[0, 3\\)"):
        model.fit(x, np.array([0, 1, 2, 0, 1, 3, 0, 1]), verbose=0)
    with pytest.raises(ValueError, match="label -1"):
        model.evaluate(x, np.array([0, 1, 2, 0, 1, -1, 0, 1]), verbose=0)
    model.compile(optimizer="sgd",
                  loss=losses.SparseCategoricalCrossentropy(ignore_class=-1))
    model.fit(x, np.array([0, 1, 2, 0, 1, -1, 0, 1]), verbose=0)     # the ignored class is fine


@pytest.mark.parametrize("where", ["x", "y", "sample_weight"])
def test_nan_or_inf_is_named_before_any_step(where):
    model = classifier()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = data(16)
    w = np.ones(16, "float32")
    {"x": x, "y": y, "sample_weight": w}[where][6] = np.inf if where == "y" else np.nan
    before = model.get_weights()
    label = {"x": "x \\(input 'x'\\)", "y": "y \\(output 'probs'\\)",
             "sample_weight": "sample_weight \\(output 'probs'\\)"}[where]
    with pytest.raises(ValueError, match=f"{label} holds NaN or infinite values, first at row 6"):
        model.fit(x, y, sample_weight=w, verbose=0)
    assert model.optimizer.iterations == 0
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---- the activity penalty's scale: as Keras 3 ------------------------------------------------------
def test_activity_regularizer_loss_matches_keras():
    keras = pytest.importorskip("keras")
    x = rng.normal(size=(64, 5)).astype("float32")
    y = rng.normal(size=(64, 3)).astype("float32")
    inp = gn.Input((5,))
    model = gn.Model(inp, layers.Dense(3, activity_regularizer=regularizers.l1_l2(0.01, 0.02))(inp))
    model.compile(optimizer="sgd", loss="mse")
    kinp = keras.Input((5,))
    kmodel = keras.Model(kinp, keras.layers.Dense(
        3, activity_regularizer=keras.regularizers.l1_l2(0.01, 0.02))(kinp))
    kmodel.compile(optimizer="sgd", loss="mse")
    kmodel.set_weights(model.get_weights())
    for batch in (8, 32):
        np.testing.assert_allclose(model.evaluate(x, y, batch_size=batch, verbose=0),
                                   kmodel.evaluate(x, y, batch_size=batch, verbose=0), rtol=1e-5)


def test_ignore_class_matches_keras():
    keras = pytest.importorskip("keras")
    y = np.array([0, 2, 1, 2, 2, 0], "int32")
    p = rng.dirichlet(np.ones(3), size=6).astype("float32")
    w = rng.uniform(0.5, 2, size=6).astype("float32")
    for kwargs in ({"ignore_class": 2}, {"ignore_class": 2, "from_logits": True}):
        ours = losses.SparseCategoricalCrossentropy(**kwargs)
        theirs = keras.losses.SparseCategoricalCrossentropy(**kwargs)
        np.testing.assert_allclose(float(ours(y, p)), float(theirs(y, p)), rtol=1e-5)
        np.testing.assert_allclose(float(ours(y, p, w)), float(theirs(y, p, w)), rtol=1e-5)
    assert ours.get_config()["ignore_class"] == 2


# ---- single batches, predict, arguments -----------------------------------------------------------
def test_train_on_batch_reports_its_own_batch_as_keras():
    keras = pytest.importorskip("keras")
    model = classifier()
    model.compile(optimizer=optimizers.SGD(0.1), loss="categorical_crossentropy",
                  metrics=["accuracy", "mae"])
    inp = keras.Input((4,))
    h = keras.layers.Dense(6, activation="relu")(inp)
    reference = keras.Model(inp, keras.layers.Dense(3, activation="softmax")(h))
    reference.set_weights(model.get_weights())
    reference.compile(optimizer=keras.optimizers.SGD(0.1), loss="categorical_crossentropy",
                      metrics=["accuracy", "mae"])
    x, y = data(24)
    for rows in (slice(0, 8), slice(8, 24), slice(0, 8)):
        got = model.train_on_batch(x[rows], y[rows], return_dict=True)
        want = reference.train_on_batch(x[rows], y[rows], return_dict=True)
        assert got == pytest.approx({k: float(v) for k, v in want.items()}, rel=1e-5)
    model.reset_metrics()             # Keras's method exists; there is nothing to reset
    got = model.test_on_batch(x[8:], y[8:], return_dict=True)
    want = reference.test_on_batch(x[8:], y[8:], return_dict=True)
    assert got == pytest.approx({k: float(v) for k, v in want.items()}, rel=1e-5)


def test_predict_shows_a_bar_at_verbose_1(capsys):
    model = classifier()
    x, _ = data(10)
    model.predict(x, verbose=1, batch_size=4)
    assert "Predict" in capsys.readouterr().out
    model.predict(x, verbose=0, batch_size=4)
    assert capsys.readouterr().out == ""


def test_arguments_are_checked_by_name():
    model = classifier()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = data(16)
    with pytest.raises(ValueError, match="predict: batch_size must be a positive int.*2.7"):
        model.predict(x, batch_size=2.7)
    with pytest.raises(ValueError, match="fit: batch_size must be a positive int.*'8'"):
        model.fit(x, y, batch_size="8", verbose=0)
    with pytest.raises(TypeError, match="fit: shuffle must be True or False.*'yes'"):
        model.fit(x, y, shuffle="yes", verbose=0)
    with pytest.raises(ValueError, match="fit: class_weight keys must be class indices.*'a'"):
        model.fit(x, y, class_weight={"a": 1}, verbose=0)
    with pytest.raises(TypeError, match="fit: callbacks must be a list.*one History.*\\[\\.\\.\\.\\]"):
        model.fit(x, y, callbacks=callbacks.History(), verbose=0)
    assert model.optimizer.iterations == 0


def test_validation_data_as_a_list_is_x_and_y():
    model = classifier()
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    x, y = data(16)
    as_list = model.fit(x, y, validation_data=[x, y], verbose=0, shuffle=False).history
    as_tuple = classifier()
    as_tuple.compile(optimizer="sgd", loss="categorical_crossentropy")
    h = as_tuple.fit(x, y, validation_data=(x, y), verbose=0, shuffle=False).history
    np.testing.assert_allclose(as_list["val_loss"], h["val_loss"], rtol=1e-6)


def test_l1_l2_by_name_is_keras_3s_zero_default():
    reg = regularizers.get("l1_l2")
    ref = regularizers.l1_l2()
    assert (reg.l1, reg.l2) == (ref.l1, ref.l2) == (0.0, 0.0)
