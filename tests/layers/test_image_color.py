"""The colour augmentation layers against Keras 3: at inference through both models'
`predict`; when training, graphnet's drawn transformation fed to Keras's `transform_images`
must give graphnet's output."""
import jax
import numpy as np
import pytest

from graphnet import layers
from harness import check_against_keras, keras, run_layer_test

rng = np.random.default_rng(4)
IMAGES = rng.uniform(0, 255, size=(3, 8, 8, 3)).astype("float32")
UNIT = (IMAGES / 255).astype("float32")

CASES = [
    ("AutoContrast", {}, IMAGES / 2 + 40),
    ("AutoContrast", {"value_range": (0, 1)}, UNIT * 0.5 + 0.1),
    ("Solarization", {"addition_factor": 0.2, "threshold_factor": (0.3, 0.7)}, IMAGES),
    ("Solarization", {"threshold_factor": 0.5, "value_range": (0, 1)}, UNIT),
    ("RandomBrightness", {"factor": (-0.4, 0.3)}, IMAGES),
    ("RandomGrayscale", {"factor": 0.5}, IMAGES),
    ("RandomInvert", {"factor": (0.2, 0.9), "value_range": (0, 1)}, UNIT),
    ("RandomPosterization", {"factor": (2, 6)}, IMAGES),
    ("RandomPosterization", {"factor": 3, "value_range": (0, 1)}, UNIT),
    ("RandomColorDegeneration", {"factor": 0.8}, IMAGES),
]
IDS = [f"{n}-{i}" for i, (n, _, _) in enumerate(CASES)]


def training_call(layer):
    """The layer's training output as one compiled function (eager JAX compiles every op)."""
    run = jax.jit(lambda x, key: layer.call({}, {}, x, training=True, rng=key)[0])
    return lambda x, key: np.asarray(run(x, key))


def trained(layer, x, key):
    return training_call(layer)(x, key)


def keras_transform(klayer):
    """Keras's `transform_images` in training, compiled once."""
    run = jax.jit(lambda x, t: klayer.transform_images(x, t, training=True))
    return lambda x, t: np.asarray(run(x, t))


@pytest.mark.parametrize("name,kw,x", CASES, ids=IDS)
def test_inference_matches_keras(name, kw, x):
    x = np.asarray(x, "float32")
    out = check_against_keras(getattr(layers, name)(**kw), getattr(keras().layers, name)(**kw), x)
    if name != "AutoContrast":                      # the only one active at inference
        np.testing.assert_array_equal(out, x)
    if kw is next(k for n, k, _ in CASES if n == name):        # the harness once per layer
        run_layer_test(lambda: getattr(layers, name)(**kw), (None, 8, 8, 3))


@pytest.mark.parametrize("name,kw,x", CASES, ids=IDS)
def test_training_transform_matches_keras_for_the_same_draw(name, kw, x):
    x = np.asarray(x, "float32")
    layer = getattr(layers, name)(**kw)
    klayer = getattr(keras().layers, name)(**kw)
    outs, wants = [], []
    ours, theirs = training_call(layer), keras_transform(klayer)
    for seed in range(2):                          # two draws, each compared
        key = jax.random.key(seed)
        got = ours(x, key)
        drawn = jax.tree_util.tree_map(np.asarray,
                                       layer.get_random_transformation(x.astype("float32"), key))
        want = theirs(x, drawn)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
        outs.append(got)
        wants.append(want)
    again = ours(x, jax.random.key(0))
    np.testing.assert_array_equal(again, outs[0])                 # same key, same draw
    if name != "AutoContrast":
        assert not all(np.allclose(o, x) for o in outs)


def test_transforms_by_hand():
    key = jax.random.key(1)
    # degenerate ranges: the transform is fixed, so check it against NumPy formulas
    gray = trained(layers.RandomGrayscale(1.0), IMAGES, key)
    want = (IMAGES @ np.array([0.2989, 0.5870, 0.1140], "float32"))[..., None]
    np.testing.assert_allclose(gray, np.broadcast_to(want, IMAGES.shape), rtol=1e-5, atol=1e-4)
    inv = trained(layers.RandomInvert((1.0, 1.0)), IMAGES, key)
    np.testing.assert_allclose(inv, 255 - IMAGES, rtol=1e-6, atol=1e-4)
    bright = trained(layers.RandomBrightness((0.1, 0.1)), IMAGES, key)
    np.testing.assert_allclose(bright, np.clip(IMAGES + 25.5, 0, 255), rtol=1e-6, atol=1e-4)
    # Keras scales only the upper end of Solarization's ranges: fix the parameters instead
    fixed = {"additions": np.full((3, 1, 1, 1), 10.0, "float32"),
             "thresholds": np.full((3, 1, 1, 1), 127.5, "float32")}
    solar = layers.Solarization().transform_images(IMAGES, fixed)
    moved = np.clip(IMAGES + 10, 0, 255)
    np.testing.assert_allclose(solar, np.where(moved < 127.5, moved, 255 - moved),
                               rtol=1e-6, atol=1e-4)
    post = trained(layers.RandomPosterization((2, 2)), IMAGES, key)
    np.testing.assert_array_equal(post, (IMAGES.astype("uint8") & 0b11000000).astype("float32"))
    x = IMAGES / 2 + 40
    auto = layers.AutoContrast().call({}, {}, x)[0]
    low, high = x.min((1, 2), keepdims=True), x.max((1, 2), keepdims=True)
    np.testing.assert_allclose(auto, (x - low) * 255 / (high - low), rtol=1e-5, atol=1e-3)
    one = trained(layers.RandomInvert((1.0, 1.0)), IMAGES[0], key)
    np.testing.assert_allclose(one, 255 - IMAGES[0], rtol=1e-6, atol=1e-4)   # one image


def test_harness_and_errors():
    run_layer_test(lambda: layers.Equalization(bins=32), (None, 8, 8, 3))
    with pytest.raises(ValueError, match="bright.*factor must be"):
        layers.RandomBrightness(1.5, name="bright")
    with pytest.raises(ValueError, match="post.*factor must be"):
        layers.RandomPosterization(9, name="post")
    with pytest.raises(ValueError, match="sol.*threshold_factor must be"):
        layers.Solarization(threshold_factor=2, name="sol")
    with pytest.raises(ValueError, match="gray.*probability"):
        layers.RandomGrayscale(1.5, name="gray")
    with pytest.raises(ValueError, match="auto.*value_range must be"):
        layers.AutoContrast(value_range=5, name="auto")
    with pytest.raises(NotImplementedError, match="data_format"):
        layers.RandomGrayscale(data_format="channels_first")
    import graphnet as gn
    with pytest.raises(ValueError, match="gray.*1 or 3 channels"):
        layers.RandomGrayscale(name="gray")(gn.Input((8, 8, 4)))
    with pytest.raises(ValueError, match="inv.*expects images"):
        layers.RandomInvert(name="inv")(gn.Input((3,)))


def numpy_equalize(images, bins=256):
    """Histogram equalization per channel over the whole batch, in 0..255 terms."""
    out = images.copy()
    for c in range(images.shape[-1]):
        channel = images[..., c]
        index = np.clip((channel * (bins - 1) / 255).astype(int), 0, bins - 1)
        cdf = np.cumsum(np.bincount(index.ravel(), minlength=bins))
        first = cdf[cdf > 0][0]
        ratio = ((cdf - first) * 255).astype("float32") / np.float32(max(cdf[-1] - first, 1))
        table = np.clip(np.round(ratio), 0, 255)               # float32, as Keras rounds
        out[..., c] = table[index]
    return out


def test_equalization_matches_keras_and_numpy():
    x = (IMAGES / 2 + 20).astype("float32")
    got = trained(layers.Equalization(), x, jax.random.key(0))
    np.testing.assert_allclose(got, numpy_equalize(x), rtol=1e-6, atol=1e-4)
    assert not np.allclose(got, x)
    # Keras counts its histogram with a Python loop over the bins: few bins keep it short
    layer, klayer = (lib.layers.Equalization(value_range=(0, 1), bins=8)
                     for lib in (__import__("graphnet"), keras()))
    unit = (UNIT * 0.6).astype("float32")
    keras_equalized = jax.jit(lambda x: klayer(x, training=True))
    np.testing.assert_allclose(trained(layer, unit, jax.random.key(0)), keras_equalized(unit),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(layer.call({}, {}, unit)[0], unit)   # Keras: training=False
    assert layer.batch_dependent            # the histogram spans the batch, as in Keras
    flat = np.full((2, 8, 8, 3), 0.25, "float32")                 # one filled bin: unchanged
    np.testing.assert_array_equal(trained(layer, flat, jax.random.key(0)), flat)


def test_integer_images_are_refused_where_they_would_change():
    images = np.zeros((1, 4, 4, 3), "uint8")
    layer = layers.RandomBrightness(0.2)
    np.testing.assert_array_equal(layer(images), images)      # inference: unchanged, as Keras
    with pytest.raises(TypeError, match="RandomBrightness .* float images, received uint8"):
        layer(images, training=True)
