"""The total loss by hand: per-output losses, their weighted mean or sum, regularization,
outputs without a loss, and a finite-difference check of the gradient fit follows."""
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers, optimizers, regularizers

rng = np.random.default_rng(11)
EPS = 1e-7


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def three_heads(kernel_regularizer=None):
    inp = gn.Input((4,), name="x")
    h = layers.Dense(5, activation="tanh", name="trunk", kernel_regularizer=kernel_regularizer)(inp)
    return gn.Model(inp, [layers.Dense(2, name="a")(h),
                          layers.Dense(3, activation="softmax", name="b")(h),
                          layers.Dense(1, activation="sigmoid", name="c")(h)])


def by_hand(model, x, ya, yb, yc):
    w = {l.name: l.get_weights() for l in model.layers if l.get_weights()}
    h = np.tanh(x @ w["trunk"][0] + w["trunk"][1])
    pa = h @ w["a"][0] + w["a"][1]
    pb = np.clip(softmax(h @ w["b"][0] + w["b"][1]), EPS, 1 - EPS)
    pc = np.clip(sigmoid(h @ w["c"][0] + w["c"][1]), EPS, 1 - EPS)
    return {"a_loss": ((pa - ya) ** 2).mean(),
            "b_loss": -(yb * np.log(pb)).sum(-1).mean(),
            "c_loss": -(yc * np.log(pc) + (1 - yc) * np.log(1 - pc)).mean()}, w


def data(n=12):
    x = rng.normal(size=(n, 4)).astype("float32")
    ya = rng.normal(size=(n, 2)).astype("float32")
    yb = np.eye(3, dtype="float32")[rng.integers(0, 3, n)]
    yc = (rng.random((n, 1)) > 0.5).astype("float32")
    return x, ya, yb, yc


LOSSES = {"c": "binary_crossentropy", "a": "mse", "b": "categorical_crossentropy"}


@pytest.mark.parametrize("weights,reduction,expected", [
    (None, "mean", lambda L: (L["a_loss"] + L["b_loss"] + L["c_loss"]) / 3),
    ({"b": 2.0, "a": 1.0, "c": 0.5}, "mean",
     lambda L: (L["a_loss"] + 2 * L["b_loss"] + 0.5 * L["c_loss"]) / 3.5),
    ([1.0, 2.0, 0.5], "sum", lambda L: L["a_loss"] + 2 * L["b_loss"] + 0.5 * L["c_loss"]),
    (None, "sum", lambda L: L["a_loss"] + L["b_loss"] + L["c_loss"]),
])
def test_total_loss_of_three_outputs_by_hand(weights, reduction, expected):
    model = three_heads()
    model.compile(optimizer="sgd", loss=LOSSES, loss_weights=weights, loss_reduction=reduction)
    x, ya, yb, yc = data()
    logs = model.evaluate(x, {"b": yb, "c": yc, "a": ya}, batch_size=12, verbose=0,
                          return_dict=True)
    per, _ = by_hand(model, x, ya, yb, yc)
    assert list(logs) == ["loss", "a_loss", "b_loss", "c_loss"]
    for key, value in per.items():                   # logged unweighted, as Keras
        np.testing.assert_allclose(logs[key], value, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], expected(per), rtol=1e-5)


def test_regularization_is_added_after_the_reduction():
    model = three_heads(kernel_regularizer=regularizers.l2(0.01))
    model.compile(optimizer="sgd", loss=LOSSES, loss_weights=[1.0, 2.0, 1.0])
    x, ya, yb, yc = data()
    logs = model.evaluate(x, [ya, yb, yc], batch_size=12, verbose=0, return_dict=True)
    per, w = by_hand(model, x, ya, yb, yc)
    mean = (per["a_loss"] + 2 * per["b_loss"] + per["c_loss"]) / 4
    np.testing.assert_allclose(logs["loss"], mean + 0.01 * (w["trunk"][0] ** 2).sum(), rtol=1e-5)


def test_batched_evaluation_weights_batches_by_size():
    model = three_heads()
    model.compile(optimizer="sgd", loss=LOSSES)
    x, ya, yb, yc = data(10)
    logs = model.evaluate(x, [ya, yb, yc], batch_size=4, verbose=0, return_dict=True)
    per, _ = by_hand(model, x, ya, yb, yc)            # batches 4, 4, 2: a sample mean
    for key, value in per.items():
        np.testing.assert_allclose(logs[key], value, rtol=1e-5)


def test_output_without_a_loss_gets_no_gradient():
    model = three_heads()
    model.compile(optimizer=optimizers.SGD(0.1), loss={"a": "mse", "b": None, "c": None})
    x, ya, _, _ = data()
    before = {l.name: l.get_weights() for l in model.layers if l.get_weights()}
    history = model.fit(x, {"a": ya}, batch_size=4, epochs=2, verbose=0)
    after = {l.name: l.get_weights() for l in model.layers if l.get_weights()}
    for name in ("b", "c"):
        for u, v in zip(before[name], after[name]):
            np.testing.assert_array_equal(u, v)
    assert not np.allclose(before["trunk"][0], after["trunk"][0])
    assert set(history.history) == {"loss", "a_loss"}


def test_gradient_matches_finite_differences():
    """One SGD step with lr 1 reveals the gradient; NumPy float64 central differences of
    the same total loss (mean of mse and bce, plus an l2 penalty) must agree."""
    inp = gn.Input((3,))
    h = layers.Dense(4, activation="tanh", name="t", kernel_regularizer=regularizers.l2(0.05))(inp)
    model = gn.Model(inp, [layers.Dense(2, name="r")(h),
                           layers.Dense(1, activation="sigmoid", name="p")(h)])
    model.compile(optimizer=optimizers.SGD(1.0), loss=["mse", "binary_crossentropy"])
    x = rng.normal(size=(6, 3))
    yr = rng.normal(size=(6, 2))
    yp = (rng.random((6, 1)) > 0.5).astype(np.float64)
    w0 = [w.astype(np.float64) for w in model.get_weights()]

    def total(ws):
        tk, tb, rk, rb, pk, pb = ws
        hh = np.tanh(x @ tk + tb)
        p = sigmoid(hh @ pk + pb)
        mse = (((hh @ rk + rb) - yr) ** 2).mean()
        bce = -(yp * np.log(p) + (1 - yp) * np.log(1 - p)).mean()
        return (mse + bce) / 2 + 0.05 * (tk ** 2).sum()

    model.train_on_batch(x.astype("float32"), [yr.astype("float32"), yp.astype("float32")])
    grads = [a - b for a, b in zip(w0, model.get_weights())]
    h_ = 1e-6
    for i, w in enumerate(w0):
        fd = np.zeros_like(w)
        for idx in np.ndindex(w.shape):
            plus = [v.copy() for v in w0]
            minus = [v.copy() for v in w0]
            plus[i][idx] += h_
            minus[i][idx] -= h_
            fd[idx] = (total(plus) - total(minus)) / (2 * h_)
        np.testing.assert_allclose(grads[i], fd, rtol=1e-4, atol=2e-6)


def test_book_weight_regularization_listing_runs_and_adds_its_penalty():
    from graphnet import models
    x = (rng.random((64, 100)) > 0.8).astype("float32")
    y = (rng.random(64) > 0.5).astype("float32")
    model = models.Sequential()
    model.add(layers.Dense(16, kernel_regularizer=regularizers.l2(0.001), activation="relu",
                           input_shape=(100,)))
    model.add(layers.Dense(16, kernel_regularizer=regularizers.l2(0.001), activation="relu"))
    model.add(layers.Dense(1, activation="sigmoid"))
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["acc"])
    history = model.fit(x, y, epochs=2, batch_size=16, validation_split=0.25, verbose=0)
    assert set(history.history) == {"loss", "acc", "val_loss", "val_acc"}
    (k1, b1), (k2, b2), (k3, b3) = [l.get_weights() for l in model.layers]
    h = np.maximum(np.maximum(x @ k1 + b1, 0) @ k2 + b2, 0)
    p = np.clip(sigmoid(h @ k3 + b3)[:, 0], EPS, 1 - EPS)
    bce = -(y * np.log(p) + (1 - y) * np.log(1 - p)).mean()
    penalty = 0.001 * ((k1 ** 2).sum() + (k2 ** 2).sum())
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=64, verbose=0)[0], bce + penalty,
                               rtol=1e-5)


def test_activity_regularizer_enters_the_total():
    inp = gn.Input((4,))
    h = layers.Dense(3, name="h", activity_regularizer=regularizers.l1(0.1))(inp)
    model = gn.Model(inp, layers.Dense(1, name="o")(h))
    model.compile(optimizer="sgd", loss="mse")
    x, y = rng.normal(size=(8, 4)).astype("float32"), rng.normal(size=(8, 1)).astype("float32")
    (hk, hb), (ok, ob) = model.get_layer("h").get_weights(), model.get_layer("o").get_weights()
    act = x @ hk + hb
    expected = (((act @ ok + ob) - y) ** 2).mean() + 0.1 * np.abs(act).sum() / 8
    np.testing.assert_allclose(model.evaluate(x, y, batch_size=8, verbose=0), expected, rtol=1e-5)
