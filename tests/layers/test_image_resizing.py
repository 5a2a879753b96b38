"""Resizing and CenterCrop against Keras 3 (every interpolation path we take, crop and pad to
the aspect ratio, integer images) and a NumPy crop."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import keras

RNG = np.random.default_rng(16)
IMAGES = RNG.uniform(0, 255, size=(2, 7, 9, 3)).astype("float32")


@pytest.mark.parametrize("name, args, kwargs, dtype", [
    ("Resizing", (10, 6), {"interpolation": "bicubic", "crop_to_aspect_ratio": True}, "float32"),
    ("Resizing", (4, 8), {"pad_to_aspect_ratio": True, "fill_value": 3.0, "antialias": True},
     "float32"),
    ("Resizing", (5, 4), {"interpolation": "nearest"}, "uint8"),
    ("CenterCrop", (8, 12), {}, "float32"),             # larger than the image: resized up
])
def test_resizing_and_center_crop_match_keras(name, args, kwargs, dtype):
    images = IMAGES.astype(dtype)
    ours = getattr(layers, name)(*args, **kwargs)
    inputs = gn.Input(images.shape[1:], dtype=dtype)
    model = gn.Model(inputs, ours(inputs))
    got = model.predict(images, verbose=0)
    want = np.asarray(getattr(keras().layers, name)(*args, **kwargs)(images))
    assert got.dtype == want.dtype and got.shape == want.shape == (2, *args, 3)
    np.testing.assert_allclose(got.astype("float32"), want.astype("float32"), rtol=1e-5, atol=1e-3)


def test_center_crop_is_the_central_window():
    got = layers.CenterCrop(4, 5)(IMAGES)
    np.testing.assert_array_equal(got, IMAGES[:, 1:5, 2:7])


def test_resizing_errors_name_the_layer():
    with pytest.raises(ValueError, match="Resizing 'r': height must be a positive int"):
        layers.Resizing(0, 3, name="r")
    with pytest.raises(ValueError, match="only one of crop_to_aspect_ratio and pad_to_aspect"):
        layers.Resizing(2, 3, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)
    with pytest.raises(ValueError, match=r"CenterCrop 'c' expects images of shape \(batch, "):
        layers.CenterCrop(2, 2, name="c")(gn.Input((4, 4)))


def test_random_crop_trains_on_windows_and_passes_images_at_inference():
    import jax
    inputs = gn.Input((5, 6, 1))
    model = gn.Model(inputs, layers.RandomCrop(3, 4)(inputs))
    x = np.arange(2 * 5 * 6, dtype="float32").reshape(2, 5, 6, 1)
    kx = keras().layers.RandomCrop(3, 4)
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)          # as Keras's:
    np.testing.assert_array_equal(np.asarray(kx(x, training=False)), x)   # unchanged
    seen = set()
    for seed in range(40):
        out, _ = model.apply(model.params, model.state, x, training=True,
                             rng=jax.random.key(seed))
        out = np.asarray(out)
        top, left = np.argwhere(x[0, :, :, 0] == out[0, 0, 0, 0])[0]
        np.testing.assert_array_equal(out, x[:, top:top + 3, left:left + 4])  # one window
        seen.add((int(top), int(left)))
    assert seen == {(t, l) for t in range(3) for l in range(3)}            # every offset
    # not larger on both axes: cropped to the aspect ratio and resized, as Keras's
    tall = layers.RandomCrop(5, 3)
    got, _, _ = tall.pure_call({}, {}, x, training=True, rng=jax.random.key(0))
    want = keras().layers.RandomCrop(5, 3)(x, training=True)
    np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-4)
