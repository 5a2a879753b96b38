"""graphnet.random: Keras 3's seeded draws, and SeedGenerator as a layer's traced state."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, ops
from graphnet import random as grandom

RTOL = 1e-5

DRAWS = {
    "normal": lambda m, seed: m.normal((4, 3), mean=1.0, stddev=2.0, seed=seed),
    "uniform": lambda m, seed: m.uniform((4, 3), minval=-1.0, maxval=3.0, seed=seed),
    "truncated_normal": lambda m, seed: m.truncated_normal((4, 3), stddev=0.5, seed=seed),
    "randint": lambda m, seed: m.randint((4, 3), 0, 10, seed=seed),
    "dropout": lambda m, seed: m.dropout(np.arange(1, 13, dtype="float32").reshape(4, 3),
                                         0.5, seed=seed),
    "shuffle": lambda m, seed: m.shuffle(np.arange(12).reshape(6, 2), seed=seed),
    "categorical": lambda m, seed: m.categorical(np.log([[0.2, 0.3, 0.5], [0.9, 0.05, 0.05]]),
                                                 5, seed=seed),
}


@pytest.mark.parametrize("name", sorted(DRAWS))
def test_same_numbers_as_keras_for_an_int_seed_and_a_seed_generator(name):
    draw = DRAWS[name]
    np.testing.assert_allclose(draw(grandom, 7), draw(keras.random, 7), rtol=1e-6)
    ours, theirs = grandom.SeedGenerator(1337), keras.random.SeedGenerator(1337)
    for _ in range(2):       # the state advances the same way
        np.testing.assert_allclose(draw(grandom, ours), draw(keras.random, theirs), rtol=1e-6)


def test_int_seed_is_deterministic_and_generator_draws_differ():
    np.testing.assert_array_equal(grandom.normal((5,), seed=3), grandom.normal((5,), seed=3))
    g = grandom.SeedGenerator(42)
    first, second = grandom.normal((5,), seed=g), grandom.normal((5,), seed=g)
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(g.state.numpy(), [42, 2])
    again = grandom.SeedGenerator(42)        # the same seed replays the same sequence
    np.testing.assert_array_equal(grandom.normal((5,), seed=again), first)
    np.testing.assert_array_equal(grandom.normal((5,), seed=again), second)


def test_moments_of_a_large_draw():
    # n = 200_000: the standard error of a mean is sigma / sqrt(n) ~ 0.0022 sigma and of a
    # variance ~ sqrt(2 / n) ~ 0.0032 sigma**2 (normal), so 0.02 is over 6 standard errors.
    n, g = 200_000, grandom.SeedGenerator(0)
    x = np.asarray(grandom.normal((n,), mean=1.0, stddev=2.0, seed=g), np.float64)
    assert abs(x.mean() - 1.0) < 0.02 * 2 and abs(x.var() / 4.0 - 1.0) < 0.02
    u = np.asarray(grandom.uniform((n,), minval=-1.0, maxval=3.0, seed=g), np.float64)
    assert u.min() >= -1.0 and u.max() < 3.0
    assert abs(u.mean() - 1.0) < 0.02 and abs(u.var() - 16 / 12) < 0.02
    t = np.asarray(grandom.truncated_normal((n,), seed=g), np.float64)
    # N(0, 1) cut to [-2, 2]: variance 1 - 4 phi(2) / (2 Phi(2) - 1) = 0.7737.
    assert np.abs(t).max() <= 2.0 and abs(t.mean()) < 0.02 and abs(t.var() - 0.7737) < 0.02
    r = np.asarray(grandom.randint((n,), 0, 10, seed=g))
    np.testing.assert_allclose(np.bincount(r, minlength=10) / n, 0.1, atol=0.005)
    kept = np.asarray(grandom.dropout(np.ones(n, "float32"), 0.25, seed=g))
    assert set(np.unique(kept)) <= {0.0, np.float32(1 / 0.75)}
    assert abs((kept > 0).mean() - 0.75) < 0.01 and abs(kept.mean() - 1.0) < 0.01
    c = np.asarray(grandom.categorical(np.log([[0.2, 0.3, 0.5]]), n, seed=g))[0]
    np.testing.assert_allclose(np.bincount(c, minlength=3) / n, [0.2, 0.3, 0.5], atol=0.01)
    s = np.asarray(grandom.shuffle(np.arange(100), seed=g))
    assert sorted(s) == list(range(100)) and not np.array_equal(s, np.arange(100))


def test_dropout_noise_shape_and_errors():
    x = np.ones((4, 6), "float32")
    y = np.asarray(grandom.dropout(x, 0.5, noise_shape=(None, 1), seed=1))
    assert all(len(set(row)) == 1 for row in y)          # one draw per row
    np.testing.assert_array_equal(grandom.dropout(x, 0.0, seed=1), x)
    np.testing.assert_array_equal(grandom.dropout(x, 1.0, seed=1), 0 * x)
    with pytest.raises(TypeError, match="seed must be an int"):
        grandom.normal((2,), seed="abc")
    with pytest.raises(TypeError, match="seed must be an int"):
        grandom.SeedGenerator(1.5)
    with pytest.raises(ValueError, match="rate"):
        grandom.dropout(x, 1.5)


class Noisy(layers.Layer):
    """Adds N(0, 1) noise drawn from the layer's own SeedGenerator."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = gn.random.SeedGenerator(1337)

    def call(self, inputs):
        return inputs + gn.random.normal(ops.shape(inputs), seed=self.seed_generator)


def test_seed_generator_is_layer_state_and_pure_under_jit():
    layer = Noisy()
    x = jnp.zeros((2, 3))
    first, second = layer(x), layer(x)                # eager calls advance the state
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(layer.state[layer.seed_generator.name]["seed_generator_state"],
                                  [1337, 2])
    assert layer.weights == []                          # seeds are not weights (Keras)

    reference = Noisy()
    reference(x)

    @jax.jit
    def step(params, state, x):
        out, new_state, _ = layer._pure_call(params, state, x)
        return out, new_state

    start = {layer.seed_generator.name: {"seed_generator_state": jnp.asarray([1337, 0],
                                                                              jnp.uint32)}}
    out1, state1 = step({}, start, x)
    out2, state2 = step({}, state1, x)
    np.testing.assert_allclose(out1, first)               # traced state, same numbers
    np.testing.assert_allclose(out2, second)
    np.testing.assert_array_equal(state2[layer.seed_generator.name]["seed_generator_state"],
                                  [1337, 2])
    out1_again, _ = step({}, start, x)                    # pure: same state, same draw
    np.testing.assert_array_equal(out1_again, out1)


def test_seed_generator_in_a_functional_model_advances_per_training_step():
    inputs = gn.Input((3,))
    noisy = Noisy()
    model = gn.Model(inputs, layers.Dense(1)(noisy(inputs)))
    model.compile("sgd", "mse")
    x, y = np.zeros((12, 3), "float32"), np.zeros((12, 1), "float32")
    model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    np.testing.assert_array_equal(noisy.seed_generator.state.numpy(), [1337, 3])
    # Inference advances it too, once per batch, as Keras's predict does.
    first, second = model.predict(x, verbose=0), model.predict(x, batch_size=5, verbose=0)
    assert not np.allclose(first, second)
    np.testing.assert_array_equal(noisy.seed_generator.state.numpy(), [1337, 3 + 1 + 3])


def test_seed_none_inside_a_call_uses_the_calls_key():
    class Unseeded(layers.Layer):
        def call(self, inputs, training=None):
            return inputs + gn.random.normal(ops.shape(inputs))

    layer = Unseeded()
    x = jnp.zeros((2, 3))
    out, _, _ = layer._pure_call({}, {}, x, training=True, rng=jax.random.key(0))
    again, _, _ = layer._pure_call({}, {}, x, training=True, rng=jax.random.key(0))
    other, _, _ = layer._pure_call({}, {}, x, training=True, rng=jax.random.key(1))
    np.testing.assert_array_equal(out, again)
    assert not np.allclose(out, other)
    with pytest.raises(ValueError, match="SeedGenerator"):
        layer._pure_call({}, {}, x, training=False, rng=None)


def vae_guide(keras_module, layers, ops):
    """The VAE of Keras's guide "Making new layers and models via subclassing", unchanged:
    the model's call adds the KL term with self.add_loss."""
    class Sampling(layers.Layer):
        """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras_module.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            batch = ops.shape(z_mean)[0]
            dim = ops.shape(z_mean)[1]
            epsilon = keras_module.random.normal(shape=(batch, dim), seed=self.seed_generator)
            return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    class Encoder(layers.Layer):
        def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_mean = layers.Dense(latent_dim)
            self.dense_log_var = layers.Dense(latent_dim)
            self.sampling = Sampling()

        def call(self, inputs):
            x = self.dense_proj(inputs)
            z_mean = self.dense_mean(x)
            z_log_var = self.dense_log_var(x)
            z = self.sampling((z_mean, z_log_var))
            return z_mean, z_log_var, z

    class Decoder(layers.Layer):
        def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_output = layers.Dense(original_dim, activation="sigmoid")

        def call(self, inputs):
            x = self.dense_proj(inputs)
            return self.dense_output(x)

    class VariationalAutoEncoder(keras_module.Model):
        def __init__(self, original_dim, intermediate_dim=64, latent_dim=32,
                     name="autoencoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.original_dim = original_dim
            self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
            self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

        def call(self, inputs):
            z_mean, z_log_var, z = self.encoder(inputs)
            reconstructed = self.decoder(z)
            # Add KL divergence regularization loss.
            kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
            self.add_loss(kl_loss)
            return reconstructed

    return VariationalAutoEncoder


def test_guide_vae_add_loss_in_the_models_call_matches_keras():
    x = np.random.default_rng(0).uniform(size=(16, 8)).astype("float32")
    k = vae_guide(keras, keras.layers, keras.ops)(8, 6, 3)
    k(x[:2])                       # Keras builds by calling (one draw: its seed moves on)
    g = vae_guide(gn, layers, ops)(8, 6, 3)
    g.build((None, 8))
    g.set_weights(k.get_weights())
    k_seed = k.encoder.sampling.seed_generator
    g.encoder.sampling.seed_generator.state.assign(k_seed.state.numpy())
    # The KL term is in the graph: a scalar node beside the output, not an output.
    assert g.graph.graph["losses"] and g.output_shape == (None, 8)
    k.compile(keras.optimizers.SGD(0.1), "mse")
    g.compile(gn.optimizers.SGD(0.1), "mse")
    # Keras's total: the compiled loss plus the added loss, here with the same draws.
    np.testing.assert_allclose(g.train_on_batch(x, x), k.train_on_batch(x, x), rtol=RTOL)
    for ours, theirs in zip(g.get_weights(), k.get_weights()):
        np.testing.assert_allclose(ours, theirs, rtol=RTOL, atol=1e-6)
    np.testing.assert_allclose(g.evaluate(x, x, verbose=0), k.evaluate(x, x, verbose=0),
                               rtol=RTOL)
    # By hand: the evaluate loss is the reconstruction MSE plus the KL term of that draw.
    state = g.state
    recon, _ = g.apply(g.params, state, x)
    z_mean, z_log_var, _ = g.encoder._pure_call(g.params["encoder"], state["encoder"], x)[0]
    z_mean, z_log_var = np.asarray(z_mean, np.float64), np.asarray(z_log_var, np.float64)
    kl = -0.5 * np.mean(z_log_var - z_mean ** 2 - np.exp(z_log_var) + 1)
    mse = np.mean((np.asarray(recon, np.float64) - x) ** 2)
    np.testing.assert_allclose(g.evaluate(x, x, verbose=0), mse + kl, rtol=RTOL)


def test_guide_vae_trains_with_fit_and_advances_its_seed_generator():
    from sklearn.datasets import load_digits
    x = (load_digits().data[:256] / 16.0).astype("float32")
    gn.utils.set_random_seed(0)
    vae = vae_guide(gn, layers, ops)(64, 32, 8)
    vae.compile(gn.optimizers.Adam(learning_rate=1e-3), loss=gn.losses.MeanSquaredError())
    history = vae.fit(x, x, epochs=2, batch_size=64, verbose=0)
    losses = history.history["loss"]
    assert len(losses) == 2 and np.all(np.isfinite(losses)) and losses[1] < losses[0]
    # One draw per training step (256 / 64 = 4 steps per epoch), carried as traced state.
    np.testing.assert_array_equal(vae.encoder.sampling.seed_generator.state.numpy(), [1337, 8])
    assert vae.predict(x[:4], verbose=0).shape == (4, 64)


def _noisy_class(keras_module, layers_module, ops_module):
    class Noisy(layers_module.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras_module.random.SeedGenerator(1337)

        def call(self, inputs):
            return inputs + keras_module.random.normal(ops_module.shape(inputs),
                                                       seed=self.seed_generator)
    return Noisy


def _noisy_model(keras_module, layers_module, ops_module):
    inputs = keras_module.Input((4,))
    h = layers_module.Dense(3)(inputs)
    h = layers_module.GaussianNoise(0.1)(layers_module.Dropout(0.2)(h))
    return keras_module.Model(inputs, _noisy_class(keras_module, layers_module, ops_module)()(h))


def test_inference_advances_seed_generators_as_keras():
    k = _noisy_model(keras, keras.layers, keras.ops)
    g = _noisy_model(gn, layers, ops)
    g.set_weights(k.get_weights())
    x = np.linspace(-1, 1, 20, dtype="float32").reshape(5, 4)
    # predict: one draw per batch; an eager call: one draw; the same numbers as Keras.
    for run in (lambda m: m.predict(x, verbose=0), lambda m: m.predict(x, batch_size=2, verbose=0),
                lambda m: np.asarray(m(x)), lambda m: m.predict_on_batch(x)):
        np.testing.assert_allclose(run(g), run(k), rtol=1e-5, atol=1e-6)
        np.testing.assert_array_equal(g.layers[-1].seed_generator.state.numpy(),
                                      k.layers[-1].seed_generator.state.numpy())
    np.testing.assert_array_equal(g.layers[-1].seed_generator.state.numpy(), [1337, 6])
    # evaluate and test_on_batch too: one draw per batch, the same losses.
    y = np.zeros((5, 3), "float32")
    for m in (g, k):
        m.compile("sgd", "mse")
    for run in (lambda m: m.evaluate(x, y, batch_size=2, verbose=0),
                lambda m: m.test_on_batch(x, y)):
        np.testing.assert_allclose(run(g), run(k), rtol=1e-5)
        np.testing.assert_array_equal(g.layers[-1].seed_generator.state.numpy(),
                                      k.layers[-1].seed_generator.state.numpy())
    np.testing.assert_array_equal(g.layers[-1].seed_generator.state.numpy(), [1337, 10])
    # apply stays pure: the state passed in decides, and nothing is written back.
    before = g.state
    out1, new_state = g.apply(g.params, before, x)
    out2, _ = g.apply(g.params, before, x)
    np.testing.assert_array_equal(out1, out2)
    np.testing.assert_array_equal(g.layers[-1].seed_generator.state.numpy(), [1337, 10])
    name = g.layers[-1].name
    np.testing.assert_array_equal(
        new_state[name][g.layers[-1].seed_generator.name]["seed_generator_state"], [1337, 11])


def test_dropout_called_with_training_true_draws_anew_at_each_predict():
    class Model(gn.Model):            # Keras's subclassed form: dropout at inference too
        def __init__(self):
            super().__init__()
            self.dropout = layers.Dropout(0.5)

        def call(self, inputs):
            return self.dropout(inputs, training=True)

    inputs = gn.Input((16,))                # the functional form does the same
    functional = gn.Model(inputs, layers.Dropout(0.5)(inputs, training=True))
    x = np.ones((4, 16), "float32")
    for model in (Model(), functional):
        first, second = model.predict(x, verbose=0), model.predict(x, verbose=0)
        assert set(np.unique(first)) <= {0.0, 2.0} and not np.array_equal(first, second)
        assert not np.array_equal(np.asarray(model(x)), np.asarray(model(x)))
    gn.utils.set_random_seed(3)             # and repeats under set_random_seed
    again = functional.predict(x, verbose=0)
    gn.utils.set_random_seed(3)
    np.testing.assert_array_equal(functional.predict(x, verbose=0), again)


def test_count_params_leaves_seed_states_out_as_keras():
    k = _noisy_model(keras, keras.layers, keras.ops)
    g = _noisy_model(gn, layers, ops)
    assert g.count_params() == k.count_params() == 4 * 3 + 3
    lines = []
    g.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "Total params: 15" in text and "Non-trainable params: 0" in text
    assert g.layers[-1].count_params() == 0


def test_count_params_of_random_image_layers_as_keras():
    def model(keras_module, layers_module, ops_module):
        inputs = keras_module.Input((4, 4, 1))
        h = layers_module.RandomFlip()(inputs)
        h = layers_module.Dense(2)(layers_module.Flatten()(h))
        h = layers_module.GaussianNoise(0.1)(layers_module.Dropout(0.2)(h))
        return keras_module.Model(inputs, _noisy_class(keras_module, layers_module, ops_module)()(h))
    k, g = model(keras, keras.layers, keras.ops), model(gn, layers, ops)
    assert g.count_params() == k.count_params() == 16 * 2 + 2
    assert [layer.count_params() for layer in g.layers] == [layer.count_params() for layer in k.layers]
