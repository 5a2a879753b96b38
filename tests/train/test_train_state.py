"""The training state: loss weights that change without compiling, arrays a user holds,
randomness only where a layer draws it, and TerminateOnNaN inside the compiled loop."""
import pathlib

import jax
import numpy as np
import pytest

import graphnet as gn
from graphnet import callbacks, layers, optimizers

rng = np.random.default_rng(0)
X = rng.normal(size=(64, 4)).astype("float32")
YA = rng.normal(size=(64, 2)).astype("float32")
YB = rng.normal(size=(64, 1)).astype("float32")


def two_heads(seed=0):
    gn.utils.set_random_seed(seed)
    inp = gn.Input((4,), name="x")
    h = layers.Dense(5, activation="tanh", name="trunk")(inp)
    a = layers.Dense(2, name="a")(h)
    b = layers.Dense(1, name="b")(h)
    return gn.Model(inp, [a, b])


def test_loss_weights_read_and_assign_by_name():
    model = two_heads()
    assert model.loss_weights is None
    model.compile(optimizer="sgd", loss="mse", loss_weights={"a": 2.0})
    assert model.loss_weights == {"a": 2.0, "b": 1.0}
    model.loss_weights = {"b": 3}
    assert model.loss_weights == {"a": 2.0, "b": 3.0}
    with pytest.raises(KeyError, match="'c'.*trained outputs are \\['a', 'b'\\]"):
        model.loss_weights = {"c": 1.0}
    with pytest.raises(ValueError, match="output 'a'.*>= 0"):
        model.loss_weights = {"a": -1.0}
    with pytest.raises(ValueError, match="sum to 0"):
        model.loss_weights = {"a": 0.0, "b": 0.0}
    with pytest.raises(TypeError, match="dict"):
        model.loss_weights = [1.0, 2.0]
    with pytest.raises(ValueError, match="not compiled"):
        two_heads().loss_weights = {"a": 1.0}


def test_assigned_loss_weights_train_as_compiled_ones_without_a_recompile(compiles):
    """Weights {a: 1, b: 0} train exactly as a model whose output b has no loss."""
    reference = two_heads()
    reference.compile(optimizer=optimizers.SGD(0.1), loss={"a": "mse", "b": None})
    reference.fit(X, [YA, YB], batch_size=16, epochs=2, verbose=0, shuffle=False)

    model = two_heads()
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse")
    model.fit(X, [YA, YB], batch_size=16, epochs=1, verbose=0, shuffle=False)
    before = compiles.count
    model.set_weights(two_heads().get_weights())
    model.loss_weights = {"a": 1.0, "b": 0.0}
    model.fit(X, [YA, YB], batch_size=16, epochs=2, verbose=0, shuffle=False)
    assert compiles.count == before
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_callback_changes_loss_weights_between_epochs(compiles):
    seen = []

    class Anneal(callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.model.loss_weights = {"b": float(epoch)}
            seen.append(self.model.loss_weights["b"])

    model = two_heads()
    model.compile(optimizer=optimizers.SGD(0.05), loss="mse", loss_reduction="sum")
    history = model.fit(X, [YA, YB], batch_size=64, epochs=3, verbose=0, shuffle=False,
                        callbacks=[Anneal()])
    assert seen == [0.0, 1.0, 2.0]
    h = history.history
    # One batch per epoch: the logged total is sum(w_i L_i) at the weights before the step.
    for epoch, w in enumerate(seen):
        np.testing.assert_allclose(h["loss"][epoch], h["a_loss"][epoch] + w * h["b_loss"][epoch],
                                   rtol=1e-5)


def test_arrays_a_user_holds_stay_valid_after_fit():
    model = two_heads()
    model.compile(optimizer="adam", loss="mse")
    model.fit(X, [YA, YB], batch_size=16, epochs=1, verbose=0)
    params, state, opt_state = model.params, model.state, model.opt_state
    weights = model.get_weights()
    leaves = jax.tree_util.tree_leaves((params, state, opt_state))
    model.fit(X, [YA, YB], batch_size=16, epochs=2, verbose=0)
    assert not any(leaf.is_deleted() for leaf in leaves)
    outputs, _ = model.apply(params, state, X)          # the old weights still compute
    np.testing.assert_allclose(outputs[1], np.tanh(X @ weights[0] + weights[1]) @ weights[4]
                               + weights[5], rtol=1e-5, atol=1e-6)
    assert not np.allclose(model.get_weights()[0], weights[0])   # and training moved on


def test_arrays_read_inside_a_callback_stay_valid():
    held = []

    class Hold(callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            held.append(jax.tree_util.tree_leaves((self.model.params, self.model.opt_state)))

    model = two_heads()
    model.compile(optimizer="adam", loss="mse", steps_per_execution=1)
    model.fit(X, [YA, YB], batch_size=16, epochs=1, verbose=0, callbacks=[Hold()])
    assert len(held) == 4
    assert not any(leaf.is_deleted() for leaves in held for leaf in leaves)


def test_randomness_only_where_a_layer_draws_it():
    inp = gn.Input((4,))
    plain = gn.Model(inp, layers.Dense(2)(inp))
    assert not plain.uses_rng
    inp = gn.Input((4,))
    noisy = gn.Model(inp, layers.Dense(2)(layers.Dropout(0.5)(inp)))
    assert noisy.uses_rng
    inp = gn.Input((4,))
    assert not gn.Model(inp, layers.Dropout(0.0)(inp)).uses_rng
    inp = gn.Input((3, 4))
    assert gn.Model(inp, layers.LSTM(2, recurrent_dropout=0.1)(inp)).uses_rng

    class Custom(gn.layers.Layer):             # defined outside graphnet: gets a key
        def call(self, params, state, x, *, training=False, rng=None):
            return x, state
    inp = gn.Input((4,))
    assert gn.Model(inp, Custom()(inp)).uses_rng
    # Dropout trains on a fresh mask each step: two epochs from equal weights differ.
    noisy.compile(optimizer="sgd", loss="mse")
    y = rng.normal(size=(64, 2)).astype("float32")
    noisy.fit(X, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
    first = noisy.get_weights()[0]
    noisy.fit(X, y, batch_size=64, epochs=1, verbose=0, shuffle=False)
    assert not np.allclose(first, noisy.get_weights()[0])


def test_no_private_jax_api():
    root = pathlib.Path(gn.__file__).parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if "jax._src" in p.read_text()]
    assert offenders == []


def test_terminate_on_nan_stops_at_the_first_non_finite_step_inside_a_dispatch(capsys):
    x = np.ones((320, 1), "float32")
    x[4 * 32 + 3] = 1e30                         # batch 4 overflows the squared error
    y = np.zeros((320, 1), "float32")
    inp = gn.Input((1,))
    model = gn.Model(inp, layers.Dense(1, kernel_initializer="ones")(inp))
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse", steps_per_execution=10)
    stop = callbacks.TerminateOnNaN()
    history = model.fit(x, y, batch_size=32, epochs=3, verbose=0, shuffle=False,
                        callbacks=[stop])
    assert model.optimizer.iterations == 5       # batches 0..4 ran; 5..9 did not
    assert (stop.epoch, stop.batch) == (0, 4)
    assert len(history.history["loss"]) == 1 and not np.isfinite(history.history["loss"][0])
    assert "batch 4: invalid loss" in capsys.readouterr().out


@pytest.mark.parametrize("make, shape", [
    (lambda: layers.GaussianNoise(0.5), (4,)),
    (lambda: layers.GaussianDropout(0.3), (4,)),
    (lambda: layers.SpatialDropout1D(0.3), (3, 4)),
    (lambda: layers.TimeDistributed(layers.Dropout(0.5)), (3, 4)),
    (lambda: layers.RandomFlip("horizontal"), (4, 4, 1)),
])
def test_every_random_layer_gets_a_key_in_fit(make, shape):
    inp = gn.Input(shape)
    out = layers.Dense(1)(layers.Flatten()(make()(inp)))
    model = gn.Model(inp, out)
    assert model.uses_rng
    model.compile(optimizer="sgd", loss="mse")
    x = rng.normal(size=(8, *shape)).astype("float32")
    model.fit(x, np.zeros((8, 1), "float32"), batch_size=8, verbose=0)
    assert model.optimizer.iterations == 1
    inp = gn.Input(shape)
    quiet = gn.Model(inp, layers.Dense(1)(layers.Flatten()(inp)))
    assert not quiet.uses_rng


def test_random_and_batch_facts_of_attention_and_wrappers():
    q = gn.Input((3, 4))
    assert gn.Model(q, layers.AdditiveAttention(dropout=0.2)([q, q])).uses_rng
    assert not gn.Model(q, layers.Attention()([q, q])).uses_rng
    assert gn.Model(q, layers.TimeDistributed(layers.BatchNormalization())(q)).batch_dependent
    assert not gn.Model(q, layers.TimeDistributed(layers.Dense(2))(q)).batch_dependent
