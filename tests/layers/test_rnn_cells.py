"""RNN cells (SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells) and the generic RNN layer:
Keras 3 from the same weights, a cell written Keras's way, masks, and the harness."""
import jax
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers
from harness import keras, run_layer_test
from keras_calls import keras_call

RNG = np.random.default_rng(4)
X = RNG.normal(size=(2, 5, 3)).astype("float32")
MASK = np.array([[True, True, True, False, False], [True, False, True, True, True]])


def flat(tree):
    return jax.tree_util.tree_leaves(tree)


def same_weights(ours, theirs, seed=1):
    """Random arrays of Keras's shapes into both layers (ours must have the same layout)."""
    rng = np.random.default_rng(seed)
    weights = [rng.normal(0, 0.7, w.shape).astype("float32") for w in theirs.get_weights()]
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in weights]
    ours.set_weights(weights)
    theirs.set_weights(weights)


def both_rnns(make, x, mask=None):
    """`make(layers_module)` in each library, built and given the same weights, called on
    `x` (with `mask=` where given); outputs flattened."""
    ours, theirs = make(layers), make(keras().layers)
    ours(gn.Input(x.shape[1:]))
    theirs.build(x.shape)
    same_weights(ours, theirs)
    kwargs = {} if mask is None else {"mask": mask}
    return ([np.asarray(o) for o in flat(ours(x, **kwargs))],
            [np.asarray(o) for o in flat(keras_call(theirs, x, **kwargs))])


def assert_all_close(pairs):
    ours, theirs = pairs
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, kwargs, states", [("LSTMCell", {}, 2)])   # GRUCell: in RNN below
def test_one_step_of_a_cell_matches_keras(name, kwargs, states):
    x = RNG.normal(size=(2, 3)).astype("float32")
    h = [RNG.normal(size=(2, 4)).astype("float32") for _ in range(states)]
    ours, theirs = (getattr(lib.layers, name)(4, **kwargs) for lib in (gn, keras()))
    ours(gn.Input((3,)), [gn.Input((4,)) for _ in range(states)])
    theirs.build((None, 3))
    same_weights(ours, theirs)
    got = [np.asarray(o) for o in flat(ours(x, h))]
    want = [np.asarray(o) for o in flat(keras_call(theirs, x, h))]
    assert len(got) == 1 + states
    assert_all_close((got, want))


def test_the_lstm_cell_matches_the_lstm_layer_step_by_step():
    """RNN(LSTMCell) is LSTM: the same weights give the same sequence and states."""
    cell_rnn = layers.RNN(layers.LSTMCell(4), return_sequences=True, return_state=True)
    lstm = layers.LSTM(4, return_sequences=True, return_state=True)
    inputs = gn.Input((5, 3))
    a, b = gn.Model(inputs, cell_rnn(inputs)), gn.Model(inputs, lstm(inputs))
    lstm.set_weights(cell_rnn.get_weights())
    for got, want in zip(a.predict(X, verbose=0), b.predict(X, verbose=0)):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


RNN_CASES = {     # name -> make the layer from a layers module; both run on masked data
    "stacked-backwards-states": lambda L: L.RNN([L.LSTMCell(4), L.GRUCell(2)],
                                                go_backwards=True, return_state=True,
                                                return_sequences=True),
    "unrolled-zero-output": lambda L: L.RNN(L.StackedRNNCells(
        [L.SimpleRNNCell(3), L.GRUCell(2, reset_after=False)]), unroll=True,
        zero_output_for_mask=True, return_sequences=True),
}


@pytest.mark.parametrize("case", sorted(RNN_CASES))
def test_rnn_of_cells_matches_keras(case):
    assert_all_close(both_rnns(RNN_CASES[case], X, MASK))


def minimal_rnn_cell(lib):
    """The keras.io RNN guide's cell, written for either library."""
    class MinimalRNNCell(lib.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                          initializer="uniform", name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                    initializer="uniform",
                                                    name="recurrent_kernel")
            self.built = True

        def call(self, inputs, states):
            prev_output = states[0]
            h = lib.ops.matmul(inputs, self.kernel)
            output = h + lib.ops.matmul(prev_output, self.recurrent_kernel)
            return output, [output]
    return MinimalRNNCell


def test_a_cell_written_the_keras_way_runs_as_keras_and_as_numpy():
    def make(L):
        return L.RNN(minimal_rnn_cell(gn if L is layers else keras())(4), return_sequences=True)
    assert_all_close(both_rnns(make, X, MASK))
    # NumPy, a stack of two (unmasked: Keras's scan would repeat the first cell's state as
    # the output of a masked step, which has another size here).
    cell = minimal_rnn_cell(gn)
    rnn = layers.RNN([cell(4), cell(2)], return_sequences=True)
    rnn(X)
    k1, r1, k2, r2 = [RNG.normal(size=w.shape).astype("float32") for w in rnn.get_weights()]
    rnn.set_weights([k1, r1, k2, r2])
    h1, h2, outs = np.zeros((2, 4)), np.zeros((2, 2)), []
    for t in range(5):
        n1 = X[:, t] @ k1 + h1 @ r1
        n2 = n1 @ k2 + h2 @ r2
        h1, h2 = n1, n2
        outs.append(h2)
    np.testing.assert_allclose(rnn(X), np.stack(outs, 1), rtol=1e-5, atol=1e-5)


def test_rnn_returns_and_masks_as_keras():
    rnn = layers.RNN([layers.LSTMCell(3), layers.SimpleRNNCell(2)], return_state=True)
    krnn = keras().layers.RNN([keras().layers.LSTMCell(3), keras().layers.SimpleRNNCell(2)],
                              return_state=True)
    mask = np.array([[True, False, True, True, True]] * 2)
    krnn.build(X.shape)
    ours, theirs = rnn(X), keras_call(krnn, X)
    # (output, [h1, c1], [h2]): each cell's states as a list, as Keras's
    assert jax.tree_util.tree_structure(ours) == jax.tree_util.tree_structure(
        jax.tree_util.tree_map(np.asarray, list(theirs)))
    assert [np.shape(t) for t in flat(ours)] == [(2, 2), (2, 3), (2, 3), (2, 2)]
    # No mask on the output nor on the states (one entry per state tensor, as graphnet's
    # outputs are the flattened tensors).
    assert krnn.compute_mask(X, mask)[0] is None
    assert rnn.compute_mask(X, mask) == (None,) * 4
    seq = layers.RNN(layers.GRUCell(2), return_sequences=True)
    np.testing.assert_array_equal(seq.compute_mask(X, mask), mask)


def test_cell_dropout_is_drawn_once_per_sequence_and_only_in_training():
    rnn = layers.RNN(layers.SimpleRNNCell(3, dropout=0.5, recurrent_dropout=0.5,
                                          activation="linear", use_bias=False),
                     return_sequences=True)
    inputs = gn.Input((5, 3))
    model = gn.Model(inputs, rnn(inputs))
    kernel = np.eye(3, dtype="float32")
    rnn.set_weights([kernel, np.zeros((3, 3), "float32")])
    ones = np.ones((1, 5, 3), "float32")
    np.testing.assert_allclose(model.predict(ones, verbose=0), ones)
    trained, _ = model.apply(model.params, model.state, ones, training=True,
                             rng=jax.random.key(3))
    trained = np.asarray(trained)[0]
    # With no recurrence each step is the input times the one inputs mask: the same at every
    # step, each entry 0 or 1 / (1 - 0.5).
    assert set(np.unique(trained)) <= {0.0, 2.0}
    np.testing.assert_array_equal(trained, np.broadcast_to(trained[0], trained.shape))


def test_rnn_and_cell_errors_name_the_layer():
    with pytest.raises(ValueError, match="stateful=True is not supported"):
        layers.RNN(layers.LSTMCell(2), stateful=True)
    with pytest.raises(ValueError, match="state_size"):
        layers.RNN(layers.Dense(2))
    with pytest.raises(TypeError, match="RNN 'r' takes a cell"):
        layers.RNN(lambda x, s: (x, s), name="r")
    with pytest.raises(ValueError, match=r"LSTMCell 'c' expects states as 2 tensor\(s\)"):
        layers.LSTMCell(3, name="c")(gn.Input((2,)), [gn.Input((3,))])
    with pytest.raises(ValueError, match="RNN 'r2' expects an input of rank >= 3"):
        layers.RNN(layers.GRUCell(2), name="r2")(gn.Input((4,)))
    with pytest.raises(ValueError, match="units must be a positive int"):
        layers.GRUCell(0)


@pytest.mark.slow
def test_rnn_of_cells_through_the_harness():
    run_layer_test(lambda: layers.RNN(layers.StackedRNNCells(
        [layers.LSTMCell(3), layers.GRUCell(2)])), (None, 4, 2), expected_num_weights=6)


def test_a_cell_called_on_one_step_through_the_harness():
    run_layer_test(lambda: layers.SimpleRNNCell(3), [(None, 2), (None, 3)], spread=True,
                   keras_layer=lambda: keras().layers.SimpleRNNCell(3))
