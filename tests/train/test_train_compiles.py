"""Bounded compiles: data of new lengths and predict calls with new batch sizes share a
handful of compiled programs."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers

rng = np.random.default_rng(0)
X = rng.normal(size=(200, 3)).astype("float32")
Y = rng.normal(size=(200, 1)).astype("float32")


def small():
    gn.utils.set_random_seed(0)
    inp = gn.Input((3,))
    model = gn.Model(inp, layers.Dense(1)(layers.Dense(4, activation="relu")(inp)))
    model.compile(optimizer="sgd", loss="mse")
    return model


@pytest.mark.slow
def test_fit_and_evaluate_on_fifty_new_lengths_compile_a_handful(compiles):
    model = small()
    model.fit(X[:100], Y[:100], batch_size=16, verbose=0)
    model.evaluate(X[:100], Y[:100], batch_size=16, verbose=0)
    before = compiles.count
    for n in range(101, 151):
        model.fit(X[:n], Y[:n], batch_size=16, verbose=0)          # shuffled
        model.evaluate(X[:n], Y[:n], batch_size=16, verbose=0)
    # 3 stack buckets (7, 8 and 10 batches), each: shuffle-and-cut, cut, train, evaluate
    assert compiles.count - before <= 12, compiles.names[before:]


def test_shuffled_epochs_see_every_sample_once():
    """The bucketed shuffle permutes the real rows only: with a learning rate of 0 and a
    zero model, an epoch's loss is the mean of y**2 over exactly the real rows."""
    gn.utils.set_random_seed(0)
    inp = gn.Input((1,))
    model = gn.Model(inp, layers.Dense(1, kernel_initializer="zeros")(inp))
    model.compile(optimizer=gn.optimizers.SGD(0.0), loss="mse")
    for n in (37, 45, 64):                           # rows padded on the device to 48 or 72
        y = np.arange(1, n + 1, dtype="float32")[:, None]
        history = model.fit(np.ones((n, 1), "float32"), y, batch_size=8, epochs=3, verbose=0)
        np.testing.assert_allclose(history.history["loss"], [np.mean(y ** 2)] * 3, rtol=1e-5)


def test_predict_with_many_batch_sizes_compiles_a_handful(compiles):
    model = small()
    model.predict(X[:60], batch_size=32, verbose=0)
    before = compiles.count
    outs = [model.predict(X[:60], batch_size=b, verbose=0) for b in range(1, 61)]
    # padded sizes 1..8, 10, 12, 14, 16, 20, ..., 64: a few per octave, not one per size
    assert compiles.count - before <= 20, compiles.names[before:]
    for out in outs:
        np.testing.assert_allclose(out, outs[0], rtol=1e-6, atol=1e-6)
