"""MultiOptimizer and OptimizerMap against Keras 3: variables routed by path to their own
optimizers, three steps from the same start, a learning rate changed on one of them."""
import jax
import numpy as np
import optax
import pytest

import graphnet as gn
from graphnet import optimizers

keras = pytest.importorskip("keras")
rng = np.random.default_rng(8)
NAMES = ["encoder_kernel", "encoder_bias", "head_kernel"]
PARAMS = {n: rng.normal(size=s).astype("float32")
          for n, s in zip(NAMES, [(3, 4), (4,), (4, 2)])}
GRADS = [{n: rng.normal(size=p.shape).astype("float32") for n, p in PARAMS.items()}
         for _ in range(3)]


def make(module):
    return module.MultiOptimizer(module.OptimizerMap(
        module.SGD(0.05, momentum=0.9), {"encoder_.*": module.Adam(0.1)}))


def test_routes_by_path_like_keras_and_a_changed_learning_rate_applies():
    multi = make(optimizers)
    params = dict(PARAMS)
    with jax.numpy_dtype_promotion("standard"):
        multi.init(params)
        for i, g in enumerate(GRADS):
            if i == 2:
                multi.optimizers[0].learning_rate = 0.01        # the Adam of "encoder_.*"
            updates, multi.state = multi.tx.update(g, multi.state, params)
            params = optax.apply_updates(params, updates)
    variables = [keras.Variable(PARAMS[n], name=n) for n in NAMES]
    theirs = make(keras.optimizers)
    for i, g in enumerate(GRADS):
        if i == 2:
            theirs.optimizers[0].learning_rate = 0.01
        theirs.apply_gradients(zip([g[n] for n in NAMES], variables))
    for name, variable in zip(NAMES, variables):
        np.testing.assert_allclose(np.asarray(params[name]), np.asarray(variable.value),
                                   rtol=1e-6, atol=1e-7, err_msg=name)
    assert [type(o).__name__ for o in multi.optimizers] == ["Adam", "SGD"]
    assert multi.iterations == 3 and multi.optimizers[1].iterations == 3
    with pytest.raises(AttributeError, match="no learning rate"):
        multi.learning_rate


def test_optimizer_map_lookup_errors_and_config():
    mapping = optimizers.OptimizerMap(optimizers.RMSprop(),
                                      {"enc/.*": optimizers.SGD(), "enc/dense": optimizers.Adam()})
    assert isinstance(mapping["enc/dense"], optimizers.Adam)          # exact match first
    assert isinstance(mapping["enc/other"], optimizers.SGD)
    assert isinstance(mapping["dec"], optimizers.RMSprop)
    mapping["e.*"] = optimizers.Lion()
    with pytest.raises(ValueError, match="several optimizers match variable 'enc/other'"):
        mapping["enc/other"]
    with pytest.raises(ValueError, match="keys must not repeat"):
        mapping["e.*"] = optimizers.SGD()
    with pytest.raises(ValueError, match="cannot be used inside a MultiOptimizer"):
        mapping["x"] = optimizers.MultiOptimizer(optimizers.OptimizerMap(optimizers.SGD()))
    multi = make(optimizers)
    again = optimizers.deserialize(optimizers.serialize(multi))
    assert isinstance(again, optimizers.MultiOptimizer)
    assert again.get_config() == multi.get_config()
    with pytest.raises(ValueError, match="selector function cannot be saved"):
        optimizers.MultiOptimizer(lambda v: optimizers.SGD()).get_config()


@pytest.mark.slow
def test_a_selector_function_trains_a_model_and_saves(tmp_path):
    x = rng.normal(size=(16, 3)).astype("float32")
    y = rng.normal(size=(16, 2)).astype("float32")
    inputs = gn.Input((3,))
    hidden = gn.layers.Dense(4, name="encoder")(inputs)
    model = gn.Model(inputs, gn.layers.Dense(2, name="head")(hidden))
    frozen = model.get_layer("head").get_weights()
    adam, zero = optimizers.Adam(0.01), optimizers.SGD(0.0)
    model.compile(optimizers.MultiOptimizer(
        lambda v: adam if v.path.startswith("encoder/") else zero), loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for a, b in zip(model.get_layer("head").get_weights(), frozen):
        np.testing.assert_array_equal(a, b)                 # learning rate 0: unchanged
    assert adam.iterations == 2
    mapped = gn.Model(inputs, model.outputs)
    mapped.compile(optimizers.MultiOptimizer(optimizers.OptimizerMap(
        optimizers.SGD(0.01), {"head/.*": optimizers.Adam(0.01)})), loss="mse")
    mapped.fit(x, y, epochs=1, batch_size=8, verbose=0)
    mapped.save(tmp_path / "m.graphnet")
    loaded = gn.load_model(tmp_path / "m.graphnet")
    assert isinstance(loaded.optimizer, optimizers.MultiOptimizer)
    np.testing.assert_allclose(loaded.predict(x, verbose=0), mapped.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-6)
