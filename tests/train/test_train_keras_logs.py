"""What Keras users read off training, checked against Keras 3 itself: weighted and unweighted
metrics, the order of evaluate's list, batch hooks once per batch, steps_per_epoch."""
import warnings

import numpy as np
import pytest

import graphnet as gn
from graphnet import callbacks, layers

keras = pytest.importorskip("keras")
rng = np.random.default_rng(5)
X = rng.normal(size=(20, 4)).astype("float32")
LABELS = rng.integers(0, 3, 20)
Y_DEPT = np.eye(3, dtype="float32")[LABELS]
Y_PRIO = rng.normal(size=(20, 1)).astype("float32")
WEIGHTS = np.where(np.arange(20) < 5, 9.0, 1.0).astype("float32")


def two_heads(lib, weights=None):
    inp = lib.Input((4,), name="x")
    h = lib.layers.Dense(8, activation="relu", name="h")(inp)
    model = lib.Model(inp, [lib.layers.Dense(3, activation="softmax", name="dept")(h),
                            lib.layers.Dense(1, name="prio")(h)])
    if weights is not None:
        model.set_weights(weights)
    return model


def one_head(lib, weights=None):
    inp = lib.Input((4,), name="x")
    model = lib.Model(inp, lib.layers.Dense(3, activation="softmax", name="dept")(inp))
    if weights is not None:
        model.set_weights(weights)
    return model


def pair(build, **compile_kwargs):
    """The same model in graphnet and Keras, same weights, same compile arguments (and
    Keras's sum of the per-output losses as the total)."""
    ours = build(gn)
    theirs = build(keras, ours.get_weights())
    ours.compile(loss_reduction="sum", **compile_kwargs)
    theirs.compile(**compile_kwargs)
    return ours, theirs


def assert_same_logs(ours: dict, theirs: dict):
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        np.testing.assert_allclose(ours[key], float(theirs[key]), rtol=1e-5, err_msg=key)


# ---- weighted_metrics ----------------------------------------------------------------------------
def test_metrics_are_unweighted_and_weighted_metrics_weighted_as_keras():
    ours, theirs = pair(one_head, optimizer="sgd", loss="categorical_crossentropy",
                        metrics=["accuracy", "mae"], weighted_metrics=["accuracy", "mse"])
    got = ours.evaluate(X, Y_DEPT, sample_weight=WEIGHTS, verbose=0, return_dict=True)
    want = theirs.evaluate(X, Y_DEPT, sample_weight=WEIGHTS, verbose=0, return_dict=True)
    assert_same_logs(got, want)
    assert set(got) == {"loss", "accuracy", "mae", "mse", "weighted_accuracy"}
    # the weighted accuracy really is weighted: by hand
    hit = (ours.predict(X, verbose=0).argmax(-1) == LABELS).astype("float32")
    np.testing.assert_allclose(got["weighted_accuracy"], (hit * WEIGHTS).sum() / WEIGHTS.sum(),
                               rtol=1e-6)
    np.testing.assert_allclose(got["accuracy"], hit.mean(), rtol=1e-6)


def test_a_metric_with_a_vector_result_is_logged_per_class_as_keras(capsys):
    ours = one_head(gn)
    theirs = one_head(keras, ours.get_weights())
    ours.compile(optimizer="sgd", loss="categorical_crossentropy", metrics=[gn.metrics.F1Score()])
    theirs.compile(optimizer="sgd", loss="categorical_crossentropy",
                   metrics=[keras.metrics.F1Score()])
    got = ours.evaluate(X, Y_DEPT, verbose=0, return_dict=True)
    want = theirs.evaluate(X, Y_DEPT, verbose=0, return_dict=True)
    assert np.shape(got["f1_score"]) == (3,)
    np.testing.assert_allclose(got["f1_score"], np.asarray(want["f1_score"]), rtol=1e-5)
    history = ours.fit(X, Y_DEPT, batch_size=8, epochs=1, verbose=2)
    assert np.shape(history.history["f1_score"][0]) == (3,)
    assert "f1_score: [" in capsys.readouterr().out


def test_weighted_metrics_per_output_in_fit_and_validation():
    kwargs = dict(optimizer="sgd", loss=["categorical_crossentropy", "mse"],
                  metrics=[["accuracy"], ["mae"]], weighted_metrics=[["accuracy"], ["mae"]])
    ours, theirs = pair(two_heads, **kwargs)
    y = [Y_DEPT, Y_PRIO]
    fit = dict(batch_size=5, epochs=1, verbose=0, shuffle=False, sample_weight=WEIGHTS,
               validation_data=(X, y, WEIGHTS))
    got = ours.fit(X, y, **fit).history
    want = theirs.fit(X, y, **fit).history
    assert_same_logs({k: v[-1] for k, v in got.items()}, {k: v[-1] for k, v in want.items()})
    assert "val_dept_weighted_accuracy" in got and "prio_weighted_mae" in got


def test_class_weight_reaches_weighted_metrics_only():
    ours, theirs = pair(one_head, optimizer="sgd", loss="categorical_crossentropy",
                        metrics=["accuracy"], weighted_metrics=["accuracy"])
    fit = dict(batch_size=20, epochs=1, verbose=0, shuffle=False,
               class_weight={0: 1.0, 1: 5.0, 2: 0.5})
    got = ours.fit(X, Y_DEPT, **fit).history
    want = theirs.fit(X, Y_DEPT, **fit).history
    assert_same_logs({k: v[-1] for k, v in got.items()}, {k: v[-1] for k, v in want.items()})
    assert got["accuracy"] != got["weighted_accuracy"]


def test_weighted_metrics_key_that_names_no_output_is_a_key_error():
    model = two_heads(gn)
    with pytest.raises(KeyError, match="weighted_metrics.*'dpt'"):
        model.compile(optimizer="sgd", loss="mse", weighted_metrics={"dpt": ["mae"]})


def test_weighted_metrics_survive_saving(tmp_path):
    model = one_head(gn)
    model.compile(optimizer="sgd", loss="categorical_crossentropy", weighted_metrics=["accuracy"])
    before = model.evaluate(X, Y_DEPT, sample_weight=WEIGHTS, verbose=0, return_dict=True)
    model.save(tmp_path / "m.graphnet")
    loaded = gn.load_model(tmp_path / "m.graphnet")
    after = loaded.evaluate(X, Y_DEPT, sample_weight=WEIGHTS, verbose=0, return_dict=True)
    assert after == pytest.approx(before)


# ---- evaluate's list -----------------------------------------------------------------------------
@pytest.mark.parametrize("metrics", [
    {"prio": ["mae"], "dept": ["accuracy"]},
    [["accuracy"], ["mae", "mse"]],
])
def test_evaluate_list_in_keras_order(metrics):
    kwargs = dict(optimizer="sgd", loss={"dept": "categorical_crossentropy", "prio": "mse"},
                  metrics=metrics)
    ours, theirs = pair(two_heads, **kwargs)
    y = {"dept": Y_DEPT, "prio": Y_PRIO}
    got = ours.evaluate(X, y, verbose=0)
    want = theirs.evaluate(X, y, verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_single_output_list_keeps_compile_order():
    ours, theirs = pair(one_head, optimizer="sgd", loss="categorical_crossentropy",
                        metrics=["mse", "accuracy"])
    np.testing.assert_allclose(ours.evaluate(X, Y_DEPT, verbose=0),
                               theirs.evaluate(X, Y_DEPT, verbose=0), rtol=1e-5)
    np.testing.assert_allclose(ours.test_on_batch(X, Y_DEPT), theirs.test_on_batch(X, Y_DEPT),
                               rtol=1e-5)


def test_evaluate_bar_has_no_epoch_line(capsys):
    model = one_head(gn)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    model.evaluate(X, Y_DEPT, verbose=1)
    out = capsys.readouterr().out
    assert "Evaluate" in out and "Epoch" not in out


# ---- batch hooks -----------------------------------------------------------------------------
class BatchLosses(callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.begun, self.ended, self.losses = [], [], []

    def on_train_batch_begin(self, batch, logs=None):
        self.begun.append(batch)

    def on_train_batch_end(self, batch, logs=None):
        self.ended.append(batch)
        self.losses.append(logs["loss"])


def test_batch_hooks_run_once_per_batch_with_that_batchs_running_logs():
    ours, theirs = pair(one_head, optimizer="sgd", loss="categorical_crossentropy")
    mine, keras_cb = BatchLosses(), type("K", (keras.callbacks.Callback,), {
        "on_train_batch_end": lambda self, b, logs=None: self.seen.append(logs["loss"])})()
    keras_cb.seen = []
    ours.fit(X, Y_DEPT, batch_size=4, epochs=2, verbose=0, shuffle=False, callbacks=[mine])
    theirs.fit(X, Y_DEPT, batch_size=4, epochs=2, verbose=0, shuffle=False, callbacks=[keras_cb])
    assert mine.begun == mine.ended == [0, 1, 2, 3, 4] * 2
    np.testing.assert_allclose(mine.losses, keras_cb.seen, rtol=1e-5)


def test_a_batch_hook_change_applies_to_the_next_batch():
    class StopAfter(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    model = one_head(gn)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    start = model.get_weights()
    model.fit(X, Y_DEPT, batch_size=4, epochs=3, verbose=0, shuffle=False,
              callbacks=[StopAfter()])
    reference = one_head(gn, start)
    reference.compile(optimizer="sgd", loss="categorical_crossentropy")
    reference.train_on_batch(X[:4], Y_DEPT[:4])
    reference.train_on_batch(X[4:8], Y_DEPT[4:8])
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_fixed_steps_per_execution_calls_batch_hooks_once_per_dispatch():
    model = one_head(gn)
    model.compile(optimizer="sgd", loss="categorical_crossentropy", steps_per_execution=3)
    seen = BatchLosses()
    model.fit(X, Y_DEPT, batch_size=2, epochs=1, verbose=0, callbacks=[seen])
    assert seen.begun == [0, 3, 6, 9] and seen.ended == [2, 5, 8, 9]


# ---- steps_per_epoch -----------------------------------------------------------------------------
def test_steps_per_epoch_continues_a_generator_across_epochs_as_keras():
    def batches():
        for j in range(10):
            yield X[2 * j:2 * j + 2], Y_DEPT[2 * j:2 * j + 2]

    ours, theirs = pair(one_head, optimizer="sgd", loss="categorical_crossentropy")
    got = ours.fit(batches(), steps_per_epoch=3, epochs=3, verbose=0).history
    want = theirs.fit(batches(), steps_per_epoch=3, epochs=3, verbose=0).history
    np.testing.assert_allclose(got["loss"], want["loss"], rtol=1e-5)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-7)


def test_steps_per_epoch_with_arrays_walks_one_pass_then_starts_another():
    model = one_head(gn)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    seen = BatchLosses()
    with pytest.warns(UserWarning, match="ran out after 2 of the steps_per_epoch=4"):
        model.fit(X, Y_DEPT, batch_size=2, epochs=4, steps_per_epoch=4, shuffle=False,
                  verbose=0, callbacks=[seen])
    assert seen.ended == [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 0, 1, 2, 3]


def test_an_exhausted_generator_ends_training_with_a_warning():
    def batches():
        for j in range(7):
            yield X[2 * j:2 * j + 2], Y_DEPT[2 * j:2 * j + 2]

    model = one_head(gn)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(batches(), steps_per_epoch=3, epochs=10, verbose=0)
    assert len(history.history["loss"]) == 3
    assert any("training stops" in str(w.message) for w in caught)


def test_an_endless_generator_with_steps_per_epoch():
    def endless():
        while True:
            yield X[:4], Y_DEPT[:4]

    model = one_head(gn)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    seen = BatchLosses()
    history = model.fit(endless(), steps_per_epoch=2, epochs=3, verbose=0, callbacks=[seen])
    assert len(history.history["loss"]) == 3 and seen.ended == [0, 1] * 3


@pytest.mark.parametrize("bad", [0, -1, 2.5, "3", True])
def test_steps_per_epoch_must_be_a_positive_int(bad):
    model = one_head(gn)
    model.compile(optimizer="sgd", loss="categorical_crossentropy")
    with pytest.raises(ValueError, match="steps_per_epoch"):
        model.fit(X, Y_DEPT, steps_per_epoch=bad, verbose=0)
