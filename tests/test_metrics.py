"""Each metric against a NumPy formula written here and against Keras 3."""
import re

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


# ---- the classification and regression metrics Keras users reach for --------------------
def _batches(kind, sizes=(6, 5), classes=4, weighted=True):
    r = np.random.default_rng(11)
    out = []
    for n in sizes:
        w = r.random(n).astype("float32") if weighted else None
        p = r.random((n, classes)).astype("float32")
        if kind == "binary":
            out.append(((r.random((n, classes)) > 0.5).astype("float32"), p, w))
        elif kind == "onehot":
            out.append((np.eye(classes, dtype="float32")[r.integers(0, classes, n)], p, w))
        elif kind == "sparse":
            out.append((r.integers(0, classes, (n, 1)).astype("int32"), p, w))
        elif kind == "ties":     # repeated scores: top-k's tie rule matters
            p = np.round(p * 2) / 2
            out.append((np.eye(classes, dtype="float32")[r.integers(0, classes, n)], p, w))
        elif kind == "regression":
            out.append((r.normal(size=(n, 3)).astype("float32"),
                        r.normal(size=(n, 3)).astype("float32"), w))
        elif kind == "segments":  # class maps (n, 3, 3), one class never present
            out.append((r.integers(0, classes - 1, (n, 3, 3)).astype("int32"),
                        r.integers(0, classes, (n, 3, 3)).astype("int32"),
                        None if w is None else r.integers(0, 3, (n, 3, 3)).astype("float32")))
    return out


NEW_METRICS = [
    ("Precision", {}, "binary"),
    ("Precision", {"thresholds": [0.2, 0.7]}, "binary"),
    ("Precision", {"top_k": 2}, "ties"),
    ("Precision", {"class_id": 1, "thresholds": 0.4}, "binary"),
    ("Recall", {}, "binary"),
    ("Recall", {"top_k": 1, "class_id": 2}, "onehot"),
    ("TopKCategoricalAccuracy", {"k": 2}, "ties"),
    ("SparseTopKCategoricalAccuracy", {"k": 2}, "sparse"),
    ("SparseTopKCategoricalAccuracy", {}, "sparse"),
    ("RootMeanSquaredError", {}, "regression"),
    ("F1Score", {}, "onehot"),
    ("F1Score", {"average": "macro", "threshold": 0.4}, "binary"),
    ("F1Score", {"average": "micro"}, "onehot"),
    ("F1Score", {"average": "weighted", "threshold": 0.5}, "binary"),
    ("MeanIoU", {"num_classes": 4}, "segments"),
    ("MeanIoU", {"num_classes": 4, "ignore_class": 0}, "segments"),
    ("MeanIoU", {"num_classes": 4, "sparse_y_pred": False}, "sparse"),
]


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("name,kw,kind", NEW_METRICS,
                         ids=[f"{n}-{k}-{sorted(kw)}" for n, kw, k in NEW_METRICS])
def test_new_metrics_match_keras(name, kw, kind, weighted):
    batches = _batches(kind, weighted=weighted)
    if name == "MeanIoU" and weighted:
        # Keras keeps an integer confusion matrix, truncating fractional weights (it warns to
        # use integer weights); graphnet sums them as floats. Integer weights agree.
        batches = [(y, p, np.floor(w * 3)) for y, p, w in batches]
    ours = getattr(metrics, name)(**kw)
    ours.build(batches[0][0].shape, batches[0][1].shape)
    state = ours.init()
    for b in batches:                       # the pure triple, jitted as in fit
        state = jax.jit(ours.update)(state, *b)
    theirs = getattr(keras.metrics, name)(**kw)
    for b in batches:
        theirs.update_state(*b)
    np.testing.assert_allclose(np.asarray(ours.result(state)), np.asarray(theirs.result()),
                               rtol=1e-5, atol=1e-7)
    assert ours.name == re.sub(r"_\d+$", "", theirs.name)    # Keras numbers repeats
    clone = type(ours).from_config(ours.get_config())
    assert clone.get_config() == ours.get_config()
    for b in batches:                       # Keras's stateful API gives the same
        clone.update_state(*b)
    np.testing.assert_allclose(np.asarray(clone.result()), np.asarray(ours.result(state)),
                               rtol=1e-6)


def test_new_metrics_against_numpy():
    y, p, w = _batches("regression", sizes=(7,))[0]
    rmse = metrics.RootMeanSquaredError()
    rmse.update_state(y, p, w)
    np.testing.assert_allclose(float(rmse.result()),
                               np.sqrt((((p - y) ** 2).mean(-1) * w).sum() / w.sum()), rtol=1e-6)
    y, p, _ = _batches("binary", sizes=(9,))[0]
    prec, rec = metrics.Precision(), metrics.Recall()
    prec.update_state(y, p)
    rec.update_state(y, p)
    tp = ((p > 0.5) & (y > 0)).sum()
    np.testing.assert_allclose(float(prec.result()), tp / (p > 0.5).sum(), rtol=1e-6)
    np.testing.assert_allclose(float(rec.result()), tp / (y > 0).sum(), rtol=1e-6)
    top2 = metrics.SparseTopKCategoricalAccuracy(k=2)
    top2.update_state(np.array([2, 0]), np.array([[0.1, 0.5, 0.4], [0.1, 0.5, 0.4]]))
    assert float(top2.result()) == 0.5
    iou = metrics.MeanIoU(num_classes=2)
    iou.update_state(np.array([0, 0, 1, 1]), np.array([0, 1, 0, 1]))
    np.testing.assert_allclose(float(iou.result()), (1 / 3 + 1 / 3) / 2, rtol=1e-6)


def test_new_metric_strings_and_errors():
    assert isinstance(metrics.get("precision"), metrics.Precision)
    assert isinstance(metrics.get("top_k_categorical_accuracy"), metrics.MeanMetricWrapper)
    with pytest.raises(ValueError, match="average must be one of"):
        metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match=r"shape \(batch, classes\)"):
        metrics.F1Score().build((4,), (4,))
    with pytest.raises(ValueError, match="thresholds must be in"):
        metrics.Precision(thresholds=1.5)
