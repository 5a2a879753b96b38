"""One harness for every layer (Keras's run_layer_test), and the Keras 3 comparisons.

`run_layer_test(make_layer, input_shape)` checks, for a layer made by `make_layer()`:
- a symbolic call builds it and infers output shapes equal to `jax.eval_shape` of the
  model's pure `apply` on concrete inputs (and to what `predict` returns);
- `predict`, `model(x)` and jitted `apply` agree;
- `get_weights` / `set_weights` round-trip, and new weights change nothing but the values;
- `get_config` is JSON-able and `from_config` rebuilds a layer with the same config that,
  given the same weights, computes the same outputs;
- the model saves and loads with the same outputs, and its pictures (DOT, Mermaid, SVG)
  show the layer;
- given `keras_layer`, Keras 3's layer computes the same outputs with the same weights,
  and with `masked=True` also behind `Masking` on data whose last steps are masked.

`check_against_keras` is the Keras comparison on its own (weights moved both ways).
"""
import json
import os
import tempfile

import jax
import numpy as np

import graphnet as gn
from graphnet.layers.serialization import graphnet_layer_classes
from graphnet.registry import registered_name

BATCH = 3


def keras():
    import keras as k      # KERAS_BACKEND=jax is set by tests/conftest.py
    return k


def _concrete(shape, fill):
    return tuple(fill if d is None else d for d in shape)


def _random_inputs(shapes, dtype, rng):
    if np.dtype(dtype).kind in "iu":
        return [rng.integers(0, 5, size=s).astype(dtype) for s in shapes]
    return [rng.normal(size=s).astype(dtype) for s in shapes]


def _model_for(layer, shapes, dtype, as_list, call_kwargs, spread=False):
    inputs = [gn.Input(s[1:], dtype=dtype) for s in shapes]
    if spread:
        out = layer(*inputs, **call_kwargs)
    else:
        out = layer(inputs if as_list else inputs[0], **call_kwargs)
    return gn.Model(inputs if as_list else inputs[0], out), out


def run_layer_test(make_layer, input_shape, *, dtype="float32", call_kwargs=None,
                   expected_num_weights=None, expected_output_shape=None, seed=0,
                   keras_layer=None, saving=None, pictures=True, spread=False, masked=False,
                   rtol=1e-5, atol=1e-6):
    """`input_shape` includes the batch axis (as None or a size); a list of shapes calls
    the layer on a list (merging layers). `keras_layer()` makes Keras 3's counterpart.
    `saving` defaults to whether the layer's class can be saved (graphnet's or registered).
    `spread` calls the layer on the inputs as separate arguments (MultiHeadAttention's
    query and value) rather than on a list.
    Returns the model, the data and its outputs with the harness's weights."""
    call_kwargs = dict(call_kwargs or {})
    as_list = isinstance(input_shape, list)
    shapes = [tuple(s) for s in (input_shape if as_list else [input_shape])]
    rng = np.random.default_rng(seed)

    layer = make_layer()
    assert not layer.built
    if saving is None:
        cls = type(layer)
        saving = (graphnet_layer_classes().get(cls.__name__) is cls
                  or registered_name(cls) is not None)
    model, symbolic = _model_for(layer, [(None, *s[1:]) for s in shapes], dtype, as_list,
                                 call_kwargs, spread)
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
    new = random_weights(layer, seed=seed + 1)
    layer.set_weights(new)
    for got, want in zip(layer.get_weights(), new):
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    assert [w.shape for w in weights] == [w.shape for w in new]
    out_new = jax.tree_util.tree_leaves(model.predict(feed, verbose=0))

    # Config round trip: JSON-able, same config again, same outputs with the same weights.
    config = layer.get_config()
    config = json.loads(json.dumps(config))
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    clone_model, _ = _model_for(clone, [(None, *s[1:]) for s in shapes], dtype, as_list,
                                call_kwargs, spread)
    clone.set_weights(new)
    for a, b in zip(jax.tree_util.tree_leaves(clone_model.predict(feed, verbose=0)), out_new):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)

    with tempfile.TemporaryDirectory() as folder:
        if saving:     # the model's file gives the same outputs
            path = os.path.join(folder, "m.graphnet")
            model.save(path)
            loaded = gn.load_model(path)
            for a, b in zip(jax.tree_util.tree_leaves(loaded.predict(feed, verbose=0)), out_new):
                np.testing.assert_array_equal(a, b)
        if pictures:   # every format draws the layer, named and typed
            for text in (model.to_dot(), model.to_mermaid()):
                assert layer.name in text and type(layer).__name__ in text
            svg = os.path.join(folder, "m.svg")
            gn.plot_model(model, to_file=svg)
            with open(svg, encoding="utf-8") as f:
                assert layer.name in f.read()

    if keras_layer is not None:     # Keras 3 computes the same with the same weights
        theirs = keras_output(keras_layer(), feed, new, spread=spread, **call_kwargs)
        assert_close(out_new if len(out_new) > 1 else out_new[0], theirs, rtol=rtol, atol=atol)
        if masked:
            assert_close(_behind_masking(gn.layers, layer, feed, call_kwargs),
                         _behind_masking(keras().layers, keras_layer(), feed, call_kwargs, new),
                         rtol=rtol, atol=atol)
    return model, data, out_new


def _behind_masking(library, layer, x, call_kwargs, weights=None):
    """`layer(Masking(0.0)(x))` on `x` with its last two steps zeroed (so masked), through
    graphnet or Keras (`library` is either's `layers` module)."""
    x = x.copy()
    x[:, -2:] = 0.0
    lib = gn if library is gn.layers else keras()
    inputs = lib.Input(x.shape[1:])
    model = lib.Model(inputs, layer(library.Masking(0.0)(inputs), **call_kwargs))
    if weights is not None:
        layer.set_weights(list(weights))
    out = model.predict(x, verbose=0)
    return list(out) if isinstance(out, (list, tuple)) else out


def keras_output(keras_layer, inputs, weights=(), spread=False, **call_kwargs):
    """A Keras 3 layer's output on `inputs` (an array or a list) with `weights` set."""
    k = keras()
    if isinstance(inputs, list):
        symbolic = [k.Input(x.shape[1:], dtype=str(x.dtype)) for x in inputs]
    else:
        symbolic = k.Input(inputs.shape[1:], dtype=str(inputs.dtype))
    out = keras_layer(*symbolic, **call_kwargs) if spread else keras_layer(symbolic, **call_kwargs)
    model = k.Model(symbolic, out)
    if len(weights):
        keras_layer.set_weights(list(weights))
    out = model(inputs, training=False)      # inference, as predict (Keras augments by default)
    return [np.asarray(o) for o in out] if isinstance(out, (list, tuple)) else np.asarray(out)


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
    """Relative error under 1e-5 (atol only guards values that are exactly 0); lists
    compared item by item."""
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
    if len(names) != len(layer.get_weights()):      # wrappers: the inner layers' weights
        names = [w.name for w in layer.weights]
    return names if len(names) == len(layer.get_weights()) else [
        str(i) for i in range(len(layer.get_weights()))]


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
