"""Each loss against a NumPy formula written here and against Keras 3."""
import itertools

import numpy as np
import pytest

from graphnet import losses

keras = pytest.importorskip("keras")

EPS = 1e-7
rng = np.random.default_rng(3)


def probs(n, k):
    p = rng.random((n, k)).astype("float32") + 0.05
    return p / p.sum(-1, keepdims=True)


def onehot(n, k):
    return np.eye(k, dtype="float32")[rng.integers(0, k, n)]


# ---- NumPy references -----------------------------------------------------------------
def np_cce(y, p):
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -(y * np.log(p)).sum(-1)


def np_bce(y, p):
    p = np.clip(p, EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)


def np_huber(y, p, d=1.0):
    e = np.abs(p - y)
    return np.where(e <= d, 0.5 * e ** 2, d * e - 0.5 * d * d).mean(-1)


REG_Y = rng.normal(size=(6, 4)).astype("float32")
REG_P = rng.normal(size=(6, 4)).astype("float32")
POS_Y = rng.random((6, 4)).astype("float32") + 0.1
POS_P = rng.random((6, 4)).astype("float32") + 0.1

CASES = [  # name, y_true, y_pred, NumPy formula, Keras function
    ("mse", REG_Y, REG_P, lambda y, p: ((p - y) ** 2).mean(-1), "mean_squared_error"),
    ("mae", REG_Y, REG_P, lambda y, p: np.abs(p - y).mean(-1), "mean_absolute_error"),
    ("mape", POS_Y, POS_P, lambda y, p: 100 * np.abs((y - p) / y).mean(-1),
     "mean_absolute_percentage_error"),
    ("msle", POS_Y, POS_P, lambda y, p: ((np.log(p + 1) - np.log(y + 1)) ** 2).mean(-1),
     "mean_squared_logarithmic_error"),
    ("huber", REG_Y, REG_P, np_huber, "huber"),
    ("log_cosh", REG_Y, REG_P, lambda y, p: np.log(np.cosh(p - y)).mean(-1), "log_cosh"),
    ("kld", probs(6, 4), probs(6, 4), lambda y, p: (y * np.log(y / p)).sum(-1), "kl_divergence"),
    ("poisson", POS_Y, POS_P, lambda y, p: (p - y * np.log(p + EPS)).mean(-1), "poisson"),
    ("binary_crossentropy", (rng.random((6, 3)) > 0.5).astype("float32"),
     rng.random((6, 3)).astype("float32"), np_bce, "binary_crossentropy"),
    ("categorical_crossentropy", onehot(6, 5), probs(6, 5), np_cce, "categorical_crossentropy"),
    ("hinge", np.sign(REG_Y), REG_P, lambda y, p: np.maximum(1 - y * p, 0).mean(-1), "hinge"),
    ("squared_hinge", np.sign(REG_Y), REG_P,
     lambda y, p: (np.maximum(1 - y * p, 0) ** 2).mean(-1), "squared_hinge"),
    ("categorical_hinge", onehot(6, 4), REG_P,
     lambda y, p: np.maximum(((1 - y) * p).max(-1) - (y * p).sum(-1) + 1, 0), "categorical_hinge"),
    ("cosine_similarity", REG_Y, REG_P,
     lambda y, p: -(y * p).sum(-1) / np.linalg.norm(y, axis=-1) / np.linalg.norm(p, axis=-1),
     "cosine_similarity"),
]


@pytest.mark.parametrize("name,y,p,formula,keras_name", CASES, ids=[c[0] for c in CASES])
def test_loss_function_matches_numpy_and_keras(name, y, p, formula, keras_name):
    fn = losses.get(name)
    ours = np.asarray(fn.call(y, p))
    np.testing.assert_allclose(ours, formula(y, p), rtol=1e-5, atol=1e-6)
    theirs = np.asarray(getattr(keras.losses, keras_name)(y, p))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
    # The reduced value (Keras's default "sum_over_batch_size") too.
    np.testing.assert_allclose(float(fn(y, p)), formula(y, p).mean(), rtol=1e-5, atol=1e-6)


def test_sparse_categorical_crossentropy_matches_numpy_and_keras():
    p = probs(7, 5)
    labels = rng.integers(0, 5, 7)
    ref = np_cce(np.eye(5, dtype="float32")[labels], p)
    for y in (labels, labels[:, None], labels.astype("float32")):
        ours = np.asarray(losses.sparse_categorical_crossentropy(y, p))
        np.testing.assert_allclose(ours, ref, rtol=1e-5)
    np.testing.assert_allclose(
        ours, np.asarray(keras.losses.sparse_categorical_crossentropy(labels, p)), rtol=1e-5)


def test_probabilities_are_clipped_like_keras():
    y = np.array([[1.0, 0.0]], "float32")
    p = np.array([[0.0, 1.0]], "float32")          # log(0) without the clip
    ours = float(losses.categorical_crossentropy(y, p)[0])
    assert np.isfinite(ours)
    np.testing.assert_allclose(ours, -np.log(EPS), rtol=1e-5)
    np.testing.assert_allclose(ours, float(keras.losses.categorical_crossentropy(y, p)[0]),
                               rtol=1e-5)
    assert np.isfinite(float(losses.binary_crossentropy(y, p)[0]))


@pytest.mark.parametrize("from_logits,smoothing", list(itertools.product([False, True], [0.0, 0.2])))
def test_crossentropy_classes_with_keras_arguments(from_logits, smoothing):
    logits = rng.normal(size=(8, 5)).astype("float32") * 3
    y = onehot(8, 5)
    p = logits if from_logits else np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    ours = losses.CategoricalCrossentropy(from_logits=from_logits, label_smoothing=smoothing)(y, p)
    theirs = keras.losses.CategoricalCrossentropy(from_logits=from_logits,
                                                  label_smoothing=smoothing)(y, p)
    np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-5)
    # NumPy: smoothed targets against log-softmax.
    ys = y * (1 - smoothing) + smoothing / 5
    log_p = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    np.testing.assert_allclose(float(ours), float((-(ys * log_p).sum(-1)).mean()), rtol=1e-4)

    yb = (rng.random((8, 3)) > 0.5).astype("float32")
    zb = rng.normal(size=(8, 3)).astype("float32") * 3
    pb = zb if from_logits else 1 / (1 + np.exp(-zb))
    ours = losses.BinaryCrossentropy(from_logits=from_logits, label_smoothing=smoothing)(yb, pb)
    theirs = keras.losses.BinaryCrossentropy(from_logits=from_logits,
                                             label_smoothing=smoothing)(yb, pb)
    np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-5)
    ybs = yb * (1 - smoothing) + 0.5 * smoothing
    s = 1 / (1 + np.exp(-zb))
    ref = -(ybs * np.log(s) + (1 - ybs) * np.log(1 - s)).mean()
    np.testing.assert_allclose(float(ours), ref, rtol=1e-4)


def test_sparse_from_logits_matches_keras():
    logits = rng.normal(size=(6, 4)).astype("float32")
    labels = rng.integers(0, 4, 6)
    ours = losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    theirs = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(labels, logits)
    np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-5)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "none", "mean_with_sample_weight"])
def test_reduction_and_sample_weight_match_keras(reduction):
    y, p = REG_Y, REG_P
    w = rng.random(6).astype("float32")
    ours = np.asarray(losses.MeanSquaredError(reduction=reduction)(y, p, sample_weight=w))
    theirs = np.asarray(keras.losses.MeanSquaredError(reduction=reduction)(y, p, sample_weight=w))
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
    per = ((p - y) ** 2).mean(-1) * w
    ref = {"sum_over_batch_size": per.sum() / 6, "sum": per.sum(), "none": per,
           "mean_with_sample_weight": per.sum() / w.sum()}[reduction]
    np.testing.assert_allclose(ours, ref, rtol=1e-5)


def test_huber_delta_matches_keras():
    ours = losses.Huber(delta=0.3)(REG_Y, REG_P)
    theirs = keras.losses.Huber(delta=0.3)(REG_Y, REG_P)
    np.testing.assert_allclose(float(ours), float(theirs), rtol=1e-5)
    np.testing.assert_allclose(float(ours), np_huber(REG_Y, REG_P, 0.3).mean(), rtol=1e-5)


def _ctc_brute_force(labels, logits):
    """-log of the summed probability of every path that collapses to `labels` (blank 0)."""
    t, c = logits.shape
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    target = [int(v) for v in labels if v != 0]
    total = 0.0
    for path in itertools.product(range(c), repeat=t):
        collapsed = [k for i, k in enumerate(path) if k != 0 and (i == 0 or path[i - 1] != k)]
        if collapsed == target:
            total += np.exp(sum(logp[i, k] for i, k in enumerate(path)))
    return -np.log(total)


def test_ctc_matches_brute_force_and_keras():
    logits = rng.normal(size=(2, 5, 3)).astype("float32")
    labels = np.array([[1, 2, 0], [2, 2, 0]], "int32")   # 0 pads, as Keras
    ours = np.asarray(losses.ctc(labels, logits))
    ref = [_ctc_brute_force(labels[b], logits[b]) for b in range(2)]
    np.testing.assert_allclose(ours, ref, rtol=1e-4)
    np.testing.assert_allclose(ours, np.asarray(keras.losses.ctc(labels, logits)), rtol=1e-4)
    np.testing.assert_allclose(float(losses.get("ctc")(labels, logits)), np.mean(ref), rtol=1e-4)


def test_unknown_loss_lists_valid_names():
    with pytest.raises(ValueError, match="valid loss functions are:.*categorical_crossentropy"):
        losses.get("crossentropyy")


def test_custom_function_is_wrapped_and_serialized_by_name():
    def my_loss(y_true, y_pred):
        return ((y_true - y_pred) ** 4).mean(-1)
    loss = losses.get(my_loss)
    assert loss.name == "my_loss"
    np.testing.assert_allclose(float(loss(REG_Y, REG_P)), ((REG_Y - REG_P) ** 4).mean(), rtol=1e-5)
    with pytest.raises(ValueError, match="not registered"):
        losses.serialize(loss)
    config = losses.serialize(losses.CategoricalCrossentropy(label_smoothing=0.1))
    again = losses.deserialize(config)
    assert isinstance(again, losses.CategoricalCrossentropy)
    assert again.fn_kwargs["label_smoothing"] == 0.1


def test_every_keras_loss_class_name_is_accepted_as_a_string():
    """compile(loss="MeanSquaredError") as Keras: the class with its defaults."""
    from keras.src.losses import ALL_OBJECTS_DICT
    r = np.random.default_rng(0)
    labels = r.integers(0, 3, 8)
    onehot = np.eye(3, dtype="float32")[labels]
    p = r.random((8, 3)).astype("float32") + 0.05
    p /= p.sum(-1, keepdims=True)
    checked = 0
    for name, obj in ALL_OBJECTS_DICT.items():
        if not isinstance(obj, type) or name in ("Loss", "LossFunctionWrapper", "CTC"):
            continue
        if not hasattr(losses, name):
            continue        # a loss graphnet does not have
        y = labels if name in ("SparseCategoricalCrossentropy", "Circle") else onehot
        ours, theirs = losses.get(name), keras.losses.get(name)
        assert type(ours).__name__ == name
        np.testing.assert_allclose(float(ours(y, p)), float(theirs(y, p)), rtol=1e-5,
                                   err_msg=name)
        checked += 1
    assert checked >= 14
    np.testing.assert_allclose(float(losses.get("BCE")(onehot, p)),
                               float(keras.losses.BinaryCrossentropy()(onehot, p)), rtol=1e-5)
