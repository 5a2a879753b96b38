"""The image utils against Keras's (which need no TensorFlow), and
`image_dataset_from_directory` against what a tiny directory must give."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, utils

rng = np.random.default_rng(5)
RGB = rng.uniform(-1, 3, size=(6, 9, 3)).astype("float32")


@pytest.mark.parametrize("shape,kwargs", [
    ((6, 9, 3), {}), ((6, 9, 4), {"scale": False}), ((6, 9, 1), {}),
    ((1, 6, 9), {"data_format": "channels_first"}), ((6, 9, 1), {"scale": False}),
])
def test_array_to_img_and_back_match_keras(shape, kwargs):
    x = rng.uniform(0, 300 if kwargs.get("scale") is False else 1, size=shape).astype("float32")
    got, expected = utils.array_to_img(x, **kwargs), keras.utils.array_to_img(x, **kwargs)
    assert got.mode == expected.mode and got.size == expected.size
    layout = {"data_format": kwargs.get("data_format")}
    np.testing.assert_array_equal(utils.img_to_array(got, **layout),
                                  keras.utils.img_to_array(expected, **layout))


@pytest.mark.parametrize("kwargs", [
    {}, {"color_mode": "grayscale"}, {"color_mode": "rgba", "target_size": (4, 5)},
    {"target_size": (5, 4), "interpolation": "bicubic", "keep_aspect_ratio": True},
    {"target_size": (3, 3), "interpolation": "lanczos", "keep_aspect_ratio": True},
])
def test_save_img_then_load_img_match_keras(tmp_path, kwargs):
    ours, theirs = tmp_path / "ours.png", tmp_path / "theirs.png"
    utils.save_img(ours, RGB)
    keras.utils.save_img(theirs, RGB)
    assert ours.read_bytes() == theirs.read_bytes()
    got = utils.img_to_array(utils.load_img(str(ours), **kwargs))
    expected = keras.utils.img_to_array(keras.utils.load_img(str(theirs), **kwargs))
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)


def test_save_img_writes_jpeg_for_jpg_and_drops_alpha_with_a_warning(tmp_path):
    with pytest.warns(UserWarning, match="JPEG has no alpha"):
        utils.save_img(tmp_path / "x.jpg", rng.uniform(size=(4, 4, 4)))
    assert utils.load_img(tmp_path / "x.jpg").format == "JPEG"


def test_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="rank 3"):
        utils.array_to_img(np.zeros((2, 4, 4, 3)))
    with pytest.raises(ValueError, match="1, 3 or 4 channels"):
        utils.array_to_img(np.zeros((4, 4, 2)))
    utils.save_img(tmp_path / "x.png", RGB)
    with pytest.raises(ValueError, match="color_mode must be"):
        utils.load_img(tmp_path / "x.png", color_mode="cmyk")
    with pytest.raises(ValueError, match="interpolation must be one of"):
        utils.load_img(tmp_path / "x.png", target_size=(2, 2), interpolation="area")
    with pytest.raises(TypeError, match="path must be"):
        utils.load_img(3)


def _directory(tmp_path):
    """cats/ with 3 images, dogs/ with 2 (one a JPEG), a .txt and an unreadable .png."""
    pixels = {}
    for cls, names in (("cats", ["c0.png", "c1.png", "c2.bmp"]), ("dogs", ["d0.png", "d1.jpg"])):
        (tmp_path / cls).mkdir()
        for i, name in enumerate(names):
            x = np.full((4, 6, 3), 40 * i + (100 if cls == "dogs" else 0), "uint8")
            x[0, 0] = (255, 0, 0)
            utils.save_img(tmp_path / cls / name, x, scale=False)
            pixels[str(tmp_path / cls / name)] = x
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    (tmp_path / "dogs" / "broken.png").write_bytes(b"not a png")
    return pixels


def test_image_dataset_from_directory_lists_labels_and_decodes_in_order(tmp_path):
    pixels = _directory(tmp_path)
    with pytest.warns(UserWarning, match=r"skipping .*broken\.png"):
        data = utils.image_dataset_from_directory(tmp_path, image_size=(4, 6), batch_size=2,
                                                  shuffle=False, verbose=False)
    assert data.class_names == ["cats", "dogs"] and len(data) == 3
    paths = [str(tmp_path / p) for p in ("cats/c0.png", "cats/c1.png", "cats/c2.bmp",
                                          "dogs/d0.png", "dogs/d1.jpg")]
    assert data.paths == paths
    batches = list(data)
    assert [x.shape for x, _ in batches] == [(2, 4, 6, 3), (2, 4, 6, 3), (1, 4, 6, 3)]
    images = np.concatenate([x for x, _ in batches])
    np.testing.assert_array_equal(np.concatenate([y for _, y in batches]), [0, 0, 0, 1, 1])
    assert images.dtype == np.float32
    for got, path in zip(images[:4], paths[:4]):          # lossless files, same size: exact
        np.testing.assert_array_equal(got, pixels[path])


def test_image_dataset_from_directory_split_modes_and_resize(tmp_path):
    _directory(tmp_path)
    with pytest.warns(UserWarning):
        train, val = utils.image_dataset_from_directory(
            tmp_path, label_mode="categorical", color_mode="grayscale", image_size=(2, 3),
            batch_size=8, seed=7, validation_split=0.4, subset="both", verbose=False)
    shuffled = [str(p) for p in sorted(tmp_path.glob("*/*")) if p.suffix != ".txt"
                and p.name != "broken.png"]
    np.random.RandomState(7).shuffle(shuffled)
    assert sorted(train.paths) == sorted(shuffled[:3]) and val.paths == shuffled[3:]
    x, y = next(iter(val))
    assert x.shape == (2, 2, 3, 1) and y.shape == (2, 2)
    np.testing.assert_array_equal(y.argmax(-1), ["dogs" in p for p in val.paths])
    expected = keras.ops.image.resize(
        utils.img_to_array(utils.load_img(val.paths[0], color_mode="grayscale")), (2, 3))
    np.testing.assert_allclose(x[0], np.asarray(expected), rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_image_dataset_from_directory_feeds_fit(tmp_path):
    _directory(tmp_path)
    with pytest.warns(UserWarning):
        data = utils.image_dataset_from_directory(tmp_path, label_mode="binary",
                                                  image_size=(4, 4), batch_size=2, seed=1,
                                                  verbose=False)
    model = gn.Sequential([gn.Input((4, 4, 3)), layers.Rescaling(1 / 255), layers.Flatten(),
                           layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy")
    history = model.fit(data, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2 and np.isfinite(history.history["loss"]).all()


@pytest.mark.parametrize("kwargs,message", [
    ({"label_mode": "binary", "class_names": ["cats"]}, "exactly 2 classes"),
    ({"class_names": ["cows"]}, "do not match the subdirectories"),
    ({"validation_split": 0.2}, "validation_split and subset together"),
    ({"validation_split": 0.2, "subset": "training"}, "give a seed"),
    ({"color_mode": "cmyk"}, "color_mode must be"),
    ({"image_size": (2, 2, 2)}, "image_size must be"),
])
@pytest.mark.filterwarnings("ignore:image_dataset_from_directory")
def test_image_dataset_from_directory_refuses_bad_arguments(tmp_path, kwargs, message):
    _directory(tmp_path)
    with pytest.raises(ValueError, match=message):
        utils.image_dataset_from_directory(tmp_path, verbose=False, **kwargs)
