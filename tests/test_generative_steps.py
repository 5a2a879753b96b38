"""Deep Learning with Python's generative models in Keras 3's JAX form: a GAN (two
sub-models, two optimizers held by the model) and a VAE (its KL term added by `add_loss`
inside the encoder), run with graphnet and with Keras 3 from the same weights.

The random numbers (the GAN's latent points, the VAE's epsilon) come with the data, so both
libraries see the same draws. Keras runs the GAN eagerly: its compiled step has no place
for a second optimizer's variables, which graphnet carries through its compiled steps."""
import jax
import keras
import numpy as np
import pytest

import graphnet as gn

RNG = np.random.default_rng(3)
IMAGES = RNG.random((48, 8, 8, 1)).astype("float32")      # 8x8 images, as sklearn's digits


def _gan(lib):
    layers, ops = lib.layers, lib.ops
    discriminator = lib.Sequential([
        lib.Input(shape=(8, 8, 1)), layers.Flatten(), layers.Dense(8),
        layers.LeakyReLU(negative_slope=0.2), layers.Dense(1)], name="discriminator")
    generator = lib.Sequential([
        lib.Input(shape=(4,)), layers.Dense(8), layers.LeakyReLU(negative_slope=0.2),
        layers.Dense(64, activation="sigmoid"), layers.Reshape((8, 8, 1))], name="generator")

    class GAN(lib.Model):
        def __init__(self, discriminator, generator):
            super().__init__()
            self.discriminator = discriminator
            self.generator = generator
            self.d_loss_tracker = lib.metrics.Mean(name="d_loss")
            self.g_loss_tracker = lib.metrics.Mean(name="g_loss")
            self.built = True

        @property
        def metrics(self):
            return [self.d_loss_tracker, self.g_loss_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn
            self.d_optimizer.build(self.discriminator.trainable_variables)
            self.g_optimizer.build(self.generator.trainable_variables)

        def d_loss(self, d_vars, d_nt, images, labels):
            pred, d_nt = self.discriminator.stateless_call(d_vars, d_nt, images, training=True)
            return self.loss_fn(labels, pred), d_nt

        def g_loss(self, g_vars, g_nt, d_vars, d_nt, latents):
            fake, g_nt = self.generator.stateless_call(g_vars, g_nt, latents, training=True)
            pred, d_nt = self.discriminator.stateless_call(d_vars, d_nt, fake, training=True)
            return self.loss_fn(ops.zeros_like(pred), pred), (g_nt, d_nt)   # "all real"

        def train_step(self, state, data):
            trainable, non_trainable, optimizer_variables, metrics_variables = state
            real, latents = data
            n = len(self.discriminator.trainable_variables)
            d_vars, g_vars = trainable[:n], trainable[n:]
            m = len(self.discriminator.non_trainable_variables)
            d_nt, g_nt = non_trainable[:m], non_trainable[m:]
            fake, g_nt = self.generator.stateless_call(g_vars, g_nt, latents)
            images = ops.concatenate([fake, real])
            labels = ops.concatenate([ops.ones((real.shape[0], 1)),
                                      ops.zeros((real.shape[0], 1))])
            (d_loss, d_nt), grads = jax.value_and_grad(self.d_loss, has_aux=True)(
                d_vars, d_nt, images, labels)
            d_opt = [v.value for v in self.d_optimizer.variables]
            d_vars, d_opt = self.d_optimizer.stateless_apply(d_opt, grads, d_vars)
            for variable, value in zip(self.d_optimizer.variables, d_opt):
                variable.assign(value)
            (g_loss, (g_nt, d_nt)), grads = jax.value_and_grad(self.g_loss, has_aux=True)(
                g_vars, g_nt, d_vars, d_nt, latents)
            g_opt = [v.value for v in self.g_optimizer.variables]
            g_vars, g_opt = self.g_optimizer.stateless_apply(g_opt, grads, g_vars)
            for variable, value in zip(self.g_optimizer.variables, g_opt):
                variable.assign(value)
            d_state = self.d_loss_tracker.stateless_update_state(metrics_variables[:2], d_loss)
            g_state = self.g_loss_tracker.stateless_update_state(metrics_variables[2:], g_loss)
            logs = {"d_loss": self.d_loss_tracker.stateless_result(d_state),
                    "g_loss": self.g_loss_tracker.stateless_result(g_state)}
            return logs, (d_vars + g_vars, d_nt + g_nt, optimizer_variables, d_state + g_state)

    gan = GAN(discriminator, generator)
    gan.compile(lib.optimizers.Adam(1e-2), lib.optimizers.Adam(1e-2),
                lib.losses.BinaryCrossentropy(from_logits=True))
    return gan


def _vae(lib):
    layers, ops = lib.layers, lib.ops

    class KLDivergence(layers.Layer):
        def call(self, inputs):
            z_mean, z_log_var = inputs
            kl = -0.5 * (1 + z_log_var - ops.square(z_mean) - ops.exp(z_log_var))
            self.add_loss(ops.mean(ops.sum(kl, axis=1)))
            return z_mean

    images = lib.Input(shape=(8, 8, 1))
    h = layers.Dense(16, activation="relu")(layers.Flatten()(images))
    z_mean, z_log_var = layers.Dense(2)(h), layers.Dense(2)(h)
    encoder = lib.Model(images, [KLDivergence()([z_mean, z_log_var]), z_log_var],
                        name="encoder")
    latent = lib.Input(shape=(2,))
    pixels = layers.Dense(64, activation="sigmoid")(layers.Dense(16, activation="relu")(latent))
    decoder = lib.Model(latent, layers.Reshape((8, 8, 1))(pixels), name="decoder")

    class VAE(lib.Model):
        def __init__(self, encoder, decoder):
            super().__init__()
            self.encoder, self.decoder = encoder, decoder
            self.total_loss_tracker = lib.metrics.Mean(name="total_loss")
            self.reconstruction_loss_tracker = lib.metrics.Mean(name="reconstruction_loss")
            self.kl_loss_tracker = lib.metrics.Mean(name="kl_loss")
            self.built = True

        @property
        def metrics(self):
            return [self.total_loss_tracker, self.reconstruction_loss_tracker,
                    self.kl_loss_tracker]

        def compute_losses(self, trainable, non_trainable, x, epsilon):
            n = len(self.encoder.trainable_variables)
            m = len(self.encoder.non_trainable_variables)
            (z_mean, z_log_var), enc_nt, losses = self.encoder.stateless_call(
                trainable[:n], non_trainable[:m], x, training=True, return_losses=True)
            z = z_mean + ops.exp(0.5 * z_log_var) * epsilon
            reconstruction, dec_nt = self.decoder.stateless_call(
                trainable[n:], non_trainable[m:], z, training=True)
            reconstruction_loss = ops.mean(ops.sum(
                lib.losses.binary_crossentropy(x, reconstruction), axis=(1, 2)))
            kl_loss = sum(losses)
            return reconstruction_loss + kl_loss, (reconstruction_loss, kl_loss,
                                                   enc_nt + dec_nt)

        def train_step(self, state, data):
            trainable, non_trainable, optimizer_variables, metrics_variables = state
            x, epsilon = data
            (total, (rec, kl, non_trainable)), grads = jax.value_and_grad(
                self.compute_losses, has_aux=True)(trainable, non_trainable, x, epsilon)
            trainable, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable)
            new_metrics, logs = [], {}
            for metric, value in zip(self.metrics, (total, rec, kl)):
                start = len(new_metrics)
                variables = metrics_variables[start:start + len(metric.variables)]
                variables = metric.stateless_update_state(variables, value)
                logs[metric.name] = metric.stateless_result(variables)
                new_metrics += variables
            return logs, (trainable, non_trainable, optimizer_variables, new_metrics)

    vae = VAE(encoder, decoder)
    vae.compile(optimizer=lib.optimizers.Adam(1e-2))
    return vae


def _same_weights(ours, theirs, parts):
    for part in parts:
        getattr(theirs, part).set_weights(getattr(ours, part).get_weights())


def _assert_same(ours, theirs, h1, h2, parts):
    assert h1.keys() == h2.keys()
    for key in h1:
        np.testing.assert_allclose(h1[key], h2[key], rtol=1e-5, atol=1e-6)
    for part in parts:
        for a, b in zip(getattr(ours, part).get_weights(), getattr(theirs, part).get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _keras_gan_fit(gan, images, latents, batch_size, epochs):
    """Keras's fit of the GAN, its step compiled: Keras's StatelessScope stands the two
    optimizers' variables for the values carried, as graphnet does (Keras's own compiled
    fit has no place for them). Metrics reset every epoch; each epoch's logs are its last
    step's."""
    held = gan.d_optimizer.variables + gan.g_optimizer.variables

    @jax.jit
    def step(state, held_values, data):
        with keras.StatelessScope(state_mapping=list(zip(held, held_values))) as scope:
            logs, state = gan.train_step(state, data)
        return logs, state, [scope.get_current_value(v) for v in held]

    state = [[v.value for v in group] for group in (
        gan.trainable_variables, gan.non_trainable_variables, gan.optimizer.variables)]
    held_values = [v.value for v in held]
    history = {}
    for _ in range(epochs):
        state = (*state[:3], [v for m in gan.metrics for v in m.stateless_reset_state()])
        for start in range(0, len(images), batch_size):
            batch = slice(start, start + batch_size)
            logs, state, held_values = step(state, held_values, (images[batch], latents[batch]))
        for key, value in logs.items():
            history.setdefault(key, []).append(float(value))
    for group, values in zip((gan.trainable_variables, held), (state[0], held_values)):
        for variable, value in zip(group, values):
            variable.assign(value)
    return history


@pytest.mark.slow
def test_the_gan_with_two_optimizers_gives_keras_numbers():
    latents = RNG.normal(size=(48, 4)).astype("float32")
    ours, theirs = _gan(gn), _gan(keras)
    parts = ("discriminator", "generator")
    _same_weights(ours, theirs, parts)
    assert [tuple(v.shape) for v in ours.trainable_variables] == \
        [tuple(v.shape) for v in theirs.trainable_variables]
    h1 = ours.fit(IMAGES, latents, batch_size=16, epochs=2, shuffle=False, verbose=0)
    h2 = _keras_gan_fit(theirs, IMAGES, latents, batch_size=16, epochs=2)
    _assert_same(ours, theirs, h1.history, h2, parts)
    with pytest.raises(TypeError, match=r"Model 'gan(_\d+)?' has no call\(\): it holds other models"):
        ours.predict(latents)
    # Both optimizers' moments were carried through the compiled steps and written back.
    for name in ("d_optimizer", "g_optimizer"):
        assert int(getattr(ours, name).iterations) == 6
        ours_v = sorted(float(np.abs(v.value).sum()) for v in getattr(ours, name).variables
                        if np.size(v.value) > 1)
        theirs_v = sorted(float(np.abs(v.value).sum()) for v in getattr(theirs, name).variables
                          if np.size(v.value) > 1)
        assert ours_v == pytest.approx(theirs_v, rel=1e-5, abs=1e-6)


@pytest.mark.slow
def test_the_vae_with_add_loss_in_its_encoder_gives_keras_numbers():
    epsilon = RNG.normal(size=(48, 2)).astype("float32")
    ours, theirs = _vae(gn), _vae(keras)
    parts = ("encoder", "decoder")
    _same_weights(ours, theirs, parts)
    h1 = ours.fit(IMAGES, epsilon, batch_size=16, epochs=2, shuffle=False, verbose=0)
    h2 = theirs.fit(IMAGES, epsilon, batch_size=16, epochs=2, shuffle=False, verbose=0)
    assert min(h1.history["kl_loss"]) > 0          # the encoder's add_loss reached the step
    _assert_same(ours, theirs, h1.history, h2.history, parts)
