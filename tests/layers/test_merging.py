"""Merging layers against NumPy formulas written here and against Keras 3."""
import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import assert_close, keras_output, run_layer_test

RNG = np.random.default_rng(7)


def data(*shape):
    return RNG.normal(size=shape).astype("float32")


def merged_model(layer, shapes):
    inputs = [gn.Input(s) for s in shapes]
    return gn.Model(inputs, layer(inputs))


ELEMENTWISE = {
    "Add": (layers.Add, keras.layers.Add, lambda xs: sum(xs)),
    "Subtract": (layers.Subtract, keras.layers.Subtract, lambda xs: xs[0] - xs[1]),
    "Multiply": (layers.Multiply, keras.layers.Multiply, lambda xs: np.prod(xs, axis=0)),
    "Average": (layers.Average, keras.layers.Average, lambda xs: sum(xs) / len(xs)),
    "Maximum": (layers.Maximum, keras.layers.Maximum, lambda xs: np.max(xs, axis=0)),
    "Minimum": (layers.Minimum, keras.layers.Minimum, lambda xs: np.min(xs, axis=0)),
}


@pytest.mark.parametrize("name,n_inputs", [(name, n) for name in sorted(ELEMENTWISE)
                                            for n in ((2,) if name == "Subtract" else (2, 3))])
def test_elementwise_merge(name, n_inputs):
    ours, theirs, formula = ELEMENTWISE[name]
    xs = [data(4, 3, 5) for _ in range(n_inputs)]
    model = merged_model(ours(), [(3, 5)] * n_inputs)
    assert model.outputs[0].shape == (None, 3, 5)
    out = model.predict(xs)
    assert_close(out, formula(np.stack(xs)))
    assert_close(out, keras_output(theirs(), xs))
    run_layer_test(ours, [(None, 3, 5)] * n_inputs, expected_num_weights=0,
                   expected_output_shape=(None, 3, 5))


def test_add_reads_the_same_tensor_twice():
    x = gn.Input((3,))
    model = gn.Model(x, layers.Add()([x, x]))
    v = data(2, 3)
    assert_close(model.predict(v), 2 * v)
    assert model.graph.number_of_edges() == 1


@pytest.mark.parametrize("axis,shapes", [(-1, [(3, 2), (3, 4)]), (1, [(2, 5), (3, 5), (1, 5)]),
                                         (2, [(2, 1, 3), (2, 2, 3)])])
def test_concatenate(axis, shapes):
    xs = [data(4, *s) for s in shapes]
    model = merged_model(layers.Concatenate(axis=axis), shapes)
    expected = np.concatenate(xs, axis=axis)
    assert model.outputs[0].shape == (None, *expected.shape[1:])
    assert_close(model.predict(xs), expected)
    assert_close(model.predict(xs), keras_output(keras.layers.Concatenate(axis=axis), xs))
    run_layer_test(lambda: layers.Concatenate(axis=axis), [(None, *s) for s in shapes],
                   expected_output_shape=(None, *expected.shape[1:]))


def np_dot(x, y, axes, normalize):
    a0, a1 = axes
    if normalize:
        x = x / np.sqrt(np.sum(x * x, axis=a0, keepdims=True))
        y = y / np.sqrt(np.sum(y * y, axis=a1, keepdims=True))
    out = np.stack([np.tensordot(x[i], y[i], axes=(a0 - 1, a1 - 1)) for i in range(len(x))])
    return out.reshape(len(x), 1) if out.ndim == 1 else out


@pytest.mark.parametrize("shapes,axes", [([(5,), (5,)], 1), ([(3, 4), (2, 4)], 2),
                                         ([(3, 4), (3, 2)], (1, 1)), ([(3, 4), (4, 2)], (2, 1)),
                                         ([(3, 4), (5, 3)], (-2, -1))])
@pytest.mark.parametrize("normalize", [False, True])
def test_dot(shapes, axes, normalize):
    xs = [data(4, *s) for s in shapes]
    model = merged_model(layers.Dot(axes=axes, normalize=normalize), shapes)
    pair = (axes, axes) if isinstance(axes, int) else axes
    pair = tuple(a % (len(s) + 1) for a, s in zip(pair, shapes))
    expected = np_dot(*xs, pair, normalize)
    assert model.outputs[0].shape == (None, *expected.shape[1:])
    assert_close(model.predict(xs), expected)
    assert_close(model.predict(xs), keras_output(keras.layers.Dot(axes=axes, normalize=normalize), xs))
    run_layer_test(lambda: layers.Dot(axes=axes, normalize=normalize), [(None, *s) for s in shapes],
                   expected_output_shape=(None, *expected.shape[1:]))


# ---- errors: who, expected, received ------------------------------------------------------
def test_elementwise_shape_mismatch_names_layer_and_shapes():
    a, b = gn.Input((3,)), gn.Input((4,))
    with pytest.raises(ValueError, match=r"Add 'plus' expects inputs of the same shape, "
                                         r"received \(None, 3\), \(None, 4\)"):
        layers.Add(name="plus")([a, b])


def test_merge_rank_mismatch():
    with pytest.raises(ValueError, match=r"Multiply 'm' expects inputs of the same rank"):
        layers.Multiply(name="m")([gn.Input((3,)), gn.Input((2, 3))])


def test_merge_needs_a_list_of_at_least_two():
    with pytest.raises(ValueError, match="Add 'a1' must be called on a list"):
        layers.Add(name="a1")(gn.Input((3,)))
    with pytest.raises(ValueError, match="Add 'a2' takes at least 2 inputs, received 1"):
        layers.Add(name="a2")([gn.Input((3,))])
    with pytest.raises(ValueError, match="Subtract 's' takes exactly 2 inputs, received 3"):
        layers.Subtract(name="s")([gn.Input((3,))] * 3)


def test_concatenate_mismatch_off_axis():
    with pytest.raises(ValueError, match=r"Concatenate 'cat' expects inputs that match except on "
                                         r"axis -1, received \(None, 2, 3\), \(None, 4, 3\)"):
        layers.Concatenate(name="cat")([gn.Input((2, 3)), gn.Input((4, 3))])


def test_concatenate_on_batch_axis_is_refused():
    with pytest.raises(ValueError, match="Concatenate 'c0'.*non-batch axis"):
        layers.Concatenate(axis=0, name="c0")([gn.Input((2,)), gn.Input((2,))])


def test_dot_mismatched_contraction():
    with pytest.raises(ValueError, match=r"Dot 'd' \(axes=\(1, 1\)\) expects matching sizes.*"
                                         r"\(None, 3\) and \(None, 4\)"):
        layers.Dot(axes=1, name="d")([gn.Input((3,)), gn.Input((4,))])
