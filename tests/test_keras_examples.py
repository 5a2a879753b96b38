"""Custom layers and models from the Keras guides and Deep Learning with Python (chapters
7 and 11), each written once and run by Keras 3 and by graphnet with only the modules
changed: with the same weights, the same outputs."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import keras
import numpy as np

import graphnet as gn
from graphnet import layers as g_layers
from graphnet import ops as g_ops

RTOL = 1e-5


def transformer_layers(keras, layers, ops):
    """Chapter 11's TransformerEncoder, PositionalEmbedding and TransformerDecoder."""

    class TransformerEncoder(layers.Layer):
        def __init__(self, embed_dim, dense_dim, num_heads, **kwargs):
            super().__init__(**kwargs)
            self.embed_dim = embed_dim
            self.dense_dim = dense_dim
            self.num_heads = num_heads
            self.attention = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.dense_proj = keras.Sequential([layers.Dense(dense_dim, activation="relu"),
                                                layers.Dense(embed_dim)])
            self.layernorm_1 = layers.LayerNormalization()
            self.layernorm_2 = layers.LayerNormalization()

        def call(self, inputs, mask=None):
            if mask is not None:
                mask = mask[:, None, :]
            attention_output = self.attention(inputs, inputs, attention_mask=mask)
            proj_input = self.layernorm_1(inputs + attention_output)
            proj_output = self.dense_proj(proj_input)
            return self.layernorm_2(proj_input + proj_output)

        def get_config(self):
            config = super().get_config()
            config.update({"embed_dim": self.embed_dim, "num_heads": self.num_heads,
                           "dense_dim": self.dense_dim})
            return config

    class PositionalEmbedding(layers.Layer):
        def __init__(self, sequence_length, input_dim, output_dim, **kwargs):
            super().__init__(**kwargs)
            self.token_embeddings = layers.Embedding(input_dim=input_dim, output_dim=output_dim)
            self.position_embeddings = layers.Embedding(input_dim=sequence_length,
                                                        output_dim=output_dim)
            self.sequence_length = sequence_length
            self.input_dim = input_dim
            self.output_dim = output_dim

        def call(self, inputs):
            length = ops.shape(inputs)[-1]
            positions = ops.arange(start=0, stop=length, step=1)
            embedded_tokens = self.token_embeddings(inputs)
            embedded_positions = self.position_embeddings(positions)
            return embedded_tokens + embedded_positions

        def compute_mask(self, inputs, mask=None):
            return ops.not_equal(inputs, 0)

    class TransformerDecoder(layers.Layer):
        def __init__(self, embed_dim, dense_dim, num_heads, **kwargs):
            super().__init__(**kwargs)
            self.embed_dim = embed_dim
            self.dense_dim = dense_dim
            self.num_heads = num_heads
            self.attention_1 = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.attention_2 = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
            self.dense_proj = keras.Sequential([layers.Dense(dense_dim, activation="relu"),
                                                layers.Dense(embed_dim)])
            self.layernorm_1 = layers.LayerNormalization()
            self.layernorm_2 = layers.LayerNormalization()
            self.layernorm_3 = layers.LayerNormalization()
            self.supports_masking = True

        def call(self, inputs, encoder_outputs, mask=None):
            # The causal mask by MultiHeadAttention's `use_causal_mask` (Keras 3 itself cannot
            # trace the book's ops.tile form on JAX: its repeats are traced values).
            padding_mask = None if mask is None else ops.cast(mask[:, None, :], dtype="int32")
            attention_output_1 = self.attention_1(query=inputs, value=inputs, key=inputs,
                                                  use_causal_mask=True)
            attention_output_1 = self.layernorm_1(inputs + attention_output_1)
            attention_output_2 = self.attention_2(query=attention_output_1,
                                                  value=encoder_outputs, key=encoder_outputs,
                                                  attention_mask=padding_mask)
            attention_output_2 = self.layernorm_2(attention_output_1 + attention_output_2)
            proj_output = self.dense_proj(attention_output_2)
            return self.layernorm_3(attention_output_2 + proj_output)

    return TransformerEncoder, PositionalEmbedding, TransformerDecoder


def transformer_classifier(keras, layers, ops):
    """Chapter 11: a text classifier with positional embedding and a Transformer encoder."""
    TransformerEncoder, PositionalEmbedding, _ = transformer_layers(keras, layers, ops)
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = PositionalEmbedding(12, 50, 8)(inputs)
    x = TransformerEncoder(8, 16, 2)(x)
    x = layers.GlobalMaxPooling1D()(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def transformer_seq2seq(keras, layers, ops):
    """Chapter 11: an encoder-decoder Transformer for translation."""
    TransformerEncoder, PositionalEmbedding, TransformerDecoder = transformer_layers(
        keras, layers, ops)
    encoder_inputs = keras.Input(shape=(None,), dtype="int64", name="english")
    x = PositionalEmbedding(10, 40, 8)(encoder_inputs)
    encoder_outputs = TransformerEncoder(8, 16, 2)(x)
    decoder_inputs = keras.Input(shape=(None,), dtype="int64", name="spanish")
    x = PositionalEmbedding(10, 40, 8)(decoder_inputs)
    x = TransformerDecoder(8, 16, 2)(x, encoder_outputs)
    x = layers.Dropout(0.5)(x)
    decoder_outputs = layers.Dense(40, activation="softmax")(x)
    return keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)


def tokens(shape, seed, vocab):
    t = np.random.default_rng(seed).integers(1, vocab, shape)
    t[:, -2:] = 0                                  # padding, masked
    return t.astype("int32")


def same_outputs(k_model, g_model, x):
    assert [tuple(w.shape) for w in k_model.weights] == [w.shape for w in g_model.weights]
    g_model.set_weights(k_model.get_weights())
    expected = k_model.predict(x, verbose=0)
    got = g_model.predict(x)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=2e-6)


def test_chapter_11_transformer_encoder_classifier():
    k = transformer_classifier(keras, keras.layers, keras.ops)
    g = transformer_classifier(gn, g_layers, g_ops)
    same_outputs(k, g, tokens((4, 12), 0, 50))


def test_chapter_11_transformer_encoder_decoder():
    k = transformer_seq2seq(keras, keras.layers, keras.ops)
    g = transformer_seq2seq(gn, g_layers, g_ops)
    same_outputs(k, g, [tokens((3, 10), 1, 40), tokens((3, 10), 2, 40)])


def mixing_subclassed_and_functional(keras, layers):
    """Chapter 7: a subclassed model inside a functional one, and the other way round."""
    class Classifier(keras.Model):
        def __init__(self, num_classes=2):
            super().__init__()
            if num_classes == 2:
                num_units, activation = 1, "sigmoid"
            else:
                num_units, activation = num_classes, "softmax"
            self.dense = layers.Dense(num_units, activation=activation)

        def call(self, inputs):
            return self.dense(inputs)

    inputs = keras.Input(shape=(3,))
    features = layers.Dense(64, activation="relu")(inputs)
    outputs = Classifier(num_classes=10)(features)
    model = keras.Model(inputs=inputs, outputs=outputs)

    inputs = keras.Input(shape=(64,))
    outputs = layers.Dense(1, activation="sigmoid")(inputs)
    binary_classifier = keras.Model(inputs=inputs, outputs=outputs)

    class MyModel(keras.Model):
        def __init__(self, num_classes=2):
            super().__init__()
            self.dense = layers.Dense(64, activation="relu")
            self.classifier = binary_classifier

        def call(self, inputs):
            features = self.dense(inputs)
            return self.classifier(features)

    return model, MyModel()


def test_chapter_7_mixing_subclassed_and_functional():
    (k1, k2), (g1, g2) = (mixing_subclassed_and_functional(keras, keras.layers),
                          mixing_subclassed_and_functional(gn, g_layers))
    x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
    same_outputs(k1, g1, x)
    x64 = np.random.default_rng(1).normal(size=(5, 64)).astype("float32")
    k2(x64)
    g2(x64)
    same_outputs(k2, g2, x64)


def toy_resnet(keras, layers):
    """The functional API guide's toy ResNet (smaller images): `layers.add` skips."""
    inputs = keras.Input(shape=(16, 16, 3), name="img")
    x = layers.Conv2D(8, 3, activation="relu")(inputs)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(16, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])
    x = layers.Conv2D(16, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(32, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs, name="toy_resnet")


def test_functional_guide_toy_resnet():
    k, g = toy_resnet(keras, keras.layers), toy_resnet(gn, g_layers)
    assert [l.name.rsplit("_", 1)[0] if l.name[-1].isdigit() else l.name for l in g.layers][1] \
        == "conv2d"
    same_outputs(k, g, np.random.default_rng(0).normal(size=(2, 16, 16, 3)).astype("float32"))


def guide_custom_dense(keras, layers, ops):
    """The functional API guide's CustomDense, with get_config, in a functional model."""
    class CustomDense(layers.Layer):
        def __init__(self, units=32):
            super().__init__()
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                     initializer="random_normal", trainable=True)
            self.b = self.add_weight(shape=(self.units,), initializer="random_normal",
                                     trainable=True)

        def call(self, inputs):
            return ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            return {"units": self.units}

    inputs = keras.Input((4,))
    outputs = CustomDense(10)(inputs)
    return keras.Model(inputs, outputs), CustomDense


def test_functional_guide_custom_dense_and_from_config(tmp_path):
    k, _ = guide_custom_dense(keras, keras.layers, keras.ops)
    g, GCustomDense = guide_custom_dense(gn, g_layers, g_ops)
    x = np.random.default_rng(0).normal(size=(3, 4)).astype("float32")
    same_outputs(k, g, x)
    gn.register_serializable(package="test_examples")(GCustomDense)
    g.save(tmp_path / "custom.graphnet")
    np.testing.assert_array_equal(gn.load_model(tmp_path / "custom.graphnet").predict(x),
                                  g.predict(x))
    config = g.get_config()
    rebuilt = gn.Model.from_config(config)
    assert rebuilt.output_shape == (None, 10)
