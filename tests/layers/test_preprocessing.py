"""Rescaling, Normalization, CategoryEncoding and the augmentation layers against NumPy
and Keras 3; augmentation: identity at inference, its properties when training."""
import jax
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import check_against_keras, keras, predict, run_layer_test

rng = np.random.default_rng(9)
IMAGES = rng.uniform(0, 255, size=(3, 6, 7, 2)).astype("float32")


def test_rescaling():
    out = check_against_keras(layers.Rescaling(1 / 255, offset=-0.5),
                              keras().layers.Rescaling(1 / 255, offset=-0.5), IMAGES)
    np.testing.assert_allclose(out, IMAGES / 255 - 0.5, rtol=1e-6, atol=1e-7)
    run_layer_test(lambda: layers.Rescaling(2.0), (None, 6, 7, 2))


@pytest.mark.parametrize("axis", [-1, (1, 2), None])
def test_normalization_adapt_matches_numpy_and_keras(axis):
    data = rng.normal(3, 2, size=(20, 4, 3)).astype("float32")
    ours, theirs = layers.Normalization(axis=axis), keras().layers.Normalization(axis=axis)
    ours.adapt(data)
    theirs.adapt(data)
    keep = () if axis is None else tuple(a % 3 for a in np.atleast_1d(axis))
    reduce = tuple(d for d in range(3) if d not in keep)
    mean, var = data.mean(reduce, keepdims=True), data.var(reduce, keepdims=True)
    out = predict(ours, data)
    np.testing.assert_allclose(out, (data - mean) / np.sqrt(var), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(out, theirs(data), rtol=1e-4, atol=1e-5)
    for a, b in zip(ours.get_weights()[:2], theirs.get_weights()[:2]):   # mean, variance
        np.testing.assert_allclose(a, b, rtol=1e-5)
    # count: Keras 3 leaves it at 0; graphnet records the number of values averaged
    assert int(ours.get_weights()[2]) == np.prod([data.shape[d] for d in reduce])


def test_normalization_given_stats_invert_and_adapt_after_build():
    x = rng.normal(size=(4, 3)).astype("float32")
    out = check_against_keras(layers.Normalization(mean=[1.0, 2.0, 3.0], variance=[4.0, 1.0, 9.0]),
                              keras().layers.Normalization(mean=[1.0, 2.0, 3.0],
                                                           variance=[4.0, 1.0, 9.0]), x)
    np.testing.assert_allclose(out, (x - [1, 2, 3]) / [2, 1, 3], rtol=1e-6)
    back = predict(layers.Normalization(mean=2.0, variance=4.0, invert=True), x)
    np.testing.assert_allclose(back, x * 2 + 2, rtol=1e-6)
    norm = layers.Normalization()
    i = gn.Input((3,))
    model = gn.Model(i, norm(i))
    norm.adapt(x)                          # after the model is built: its state updates
    np.testing.assert_allclose(model.predict(x).mean(0), 0, atol=1e-5)
    run_layer_test(lambda: layers.Normalization(), (None, 3), expected_num_weights=3)
    with pytest.raises(ValueError, match="both mean and variance"):
        layers.Normalization(mean=1.0)


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding_matches_numpy_and_keras(mode):
    ids = np.array([[1, 3, 3], [0, 2, 1]], "int32") if mode != "one_hot" else \
        np.array([[1], [3]], "int32")
    out = check_against_keras(layers.CategoryEncoding(5, output_mode=mode),
                              keras().layers.CategoryEncoding(5, output_mode=mode), ids)
    hot = np.eye(5)[ids]
    want = {"one_hot": hot[:, 0], "multi_hot": (hot.sum(1) > 0), "count": hot.sum(1)}[mode]
    np.testing.assert_allclose(out, want)
    run_layer_test(lambda: layers.CategoryEncoding(5, output_mode=mode), (None, ids.shape[1]),
                   dtype="int32")


AUGMENTATIONS = [
    ("RandomFlip", {}),
    ("RandomFlip", {"mode": "horizontal"}),
    ("RandomRotation", {"factor": 0.2}),
    ("RandomZoom", {"height_factor": (-0.3, 0.2)}),
    ("RandomTranslation", {"height_factor": 0.2, "width_factor": (0.1, 0.3)}),
    ("RandomContrast", {"factor": 0.5}),
]


@pytest.mark.parametrize("name,kw", AUGMENTATIONS, ids=[f"{n}-{k}" for n, k in AUGMENTATIONS])
def test_augmentation_is_identity_at_inference_and_changes_when_training(name, kw):
    out = check_against_keras(getattr(layers, name)(**kw), getattr(keras().layers, name)(**kw),
                              IMAGES)
    np.testing.assert_array_equal(out, IMAGES)
    run_layer_test(lambda: getattr(layers, name)(**kw), (None, 6, 7, 2))
    layer = getattr(layers, name)(**kw)
    trained, _ = layer.call({}, {}, IMAGES, training=True, rng=jax.random.key(3))
    assert trained.shape == IMAGES.shape and not np.allclose(trained, IMAGES)
    again, _ = layer.call({}, {}, IMAGES, training=True, rng=jax.random.key(3))
    np.testing.assert_array_equal(trained, again)          # same key, same draw


def test_augmentation_training_properties():
    key = jax.random.key(0)
    flipped = np.asarray(layers.RandomFlip("horizontal").call({}, {}, IMAGES, training=True,
                                                              rng=key)[0])
    for img, out in zip(IMAGES, flipped):   # each image is itself or its mirror
        assert np.array_equal(out, img) or np.array_equal(out, img[:, ::-1])
    # zero-range transforms are the identity, up to interpolation rounding
    for layer in (layers.RandomRotation(0.0), layers.RandomZoom(0.0),
                  layers.RandomTranslation(0.0, 0.0)):
        out = layer.call({}, {}, IMAGES, training=True, rng=key)[0]
        np.testing.assert_allclose(out, IMAGES, rtol=1e-5, atol=1e-3)
    # a half-turn is exact: rotation by pi about the centre flips both axes
    half = layers.RandomRotation((0.5, 0.5), interpolation="nearest")
    np.testing.assert_allclose(half.call({}, {}, IMAGES, training=True, rng=key)[0],
                               IMAGES[:, ::-1, ::-1], atol=1e-3)
    # a whole-pixel shift with constant fill moves the image and fills zeros
    shift = layers.RandomTranslation((1 / 6, 1 / 6), (0, 0), fill_mode="constant",
                                     interpolation="nearest")
    moved = np.asarray(shift.call({}, {}, IMAGES, training=True, rng=key)[0])
    np.testing.assert_allclose(moved[:, 1:], IMAGES[:, :-1], atol=1e-3)
    assert (moved[:, 0] == 0).all()
    # contrast keeps each image's per-channel mean (inside the value range)
    small = IMAGES / 4 + 64
    c = np.asarray(layers.RandomContrast(0.5).call({}, {}, small, training=True, rng=key)[0])
    np.testing.assert_allclose(c.mean((1, 2)), small.mean((1, 2)), rtol=1e-4)


def test_augmentation_in_fit_is_active_and_predict_is_not():
    i = gn.Input((6, 7, 2))
    model = gn.Model(i, layers.GlobalAveragePooling2D()(layers.RandomFlip()(i)))
    np.testing.assert_allclose(model.predict(IMAGES), IMAGES.mean((1, 2)), rtol=1e-5)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(IMAGES, IMAGES.mean((1, 2)), epochs=1, verbose=0)   # runs with training=True
    with pytest.raises(ValueError, match="flip.*mode must be"):
        layers.RandomFlip("diagonal", name="flip")
