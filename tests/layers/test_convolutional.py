"""Convolution layers against NumPy loops and against Keras 3 with the same weights."""
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphnet as gn
from graphnet import layers
from harness import check_against_keras, config_round_trip, keras, predict, run_layer_test

FAST = settings(max_examples=10, deadline=None)


def loops_conv2d(x, kernel, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """Direct loops; "same" pads (total // 2) before and the rest after, as TF/Keras."""
    (kh, kw), (sh, sw), (dh, dw) = kernel.shape[:2], strides, dilation
    span_h, span_w = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    if padding == "same":
        pads = []
        for n, s, span in ((x.shape[1], sh, span_h), (x.shape[2], sw, span_w)):
            total = max((-(-n // s) - 1) * s + span - n, 0)
            pads.append((total // 2, total - total // 2))
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    oh, ow = (x.shape[1] - span_h) // sh + 1, (x.shape[2] - span_w) // sw + 1
    out = np.zeros((x.shape[0], oh, ow, kernel.shape[-1]))
    for b in range(x.shape[0]):
        for i in range(oh):
            for j in range(ow):
                for a in range(kh):
                    for c in range(kw):
                        out[b, i, j] += x[b, i * sh + a * dh, j * sw + c * dw] @ kernel[a, c]
    return out


def loops_depthwise(x, kernel, strides=(1, 1), padding="valid"):
    """Each input channel c through its own filters m: output channel c * multiplier + m."""
    channels, multiplier = kernel.shape[2:]
    parts = [loops_conv2d(x[..., c:c + 1], kernel[:, :, c:c + 1, :], strides, padding)
             for c in range(channels)]
    return np.concatenate(parts, axis=-1)


def loops_conv_transpose(x, kernel, strides, padding):
    """Scatter each input pixel through the kernel (kh, kw, out, in), then crop as the
    adjoint of the forward conv ("valid": nothing; "same": output n * s)."""
    (kh, kw), (sh, sw) = kernel.shape[:2], strides
    n_h, n_w = x.shape[1:3]
    full = np.zeros((x.shape[0], (n_h - 1) * sh + max(kh, sh), (n_w - 1) * sw + max(kw, sw),
                     kernel.shape[2]))
    for i in range(n_h):
        for j in range(n_w):
            for a in range(kh):
                for c in range(kw):
                    full[:, i * sh + a, j * sw + c] += x[:, i, j] @ kernel[a, c].T
    if padding == "valid":
        return full
    crop_h, crop_w = max(kh - sh, 0) // 2, max(kw - sw, 0) // 2
    return full[:, crop_h:crop_h + n_h * sh, crop_w:crop_w + n_w * sw]


def data(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


@FAST
@given(st.integers(1, 3), st.integers(1, 3), st.integers(1, 2), st.sampled_from(["valid", "same"]),
       st.integers(1, 2), st.integers(0, 1000))
def test_conv2d_matches_loops(kh, kw, stride, padding, dilation, seed):
    dilation = 1 if stride > 1 else dilation
    layer = layers.Conv2D(3, (kh, kw), strides=stride, padding=padding, dilation_rate=dilation,
                          use_bias=False)
    x = data((2, 6, 5, 2), seed)
    got = predict(layer, x)
    want = loops_conv2d(x, layer.get_weights()[0], (stride,) * 2, padding, (dilation,) * 2)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_conv1d_is_conv2d_on_one_row_and_causal_pads_left():
    x = data((2, 9, 3))
    layer = layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu")
    got = predict(layer, x)
    kernel, bias = layer.get_weights()
    padded = np.pad(x, [(0, 0), (4, 0), (0, 0)])
    want = loops_conv2d(padded[:, None], kernel[None], dilation=(1, 2))[:, 0] + bias
    np.testing.assert_allclose(got, np.maximum(want, 0), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("stride,padding", [(1, "valid"), (2, "same"), (1, "same")])
def test_depthwise_matches_loops(stride, padding):
    layer = layers.DepthwiseConv2D(3, strides=stride, padding=padding, depth_multiplier=2)
    x = data((2, 6, 6, 3))
    got = predict(layer, x)
    kernel, bias = layer.get_weights()
    np.testing.assert_allclose(got, loops_depthwise(x, kernel, (stride,) * 2, padding) + bias,
                               rtol=1e-5, atol=1e-5)


def test_separable_is_depthwise_then_pointwise():
    layer = layers.SeparableConv2D(4, 3, padding="same", depth_multiplier=2)
    x = data((2, 5, 5, 3))
    layer_out = predict(layer, x)
    depthwise, pointwise, bias = layer.get_weights()
    inner = loops_depthwise(x, depthwise, padding="same")
    np.testing.assert_allclose(layer_out, inner @ pointwise[0, 0] + bias, rtol=1e-5, atol=1e-5)


@FAST
@given(st.integers(1, 4), st.integers(1, 3), st.sampled_from(["valid", "same"]), st.integers(0, 1000))
def test_conv_transpose_matches_scatter_loops(k, stride, padding, seed):
    layer = layers.Conv2DTranspose(2, (k, 3), strides=stride, padding=padding, use_bias=False)
    x = data((2, 4, 3, 3), seed)
    got = predict(layer, x)
    want = loops_conv_transpose(x, layer.get_weights()[0], (stride, stride), padding)
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


KERAS_CASES = [
    ("Conv2D", dict(filters=4, kernel_size=3)),
    ("Conv2D", dict(filters=4, kernel_size=(3, 2), strides=2, padding="same", activation="relu")),
    ("Conv2D", dict(filters=4, kernel_size=3, dilation_rate=2, padding="same", groups=2)),
    ("Conv1D", dict(filters=4, kernel_size=3, padding="causal", dilation_rate=2)),
    ("Conv1D", dict(filters=4, kernel_size=2, strides=2, padding="same", use_bias=False)),
    ("DepthwiseConv2D", dict(kernel_size=3, depth_multiplier=2, strides=2, padding="same")),
    ("SeparableConv2D", dict(filters=5, kernel_size=3, depth_multiplier=2, padding="same")),
    ("Conv2DTranspose", dict(filters=3, kernel_size=3, strides=2, padding="same")),
    ("Conv2DTranspose", dict(filters=2, kernel_size=(3, 2), strides=(2, 1), padding="valid")),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, strides=2, padding="same", output_padding=1)),
    ("Conv2DTranspose", dict(filters=2, kernel_size=3, padding="same", dilation_rate=2)),
]


@pytest.mark.parametrize("name,kwargs", KERAS_CASES)
def test_against_keras_both_ways(name, kwargs):
    x = data((2, 7, 6, 4)) if name != "Conv1D" else data((2, 9, 4))
    layer = getattr(layers, name)(**kwargs)
    check_against_keras(layer, getattr(keras().layers, name)(**kwargs), x)
    config_round_trip(layer)


@pytest.mark.parametrize("name,kwargs", KERAS_CASES)
def test_config_round_trip_unbuilt(name, kwargs):
    clone = config_round_trip(getattr(layers, name)(**kwargs, name=f"c_{name.lower()}"))
    for key, value in kwargs.items():
        got = clone.get_config()[key]
        assert got == value or got == [value] * len(got) or tuple(got) == tuple(value)


@pytest.mark.parametrize("name,args", [("Conv2D", (4, 3)), ("Conv1D", (4, 3)),
                                       ("DepthwiseConv2D", (3,)), ("SeparableConv2D", (4, 3)),
                                       ("Conv2DTranspose", (4, 3))])
def test_wrong_rank_and_channels_name_the_layer(name, args):
    layer = getattr(layers, name)(*args, name="the_conv")
    rank = 1 if name == "Conv1D" else 2
    layer(gn.Input((8,) * rank + (3,)))
    with pytest.raises(ValueError, match=r"the_conv.*rank"):
        layer(gn.Input((8,) * (rank + 1) + (3,)))
    with pytest.raises(ValueError, match=r"the_conv.*3 input channels.*\(None, "
                       + ", ".join(["8"] * rank) + r", 5\)"):
        layer(gn.Input((8,) * rank + (5,)))
    first_fresh = getattr(layers, name)(*args, name="fresh_conv")
    with pytest.raises(ValueError, match=r"fresh_conv.*rank"):
        first_fresh(gn.Input((8,)))


def test_set_weights_wrong_shape_names_layer_weight_and_shapes():
    layer = layers.Conv2D(4, 3, name="c2")
    layer(gn.Input((5, 5, 2)))
    with pytest.raises(ValueError, match=r"c2.*'kernel'.*\(3, 3, 2, 4\).*\(3, 3, 4, 2\)"):
        layer.set_weights([np.zeros((3, 3, 4, 2), "float32"), np.zeros(4, "float32")])


def test_too_small_input_and_bad_arguments_are_errors():
    with pytest.raises(ValueError, match="small_conv.*too small"):
        layers.Conv2D(2, 5, name="small_conv")(gn.Input((3, 3, 1)))
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="channels-last"):
        layers.Conv2D(2, 3, data_format="channels_first")
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="kernel_size"):
        layers.Conv2D(2, (3, 3, 3))


def test_unknown_spatial_sizes_stay_unknown():
    out = layers.Conv2D(4, 3, strides=2, padding="same")(gn.Input((None, 9, 2)))
    assert out.shape == (None, None, 5, 4)


# ---- Conv3D, Conv1DTranspose, Conv3DTranspose: the same ops.conv at other ranks ------------
RANK_CASES = [
    ("Conv3D", dict(filters=2, kernel_size=2), (2, 4, 4, 3, 2)),
    ("Conv3D", dict(filters=2, kernel_size=(1, 2, 2), strides=2, padding="same"), (2, 4, 5, 3, 2)),
    ("Conv1DTranspose", dict(filters=3, kernel_size=3, strides=2), (2, 5, 2)),
    ("Conv1DTranspose", dict(filters=3, kernel_size=2, strides=2, padding="same"), (2, 5, 2)),
    ("Conv3DTranspose", dict(filters=2, kernel_size=2, strides=2), (2, 2, 3, 2, 2)),
]


@pytest.mark.parametrize("name,kw,shape", RANK_CASES, ids=[f"{c[0]}-{c[1]}" for c in RANK_CASES])
def test_other_ranks_against_keras(name, kw, shape):
    x = np.random.default_rng(3).normal(size=shape).astype("float32")
    check_against_keras(getattr(layers, name)(**kw), getattr(keras().layers, name)(**kw), x,
                        weights="random")
    run_layer_test(lambda: getattr(layers, name)(**kw), (None, *shape[1:]),
                   expected_num_weights=2)


def test_conv3d_against_loops():
    x = np.random.default_rng(1).normal(size=(1, 3, 3, 3, 2)).astype("float32")
    layer = layers.Conv3D(2, 2)
    out = predict(layer, x)
    kernel, bias = layer.get_weights()
    want = np.zeros((1, 2, 2, 2, 2))
    for d, r, c in np.ndindex(2, 2, 2):
        want[0, d, r, c] = np.einsum("ijkc,ijkcf->f", x[0, d:d + 2, r:r + 2, c:c + 2], kernel)
    np.testing.assert_allclose(out, want + bias, rtol=1e-5, atol=1e-6)


CASES_1D_SEPARABLE = [
    ("DepthwiseConv1D", (3,), dict(depth_multiplier=2)),
    ("DepthwiseConv1D", (2,), dict(strides=2, padding="same", use_bias=False)),
    ("SeparableConv1D", (4, 3), dict(depth_multiplier=2, activation="relu")),
    ("SeparableConv1D", (3, 2), dict(dilation_rate=2, padding="same")),
]


@pytest.mark.parametrize("name,args,kw", CASES_1D_SEPARABLE,
                         ids=[f"{n}-{sorted(k)}" for n, _, k in CASES_1D_SEPARABLE])
def test_1d_depthwise_and_separable_through_the_harness_with_keras(name, args, kw):
    run_layer_test(lambda: getattr(layers, name)(*args, **kw), (None, 7, 3),
                   keras_layer=lambda: getattr(keras().layers, name)(*args, **kw))


def test_depthwise_conv1d_by_hand():
    x = np.random.default_rng(6).normal(size=(2, 5, 2)).astype("float32")
    layer = layers.DepthwiseConv1D(2, depth_multiplier=2, use_bias=False)
    model = gn.Model(inp := gn.Input((5, 2)), layer(inp))
    kernel = np.random.default_rng(7).normal(size=(2, 2, 2)).astype("float32")  # (k, in, mult)
    layer.set_weights([kernel])
    want = np.zeros((2, 4, 4), "float32")
    for c in range(2):
        for m in range(2):      # output channel c * multiplier + m, as Keras orders them
            want[:, :, c * 2 + m] = x[:, :-1, c] * kernel[0, c, m] + x[:, 1:, c] * kernel[1, c, m]
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="SeparableConv1D 'sep': depth_multiplier must be"):
        layers.SeparableConv1D(3, 2, depth_multiplier=0, name="sep")
