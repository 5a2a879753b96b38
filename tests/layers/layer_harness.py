"""Shared checks for the layer tests: graphnet against Keras 3 with the same weights."""
import json

import numpy as np

import graphnet as gn


def keras():
    import keras as k      # KERAS_BACKEND=jax is set by tests/conftest.py
    return k


def model_of(layer, *shapes, dtypes=None, **call_kwargs):
    """A graphnet Model around one call of `layer` on Inputs of `shapes`."""
    dtypes = dtypes or ["float32"] * len(shapes)
    inputs = [gn.Input(s, dtype=d) for s, d in zip(shapes, dtypes)]
    return gn.Model(inputs, layer(*inputs, **call_kwargs))


def predict(layer, *xs, **call_kwargs):
    """`layer(*xs)` through a compiled graphnet model (outputs as NumPy)."""
    model = model_of(layer, *[x.shape[1:] for x in xs], dtypes=[x.dtype.name for x in xs],
                     **call_kwargs)
    return model.predict(list(xs) if len(xs) > 1 else xs[0], batch_size=len(xs[0]))


def assert_close(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, (list, tuple)):
        assert isinstance(actual, (list, tuple)) and len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol, atol)
        return
    assert np.shape(actual) == np.shape(expected)
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


def random_weights(layer, seed=0):
    """Arrays of the layer's weight shapes, non-trivial (BatchNorm's variance kept positive)."""
    rng = np.random.default_rng(seed)
    return [(rng.uniform(0.5, 1.5, w.shape) if "variance" in name else rng.normal(size=w.shape))
            .astype(w.dtype) for name, w in zip(layer_weight_names(layer), layer.get_weights())]


def layer_weight_names(layer):
    names = [n for n in layer.weight_names if n in layer.params or n in layer.state]
    return names or [str(i) for i in range(len(layer.get_weights()))]


def check_against_keras(layer, klayer, *xs, rtol=1e-5, atol=1e-6, weights=None, call_kwargs=None):
    """Both directions of the weights, one model on each side:
    Keras's initial weights into graphnet (`set_weights`), then graphnet's (or `weights`,
    "random" for random arrays of the right shapes) into Keras. Returns graphnet's output
    for the second set."""
    call_kwargs = call_kwargs or {}
    k = keras()
    model = model_of(layer, *[x.shape[1:] for x in xs], dtypes=[x.dtype.name for x in xs],
                     **call_kwargs)
    kinputs = [k.Input(x.shape[1:], dtype=x.dtype.name) for x in xs]
    kmodel = k.Model(kinputs, klayer(*kinputs, **call_kwargs))
    data = list(xs) if len(xs) > 1 else xs[0]

    def both():
        return (model.predict(data, batch_size=len(xs[0])),
                kmodel.predict(data, verbose=0, batch_size=len(xs[0])))

    ours_initial = [np.array(w) for w in layer.get_weights()]
    if isinstance(weights, str) and weights == "random":
        weights = random_weights(layer, seed=1)
    theirs = klayer.get_weights()
    assert [w.shape for w in theirs] == [w.shape for w in ours_initial], "weight layouts differ"
    layer.set_weights(theirs)
    for got, want in zip(layer.get_weights(), theirs):
        np.testing.assert_array_equal(got, want)
    assert_close(*both(), rtol=rtol, atol=atol)

    klayer.set_weights(ours_initial if weights is None else weights)
    layer.set_weights(ours_initial if weights is None else weights)
    ours, keras_out = both()
    assert_close(ours, keras_out, rtol=rtol, atol=atol)
    return ours


def config_round_trip(layer):
    """`cls.from_config(layer.get_config())` rebuilds a layer with the same (JSON-able) config."""
    config = layer.get_config()
    json.dumps(config)
    clone = type(layer).from_config(config)
    assert type(clone) is type(layer)
    assert clone.get_config() == config
    return clone
