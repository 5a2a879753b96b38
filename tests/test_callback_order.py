"""Callback hooks in Keras 3's order: fit (with validation), evaluate and predict call the
same hooks, with the same batch indices, as a Keras model given the same data."""
import keras
import numpy as np

import graphnet as gn
from graphnet import layers

HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
         "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
         "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
         "on_predict_batch_begin", "on_predict_batch_end")


def recorder(base):
    """A callback class over `base` that records (hook, its index argument) per call."""
    def hook(name):
        def call(self, *args, logs=None, **kwargs):
            self.calls.append((name, *[a for a in args if isinstance(a, int)]))
        return call
    return type("Recorder", (base,), {name: hook(name) for name in HOOKS})


def record(model, callback_base):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype("float32")
    y = rng.normal(size=(20, 1)).astype("float32")
    model.compile(optimizer="sgd", loss="mse")
    runs = {}
    for what, run in (
            ("fit", lambda cbs: model.fit(x, y, batch_size=8, epochs=2, verbose=0,
                                          validation_data=(x[:12], y[:12]), callbacks=cbs)),
            ("evaluate", lambda cbs: model.evaluate(x, y, batch_size=8, verbose=0,
                                                    callbacks=cbs)),
            ("predict", lambda cbs: model.predict(x, batch_size=8, verbose=0, callbacks=cbs))):
        cb = recorder(callback_base)()
        cb.calls = []
        run([cb])
        runs[what] = cb.calls
    return runs


def test_hooks_are_called_as_keras_calls_them():
    inp = keras.Input((3,))
    theirs = record(keras.Model(inp, keras.layers.Dense(1)(inp)), keras.callbacks.Callback)
    g_inp = gn.Input((3,))
    ours = record(gn.Model(g_inp, layers.Dense(1)(g_inp)), gn.callbacks.Callback)
    for what in ("fit", "evaluate", "predict"):
        assert ours[what] == theirs[what], what
    # the reference itself: validation runs its test hooks once per batch, inside the epoch
    assert theirs["fit"][:9] == [("on_train_begin",), ("on_epoch_begin", 0),
                                 ("on_train_batch_begin", 0), ("on_train_batch_end", 0),
                                 ("on_train_batch_begin", 1), ("on_train_batch_end", 1),
                                 ("on_train_batch_begin", 2), ("on_train_batch_end", 2),
                                 ("on_test_begin",)]
