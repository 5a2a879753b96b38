"""`ops.image` against `keras.ops.image` on small random images, eagerly and as graph nodes."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import ops

rng = np.random.default_rng(3)
IMG = rng.uniform(size=(2, 5, 7, 3)).astype("float32")
ONE = rng.uniform(size=(6, 4, 3)).astype("float32")
NCHW = rng.uniform(size=(2, 3, 5, 7)).astype("float32")
UINT = rng.integers(0, 256, size=(2, 5, 7, 3)).astype("uint8")
HSV = rng.uniform(size=(2, 4, 5, 3)).astype("float32")
SHIFT = np.array([1.0, 0.2, -1.5, 0.1, 0.9, 0.7, 0.0, 0.0], "float32")
TURN = np.array([[0.8, -0.6, 2.0, 0.6, 0.8, -1.0, 0, 0], SHIFT], "float32")
START = np.array([[0, 0], [6, 0], [0, 4], [6, 4]], "float32")
END = np.array([[1, 0.5], [5.5, 0], [0, 4], [6, 3.5]], "float32")
VOL = rng.uniform(size=(2, 3, 4, 5, 2)).astype("float32")
COORDS = rng.uniform(-1, 6, size=(3, 4, 5)).astype("float32")

CASES = [
    ("rgb_to_grayscale", (NCHW,), {"data_format": "channels_first"}),
    ("rgb_to_grayscale", (UINT,), {}),
    ("rgb_to_hsv", (IMG,), {}), ("hsv_to_rgb", (HSV,), {}),
    ("resize", (IMG, (8, 4)), {"interpolation": "nearest"}),
    ("resize", (IMG, (4, 4)), {"interpolation": "bicubic", "antialias": True}),
    ("resize", (IMG, (6, 6)), {"interpolation": "lanczos5", "crop_to_aspect_ratio": True}),
    ("resize", (IMG, (4, 4)), {"pad_to_aspect_ratio": True, "fill_value": 0.5}),
    ("resize", (UINT, (3, 4)), {}),
    ("resize", (NCHW, (3, 4)), {"data_format": "channels_first", "crop_to_aspect_ratio": True}),
    ("affine_transform", (NCHW, TURN[::-1]), {"fill_mode": "wrap", "interpolation": "nearest",
                                              "data_format": "channels_first"}),
    ("affine_transform", (IMG, TURN), {"fill_mode": "constant", "fill_value": 0.3}),
    ("map_coordinates", (IMG[0], COORDS, 1), {"fill_mode": "mirror"}),
    ("perspective_transform", (IMG, np.stack([START, END]), np.stack([END, START])), {}),
    ("gaussian_blur", (IMG,), {"kernel_size": (3, 5), "sigma": (0.7, 1.8),
                               "data_format": "channels_last"}),
    ("gaussian_blur", (NCHW,), {"data_format": "channels_first"}),
    ("sobel_edges", (IMG,), {}),
    ("pad_images", (IMG, 1, 2), {"target_height": 8, "target_width": 10}),
    ("pad_images", (ONE,), {"bottom_padding": 2, "right_padding": 1, "top_padding": 0,
                            "left_padding": 3}),
    ("crop_images", (IMG, 1, 2), {"target_height": 3, "target_width": 4}),
    ("crop_images", (NCHW,), {"bottom_cropping": 1, "right_cropping": 2, "target_height": 3,
                              "target_width": 4, "data_format": "channels_first"}),
    ("extract_patches", (IMG, (2, 3)), {"strides": 1, "padding": "same"}),
    ("extract_patches", (NCHW, 2), {"dilation_rate": 2, "strides": 1,
                                    "data_format": "channels_first"}),
    ("extract_patches_3d", (VOL, (2, 2, 3)), {"strides": (1, 2, 2)}),
    ("extract_patches", (VOL[0], (2, 2, 2)), {}),
    # Keras's elastic_transform runs op by op (it reads sigma on the host): slow
    pytest.param("elastic_transform", (IMG[:1, :, :, :1],), {"alpha": 3.0, "sigma": 1.0,
                                                              "seed": 4},
                 marks=pytest.mark.slow),
    ("scale_and_translate", (IMG, (2, 8, 5, 3), np.array([1.3, 0.8], "float32"),
                             np.array([0.5, -1.0], "float32"), (1, 2), "bilinear"), {}),
    ("ssim", (NCHW[0], NCHW[1]), {"filter_size": 3, "max_val": 2.0,
                                  "data_format": "channels_first"}),
]


def keras_reference(fn, *args, **kwargs):
    """Keras's JAX code mixes dtypes, so it runs with JAX's standard promotion (graphnet's
    runs under the tests' strict one); compiled, but for the op that reads a value on the
    host."""
    with jax.numpy_dtype_promotion("standard"):
        if fn.__name__ == "elastic_transform":
            return np.asarray(fn(*args, **kwargs))
        return np.asarray(jax.jit(lambda: fn(*args, **kwargs))())


@pytest.mark.parametrize("name,args,kwargs", CASES,
                         ids=[f"{(c.values if hasattr(c, 'values') else c)[0]}-{i}"
                              for i, c in enumerate(CASES)])
def test_image_op_matches_keras(name, args, kwargs):
    expected = keras_reference(getattr(keras.ops.image, name), *args, **kwargs)
    got = np.asarray(jax.jit(lambda: getattr(ops.image, name)(*args, **kwargs))())
    assert got.shape == expected.shape and got.dtype == expected.dtype, (got.shape, got.dtype)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("call,message", [
    (lambda: ops.image.affine_transform(IMG, np.stack([SHIFT] * 3)), "3 transforms for 2"),
    (lambda: ops.image.perspective_transform(IMG, np.stack([START] * 3), np.stack([END] * 3)),
     "3 sets of points for 2"),
    (lambda: ops.image.resize(IMG, (2, 2), interpolation="area"), "interpolation must be"),
    (lambda: ops.image.resize(IMG[0, 0], (2, 2)), r"rank 3 \(one image\) or 4"),
    (lambda: ops.image.pad_images(IMG, 1, 1, 1, 1, 9, 9), "exactly two of top_padding"),
    (lambda: ops.image.crop_images(IMG, 4, 0, target_height=3, target_width=2),
     "exceeds images of height 5"),
    (lambda: ops.image.rgb_to_hsv(UINT), "float images"),
    (lambda: ops.image.sobel_edges(UINT), "sobel_edges expects float images"),
    (lambda: ops.image.gaussian_blur(IMG, data_format="NHWC"), "data_format must be"),
])
def test_bad_arguments_name_the_op_and_what_was_expected(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_image_ops_on_symbolic_tensors_make_a_model_with_keras_numbers(tmp_path):
    def build(o, inputs):
        gray = o.image.rgb_to_grayscale(o.image.resize(inputs, (4, 6)))
        return o.image.extract_patches(o.image.pad_images(gray, 1, 1, target_height=6,
                                                          target_width=8), 2)

    inputs = gn.Input(shape=(5, 7, 3))
    model = gn.Model(inputs, build(ops, inputs))
    assert model.output_shape == (None, 3, 4, 4)
    assert any(type(layer).__name__ == "Operation" for layer in model.layers)
    k_in = keras.Input((5, 7, 3))
    with jax.numpy_dtype_promotion("standard"):
        expected = keras.Model(k_in, build(keras.ops, k_in)).predict(IMG, verbose=0)
    np.testing.assert_allclose(model.predict(IMG, verbose=0), expected, rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "image_ops.graphnet")
    loaded = gn.load_model(tmp_path / "image_ops.graphnet")
    np.testing.assert_array_equal(loaded.predict(IMG, verbose=0), model.predict(IMG, verbose=0))


@pytest.mark.slow                     # compiles perspective_transform twice more: ~4 s
def test_one_transform_serves_every_image_of_a_batch():
    """Keras's JAX backend wants one transform per image; one for all is each image's."""
    both = np.stack([SHIFT, SHIFT])
    expected = keras_reference(keras.ops.image.affine_transform, IMG, both)
    got = jax.jit(lambda: ops.image.affine_transform(IMG, SHIFT))()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    inputs = gn.Input(shape=(5, 7, 3))
    model = gn.Model(inputs, ops.image.perspective_transform(inputs, START, END))
    expected = keras_reference(keras.ops.image.perspective_transform, IMG,
                               np.stack([START, START]), np.stack([END, END]))
    np.testing.assert_allclose(model.predict(IMG, verbose=0), expected, rtol=1e-5, atol=1e-6)
