"""Each metric against a NumPy formula written here and against Keras 3."""
import jax
import numpy as np
import pytest

from graphnet import metrics

keras = pytest.importorskip("keras")
rng = np.random.default_rng(5)


def run(metric, batches):
    """Accumulate with the pure triple, as fit does inside its compiled step."""
    state = metric.init()
    update = jax.jit(metric.update)
    for b in batches:
        state = update(state, *b)
    return float(metric.result(state))


def run_keras(metric, batches):
    for b in batches:
        metric.update_state(*b)
    return float(metric.result())


def test_binary_accuracy_with_threshold_and_weights():
    y = (rng.random((10, 1)) > 0.5).astype("float32")
    p = rng.random((10, 1)).astype("float32")
    w = rng.random(10).astype("float32")
    ours = run(metrics.BinaryAccuracy(threshold=0.3), [(y, p, w)])
    ref = (((p > 0.3) == (y > 0.5))[:, 0] * w).sum() / w.sum()
    np.testing.assert_allclose(ours, ref, rtol=1e-6)
    np.testing.assert_allclose(ours, run_keras(keras.metrics.BinaryAccuracy(threshold=0.3),
                                               [(y, p, w)]), rtol=1e-6)


def test_categorical_and_sparse_accuracy_over_several_batches():
    batches = [(np.eye(4, dtype="float32")[rng.integers(0, 4, n)],
                rng.random((n, 4)).astype("float32"), None) for n in (7, 5)]
    ours = run(metrics.CategoricalAccuracy(), batches)
    hits = np.concatenate([y.argmax(-1) == p.argmax(-1) for y, p, _ in batches])
    np.testing.assert_allclose(ours, hits.mean(), rtol=1e-6)
    np.testing.assert_allclose(ours, run_keras(keras.metrics.CategoricalAccuracy(), batches),
                               rtol=1e-6)
    sparse = [(y.argmax(-1)[:, None], p, None) for y, p, _ in batches]
    np.testing.assert_allclose(run(metrics.SparseCategoricalAccuracy(), sparse), hits.mean(),
                               rtol=1e-6)
    np.testing.assert_allclose(
        run_keras(keras.metrics.SparseCategoricalAccuracy(), sparse), hits.mean(), rtol=1e-6)


@pytest.mark.parametrize("name,formula,keras_cls", [
    ("mae", lambda y, p: np.abs(y - p).mean(-1), "MeanAbsoluteError"),
    ("mse", lambda y, p: ((y - p) ** 2).mean(-1), "MeanSquaredError"),
])
def test_regression_metrics_with_sample_weight(name, formula, keras_cls):
    y = rng.normal(size=(9, 3)).astype("float32")
    p = rng.normal(size=(9, 3)).astype("float32")
    w = rng.random(9).astype("float32")
    metric = metrics.get(name)
    assert metric.name == name          # named as given, like Keras
    ours = run(metric, [(y[:4], p[:4], w[:4]), (y[4:], p[4:], w[4:])])
    ref = (formula(y, p) * w).sum() / w.sum()
    np.testing.assert_allclose(ours, ref, rtol=1e-5)
    np.testing.assert_allclose(ours, run_keras(getattr(keras.metrics, keras_cls)(),
                                               [(y, p, w)]), rtol=1e-5)


def _np_roc_auc(y, p, num_thresholds=200):
    """Keras's ROC AUC: counts above each threshold, trapezoids between them."""
    eps = 1e-7
    thresholds = np.array([-eps] + [(i + 1) / (num_thresholds - 1)
                                    for i in range(num_thresholds - 2)] + [1 + eps])
    above = p[None, :] > thresholds[:, None]
    tp = (above & (y[None, :] == 1)).sum(1)
    fp = (above & (y[None, :] == 0)).sum(1)
    tpr, fpr = tp / (y == 1).sum(), fp / (y == 0).sum()
    return float(np.sum((fpr[:-1] - fpr[1:]) * (tpr[:-1] + tpr[1:]) / 2))


@pytest.mark.parametrize("curve,summation", [("ROC", "interpolation"), ("ROC", "minoring"),
                                             ("PR", "interpolation"), ("PR", "majoring")])
def test_auc_matches_keras(curve, summation):
    y = (rng.random(64) > 0.6).astype("float32")
    p = np.clip(0.35 * y + rng.random(64) * 0.65, 0, 1).astype("float32")
    w = rng.random(64).astype("float32")
    for weights in (None, w):
        ours = run(metrics.AUC(curve=curve, summation_method=summation),
                   [(y[:30], p[:30], None if weights is None else weights[:30]),
                    (y[30:], p[30:], None if weights is None else weights[30:])])
        theirs = run_keras(keras.metrics.AUC(curve=curve, summation_method=summation),
                           [(y, p, weights)])
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    if (curve, summation) == ("ROC", "interpolation"):
        np.testing.assert_allclose(run(metrics.get("auc"), [(y, p, None)]), _np_roc_auc(y, p),
                                   rtol=1e-5)
        from sklearn.metrics import roc_auc_score
        assert abs(_np_roc_auc(y, p) - roc_auc_score(y, p)) < 0.01   # 200 thresholds: close


@pytest.mark.parametrize("y_shape,p_shape,kind", [
    ((None, 1), (None, 1), metrics.BinaryAccuracy),
    ((None,), (None, 1), metrics.BinaryAccuracy),
    ((None,), (None, 10), metrics.SparseCategoricalAccuracy),
    ((None, 1), (None, 10), metrics.SparseCategoricalAccuracy),
    ((None, 10), (None, 10), metrics.CategoricalAccuracy),
])
def test_accuracy_is_resolved_per_output_like_keras(y_shape, p_shape, kind):
    for name in ("accuracy", "acc"):
        metric = metrics.get(name, y_shape, p_shape)
        assert type(metric) is kind
        assert metric.name == name


def test_stateful_api_accumulates_and_resets():
    m = metrics.CategoricalAccuracy()
    m.update_state([[1, 0], [0, 1]], [[0.9, 0.1], [0.8, 0.2]])
    assert float(m.result()) == 0.5
    m.update_state([[1, 0], [0, 1]], [[0.9, 0.1], [0.1, 0.9]])
    assert float(m.result()) == 0.75
    m.reset_state()
    m.update_state([[0, 1]], [[0.1, 0.9]])
    assert float(m.result()) == 1.0


def test_unknown_metric_lists_valid_names():
    with pytest.raises(ValueError, match="valid metrics are:.*accuracy.*auc"):
        metrics.get("acuracy")
