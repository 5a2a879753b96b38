"""Every keras.metrics class against Keras 3 on random data: several batches, with and
without sample weights, through the stateful API and through the pure triple `fit` uses."""
import jax
import numpy as np
import pytest

from graphnet import metrics

keras = pytest.importorskip("keras")


def _data(kind, n, r):
    if kind == "binary":            # 0/1 labels, scores in [0, 1]
        return (r.random((n, 1)) > 0.5).astype("float32"), r.random((n, 1)).astype("float32")
    if kind == "onehot":
        y = np.eye(4, dtype="float32")[r.integers(0, 4, n)]
        p = r.random((n, 4)).astype("float32")
        return y, p / p.sum(-1, keepdims=True)
    if kind == "sparse":
        p = r.random((n, 4)).astype("float32")
        return r.integers(0, 4, (n, 1)).astype("float32"), p / p.sum(-1, keepdims=True)
    if kind == "positive":          # regression targets > 0 (MAPE, MSLE, Poisson)
        return (r.random((n, 3)) + 0.5).astype("float32"), (r.random((n, 3)) + 0.1).astype(
            "float32")
    if kind == "signed":
        return r.normal(size=(n, 3)).astype("float32"), r.normal(size=(n, 3)).astype("float32")
    if kind == "multilabel":        # (batch, classes) 0/1 labels and scores
        return (r.random((n, 3)) > 0.5).astype("float32"), r.random((n, 3)).astype("float32")
    raise AssertionError(kind)


def batches(kind, weighted, sizes=(7, 5, 9), seed=3):
    r = np.random.default_rng(seed)
    out = []
    for n in sizes:
        y, p = _data(kind, n, r)
        out.append((y, p, r.random(n).astype("float32") if weighted else None))
    return out


CASES = [
    ("MeanAbsolutePercentageError", {}, "positive"),
    ("MeanSquaredLogarithmicError", {}, "positive"),
    ("CosineSimilarity", {}, "signed"),
    ("CosineSimilarity", {"axis": 0}, "signed"),
    ("LogCoshError", {}, "signed"),
    ("KLDivergence", {}, "onehot"),
    ("Poisson", {}, "positive"),
    ("BinaryCrossentropy", {}, "binary"),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, "signed"),
    ("CategoricalCrossentropy", {}, "onehot"),
    ("CategoricalCrossentropy", {"label_smoothing": 0.2}, "onehot"),
    ("SparseCategoricalCrossentropy", {}, "sparse"),
    ("Hinge", {}, "binary"),
    ("SquaredHinge", {}, "signed"),
    ("CategoricalHinge", {}, "onehot"),
    ("PearsonCorrelation", {}, "signed"),
    ("ConcordanceCorrelation", {}, "signed"),
    ("R2Score", {}, "signed"),
    ("R2Score", {"class_aggregation": "variance_weighted_average"}, "signed"),
    ("R2Score", {"class_aggregation": None}, "signed"),
    ("R2Score", {"num_regressors": 2}, "signed"),
    ("TruePositives", {}, "binary"),
    ("FalsePositives", {"thresholds": 0.3}, "multilabel"),
    ("TrueNegatives", {"thresholds": [0.2, 0.5, 0.9]}, "binary"),
    ("FalseNegatives", {}, "multilabel"),
    ("SensitivityAtSpecificity", {"specificity": 0.6}, "binary"),
    ("SpecificityAtSensitivity", {"sensitivity": 0.7, "num_thresholds": 50}, "multilabel"),
    ("PrecisionAtRecall", {"recall": 0.5}, "binary"),
    ("RecallAtPrecision", {"precision": 0.6, "class_id": 1}, "multilabel"),
    ("RecallAtPrecision", {"precision": 0.4, "num_thresholds": 1}, "binary"),
    ("MeanSquaredError", {}, "signed"),
    ("RootMeanSquaredError", {}, "signed"),
]


def _keras_result(metric, data):
    for y, p, w in data:
        metric.update_state(y, p, sample_weight=w)
    return np.asarray(metric.result())


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name, kwargs, kind", CASES, ids=lambda c: str(c))
def test_metric_class_matches_keras(name, kwargs, kind, weighted):
    if kwargs.get("axis") == 0 and weighted:
        pytest.skip("per-sample weights do not apply to values reduced over the batch axis")
    data = batches(kind, weighted)
    expected = _keras_result(getattr(keras.metrics, name)(**kwargs), data)

    ours = getattr(metrics, name)(**kwargs)
    # Keras numbers a class's unnamed metrics globally (precision_1, ...); graphnet does not
    assert ours.name == getattr(keras.metrics, name)(**kwargs).name.rsplit("_", 1)[0] or (
        ours.name == getattr(keras.metrics, name)(**kwargs).name)
    for y, p, w in data:
        ours.update_state(y, p, sample_weight=w)
    np.testing.assert_allclose(np.asarray(ours.result()), expected, rtol=2e-5, atol=2e-6)

    # the pure triple, jitted as fit runs it
    pure = getattr(metrics, name)(**kwargs)
    pure.build(data[0][0].shape, data[0][1].shape)
    state, update = pure.init(), jax.jit(pure.update)
    for y, p, w in data:
        state = update(state, y, p, w)
    np.testing.assert_allclose(np.asarray(pure.result(state)), expected, rtol=2e-5, atol=2e-6)

    # reset_state forgets everything: one batch again gives Keras's one-batch value
    ours.reset_state()
    ours.update_state(*data[0][:2], sample_weight=data[0][2])
    np.testing.assert_allclose(np.asarray(ours.result()),
                               _keras_result(getattr(keras.metrics, name)(**kwargs), data[:1]),
                               rtol=2e-5, atol=2e-6)


@pytest.mark.parametrize("cls", ["Mean", "Sum"])
@pytest.mark.parametrize("shape", [(6,), (6, 3), (6, 2, 3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_mean_and_sum_match_keras(cls, shape, weighted):
    r = np.random.default_rng(len(shape))
    ours, theirs = getattr(metrics, cls)(), getattr(keras.metrics, cls)()
    for _ in range(3):
        values = r.normal(size=shape).astype("float32")
        w = r.random(shape[:1]).astype("float32") if weighted else None
        ours.update_state(values, sample_weight=w)
        theirs.update_state(values, sample_weight=w)
    np.testing.assert_allclose(float(ours.result()), float(theirs.result()), rtol=1e-5)
    assert ours.name == theirs.name == cls.lower()


def test_mean_against_numpy_and_reset():
    m = metrics.Mean(name="loss")
    m.update_state([1.0, 3.0, 5.0, 7.0], sample_weight=[1, 1, 0, 0])
    m.update_state(4.0)                      # a scalar counts once, as Keras's
    assert float(m.result()) == pytest.approx((1 + 3 + 4) / 3)
    m.reset_state()
    assert float(m.result()) == 0.0
    assert m.name == "loss"


def test_mean_metric_wrapper_matches_keras_with_kwargs():
    def scaled_error(y_true, y_pred, scale=1.0):
        return scale * np.abs(y_true - y_pred).mean(-1)
    data = batches("signed", True)
    ours = metrics.MeanMetricWrapper(scaled_error, name="scaled", scale=3.0)
    theirs = keras.metrics.MeanMetricWrapper(scaled_error, name="scaled", scale=3.0)
    np.testing.assert_allclose(float(_keras_result(ours, data)),
                               float(_keras_result(theirs, data)), rtol=1e-5)


def test_confusion_counts_against_numpy():
    y = np.array([0, 1, 1, 0, 1], "float32")
    p = np.array([0.7, 0.2, 0.9, 0.1, 0.6], "float32")
    w = np.array([1, 2, 3, 4, 5], "float32")
    counts = {}
    for name in ("TruePositives", "FalsePositives", "TrueNegatives", "FalseNegatives"):
        m = getattr(metrics, name)()
        m.update_state(y, p, sample_weight=w)
        counts[name] = float(m.result())
    assert counts == {"TruePositives": 3 + 5, "FalsePositives": 1, "TrueNegatives": 4,
                      "FalseNegatives": 2}


def test_every_keras_metric_class_is_here():
    names = [n for n in dir(keras.metrics) if n[:1].isupper() and not n.startswith("_")]
    assert [n for n in names if not hasattr(metrics, n)] == []


def test_every_keras_metric_string_gives_the_same_metric():
    """Each name keras.metrics.get accepts, given to compile as a string, logs Keras's
    number under the name given."""
    from keras.src.metrics import ALL_OBJECTS_DICT
    onehot, sparse = batches("onehot", True), batches("sparse", True)
    skipped = {"Metric", "metric", "MeanMetricWrapper", "mean_metric_wrapper", "IoU", "io_u", "BinaryIoU",
               "binary_io_u", "OneHotIoU", "one_hot_io_u", "OneHotMeanIoU", "one_hot_mean_io_u",
               "MeanIoU", "mean_io_u", "Mean", "mean", "Sum", "sum",
               "Accuracy", "accuracy"}   # compile resolves these from the shapes
    checked = 0
    for key, cls in ALL_OBJECTS_DICT.items():
        if key in skipped:
            continue
        data = sparse if "sparse" in key.lower() else onehot
        try:
            theirs = cls()
        except TypeError:     # needs an argument (SensitivityAtSpecificity): so does ours
            with pytest.raises(TypeError):
                metrics.get(key, data[0][0].shape, data[0][1].shape)
            continue
        ours = metrics.get(key, data[0][0].shape, data[0][1].shape)
        assert ours.name == key
        np.testing.assert_allclose(np.asarray(_keras_result(ours, data)),
                                   np.asarray(_keras_result(theirs, data)), rtol=2e-5,
                                   atol=2e-6, err_msg=key)
        checked += 1
    assert checked > 60


def test_threshold_metric_arguments_are_checked():
    with pytest.raises(ValueError, match="SensitivityAtSpecificity 'sensitivity_at_specificity'"
                                         ": specificity must be in \\[0, 1\\]"):
        metrics.SensitivityAtSpecificity(1.5)
    with pytest.raises(ValueError, match="num_thresholds must be an integer > 0"):
        metrics.PrecisionAtRecall(0.5, num_thresholds=0)
    with pytest.raises(ValueError, match="TruePositives 'true_positives': thresholds must be"):
        metrics.TruePositives(thresholds=[0.5, 2.0])
    with pytest.raises(ValueError, match="R2Score 'r2_score' expects targets and predictions "
                                         "of shape \\(batch, outputs\\)"):
        metrics.R2Score().update_state(np.zeros(4), np.zeros(4))


IOU_CASES = [
    ("IoU", {"num_classes": 4, "target_class_ids": [0, 2]}, "labels"),
    ("IoU", {"num_classes": 4, "target_class_ids": [1], "ignore_class": 3}, "labels"),
    ("BinaryIoU", {}, "binary"),
    ("BinaryIoU", {"target_class_ids": [1], "threshold": 0.3}, "binary"),
    ("OneHotIoU", {"num_classes": 4, "target_class_ids": [0, 3]}, "onehot"),
    ("OneHotMeanIoU", {"num_classes": 4}, "onehot"),
    ("MeanIoU", {"num_classes": 4}, "labels"),
]


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name, kwargs, kind", IOU_CASES, ids=lambda c: str(c))
def test_iou_family_matches_keras(name, kwargs, kind, weighted):
    """Integer weights: Keras keeps an integer confusion matrix and truncates fractions."""
    r = np.random.default_rng(7)
    data = []
    for n in (9, 6, 11):
        if kind == "labels":
            y, p = r.integers(0, 4, n).astype("float32"), r.integers(0, 4, n).astype("float32")
        else:
            y, p = _data(kind, n, r)
        data.append((y, p, r.integers(0, 3, n).astype("float32") if weighted else None))
    ours = getattr(metrics, name)(**kwargs)
    theirs = getattr(keras.metrics, name)(**kwargs)
    np.testing.assert_allclose(float(_keras_result(ours, data)),
                               float(_keras_result(theirs, data)), rtol=1e-5, atol=1e-7)
    assert ours.name == theirs.name.rsplit("_", 1)[0] or ours.name == theirs.name


def test_iou_target_classes_are_checked():
    with pytest.raises(ValueError, match="IoU 'io_u': target_class_ids must be class indices "
                                         "in \\[0, 3\\), received \\[0, 3\\]"):
        metrics.IoU(3, [0, 3])
