"""Keras 3's mask rules layer by layer: `supports_masking` and `compute_mask(inputs, mask)` of
every layer of the catalogue against Keras's own, the masks a model carries from layer to layer
(read by a probe layer in both libraries), and padding that changes no masked model's output."""
import inspect

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphnet as gn
from graphnet import layers

keras = pytest.importorskip("keras")

# Constructor arguments where a layer needs some, the same in both libraries.
ARGS = {
    "Activation": ("relu",), "Dense": (3,), "Dropout": (0.5,), "GaussianDropout": (0.5,),
    "GaussianNoise": (0.5,), "SpatialDropout1D": (0.5,), "SpatialDropout2D": (0.5,),
    "SpatialDropout3D": (0.5,), "Embedding": (10, 3), "Permute": ((2, 1),),
    "RepeatVector": (2,), "Reshape": ((12,),), "Rescaling": (0.5,), "Dot": (1,),
    "Lambda": (lambda x: x,), "MultiHeadAttention": (2, 4), "SimpleRNN": (3,), "LSTM": (3,),
    "GRU": (3,), "Conv1D": (2, 2), "Conv2D": (2, 2), "Conv3D": (2, 2), "Conv1DTranspose": (2, 2),
    "Conv2DTranspose": (2, 2), "Conv3DTranspose": (2, 2), "Convolution1D": (2, 2),
    "Convolution2D": (2, 2), "Convolution2DTranspose": (2, 2), "Convolution3D": (2, 2),
    "DepthwiseConv2D": (2,), "SeparableConv2D": (2, 2), "AveragePooling1D": (2,),
    "AveragePooling2D": (2,), "AveragePooling3D": (2,), "AvgPool1D": (2,), "AvgPool2D": (2,),
    "AvgPool3D": (2,), "RandomContrast": (0.5,), "RandomRotation": (0.5,),
    "RandomTranslation": (0.5, 0.5), "RandomZoom": (0.5,), "CategoryEncoding": (4,),
    "AdaptiveAveragePooling1D": (2,), "AdaptiveAveragePooling2D": (2,),
    "AdaptiveAveragePooling3D": (2,), "AdaptiveMaxPooling1D": (2,), "AdaptiveMaxPooling2D": (2,),
    "AdaptiveMaxPooling3D": (2,), "AlphaDropout": (0.5,), "Convolution1DTranspose": (2, 2),
    "Convolution3DTranspose": (2, 2), "DepthwiseConv1D": (2,), "SeparableConv1D": (2, 2),
    "SeparableConvolution1D": (2, 2), "SeparableConvolution2D": (2, 2),
    "Discretization": ([0.0],), "Hashing": (3,), "HashedCrossing": (3,),
    "SimpleRNNCell": (3,), "LSTMCell": (3,), "GRUCell": (3,), "ConvLSTM1D": (2, 2),
    "ConvLSTM2D": (2, 2), "ConvLSTM3D": (2, 2), "EinsumDense": ("abc,cd->abd", (4, 2)),
    "ReversibleEmbedding": (10, 3), "GroupQueryAttention": (2, 2, 1),
    "Resizing": (2, 2), "CenterCrop": (2, 2), "RandomCrop": (2, 2),
    "RandomBrightness": (0.5,), "RandomPosterization": (4,), "RandomColorDegeneration": (0.5,),
    "RandomSharpness": (0.5,), "RandomHue": (0.5,), "RandomSaturation": (0.5,),
}
WRAPPED = {"Bidirectional": "LSTM", "TimeDistributed": "Dense", "RNN": "LSTMCell",
           "SpectralNormalization": "Dense", "Wrapper": "Dense"}
VARIANTS = [("Embedding", {"mask_zero": True}), ("LSTM", {"return_sequences": True}),
            ("GRU", {"return_sequences": True, "return_state": True}),
            ("LSTM", {"return_state": True}), ("Concatenate", {"axis": 1}),
            ("RNN", {"return_sequences": True}), ("ConvLSTM2D", {"return_state": True}),
            ("Lambda", {"mask": lambda inputs, mask: None if mask is None else ~mask})]
SKIP = {"InputLayer", "Operation",           # no call to mask
        "JaxLayer", "FlaxLayer"}            # Keras's need TensorFlow and Flax to build
# Keras makes these only with TensorFlow installed; they carry no mask there (Layer's default).
NEEDS_TENSORFLOW = {"HashedCrossing", "Hashing", "IntegerLookup", "StringLookup",
                    "TextVectorization"}


def make(lib, name, kwargs=None):
    if name == "StackedRNNCells":
        return lib.layers.StackedRNNCells([lib.layers.GRUCell(3), lib.layers.LSTMCell(2)])
    if name == "Pipeline":
        return lib.layers.Pipeline([lib.layers.Rescaling(0.5)])
    if name in WRAPPED:
        inner = getattr(lib.layers, WRAPPED[name])(*ARGS[WRAPPED[name]],
                                                    **({"return_sequences": True}
                                                       if name == "Bidirectional" else {}))
        return getattr(lib.layers, name)(inner, **(kwargs or {}))
    return getattr(lib.layers, name)(*ARGS.get(name, ()), **(kwargs or {}))


def catalogue():
    names = sorted(n for n in dir(layers) if n[0].isupper() and n not in SKIP
                   and inspect.isclass(getattr(layers, n))
                   and issubclass(getattr(layers, n), layers.Layer))
    return [(n, {}) for n in names] + VARIANTS


RNG = np.random.default_rng(0)
X = RNG.normal(size=(2, 4, 3)).astype("float32")
X[0, 3] = 0.0                                       # a step Masking masks
IDS = np.array([[3, 1, 0, 0], [2, 0, 4, 1]])
MASK = np.array([[True, True, True, False], [True, False, True, True]])


def inputs_and_mask(name):
    """A call's inputs and incoming mask, as Keras's compute_mask is given them."""
    if name in ("Add", "Subtract", "Multiply", "Maximum", "Minimum", "Average", "Dot",
                "Concatenate", "Attention", "AdditiveAttention"):
        return [X, X[::-1].copy()], [MASK, None if name == "Add" else MASK[::-1].copy()]
    return (IDS if name in ("Embedding", "CategoryEncoding") else X), MASK


def as_mask(m):
    if m is None:
        return None
    if isinstance(m, (list, tuple)):
        return [as_mask(v) for v in m]
    return np.asarray(m)


@pytest.mark.parametrize("name,kwargs", catalogue(), ids=lambda v: v if isinstance(v, str) else
                         ",".join(f"{k}={getattr(w, '__name__', w)}" for k, w in v.items()))
def test_supports_masking_and_compute_mask_as_keras(name, kwargs):
    if name in NEEDS_TENSORFLOW:
        layer = make(gn, name, kwargs)
        assert not layer.supports_masking and layer.compute_mask(*inputs_and_mask(name)) is None
        return
    ours, theirs = make(gn, name, kwargs), make(keras, name, kwargs)
    assert ours.supports_masking == theirs.supports_masking, name
    inputs, mask = inputs_and_mask(name)
    want = as_mask(theirs.compute_mask(inputs, mask))
    got = as_mask(ours.compute_mask(inputs, mask))
    if want is None:
        assert got is None
    elif isinstance(want, list):
        assert len(got) == len(want)
        for g, w in zip(got, want):
            assert (g is None) == (w is None)
            if w is not None:
                np.testing.assert_array_equal(g, w)
    else:
        np.testing.assert_array_equal(got, want)
    # `mask` may be left out (Keras's own layers default it to None, its base class not)
    np.testing.assert_equal(as_mask(ours.compute_mask(inputs)),
                            as_mask(ours.compute_mask(inputs, None)))


def test_a_merge_refuses_a_mask_that_is_not_one_per_input():
    with pytest.raises(ValueError, match="same length"):
        layers.Add().compute_mask([X, X], [MASK])


# ---- masks through a model: a probe layer reads the mask it receives ---------------------------
def probe(lib):
    """A Keras-form layer returning the mask it was given as floats (-1 everywhere when
    none), written once for either library."""
    class Probe(lib.layers.Layer):
        def call(self, inputs, mask=None):
            steps = lib.ops.ones(lib.ops.shape(inputs)[:2])
            if mask is None:
                return -steps
            return lib.ops.cast(mask, "float32") * steps
    return Probe()


def pipelines(lib):
    """name -> (model inputs builder): models whose last layer hands its mask to a probe."""
    L = lib.layers

    def ids():
        return lib.Input((6,), dtype="int32")

    def emb(i, **kw):
        return L.Embedding(10, 4, mask_zero=True, **kw)(i)

    def seq():
        return lib.Input((6, 4))

    def build(fn, source=ids):
        inp = source()
        return lib.Model(inp, probe(lib)(fn(inp)))
    return {
        "dense_activation_dropout_norm": build(lambda i: L.LayerNormalization()(L.Dropout(0.2)(
            L.Activation("tanh")(L.Dense(4)(emb(i)))))),
        "masking_noise_batchnorm": build(lambda i: L.BatchNormalization()(L.GaussianNoise(0.1)(
            L.Masking()(i))), seq),
        "time_distributed": build(lambda i: L.TimeDistributed(L.Dense(3))(emb(i))),
        "add_or": build(lambda i: L.Add()([emb(i), L.Masking(0.0)(L.Dense(4)(emb(i)))])),
        "add_with_an_unmasked_input": build(lambda i: L.Add()([emb(i), L.Embedding(10, 4)(i)])),
        "concatenate_features": build(lambda i: L.Concatenate()([emb(i), L.Dense(2)(emb(i))])),
        "concatenate_time": build(lambda i: L.Concatenate(axis=1)([emb(i), L.Masking()(
            L.Dense(4)(emb(i)))])),
        "rnn_sequences": build(lambda i: L.GRU(3, return_sequences=True)(emb(i))),
        "bidirectional": build(lambda i: L.Bidirectional(L.LSTM(2, return_sequences=True))(
            emb(i))),
        "attention_keeps_query_mask": build(lambda i: L.MultiHeadAttention(2, 2)(
            emb(i), L.Dense(4)(emb(i)))),
        "flatten_reshape_drop": build(lambda i: L.Reshape((6, 4))(L.Flatten()(emb(i)))),
        "conv_drops": build(lambda i: L.Conv1D(3, 1)(emb(i))),
    }


def ids_batch():
    return np.array([[3, 1, 5, 0, 0, 0], [2, 7, 4, 1, 9, 0], [1, 0, 0, 0, 0, 0]])


@pytest.mark.parametrize("name", sorted(pipelines(gn)))
def test_the_mask_each_layer_hands_on_is_keras(name):
    ours = pipelines(gn)[name]
    theirs = pipelines(keras)[name]
    x = ids_batch() if ours.inputs[0].dtype == np.int32 else \
        np.where((ids_batch() > 0)[..., None], RNG.normal(size=(3, 6, 4)), 0.0).astype("float32")
    got = ours.predict(x, verbose=0)
    want = np.asarray(theirs(x))
    np.testing.assert_array_equal(got, want)


# ---- padding appended changes no masked model's output -------------------------------------------
def masked_model(rnn, middle, pool):
    inp = gn.Input((None,), dtype="int32")
    h = layers.Embedding(12, 4, mask_zero=True)(inp)
    for kind in middle:
        h = {"dense": lambda t: layers.Dense(4, activation="tanh")(t),
             "dropout": lambda t: layers.Dropout(0.3)(t),
             "norm": lambda t: layers.LayerNormalization()(t),
             "add": lambda t: layers.Add()([t, layers.Dense(4)(t)]),
             "rnn": lambda t: layers.GRU(4, return_sequences=True)(t)}[kind](h)
    if pool:
        out = layers.GlobalAveragePooling1D()(h)
    else:
        out = {"lstm": layers.LSTM, "gru": layers.GRU, "simple": layers.SimpleRNN}[rnn](3)(h)
    return gn.Model(inp, out)


@settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rnn=st.sampled_from(["lstm", "gru", "simple"]),
       middle=st.lists(st.sampled_from(["dense", "dropout", "norm", "add", "rnn"]), max_size=3),
       pool=st.booleans(), pad=st.integers(1, 4), seed=st.integers(0, 100))
def test_padding_appended_leaves_a_masked_model_unchanged(rnn, middle, pool, pad, seed):
    model = masked_model(rnn, middle, pool)
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, 6, 4)
    x = np.where(np.arange(6) < lengths[:, None], rng.integers(1, 12, (4, 6)), 0)
    padded = np.concatenate([x, np.zeros((4, pad), x.dtype)], axis=1)
    np.testing.assert_allclose(model.predict(padded, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


# ---- the mask on symbolic outputs, and custom layers while the model is built ------------------
def _symbolic(lib):
    L = lib.layers
    inp = lib.Input((None,), dtype="int32")
    e = L.Embedding(10, 4, mask_zero=True)(inp)
    return {"input": inp, "embedding": e, "dense": L.Dense(3)(e), "flatten_drops": L.Flatten()(
        lib.Input((5, 4))), "lstm_consumes": L.LSTM(2)(e),
            "lstm_sequences": L.LSTM(2, return_sequences=True)(e),
            "pool_consumes": L.GlobalAveragePooling1D()(e), "conv_drops": L.Conv1D(2, 1)(e)}


def test_symbolic_outputs_carry_keras_mask_as_keras():
    ours, theirs = _symbolic(gn), _symbolic(keras)
    for name in theirs:
        want = getattr(theirs[name], "_keras_mask", None)
        got = ours[name]._keras_mask
        assert (got is None) == (want is None), name
        if want is not None:
            assert tuple(got.shape) == tuple(want.shape) and got.dtype == np.bool_, name


def test_a_custom_layer_receives_the_mask_while_built_and_when_run():
    """keras.io's masking guide: a TemporalSoftmax asserting it is given a mask."""
    seen = []

    class TemporalSoftmax(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs, mask=None):
            assert mask is not None
            seen.append(mask.shape)
            m = gn.ops.expand_dims(gn.ops.cast(mask, "float32"), -1)
            e = gn.ops.exp(inputs) * m
            return e / gn.ops.sum(e, axis=1, keepdims=True)

    inp = gn.Input((None,), dtype="int32")
    h = layers.Dense(2)(layers.Embedding(10, 4, mask_zero=True)(inp))
    out = TemporalSoftmax()(h)
    assert seen and out._keras_mask is not None
    model = gn.Model(inp, out)
    x = np.array([[1, 2, 3, 0, 0], [4, 0, 0, 0, 0]])
    y = model.predict(x, verbose=0)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-5)     # over the unmasked steps
    np.testing.assert_array_equal(y[0, 3:], 0.0)
    np.testing.assert_array_equal(y[1, 1:], 0.0)
