"""What batch hooks receive, against Keras 3 from the same weights: a ragged last batch's
padding never reaches user code, and `logs["outputs"]` has the model's output structure."""
import keras
import numpy as np
import pytest

import graphnet

TOL = dict(rtol=1e-5, atol=1e-6)


def recorder(lib, hook):
    """A callback of `lib` keeping `(batch, logs)` for each call of `hook`."""
    def call(self, batch, logs=None):
        self.seen.append((batch, logs))
    cls = type("Recorder", (lib.callbacks.Callback,), {hook: call})
    cb = cls()
    cb.seen = []
    return cb


def one_output(lib, units=2):
    return lib.Sequential([lib.Input((3,)), lib.layers.Dense(units, name="dense")])


def two_outputs(lib, kind):
    x = lib.Input((3,), name="x")
    a = lib.layers.Dense(2, name="a")(x)
    b = lib.layers.Dense(1, name="b")(x)
    outputs = {"first": a, "second": b} if kind == "dict" else [a, b]
    return lib.Model(x, outputs)


def pair(build):
    """The same model in Keras and graphnet, with Keras's weights."""
    theirs, ours = build(keras), build(graphnet)
    ours.set_weights(theirs.get_weights())
    return theirs, ours


def predict_batch_logs(theirs, ours, x):
    """{"keras": [(batch, logs), ...], "graphnet": [...]}: what `on_predict_batch_end` receives
    from each library's `predict(x, batch_size=4)`."""
    seen = {}
    for name, model in (("keras", theirs), ("graphnet", ours)):
        cb = recorder(keras if name == "keras" else graphnet, "on_predict_batch_end")
        model.predict(x, batch_size=4, verbose=0, callbacks=[cb])
        seen[name] = cb.seen
    return seen


@pytest.mark.parametrize("build, rows", [
    (one_output, 7),
    (lambda lib: one_output(lib, units=1), 5),     # a last batch of one value: a float
    (lambda lib: two_outputs(lib, "list"), 7),
    (lambda lib: two_outputs(lib, "dict"), 7)], ids=["one", "one-value", "list", "dict"])
def test_predict_batch_end_gets_real_rows_in_the_output_structure(build, rows):
    theirs, ours = pair(build)
    x = np.random.default_rng(1).normal(size=(rows, 3)).astype("float32")
    seen = predict_batch_logs(theirs, ours, x)
    assert [b for b, _ in seen["graphnet"]] == [b for b, _ in seen["keras"]] == [0, 1]
    for (_, want), (_, got) in zip(seen["keras"], seen["graphnet"]):
        assert list(got) == list(want)                 # "outputs", or a dict's keys
        keras.tree.assert_same_structure(want, got)    # raises when they differ
        for w, g in zip(keras.tree.flatten(want), keras.tree.flatten(got)):
            assert type(g) is type(w)                  # NumPy, or jax arrays in a list
            assert np.shape(g) == np.shape(w)          # (3, ...) last: no padding rows
            np.testing.assert_allclose(g, w, **TOL)


def test_test_and_train_batch_end_logs_match_keras_with_a_ragged_batch():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(7, 3)).astype("float32")
    y = rng.normal(size=(7, 2)).astype("float32")
    theirs, ours = pair(one_output)
    logs = {}
    for name, lib, model in (("keras", keras, theirs), ("graphnet", graphnet, ours)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss="mse")
        test_cb = recorder(lib, "on_test_batch_end")
        model.evaluate(x, y, batch_size=4, verbose=0, callbacks=[test_cb])
        train_cb = recorder(lib, "on_train_batch_end")
        model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0, callbacks=[train_cb])
        logs[name] = [(b, {k: float(v) for k, v in entry.items()})
                      for b, entry in test_cb.seen + train_cb.seen]
    assert [b for b, _ in logs["graphnet"]] == [b for b, _ in logs["keras"]]
    for (_, want), (_, got) in zip(logs["keras"], logs["graphnet"]):
        assert set(want) <= set(got)
        for key in want:
            np.testing.assert_allclose(got[key], want[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_predict_on_batch_returns_only_the_real_rows():
    theirs, ours = pair(one_output)
    x = np.random.default_rng(3).normal(size=(3, 3)).astype("float32")
    got = ours.predict_on_batch(x)
    np.testing.assert_allclose(got, theirs.predict_on_batch(x), **TOL)
    assert got.shape == (3, 2)


def doubled_by_its_predict_step(lib):
    """Two named outputs, a custom `predict_step` (Keras 3's JAX form) doubling them."""
    class Doubled(lib.Model):
        def predict_step(self, state, data):
            trainable_variables, non_trainable_variables = state
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, data)
            return {k: v * 2 for k, v in y_pred.items()}, non_trainable_variables
    x = lib.Input((3,), name="x")
    return Doubled(x, {"first": lib.layers.Dense(2, name="a")(x),
                       "second": lib.layers.Dense(1, name="b")(x)})


def test_a_custom_predict_step_hands_hooks_its_outputs_as_keras_does():
    theirs, ours = pair(doubled_by_its_predict_step)
    x = np.random.default_rng(2).normal(size=(6, 3)).astype("float32")
    seen = predict_batch_logs(theirs, ours, x)
    assert len(seen["graphnet"]) == len(seen["keras"]) == 2
    for (_, want), (_, got) in zip(seen["keras"], seen["graphnet"]):
        assert sorted(got) == sorted(want) == ["first", "second"]     # flattened, as Keras
        for key in want:
            np.testing.assert_allclose(got[key], want[key], **TOL)
