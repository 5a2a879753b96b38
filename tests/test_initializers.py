"""Initializers: Keras's formulas checked by their statistics, Keras's fans, and seeding."""
import math

import keras
import numpy as np
import pytest
from keras.src.initializers.random_initializers import compute_fans as keras_fans

import graphnet as gn
from graphnet import initializers, layers

TRUNC_STD = 0.87962566103423978      # std of a unit normal truncated to [-2, 2]


@pytest.mark.parametrize("shape", [(5,), (7, 3), (3, 3, 16, 32), (5, 8, 4), (2, 2, 2, 3, 4), ()])
def test_fans_match_keras(shape):
    assert initializers.compute_fans(shape) == keras_fans(shape)


UNIFORM = {  # name: limit from (fan_in, fan_out)
    "glorot_uniform": lambda i, o: math.sqrt(6 / (i + o)),
    "he_uniform": lambda i, o: math.sqrt(6 / i),
    "lecun_uniform": lambda i, o: math.sqrt(3 / i),
}
NORMAL = {   # name: target std (the std of the truncated draws) from (fan_in, fan_out)
    "glorot_normal": lambda i, o: math.sqrt(2 / (i + o)),
    "he_normal": lambda i, o: math.sqrt(2 / i),
    "lecun_normal": lambda i, o: math.sqrt(1 / i),
}
SHAPES = [(400, 300), (3, 3, 32, 64)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(UNIFORM))
def test_uniform_variance_scaling_statistics(name, shape):
    w = np.asarray(initializers.get(name)(shape, "float32", np.random.default_rng(0)))
    ref = np.asarray(keras.initializers.get(name)(shape))
    limit = UNIFORM[name](*initializers.compute_fans(shape))
    assert w.shape == shape and w.dtype == np.float32
    assert np.abs(w).max() <= limit and np.abs(ref).max() <= limit * (1 + 1e-6)
    # Uniform(-l, l) has std l / sqrt(3); n >= 120,000 draws keep the estimate within 1%.
    np.testing.assert_allclose(w.std(), limit / math.sqrt(3), rtol=0.01)
    np.testing.assert_allclose(w.std(), ref.std(), rtol=0.02)
    assert abs(w.mean()) < 0.01 * limit


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("name", sorted(NORMAL))
def test_truncated_normal_variance_scaling_statistics(name, shape):
    w = np.asarray(initializers.get(name)(shape, "float32", np.random.default_rng(0)))
    ref = np.asarray(keras.initializers.get(name)(shape))
    std = NORMAL[name](*initializers.compute_fans(shape))
    # Truncated at 2 stddev of the underlying normal, whose stddev is std / 0.8796.
    bound = 2 * std / TRUNC_STD
    assert np.abs(w).max() <= bound * (1 + 1e-6) and np.abs(ref).max() <= bound * (1 + 1e-6)
    assert np.abs(w).max() > 0.95 * bound
    np.testing.assert_allclose(w.std(), std, rtol=0.01)
    np.testing.assert_allclose(w.std(), ref.std(), rtol=0.02)


def test_variance_scaling_default_and_untruncated():
    vs = initializers.get("variance_scaling")
    assert (vs.scale, vs.mode, vs.distribution) == (1.0, "fan_in", "truncated_normal")
    assert initializers.VarianceScaling(distribution="normal").distribution == "truncated_normal"
    w = np.asarray(initializers.VarianceScaling(2.0, "fan_out", "untruncated_normal")(
        (200, 500), "float32", np.random.default_rng(1)))
    np.testing.assert_allclose(w.std(), math.sqrt(2 / 500), rtol=0.01)
    assert np.abs(w).max() > 3 * math.sqrt(2 / 500)    # not truncated


def test_random_normal_uniform_truncated_defaults_match_keras():
    rng = np.random.default_rng(0)
    shape = (300, 400)
    n = np.asarray(initializers.get("random_normal")(shape, "float32", rng))
    np.testing.assert_allclose([n.mean(), n.std()], [0, 0.05], atol=0.0005)
    u = np.asarray(initializers.get("random_uniform")(shape, "float32", rng))
    assert u.min() >= -0.05 and u.max() <= 0.05
    np.testing.assert_allclose(u.std(), 0.1 / math.sqrt(12), rtol=0.01)
    t = np.asarray(initializers.get("truncated_normal")(shape, "float32", rng))
    assert np.abs(t).max() <= 0.1 * (1 + 1e-6)
    np.testing.assert_allclose(t.std(), 0.05 * TRUNC_STD, rtol=0.01)
    for name, attrs in {"random_normal": ("mean", "stddev"), "random_uniform": ("minval", "maxval"),
                        "truncated_normal": ("mean", "stddev")}.items():
        theirs = keras.initializers.get(name).get_config()
        ours = initializers.get(name).get_config()
        assert [ours[a] for a in attrs] == [theirs[a] for a in attrs]


@pytest.mark.parametrize("shape", [(6, 6), (10, 4), (4, 10), (3, 3, 4, 8)])
@pytest.mark.parametrize("gain", [1.0, 2.0])
def test_orthogonal_is_orthogonal(shape, gain):
    w = np.asarray(initializers.Orthogonal(gain=gain)(shape, "float32", np.random.default_rng(2)))
    m = w.reshape(-1, shape[-1]) / gain
    small = min(m.shape)
    gram = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-5)


def test_constant_zeros_ones_identity():
    rng = np.random.default_rng(0)
    np.testing.assert_array_equal(initializers.get("zeros")((2, 3), "float32", rng), 0)
    np.testing.assert_array_equal(initializers.get("ones")((2, 3), "float32", rng), 1)
    np.testing.assert_array_equal(initializers.Constant(2.5)((4,), "float32", rng), 2.5)
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((3, 4), "float32", rng),
                                  3 * np.eye(3, 4))


def test_seeded_initializer_repeats_itself():
    a = initializers.GlorotUniform(seed=5)((4, 3))
    b = initializers.GlorotUniform(seed=5)((4, 3))
    c = initializers.GlorotUniform(seed=6)((4, 3))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def build_weights():
    x = gn.Input((5,))
    h = layers.Dense(8, activation="relu")(x)
    model = gn.Model(x, layers.Dense(3, kernel_initializer="he_normal",
                                     bias_initializer="random_normal")(h))
    return model.get_weights()


def test_set_random_seed_makes_weights_repeat():
    gn.utils.set_random_seed(11)
    first = build_weights()
    gn.utils.set_random_seed(11)
    again = build_weights()
    gn.utils.set_random_seed(12)
    other = build_weights()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], other[0])


def test_set_random_seed_type_check():
    with pytest.raises(TypeError, match="set_random_seed expects an int"):
        gn.utils.set_random_seed("1")


def test_unknown_initializer_lists_valid_names():
    with pytest.raises(ValueError, match=r"Unknown initializer 'glorot'; valid initializers are: "
                                         r".*glorot_normal, glorot_uniform.*he_normal.*zeros"):
        initializers.get("glorot")
    with pytest.raises(ValueError, match="Unknown initializer 'nope'"):
        layers.Dense(3, kernel_initializer="nope")


def test_serialize_round_trip():
    for name in initializers.INITIALIZERS:
        init = initializers.get(name)
        again = initializers.get(initializers.serialize(init))
        assert type(again) is type(init) and again.get_config() == init.get_config()


def test_callable_initializer_keras_style():
    init = initializers.get(lambda shape, dtype: np.full(shape, 7.0))
    np.testing.assert_array_equal(init((2, 2), "float32"), 7.0)
