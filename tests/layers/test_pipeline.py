"""Pipeline against Keras 3 from the same weights, `training` reaching its layers, and the
harness (config, saving, pictures)."""
import jax
import numpy as np

import graphnet as gn
from graphnet import layers
from harness import keras, run_layer_test

X = np.random.default_rng(17).uniform(0, 255, size=(2, 8, 8, 3)).astype("float32")


def test_pipeline_matches_keras_and_numpy():
    models = []
    for lib in (gn, keras()):
        L = lib.layers
        pipeline = L.Pipeline([L.Rescaling(1 / 255), L.Resizing(4, 4), L.Dense(2)])
        inputs = lib.Input((8, 8, 3))
        models.append(lib.Model(inputs, pipeline(inputs)))
    ours, theirs = models
    ours.set_weights(theirs.get_weights())
    got = ours.predict(X, verbose=0)
    np.testing.assert_allclose(got, theirs.predict(X, verbose=0), rtol=1e-5, atol=1e-6)
    kernel, bias = ours.get_weights()
    resized = np.asarray(jax.image.resize(X / 255, (2, 4, 4, 3), "bilinear", antialias=False))
    np.testing.assert_allclose(got, resized @ kernel + bias, rtol=1e-5, atol=1e-6)


def test_training_reaches_the_layers_of_a_pipeline():
    pipeline = layers.Pipeline([layers.RandomFlip("horizontal", seed=1)])
    inputs = gn.Input((8, 8, 3))
    model = gn.Model(inputs, pipeline(inputs))
    np.testing.assert_array_equal(model.predict(X, verbose=0), X)
    flipped = [np.asarray(model.apply(model.params, model.state, X, training=True,
                                      rng=jax.random.key(seed))[0]) for seed in range(8)]
    assert any(not np.array_equal(f, X) for f in flipped)
    assert all(np.array_equal(f[i], X[i]) or np.array_equal(f[i], X[i, :, ::-1])
               for f in flipped for i in range(2))


def test_pipeline_through_the_harness():
    run_layer_test(lambda: layers.Pipeline([layers.Dense(3), layers.Activation("tanh")]),
                   (None, 4), expected_num_weights=2)
