"""SimpleRNN, LSTM, GRU and Bidirectional: step-by-step NumPy references and Keras 3."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphnet as gn
from graphnet import layers
from harness import check_against_keras, config_round_trip, keras, model_of, predict


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def numpy_lstm(x, kernel, recurrent, bias):
    """Keras's LSTM, one step at a time; gates i, f, c, o."""
    u = recurrent.shape[0]
    h, c = np.zeros((x.shape[0], u)), np.zeros((x.shape[0], u))
    outputs = []
    for t in range(x.shape[1]):
        z = x[:, t] @ kernel + h @ recurrent + bias
        i, f, g, o = (z[:, k * u:(k + 1) * u] for k in range(4))
        c = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
        h = sigmoid(o) * np.tanh(c)
        outputs.append(h)
    return np.stack(outputs, 1), h, c


def numpy_gru(x, kernel, recurrent, bias):
    """Keras's GRU with reset_after=True: bias rows are input and recurrent; gates z, r, h."""
    u = recurrent.shape[0]
    h = np.zeros((x.shape[0], u))
    outputs = []
    for t in range(x.shape[1]):
        xz, xr, xh = np.split(x[:, t] @ kernel + bias[0], 3, axis=-1)
        rz, rr, rh = np.split(h @ recurrent + bias[1], 3, axis=-1)
        z, r = sigmoid(xz + rz), sigmoid(xr + rr)
        h = z * h + (1 - z) * np.tanh(xh + r * rh)
        outputs.append(h)
    return np.stack(outputs, 1), h


def numpy_simple_rnn(x, kernel, recurrent, bias):
    h = np.zeros((x.shape[0], recurrent.shape[0]))
    outputs = []
    for t in range(x.shape[1]):
        h = np.tanh(x[:, t] @ kernel + h @ recurrent + bias)
        outputs.append(h)
    return np.stack(outputs, 1), h


def data(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def randomize(layer, seed=1):
    rng = np.random.default_rng(seed)
    layer.set_weights([rng.normal(0, 0.5, w.shape).astype("float32") for w in layer.get_weights()])


@settings(max_examples=10, deadline=None)
@given(st.integers(1, 3), st.integers(1, 6), st.integers(1, 4), st.integers(1, 5),
       st.booleans(), st.integers(0, 1000))
def test_lstm_matches_step_by_step_numpy(batch, steps, features, units, backwards, seed):
    x = data((batch, steps, features), seed)
    layer = layers.LSTM(units, return_sequences=True, return_state=True, go_backwards=backwards)
    model = model_of(layer, (steps, features))
    randomize(layer, seed)
    seq, h, c = model.predict(x)
    want_seq, want_h, want_c = numpy_lstm(x[:, ::-1] if backwards else x, *layer.get_weights())
    for got, want in ((seq, want_seq), (h, want_h), (c, want_c)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


@settings(max_examples=8, deadline=None)
@given(st.integers(1, 6), st.integers(1, 4), st.integers(1, 5), st.integers(0, 1000))
def test_gru_and_simple_rnn_match_step_by_step_numpy(steps, features, units, seed):
    x = data((2, steps, features), seed)
    gru = layers.GRU(units, return_sequences=True)
    model = model_of(gru, (steps, features))
    randomize(gru, seed)
    np.testing.assert_allclose(model.predict(x), numpy_gru(x, *gru.get_weights())[0],
                               rtol=1e-5, atol=1e-5)
    rnn = layers.SimpleRNN(units)
    model = model_of(rnn, (steps, features))
    randomize(rnn, seed)
    np.testing.assert_allclose(model.predict(x), numpy_simple_rnn(x, *rnn.get_weights())[1],
                               rtol=1e-5, atol=1e-5)


def test_weight_layouts_are_keras():
    for layer, shapes in ((layers.LSTM(3), [(4, 12), (3, 12), (12,)]),
                          (layers.GRU(3), [(4, 9), (3, 9), (2, 9)]),
                          (layers.GRU(3, reset_after=False), [(4, 9), (3, 9), (9,)]),
                          (layers.SimpleRNN(3), [(4, 3), (3, 3), (3,)])):
        layer(gn.Input((5, 4)))
        assert [w.shape for w in layer.get_weights()] == shapes
    lstm = layers.LSTM(2)
    lstm(gn.Input((5, 4)))
    np.testing.assert_array_equal(lstm.get_weights()[2], [0, 0, 1, 1, 0, 0, 0, 0])  # forget bias 1


FLAGS = [dict(units=4), dict(units=3, return_sequences=True, go_backwards=True),
         dict(units=3, return_state=True), dict(units=2, return_sequences=True, return_state=True,
                                                 activation="relu", use_bias=False)]


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("kwargs", FLAGS, ids=["last", "seq_back", "state", "seq_state"])
def test_against_keras(name, kwargs):
    x = data((2, 6, 3))
    layer = getattr(layers, name)(**kwargs)
    check_against_keras(layer, getattr(keras().layers, name)(**kwargs), x, weights="random")
    config_round_trip(layer)


def test_gru_reset_before_against_keras():
    kwargs = dict(units=3, reset_after=False, return_sequences=True)
    check_against_keras(layers.GRU(**kwargs), keras().layers.GRU(**kwargs), data((2, 5, 4)),
                        weights="random")


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave"])
def test_bidirectional_against_keras(merge_mode):
    x = data((2, 5, 3))
    layer = layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode=merge_mode)
    klayer = keras().layers.Bidirectional(keras().layers.LSTM(3, return_sequences=True),
                                          merge_mode=merge_mode)
    check_against_keras(layer, klayer, x, weights="random")
    clone = config_round_trip(layer)
    assert clone.merge_mode == merge_mode and isinstance(clone.forward_layer, layers.LSTM)


def test_bidirectional_states_and_numpy():
    x = data((2, 5, 3))
    layer = layers.Bidirectional(layers.GRU(2, return_state=True))
    check_against_keras(layer, keras().layers.Bidirectional(keras().layers.GRU(2, return_state=True)),
                        x, weights="random")
    out, h_fwd, h_bwd = predict(layer, x)
    w = layer.get_weights()
    np.testing.assert_allclose(h_fwd, numpy_gru(x, *w[:3])[1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(h_bwd, numpy_gru(x[:, ::-1], *w[3:])[1], rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(out, np.concatenate([h_fwd, h_bwd], -1), rtol=1e-6)


def test_bidirectional_weights_are_both_copies_in_keras_order():
    i = gn.Input((5, 3))
    model = gn.Model(i, layers.Bidirectional(layers.LSTM(2, name="enc"), name="bi")(i))
    bi = model.get_layer("bi")
    # Keras 3: kernel (features, 4u), recurrent_kernel (u, 4u), bias (4u,), forward first
    assert [tuple(w.shape) for w in model.weights] == [(3, 8), (2, 8), (8,)] * 2
    assert [w.path for w in bi.weights][::3] == ["bi/forward_enc/kernel", "bi/backward_enc/kernel"]
    assert len(model.trainable_variables) == 6 and model.non_trainable_variables == []
    # the Variables are views of the layer's weights: assigning one changes what it computes
    new = np.ones((3, 8), "float32")
    bi.weights[3].assign(new)
    np.testing.assert_array_equal(bi.get_weights()[3], new)
    np.testing.assert_array_equal(model.trainable_variables[3].numpy(), new)
    # the stateless API runs on values given for both copies
    x = data((4, 5, 3))
    doubled = [2 * v.numpy() for v in model.trainable_variables]
    out, _ = model.stateless_call(doubled, [], x)
    model.set_weights(doubled)
    np.testing.assert_allclose(out, model.predict(x), rtol=1e-6, atol=1e-7)


# ---- masking ---------------------------------------------------------------------------
IDS = np.array([[3, 1, 4, 0, 0], [2, 5, 6, 1, 0], [1, 2, 3, 4, 5]], "int32")


def masked_models(make_graphnet, make_keras):
    i = gn.Input((IDS.shape[1],), dtype="int32")
    ours = gn.Model(i, make_graphnet(i))
    k = keras()
    ki = k.Input((IDS.shape[1],), dtype="int32")
    theirs = k.Model(ki, make_keras(ki))
    for layer in ours.layers[1:]:
        theirs.get_layer(layer.name).set_weights(layer.get_weights())
    return ours, theirs


@pytest.mark.parametrize("case", ["lstm_seq", "lstm_back", "gru_last", "bidi_seq", "bidi_last",
                                  "stacked", "initial_state"])
def test_masking_from_embedding_matches_keras(case):
    def build(lib, i):
        L = lib.layers
        e = L.Embedding(8, 4, mask_zero=True, name="emb")(i)
        if case == "lstm_seq":
            return L.LSTM(3, return_sequences=True, name="rnn")(e)
        if case == "lstm_back":
            return L.LSTM(3, return_sequences=True, go_backwards=True, name="rnn")(e)
        if case == "gru_last":
            return L.GRU(3, name="rnn")(e)
        if case == "bidi_seq":
            return L.Bidirectional(L.LSTM(3, return_sequences=True), name="rnn")(e)
        if case == "bidi_last":
            return L.Bidirectional(L.SimpleRNN(3), name="rnn")(e)
        if case == "stacked":
            s = L.LSTM(3, return_sequences=True, name="rnn")(e)
            return L.GRU(2, name="rnn2")(s)
        # Keras 3 passes `mask=` only to a call with one tensor argument: an RNN given
        # initial_state runs unmasked (masked steps are not skipped).
        out, h, c = L.LSTM(3, return_sequences=True, return_state=True, name="rnn")(e)
        init = [L.Dense(2, name="dh")(h), L.Dense(2, name="dc")(c)]
        return L.LSTM(2, return_sequences=True, name="rnn2")(out, initial_state=init)
    ours, theirs = masked_models(lambda i: build(gn, i), lambda i: build(keras(), i))
    np.testing.assert_allclose(ours.predict(IDS), theirs.predict(IDS, verbose=0), rtol=1e-5,
                               atol=1e-6)


def test_padded_and_unpadded_sequences_give_the_same_lstm_output():
    i = gn.Input((None,), dtype="int32")
    seq = layers.LSTM(4, return_sequences=True)(layers.Embedding(10, 3, mask_zero=True)(i))
    last = layers.LSTM(4)(layers.Embedding(10, 3, mask_zero=True)(i))
    model = gn.Model(i, [seq, last])
    short = np.array([[5, 2, 7]], "int32")
    padded = np.array([[5, 2, 7, 0, 0, 0]], "int32")
    seq_short, last_short = model.predict(short)
    seq_padded, last_padded = model.predict(padded)
    np.testing.assert_allclose(last_padded, last_short, rtol=1e-6)
    np.testing.assert_allclose(seq_padded[:, :3], seq_short, rtol=1e-6)
    # Keras 3 (zero_output_for_mask=False): masked steps repeat the last output.
    np.testing.assert_allclose(seq_padded[:, 3:], np.repeat(seq_short[:, -1:], 3, 1), rtol=1e-6)


def test_masked_final_state_is_the_last_unmasked_output():
    i = gn.Input((5,), dtype="int32")
    e = layers.Embedding(8, 4, mask_zero=True)(i)
    out, h, c = layers.LSTM(3, return_sequences=True, return_state=True)(e)
    seq, final_h = gn.Model(i, [out, h]).predict(IDS)
    lengths = (IDS != 0).sum(1)
    np.testing.assert_allclose(final_h, seq[np.arange(3), lengths - 1], rtol=1e-6)
    np.testing.assert_allclose(final_h, seq[:, -1], rtol=1e-6)


# ---- dropout, gradients, errors -------------------------------------------------------
def test_dropout_is_random_when_training_and_off_otherwise():
    layer = layers.LSTM(4, dropout=0.5, recurrent_dropout=0.3)
    model = model_of(layer, (6, 3))
    x = data((2, 6, 3))
    params, state = model.params, model.state
    plain, _ = model.apply(params, state, x)
    np.testing.assert_allclose(plain, model.predict(x), rtol=1e-6)
    a, _ = model.apply(params, state, x, training=True, rng=jax.random.key(1))
    b, _ = model.apply(params, state, x, training=True, rng=jax.random.key(1))
    c, _ = model.apply(params, state, x, training=True, rng=jax.random.key(2))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, plain) and not np.allclose(a, c)
    with pytest.raises(ValueError, match="random key"):
        model.apply(params, state, x, training=True)


def test_gradient_through_scan_matches_numerical():
    layer = layers.GRU(3, return_sequences=True)
    model = model_of(layer, (4, 2))
    x = data((2, 4, 2))

    def loss(params):
        return jnp.sum(model.apply(params, model.state, x)[0] ** 2)
    grads = jax.grad(loss)(model.params)
    kernel = model.params[layer.name]["kernel"]
    eps = 1e-3
    bumped = dict(model.params[layer.name], kernel=kernel.at[0, 0].add(eps))
    numeric = (loss({layer.name: bumped}) - loss(model.params)) / eps
    np.testing.assert_allclose(grads[layer.name]["kernel"][0, 0], numeric, rtol=2e-2, atol=1e-4)


def test_errors_name_the_layer():
    layer = layers.LSTM(3, name="the_lstm")
    layer(gn.Input((5, 4)))
    with pytest.raises(ValueError, match=r"the_lstm.*rank 3"):
        layer(gn.Input((4,)))
    with pytest.raises(ValueError, match=r"the_lstm.*\(batch, timesteps, 4\).*\(None, 5, 6\)"):
        layer(gn.Input((5, 6)))
    with pytest.raises(ValueError, match=r"the_lstm.*'recurrent_kernel'.*\(3, 12\).*\(12, 3\)"):
        layer.set_weights([np.zeros((4, 12)), np.zeros((12, 3)), np.zeros(12)])
    with pytest.raises(ValueError, match=r"the_lstm.*initial_state"):
        layer(gn.Input((5, 4)), initial_state=[gn.Input((3,))])
    with pytest.raises(ValueError, match="stateful"):
        layers.GRU(2, stateful=True)
    with pytest.raises(ValueError, match="merge_mode"):
        layers.Bidirectional(layers.LSTM(2), merge_mode="max")
    with pytest.raises(TypeError, match="Bidirectional wraps"):
        layers.Bidirectional(layers.Dense(2))


def test_initial_state_is_used():
    x, h0 = data((2, 4, 3)), data((2, 2), 5)
    i, s = gn.Input((4, 3)), gn.Input((2,))
    layer = layers.GRU(2, return_sequences=True)
    model = gn.Model([i, s], layer(i, initial_state=[s]))
    kernel, recurrent, bias = layer.get_weights()
    got = model.predict([x, h0])
    # One step by hand from h0.
    xz, xr, xh = np.split(x[:, 0] @ kernel + bias[0], 3, -1)
    rz, rr, rh = np.split(h0 @ recurrent + bias[1], 3, -1)
    z, r = sigmoid(xz + rz), sigmoid(xr + rr)
    np.testing.assert_allclose(got[:, 0], z * h0 + (1 - z) * np.tanh(xh + r * rh), rtol=1e-5)
