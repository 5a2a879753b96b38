"""Activations: NumPy formulas written here, and keras.activations on the same values."""
import math

import jax
import jax.numpy as jnp
import keras
import numpy as np
import pytest

from graphnet import activations, register_serializable

X = np.concatenate([np.linspace(-6, 6, 49), [-30.0, -1e-3, 0.0, 1e-3, 30.0]]).astype("float32")
X2 = np.random.default_rng(0).normal(scale=3, size=(4, 7)).astype("float32")
SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
erf = np.vectorize(math.erf)


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softplus(x):
    return np.logaddexp(0, x)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def sparsemax(x):
    """The projection onto the simplex, by its definition: the largest k whose sorted sum
    condition holds gives the threshold tau."""
    z = -np.sort(-x, axis=-1)
    k = np.arange(1, x.shape[-1] + 1)
    support = 1 + k * z > np.cumsum(z, -1)
    k_max = support.sum(-1, keepdims=True)
    tau = (np.take_along_axis(np.cumsum(z, -1), k_max - 1, -1) - 1) / k_max
    return np.maximum(x - tau, 0)


NUMPY = {
    "linear": lambda x: x,
    "relu": lambda x: np.maximum(x, 0),
    "relu6": lambda x: np.clip(x, 0, 6),
    "sigmoid": sigmoid,
    "hard_sigmoid": lambda x: np.clip(x / 6 + 0.5, 0, 1),
    "softmax": softmax,
    "log_softmax": lambda x: np.log(softmax(x)),
    "tanh": np.tanh,
    "gelu": lambda x: 0.5 * x * (1 + erf(x / np.sqrt(2))),     # Keras: exact by default
    "elu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
    "softplus": softplus,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "swish": lambda x: x * sigmoid(x),
    "silu": lambda x: x * sigmoid(x),
    "leaky_relu": lambda x: np.where(x > 0, x, 0.2 * x),        # Keras 3: slope 0.2
    "exponential": np.exp,
    "mish": lambda x: x * np.tanh(softplus(x)),
    "celu": lambda x: np.where(x > 0, x, np.expm1(x)),
    "glu": lambda x: np.split(x, 2, -1)[0] * sigmoid(np.split(x, 2, -1)[1]),
    "hard_silu": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_swish": lambda x: x * np.clip(x + 3, 0, 6) / 6,
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0),
    "soft_shrink": lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "log_sigmoid": lambda x: -softplus(-x),
    "sparse_plus": lambda x: np.where(x <= -1, 0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    "sparse_sigmoid": lambda x: np.clip((x + 1) / 2, 0, 1),
    "squareplus": lambda x: (x + np.sqrt(x ** 2 + 4)) / 2,
    "sparsemax": lambda x: sparsemax(x),
}
PROMISED = ["relu", "sigmoid", "softmax", "tanh", "linear", "gelu", "elu", "selu", "softplus",
            "swish", "silu", "leaky_relu"]


def test_every_promised_name_is_known():
    assert set(PROMISED) <= set(activations.ACTIVATIONS)
    assert set(activations.ACTIVATIONS) == set(NUMPY)


@pytest.mark.parametrize("name", sorted(NUMPY))
def test_activation_matches_numpy_and_keras(name):
    fn = activations.get(name)
    for x in (X2, X[None, :] if name in ("softmax", "log_softmax", "sparsemax") else X):
        if name == "glu":                                   # halves of an even axis
            x = np.concatenate([x, x[..., :1]], -1) if x.shape[-1] % 2 else x
        if name == "exponential":
            x = np.clip(x, -20, 20)
        ours = np.asarray(fn(jnp.asarray(x)))
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours, NUMPY[name](x.astype("float64")), rtol=1e-5, atol=1e-6)
        with jax.numpy_dtype_promotion("standard"):        # Keras's sparsemax mixes dtypes
            theirs = np.asarray(keras.activations.get(name)(x))
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)


def test_names_are_case_insensitive_and_none_is_linear():
    assert activations.get("ReLU") is activations.relu
    assert activations.get(None) is activations.linear


def test_callable_passes_through_and_serializes_by_name():
    assert activations.get(np.abs) is np.abs
    assert activations.serialize(activations.get("swish")) in ("swish", "silu")
    for name in NUMPY:
        assert activations.get(activations.serialize(activations.get(name))) is activations.get(name)


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"Unknown activation 'relux'; valid activations are: .*"
                                         r"elu.*gelu.*leaky_relu.*relu.*sigmoid.*softmax.*swish"):
        activations.get("relux")


def test_unregistered_callable_cannot_be_serialized():
    with pytest.raises(ValueError, match="register_serializable"):
        activations.serialize(lambda x: x)


def test_bad_type_is_a_type_error():
    with pytest.raises(TypeError, match="string or a callable"):
        activations.get(3)


def test_registered_activation_saves_in_the_registry_shape_and_earlier_names_load():
    @register_serializable(name="cube_for_shape_test")
    def cube(x):
        return x ** 3
    entry = activations.serialize(cube)
    assert entry == {"class_name": "function", "config": "Custom>cube_for_shape_test"}
    assert activations.get(entry) is cube
    assert activations.get("Custom>cube_for_shape_test") is cube      # as earlier versions wrote
    assert activations.serialize(activations.relu) == "relu"           # Keras's form for its own


# ---- the rest of keras.activations: the same values as Keras 3's functions -------------------
MORE = [("celu", {}), ("celu", {"alpha": 0.5}), ("hard_silu", {}), ("hard_swish", {}),
        ("hard_tanh", {}), ("hard_shrink", {}), ("hard_shrink", {"threshold": 1.5}),
        ("soft_shrink", {}), ("soft_shrink", {"threshold": 2.0}), ("tanh_shrink", {}),
        ("threshold", {"threshold": 0.5, "default_value": -2.0}), ("log_sigmoid", {}),
        ("sparse_plus", {}), ("sparse_sigmoid", {}), ("squareplus", {}),
        ("squareplus", {"b": 1.0}), ("sparsemax", {}), ("glu", {})]


@pytest.mark.parametrize("name,kw", MORE, ids=[f"{n}-{sorted(k)}" for n, k in MORE])
def test_more_activations_match_keras(name, kw):
    x = np.random.default_rng(1).normal(scale=3, size=(4, 8)).astype("float32")
    ours = getattr(activations, name)(jnp.asarray(x), **kw)
    with jax.numpy_dtype_promotion("standard"):            # Keras's sparsemax mixes dtypes
        theirs = getattr(keras.activations, name)(x, **kw)
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-6, atol=1e-7)
    if not kw and name != "threshold":
        assert activations.get(name) is getattr(activations, name)      # as a string too


def test_more_activations_by_hand():
    x = X2
    np.testing.assert_allclose(activations.sparsemax(jnp.asarray(x)).sum(-1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(activations.soft_shrink(jnp.asarray(x)),
                               np.sign(x) * np.maximum(np.abs(x) - 0.5, 0), rtol=1e-6)
    a, b = np.split(np.concatenate([x, x], -1), 2, -1)
    np.testing.assert_allclose(activations.glu(jnp.concatenate([x, x], -1)), a * sigmoid(b),
                               rtol=1e-5)
    assert activations.deserialize(activations.serialize(activations.celu)) is activations.celu
