"""graphnet.cost: node FLOPs against XLA and against hand counts, saved bytes against the
whole model's residuals, rematerialization, and the places the table is shown."""
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphnet as gn
from graphnet import costing, layers
from graphnet.costing import measure


def one_layer(make, shape, dtype="float32"):
    x = gn.Input(shape=shape, dtype=dtype)
    layer = make()
    return gn.Model(x, layer(x))


# ---- hand counts: numbers that owe nothing to XLA ---------------------------------------------
def test_dense_flops_are_two_per_multiply_add_plus_the_bias():
    model = one_layer(lambda: layers.Dense(5, name="dense"), (7,))
    row = gn.cost(model, batch_size=3)["dense"]
    assert row.flops == 2 * 7 * 5 * 3 + 5 * 3
    assert row.formula_flops == row.flops
    assert row.param_bytes == (7 * 5 + 5) * 4
    assert row.output_bytes == 3 * 5 * 4


def unpadded_taps(n, k, stride, padding):
    """Taps inside the input, by walking a padded row of ones (Keras's "same" split)."""
    out = -(-n // stride) if padding == "same" else (n - k) // stride + 1
    total = max((out - 1) * stride + k - n, 0) if padding == "same" else 0
    row = np.concatenate([np.zeros(total // 2), np.ones(n), np.zeros(total - total // 2)])
    return int(sum(row[i * stride:i * stride + k].sum() for i in range(out)))


@pytest.mark.parametrize("shape, kernel, strides, padding", [
    ((6, 5, 2), 3, 1, "same"), ((7, 7, 3), (3, 2), 2, "same"), ((6, 5, 2), 3, 1, "valid")])
def test_conv_counts_only_unpadded_taps(shape, kernel, strides, padding):
    ks = (kernel, kernel) if isinstance(kernel, int) else kernel
    model = one_layer(lambda: layers.Conv2D(4, kernel, strides=strides, padding=padding),
                      shape)
    row = gn.cost(model, batch_size=2)[1]
    taps = unpadded_taps(shape[0], ks[0], strides, padding) * unpadded_taps(
        shape[1], ks[1], strides, padding)
    out_elements = 2 * np.prod(row.output_shapes[0][1:])
    expected = 2 * 2 * taps * shape[2] * 4 + out_elements
    assert row.formula_flops == expected
    assert row.flops == pytest.approx(expected, rel=1e-3)
    full = 2 * out_elements * np.prod(ks) * shape[2]        # the usual count, zeros included
    if padding == "same":
        assert full > 1.02 * row.flops


# ---- every layer of the catalogue against XLA's count of it compiled alone -------------------
def one(make):
    """A case whose layer takes the single input."""
    return lambda xs: make()(xs[0])


def pair(make):
    """A case whose layer takes the two inputs as a list (merging, attention)."""
    return lambda xs: make()(list(xs))


CATALOGUE = [
    ("Dense", one(lambda: layers.Dense(3, activation="relu")), [(4,)]),
    ("Activation", one(lambda: layers.Activation("tanh")), [(4,)]),
    ("Dropout", one(lambda: layers.Dropout(0.3)), [(4,)]),
    ("Flatten", one(lambda: layers.Flatten()), [(2, 3)]),
    ("Reshape", one(lambda: layers.Reshape((3, 2))), [(6,)]),
    ("Permute", one(lambda: layers.Permute((2, 1))), [(2, 3)]),
    ("RepeatVector", one(lambda: layers.RepeatVector(2)), [(3,)]),
    ("Identity", one(lambda: layers.Identity()), [(3,)]),
    ("Lambda", one(lambda: layers.Lambda(lambda t: t * 2.0 + 1.0)), [(3,)]),
    ("Masking", one(lambda: layers.Masking(0.0)), [(5, 2)]),
    ("Embedding", one(lambda: layers.Embedding(10, 4)), [(5,)], "int32"),
    ("CategoryEncoding", one(lambda: layers.CategoryEncoding(6, output_mode="multi_hot")),
     [(3,)], "int32"),
    ("Discretization", one(lambda: layers.Discretization(bin_boundaries=[-0.5, 0.0, 0.5])),
     [(4,)]),
    ("Add", pair(layers.Add), [(4,), (4,)]),
    ("Subtract", pair(layers.Subtract), [(4,), (4,)]),
    ("Multiply", pair(layers.Multiply), [(4,), (4,)]),
    ("Average", pair(layers.Average), [(4,), (4,)]),
    ("Maximum", pair(layers.Maximum), [(4,), (4,)]),
    ("Minimum", pair(layers.Minimum), [(4,), (4,)]),
    ("Concatenate", pair(layers.Concatenate), [(4,), (3,)]),
    ("Dot", pair(lambda: layers.Dot(axes=1)), [(4,), (4,)]),
    ("Conv1D", one(lambda: layers.Conv1D(2, 3, padding="same")), [(6, 2)]),
    ("Conv1D-causal", one(lambda: layers.Conv1D(2, 3, padding="causal", dilation_rate=2)),
     [(8, 2)]),
    ("Conv2D", one(lambda: layers.Conv2D(2, 2, strides=2, activation="relu")), [(6, 6, 2)]),
    ("Conv2D-groups", one(lambda: layers.Conv2D(4, 3, padding="same", groups=2)), [(5, 5, 4)]),
    ("Conv3D", one(lambda: layers.Conv3D(2, 2)), [(3, 3, 3, 2)]),
    ("SeparableConv2D", one(lambda: layers.SeparableConv2D(3, 2, padding="same")), [(5, 5, 2)]),
    ("DepthwiseConv2D", one(lambda: layers.DepthwiseConv2D(2, depth_multiplier=2)), [(5, 5, 2)]),
    ("Conv1DTranspose", one(lambda: layers.Conv1DTranspose(2, 3, strides=2)), [(4, 2)]),
    ("Conv2DTranspose", one(lambda: layers.Conv2DTranspose(2, 3, strides=2, padding="same")),
     [(4, 4, 2)]),
    ("Conv3DTranspose", one(lambda: layers.Conv3DTranspose(2, 2)), [(2, 2, 2, 2)]),
    ("MaxPooling1D", one(lambda: layers.MaxPooling1D(2)), [(6, 2)]),
    ("MaxPooling2D", one(lambda: layers.MaxPooling2D(2)), [(4, 4, 2)]),
    ("MaxPooling3D", one(lambda: layers.MaxPooling3D(2)), [(4, 4, 4, 2)]),
    ("AveragePooling1D", one(lambda: layers.AveragePooling1D(2)), [(6, 2)]),
    ("AveragePooling2D", one(lambda: layers.AveragePooling2D(2, padding="same")), [(5, 5, 2)]),
    ("AveragePooling3D", one(lambda: layers.AveragePooling3D(2, padding="same")), [(3, 3, 3, 2)]),
    ("GlobalMaxPooling1D", one(lambda: layers.GlobalMaxPooling1D()), [(6, 2)]),
    ("GlobalMaxPooling2D", one(lambda: layers.GlobalMaxPooling2D()), [(4, 4, 2)]),
    ("GlobalMaxPooling3D", one(lambda: layers.GlobalMaxPooling3D()), [(3, 3, 3, 2)]),
    ("GlobalAveragePooling1D", one(lambda: layers.GlobalAveragePooling1D()), [(6, 2)]),
    ("GlobalAveragePooling2D", one(lambda: layers.GlobalAveragePooling2D()), [(4, 4, 2)]),
    ("GlobalAveragePooling3D", one(lambda: layers.GlobalAveragePooling3D()), [(3, 3, 3, 2)]),
    ("BatchNormalization", one(lambda: layers.BatchNormalization()), [(4,)]),
    ("LayerNormalization", one(lambda: layers.LayerNormalization()), [(4,)]),
    ("Normalization", one(lambda: layers.Normalization(mean=[0.5, -1.0], variance=[4.0, 1.0])),
     [(2,)]),
    ("SimpleRNN", one(lambda: layers.SimpleRNN(3, return_sequences=True)), [(5, 2)]),
    ("LSTM", one(lambda: layers.LSTM(3)), [(5, 2)]),
    ("GRU", one(lambda: layers.GRU(3, go_backwards=True)), [(5, 2)]),
    ("Bidirectional", one(lambda: layers.Bidirectional(layers.LSTM(2, return_sequences=True))),
     [(5, 2)]),
    ("TimeDistributed", one(lambda: layers.TimeDistributed(layers.Dense(2))), [(3, 4)]),
    ("UpSampling1D", one(lambda: layers.UpSampling1D(2)), [(3, 2)]),
    ("UpSampling2D", one(lambda: layers.UpSampling2D((2, 1))), [(2, 3, 2)]),
    ("ZeroPadding1D", one(lambda: layers.ZeroPadding1D((1, 2))), [(3, 2)]),
    ("ZeroPadding2D", one(lambda: layers.ZeroPadding2D(((1, 0), (0, 2)))), [(2, 3, 2)]),
    ("Cropping1D", one(lambda: layers.Cropping1D((1, 2))), [(6, 2)]),
    ("Cropping2D", one(lambda: layers.Cropping2D(((1, 0), (0, 2)))), [(4, 5, 2)]),
    ("Rescaling", one(lambda: layers.Rescaling(0.5, offset=-1.0)), [(4,)]),
    ("ReLU", one(lambda: layers.ReLU(max_value=0.8, threshold=0.1)), [(4,)]),
    ("LeakyReLU", one(lambda: layers.LeakyReLU(negative_slope=0.2)), [(4,)]),
    ("ELU", one(lambda: layers.ELU(alpha=0.7)), [(4,)]),
    ("PReLU", one(lambda: layers.PReLU()), [(4,)]),
    ("Softmax", one(lambda: layers.Softmax(axis=1)), [(3, 2)]),
    ("GaussianNoise", one(lambda: layers.GaussianNoise(0.5)), [(4,)]),
    ("GaussianDropout", one(lambda: layers.GaussianDropout(0.3)), [(4,)]),
    ("SpatialDropout1D", one(lambda: layers.SpatialDropout1D(0.3)), [(5, 2)]),
    ("SpatialDropout2D", one(lambda: layers.SpatialDropout2D(0.3)), [(3, 3, 2)]),
    ("SpatialDropout3D", one(lambda: layers.SpatialDropout3D(0.3)), [(2, 2, 2, 2)]),
    ("RandomFlip", one(lambda: layers.RandomFlip()), [(4, 4, 2)]),
    ("RandomRotation", one(lambda: layers.RandomRotation(0.1)), [(4, 4, 2)]),
    ("RandomZoom", one(lambda: layers.RandomZoom(0.1)), [(4, 4, 2)]),
    ("RandomTranslation", one(lambda: layers.RandomTranslation(0.1, 0.1)), [(4, 4, 2)]),
    ("RandomContrast", one(lambda: layers.RandomContrast(0.2)), [(4, 4, 2)]),
    ("AutoContrast", one(lambda: layers.AutoContrast()), [(4, 4, 3)]),
    ("Equalization", one(lambda: layers.Equalization(bins=16)), [(4, 4, 3)]),
    ("Solarization", one(lambda: layers.Solarization(0.2, 0.5)), [(4, 4, 3)]),
    ("RandomBrightness", one(lambda: layers.RandomBrightness(0.2)), [(4, 4, 3)]),
    ("RandomGrayscale", one(lambda: layers.RandomGrayscale()), [(4, 4, 3)]),
    ("RandomInvert", one(lambda: layers.RandomInvert()), [(4, 4, 3)]),
    ("RandomPosterization", one(lambda: layers.RandomPosterization(4)), [(4, 4, 3)]),
    ("RandomColorDegeneration", one(lambda: layers.RandomColorDegeneration(0.5)), [(4, 4, 3)]),
    ("RandomSharpness", one(lambda: layers.RandomSharpness(0.5)), [(4, 4, 3)]),
    ("MixUp", one(lambda: layers.MixUp()), [(4, 4, 3)]),
    ("CutMix", one(lambda: layers.CutMix()), [(4, 4, 3)]),
    ("RandomGaussianBlur", one(lambda: layers.RandomGaussianBlur(0.5)), [(4, 4, 3)]),
    ("RandomHue", one(lambda: layers.RandomHue(0.5)), [(4, 4, 3)]),
    ("RandomSaturation", one(lambda: layers.RandomSaturation(0.5)), [(4, 4, 3)]),
    ("RandomColorJitter", one(lambda: layers.RandomColorJitter(brightness_factor=0.2,
                                                               hue_factor=0.1)), [(4, 4, 3)]),
    ("RandomErasing", one(lambda: layers.RandomErasing()), [(4, 4, 3)]),
    ("RandomShear", one(lambda: layers.RandomShear(0.2, 0.2)), [(4, 4, 3)]),
    ("RandomPerspective", one(lambda: layers.RandomPerspective()), [(4, 4, 3)]),
    ("Attention", pair(layers.Attention), [(3, 4), (5, 4)]),
    ("AdditiveAttention", pair(layers.AdditiveAttention), [(3, 4), (5, 4)]),
    ("MultiHeadAttention", lambda xs: layers.MultiHeadAttention(num_heads=2, key_dim=3)(*xs),
     [(5, 4), (5, 4)]),
    ("ActivityRegularization", one(lambda: layers.ActivityRegularization(l1=0.1)), [(4,)]),
    ("AdaptiveAveragePooling1D", one(lambda: layers.AdaptiveAveragePooling1D(3)), [(7, 2)]),
    ("AdaptiveAveragePooling2D", one(lambda: layers.AdaptiveAveragePooling2D(2)), [(5, 5, 2)]),
    ("AdaptiveAveragePooling3D", one(lambda: layers.AdaptiveAveragePooling3D(2)),
     [(3, 3, 3, 2)]),
    ("AdaptiveMaxPooling1D", one(lambda: layers.AdaptiveMaxPooling1D(3)), [(7, 2)]),
    ("AdaptiveMaxPooling2D", one(lambda: layers.AdaptiveMaxPooling2D(2)), [(5, 5, 2)]),
    ("AdaptiveMaxPooling3D", one(lambda: layers.AdaptiveMaxPooling3D(2)), [(3, 3, 3, 2)]),
    ("AlphaDropout", one(lambda: layers.AlphaDropout(0.3)), [(4,)]),
    ("Cropping3D", one(lambda: layers.Cropping3D(1)), [(4, 4, 4, 2)]),
    ("DepthwiseConv1D", one(lambda: layers.DepthwiseConv1D(3, depth_multiplier=2)), [(6, 2)]),
    ("SeparableConv1D", one(lambda: layers.SeparableConv1D(3, 2, padding="same")), [(6, 2)]),
    ("GroupNormalization", one(lambda: layers.GroupNormalization(groups=2)), [(3, 4)]),
    ("RMSNormalization", one(lambda: layers.RMSNormalization()), [(4,)]),
    ("UnitNormalization", one(lambda: layers.UnitNormalization()), [(4,)]),
    ("UpSampling3D", one(lambda: layers.UpSampling3D(2)), [(2, 2, 2, 2)]),
    ("ZeroPadding3D", one(lambda: layers.ZeroPadding3D(1)), [(2, 2, 2, 2)]),
    ("RNN", one(lambda: layers.RNN([layers.LSTMCell(3), layers.GRUCell(2)])), [(5, 2)]),
    ("SimpleRNNCell", lambda xs: list(layers.SimpleRNNCell(3)(xs[0], xs[1])), [(2,), (3,)]),
    ("GRUCell", lambda xs: list(layers.GRUCell(3)(xs[0], xs[1])), [(2,), (3,)]),
    ("LSTMCell", lambda xs: (lambda out: [out[0], *out[1]])(
        layers.LSTMCell(3)(xs[0], list(xs[1:]))), [(2,), (3,), (3,)]),
    ("StackedRNNCells", lambda xs: (lambda out: [out[0], *out[1]])(layers.StackedRNNCells(
        [layers.SimpleRNNCell(3), layers.GRUCell(2)])(xs[0], list(xs[1:]))),
     [(2,), (3,), (2,)]),
    ("ConvLSTM1D", one(lambda: layers.ConvLSTM1D(2, 3, padding="same")), [(3, 5, 2)]),
    ("ConvLSTM2D", one(lambda: layers.ConvLSTM2D(2, 2, return_sequences=True)), [(2, 4, 4, 1)]),
    ("ConvLSTM3D", one(lambda: layers.ConvLSTM3D(1, 2)), [(2, 3, 3, 3, 1)]),
    ("EinsumDense", one(lambda: layers.EinsumDense("abc,cd->abd", (4, 3), bias_axes="d")),
     [(4, 5)]),
    ("ReversibleEmbedding", one(lambda: layers.ReversibleEmbedding(10, 4)), [(5,)], "int32"),
    ("SpectralNormalization", one(lambda: layers.SpectralNormalization(layers.Dense(3))),
     [(4,)]),
    ("JaxLayer", one(lambda: layers.JaxLayer(lambda params, inputs: inputs @ params,
                                             params=np.ones((4, 2), "float32"))), [(4,)]),
    ("GroupQueryAttention", lambda xs: layers.GroupQueryAttention(2, 4, 2)(*xs),
     [(5, 4), (5, 4)]),
    ("Resizing", one(lambda: layers.Resizing(3, 2)), [(4, 4, 2)]),
    ("CenterCrop", one(lambda: layers.CenterCrop(2, 2)), [(4, 4, 2)]),
    ("RandomCrop", one(lambda: layers.RandomCrop(4, 4)), [(4, 4, 2)]),
    ("STFTSpectrogram", one(lambda: layers.STFTSpectrogram(frame_length=8, frame_step=4)),
     [(16, 1)]),
    ("MelSpectrogram", one(lambda: layers.MelSpectrogram(fft_length=32, sequence_stride=8,
                                                         num_mel_bins=6)), [(64,)]),
    ("Pipeline", one(lambda: layers.Pipeline([layers.Dense(3), layers.Rescaling(0.5)])),
     [(4,)]),
]
# bases, what inputs are drawn as, and FlaxLayer (which needs flax, not installed with graphnet)
NOT_A_NODE = {"Layer", "InputLayer", "Operation", "Wrapper", "FlaxLayer"}
# Run on the host with NumPy before any compiled program: no node, no cost.
ON_THE_HOST = {"HashedCrossing", "Hashing", "IntegerLookup", "StringLookup", "TextVectorization"}


def test_the_catalogue_table_has_every_layer_class():
    import inspect
    exported = {getattr(layers, n) for n in dir(layers)
                if inspect.isclass(getattr(layers, n)) and issubclass(getattr(layers, n),
                                                                      layers.Layer)}
    covered = {getattr(layers, case[0].split("-")[0]) for case in CATALOGUE}
    missing = {c.__name__ for c in exported - covered} - NOT_A_NODE - ON_THE_HOST
    assert not missing, f"layer classes with no cost case: {sorted(missing)}"


def xla_model_flops(model, batch):
    """XLA's count of the whole model's apply, compiled here from the public pure function."""
    xs = [jax.ShapeDtypeStruct((batch, *t.shape[1:]), t.dtype) for t in model.inputs]
    spec = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype),
                                  (model.params, model.state))
    compiled = jax.jit(lambda p, s, v: model.apply(p, s, v)).lower(*spec, xs).compile()
    found = compiled.cost_analysis()
    found = found[0] if isinstance(found, (list, tuple)) else found
    return found.get("flops", 0.0)


@pytest.mark.parametrize("case", CATALOGUE, ids=[c[0] for c in CATALOGUE])
def test_node_flops_equal_xla_count_of_the_node_alone(case):
    name, build, shapes, *dtype = case
    inputs = [gn.Input(shape=s, dtype=(dtype or ["float32"])[0]) for s in shapes]
    model = gn.Model(inputs, build(inputs))
    table = gn.cost(model, batch_size=3)
    node = table.rows[-1]
    assert node.flops is not None, node.note
    expected = xla_model_flops(model, 3)
    assert node.flops == pytest.approx(expected, rel=1e-3, abs=0.5)
    activation = model.layers[-1].get_config().get("activation", "linear")
    if node.formula_flops is not None and activation == "linear":   # the formula skips it
        assert node.formula_flops == pytest.approx(node.flops, rel=1e-3), name


TRAINED = ["Dense", "Embedding", "Concatenate", "Conv1D-causal", "Conv2D", "SeparableConv2D",
           "Conv2DTranspose", "MaxPooling2D", "AveragePooling2D", "BatchNormalization",
           "LayerNormalization", "LSTM", "GRU", "Softmax", "MultiHeadAttention"]


def xla_step_flops(model, batch):
    """XLA's count of the forward and backward pass of `model.apply` in training mode, the
    gradient taken for the weights and the float inputs, compiled here."""
    xs = [jax.ShapeDtypeStruct((batch, *t.shape[1:]), t.dtype) for t in model.inputs]
    params, state = jax.tree_util.tree_map(lambda a: jax.ShapeDtypeStruct(a.shape, a.dtype),
                                           (model.params, model.state))
    floats = [jnp.issubdtype(x.dtype, jnp.floating) for x in xs]

    def step(p, s, values, cotangent):
        def forward(p_, diff):
            it = iter(diff)
            full = [next(it) if f else v for v, f in zip(values, floats)]
            return model.apply(p_, s, full, training=True)[0]
        out, vjp = jax.vjp(forward, p, [v for v, f in zip(values, floats) if f])
        return out, vjp(cotangent)
    out = jax.eval_shape(lambda p, s, v: model.apply(p, s, v, training=True)[0], params, state, xs)
    found = jax.jit(step).lower(params, state, xs, out).compile().cost_analysis()
    found = found[0] if isinstance(found, (list, tuple)) else found
    return found.get("flops", 0.0)


@pytest.mark.parametrize("case", [c for c in CATALOGUE if c[0] in TRAINED],
                         ids=[c[0] for c in CATALOGUE if c[0] in TRAINED])
def test_training_flops_equal_xla_count_of_the_step_of_the_node_alone(case):
    name, build, shapes, *dtype = case
    inputs = [gn.Input(shape=s, dtype=(dtype or ["float32"])[0]) for s in shapes]
    model = gn.Model(inputs, build(inputs))
    node = gn.cost(model, batch_size=3, training=True).rows[-1]
    assert node.flops is not None, node.note
    assert node.flops >= node.forward_flops
    assert node.flops == pytest.approx(xla_step_flops(model, 3), rel=1e-3, abs=0.5)


# ---- the table against the whole model -------------------------------------------------------
def small_cnn():
    x = gn.Input(shape=(12, 12, 3), name="image")
    y = layers.Conv2D(8, 3, padding="same", name="c1")(x)
    y = layers.BatchNormalization(name="bn1")(y)
    y = layers.Activation("relu", name="r1")(y)
    z = layers.Conv2D(8, 3, padding="same", activation="relu", name="c2")(y)
    y = layers.Add(name="add")([y, z])
    y = layers.MaxPooling2D(name="pool")(y)
    y = layers.GlobalAveragePooling2D(name="gap")(y)
    return gn.Model(x, layers.Dense(10, activation="softmax", name="out")(y))


def transformer_block(length=6, width=8):
    """Fan-out everywhere: one tensor feeds the query, key and value projections."""
    x = gn.Input(shape=(length, width), name="tokens")
    attended = layers.MultiHeadAttention(num_heads=2, key_dim=4, name="attention")(x, x)
    y = layers.LayerNormalization(name="norm1")(layers.Add(name="res1")([x, attended]))
    h = layers.Dense(16, activation="gelu", name="ffn1")(y)
    h = layers.Dense(width, name="ffn2")(h)
    return gn.Model(x, layers.LayerNormalization(name="norm2")(layers.Add(name="res2")([y, h])))


def test_forward_totals_equal_the_whole_model_compiled():
    model = small_cnn()
    table = gn.cost(model, batch_size=4)
    whole = costing.whole_model(model, batch_size=4)
    assert table.totals["flops"] == pytest.approx(whole["flops"], rel=1e-3)


@pytest.mark.parametrize("make", [small_cnn, transformer_block])
@pytest.mark.parametrize("training", [False, True])
def test_totals_and_saved_bytes_equal_the_whole_program_before_fusion(make, training):
    """XLA's optimized whole program repeats cheap elementwise work inside fusions (the
    normalizations, gelu, and most backward passes), so its compiled count can be a few
    percent above the sum of the nodes (measured: +8% for the Transformer block's forward,
    +2.5% for the CNN's training step); the same programs counted before XLA's optimization
    passes agree to 0.1%. The bytes the nodes keep for the backward pass add up to the whole
    model's residuals (one table and one whole-model count serve both checks: each costs a
    compile per node)."""
    model = make()
    table = gn.cost(model, batch_size=4, training=training)
    whole = costing.whole_model(model, batch_size=4, training=training)
    assert table.totals["hlo_flops"] == pytest.approx(whole["hlo_flops"], rel=1e-3)
    assert table.totals["flops"] == pytest.approx(whole["flops"], rel=0.15)
    assert table.totals["saved_bytes"] == pytest.approx(whole["saved_bytes"], rel=0.01)
    assert table.totals["saved_bytes"] > 0


def test_shared_layers_and_nested_models_add_up():
    """A layer called twice gets two weight gradients, which the backward pass adds."""
    inner = gn.Input(shape=(8,))
    encoder = gn.Model(inner, layers.Dense(4, name="e")(inner), name="encoder")
    a, b = gn.Input(shape=(8,), name="a"), gn.Input(shape=(8,), name="b")
    model = gn.Model([a, b], layers.Concatenate(name="both")([encoder(a), encoder(b)]))
    table = gn.cost(model, batch_size=2, training=True)
    whole = costing.whole_model(model, batch_size=2, training=True)
    assert table["encoder@1"].param_bytes == 0 and table["encoder"].param_bytes == 36 * 4
    assert table["encoder"].flops == table["encoder@1"].flops + 36
    assert table.totals["hlo_flops"] == pytest.approx(whole["hlo_flops"], rel=1e-3)
    assert table.totals["saved_bytes"] == whole["saved_bytes"]


def test_a_tensor_kept_by_several_consumers_counts_once():
    """The tokens feed query, key and value projections that each keep them."""
    table = gn.cost(transformer_block(), batch_size=2, training=True)
    tokens = table["tokens"]
    assert tokens.saved_bytes == tokens.output_bytes == 2 * 6 * 8 * 4


def test_batch_norm_keeps_more_than_its_output():
    table = gn.cost(small_cnn(), batch_size=4, training=True)
    assert table["bn1"].saved_bytes > table["bn1"].output_bytes


# ---- plain data ------------------------------------------------------------------------------
def test_table_is_plain_data_and_prints_aligned():
    table = gn.cost(small_cnn(), batch_size=2)
    data = json.loads(table.to_json())
    assert [r["node"] for r in data["rows"]] == [r.node for r in table]
    assert data["totals"]["flops"] == table.totals["flops"]
    text = str(table)
    lines = text.splitlines()
    assert "c1 (Conv2D)" in text and lines[-1].startswith("Total")
    assert len({len(line) for line in lines[1:3]}) == 1          # header as wide as the rule
    with pytest.raises(KeyError, match="no node 'nope'"):
        table["nope"]


def test_same_layers_on_same_shapes_are_compiled_once(monkeypatch):
    calls = []
    original = measure.measure_step
    monkeypatch.setattr(measure, "measure_step", lambda *a: calls.append(1) or original(*a))
    x = y = gn.Input(shape=(8,))
    for _ in range(60):
        y = layers.Dense(8, activation="relu")(y)
    table = gn.cost(gn.Model(x, y))
    assert len(table) == 61 and len(calls) == 1
    assert len({r.flops for r in table.rows[1:]}) == 1


# ---- bad input -------------------------------------------------------------------------------
def test_unknown_sizes_ask_for_input_shape():
    x = gn.Input(shape=(None, 4), name="seq")
    model = gn.Model(x, layers.LSTM(3)(x))
    with pytest.raises(ValueError, match=r"input 'seq'.*unknown sizes.*input_shape="):
        gn.cost(model)
    table = gn.cost(model, batch_size=2, input_shape=(7, 4))
    assert table["seq"].output_shapes == [(2, 7, 4)]
    with pytest.raises(ValueError, match=r"input 'seq'.*input_shape gives \(7, 5\)"):
        gn.cost(model, input_shape=(7, 5))
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        gn.cost(model, batch_size=0, input_shape=(7, 4))


def test_a_node_xla_cannot_count_is_na_with_the_reason():
    def on_host(t):
        return jax.pure_callback(lambda a: np.asarray(a) * 2,
                                 jax.ShapeDtypeStruct(t.shape, t.dtype), t)
    x = gn.Input(shape=(4,))
    model = gn.Model(x, layers.Dense(2, name="after")(layers.Lambda(on_host, name="host")(x)))
    for training in (False, True):
        table = gn.cost(model, training=training)
        row = table["host"]
        assert row.flops is None and row.saved_bytes is None
        assert "custom call" in row.note and "n/a" in row.note
        assert table.unknown == ["host"]
        assert "n/a: host" in str(table)
        assert table["after"].flops > 0


# ---- rematerialization -----------------------------------------------------------------------
def deep_mlp(width=64, depth=4):
    x = y = gn.Input(shape=(width,), name="x")
    for i in range(depth):
        y = layers.Dense(width, name=f"dense{i}")(y)
        y = layers.BatchNormalization(name=f"bn{i}")(y)
        y = layers.Activation("gelu", name=f"act{i}")(y)
    return gn.Model(x, layers.Dense(3, name="out")(y))


def grads(run, model, x):
    def loss(params):
        outs, _, _ = run(params, model.state, [x], True, None)
        return jnp.mean(outs[0] ** 2)
    return jax.jit(jax.grad(loss))(model.params)


def test_remat_gives_the_same_gradients_and_less_memory():
    from graphnet.interpret import make_run
    model = deep_mlp()
    x = jnp.asarray(np.random.default_rng(0).normal(size=(256, 64)), jnp.float32)
    table = gn.cost(model, batch_size=256, training=True)
    plan = costing.choose_remat(table, costing.remat.peak(table) // 2)
    assert plan.nodes and plan.peak_after < plan.peak_before
    plain, recomputed = make_run(model.graph), make_run(model.graph, plan.nodes)
    g0, g1 = grads(plain, model, x), grads(recomputed, model, x)
    scale = max(float(jnp.max(jnp.abs(g))) for g in jax.tree_util.tree_leaves(g0))
    for a, b in zip(jax.tree_util.tree_leaves(g0), jax.tree_util.tree_leaves(g1)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6 * scale)

    def temp(run):
        step = jax.jit(lambda p: jax.grad(lambda q: jnp.mean(
            run(q, model.state, [x], True, None)[0][0] ** 2))(p))
        return step.lower(model.params).compile().memory_analysis().temp_size_in_bytes
    assert temp(recomputed) < 0.9 * temp(plain)


def fake_table(rows):
    """A training table written by hand: (node, forward flops, inside bytes, output bytes,
    inputs) per row; each node keeps what it makes inside and its tensor inputs."""
    table = costing.Cost("fake", 1, True)
    for node, flops, inside, out, inputs in rows:
        refs = tuple(((i, 0), 0) for i in inputs)
        table.rows.append(costing.NodeCost(
            node, node, "InputLayer" if not inputs else "Fake", [(1,)], flops=3 * flops,
            forward_flops=flops, saved_inside=inside, output_sizes=(out,), inputs=refs,
            saves_inputs=tuple(r for r, _ in refs)))
    measure.attribute_saved(table.rows)
    return table


def test_chooser_is_a_pure_function_of_the_table():
    table = fake_table([("x", 0, 0, 10, ()), ("cheap", 10, 1000, 10, ("x",)),
                        ("costly", 10_000, 1000, 10, ("cheap",)), ("head", 5, 0, 10, ("costly",))])
    assert costing.remat.peak(table) == 10 + 1000 + 10 + 1000 + 10
    plan = costing.choose_remat(table, 1100)
    assert plan.nodes == ("cheap",) and plan.peak_after == 1030 and plan.fits
    plan = costing.choose_remat(table, 1)
    assert plan.nodes == ("cheap", "costly") and plan.peak_after == 30 and not plan.fits
    assert costing.choose_remat(table, 10 ** 9).nodes == ()
    assert costing.choose_remat(table, "auto").nodes == ("cheap",)   # 10% of 3x FLOPs
    assert "recompute cheap" in str(costing.choose_remat(table, "auto"))


def test_recomputing_never_raises_the_estimate():
    """A node that keeps nothing of its own would keep its input instead: not chosen."""
    table = fake_table([("x", 0, 0, 10, ()), ("a", 1, 0, 10_000, ("x",)),
                        ("b", 1, 0, 10, ("a",))])
    assert costing.remat.peak(table, ["a"]) == costing.remat.peak(table) == 10 + 10_000
    plan = costing.choose_remat(table, 1)
    assert plan.nodes == () and plan.peak_after == plan.peak_before and not plan.fits


@pytest.mark.parametrize("bad", [-1, 0, "lots", 1.5, True])
def test_bad_remat_is_a_value_error(bad):
    model = deep_mlp(8, 1)
    with pytest.raises(ValueError, match="remat must be None, a budget in bytes"):
        model.compile("sgd", "mse", remat=bad)


def test_remat_of_unknown_node_names_it():
    model = deep_mlp(8, 1)
    with pytest.raises(ValueError, match=r"no node\(s\) \['nope'\]"):
        model.compile("sgd", "mse", remat=["nope"])


@pytest.mark.slow
def test_fit_with_remat_trains_to_the_same_weights():
    x = np.random.default_rng(1).normal(size=(64, 16)).astype("float32")
    y = np.random.default_rng(2).normal(size=(64, 3)).astype("float32")
    weights = []
    for remat in (None, "auto", ["bn0", "act0", "act1"]):
        gn.utils.set_random_seed(0)
        model = deep_mlp(16, 2)
        model.compile("sgd", "mse", remat=remat)
        model.fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False)
        weights.append(model.get_weights())
    for other in weights[1:]:
        for a, b in zip(weights[0], other):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


# ---- where the table is shown ----------------------------------------------------------------
def test_summary_with_cost_adds_flops_memory_and_the_remat_choice():
    model = deep_mlp(8, 2)
    lines = []
    model.summary(print_fn=lines.append, cost=True)
    text = lines[0]
    assert "FLOPs" in text and "Activations" in text and "Saved" in text
    assert "Total params:" in text
    dense = gn.cost(model)["dense0"]
    assert f"{dense.flops:.0f}" in text
    model.compile("sgd", "mse", remat=["bn0"])
    lines.clear()
    model.summary(print_fn=lines.append, cost=True)
    assert "Rematerialization: recompute bn0" in lines[0]


@pytest.mark.parametrize("what", ["flops", "memory"])
def test_picture_is_shaded_by_share_with_a_legend(tmp_path, what, monkeypatch):
    """Each format writes the shading; the shares are measured once (a compile per node),
    not once per format."""
    shares, measure_shares = {}, costing.shading

    def measured_once(model, what):
        if (id(model), what) not in shares:
            shares[id(model), what] = measure_shares(model, what)
        return shares[id(model), what]
    monkeypatch.setattr(costing, "shading", measured_once)
    model = small_cnn()
    gn.plot_model(model, tmp_path / "m.dot", cost=what)
    dot = (tmp_path / "m.dot").read_text()
    assert "shade: share of" in dot and "darkest" in dot
    assert dot.count("%</B>") == len(model.graph)
    gn.plot_model(model, tmp_path / "m.svg", cost=what)
    assert "shade: share of" in (tmp_path / "m.svg").read_text()
    gn.plot_model(model, tmp_path / "m.mmd", cost=what)
    assert "style " in (tmp_path / "m.mmd").read_text()
    assert list(shares) == [(id(model), what)]


def test_picture_escapes_and_refuses_unknown_measures(tmp_path):
    x = gn.Input(shape=(4,), name="x")
    model = gn.Model(x, layers.Dense(2, name='a<b>"&c')(x))
    gn.plot_model(model, tmp_path / "m.dot", cost="flops")
    dot = (tmp_path / "m.dot").read_text()
    assert "<B>a&lt;b&gt;&quot;&amp;c</B>" in dot and "<B>a<b>" not in dot
    with pytest.raises(ValueError, match=r"cost must be one of \['flops', 'memory'\]"):
        gn.plot_model(model, tmp_path / "m.svg", cost="time")


@pytest.mark.slow
def test_remat_bench_runs_and_saves_memory_on_the_mlp():
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
    import bench_remat
    rows = bench_remat.main(["--networks", "mlp", "--batch", "128", "--repeats", "1"])
    by = {row["remat"]: row for row in rows}
    assert by["auto"]["nodes"] and by["auto"]["temp_bytes"] < by["none"]["temp_bytes"]
    assert by["auto"]["max_grad_diff"] < 1e-5


def test_layers_a_user_wrote_are_costed_per_layer():
    """A user's get_config may leave out what the call reads: no sharing across objects."""
    class Power(layers.Layer):
        def __init__(self, power, **kwargs):
            super().__init__(**kwargs)
            self.power = power

        def call(self, inputs):
            y = inputs
            for _ in range(self.power - 1):
                y = y * inputs
            return y

    x = gn.Input(shape=(4,))
    model = gn.Model(x, Power(4, name="p4")(Power(2, name="p2")(x)))
    table = gn.cost(model, batch_size=1)
    assert table["p2"].flops == 4 and table["p4"].flops == 12
