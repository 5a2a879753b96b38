"""The erasing, shear and perspective augmentation layers against Keras 3: at inference
through both models' `predict`; when training, graphnet's drawn transformation fed to Keras's
`transform_images` must give graphnet's output."""
import jax
import numpy as np
import pytest

from graphnet import layers
from harness import check_against_keras, keras, run_layer_test

rng = np.random.default_rng(5)
IMAGES = rng.uniform(0, 255, size=(3, 8, 8, 3)).astype("float32")
UNIT = (IMAGES / 255).astype("float32")

CASES = [
    ("RandomErasing", {"factor": (0.5, 1.0), "scale": (0.1, 0.5)}, IMAGES),
    ("RandomErasing", {"fill_value": (0.1, 0.5, 2.0), "value_range": (0, 1)}, UNIT),
    ("RandomShear", {"x_factor": 0.3, "y_factor": (0.1, 0.4)}, IMAGES),
    ("RandomShear", {"y_factor": 0.6, "fill_mode": "wrap"}, UNIT),
    ("RandomPerspective", {"factor": (0.5, 1.0), "scale": 0.6}, IMAGES),
    ("RandomPerspective", {"interpolation": "nearest", "fill_value": 0.5}, UNIT),
]
IDS = [f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]


def training_call(layer):
    run = jax.jit(lambda x, key: layer.call({}, {}, x, training=True, rng=key)[0])
    return lambda x, key: np.asarray(run(x, key))


def keras_transform(klayer):
    run = jax.jit(lambda x, t: klayer.transform_images(x, t, training=True))

    def transform(x, t):
        with jax.numpy_dtype_promotion("standard"):    # Keras's affine_transform mixes dtypes
            return np.asarray(run(x, t))
    return transform


@pytest.mark.parametrize("name,kw,x", CASES, ids=IDS)
def test_inference_is_identity_as_in_keras(name, kw, x):
    out = check_against_keras(getattr(layers, name)(**kw), getattr(keras().layers, name)(**kw), x)
    np.testing.assert_array_equal(out, x)
    if kw is next(k for n, k, _ in CASES if n == name):        # the harness once per layer
        run_layer_test(lambda: getattr(layers, name)(**kw), (None, 8, 8, 3))


@pytest.mark.parametrize("name,kw,x", CASES, ids=IDS)
def test_training_transform_matches_keras_for_the_same_draw(name, kw, x):
    layer = getattr(layers, name)(**kw)
    klayer = getattr(keras().layers, name)(**kw)
    ours, theirs = training_call(layer), keras_transform(klayer)
    outs = []
    for seed in range(2):
        key = jax.random.key(seed)
        got = ours(x, key)
        drawn = jax.tree_util.tree_map(np.asarray, layer.get_random_transformation(x, key))
        np.testing.assert_allclose(got, theirs(x, drawn), rtol=1e-5, atol=1e-4)
        outs.append(got)
    np.testing.assert_array_equal(ours(x, jax.random.key(0)), outs[0])   # same key, same draw
    assert not all(np.allclose(o, x) for o in outs)


def test_erasing_by_hand():
    layer = layers.RandomErasing(factor=(1.0, 1.0), scale=(0.25, 0.25), fill_value=-5.0,
                                 value_range=(-10, 10))
    drawn = layer.get_random_transformation(UNIT, jax.random.key(3))
    got = np.asarray(layer.transform_images(UNIT, drawn))
    erased = got == -5.0
    for image in erased:                       # a rectangle of half the rows and half the columns
        rows, cols = np.nonzero(image[..., 0])
        assert len(set(rows)) == 4 and len(set(cols)) == 4 and image.sum() == 4 * 4 * 3
        assert rows.max() - rows.min() == 3 and cols.max() - cols.min() == 3
    np.testing.assert_array_equal(got[~erased], UNIT[~erased])
    noisy = layers.RandomErasing(factor=(1.0, 1.0), value_range=(0, 1))
    fill = np.asarray(noisy.get_random_transformation(UNIT, jax.random.key(0))["fill_value"])
    assert fill.min() == 0.0 and fill.max() == 1.0 and 0.2 < (fill == 0).mean() < 0.8
    never = training_call(layers.RandomErasing(factor=0.0))(IMAGES, jax.random.key(0))
    np.testing.assert_array_equal(never, IMAGES)
    one = training_call(layer)(UNIT[0], jax.random.key(3))            # one image
    assert one.shape == (8, 8, 3) and (one == -5.0).sum() == 4 * 4 * 3


def numpy_shear_nearest(image, sx, sy, fill):
    """Output (row y, column x) takes the input at (sy x + y, x + sx y), rounded; `fill`
    outside."""
    out = np.full_like(image, fill)
    for y in range(image.shape[0]):
        for x in range(image.shape[1]):
            r, c = np.round(sy * x + y), np.round(x + sx * y)
            if 0 <= r < image.shape[0] and 0 <= c < image.shape[1]:
                out[y, x] = image[int(r), int(c)]
    return out


def test_shear_by_hand():
    layer = layers.RandomShear(x_factor=(0.35, 0.35), y_factor=(0.2, 0.2),   # no ties
                               interpolation="nearest", fill_mode="constant", fill_value=-1.0)
    drawn = layer.get_random_transformation(IMAGES, jax.random.key(0))
    sign = np.sign(np.asarray(drawn["shear_factor"])[:, :1])
    np.testing.assert_allclose(np.abs(drawn["shear_factor"]), [[0.35, 0.2]] * 3, rtol=1e-6)
    got = training_call(layer)(IMAGES, jax.random.key(0))
    for image, out, s in zip(IMAGES, got, sign[:, 0]):
        np.testing.assert_allclose(out, numpy_shear_nearest(image, 0.35 * s, 0.2 * s, -1.0),
                                   rtol=1e-6, atol=1e-6)
    assert set(sign[:, 0]) <= {-1.0, 1.0}
    still = layers.RandomShear()            # Keras's default: no shear at all
    np.testing.assert_allclose(training_call(still)(IMAGES, jax.random.key(0)), IMAGES,
                               rtol=1e-6, atol=1e-4)


def test_perspective_by_hand():
    # scale 0: the corners stay, the warp is the identity
    still = layers.RandomPerspective(scale=0.0)
    np.testing.assert_allclose(training_call(still)(IMAGES, jax.random.key(0)), IMAGES,
                               rtol=1e-5, atol=1e-3)
    layer = layers.RandomPerspective(factor=(1.0, 1.0), scale=0.8, interpolation="nearest",
                                     fill_value=-1.0)
    drawn = jax.tree_util.tree_map(np.asarray,
                                   layer.get_random_transformation(IMAGES, jax.random.key(2)))
    start, end = drawn["start_points"], drawn["end_points"]
    np.testing.assert_array_equal(start[0], [[0, 0], [7, 0], [0, 7], [7, 7]])
    moves = end / np.where(start == 0, 1, start) - 1
    assert np.abs(moves[start != 0]).max() <= 0.4 and (end[start == 0] == 0).all()
    assert drawn["apply_perspective"].all()
    got = np.asarray(layer.transform_images(IMAGES, drawn))
    # a pixel's new place (x, y) came from where the homography taking `end` to `start`
    # sends it: solve it with NumPy, then check each output pixel away from rounding ties
    for image, out, s, e in zip(IMAGES[:2], got, start, end):
        a = [[ex, ey, 1, 0, 0, 0, -sx * ex, -sx * ey] for (sx, sy), (ex, ey) in zip(s, e)]
        a += [[0, 0, 0, ex, ey, 1, -sy * ex, -sy * ey] for (sx, sy), (ex, ey) in zip(s, e)]
        h = np.linalg.solve(np.array(a, "float64"), np.concatenate([s[:, 0], s[:, 1]]))
        checked = 0
        for y in range(8):
            for x in range(8):
                w = h[6] * x + h[7] * y + 1
                c, r = (h[0] * x + h[1] * y + h[2]) / w, (h[3] * x + h[4] * y + h[5]) / w
                if min(abs(c % 1 - 0.5), abs(r % 1 - 0.5)) < 1e-3:
                    continue
                r, c = int(np.round(r)), int(np.round(c))
                want = image[r, c] if 0 <= r < 8 and 0 <= c < 8 else -1.0
                np.testing.assert_allclose(out[y, x], want, rtol=1e-6, atol=1e-6)
                checked += 1
        assert checked > 50


def test_errors():
    with pytest.raises(ValueError, match="erase.*factor must be"):
        layers.RandomErasing(1.5, name="erase")
    with pytest.raises(ValueError, match="erase.*scale must be"):
        layers.RandomErasing(scale=(0.5, 2, 3), name="erase")
    with pytest.raises(ValueError, match="erase.*fill_value must be"):
        layers.RandomErasing(fill_value=(1, 2), name="erase")
    with pytest.raises(ValueError, match="shear.*x_factor must be"):
        layers.RandomShear(x_factor=-0.2, name="shear")
    with pytest.raises(ValueError, match="shear.*fill_mode must be"):
        layers.RandomShear(fill_mode="mirror", name="shear")
    with pytest.raises(ValueError, match="shear.*interpolation must be"):
        layers.RandomShear(interpolation="bicubic", name="shear")
    with pytest.raises(ValueError, match="persp.*scale must be"):
        layers.RandomPerspective(scale=1.5, name="persp")
    with pytest.raises(ValueError, match="persp.*interpolation must be"):
        layers.RandomPerspective(interpolation="area", name="persp")
    import graphnet as gn
    with pytest.raises(ValueError, match="erase.*3 channels"):
        layers.RandomErasing(fill_value=(1, 2, 3), name="erase")(gn.Input((8, 8, 1)))
