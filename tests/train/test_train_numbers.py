"""No silent wrong numbers: integers JAX cannot hold, loss weights read back as set,
non-finite rates and weights, Embedding ids past the vocabulary."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, optimizers

rng = np.random.default_rng(0)
X = rng.normal(size=(32, 4)).astype("float32")
YA = rng.normal(size=(32, 2)).astype("float32")
YB = rng.normal(size=(32, 1)).astype("float32")


def two_heads():
    gn.utils.set_random_seed(0)
    inp = gn.Input((4,), name="x")
    h = layers.Dense(5, activation="tanh", name="trunk")(inp)
    return gn.Model(inp, [layers.Dense(2, name="a")(h), layers.Dense(1, name="b")(h)])


def test_int64_targets_past_int32_are_refused_not_wrapped():
    inp = gn.Input((3,))
    model = gn.Model(inp, layers.Dense(1, name="out")(inp))
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 3), "float32")
    with pytest.raises(ValueError, match="target for output 'out' holds the integer "
                                         "9000000000000000000, outside int32's range"):
        model.fit(x, np.full((4, 1), 9 * 10**18, np.int64), verbose=0)
    with pytest.raises(ValueError, match="outside int32's range"):
        model.evaluate(x, np.full((4, 1), -2**31 - 1, np.int64), verbose=0)
    # within range, int64 targets keep their values: the loss of a zero model is y**2
    model.set_weights([np.zeros((3, 1), "float32"), np.zeros(1, "float32")])
    y = np.full((4, 1), 40000, np.int64)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(40000.0 ** 2, rel=1e-6)


def test_loss_weights_read_back_as_set_after_fit():
    model = two_heads()
    model.compile(optimizer="sgd", loss="mse", loss_weights={"a": 1.0, "b": 0.5})
    model.fit(X, [YA, YB], epochs=2, batch_size=8, verbose=0)
    assert model.loss_weights == {"a": 1.0, "b": 0.5}
    model.loss_weights = {"b": 1.0}
    assert model.loss_weights == {"a": 1.0, "b": 1.0}


def test_assigning_some_loss_weights_trains_with_that_ratio():
    """After a fit with 1 : 0.5, setting b to 1 trains as a model compiled with 1 : 1."""
    model = two_heads()
    model.compile(optimizer="sgd", loss="mse", loss_weights={"a": 1.0, "b": 0.5})
    model.fit(X, [YA, YB], batch_size=8, verbose=0)
    model.loss_weights = {"b": 1.0}
    start = model.get_weights()
    model.fit(X, [YA, YB], batch_size=8, shuffle=False, verbose=0)
    reference = two_heads()
    reference.compile(optimizer="sgd", loss="mse", loss_weights={"a": 1.0, "b": 1.0})
    reference.set_weights(start)
    reference.fit(X, [YA, YB], batch_size=8, shuffle=False, verbose=0)
    for got, want in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("value", [float("nan"), float("inf")])
def test_non_finite_learning_rates_and_loss_weights_are_refused(value):
    model = two_heads()
    with pytest.raises(ValueError, match="SGD: learning_rate must be a finite number >= 0"):
        model.compile(optimizer=optimizers.SGD(value), loss="mse")
    with pytest.raises(ValueError, match="loss_weights for output 'b' must be a finite number"):
        model.compile(optimizer="sgd", loss="mse", loss_weights={"b": value})
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="learning_rate must be a finite number"):
        model.optimizer.learning_rate = value
    with pytest.raises(ValueError, match="class_weight for class 0 must be a finite number"):
        one = gn.Model(model.inputs, model.outputs[1])
        one.compile(optimizer="sgd", loss="mse")
        one.fit(X, np.zeros((32, 1), "float32"), class_weight={0: value}, verbose=0)
    with pytest.raises(ValueError, match="sample_weight \\(output 'a'\\) holds NaN or infinite"):
        model.fit(X, [YA, YB], sample_weight=np.full(32, value, "float32"), verbose=0)


def test_embedding_ids_outside_the_vocabulary_are_refused():
    gn.utils.set_random_seed(0)
    ids = gn.Input((5,), dtype="int32", name="tokens")
    h = layers.Flatten()(layers.Embedding(10, 3, name="vocab")(ids))
    model = gn.Model(ids, layers.Dense(1)(h))
    model.compile(optimizer="sgd", loss="mse")
    x = np.arange(40, dtype="int32").reshape(8, 5) % 10
    y = np.zeros((8, 1), "float32")
    model.fit(x, y, verbose=0)
    for bad, row in ((10, 3), (-1, 6)):
        wrong = x.copy()
        wrong[row, 2] = bad
        for run in (model.fit, model.evaluate):
            with pytest.raises(ValueError, match=f"input 'tokens' holds index {bad} \\(row {row}\\), "
                                                 f"but Embedding 'vocab' has input_dim=10: its "
                                                 f"indices must lie in \\[0, 10\\)"):
                run(wrong, y, verbose=0)
    assert np.isfinite(np.concatenate([w.ravel() for w in model.get_weights()])).all()
    # predict does not check: an id outside gives a row of NaN, as the docstring says
    wrong = x.copy()
    wrong[3, 2] = 10
    out = model.predict(wrong, verbose=0)
    assert np.isnan(out[3]).all() and np.isfinite(np.delete(out, 3, axis=0)).all()


def test_int64_inputs_past_an_int32_input_are_refused_not_wrapped():
    """2**32 + 1 would wrap to id 1, a valid row: refused before the cast, in fit and predict."""
    ids = gn.Input((2,), dtype="int32", name="tokens")
    model = gn.Model(ids, layers.Flatten()(layers.Embedding(10, 3)(ids)))
    model.compile(optimizer="sgd", loss="mse")
    wrapped = np.array([[2**32 + 1, 1]], np.int64)
    for run in (lambda: model.predict(wrapped, verbose=0),
                lambda: model.fit(wrapped, np.zeros((1, 6), "float32"), verbose=0)):
        with pytest.raises(ValueError, match="input 'tokens' of model .* holds the integer "
                                             "4294967297, outside the range"):
            run()
    np.testing.assert_array_equal(model.predict(np.array([[3, 1]], np.int64), verbose=0),
                                  model.predict(np.array([[3, 1]], np.int32), verbose=0))
