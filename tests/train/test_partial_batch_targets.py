"""Targets of any rank with a partial last batch: the padding that fills the last batch is
masked by the target's axes, so loss and metrics are those of the real rows, checked against
NumPy for random sizes and ranks and against Keras 3 (which runs the short batch as it is)."""
import numpy as np
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import graphnet as gn

keras = pytest.importorskip("keras")
EPS = 1e-7


def model_for(lib, inner, units, softmax, weights=None):
    """Dense on (batch, *inner, 3): outputs (batch, *inner, units)."""
    inp = lib.Input((*inner, 3), name="x")
    out = lib.layers.Dense(units, activation="softmax" if softmax else None, name="d")(inp)
    model = lib.Model(inp, out)
    if weights is not None:
        model.set_weights(weights)
    return model


def case(n, rank, kind, width=4, seed=0):
    """(x, y, inner axes, units): a regression target of `rank` axes (rank 1: (n,) against a
    (n, 1) output) or sparse labels of `rank` axes against softmax outputs over 3 classes."""
    rng = np.random.default_rng(seed)
    if kind == "sparse":
        inner = (width,) * (rank - 1)
        y = rng.integers(0, 3, (n, *inner))
        units = 3
    else:
        inner = (width,) * max(rank - 2, 0)
        units = 1 if rank == 1 else 2
        y = rng.normal(size=(n,) if rank == 1 else (n, *inner, units)).astype("float32")
    x = rng.normal(size=(n, *inner, 3)).astype("float32")
    return x, y, inner, units


def reference(kind, p, y):
    """NumPy: (loss, metric) over all rows, as Keras computes them on unpadded batches."""
    if kind == "sparse":
        picked = np.take_along_axis(np.clip(p, EPS, 1 - EPS), y[..., None], -1)[..., 0]
        return -np.log(picked).mean(), (p.argmax(-1) == y).mean()
    if y.ndim == 1:
        p = p[:, 0]
    return ((p - y) ** 2).mean(), np.abs(p - y).mean()


COMPILE = {"sparse": ("sparse_categorical_crossentropy", "sparse_categorical_accuracy"),
           "dense": ("mse", "mae")}


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(n=st.integers(1, 23), batch_size=st.integers(1, 9), rank=st.integers(1, 4),
       kind=st.sampled_from(["sparse", "dense"]))
@example(n=7, batch_size=4, rank=2, kind="sparse")     # width == batch size: broadcastable
@example(n=37, batch_size=32, rank=2, kind="sparse")
def test_evaluate_with_a_partial_last_batch_equals_numpy(n, batch_size, rank, kind):
    x, y, inner, units = case(n, rank, kind)
    model = model_for(gn, inner, units, kind == "sparse")
    loss, metric = COMPILE[kind]
    model.compile(optimizer="sgd", loss=loss, metrics=[metric])
    want = reference(kind, model.predict(x, verbose=0), y)
    got = model.evaluate(x, y, batch_size=batch_size, verbose=0)
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=1e-6)
    np.testing.assert_allclose(model.test_on_batch(x, y), want, rtol=2e-5, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize("rank,kind", [(1, "dense"), (2, "dense"), (3, "dense"),
                                       (2, "sparse"), (3, "sparse")])
def test_fit_and_evaluate_with_a_partial_last_batch_as_keras(rank, kind):
    """Batches of 4 over 11 rows: a last batch of 3, and width 4 equal to the batch size."""
    x, y, inner, units = case(11, rank, kind, seed=rank)
    ours = model_for(gn, inner, units, kind == "sparse")
    theirs = model_for(keras, inner, units, kind == "sparse", ours.get_weights())
    loss, metric = COMPILE[kind]
    for model, lib in ((ours, gn), (theirs, keras)):
        model.compile(optimizer=lib.optimizers.SGD(0.1), loss=loss, metrics=[metric])
    got = ours.evaluate(x, y, batch_size=4, verbose=0)
    np.testing.assert_allclose(got, theirs.evaluate(x, y, batch_size=4, verbose=0), rtol=1e-5)
    fit = dict(batch_size=4, epochs=2, shuffle=False, verbose=0)
    got, want = ours.fit(x, y, **fit).history, theirs.fit(x, y, **fit).history
    for key in want:
        np.testing.assert_allclose(got[key], want[key], rtol=1e-5, err_msg=key)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.train_on_batch(x[:3], y[:3]),
                               theirs.train_on_batch(x[:3], y[:3]), rtol=1e-5)
    np.testing.assert_allclose(ours.test_on_batch(x[:3], y[:3]),
                               theirs.test_on_batch(x[:3], y[:3]), rtol=1e-5)
