"""The book's models that use this catalogue build, predict, and agree with Keras 3."""
import jax
import jax.numpy as jnp
import numpy as np

import graphnet as gn
from harness import keras


def same_weights(ours, theirs):
    for layer in ours.layers:
        if layer.get_weights():
            theirs.get_layer(layer.name).set_weights(layer.get_weights())


def question_answering(lib):
    """DLwP 7.1: two text inputs, Embedding + LSTM each, concatenated, softmax answer."""
    L = lib.layers
    text = lib.Input((None,), dtype="int32", name="text")
    question = lib.Input((None,), dtype="int32", name="question")
    encoded_text = L.LSTM(32, name="text_lstm")(L.Embedding(100, 16, name="text_emb")(text))
    encoded_q = L.LSTM(16, name="q_lstm")(L.Embedding(100, 8, name="q_emb")(question))
    merged = L.Concatenate(axis=-1, name="cat")([encoded_text, encoded_q])
    return lib.Model([text, question], L.Dense(50, activation="softmax", name="answer")(merged))


def inception(lib):
    """The M3 inception block on 8x8x1 digits."""
    L = lib.layers
    x = lib.Input((8, 8, 1), name="image")
    a = L.Conv2D(16, 1, activation="relu", name="a")(x)
    b = L.Conv2D(16, 3, padding="same", activation="relu", name="b2")(
        L.Conv2D(16, 1, activation="relu", name="b1")(x))
    c = L.Conv2D(16, 1, activation="relu", name="c")(
        L.MaxPooling2D(3, strides=1, padding="same", name="pool")(x))
    y = L.GlobalAveragePooling2D(name="gap")(L.Concatenate(name="cat")([a, b, c]))
    return lib.Model(x, L.Dense(10, activation="softmax", name="out")(y))


def residual(lib):
    """DLwP 7.1 residual block: two same-padded Conv2D added to their input, then BN."""
    L = lib.layers
    x = lib.Input((9, 9, 8), name="image")
    y = L.Conv2D(8, 3, padding="same", activation="relu", name="c1")(x)
    y = L.Conv2D(8, 3, padding="same", activation="relu", name="c2")(y)
    y = L.Add(name="add")([y, x])
    y = L.BatchNormalization(name="bn")(y)
    y = L.Conv2D(4, 3, strides=2, padding="same", name="down")(y)
    return lib.Model(x, L.MaxPooling2D(name="pool")(y))


def test_question_answering_model_matches_keras():
    ours, theirs = question_answering(gn), question_answering(keras())
    same_weights(ours, theirs)
    rng = np.random.default_rng(0)
    text, question = rng.integers(1, 100, (4, 12)), rng.integers(1, 100, (4, 5))
    got = ours.predict({"text": text, "question": question})
    assert got.shape == (4, 50)
    np.testing.assert_allclose(got, theirs.predict([text, question], verbose=0), rtol=1e-5,
                               atol=1e-6)


def test_inception_and_residual_models_match_keras_and_differentiate():
    rng = np.random.default_rng(1)
    for build, shape in ((inception, (3, 8, 8, 1)), (residual, (3, 9, 9, 8))):
        ours, theirs = build(gn), build(keras())
        same_weights(ours, theirs)
        x = rng.normal(size=shape).astype("float32")
        np.testing.assert_allclose(ours.predict(x), theirs.predict(x, verbose=0), rtol=1e-5,
                                   atol=1e-5)

        def loss(params):
            out, _ = ours.apply(params, ours.state, x, training=True)
            return jnp.sum(out ** 2)
        grads = jax.jit(jax.grad(loss))(ours.params)
        assert all(np.isfinite(g).all() for g in jax.tree_util.tree_leaves(grads))
        assert any(np.abs(g).max() > 0 for g in jax.tree_util.tree_leaves(grads))
