"""Many outputs, one loss: learned (uncertainty) weights, head diagnostics and PCGrad,
checked against per-output gradients taken separately with jax.grad in the test."""
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import graphnet as gn
from graphnet import callbacks, layers, optimizers
from graphnet.graph import trunk_layers

rng = np.random.default_rng(1)
X = rng.normal(size=(64, 4)).astype("float32")
TARGETS = {"a": rng.normal(size=(64, 2)).astype("float32"),
           "b": rng.normal(size=(64, 1)).astype("float32"),
           "c": rng.normal(size=(64, 3)).astype("float32")}


def model_with(heads, seed=0):
    gn.utils.set_random_seed(seed)
    inp = gn.Input((4,), name="x")
    h = layers.Dense(5, activation="tanh", name="trunk")(inp)
    outs = [layers.Dense(TARGETS[n].shape[1], name=n)(h) for n in heads]
    return gn.Model(inp, outs)


# ---- the reference: the same network written out, each head's gradient on its own --------
def weights_of(model, heads):
    w = model.get_weights()
    p = {"tk": w[0], "tb": w[1]}
    for i, n in enumerate(heads):
        p[n + "k"], p[n + "b"] = w[2 + 2 * i], w[3 + 2 * i]
    return {k: jnp.asarray(v) for k, v in p.items()}


def head_loss(p, n, x, y):
    h = jnp.tanh(x @ p["tk"] + p["tb"])
    return jnp.mean((h @ p[n + "k"] + p[n + "b"] - y) ** 2)


def trunk_grad(p, n, x, y, scale):
    g = jax.grad(lambda p: scale * head_loss(p, n, x, y))(p)
    return np.concatenate([np.ravel(g["tk"]), np.ravel(g["tb"])]).astype(np.float64)


def reference_stats(p, heads, weights, x, ys, scale=None):
    """Shares, trunk gradient norms, mean cosine, conflict fraction, trunk gradients; each
    output's term is scale_i L_i (default: the weighted mean's w_i / sum(w))."""
    losses = np.array([float(head_loss(p, n, x, y)) for n, y in zip(heads, ys)])
    if scale is None:
        scale = np.asarray(weights) / np.sum(weights)
    grads = [trunk_grad(p, n, x, y, s) for n, y, s in zip(heads, ys, scale)]
    weighted = np.asarray(weights) * losses
    share = weighted / weighted.sum()
    norms = [np.linalg.norm(g) for g in grads]
    pairs = [(i, j) for i in range(len(heads)) for j in range(i + 1, len(heads))]
    cos = [grads[i] @ grads[j] / (norms[i] * norms[j]) for i, j in pairs]
    return share, norms, np.mean(cos), np.mean([c < 0 for c in cos]), grads


def test_trunk_is_found_on_the_graph():
    gn.utils.set_random_seed(0)
    inp = gn.Input((4,), name="x")
    stem = layers.Dense(6, name="stem")(inp)
    mid = layers.Dense(5, name="mid")(stem)
    a = layers.Dense(2, name="a")(mid)
    b = layers.Dense(1, name="b")(layers.Dense(3, name="b_hidden")(mid))
    c = layers.Dense(1, name="c")(stem)
    model = gn.Model(inp, [a, b, c])
    assert trunk_layers(model.graph, [0, 1, 2]) == ["x", "stem", "mid"]
    assert trunk_layers(model.graph, [1, 2]) == ["x", "stem"]          # output a not trained


def test_head_diagnostics_match_per_output_gradients():
    heads = ("a", "b")
    model = model_with(heads)
    p = weights_of(model, heads)
    model.compile(optimizer=optimizers.SGD(0.0), loss="mse", loss_weights={"a": 2.0},
                  head_diagnostics=True)
    ys = [TARGETS[n] for n in heads]
    h = model.fit(X, ys, batch_size=32, epochs=1, verbose=0, shuffle=False).history
    # lr 0: both steps see the initial weights; the epoch's value is the mean over its steps.
    per_batch = [reference_stats(p, heads, [2.0, 1.0], X[s:s + 32], [y[s:s + 32] for y in ys])
                 for s in (0, 32)]
    for k, n in enumerate(heads):
        np.testing.assert_allclose(h[f"{n}_loss_share"][0],
                                   np.mean([r[0][k] for r in per_batch]), rtol=1e-5)
        np.testing.assert_allclose(h[f"{n}_grad_norm"][0],
                                   np.mean([r[1][k] for r in per_batch]), rtol=1e-4)
    np.testing.assert_allclose(h["grad_cosine"][0], np.mean([r[2] for r in per_batch]),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(h["grad_conflict"][0], np.mean([r[3] for r in per_batch]))
    assert "val_a_grad_norm" not in h


def test_diagnostics_leave_the_update_unchanged():
    heads = ("a", "b", "c")
    ys = [TARGETS[n] for n in heads]
    runs = []
    for diagnostics in (False, True):
        model = model_with(heads)
        model.compile(optimizer="adam", loss="mse", head_diagnostics=diagnostics)
        model.fit(X, ys, batch_size=16, epochs=2, verbose=0, shuffle=False)
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def numpy_pcgrad(grads):
    """Yu et al. (2020), in output order: each gradient projected against every other
    output's original gradient it conflicts with, then summed."""
    out = []
    for i, g in enumerate(grads):
        g = g.copy()
        for j, other in enumerate(grads):
            if i != j and g @ other < 0:
                g = g - (g @ other) / (other @ other) * other
        out.append(g)
    return np.sum(out, axis=0)


@pytest.mark.parametrize("seed", [0, 3])
def test_pcgrad_update_matches_a_numpy_reference(seed):
    heads = ("a", "b", "c")
    model = model_with(heads, seed)
    p = weights_of(model, heads)
    ys = [TARGETS[n] for n in heads]
    _, _, _, conflict, grads = reference_stats(p, heads, [1.0, 1.0, 1.0], X, ys)
    lr = 0.5
    model.compile(optimizer=optimizers.SGD(lr), loss="mse", grad_combine="pcgrad")
    model.fit(X, ys, batch_size=64, epochs=1, verbose=0)
    combined = numpy_pcgrad(grads)
    expected = np.concatenate([np.ravel(p["tk"]), np.ravel(p["tb"])]) - lr * combined
    w = model.get_weights()
    np.testing.assert_allclose(np.concatenate([w[0].ravel(), w[1].ravel()]), expected,
                               rtol=1e-4, atol=1e-6)
    # the heads' own weights take their plain gradients
    g = jax.grad(lambda p: head_loss(p, "b", X, ys[1]) / 3)(p)
    np.testing.assert_allclose(w[4], p["bk"] - lr * g["bk"], rtol=1e-5, atol=1e-6)
    if seed == 0:
        assert conflict > 0          # the case PCGrad changes something


def test_uncertainty_weights_follow_kendall_et_al():
    heads = ("a", "b")
    model = model_with(heads)
    p = weights_of(model, heads)
    ys = [TARGETS[n] for n in heads]
    losses = np.array([float(head_loss(p, n, X, y)) for n, y in zip(heads, ys)])
    lr = 0.1
    model.compile(optimizer=optimizers.SGD(lr), loss="mse", loss_weights="uncertainty")
    assert model.loss_weights == {"a": 1.0, "b": 1.0}
    h = model.fit(X, ys, batch_size=64, epochs=1, verbose=0).history
    # s_i = 0: total = mean(exp(-s) L + s) = mean(L); d total / d s_i = (1 - L_i) / 2
    np.testing.assert_allclose(h["loss"][0], losses.mean(), rtol=1e-5)
    s = -lr * (1 - losses) / 2
    for k, n in enumerate(heads):
        np.testing.assert_allclose(h[f"{n}_loss_weight"][0], np.exp(-s[k]), rtol=1e-5)
        np.testing.assert_allclose(model.loss_weights[n], np.exp(-s[k]), rtol=1e-5)
    # total under the learned weights, as evaluate computes it
    logs = model.evaluate(X, ys, batch_size=64, verbose=0, return_dict=True)
    np.testing.assert_allclose(
        logs["loss"], np.mean(np.exp(-s) * [logs["a_loss"], logs["b_loss"]] + s), rtol=1e-5)
    model.loss_weights = {"a": 0.5}
    np.testing.assert_allclose(model.loss_weights["a"], 0.5, rtol=1e-6)


def test_uncertainty_with_sum_reduction_and_diagnostics_together():
    heads = ("a", "b")
    model = model_with(heads)
    p = weights_of(model, heads)
    ys = [TARGETS[n] for n in heads]
    losses = np.array([float(head_loss(p, n, X, y)) for n, y in zip(heads, ys)])
    model.compile(optimizer=optimizers.SGD(0.1), loss="mse", loss_weights="uncertainty",
                  loss_reduction="sum", head_diagnostics=True)
    h = model.fit(X, ys, batch_size=64, epochs=1, verbose=0).history
    np.testing.assert_allclose(h["loss"][0], losses.sum(), rtol=1e-5)
    share, norms, *_ = reference_stats(p, heads, [1.0, 1.0], X, ys, scale=[1.0, 1.0])
    for k, n in enumerate(heads):
        np.testing.assert_allclose(h[f"{n}_loss_share"][0], share[k], rtol=1e-5)
        np.testing.assert_allclose(h[f"{n}_grad_norm"][0], norms[k], rtol=1e-4)


def test_head_options_are_checked():
    inp = gn.Input((4,))
    one = gn.Model(inp, layers.Dense(1)(inp))
    with pytest.raises(ValueError, match="head_diagnostics=True.*two or more trained outputs"):
        one.compile(optimizer="sgd", loss="mse", head_diagnostics=True)
    with pytest.raises(ValueError, match="grad_combine='pcgrad'.*only 1"):
        model_with(("a", "b")).compile(optimizer="sgd", loss={"a": "mse"},
                                       grad_combine="pcgrad")
    with pytest.raises(ValueError, match="grad_combine must be"):
        one.compile(optimizer="sgd", loss="mse", grad_combine="mgda")
    with pytest.raises(ValueError, match="'uncertainty'"):
        one.compile(optimizer="sgd", loss="mse", loss_weights="learned")
    with pytest.raises(TypeError, match="head_diagnostics must be True or False"):
        one.compile(optimizer="sgd", loss="mse", head_diagnostics="yes")


# ---- pictures: the trunk on the model, the diagnostics in the curves ----------------------------
def test_plot_model_marks_the_shared_trunk(tmp_path):
    model = model_with(("a", "b"))
    dot = model.to_dot(show_trunk=True)
    trunk_lines = [line for line in dot.splitlines() if "shared trunk" in line]
    assert len(trunk_lines) == 1 and trunk_lines[0].lstrip().startswith('"trunk"')
    assert "shared trunk" not in model.to_dot()
    mermaid = model.to_mermaid(show_trunk=True)
    assert "classDef trunk" in mermaid and mermaid.count("shared trunk") == 1
    model.compile(optimizer="sgd", loss={"a": "mse", "b": None})     # one trained output
    assert "shared trunk" not in model.to_dot(show_trunk=True)
    gn.plot_model(model_with(("a", "b")), tmp_path / "m.svg", show_trunk=True)
    assert "shared trunk" in (tmp_path / "m.svg").read_text()


def test_history_plot_groups_the_diagnostics(tmp_path):
    from graphnet.plot.history import drawn_panels
    model = model_with(("a", "b"))
    model.compile(optimizer="adam", loss="mse", loss_weights="uncertainty",
                  head_diagnostics=True)
    history = model.fit(X, [TARGETS["a"], TARGETS["b"]], epochs=2, verbose=0,
                        validation_split=0.25)
    titles = {title: [key for key, _, _ in lines] for title, lines in drawn_panels(history.history)}
    assert titles["loss share"] == ["a_loss_share", "b_loss_share"]
    assert titles["trunk gradient norm"] == ["a_grad_norm", "b_grad_norm"]
    assert titles["loss weight"] == ["a_loss_weight", "b_loss_weight"]
    assert titles["trunk gradient agreement"] == ["grad_cosine", "grad_conflict"]
    assert titles["loss"] == ["loss", "val_loss"]
    history.plot(tmp_path / "h.png")
    assert (tmp_path / "h.png").stat().st_size > 1000


def test_every_tracked_value_reads_back_in_its_place():
    """The logs come back packed in one vector whose parts depend on what is tracked: the
    same training with the first non-finite batch tracked too (TerminateOnNaN) logs the same."""
    histories = []
    for extra in ([], [callbacks.TerminateOnNaN()]):
        model = model_with(("a", "b"))
        model.compile(optimizer=optimizers.SGD(0.1), loss="mse", loss_weights="uncertainty",
                      head_diagnostics=True, metrics=["mae"])
        histories.append(model.fit(X, [TARGETS["a"], TARGETS["b"]], batch_size=16, epochs=2,
                                   verbose=0, callbacks=extra).history)
    assert histories[0].keys() == histories[1].keys()
    for key in histories[0]:
        np.testing.assert_allclose(histories[1][key], histories[0][key], rtol=1e-6, err_msg=key)
    assert histories[0]["a_loss_weight"][-1] != histories[0]["b_loss_weight"][-1]
