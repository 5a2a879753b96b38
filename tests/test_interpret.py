"""The pure function `model.apply`: jit, grad, vmap and export, against NumPy formulas."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, regularizers

RNG = np.random.default_rng(3)


def mlp(name="mlp"):
    x = gn.Input((6,), name="x")
    h = layers.Dense(5, activation="relu", name="h")(x)
    return gn.Model(x, layers.Dense(3, name="y")(h), name=name)


def numpy_mlp(weights, x):
    k1, b1, k2, b2 = weights
    return np.maximum(x @ k1 + b1, 0) @ k2 + b2


def data(*shape):
    return RNG.normal(size=shape).astype("float32")


def test_apply_under_jit_reads_params_not_layers():
    model = mlp()
    x = data(4, 6)
    old = model.get_weights()
    old_params = model.params
    f = jax.jit(model.apply)
    np.testing.assert_allclose(f(model.params, model.state, x)[0], numpy_mlp(old, x), rtol=1e-5, atol=1e-6)
    new = [w + 1 for w in old]
    model.set_weights(new)
    # The compiled function takes the weights as arguments: nothing was baked in.
    np.testing.assert_allclose(f(model.params, model.state, x)[0], numpy_mlp(new, x), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(f(old_params, model.state, x)[0], numpy_mlp(old, x), rtol=1e-5, atol=1e-6)
    assert f._cache_size() == 1


def test_grad_matches_the_hand_derived_gradient():
    model = mlp()
    x = data(8, 6)
    k1, b1, k2, b2 = [w.astype("float64") for w in model.get_weights()]

    def loss(params):
        y, _ = model.apply(params, model.state, x)
        return 0.5 * jnp.sum(y * y)

    grads = jax.jit(jax.grad(loss))(model.params)
    z = x @ k1 + b1
    h = np.maximum(z, 0)
    y = h @ k2 + b2
    dz = (y @ k2.T) * (z > 0)
    expected = {"h": {"kernel": x.T @ dz, "bias": dz.sum(0)},
                "y": {"kernel": h.T @ y, "bias": y.sum(0)}}
    assert set(grads) == {"h", "y"}
    for layer in expected:
        for w in expected[layer]:
            np.testing.assert_allclose(grads[layer][w], expected[layer][w], rtol=1e-4, atol=1e-5)


def test_vmap_over_examples_equals_the_batch():
    model = mlp()
    x = data(7, 6)
    per_example = jax.vmap(lambda xi: model.apply(model.params, model.state, xi)[0])(x)
    np.testing.assert_allclose(per_example, numpy_mlp(model.get_weights(), x), rtol=1e-5, atol=1e-6)


def test_vmap_over_stacked_params_runs_an_ensemble():
    model = mlp()
    x = data(3, 6)
    members = []
    for seed in range(4):
        gn.utils.set_random_seed(100 + seed)
        members.append(mlp(name=f"m{seed}").params)
    stacked = jax.tree_util.tree_map(lambda *ws: jnp.stack(ws), *members)
    outs = jax.jit(jax.vmap(lambda p: model.apply(p, model.state, x)[0]))(stacked)
    for out, params in zip(outs, members):
        weights = [params["h"]["kernel"], params["h"]["bias"], params["y"]["kernel"], params["y"]["bias"]]
        np.testing.assert_allclose(out, numpy_mlp([np.asarray(w) for w in weights], x), rtol=1e-5, atol=1e-6)


def test_export_with_a_symbolic_batch_and_call_the_result():
    a, b = gn.Input((4,), name="a"), gn.Input((2, 3), name="b")
    merged = layers.Concatenate(name="cat")([layers.Dense(3, name="da")(a), layers.Flatten(name="fl")(b)])
    model = gn.Model({"a": a, "b": b}, {"out": layers.Dense(2, name="out")(merged),
                                        "feat": merged})
    batch, = jax.export.symbolic_shape("batch")
    spec = {"a": jax.ShapeDtypeStruct((batch, 4), jnp.float32),
            "b": jax.ShapeDtypeStruct((batch, 2, 3), jnp.float32)}
    params_spec = jax.tree_util.tree_map(lambda w: jax.ShapeDtypeStruct(w.shape, w.dtype), model.params)
    exported = jax.export.export(jax.jit(lambda p, x: model.apply(p, model.state, x)[0]))(params_spec, spec)
    assert "batch" in str(exported.in_avals)
    for n in (1, 5):
        x = {"a": data(n, 4), "b": data(n, 2, 3)}
        out = exported.call(model.params, x)
        expected = model.predict(x)
        assert set(out) == {"out", "feat"}
        for k in out:
            np.testing.assert_allclose(out[k], expected[k], rtol=1e-5, atol=1e-6)
        (ka, ba), (ko, bo) = model.get_layer("da").get_weights(), model.get_layer("out").get_weights()
        feat = np.concatenate([x["a"] @ ka + ba, x["b"].reshape(n, 6)], -1)
        np.testing.assert_allclose(out["out"], feat @ ko + bo, rtol=1e-5, atol=1e-6)


def test_apply_returns_new_state_and_accepts_list_or_dict():
    model = mlp()
    x = data(2, 6)
    by_list, state1 = model.apply(model.params, model.state, [x])
    by_name, state2 = model.apply(model.params, model.state, {"x": x})
    np.testing.assert_array_equal(by_list, by_name)
    assert state1 == state2 == {"h": {}, "y": {}}


def two_dropouts():
    x = gn.Input((500,))
    d1 = layers.Dropout(0.5, name="d1")(x)
    d2 = layers.Dropout(0.5, name="d2")(x)
    return gn.Model(x, [d1, d2])


def test_dropout_needs_rng_when_training_even_under_jit():
    model = two_dropouts()
    x = np.ones((2, 500), "float32")
    with pytest.raises(ValueError, match="Dropout 'd1' needs a random key when training=True"):
        jax.jit(lambda p, s, v: model.apply(p, s, v, training=True))(model.params, model.state, x)


def test_each_random_layer_gets_its_own_key():
    model = two_dropouts()
    x = np.ones((2, 500), "float32")
    f = jax.jit(lambda p, s, v, key: model.apply(p, s, v, training=True, rng=key)[0])
    d1, d2 = f(model.params, model.state, x, jax.random.key(0))
    assert not np.array_equal(d1 == 0, d2 == 0)
    for out in (d1, d2):
        assert abs(np.mean(np.asarray(out) == 0) - 0.5) < 0.05
        np.testing.assert_allclose(np.asarray(out)[np.asarray(out) != 0], 2.0)
    e1, _ = f(model.params, model.state, x, jax.random.key(0))
    np.testing.assert_array_equal(d1, e1)


def test_training_flag_in_a_call_overrides_the_model_flag():
    x = gn.Input((400,))
    always = layers.Dropout(0.5, name="always")(x, training=True)
    model = gn.Model(x, always)
    out, _ = model.apply(model.params, model.state, np.ones((1, 400), "float32"),
                         training=False, rng=jax.random.key(1))
    assert 0.3 < np.mean(np.asarray(out) == 0) < 0.7


def test_activity_and_weight_penalties_match_numpy():
    x = gn.Input((4,))
    dense = layers.Dense(3, kernel_regularizer=regularizers.l2(0.1), bias_regularizer=regularizers.l1(0.5),
                         activity_regularizer=regularizers.L1L2(l1=0.01, l2=0.02), name="reg")
    model = gn.Model(x, layers.Dense(2, name="plain")(dense(x)))
    k, b = model.get_layer("reg").get_weights()
    b = b + 0.3
    model.get_layer("reg").set_weights([k, b])
    v = data(5, 4)
    act = v @ k + b
    _, _, loss = model.call_with_losses(model.params, model.state, v)
    np.testing.assert_allclose(loss, (0.01 * np.abs(act).sum() + 0.02 * (act ** 2).sum()) / 5,
                               rtol=1e-5)                   # divided by the batch size (Keras 3)
    np.testing.assert_allclose(model.weight_penalty(model.params),
                               0.1 * (k ** 2).sum() + 0.5 * np.abs(b).sum(), rtol=1e-5)
