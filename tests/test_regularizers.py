"""OrthogonalRegularizer against Keras 3 and a NumPy formula; as a layer's kernel penalty."""
import jax.numpy as jnp
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, regularizers

W = np.random.default_rng(0).normal(size=(4, 6)).astype("float32")


def by_hand(w, factor, mode):
    """factor * mean over pairs i < j of |cos(angle)| between rows (or columns)."""
    v = w if mode == "rows" else w.T
    v = v / np.linalg.norm(v, axis=1, keepdims=True)
    cos = v @ v.T
    n = len(v)
    return factor * np.abs(cos[np.triu_indices(n, 1)]).mean()


@pytest.mark.parametrize("mode", ["rows", "columns"])
def test_orthogonal_regularizer_matches_keras_and_numpy(mode):
    keras = pytest.importorskip("keras")
    ours = float(regularizers.OrthogonalRegularizer(0.3, mode)(jnp.asarray(W)))
    theirs = float(keras.regularizers.OrthogonalRegularizer(0.3, mode)(jnp.asarray(W)))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)
    np.testing.assert_allclose(ours, by_hand(W.astype("float64"), 0.3, mode), rtol=1e-5)


def test_orthogonal_regularizer_on_a_dense_kernel_and_saved(tmp_path):
    inp = gn.Input((4,))
    reg = regularizers.get({"class_name": "OrthogonalRegularizer",
                            "config": {"factor": 0.5, "mode": "columns"}})
    model = gn.Model(inp, layers.Dense(6, kernel_regularizer=reg, name="d")(inp))
    model.set_weights([W, np.zeros(6, "float32")])
    model.compile(optimizer="sgd", loss="mse")
    x = np.zeros((8, 4), "float32")
    y = np.zeros((8, 6), "float32")
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0),
                               by_hand(W.astype("float64"), 0.5, "columns"), rtol=1e-5)
    model.save(tmp_path / "m.graphnet")
    loaded = gn.load_model(tmp_path / "m.graphnet")
    again = loaded.get_layer("d").weight_regularizers["kernel"]
    assert isinstance(again, regularizers.OrthogonalRegularizer)
    assert again.get_config() == {"factor": 0.5, "mode": "columns"}
    assert regularizers.get("orthogonal_regularizer").get_config() == {"factor": 0.01,
                                                                       "mode": "rows"}


def test_orthogonal_regularizer_refuses_bad_input():
    with pytest.raises(ValueError, match='mode must be "rows" or "columns"'):
        regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match="the weight must have rank 2"):
        regularizers.OrthogonalRegularizer()(jnp.ones((2, 3, 4)))


@pytest.mark.parametrize("name, args", [("L1", (0.2,)), ("L2", (0.3,)), ("L1L2", (0.1, 0.2)),
                                        ("OrthogonalRegularizer", (0.4, "columns"))])
def test_from_config_round_trips_every_regularizer_as_keras(name, args):
    keras = pytest.importorskip("keras")
    ours, theirs = getattr(regularizers, name)(*args), getattr(keras.regularizers, name)(*args)
    config, keras_config = ours.get_config(), theirs.get_config()
    assert list(config) == list(keras_config)     # Keras's L1 and Orthogonal keep float32 factors
    for key, value in config.items():
        want = keras_config[key]
        assert value == (pytest.approx(want, rel=1e-7) if isinstance(want, float) else want)
    again = getattr(regularizers, name).from_config(config)
    assert type(again) is type(ours) and again.get_config() == config
    assert type(getattr(keras.regularizers, name).from_config(config)) is type(theirs)
    np.testing.assert_allclose(float(again(jnp.asarray(W))), float(ours(jnp.asarray(W))),
                               rtol=1e-6, atol=1e-6)


def test_from_config_of_a_subclass_and_its_errors():
    class Scaled(regularizers.Regularizer):
        def __init__(self, factor):
            self.factor = factor

        def __call__(self, w):
            return self.factor * jnp.sum(w)

        def get_config(self):
            return {"factor": self.factor}

    again = Scaled.from_config(Scaled(0.5).get_config())
    assert type(again) is Scaled
    np.testing.assert_allclose(float(again(jnp.asarray(W))), 0.5 * W.sum(), rtol=1e-5, atol=1e-6)
    with pytest.raises(TypeError, match=r"L1\.from_config: the config .*'l2'"):
        regularizers.L1.from_config({"l2": 0.1})
    with pytest.raises(TypeError, match="L2.from_config: expects the dict"):
        regularizers.L2.from_config([0.1])
