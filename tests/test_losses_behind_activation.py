"""Crossentropies computed from the logits behind a softmax/sigmoid output: the values and
gradients of Keras's clipped probability losses, with the logits form's compile."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, losses

keras = pytest.importorskip("keras")

EPS = 1e-7


def np_cce_from_probs(y, z):
    """Keras's formula in float64: softmax, renormalize, clip, log."""
    z = z.astype(np.float64)
    p = np.exp(z - z.max(-1, keepdims=True))
    p = p / p.sum(-1, keepdims=True)
    p = np.clip(p / p.sum(-1, keepdims=True), EPS, 1 - EPS)
    return -(y * np.log(p)).sum(-1)


def np_bce_from_probs(y, z):
    p = np.clip(1 / (1 + np.exp(-z.astype(np.float64))), EPS, 1 - EPS)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean(-1)


@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_categorical_matches_the_probability_formula_and_keras(smoothing):
    rng = np.random.default_rng(0)
    z = rng.normal(0, 2, (16, 5)).astype("float32")
    y = np.eye(5, dtype="float32")[rng.integers(0, 5, 16)]
    fused = losses.behind_activation(losses.CategoricalCrossentropy(label_smoothing=smoothing),
                                     "softmax")
    got = float(fused(y, z))
    ys = y * (1 - smoothing) + smoothing / 5
    np.testing.assert_allclose(got, np_cce_from_probs(ys, z).mean(), rtol=1e-5)
    ref = keras.losses.CategoricalCrossentropy(label_smoothing=smoothing)(
        y, keras.activations.softmax(z))
    np.testing.assert_allclose(got, float(ref), rtol=1e-5)


def test_sparse_and_binary_match_keras():
    rng = np.random.default_rng(1)
    z = rng.normal(0, 2, (16, 5)).astype("float32")
    labels = rng.integers(0, 5, 16)
    fused = losses.behind_activation(losses.get("sparse_categorical_crossentropy"), "softmax")
    ref = keras.losses.SparseCategoricalCrossentropy()(labels, keras.activations.softmax(z))
    np.testing.assert_allclose(float(fused(labels, z)), float(ref), rtol=1e-5)
    zb = rng.normal(0, 3, (16, 3)).astype("float32")
    yb = (rng.random((16, 3)) > 0.5).astype("float32")
    fused = losses.behind_activation(losses.BinaryCrossentropy(), "sigmoid")
    np.testing.assert_allclose(float(fused(yb, zb)), np_bce_from_probs(yb, zb).mean(), rtol=1e-5)
    ref = keras.losses.BinaryCrossentropy()(yb, keras.activations.sigmoid(zb))
    np.testing.assert_allclose(float(fused(yb, zb)), float(ref), rtol=1e-5)


def test_clipped_where_keras_clips_values_and_zero_gradient():
    # A confidently wrong and a confidently right sample: both clipped by Keras.
    z = np.array([[30.0, -30.0, 0.0], [-30.0, 30.0, 0.0]], "float32")
    y = np.array([[0, 1, 0], [0, 1, 0]], "float32")
    fused = losses.behind_activation(losses.get("categorical_crossentropy"), "softmax")
    per = losses.categorical_crossentropy(y, z, from_logits=losses.CLIPPED_LOGITS)
    keras_per = keras.losses.categorical_crossentropy(y, keras.activations.softmax(z))
    np.testing.assert_allclose(np.asarray(per), np.asarray(keras_per), rtol=1e-5)
    np.testing.assert_allclose(float(per[0]), -np.log(np.float32(EPS)), rtol=1e-6)
    grad = jax.grad(lambda z: fused(jnp.asarray(y), z))(jnp.asarray(z))
    keras_grad = jax.grad(lambda z: losses.get("categorical_crossentropy")(
        jnp.asarray(y), jax.nn.softmax(z)))(jnp.asarray(z))
    np.testing.assert_array_equal(np.asarray(grad), 0.0)
    np.testing.assert_allclose(np.asarray(grad), np.asarray(keras_grad), atol=1e-12)


def test_gradient_equals_the_probability_form_where_nothing_is_clipped():
    rng = np.random.default_rng(2)
    z = jnp.asarray(rng.normal(0, 1, (8, 4)).astype("float32"))
    y = jnp.asarray(np.eye(4, dtype="float32")[rng.integers(0, 4, 8)])
    fused = losses.behind_activation(losses.get("categorical_crossentropy"), "softmax")
    g1 = jax.grad(lambda z: fused(y, z))(z)
    g2 = jax.grad(lambda z: losses.get("categorical_crossentropy")(y, jax.nn.softmax(z)))(z)
    np.testing.assert_allclose(np.asarray(g1), np.asarray(g2), rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize("loss, activation", [
    (losses.CategoricalCrossentropy(from_logits=True), "softmax"),
    (losses.CategoricalCrossentropy(axis=1), "softmax"),
    (losses.get("categorical_crossentropy"), "sigmoid"),
    (losses.get("binary_crossentropy"), "softmax"),
    (losses.get("mse"), "softmax"),
    (None, "softmax"),
])
def test_not_applicable(loss, activation):
    assert losses.behind_activation(loss, activation) is None


def test_a_subclass_with_its_own_call_is_left_alone():
    class Mine(losses.CategoricalCrossentropy):
        def call(self, y_true, y_pred):
            return super().call(y_true, y_pred) * 2.0
    assert losses.behind_activation(Mine(), "softmax") is None


def test_run_returns_the_logits_behind_softmax_and_sigmoid_outputs():
    inp = gn.Input((4,))
    h = layers.Dense(6, activation="relu", name="h")(inp)
    soft = layers.Dense(3, activation="softmax", name="soft")(h)
    sig = layers.Activation("sigmoid", name="sig")(layers.Dense(2, name="pre")(h))
    model = gn.Model(inp, [soft, sig, h])
    x = np.random.default_rng(0).normal(size=(5, 4)).astype("float32")
    outs, _, _, logits = model._run(model.params, model.state, [x], False, None, logits=True)
    plain, _, _ = model._run(model.params, model.state, [x], False, None)
    for a, b in zip(outs, plain):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    hidden = np.maximum(x @ model.get_layer("h").get_weights()[0], 0)
    k, b = model.get_layer("soft").get_weights()
    np.testing.assert_allclose(np.asarray(logits[0]), hidden @ k + b, rtol=1e-5, atol=1e-6)
    k, b = model.get_layer("pre").get_weights()
    np.testing.assert_allclose(np.asarray(logits[1]), hidden @ k + b, rtol=1e-5, atol=1e-6)
    assert logits[2] is None
    assert [layer.logits_activation() for layer in (model.get_layer("soft"),
            model.get_layer("sig"), model.get_layer("h"))] == ["softmax", "sigmoid", None]


def test_half_precision_predictions_are_scored_in_float32():
    y = np.eye(3, dtype="float32")[[0, 1, 2, 1]]
    p = np.full((4, 3), 1 / 3, "float32")
    value = losses.get("categorical_crossentropy")(y, jnp.asarray(p, jnp.float16))
    assert value.dtype == jnp.float32
    np.testing.assert_allclose(float(value), np.log(3.0), rtol=1e-3)


# ---- one-hot targets: the clip on each sample's own log-probability -------------------------
def _elementwise_sparse(labels, z):
    """The per-class clip written out: sum_c onehot_c clip(log_softmax_c)."""
    log_p = jnp.clip(jax.nn.log_softmax(z), np.log(np.float32(EPS)), np.log1p(-np.float32(EPS)))
    return -jnp.sum(jax.nn.one_hot(labels, z.shape[-1]) * log_p, -1)


def test_one_hot_targets_give_the_per_class_values_and_gradients_exactly():
    rng = np.random.default_rng(3)
    z = rng.normal(0, 2, (12, 4)).astype("float32")
    z[0] = [40.0, -40.0, 0.0, 0.0]          # label 1 at p < 1e-7: clipped below
    z[1] = [-40.0, 40.0, 0.0, 0.0]          # label 1 at p > 1 - 1e-7: clipped above
    labels = rng.integers(0, 4, 12)
    labels[:2] = 1
    y = np.eye(4, dtype="float32")[labels]
    per_class = losses.CategoricalCrossentropy(from_logits=losses.CLIPPED_LOGITS)
    per_sample = losses.behind_activation(losses.CategoricalCrossentropy(), "softmax",
                                          one_hot_targets=True)
    assert per_sample.fn_kwargs["from_logits"] == losses.CLIPPED_ONE_HOT
    for fn in (lambda z: per_sample(y, z), lambda z: _elementwise_sparse(labels, z).mean()):
        np.testing.assert_array_equal(np.asarray(fn(z)), np.asarray(per_class(y, z)))
        np.testing.assert_array_equal(np.asarray(jax.grad(fn)(jnp.asarray(z))),
                                      np.asarray(jax.grad(lambda z: per_class(y, z))(z)))
    sparse = losses.behind_activation(losses.get("sparse_categorical_crossentropy"), "softmax")
    np.testing.assert_array_equal(np.asarray(sparse(labels, z)), np.asarray(per_class(y, z)))
    np.testing.assert_array_equal(
        np.asarray(jax.grad(lambda z: sparse(labels, z))(jnp.asarray(z))),
        np.asarray(jax.grad(lambda z: per_class(y, z))(jnp.asarray(z))))
    assert float(per_sample(y[:1], z[:1])) == pytest.approx(-np.log(np.float32(EPS)), rel=1e-6)


def test_soft_targets_and_label_smoothing_keep_the_per_class_clip():
    z = np.array([[40.0, -40.0, 0.0]], "float32")   # class 1 far below p = 1e-7
    soft = np.array([[0.5, 0.5, 0.0]], "float32")
    keras_value = float(keras.losses.categorical_crossentropy(soft, keras.activations.softmax(z))[0])
    fused = losses.behind_activation(losses.CategoricalCrossentropy(), "softmax")
    np.testing.assert_allclose(float(fused(soft, z)), keras_value, rtol=1e-5)
    # Told (wrongly) that these are one-hot, the per-sample clip would cap the whole sum:
    # fit never says so, as the data check below shows.
    assert not losses.one_hot_rows(soft)
    smoothed = losses.behind_activation(losses.CategoricalCrossentropy(label_smoothing=0.2),
                                        "softmax", one_hot_targets=True)
    y = np.array([[0.0, 1.0, 0.0]], "float32")
    ref = keras.losses.CategoricalCrossentropy(label_smoothing=0.2)(y, keras.activations.softmax(z))
    np.testing.assert_allclose(float(smoothed(y, z)), float(ref), rtol=1e-5)


@pytest.mark.parametrize("y, expected", [
    (np.eye(3, dtype="float32")[[0, 2, 1]], True),
    (np.eye(3, dtype="int32")[[0, 2]], True),
    (np.array([[0.5, 0.5, 0.0]], "float32"), False),
    (np.array([[1.0, 1.0, 0.0]], "float32"), False),
    (np.array([[0.0, 0.0, 0.0]], "float32"), False),
    (np.array([0.0, 1.0], "float32"), False),
    (None, False),
])
def test_one_hot_rows(y, expected):
    assert losses.one_hot_rows(y) is expected


def test_fit_matches_keras_with_one_hot_and_with_soft_targets():
    """The data decides the form: soft targets in fit or its validation data keep the
    per-class clip; both runs give Keras's losses."""
    rng = np.random.default_rng(4)
    x = rng.normal(0, 3, (32, 4)).astype("float32")
    one_hot = np.eye(3, dtype="float32")[rng.integers(0, 3, 32)]
    soft = rng.dirichlet(np.ones(3), 32).astype("float32")
    for y, val_y, expect in ((one_hot, one_hot, losses.CLIPPED_ONE_HOT),
                             (soft, soft, losses.CLIPPED_LOGITS),
                             (one_hot, soft, losses.CLIPPED_LOGITS)):
        kin = keras.Input((4,))
        kmodel = keras.Model(kin, keras.layers.Dense(3, activation="softmax")(
            keras.layers.Dense(8, activation="relu")(kin)))
        inp = gn.Input((4,))
        model = gn.Model(inp, layers.Dense(3, activation="softmax")(
            layers.Dense(8, activation="relu")(inp)))
        model.set_weights(kmodel.get_weights())
        for m, opt in ((kmodel, keras.optimizers.SGD(0.5)), (model, gn.optimizers.SGD(0.5))):
            m.compile(optimizer=opt, loss="categorical_crossentropy")
        kh = kmodel.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0,
                        validation_data=(x, val_y))
        h = model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0,
                      validation_data=(x, val_y))
        np.testing.assert_allclose(h.history["loss"], kh.history["loss"], rtol=1e-5)
        np.testing.assert_allclose(h.history["val_loss"], kh.history["val_loss"], rtol=1e-5)
        program, = model._trainer._programs.values()
        assert program.losses_spec.behind[0].fn_kwargs["from_logits"] == expect
