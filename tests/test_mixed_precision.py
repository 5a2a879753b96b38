"""Dtype policies (Keras 3 names and behaviour) and dynamic loss scaling."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, mixed_precision, optimizers

keras = pytest.importorskip("keras")

POLICIES = ["float32", "mixed_float16", "mixed_bfloat16"]
# bfloat16 keeps 8 significant bits: unit roundoff u = 2**-8. Rounding the inputs, the
# weights and each result costs a few u of the magnitudes involved; see the tests below.
U_BF16 = 2.0 ** -8


@pytest.fixture(autouse=True)
def _reset_policies():
    yield
    mixed_precision.set_global_policy("float32")
    keras.mixed_precision.set_global_policy("float32")


# ---- the policy objects --------------------------------------------------------------------
@pytest.mark.parametrize("name", POLICIES + ["float16", "bfloat16", "float64"])
def test_policy_dtypes_match_keras(name):
    ours, theirs = mixed_precision.DTypePolicy(name), keras.DTypePolicy(name)
    assert (ours.name, ours.compute_dtype, ours.variable_dtype) == (
        theirs.name, theirs.compute_dtype, theirs.variable_dtype)
    assert repr(ours) == repr(theirs)


def test_global_policy_is_read_when_a_layer_is_created():
    assert mixed_precision.global_policy().name == "float32"
    mixed_precision.set_global_policy("mixed_bfloat16")
    assert mixed_precision.global_policy() == mixed_precision.DTypePolicy("mixed_bfloat16")
    dense = layers.Dense(3)
    own = layers.Dense(3, dtype="float32")
    mixed_precision.set_global_policy(None)
    later = layers.Dense(3)
    assert (dense.compute_dtype, dense.variable_dtype, dense.dtype) == ("bfloat16", "float32",
                                                                        "float32")
    assert own.dtype_policy.name == "float32" and later.dtype_policy.name == "float32"


def test_policy_errors():
    with pytest.raises(ValueError, match="mixed_float16"):
        mixed_precision.DTypePolicy("mixed_float8")
    with pytest.raises(TypeError, match="dtype policy"):
        layers.Dense(3, dtype=object())


def test_config_writes_the_policy_as_keras_and_reads_it_back():
    dense = layers.Dense(3, dtype="mixed_float16")
    config = dense.get_config()
    assert config["dtype"] == keras.layers.Dense(3, dtype="mixed_float16").get_config()["dtype"]
    again = layers.Dense.from_config(config)
    assert again.dtype_policy == dense.dtype_policy
    assert layers.Dense.from_config({**config, "dtype": "mixed_bfloat16"}).compute_dtype == "bfloat16"
    assert mixed_precision.get(np.float32).name == "float32"


# ---- layers under a policy: weights float32, computation 16-bit, as Keras ----------------------
def _families():
    """(graphnet layer, Keras layer, input shape, integer input?) for each family."""
    return [
        ("Dense", lambda p: layers.Dense(4, activation="relu", dtype=p),
         lambda p: keras.layers.Dense(4, activation="relu", dtype=p), (5, 3), False),
        ("Conv2D", lambda p: layers.Conv2D(2, 3, padding="same", dtype=p),
         lambda p: keras.layers.Conv2D(2, 3, padding="same", dtype=p), (2, 6, 6, 3), False),
        ("LSTM", lambda p: layers.LSTM(4, dtype=p), lambda p: keras.layers.LSTM(4, dtype=p),
         (2, 5, 3), False),
        ("GRU", lambda p: layers.GRU(4, return_sequences=True, dtype=p),
         lambda p: keras.layers.GRU(4, return_sequences=True, dtype=p), (2, 5, 3), False),
        ("Embedding", lambda p: layers.Embedding(10, 4, dtype=p),
         lambda p: keras.layers.Embedding(10, 4, dtype=p), (2, 5), True),
        ("BatchNormalization", lambda p: layers.BatchNormalization(dtype=p),
         lambda p: keras.layers.BatchNormalization(dtype=p), (6, 3), False),
        ("LayerNormalization", lambda p: layers.LayerNormalization(dtype=p),
         lambda p: keras.layers.LayerNormalization(dtype=p), (6, 3), False),
        ("MaxPooling2D", lambda p: layers.MaxPooling2D(2, dtype=p),
         lambda p: keras.layers.MaxPooling2D(2, dtype=p), (2, 4, 4, 3), False),
        ("GlobalAveragePooling1D", lambda p: layers.GlobalAveragePooling1D(dtype=p),
         lambda p: keras.layers.GlobalAveragePooling1D(dtype=p), (2, 4, 3), False),
        ("Dropout", lambda p: layers.Dropout(0.5, dtype=p),
         lambda p: keras.layers.Dropout(0.5, dtype=p), (2, 3), False),
    ]


@pytest.mark.parametrize("policy", ["mixed_float16", "mixed_bfloat16"])
@pytest.mark.parametrize("family", _families(), ids=lambda f: f[0])
def test_layer_dtypes_match_keras(family, policy):
    _, ours_fn, keras_fn, shape, integer = family
    rng = np.random.default_rng(0)
    x = rng.integers(0, 10, shape).astype("int32") if integer else \
        rng.normal(size=shape).astype("float32")
    ours, theirs = ours_fn(policy), keras_fn(policy)
    y = ours(x, training=True)
    ky = theirs(x, training=True)
    assert str(y.dtype) == keras.backend.standardize_dtype(ky.dtype)
    assert ours.compute_dtype == theirs.compute_dtype
    ours_w = [str(w.dtype) for w in ours.get_weights()]
    theirs_w = [keras.backend.standardize_dtype(w.dtype) for w in theirs.weights]
    assert ours_w == theirs_w and set(ours_w) <= {"float32"}
    # The symbolic output carries the same dtype as the computed one.
    inp = gn.Input(shape[1:], dtype="int32" if integer else "float32")
    assert str(ours_fn(policy)(inp).dtype) == str(y.dtype)


def test_multi_head_attention_under_mixed_float16():
    x = np.random.default_rng(0).normal(size=(2, 5, 8)).astype("float32")
    mask = np.ones((2, 5), bool)
    mask[0, 3:] = False
    ours = layers.MultiHeadAttention(2, 4, dtype="mixed_float16")
    theirs = keras.layers.MultiHeadAttention(2, 4, dtype="mixed_float16")
    y = ours(x, x, query_mask=mask, value_mask=mask)
    with jax.numpy_dtype_promotion("standard"):        # Keras mixes float16 and float32
        ky = theirs(x, x, query_mask=mask, value_mask=mask)
    assert str(y.dtype) == keras.backend.standardize_dtype(ky.dtype) == "float16"
    assert np.isfinite(np.asarray(y, np.float32)).all()


def test_normalization_statistics_are_float32():
    """Values of 300 overflow float16 when squared (65504): the statistics must not."""
    x = np.random.default_rng(0).normal(300.0, 50.0, (64, 3)).astype("float32")
    bn = layers.BatchNormalization(dtype="mixed_float16")
    y = bn(x, training=True)
    assert y.dtype == jnp.float16 and np.isfinite(np.asarray(y, np.float32)).all()
    ref = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)
    np.testing.assert_allclose(np.asarray(y, np.float32), ref, atol=2e-2)
    ln = layers.LayerNormalization(dtype="mixed_float16")
    z = ln(x.T.copy())
    assert z.dtype == jnp.float16 and np.isfinite(np.asarray(z, np.float32)).all()


def test_mixed_model_weights_outputs_and_predict():
    mixed_precision.set_global_policy("mixed_bfloat16")
    inp = gn.Input((4,))
    h = layers.Dense(8, activation="relu")(inp)
    out = layers.Dense(3, activation="softmax", dtype="float32")(h)
    model = gn.Model(inp, out)
    assert h.dtype == jnp.bfloat16 and out.dtype == jnp.float32
    assert all(w.dtype == np.float32 for w in model.get_weights())
    y = model.predict(np.ones((2, 4), "float32"), verbose=0)
    assert y.dtype == np.float32


def test_dense_bfloat16_close_to_float32_within_a_rounding_bound():
    """Dense in bfloat16 vs float32 on the same weights. Rounding x and W (u each), the
    products and sum (accumulated in float32 on CPU) and the bfloat16 result (u) bounds the
    error by about 3u * (|x| @ |W| + |b|); 4u leaves room for the bias add."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(16, 32)).astype("float32")
    f32 = layers.Dense(8)
    bf = layers.Dense(8, dtype="mixed_bfloat16")
    f32(x)
    bf(x)
    bf.set_weights(f32.get_weights())
    kernel, bias = f32.get_weights()
    ref = np.asarray(f32(x))
    got = np.asarray(bf(x), np.float32)
    bound = 4 * U_BF16 * (np.abs(x) @ np.abs(kernel) + np.abs(bias))
    assert (np.abs(got - ref) <= bound).all()


def test_mlp_bfloat16_predictions_close_to_float32():
    """A 3-layer MLP: each layer adds ~4u relative error (see above), so after 3 layers and
    a softmax the probabilities are within 3 * 4u ~ 0.05 of float32's, absolute."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(32, 16)).astype("float32")

    def build(policy):
        mixed_precision.set_global_policy(policy)
        inp = gn.Input((16,))
        h = layers.Dense(32, activation="relu", name="a")(inp)
        h = layers.Dense(32, activation="tanh", name="b")(h)
        return gn.Model(inp, layers.Dense(5, activation="softmax", name="c")(h))
    ref_model = build("float32")
    bf_model = build("mixed_bfloat16")
    bf_model.set_weights(ref_model.get_weights())
    ref = ref_model.predict(x, verbose=0)
    got = np.asarray(bf_model.predict(x, verbose=0), np.float32)
    assert np.abs(got - ref).max() <= 12 * U_BF16
    assert (got.argmax(-1) == ref.argmax(-1)).mean() >= 0.9


# ---- training ------------------------------------------------------------------------------
def _digits(n=400):
    from sklearn.datasets import load_digits
    d = load_digits()
    x = (d.data[:n] / 16.0).astype("float32")
    return x, np.eye(10, dtype="float32")[d.target[:n]]


@pytest.mark.parametrize("policy", ["mixed_bfloat16"])
def test_training_converges_under_mixed_policies(policy):
    x, y = _digits()
    mixed_precision.set_global_policy(policy)
    inp = gn.Input((64,))
    h = layers.Dense(64, activation="relu")(inp)
    model = gn.Model(inp, layers.Dense(10, activation="softmax")(h))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    assert isinstance(model.optimizer, optimizers.LossScaleOptimizer) == (policy == "mixed_float16")
    history = model.fit(x, y, batch_size=32, epochs=8, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.5 * losses[0]
    assert history.history["accuracy"][-1] > 0.9
    assert all(w.dtype == np.float32 for w in model.get_weights())
    assert model.evaluate(x, y, verbose=0)[0] == pytest.approx(losses[-1], rel=0.5)


def test_loss_scale_optimizer_config_round_trip():
    opt = optimizers.LossScaleOptimizer(optimizers.Adam(0.01), dynamic_growth_steps=10)
    again = optimizers.deserialize(optimizers.serialize(opt))
    assert isinstance(again, optimizers.LossScaleOptimizer)
    assert isinstance(again.inner_optimizer, optimizers.Adam)
    assert again.dynamic_growth_steps == 10 and again.initial_scale == 2.0 ** 15
    assert again.learning_rate == pytest.approx(0.01)
    with pytest.raises(ValueError, match="dynamic_growth_steps"):
        optimizers.LossScaleOptimizer("sgd", dynamic_growth_steps=0)


def test_saving_keeps_policies(tmp_path):
    inp = gn.Input((4,))
    h = layers.Dense(8, activation="relu", dtype="mixed_bfloat16", name="h")(inp)
    model = gn.Model(inp, layers.Dense(2, name="out")(h))
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = gn.load_model(path)
    assert loaded.get_layer("h").dtype_policy.name == "mixed_bfloat16"
    assert loaded.get_layer("out").dtype_policy.name == "float32"
    x = np.ones((3, 4), "float32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_keras_style_layer_follows_the_policy():
    """A layer written with add_weight and call(inputs) gets the policy from the base Layer:
    its inputs and weights arrive in compute_dtype, except a weight with autocast=False."""
    seen = {}

    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones")
            self.keep = self.add_weight(shape=(), initializer="zeros", autocast=False)

        def call(self, inputs):
            seen["w"], seen["keep"] = self.w.value.dtype, self.keep.value.dtype
            seen["x"] = inputs.dtype
            return inputs * self.w.value + self.keep.value.astype(inputs.dtype)

    layer = Scale(dtype="mixed_bfloat16")
    y = layer(np.ones((2, 3), "float32"))
    assert y.dtype == jnp.bfloat16
    assert seen == {"w": jnp.bfloat16, "keep": jnp.float32, "x": jnp.bfloat16}
    assert {str(w.dtype) for w in layer.get_weights()} == {"float32"}
