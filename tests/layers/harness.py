"""Shared checks for the layer tests: graphnet against Keras 3 with the same weights."""
import os

import numpy as np

import graphnet as gn

os.environ.setdefault("KERAS_BACKEND", "jax")


def keras():
    import keras as k
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
    out = model.predict(list(xs) if len(xs) > 1 else xs[0], batch_size=len(xs[0]))
    return out


def keras_predict(klayer, *xs, weights=None, **call_kwargs):
    """Keras layer on `xs`, built first, then given `weights` when passed."""
    k = keras()
    inputs = [k.Input(x.shape[1:], dtype=x.dtype.name) for x in xs]
    out = klayer(*inputs, **call_kwargs)
    model = k.Model(inputs, out)
    if weights is not None:
        klayer.set_weights(weights)
    result = model.predict(list(xs) if len(xs) > 1 else xs[0], verbose=0, batch_size=len(xs[0]))
    return result


def assert_close(actual, expected, rtol=1e-5, atol=1e-6):
    if isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected)
        for a, e in zip(actual, expected):
            assert_close(a, e, rtol, atol)
        return
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)


def check_against_keras(layer, klayer, *xs, rtol=1e-5, atol=1e-6, call_kwargs=None):
    """Both directions: graphnet's weights into Keras, then Keras's own weights into graphnet."""
    call_kwargs = call_kwargs or {}
    ours = predict(layer, *xs, **call_kwargs)
    theirs = keras_predict(klayer, *xs, weights=layer.get_weights(), **call_kwargs)
    assert_close(ours, theirs, rtol, atol)
    # Keras's initial weights (different draws) back into graphnet.
    k = keras()
    fresh = k.layers.deserialize(k.layers.serialize(klayer))
    theirs2 = keras_predict(fresh, *xs, **call_kwargs)
    kweights = fresh.get_weights()
    assert [w.shape for w in kweights] == [w.shape for w in layer.get_weights()]
    layer.set_weights(kweights)
    for got, want in zip(layer.get_weights(), kweights):
        np.testing.assert_array_equal(got, want)
    ours2 = predict(layer, *xs, **call_kwargs)
    assert_close(ours2, theirs2, rtol, atol)
    return ours


def config_round_trip(layer):
    """cls.from_config(get_config()) gives the same config (names included)."""
    config = layer.get_config()
    import json
    json.dumps(config)
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    return clone
