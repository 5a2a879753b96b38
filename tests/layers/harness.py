"""One harness for every layer (Keras's run_layer_test): build, shapes, weights, config.

`run_layer_test(make_layer, input_shape)` checks, for a layer made by `make_layer()`:
- a symbolic call builds it and infers output shapes equal to `jax.eval_shape` of the
  model's pure `apply` on concrete inputs (and to what `predict` returns);
- `predict`, `model(x)` and jitted `apply` agree;
- `get_weights` / `set_weights` round-trip, and new weights change nothing but the values;
- `get_config` is JSON-able and `from_config` rebuilds a layer with the same config that,
  given the same weights, computes the same outputs.
"""
import json

import jax
import numpy as np

import graphnet as gn

BATCH = 3


def _concrete(shape, fill):
    return tuple(fill if d is None else d for d in shape)


def _random_inputs(shapes, dtype, rng):
    if np.dtype(dtype).kind in "iu":
        return [rng.integers(0, 5, size=s).astype(dtype) for s in shapes]
    return [rng.normal(size=s).astype(dtype) for s in shapes]


def _model_for(layer, shapes, dtype, as_list, call_kwargs):
    inputs = [gn.Input(s[1:], dtype=dtype) for s in shapes]
    out = layer(inputs if as_list else inputs[0], **call_kwargs)
    return gn.Model(inputs if as_list else inputs[0], out), out


def run_layer_test(make_layer, input_shape, *, dtype="float32", call_kwargs=None,
                   expected_num_weights=None, expected_output_shape=None, seed=0):
    """`input_shape` includes the batch axis (as None or a size); a list of shapes calls
    the layer on a list (merging layers). Returns the model and its outputs on the data."""
    call_kwargs = dict(call_kwargs or {})
    as_list = isinstance(input_shape, list)
    shapes = [tuple(s) for s in (input_shape if as_list else [input_shape])]
    rng = np.random.default_rng(seed)

    layer = make_layer()
    assert not layer.built
    model, symbolic = _model_for(layer, [(None, *s[1:]) for s in shapes], dtype, as_list,
                                 call_kwargs)
    assert layer.built
    if expected_num_weights is not None:
        assert len(layer.get_weights()) == expected_num_weights
    sym_leaves = jax.tree_util.tree_leaves(symbolic, is_leaf=lambda t: hasattr(t, "node"))
    if expected_output_shape is not None:
        expected = expected_output_shape if isinstance(expected_output_shape, list) else [expected_output_shape]
        assert [tuple(t.shape) for t in sym_leaves] == [tuple(e) for e in expected]

    # Shapes: symbolic inference against tracing the pure function on concrete inputs.
    data = _random_inputs([_concrete(s, BATCH) for s in shapes], dtype, rng)
    feed = data if as_list else data[0]
    traced = jax.eval_shape(lambda p, s, x: model.apply(p, s, x)[0], model.params, model.state, feed)
    traced_leaves = jax.tree_util.tree_leaves(traced)
    assert len(traced_leaves) == len(sym_leaves)
    for sym, tr in zip(sym_leaves, traced_leaves):
        assert len(sym.shape) == len(tr.shape), (sym.shape, tr.shape)
        assert sym.shape[0] is None
        for s_dim, t_dim in zip(sym.shape[1:], tr.shape[1:]):
            assert s_dim is None or s_dim == t_dim, (sym.shape, tr.shape)
        assert np.dtype(sym.dtype) == np.dtype(tr.dtype)

    # predict, model(x) and jitted apply agree.
    predicted = jax.tree_util.tree_leaves(model.predict(feed, verbose=0))
    called = jax.tree_util.tree_leaves(model(feed))
    applied = jax.tree_util.tree_leaves(jax.jit(model.apply)(model.params, model.state, feed)[0])
    for p, c, a, tr in zip(predicted, called, applied, traced_leaves):
        assert p.shape == tr.shape
        np.testing.assert_allclose(p, np.asarray(c), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(p, np.asarray(a), rtol=1e-5, atol=1e-6)

    # Weights round trip: new values go in and come back out, shapes and order kept.
    weights = layer.get_weights()
    new = [rng.normal(size=w.shape).astype(w.dtype) for w in weights]
    layer.set_weights(new)
    for got, want in zip(layer.get_weights(), new):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    out_new = jax.tree_util.tree_leaves(model.predict(feed, verbose=0))

    # Config round trip: JSON-able, same config again, same outputs with the same weights.
    config = layer.get_config()
    config = json.loads(json.dumps(config))
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone_model, _ = _model_for(clone, [(None, *s[1:]) for s in shapes], dtype, as_list,
                                call_kwargs)
    clone.set_weights(new)
    for a, b in zip(jax.tree_util.tree_leaves(clone_model.predict(feed, verbose=0)), out_new):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    return model, data, out_new


def keras_output(keras_layer, inputs, weights=(), **call_kwargs):
    """A Keras 3 layer's output on `inputs` (an array or a list) with `weights` set."""
    import keras  # test-only reference; KERAS_BACKEND=jax is set in conftest
    if isinstance(inputs, list):
        symbolic = [keras.Input(x.shape[1:], dtype=str(x.dtype)) for x in inputs]
    else:
        symbolic = keras.Input(inputs.shape[1:], dtype=str(inputs.dtype))
    model = keras.Model(symbolic, keras_layer(symbolic, **call_kwargs))
    if weights:
        keras_layer.set_weights(list(weights))
    return np.asarray(model(inputs))


def assert_close(actual, expected, rtol=1e-5, atol=1e-6):
    """Relative error under 1e-5 (atol only guards values that are exactly 0)."""
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)
