"""graphnet.ops against keras.ops: on arrays, and on symbolic tensors (graph nodes)."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, ops

RTOL = 1e-5
rng = np.random.default_rng(0)
X = rng.normal(size=(3, 4)).astype("float32")
Y = rng.normal(size=(3, 4)).astype("float32")
P = np.abs(X) + 0.1
IMG = rng.normal(size=(2, 6, 6, 3)).astype("float32")
KER = rng.normal(size=(3, 3, 3, 4)).astype("float32")
DKER = rng.normal(size=(3, 3, 3, 2)).astype("float32")
LABELS = np.array([0, 3, 1])
PROBS = np.asarray(keras.ops.softmax(X))

# (op name, positional args, keyword args): each runs through keras.ops and graphnet.ops.
CASES = [
    ("add", (X, Y), {}), ("subtract", (X, Y), {}), ("multiply", (X, 2.0), {}),
    ("divide", (X, P), {}), ("true_divide", (X, P), {}), ("power", (P, 1.5), {}),
    ("maximum", (X, Y), {}), ("minimum", (X, 0.0), {}), ("negative", (X,), {}),
    ("abs", (X,), {}), ("absolute", (X,), {}), ("sign", (X,), {}), ("exp", (X,), {}),
    ("log", (P,), {}), ("log1p", (P,), {}), ("expm1", (X,), {}), ("sqrt", (P,), {}),
    ("square", (X,), {}), ("reciprocal", (P,), {}), ("tanh", (X,), {}), ("sin", (X,), {}),
    ("cos", (X,), {}), ("floor", (X,), {}), ("ceil", (X,), {}), ("round", (X,), {}),
    ("clip", (X, -0.5, 0.5), {}), ("where", (X > 0, X, Y), {}), ("equal", (X, X), {}),
    ("not_equal", (X, Y), {}), ("less", (X, Y), {}), ("greater_equal", (X, Y), {}),
    ("logical_and", (X > 0, Y > 0), {}), ("logical_not", (X > 0,), {}),
    ("sum", (X,), {"axis": 1}), ("mean", (X,), {"axis": 1, "keepdims": True}),
    ("max", (X,), {"axis": 0}), ("min", (X,), {}), ("prod", (P,), {"axis": -1}),
    ("std", (X,), {"axis": 1}), ("var", (X,), {}), ("argmax", (X,), {"axis": -1}),
    ("argmin", (X,), {"axis": 0}), ("all", (X > -5,), {}), ("any", (X > 1,), {"axis": 1}),
    ("cumsum", (X,), {"axis": 1}), ("logsumexp", (X,), {"axis": -1}),
    ("reshape", (X, (4, 3)), {}), ("transpose", (X,), {}), ("expand_dims", (X, 1), {}),
    ("squeeze", (X[:, :1],), {"axis": 1}), ("concatenate", ([X, Y],), {"axis": -1}),
    ("stack", ([X, Y],), {"axis": 1}), ("tile", (X, (2, 1)), {}), ("repeat", (X, 2), {"axis": 0}),
    ("broadcast_to", (X[:1], (3, 4)), {}), ("flip", (X,), {"axis": 1}),
    ("roll", (X, 1), {"axis": 1}), ("swapaxes", (X, 0, 1), {}), ("take", (X, LABELS), {"axis": 1}),
    ("sort", (X,), {}), ("argsort", (X,), {}), ("tril", (X,), {}), ("triu", (X,), {"k": 1}),
    ("pad", (X, ((1, 0), (0, 2))), {}), ("matmul", (X, Y.T), {}), ("dot", (X, Y.T), {}),
    ("einsum", ("ij,kj->ik", X, Y), {}), ("tensordot", (X, Y.T), {"axes": 1}),
    ("outer", (X[0], Y[0]), {}), ("zeros_like", (X,), {}), ("ones_like", (X,), {}),
    ("arange", (0, 5), {}), ("linspace", (0.0, 1.0, 5), {}), ("eye", (3,), {}),
    ("full", ((2, 2), 3.0), {}), ("cast", (X, "int32"), {}), ("norm", (X,), {"axis": -1}),
    ("erf", (X,), {}), ("rsqrt", (P,), {}), ("top_k", (X, 2), {}),
    ("relu", (X,), {}), ("relu6", (X * 5,), {}), ("sigmoid", (X,), {}), ("softmax", (X,), {}),
    ("log_softmax", (X,), {"axis": 0}), ("softplus", (X,), {}), ("softsign", (X,), {}),
    ("silu", (X,), {}), ("swish", (X,), {}), ("gelu", (X,), {}),
    ("gelu", (X,), {"approximate": False}), ("elu", (X,), {}), ("selu", (X,), {}),
    ("leaky_relu", (X,), {}), ("hard_sigmoid", (X,), {}), ("log_sigmoid", (X,), {}),
    ("one_hot", (LABELS, 4), {}), ("normalize", (X,), {}),
    ("binary_crossentropy", (np.float32(X > 0), PROBS), {}),
    ("binary_crossentropy", (np.float32(X > 0), X), {"from_logits": True}),
    ("categorical_crossentropy", (np.eye(4, dtype="float32")[LABELS], PROBS), {}),
    ("categorical_crossentropy", (np.eye(4, dtype="float32")[LABELS], X), {"from_logits": True}),
    ("sparse_categorical_crossentropy", (LABELS, PROBS), {}),
    ("moments", (X,), {"axes": [0]}),
    ("conv", (IMG, KER), {"padding": "same"}), ("conv", (IMG, KER), {"strides": 2}),
    ("depthwise_conv", (IMG, DKER), {}), ("max_pool", (IMG, (2, 2)), {"strides": (2, 2)}),
    ("average_pool", (IMG, 3), {"strides": 1, "padding": "same"}),
]


TINY = np.array([[1e-8, 0.0, 0.0], [3.0, 4.0, 0.0]], "float32")   # a norm under epsilon
LABELS3 = np.arange(24).reshape(2, 3, 4) % 5
PKER = rng.normal(size=(1, 1, 6, 4)).astype("float32")
TKER = rng.normal(size=(3, 3, 2, 3)).astype("float32")          # (*k, out, in)
# Keras's numbers where graphnet's once differed: epsilon 1e-7, the reduced axis of
# multi_hot, padding and data_format read in any case.
CASES += [
    ("normalize", (TINY,), {}), ("normalize", (TINY,), {"order": 1}),
    ("normalize", (X,), {"axis": None}), ("normalize", (np.float32(3.0),), {}),
    ("normalize", (X,), {"order": 3, "axis": 0}),
    ("multi_hot", (LABELS3, 5), {}), ("multi_hot", (LABELS3, 5), {"axis": 1}),
    ("multi_hot", (LABELS3[0, 0], 5), {"axis": 0}), ("multi_hot", (np.array([0.5, 2.7]), 5), {}),
    ("sparse_categorical_crossentropy", (LABELS[:, None], X), {"from_logits": True}),
    ("conv", (IMG, KER), {"padding": "VALID", "data_format": "CHANNELS_LAST"}),
    ("depthwise_conv", (IMG, DKER), {"strides": 2, "padding": "Same"}),
    ("separable_conv", (IMG, DKER, PKER), {"padding": "SAME"}),
    ("max_pool", (IMG, (2, 2)), {"strides": (2, 2), "padding": "SAME"}),
    ("average_pool", (IMG, (3, 3)), {"strides": (2, 2), "padding": "Valid"}),
    ("conv_transpose", (IMG, TKER), {"strides": 2, "padding": "SAME"}),
]


@pytest.mark.parametrize("name,args,kwargs", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_op_on_arrays_matches_keras(name, args, kwargs):
    expected = getattr(keras.ops, name)(*args, **kwargs)
    got = getattr(ops, name)(*args, **kwargs)
    expected = list(expected) if isinstance(expected, (tuple, list)) else [expected]
    got = list(got) if isinstance(got, (tuple, list)) else [got]
    assert len(got) == len(expected)
    for e, g in zip(expected, got):
        e, g = np.asarray(e), np.asarray(g)
        assert e.shape == g.shape and e.dtype == g.dtype, (e.shape, g.shape, e.dtype, g.dtype)
        np.testing.assert_allclose(g, e, rtol=RTOL, atol=1e-6)


def test_shape_and_conversions():
    assert ops.shape(X) == (3, 4)
    inp = gn.Input((None, 4))
    assert ops.shape(inp) == (None, None, 4)
    assert ops.ndim(inp) == 3 and ops.dtype(inp) == "float32"
    assert isinstance(ops.convert_to_numpy(ops.convert_to_tensor([1.0, 2.0])), np.ndarray)
    assert ops.is_tensor(inp) and not ops.is_tensor(X)


def symbolic_pair(build_keras, build_graphnet, shapes):
    """A Keras and a graphnet model built by the same code on symbolic inputs."""
    k_in = [keras.Input(s) for s in shapes]
    g_in = [gn.Input(s) for s in shapes]
    return keras.Model(k_in, build_keras(*k_in)), gn.Model(g_in, build_graphnet(*g_in))


def test_ops_and_operators_on_symbolic_tensors_match_keras(tmp_path):
    def build(ops):
        def f(a, b):
            x = a + b
            x = x * 2 - 1.5
            x = x / 3 + (2 ** a) * 0 + a ** 2
            x = -x + ops.mean(a, axis=1, keepdims=True)
            x = ops.concatenate([x, ops.tanh(b)], axis=-1)
            x = x[:, 1:6] @ ops.ones((5, 2))
            return [x, ops.sum(a[..., 0:2], axis=-1), abs(b)[:, ::2]]
        return f
    k, g = symbolic_pair(build(keras.ops), build(ops), [(4,), (4,)])
    a, b = X, Y
    for e, o in zip(k.predict([a, b], verbose=0), g.predict([a, b])):
        np.testing.assert_allclose(o, e, rtol=RTOL, atol=1e-6)
    # each op is a node of the graph, named after the op, with shapes on its edges
    types = {type(n["layer"]).__name__ for _, n in g.graph.nodes(data=True)}
    assert "Operation" in types
    assert any(n.startswith("get_item") for n in g.graph.nodes)
    assert any(n.startswith("mean") for n in g.graph.nodes)
    assert "mean" in g.to_dot()
    # saved and loaded by op name
    g.save(tmp_path / "ops.graphnet")
    loaded = gn.load_model(tmp_path / "ops.graphnet")
    for e, o in zip(g.predict([a, b]), loaded.predict([a, b])):
        np.testing.assert_array_equal(o, e)


def test_shape_errors_name_the_op():
    inp = gn.Input((4,))
    with pytest.raises(ValueError, match="matmul"):
        ops.matmul(inp, np.ones((3, 2), "float32"))


def test_merge_functional_forms_match_keras():
    def build(layers):
        def f(a, b):
            return [layers.add([a, b]), layers.subtract([a, b]), layers.multiply([a, b]),
                    layers.average([a, b]), layers.maximum([a, b]), layers.minimum([a, b]),
                    layers.concatenate([a, b]), layers.concatenate([a, b], axis=0 + 1),
                    layers.dot([a, b], axes=1)]
        return f
    k, g = symbolic_pair(build(keras.layers), build(layers), [(4,), (4,)])
    for e, o in zip(k.predict([X, Y], verbose=0), g.predict([X, Y])):
        np.testing.assert_allclose(o, e, rtol=RTOL)
    assert [type(l).__name__ for l in g.layers[2:]] == [
        "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
        "Concatenate", "Dot"]


def test_ops_inside_a_custom_layer_read_variables():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.s = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return ops.multiply(inputs, self.s) + ops.sum(self.s)
    inp = gn.Input((4,))
    model = gn.Model(inp, Scale()(inp))
    np.testing.assert_allclose(model.predict(X), X + 4, rtol=RTOL)


# (op, args, kwargs, graphnet's error, text of its message): Keras refuses each call too.
REFUSED = [
    ("normalize", (X,), {"order": 1.0}, ValueError, "ops.normalize: order"),
    ("normalize", (X,), {"order": 0}, ValueError, "ops.normalize: order"),
    ("categorical_crossentropy", (PROBS[:, :3], PROBS), {}, ValueError, "same shape"),
    ("binary_crossentropy", (PROBS.T, PROBS), {}, ValueError, "same shape"),
    ("sparse_categorical_crossentropy", (LABELS[:2], PROBS), {}, ValueError, "target must"),
    ("conv", (IMG, KER), {"padding": "sme"}, ValueError, "ops.conv: padding"),
    ("separable_conv", (IMG, DKER, PKER), {"padding": "full"}, ValueError,
     "ops.separable_conv: padding"),
    ("max_pool", (IMG, (2, 2)), {"padding": "causal"}, ValueError, "ops.max_pool: padding"),
    ("conv_transpose", (IMG, TKER), {"padding": "causal"}, ValueError, "conv_transpose: padding"),
    ("conv", (IMG, KER), {"data_format": "nhwc"}, ValueError, "ops.conv: data_format"),
    ("conv", (IMG, KER), {"dilation_rate": 3}, ValueError, "ops.conv: the output is empty"),
    ("adaptive_average_pool", (IMG, 2), {"data_format": "nhwc"}, ValueError, "data_format"),
]


@pytest.mark.parametrize("name,args,kwargs,error,words", REFUSED,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(REFUSED)])
def test_calls_keras_refuses_are_refused_by_name(name, args, kwargs, error, words):
    with pytest.raises((ValueError, RuntimeError)):
        getattr(keras.ops, name)(*args, **kwargs)
    with pytest.raises(error, match=words):
        getattr(ops, name)(*args, **kwargs)


@pytest.mark.parametrize("name,args", [
    ("conv", (IMG, KER)), ("average_pool", (IMG, (2, 2))), ("conv_transpose", (IMG, TKER)),
    ("adaptive_max_pool", (IMG, 2))])
def test_channels_first_is_not_implemented_rather_than_read_as_channels_last(name, args):
    with pytest.raises(NotImplementedError, match=f"ops.{name}: data_format='channels_first'"):
        getattr(ops, name)(*args, data_format="channels_first")


def test_crossentropy_shape_errors_on_symbolic_tensors_name_the_op():
    probs, wrong = gn.Input((4,)), gn.Input((5,))
    with pytest.raises(ValueError, match="categorical_crossentropy.*same shape"):
        ops.categorical_crossentropy(wrong, probs)
    assert ops.multi_hot(gn.Input((5, 3), dtype="int32"), 4).shape == tuple(
        keras.ops.multi_hot(keras.Input((5, 3), dtype="int32"), 4).shape)


def test_padding_of_conv_layers_is_read_as_keras_reads_it():
    config = layers.ConvLSTM1D(2, 3, padding="SAME").get_config()
    assert config["padding"] == keras.layers.ConvLSTM1D(2, 3, padding="SAME").padding == "same"
    for make, words in [(lambda: layers.Conv2D(2, 3, padding="sme", name="c"), "Conv2D 'c'"),
                        (lambda: layers.MaxPooling2D(padding="causal", name="c"),
                         "MaxPooling2D 'c'"),
                        (lambda: layers.ConvLSTM1D(2, 3, padding="causal"), "ConvLSTM1D '")]:
        with pytest.raises(ValueError, match=f"{words}.*: padding must be"):
            make()


def test_half_precision_normalizations_match_keras():
    """Computed in float32 and returned in float16, as Keras does (under strict promotion)."""
    x16, gamma, beta = X.astype("float16"), Y[0], Y[1]
    for name, args in [("layer_normalization", (x16, gamma, beta)),
                       ("rms_normalization", (x16, gamma))]:
        expected, got = getattr(keras.ops, name)(*args), getattr(ops, name)(*args)
        assert got.dtype == expected.dtype == np.float16
        np.testing.assert_allclose(np.asarray(got, "float32"), np.asarray(expected, "float32"),
                                   rtol=1e-3, atol=1e-3)


def test_half_precision_moments_are_computed_in_float32_and_clipped_as_keras_does():
    x = np.array([[0.0, 1.0], [600.0, 2.0], [-600.0, 3.0]], "float32")  # a variance of 240000
    for dtype in (jnp.float16, jnp.bfloat16):
        with jax.numpy_dtype_promotion("standard"):   # Keras's clip mixes float32 and float16
            expected = keras.ops.moments(jnp.asarray(x, dtype), axes=[0])
        got = ops.moments(jnp.asarray(x, dtype), axes=[0])
        for e, g in zip(expected, got):
            assert g.dtype == e.dtype == dtype
            np.testing.assert_array_equal(np.asarray(g, "float32"), np.asarray(e, "float32"))


def test_half_precision_sparse_crossentropy_is_summed_in_float32_as_keras_does():
    probs = PROBS.astype("float16")
    with jax.numpy_dtype_promotion("standard"):   # Keras's float32 one-hot times float16
        expected = keras.ops.sparse_categorical_crossentropy(LABELS, probs)
    got = ops.sparse_categorical_crossentropy(LABELS, probs)
    assert got.dtype == expected.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6)


def test_star_import_gives_the_ops_and_not_their_modules():
    names = {}
    exec("from graphnet.ops import *", names)
    keras_names = {n for n in dir(keras.ops) if not n.startswith("_")}
    assert keras_names <= set(names)
    for space in ("nn", "numpy", "linalg", "math", "core"):
        assert set(vars(getattr(ops, space))) <= set(names), space
    assert all(names[n] is getattr(ops, n) for n in ops.__all__)
    modules = {"activations", "general", "convolution", "neural", "arrays", "linear_algebra",
               "spectral", "spatial", "control", "recording", "image_windows", "sys", "jnp"}
    assert not modules & set(names)
