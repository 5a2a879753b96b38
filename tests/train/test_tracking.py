"""model.metrics, metrics_names and get_metrics_result() against Keras 3 on the same model,
weights and data."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers

keras = pytest.importorskip("keras")


def _data():
    r = np.random.default_rng(0)
    x = r.random((32, 4)).astype("float32")
    return x, (r.random((32, 1)) > 0.5).astype("float32"), r.random((32, 2)).astype("float32")


def _pair(n_outputs):
    """The same two-output (or one-output) model in graphnet and in Keras, same weights."""
    models = []
    for lib in (gn, keras):
        inp = lib.Input((4,))
        a = lib.layers.Dense(1, activation="sigmoid", name="a")(inp)
        b = lib.layers.Dense(2, name="b")(inp)
        models.append(lib.Model(inp, a if n_outputs == 1 else [a, b]))
    models[1].set_weights(models[0].get_weights())
    return models


def _assert_same(ours, theirs):
    assert ours.metrics_names == theirs.metrics_names
    got, want = ours.get_metrics_result(), theirs.get_metrics_result()
    assert set(got) == set(want)
    for k in want:
        np.testing.assert_allclose(float(got[k]), float(want[k]), rtol=1e-5, atol=1e-6,
                                   err_msg=k)


def test_before_compile_and_without_metrics():
    ours, theirs = _pair(1)
    assert ours.metrics == [] and ours.metrics_names == [] == theirs.metrics_names
    for m in (ours, theirs):
        m.compile("sgd", "binary_crossentropy")
    assert ours.metrics_names == theirs.metrics_names == ["loss"]


@pytest.mark.parametrize("run", ["evaluate", "fit_validation", "train_on_batch"])
def test_one_output_matches_keras(run):
    x, y, _ = _data()
    ours, theirs = _pair(1)
    for m in (ours, theirs):
        m.compile("sgd", "binary_crossentropy", metrics=["accuracy", "FalseNegatives", "mae"])
        if run == "evaluate":
            m.evaluate(x, y, batch_size=8, verbose=0)
        elif run == "fit_validation":      # the metrics end on the validation data's values
            m.fit(x, y, batch_size=8, verbose=0, shuffle=False, validation_data=(x[:8], y[:8]))
        else:
            m.train_on_batch(x, y)
    assert [type(m).__name__ for m in ours.metrics] == ["Mean", "CompileMetrics"]
    assert [m.name for m in ours.metrics[1].metrics] == ["accuracy", "FalseNegatives", "mae"]
    _assert_same(ours, theirs)


def test_several_outputs_match_keras():
    x, y, z = _data()
    ours, theirs = _pair(2)
    losses, metrics = ["binary_crossentropy", "mse"], [["accuracy"], ["mae"]]
    ours.compile("sgd", losses, metrics=metrics, loss_reduction="sum")   # Keras's total
    theirs.compile("sgd", losses, metrics=metrics)
    for m in (ours, theirs):
        m.evaluate(x, [y, z], batch_size=8, verbose=0)
    assert ours.metrics_names == ["loss", "compile_metrics", "a_loss", "b_loss"]
    _assert_same(ours, theirs)
