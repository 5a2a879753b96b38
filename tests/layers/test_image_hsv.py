"""RandomSharpness, RandomHue, RandomSaturation, RandomColorJitter and RandomGaussianBlur
against Keras 3: identity at inference; when training, graphnet's drawn transformation fed
to Keras's `transform_images` gives graphnet's output."""
import jax
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import check_against_keras, keras, run_layer_test

rng = np.random.default_rng(5)
IMAGES = rng.uniform(0, 255, size=(3, 8, 8, 3)).astype("float32")
UNIT = (IMAGES / 255).astype("float32")

CASES = [
    ("RandomSharpness", {"factor": (0.1, 0.9)}, IMAGES),
    ("RandomHue", {"factor": 0.8}, IMAGES),
    ("RandomHue", {"factor": (0.2, 0.6), "value_range": (0, 1)}, UNIT),
    ("RandomSaturation", {"factor": (0.2, 0.9)}, UNIT),
    ("RandomGaussianBlur", {"factor": (0.8, 1.0), "kernel_size": (3, 5), "sigma": (0.3, 0.9)},
     IMAGES),
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
def test_identity_at_inference_and_keras_transform_when_training(name, kw, x):
    out = check_against_keras(getattr(layers, name)(**kw), getattr(keras().layers, name)(**kw), x)
    np.testing.assert_array_equal(out, x)
    if kw is next(k for n, k, _ in CASES if n == name):        # the harness once per layer
        run_layer_test(lambda: getattr(layers, name)(**kw), (None, 8, 8, 3))
    layer, klayer = getattr(layers, name)(**kw), getattr(keras().layers, name)(**kw)
    ours, theirs = training_call(layer), keras_transform(klayer)
    for seed in range(2):
        key = jax.random.key(seed)
        got = ours(x, key)
        drawn = jax.tree_util.tree_map(np.asarray, layer.get_random_transformation(x, key))
        want = theirs(x, drawn)
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)
        assert not np.allclose(got, x)


def test_transforms_by_hand():
    key = jax.random.key(0)
    # sharpness 0.5 is the identity; 0 is the 3x3 smoothing, zero-padded
    same = trained(layers.RandomSharpness((0.5, 0.5)), IMAGES, key)
    np.testing.assert_allclose(same, IMAGES, rtol=1e-5, atol=1e-3)
    smooth = trained(layers.RandomSharpness((0.0, 0.0)), IMAGES, key)
    padded = np.pad(IMAGES, ((0, 0), (1, 1), (1, 1), (0, 0)))
    box = sum(padded[:, i:i + 8, j:j + 8] for i in range(3) for j in range(3))
    np.testing.assert_allclose(smooth, (box + 4 * IMAGES) / 13, rtol=1e-5, atol=1e-3)
    # saturation 0 turns every pixel gray at its value (the channels' max)
    gray = trained(layers.RandomSaturation((0.0, 0.0)), UNIT, key)
    np.testing.assert_allclose(gray, np.broadcast_to(UNIT.max(-1, keepdims=True), UNIT.shape),
                               rtol=1e-6, atol=1e-6)
    # a hue turn of a third of a circle moves red to green to blue
    pure = np.eye(3, dtype="float32")[None, None]          # (1, 1, 3, 3): red, green, blue
    hue = jax.jit(layers.RandomHue(0.1).transform_images)
    turned = hue(pure, {"factor": np.full((1,), 1 / 3, "float32")})
    np.testing.assert_allclose(turned, np.roll(pure, 1, axis=-1), rtol=1e-5, atol=1e-5)


def test_color_jitter_matches_keras_where_its_draws_are_fixed():
    kw = {"value_range": (0, 1), "brightness_factor": (0.1, 0.1), "contrast_factor": 0.0,
          "saturation_factor": (0.3, 0.3), "hue_factor": 0.0}
    layer = layers.RandomColorJitter(**kw)
    got = trained(layer, UNIT, jax.random.key(1))
    klayer = keras().layers.RandomColorJitter(**kw)
    klayer.build(UNIT.shape)
    state = [v.value for v in klayer.non_trainable_variables]        # its seed generators
    want = np.asarray(jax.jit(lambda s, x: klayer.stateless_call([], s, x, training=True)[0])(
        state, UNIT))
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    run_layer_test(lambda: layers.RandomColorJitter(**kw), (None, 8, 8, 3))


def test_errors():
    with pytest.raises(ValueError, match="blur.*kernel_size must be an odd"):
        layers.RandomGaussianBlur(kernel_size=4, name="blur")
    with pytest.raises(ValueError, match="sharp.*factor must be"):
        layers.RandomSharpness(1.5, name="sharp")
    with pytest.raises(ValueError, match="hue.*expects 3 channels"):
        layers.RandomHue(0.2, name="hue")(gn.Input((8, 8, 1)))
    with pytest.raises(ValueError, match="jitter.*expects 3 channels"):
        layers.RandomColorJitter(hue_factor=0.2, name="jitter")(gn.Input((8, 8, 4)))
