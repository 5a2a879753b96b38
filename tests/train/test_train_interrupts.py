"""Interrupts never lose the model: a Ctrl-C (or an error) at any moment of fit, evaluate or
predict leaves weights, state and optimizer state valid, those of the last completed
dispatch; fit continues and save works."""
import _thread
import signal
import threading
import time

import jax
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from graphnet.train import step as step_module

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 3)).astype("float32")
Y = rng.normal(size=(64, 1)).astype("float32")


@pytest.fixture(autouse=True)
def _ctrl_c_raises():
    """Ctrl-C raises KeyboardInterrupt here, as in a terminal's Python, even when pytest was
    started in the background (a shell then ignores SIGINT, and `interrupt_main` would do
    nothing)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def small(seed=0, batch_norm=False):
    gn.utils.set_random_seed(seed)
    inp = gn.Input((3,))
    h = layers.Dense(4, activation="tanh")(inp)
    if batch_norm:
        h = layers.BatchNormalization()(h)
    model = gn.Model(inp, layers.Dense(1)(h))
    model.compile(optimizer="adam", loss="mse", steps_per_execution=1)
    return model


def assert_valid(model, tmp_path, name="m"):
    """Weights, state and optimizer state readable and finite; fit continues; save works."""
    for w in model.get_weights():
        assert np.isfinite(w).all()
    for leaf in jax.tree_util.tree_leaves((model.state, model.opt_state)):
        assert np.isfinite(np.asarray(leaf, np.float64)).all()
    model.fit(X[:8], Y[:8], batch_size=4, verbose=0)
    model.save(tmp_path / f"{name}.keras")


def _wrap(monkeypatch, chunk, after):
    """Every Program made from now on runs `after(count)` right after each call of its
    compiled `chunk` returns (the carry it was given is donated by then)."""
    made = step_module.Program.__init__
    calls = []

    def init(self, *args, **kwargs):
        made(self, *args, **kwargs)
        real = getattr(self, chunk)

        def wrapped(*a, **k):
            out = real(*a, **k)
            calls.append(1)
            after(len(calls))
            return out
        setattr(self, chunk, wrapped)
    monkeypatch.setattr(step_module.Program, "__init__", init)


def test_ctrl_c_as_a_dispatch_returns_keeps_that_dispatch(monkeypatch, tmp_path):
    """A Ctrl-C arriving just as the third dispatch returns (its carry donated, its result
    not yet held): the model holds the result of those three batches, the weights a model
    trained on exactly those batches has."""
    reference = small()
    initial = reference.get_weights()
    reference.fit(X[:12], Y[:12], batch_size=4, shuffle=False, verbose=0)

    def interrupt(count):
        if count == 3:
            _thread.interrupt_main()        # the signal Ctrl-C sends, raised at once
    _wrap(monkeypatch, "train_chunk", interrupt)
    model = small()
    model.set_weights(initial)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, Y, batch_size=4, shuffle=False, verbose=0)
        time.sleep(0.01)                    # (never reached: the fit is interrupted)
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    monkeypatch.undo()
    assert_valid(model, tmp_path)


def test_error_inside_a_dispatch_keeps_the_epoch_start(monkeypatch, tmp_path):
    """An error raised inside a dispatch after it took the (donated) carry: the model keeps
    the valid weights it held before the epoch."""
    def fail(count):
        if count == 18:                     # the second epoch's second dispatch
            raise RuntimeError("device lost")
    _wrap(monkeypatch, "train_chunk", fail)
    model = small()
    model.fit(X, Y, batch_size=4, verbose=0)
    before = model.get_weights()
    with pytest.raises(RuntimeError, match="device lost"):
        model.fit(X, Y, batch_size=4, verbose=0)
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)
    monkeypatch.undo()
    assert_valid(model, tmp_path)


def _interrupted(action, delay):
    """Run `action` with a Ctrl-C `delay` seconds after it starts; whether it was hit. The
    signal always arrives inside this function, even when `action` ends first."""
    timer = threading.Timer(delay, _thread.interrupt_main)
    try:
        timer.start()
        action()
        timer.join()
        time.sleep(0.05)                    # the pending Ctrl-C is raised here
        return False
    except KeyboardInterrupt:
        timer.join()
        return True


@pytest.mark.slow
def test_a_hundred_random_interrupts_never_lose_the_model(tmp_path):
    model = small(batch_norm=True)
    model.compile(optimizer="adam", loss="mse", steps_per_execution=1)
    model.fit(X, Y, batch_size=4, verbose=0)      # compiled before the clock runs
    model.evaluate(X, Y, batch_size=4, verbose=0)
    model.predict(X, batch_size=4, verbose=0)
    actions = [lambda: model.fit(X, Y, batch_size=4, epochs=2, verbose=0),
               lambda: model.evaluate(X, Y, batch_size=4, verbose=0),
               lambda: model.predict(X, batch_size=4, verbose=0)]
    durations = []
    for action in actions:
        start = time.perf_counter()
        action()
        durations.append(time.perf_counter() - start)
    draw = np.random.default_rng(1)
    hits = 0
    for i in range(150):
        which = 0 if i % 3 else int(draw.integers(1, 3))
        hits += _interrupted(actions[which], float(draw.uniform(0, durations[which])))
        for w in model.get_weights():           # no "Array has been deleted", no NaN
            assert np.isfinite(w).all()
        for leaf in jax.tree_util.tree_leaves(model.opt_state):
            assert np.isfinite(np.asarray(leaf, np.float64)).all()
    assert hits >= 100
    assert_valid(model, tmp_path)
