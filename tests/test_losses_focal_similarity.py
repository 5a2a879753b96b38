"""The focal, generalized, Dice, Tversky and Circle losses against NumPy formulas written
here and against Keras 3 on the same inputs."""
import doctest

import jax
import numpy as np
import pytest

import graphnet as gn
from graphnet import losses
from graphnet.losses import focal, similarity

keras = pytest.importorskip("keras")

EPS = 1e-7
rng = np.random.default_rng(11)
TOL = dict(rtol=1e-5, atol=1e-6)


def probs(n, k):
    p = rng.random((n, k)).astype("float32") + 0.05
    return p / p.sum(-1, keepdims=True)


def np_binary_focal(y, p, balance=False, alpha=0.25, gamma=2.0):
    c = np.clip(p, EPS, 1 - EPS)
    bce = -(y * np.log(c) + (1 - y) * np.log(1 - c))
    p_t = y * p + (1 - y) * (1 - p)
    out = (1 - p_t) ** gamma * bce
    if balance:
        out = (y * alpha + (1 - y) * (1 - alpha)) * out
    return out.mean(-1)


def np_categorical_focal(y, p, alpha=0.25, gamma=2.0):
    c = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return (alpha * (1 - c) ** gamma * -y * np.log(c)).sum(-1)


def np_circle(labels, e, gamma=80.0, margin=0.4, remove_diagonal=True):
    d = np.maximum(1 - e @ e.T, 0)
    pos = labels[:, None] == labels[None, :]
    neg = ~pos
    if remove_diagonal:
        pos = pos & ~np.eye(len(labels), dtype=bool)
    out = []
    for i in range(len(labels)):
        wp = np.maximum(margin + d[i], 0) * (-gamma) * (margin - d[i])
        wn = np.maximum(1 + margin - d[i], 0) * gamma * (1 - margin - d[i])
        lp = np.log(np.exp(wp[pos[i]]).sum()) if pos[i].any() else -np.inf
        ln = np.log(np.exp(wn[neg[i]]).sum()) if neg[i].any() else -np.inf
        out.append(np.logaddexp(0, lp + ln))
    return np.array(out)


BIN_Y = (rng.random((6, 3)) > 0.5).astype("float32")
BIN_P = rng.random((6, 3)).astype("float32")
CAT_Y = np.eye(4, dtype="float32")[rng.integers(0, 4, 6)]
CAT_P = probs(6, 4)


@pytest.mark.parametrize("kwargs", [{}, {"apply_class_balancing": True, "alpha": 0.4,
                                         "gamma": 3.0}])
def test_binary_focal_matches_numpy_and_keras(kwargs):
    ours = np.asarray(losses.binary_focal_crossentropy(BIN_Y, BIN_P, **kwargs))
    np.testing.assert_allclose(
        ours, np_binary_focal(BIN_Y, BIN_P, kwargs.get("apply_class_balancing", False),
                              kwargs.get("alpha", 0.25), kwargs.get("gamma", 2.0)), **TOL)
    theirs = keras.losses.binary_focal_crossentropy(BIN_Y, BIN_P, **kwargs)
    np.testing.assert_allclose(ours, np.asarray(theirs), **TOL)


@pytest.mark.parametrize("from_logits, smoothing", [(True, 0.1), (False, 0.2)])
def test_focal_classes_match_keras_with_their_arguments(from_logits, smoothing):
    logits = rng.normal(size=(6, 4)).astype("float32")
    y_cat, p_cat = CAT_Y, (logits if from_logits else CAT_P)
    p_bin = logits[:, :3] if from_logits else BIN_P
    weight = rng.random(6).astype("float32")
    pairs = [
        (losses.BinaryFocalCrossentropy, keras.losses.BinaryFocalCrossentropy, BIN_Y, p_bin,
         dict(apply_class_balancing=True, alpha=0.3, gamma=1.5)),
        (losses.CategoricalFocalCrossentropy, keras.losses.CategoricalFocalCrossentropy,
         y_cat, p_cat, dict(alpha=[0.1, 0.2, 0.3, 0.4], gamma=2.5)),
    ]
    for ours_cls, theirs_cls, y, p, extra in pairs:
        kwargs = dict(from_logits=from_logits, label_smoothing=smoothing, **extra)
        ours, theirs = ours_cls(**kwargs), theirs_cls(**kwargs)
        for sw in (None, weight):
            np.testing.assert_allclose(float(ours(y, p, sample_weight=sw)),
                                       float(theirs(y, p, sample_weight=sw)), **TOL)
        assert ours.get_config() == theirs.get_config()
        again = losses.deserialize(losses.serialize(ours))
        assert type(again) is ours_cls and again.get_config() == ours.get_config()


def test_categorical_focal_matches_numpy():
    ours = np.asarray(losses.categorical_focal_crossentropy(CAT_Y, CAT_P, gamma=1.0))
    np.testing.assert_allclose(ours, np_categorical_focal(CAT_Y, CAT_P, gamma=1.0), **TOL)


def test_generalized_cross_entropy_matches_numpy_and_keras():
    labels = rng.integers(0, 4, 6)
    ours = np.asarray(losses.categorical_generalized_cross_entropy(labels, CAT_P, q=0.3))
    p = CAT_P[np.arange(6), labels]
    np.testing.assert_allclose(ours, (1 - p ** 0.3) / 0.3, **TOL)
    loss, ref = (losses.CategoricalGeneralizedCrossEntropy(q=0.3),
                 keras.losses.CategoricalGeneralizedCrossEntropy(q=0.3))
    np.testing.assert_allclose(float(loss(labels, CAT_P)), float(ref(labels, CAT_P)), **TOL)
    assert loss.get_config() == ref.get_config()
    with pytest.raises(ValueError, match=r"q must be in the interval \(0, 1\)"):
        losses.CategoricalGeneralizedCrossEntropy(q=1.0)
    # Keras broadcasts (batch, 1) labels against every row: refused, not computed.
    with pytest.raises(ValueError, match=r"integer labels of shape \(6,\).*received \(6, 1\)"):
        loss(labels[:, None], CAT_P)


@pytest.mark.parametrize("axis", [None, (1, 2)])
def test_dice_and_tversky_match_numpy_and_keras(axis):
    y = (rng.random((3, 4, 5)) > 0.5).astype("float32")
    p = rng.random((3, 4, 5)).astype("float32")
    inter, fp, fn = ((y * p).sum(axis), ((1 - p) * y).sum(axis), (p * (1 - y)).sum(axis))
    np.testing.assert_allclose(np.asarray(losses.dice(y, p, axis=axis)),
                               1 - 2 * inter / (y.sum(axis) + p.sum(axis) + EPS), **TOL)
    np.testing.assert_allclose(np.asarray(losses.tversky(y, p, 0.3, 0.7, axis=axis)),
                               1 - inter / (inter + 0.3 * fp + 0.7 * fn + EPS), **TOL)
    for ours, theirs in [(losses.Dice(axis=axis), keras.losses.Dice(axis=axis)),
                         (losses.Tversky(0.3, 0.7, axis=axis),
                          keras.losses.Tversky(0.3, 0.7, axis=axis))]:
        np.testing.assert_allclose(float(ours(y, p)), float(theirs(y, p)), **TOL)
        assert ours.get_config() == theirs.get_config()


@pytest.mark.slow
def test_circle_matches_numpy_and_keras_with_its_mask():
    labels = np.array([0, 0, 1, 1, 2, 3])          # classes 2 and 3 have no positive pair
    e = rng.normal(size=(6, 5)).astype("float32")
    e /= np.linalg.norm(e, axis=-1, keepdims=True)
    kwargs = dict(gamma=4.0, margin=0.25)
    ours = np.asarray(jax.jit(lambda x: losses.circle(labels, x, **kwargs))(e))
    np.testing.assert_allclose(ours, np_circle(labels, e, 4.0, 0.25), **TOL)
    np.testing.assert_allclose(ours, np.asarray(keras.losses.circle(labels, e, **kwargs)),
                               **TOL)
    weight = rng.random(6).astype("float32")
    for reduction in ("sum_over_batch_size", None):
        a = losses.Circle(reduction=reduction, **kwargs)
        b = keras.losses.Circle(reduction=reduction, **kwargs)
        np.testing.assert_allclose(np.asarray(a(labels, e, sample_weight=weight)),
                                   np.asarray(b(labels, e, sample_weight=weight)), **TOL)
    assert losses.Circle(**kwargs).get_config() == keras.losses.Circle(**kwargs).get_config()
    # Rows without positives add 0 with a finite gradient (Keras's -inf logsumexp gives NaN).
    grad = jax.jit(jax.grad(lambda x: losses.Circle(**kwargs)(labels, x)))(e)
    assert np.isfinite(np.asarray(grad)).all()


def test_batch_coupled_losses_are_never_padded():
    for loss in (losses.Dice(), losses.Tversky(), losses.Circle()):
        assert not losses.maskable(loss)
    assert losses.maskable(losses.BinaryFocalCrossentropy())


def test_new_names_are_accepted_as_strings_like_keras():
    y, p = BIN_Y, BIN_P
    for name in ("binary_focal_crossentropy", "BinaryFocalCrossentropy", "dice", "Tversky"):
        # Keras's get gives the function for a function's name: its mean is the loss.
        theirs = np.mean(np.asarray(keras.losses.get(name)(y, p)))
        np.testing.assert_allclose(float(losses.get(name)(y, p)), theirs, **TOL, err_msg=name)


@pytest.mark.slow
def test_focal_loss_trains_and_saves_with_a_model(tmp_path):
    x = rng.normal(size=(16, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    inputs = gn.Input((3,))
    model = gn.Model(inputs, gn.layers.Dense(1, activation="sigmoid")(inputs))
    model.compile("sgd", loss=losses.BinaryFocalCrossentropy(gamma=3.0, alpha=0.3,
                                                             apply_class_balancing=True))
    before = float(model.evaluate(x, y, verbose=0))
    kernel, bias = model.get_weights()
    expected = float(np.mean(np_binary_focal(y, 1 / (1 + np.exp(-(x @ kernel + bias))),
                                             True, 0.3, 3.0)))
    np.testing.assert_allclose(before, expected, **TOL)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    model.save(tmp_path / "m.graphnet")
    loaded = gn.load_model(tmp_path / "m.graphnet")
    np.testing.assert_allclose(float(loaded.evaluate(x, y, verbose=0)),
                               float(model.evaluate(x, y, verbose=0)), **TOL)


@pytest.mark.slow
def test_docstring_examples_run():
    for module in (focal, similarity):
        failed, attempted = doctest.testmod(module)
        assert attempted and not failed


def test_focal_functions_are_metric_functions_as_in_keras():
    assert gn.metrics.binary_focal_crossentropy is losses.binary_focal_crossentropy
    assert gn.metrics.categorical_focal_crossentropy is losses.categorical_focal_crossentropy


def test_masked_losses_average_over_the_valid_values_under_mean_too():
    """Keras rescales the mask for "mean" as for "sum_over_batch_size" (ignore_class,
    Circle's zero losses)."""
    labels = np.array([0, 1, 2, 1])
    probs_ = np.full((4, 3), 1 / 3, "float32")
    for reduction in ("mean", "sum_over_batch_size"):
        ours = losses.SparseCategoricalCrossentropy(ignore_class=0, reduction=reduction)
        np.testing.assert_allclose(float(ours(labels, probs_)), np.log(3), **TOL)
