"""MixUp and CutMix against Keras 3: unchanged at inference; when training, graphnet's drawn
transformation fed to Keras's `transform_images` (and `transform_labels`) must give
graphnet's output, which must also equal a NumPy formula for that draw."""
import jax
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import check_against_keras, keras, run_layer_test

rng = np.random.default_rng(5)
IMAGES = rng.uniform(0, 255, size=(4, 6, 5, 3)).astype("float32")
MANY = rng.uniform(0, 1, size=(1024, 3, 2, 1)).astype("float32")   # many draws, one compile
LABELS = np.eye(3, dtype="float32")[rng.integers(0, 3, size=len(MANY))]


def training_call(layer):
    """The training output and the transformation it drew, as one compiled function."""
    run = jax.jit(lambda x, key: (layer.call({}, {}, x, training=True, rng=key)[0],
                                  layer.get_random_transformation(x, key)))
    return lambda x, key: jax.tree_util.tree_map(np.asarray, run(x, key))


def check_draws(layer, klayer):
    """Two draws on MANY: graphnet's output is Keras's `transform_images` of graphnet's draw,
    and the labels mix as Keras's `transform_labels`. Returns the draws."""
    ours = training_call(layer)
    theirs = jax.jit(lambda x, t: klayer.transform_images(x, t, training=True))
    draws = []
    for seed in range(2):
        got, t = ours(MANY, jax.random.key(seed))
        np.testing.assert_allclose(got, theirs(MANY, t), rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(layer.transform_labels(LABELS, t),
                                   klayer.transform_labels(LABELS, t), rtol=1e-6, atol=1e-6)
        assert sorted(t["permutation_order"]) == list(range(len(MANY)))
        assert not np.allclose(got, MANY)
        draws.append((got, t))
    again, _ = ours(MANY, jax.random.key(0))
    np.testing.assert_array_equal(again, draws[0][0])             # same key, same draw
    assert layer.batch_dependent
    return draws


def test_mix_up_matches_keras():
    layer, klayer = layers.MixUp(alpha=0.4), keras().layers.MixUp(alpha=0.4)
    # Keras's predict draws a Beta even at inference (slow to compile): its inference
    # transform is checked directly instead
    out = gn.Model(x := gn.Input((6, 5, 3)), layer(x)).predict(IMAGES, verbose=0)
    np.testing.assert_array_equal(out, IMAGES)
    np.testing.assert_array_equal(klayer.transform_images(IMAGES, None, training=False), IMAGES)
    for got, t in check_draws(layer, klayer):
        w = t["mix_weight"].reshape(-1, 1, 1, 1)
        np.testing.assert_allclose(got, w * MANY + (1 - w) * MANY[t["permutation_order"]],
                                   rtol=1e-5, atol=1e-6)
        # Beta(a, a): mean 1/2, variance 1 / (4 (2a + 1)); 1024 draws
        assert abs(w.mean() - 0.5) < 0.05 and abs(w.var() - 1 / 7.2) < 0.03


def test_cut_mix_matches_keras():
    layer, klayer = layers.CutMix(factor=(0.5, 1.0)), keras().layers.CutMix(factor=(0.5, 1.0))
    np.testing.assert_array_equal(check_against_keras(layer, klayer, IMAGES), IMAGES)
    for got, t in check_draws(layer, klayer):
        masks = t["batch_masks"]
        np.testing.assert_array_equal(got, np.where(masks, MANY[t["permutation_order"]], MANY))
        # each mask is a box, the same on every channel; its weight is at most 1
        rows, cols = masks.any(2)[..., 0], masks.any(1)[..., 0]
        np.testing.assert_array_equal(masks[..., 0], rows[:, :, None] & cols[:, None, :])
        assert (t["mix_weight"] <= 1).all() and masks.any()


def test_cut_mix_boxes_by_hand_and_against_keras():
    corners = [np.array(c, "float32") for c in ([0.5, 0.0], [2.5, 1.0], [1.2, 0.0], [3.0, 0.5])]
    masks, weight = layers.image_mixing.box_masks((2, 4, 3, 2), corners)
    want = np.zeros((2, 4, 3, 2), bool)
    want[0, 2:3, 1:3] = True            # rows y in [1.2, 3), columns x in [0.5, 2.5)
    want[1, 0:1, 0:1] = True            # rows [0, 0.5), columns [0, 1)
    np.testing.assert_array_equal(masks, want)
    np.testing.assert_allclose(np.ravel(weight), [1 - 2 * 1.8 / 12, 1 - 0.5 / 12],
                               rtol=1e-6, atol=1e-6)
    kmasks, kweight = keras().layers.CutMix()._generate_batch_mask((2, 4, 3, 2), corners)
    np.testing.assert_array_equal(masks, kmasks)
    np.testing.assert_allclose(weight, kweight, rtol=1e-6, atol=1e-6)
    # one image: unchanged, as in Keras
    layer = layers.CutMix()
    one = jax.jit(lambda x, key: layer.call({}, {}, x, training=True, rng=key)[0])
    one = one(IMAGES[0], jax.random.key(0))
    np.testing.assert_array_equal(one, IMAGES[0])


def test_harness_and_errors():
    run_layer_test(lambda: layers.MixUp(), (None, 6, 5, 3))
    run_layer_test(lambda: layers.CutMix(0.5), (None, 6, 5, 3))
    with pytest.raises(ValueError, match="mix.*alpha must be a number above 0"):
        layers.MixUp(alpha=0, name="mix")
    with pytest.raises(ValueError, match="cut.*factor must be"):
        layers.CutMix(1.5, name="cut")
    layer = layers.MixUp(name="mix")
    with pytest.raises(NotImplementedError, match="mix.*one image"):
        layer.call({}, {}, IMAGES[0], training=True, rng=jax.random.key(0))
    with pytest.raises(NotImplementedError, match="cut.*'labels' is not supported"):
        layers.CutMix(name="cut").call({}, {}, {"images": IMAGES, "labels": LABELS[:4]},
                                       training=True, rng=jax.random.key(0))
    # dtypes as Keras's: CutMix casts to float32 even at inference, MixUp only when training
    pixels = np.full((2, 4, 4, 3), 7, "uint8")
    for name in ("MixUp", "CutMix"):
        out = gn.Model(x := gn.Input((4, 4, 3), dtype="uint8"),
                       getattr(layers, name)()(x)).predict(pixels, verbose=0)
        want = getattr(keras().layers, name)().transform_images(pixels, None, training=False)
        assert out.dtype == np.asarray(want).dtype, name
        np.testing.assert_array_equal(out, want)
    with pytest.raises(ValueError, match="mix.*expects images"):
        layers.MixUp(name="mix")(gn.Input((3,)))
