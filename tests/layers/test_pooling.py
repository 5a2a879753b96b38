"""Pooling layers against NumPy loops and Keras 3."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphnet as gn
from graphnet import layers
from harness import check_against_keras, config_round_trip, keras, predict


def loops_pool(x, size, strides, padding, kind):
    """Windows by loops; "same" windows hold only real elements (TF/Keras semantics)."""
    n = x.shape[1:-1]
    if padding == "same":
        out = [-(-m // s) for m, s in zip(n, strides)]
        before = [max((o - 1) * s + k - m, 0) // 2 for o, s, k, m in zip(out, strides, size, n)]
    else:
        out = [(m - k) // s + 1 for m, k, s in zip(n, size, strides)]
        before = [0] * len(n)
    result = np.zeros((x.shape[0], *out, x.shape[-1]))
    for pos in np.ndindex(*out):
        window = tuple(slice(max(p * s - b, 0), min(p * s - b + k, m))
                       for p, s, b, k, m in zip(pos, strides, before, size, n))
        patch = x[(slice(None), *window)].reshape(x.shape[0], -1, x.shape[-1])
        result[(slice(None), *pos)] = patch.max(1) if kind == "max" else patch.mean(1)
    return result


@settings(max_examples=12, deadline=None)
@given(st.sampled_from(["MaxPooling1D", "AveragePooling1D", "MaxPooling2D", "AveragePooling2D"]),
       st.integers(1, 3), st.one_of(st.none(), st.integers(1, 3)), st.sampled_from(["valid", "same"]),
       st.integers(0, 1000))
def test_pooling_matches_loops(name, size, stride, padding, seed):
    rank = 1 if name.endswith("1D") else 2
    x = np.random.default_rng(seed).normal(size=(2, *(7,) * rank, 3)).astype("float32")
    layer = getattr(layers, name)(pool_size=size, strides=stride, padding=padding)
    kind = "max" if name.startswith("Max") else "average"
    want = loops_pool(x, (size,) * rank, (stride or size,) * rank, padding, kind)
    np.testing.assert_allclose(predict(layer, x), want, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name,keepdims", [("GlobalMaxPooling1D", False), ("GlobalAveragePooling1D", True),
                                           ("GlobalMaxPooling2D", True), ("GlobalAveragePooling2D", False)])
def test_global_pooling_matches_numpy(name, keepdims):
    rank = 1 if name.endswith("1D") else 2
    x = np.random.default_rng(1).normal(size=(3, *(5,) * rank, 4)).astype("float32")
    axes = tuple(range(1, rank + 1))
    want = (x.max if "Max" in name else x.mean)(axis=axes, keepdims=keepdims)
    np.testing.assert_allclose(predict(getattr(layers, name)(keepdims=keepdims), x), want,
                               rtol=1e-6, atol=1e-6)


KERAS_CASES = [
    ("MaxPooling2D", dict(pool_size=3, strides=1, padding="same")),
    ("AveragePooling2D", dict(pool_size=3, strides=2, padding="same")),
    ("AveragePooling2D", dict(pool_size=2)),
    ("MaxPooling1D", dict(pool_size=3, strides=2, padding="same")),
    ("AveragePooling1D", dict(pool_size=2, padding="same")),
    ("GlobalMaxPooling2D", dict()),
    ("GlobalAveragePooling2D", dict(keepdims=True)),
    ("GlobalAveragePooling1D", dict()),
    ("GlobalMaxPooling1D", dict(keepdims=True)),
]


@pytest.mark.parametrize("name,kwargs", KERAS_CASES)
def test_against_keras_and_config(name, kwargs):
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 7, 6, 3) if "2D" in name else (2, 9, 3)).astype("float32")
    layer = getattr(layers, name)(**kwargs)
    check_against_keras(layer, getattr(keras().layers, name)(**kwargs), x)
    config_round_trip(layer)


def test_masked_global_average_pooling_1d_averages_unmasked_steps():
    ids = np.array([[1, 2, 0, 0], [3, 0, 0, 0]], "int32")
    i = gn.Input((4,), dtype="int32")
    emb = layers.Embedding(5, 3, mask_zero=True)
    model = gn.Model(i, layers.GlobalAveragePooling1D()(emb(i)))
    table = emb.get_weights()[0]
    want = np.stack([table[[1, 2]].mean(0), table[[3]].mean(0)])
    np.testing.assert_allclose(model.predict(ids), want, rtol=1e-6)


@pytest.mark.parametrize("name", ["MaxPooling1D", "AveragePooling2D", "GlobalMaxPooling2D",
                                  "GlobalAveragePooling1D"])
def test_wrong_rank_names_the_layer(name):
    pool_size = (2,) if name.startswith("Average") else ()     # Keras: no default there
    layer = getattr(layers, name)(*pool_size, name="the_pool")
    bad = (4, 4, 4, 2) if "1D" not in name else (4, 4, 2)
    bad = (4, 2) if "2D" in name else bad
    with pytest.raises(ValueError, match=r"the_pool.*rank"):
        layer(gn.Input(bad))


def test_pool_too_small_and_bad_padding():
    with pytest.raises(ValueError, match="tiny_pool.*too small"):
        layers.MaxPooling2D(3, name="tiny_pool")(gn.Input((2, 2, 1)))
    with pytest.raises(ValueError, match="padding"):
        layers.MaxPooling2D(padding="full")


@pytest.mark.parametrize("name,kwargs", [
    ("MaxPooling3D", dict(pool_size=2)), ("AveragePooling3D", dict(pool_size=(1, 2, 2),
                                                                   padding="same")),
    ("GlobalMaxPooling3D", dict()), ("GlobalAveragePooling3D", dict(keepdims=True))])
def test_3d_pooling_against_loops_and_keras(name, kwargs):
    from harness import run_layer_test
    x = np.random.default_rng(5).normal(size=(2, 4, 5, 3, 2)).astype("float32")
    out = check_against_keras(getattr(layers, name)(**kwargs),
                              getattr(keras().layers, name)(**kwargs), x)
    if not name.startswith("Global"):
        size = kwargs["pool_size"]
        size = (size,) * 3 if isinstance(size, int) else size
        kind = "max" if "Max" in name else "average"
        want = loops_pool(x, size, size, kwargs.get("padding", "valid"), kind)
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-6)
    run_layer_test(lambda: getattr(layers, name)(**kwargs), (None, 4, 5, 3, 2))


def test_keras_aliases_are_the_same_classes():
    assert layers.MaxPool2D is layers.MaxPooling2D and layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalAvgPool2D is layers.GlobalAveragePooling2D
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D
    assert layers.Convolution2D is layers.Conv2D
    k = keras().layers
    for name in ("MaxPool2D", "AvgPool3D", "GlobalAvgPool1D", "GlobalMaxPool3D", "Convolution1D"):
        assert getattr(layers, name).__name__ == getattr(k, name).__name__
