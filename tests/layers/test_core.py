"""Core layers against NumPy formulas written here and against Keras 3 with the same weights."""
import jax
import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import assert_close, keras_output, run_layer_test

RNG = np.random.default_rng(42)


def data(*shape):
    return RNG.normal(size=shape).astype("float32")


def np_softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


NP_ACT = {None: lambda z: z, "relu": lambda z: np.maximum(z, 0),
          "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "softmax": np_softmax, "tanh": np.tanh}


def one_layer_model(layer, shape, dtype="float32"):
    x = gn.Input(shape, dtype=dtype)
    return gn.Model(x, layer(x))


# ---- Dense ------------------------------------------------------------------------------
@pytest.mark.parametrize("activation", [None, "relu", "sigmoid", "softmax", "tanh"])
@pytest.mark.parametrize("use_bias", [True, False])
def test_dense_matches_numpy_and_keras(activation, use_bias):
    x = data(5, 7)
    layer = layers.Dense(4, activation=activation, use_bias=use_bias)
    model = one_layer_model(layer, (7,))
    weights = [data(7, 4)] + ([data(4)] if use_bias else [])
    layer.set_weights(weights)
    z = x @ weights[0] + (weights[1] if use_bias else 0)
    expected = NP_ACT[activation](z)
    assert_close(model.predict(x, verbose=0), expected)
    ref = keras_output(keras.layers.Dense(4, activation=activation, use_bias=use_bias), x, weights)
    assert_close(model.predict(x, verbose=0), ref)


def test_dense_on_rank3_input_acts_on_last_axis():
    x = data(2, 3, 5)
    layer = layers.Dense(6)
    model = one_layer_model(layer, (3, 5))
    k, b = data(5, 6), data(6)
    layer.set_weights([k, b])
    assert model.outputs[0].shape == (None, 3, 6)
    assert_close(model.predict(x), np.einsum("btf,fu->btu", x, k) + b)
    assert_close(model.predict(x), keras_output(keras.layers.Dense(6), x, [k, b]))


def test_dense_weights_have_keras_layout_and_defaults():
    layer = layers.Dense(3)
    one_layer_model(layer, (5,))
    kernel, bias = layer.get_weights()
    assert kernel.shape == (5, 3) and bias.shape == (3,)
    assert kernel.dtype == np.float32
    np.testing.assert_array_equal(bias, 0)              # zeros bias
    limit = np.sqrt(6 / (5 + 3))                        # glorot_uniform kernel
    assert np.abs(kernel).max() <= limit and np.abs(kernel).max() > 0


def test_dense_eager_call_builds_and_computes():
    layer = layers.Dense(2, activation="relu")
    x = data(4, 3)
    y = layer(x)
    k, b = layer.get_weights()
    assert_close(y, np.maximum(x @ k + b, 0))


def test_dense_harness():
    run_layer_test(lambda: layers.Dense(4, activation="relu"), (None, 6), expected_num_weights=2,
                   expected_output_shape=(None, 4))
    run_layer_test(lambda: layers.Dense(4, use_bias=False), (None, 2, 6), expected_num_weights=1,
                   expected_output_shape=(None, 2, 4))


# ---- Activation -----------------------------------------------------------------------
@pytest.mark.parametrize("name", ["relu", "sigmoid", "softmax", "tanh"])
def test_activation_layer(name):
    x = data(4, 5)
    model = one_layer_model(layers.Activation(name), (5,))
    assert_close(model.predict(x), NP_ACT[name](x))
    assert_close(model.predict(x), keras_output(keras.layers.Activation(name), x))


def test_activation_layer_takes_a_callable():
    model = one_layer_model(layers.Activation(lambda z: z * 2), (3,))
    x = data(2, 3)
    assert_close(model.predict(x), 2 * x)


def test_activation_harness():
    run_layer_test(lambda: layers.Activation("gelu"), (None, 3, 4), expected_num_weights=0,
                   expected_output_shape=(None, 3, 4))


# ---- Dropout ----------------------------------------------------------------------------
def test_dropout_is_identity_at_inference_like_keras():
    x = data(6, 8)
    model = one_layer_model(layers.Dropout(0.5), (8,))
    assert_close(model.predict(x), x)
    out, _ = model.apply(model.params, model.state, x, training=False)
    assert_close(out, x)
    assert_close(model.predict(x), keras_output(keras.layers.Dropout(0.5), x))


@pytest.mark.parametrize("rate", [0.2, 0.5, 0.8])
def test_dropout_training_drops_rate_and_scales_the_rest(rate):
    x = np.ones((200, 100), "float32")
    model = one_layer_model(layers.Dropout(rate), (100,))
    out, _ = model.apply(model.params, model.state, x, training=True, rng=jax.random.key(3))
    out = np.asarray(out)
    dropped = np.mean(out == 0)
    # 20,000 Bernoulli draws: the std of the fraction is at most 0.0036; 0.02 is > 5 sigma.
    assert abs(dropped - rate) < 0.02
    np.testing.assert_allclose(out[out != 0], 1 / (1 - rate), rtol=1e-6)
    # Another key gives another mask; the same key gives the same one.
    again, _ = model.apply(model.params, model.state, x, training=True, rng=jax.random.key(3))
    other, _ = model.apply(model.params, model.state, x, training=True, rng=jax.random.key(4))
    np.testing.assert_array_equal(out, again)
    assert (np.asarray(other) != out).any()


def test_dropout_noise_shape_broadcasts_the_mask():
    x = np.ones((4, 5, 6), "float32")
    model = one_layer_model(layers.Dropout(0.5, noise_shape=(None, 1, 6)), (5, 6))
    out, _ = model.apply(model.params, model.state, x, training=True, rng=jax.random.key(0))
    out = np.asarray(out)
    assert (out == out[:, :1, :]).all()            # one mask shared along axis 1
    assert 0 < np.mean(out == 0) < 1


def test_dropout_training_without_rng_is_an_error_naming_it():
    model = one_layer_model(layers.Dropout(0.5, name="drop"), (3,))
    with pytest.raises(ValueError, match="Dropout 'drop'.*rng"):
        model.apply(model.params, model.state, np.ones((2, 3), "float32"), training=True)


def test_dropout_eager_training_call_draws_its_own_key():
    layer = layers.Dropout(0.5)
    x = np.ones((50, 40), "float32")
    np.testing.assert_array_equal(layer(x), x)
    out = np.asarray(layer(x, training=True))
    assert abs(np.mean(out == 0) - 0.5) < 0.05
    np.testing.assert_allclose(out[out != 0], 2.0)
    gn.utils.set_random_seed(5)
    first = np.asarray(layer(x, training=True))
    gn.utils.set_random_seed(5)
    np.testing.assert_array_equal(np.asarray(layer(x, training=True)), first)


def test_dropout_rate_out_of_range():
    with pytest.raises(ValueError, match=r"rate must be in \[0, 1\)"):
        layers.Dropout(1.5)


def test_dropout_harness():
    run_layer_test(lambda: layers.Dropout(0.3), (None, 4), expected_num_weights=0,
                   expected_output_shape=(None, 4))


# ---- reshaping layers -------------------------------------------------------------------
def test_flatten():
    x = data(3, 2, 4, 5)
    model = one_layer_model(layers.Flatten(), (2, 4, 5))
    assert model.outputs[0].shape == (None, 40)
    assert_close(model.predict(x), x.reshape(3, 40))
    assert_close(model.predict(x), keras_output(keras.layers.Flatten(), x))
    run_layer_test(layers.Flatten, (None, 2, 3), expected_output_shape=(None, 6))


def test_flatten_with_unknown_axis_gives_unknown_size():
    x = gn.Input((None, 3))
    assert layers.Flatten()(x).shape == (None, None)


@pytest.mark.parametrize("target", [(6, 2), (-1, 3), (2, 3, 2)])
def test_reshape(target):
    x = data(4, 3, 4)
    model = one_layer_model(layers.Reshape(target), (3, 4))
    expected = x.reshape(4, *target)
    assert model.outputs[0].shape == (None, *expected.shape[1:])
    assert_close(model.predict(x), expected)
    assert_close(model.predict(x), keras_output(keras.layers.Reshape(target), x))
    run_layer_test(lambda: layers.Reshape(target), (None, 3, 4),
                   expected_output_shape=(None, *expected.shape[1:]))


def test_reshape_wrong_size_names_layer():
    with pytest.raises(ValueError, match=r"Reshape 'rs'.*\(None, 3, 4\).*12 values.*\(5, 2\)"):
        layers.Reshape((5, 2), name="rs")(gn.Input((3, 4)))


@pytest.mark.parametrize("dims", [(2, 1), (3, 1, 2), (1, 3, 2)])
def test_permute(dims):
    shape = (2, 3, 4)[:len(dims)]
    x = data(5, *shape)
    model = one_layer_model(layers.Permute(dims), shape)
    expected = np.transpose(x, (0, *dims))
    assert model.outputs[0].shape == (None, *expected.shape[1:])
    assert_close(model.predict(x), expected)
    assert_close(model.predict(x), keras_output(keras.layers.Permute(dims), x))
    run_layer_test(lambda: layers.Permute(dims), (None, *shape),
                   expected_output_shape=(None, *expected.shape[1:]))


def test_permute_bad_dims():
    with pytest.raises(ValueError, match="permutation of 1..2"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match=r"Permute 'p'.*rank 3.*\(None, 4\)"):
        layers.Permute((2, 1), name="p")(gn.Input((4,)))


def test_repeat_vector():
    x = data(3, 4)
    model = one_layer_model(layers.RepeatVector(5), (4,))
    expected = np.repeat(x[:, None, :], 5, axis=1)
    assert_close(model.predict(x), expected)
    assert_close(model.predict(x), keras_output(keras.layers.RepeatVector(5), x))
    run_layer_test(lambda: layers.RepeatVector(2), (None, 3), expected_output_shape=(None, 2, 3))
    with pytest.raises(ValueError, match=r"RepeatVector 'rv'.*rank 2.*\(None, 3, 4\)"):
        layers.RepeatVector(2, name="rv")(gn.Input((3, 4)))


def test_identity():
    x = data(3, 4)
    model = one_layer_model(layers.Identity(), (4,))
    assert_close(model.predict(x), x)
    assert_close(model.predict(x), keras_output(keras.layers.Identity(), x))
    run_layer_test(layers.Identity, (None, 2, 5), expected_output_shape=(None, 2, 5))


# ---- Lambda -----------------------------------------------------------------------------
@gn.register_serializable(package="tests")
def scaled_square(x, factor=1.0):
    return factor * x * x


def test_lambda_traces_its_shape_and_computes():
    x = data(3, 4)
    model = one_layer_model(layers.Lambda(lambda t: t[:, :2] * 3), (4,))
    assert model.outputs[0].shape == (None, 2)
    assert_close(model.predict(x), x[:, :2] * 3)
    ref = keras_output(keras.layers.Lambda(lambda t: t[:, :2] * 3), x)
    assert_close(model.predict(x), ref)


def test_lambda_arguments_and_registered_config_round_trip():
    x = data(2, 3)
    model = one_layer_model(layers.Lambda(scaled_square, arguments={"factor": 2.0}), (3,))
    assert_close(model.predict(x), 2 * x * x)
    run_layer_test(lambda: layers.Lambda(scaled_square, arguments={"factor": 0.5}), (None, 3),
                   expected_output_shape=(None, 3))


def test_lambda_on_a_list_of_tensors():
    a, b = gn.Input((3,)), gn.Input((3,))
    out = layers.Lambda(lambda t: t[0] * t[1])([a, b])
    model = gn.Model([a, b], out)
    xa, xb = data(2, 3), data(2, 3)
    assert_close(model.predict([xa, xb]), xa * xb)


def test_unregistered_lambda_is_saved_as_code_and_a_callable_object_is_refused():
    layer = layers.Lambda(lambda t: t, name="anon")
    assert "code" in layer.get_config()["function"]     # Keras saves a lambda's code
    with pytest.raises(ValueError, match="Lambda 'anon2'.*register_serializable"):
        layers.Lambda(np.negative, name="anon2").get_config()


def test_lambda_requires_a_callable():
    with pytest.raises(TypeError, match="must be callable"):
        layers.Lambda(3)
