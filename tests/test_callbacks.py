"""Each callback does what it says, inside a real fit."""
import csv

import numpy as np
import pytest

import graphnet as gn
from graphnet import callbacks, layers, optimizers

rng = np.random.default_rng(17)
X = rng.normal(size=(48, 5)).astype("float32")
Y = rng.normal(size=(48, 2)).astype("float32")


def regression(lr=0.05, spe=None):
    inp = gn.Input((5,))
    model = gn.Model(inp, layers.Dense(2, name="d")(layers.Dense(4, activation="tanh")(inp)))
    model.compile(optimizer=optimizers.SGD(lr), loss="mse", steps_per_execution=spe)
    return model


class Scripted(callbacks.Callback):
    """Writes a scripted 'score' into the epoch logs and keeps each epoch's weights."""

    def __init__(self, scores):
        super().__init__()
        self.scores, self.weights = scores, []

    def on_epoch_end(self, epoch, logs=None):
        logs["score"] = self.scores[epoch]
        self.weights.append(self.model.get_weights())


def test_early_stopping_stops_and_restores_best_weights():
    model = regression()
    script = Scripted([5.0, 3.0, 4.0, 4.5, 3.5, 1.0, 0.5])
    stop = callbacks.EarlyStopping(monitor="score", patience=2, restore_best_weights=True)
    history = model.fit(X, Y, epochs=7, batch_size=16, verbose=0, callbacks=[script, stop])
    assert history.epoch == [0, 1, 2, 3]            # best at epoch 1, two epochs without gain
    assert stop.stopped_epoch == 3 and stop.best_epoch == 1
    for a, b in zip(model.get_weights(), script.weights[1]):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(script.weights[3][0], script.weights[1][0])


def test_early_stopping_mode_max_for_accuracy_names():
    stop = callbacks.EarlyStopping(monitor="val_accuracy")
    assert stop._maximize()
    assert not callbacks.EarlyStopping(monitor="val_loss")._maximize()


def test_reduce_lr_on_plateau_really_lowers_the_rate():
    model = regression()
    script = Scripted([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])
    reduce = callbacks.ReduceLROnPlateau(monitor="score", factor=0.0, patience=2, min_lr=0.0)
    history = model.fit(X, Y, epochs=6, batch_size=16, verbose=0, callbacks=[script, reduce])
    # No gain after epoch 0: after epoch 2 the rate becomes 0, so the weights stop moving.
    assert history.history["learning_rate"][:3] == pytest.approx([0.05, 0.05, 0.05])
    assert history.history["learning_rate"][3:] == [0.0, 0.0, 0.0]
    assert model.optimizer.learning_rate == 0.0
    assert not np.array_equal(script.weights[1][0], script.weights[2][0])
    for later in script.weights[3:]:
        for a, b in zip(later, script.weights[2]):
            np.testing.assert_array_equal(a, b)


def test_reduce_lr_factor_and_min_lr():
    model = regression()
    script = Scripted([1.0] * 5)
    reduce = callbacks.ReduceLROnPlateau(monitor="score", factor=0.5, patience=1, min_lr=0.02)
    history = model.fit(X, Y, epochs=5, batch_size=48, verbose=0, callbacks=[script, reduce])
    assert history.history["learning_rate"] == pytest.approx([0.05, 0.05, 0.025, 0.02, 0.02])


def test_terminate_on_nan_says_epoch_and_batch(capsys):
    model = regression(spe=32)
    y = Y.copy()
    y[36] = 1e30          # finite data whose squared error overflows: batch 4 of 6 (size 8)
    history = model.fit(X, y, epochs=3, batch_size=8, verbose=0, shuffle=False,
                        callbacks=[callbacks.TerminateOnNaN()])
    out = capsys.readouterr().out
    assert "Epoch 1, batch 4" in out and "terminating" in out
    assert history.epoch == [0] and not np.isfinite(history.history["loss"][0])


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    path = tmp_path / "log.csv"
    model = regression()
    model.fit(X, Y, epochs=3, batch_size=16, verbose=0, validation_split=0.25,
              callbacks=[callbacks.CSVLogger(path)])
    rows = list(csv.reader(open(path)))
    assert rows[0] == ["epoch", "loss", "val_loss"]
    assert [r[0] for r in rows[1:]] == ["0", "1", "2"]
    history = model.history.history
    assert [float(r[1]) for r in rows[1:]] == history["loss"]
    assert [float(r[2]) for r in rows[1:]] == history["val_loss"]
    model.fit(X, Y, epochs=1, batch_size=16, verbose=0, validation_split=0.25,
              callbacks=[callbacks.CSVLogger(path, append=True)])
    rows = list(csv.reader(open(path)))
    assert len(rows) == 5 and float(rows[-1][1]) == model.history.history["loss"][0]


def test_lambda_callback_and_batch_hooks_once_per_dispatch():
    calls = []
    cb = callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append("begin"),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch", epoch, sorted(logs))),
        on_batch_end=lambda batch, logs: calls.append(("batch", batch, round(logs["loss"], 6))),
        on_train_end=lambda logs: calls.append("end"))
    model = regression(spe=2)
    model.fit(X, Y, epochs=1, batch_size=8, verbose=0, callbacks=[cb])   # 6 batches, K=2
    assert calls[0] == "begin" and calls[-1] == "end"
    assert [c[1] for c in calls if c[0] == "batch"] == [1, 3, 5]
    assert ("epoch", 0, ["loss"]) in calls
    last_batch_loss = [c[2] for c in calls if c[0] == "batch"][-1]
    assert last_batch_loss == round(model.history.history["loss"][0], 6)
    with pytest.raises(TypeError, match="on_epoch_ends"):
        callbacks.LambdaCallback(on_epoch_ends=print)


def test_stop_training_from_a_batch_hook():
    class StopAt(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch >= 3:
                self.model.stop_training = True
    model = regression(spe=2)
    before = model.optimizer.iterations
    history = model.fit(X, Y, epochs=5, batch_size=8, verbose=0, callbacks=[StopAt()])
    assert history.epoch == [0]
    assert model.optimizer.iterations - before == 4     # two dispatches of two steps


def test_callbacks_see_the_model_and_params():
    seen = {}

    class Look(callbacks.Callback):
        def on_train_begin(self, logs=None):
            seen["model"], seen["params"] = self.model, dict(self.params)
    model = regression()
    model.fit(X, Y, epochs=2, batch_size=16, verbose=0, callbacks=[Look()])
    assert seen["model"] is model
    assert seen["params"] == {"epochs": 2, "steps": 3, "verbose": 0}
    with pytest.raises(TypeError, match="Callback"):
        model.fit(X, Y, verbose=0, callbacks=[print])
