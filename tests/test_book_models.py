"""The book's functional models that need only core layers ("Deep Learning with Python",
ch. 7): built, summarized, run through predict and apply, checked against Keras 3 with the
same weights and, where short, against NumPy."""
import jax
import keras
import numpy as np
import pytest

import graphnet as gn

TEXT, QUESTION, ANSWERS, POSTS, INCOME_GROUPS = 50, 20, 30, 40, 10


def two_branch(lib):
    L = lib.layers
    x = lib.Input((16,), name="x")
    a = L.Dense(8, activation="relu", name="branch_a")(x)
    b = L.Dense(8, activation="relu", name="branch_b1")(x)
    b = L.Dense(8, activation="relu", name="branch_b2")(b)
    merged = L.Concatenate(name="merged")([a, b])
    return lib.Model(x, L.Dense(4, activation="softmax", name="out")(merged))


def question_answering(lib):
    L = lib.layers
    text = lib.Input((TEXT,), name="text")
    question = lib.Input((QUESTION,), name="question")
    encoded_text = L.Dense(32, activation="relu", name="text_encoder")(text)
    encoded_question = L.Dense(16, activation="relu", name="question_encoder")(question)
    merged = L.Concatenate(axis=-1, name="merged")([encoded_text, encoded_question])
    answer = L.Dense(ANSWERS, activation="softmax", name="answer")(merged)
    return lib.Model([text, question], answer)


def three_outputs(lib):
    L = lib.layers
    posts = lib.Input((POSTS,), name="posts")
    x = L.Dense(64, activation="relu", name="features")(posts)
    age = L.Dense(1, name="age")(x)
    income = L.Dense(INCOME_GROUPS, activation="softmax", name="income")(x)
    gender = L.Dense(1, activation="sigmoid", name="gender")(x)
    return lib.Model(posts, [age, income, gender])


def residual(lib):
    L = lib.layers
    x = lib.Input((12,), name="x")
    y = L.Dense(12, activation="relu", name="res_1")(x)
    y = L.Dense(12, activation="relu", name="res_2")(y)
    y = L.Add(name="residual")([y, x])
    return lib.Model(x, L.Dense(3, name="out")(y))


def siamese(lib):
    L = lib.layers
    left = lib.Input((10,), name="left")
    right = lib.Input((10,), name="right")
    shared = L.Dense(8, activation="tanh", name="shared")
    merged = L.Concatenate(name="merged")([shared(left), shared(right)])
    return lib.Model([left, right], L.Dense(1, activation="sigmoid", name="same")(merged))


def model_as_layer(lib):
    L = lib.layers
    image = lib.Input((18,), name="image")
    base = lib.Model(image, L.Dense(6, activation="relu", name="base_dense")(image), name="base")
    left = lib.Input((18,), name="left_camera")
    right = lib.Input((18,), name="right_camera")
    merged = L.Concatenate(name="merged")([base(left), base(right)])
    return lib.Model([left, right], L.Dense(2, name="depth")(merged))


BOOK = {"two_branch": two_branch, "question_answering": question_answering,
        "three_outputs": three_outputs, "residual": residual, "siamese": siamese,
        "model_as_layer": model_as_layer}
PARAMS = {"two_branch": 16 * 8 + 8 + 16 * 8 + 8 + 8 * 8 + 8 + 16 * 4 + 4,
          "question_answering": 50 * 32 + 32 + 20 * 16 + 16 + 48 * 30 + 30,
          "three_outputs": 40 * 64 + 64 + 65 + 64 * 10 + 10 + 65,
          "residual": 2 * (12 * 12 + 12) + 12 * 3 + 3,
          "siamese": 10 * 8 + 8 + 16 + 1,
          "model_as_layer": 18 * 6 + 6 + 12 * 2 + 2}


def feed_for(model, n=5, seed=0):
    rng = np.random.default_rng(seed)
    xs = [rng.normal(size=(n, *t.shape[1:])).astype("float32") for t in model.inputs]
    return xs if len(xs) > 1 else xs[0]


@pytest.mark.parametrize("name", sorted(BOOK))
def test_book_model_builds_summarizes_and_matches_keras(name):
    ours, theirs = BOOK[name](gn), BOOK[name](keras)
    assert ours.count_params() == theirs.count_params() == PARAMS[name]
    lines = []
    ours.summary(print_fn=lines.append)
    text = lines[0]
    for layer in ours.layers:          # a nested functional model is "Functional", as in Keras
        kind = "Functional" if type(layer) is gn.Model else type(layer).__name__
        assert f"{layer.name} ({kind})" in text
    assert f"Total params: {PARAMS[name]:,}" in text
    theirs.set_weights(ours.get_weights())
    x = feed_for(ours)
    predicted = ours.predict(x)
    reference = theirs(x)   # Keras's eager call: its predict is slow to set up
    applied, _ = jax.jit(ours.apply)(ours.params, ours.state, x)
    for p, r, a in zip(*(jax.tree_util.tree_leaves(v) for v in (predicted, reference, applied))):
        np.testing.assert_allclose(p, r, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(a, r, rtol=1e-5, atol=1e-6)


def relu(z):
    return np.maximum(z, 0)


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def weights_of(model):
    return {l.name: l.get_weights() for l in model.layers if l.get_weights()}


def test_three_outputs_against_numpy():
    model = three_outputs(gn)
    assert model.output_names == ["age", "income", "gender"]
    w = weights_of(model)
    x = feed_for(model)
    h = relu(x @ w["features"][0] + w["features"][1])
    age, income, gender = model.predict(x)
    np.testing.assert_allclose(age, h @ w["age"][0] + w["age"][1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(income, softmax(h @ w["income"][0] + w["income"][1]), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(gender, sigmoid(h @ w["gender"][0] + w["gender"][1]), rtol=1e-5)
    assert income.shape == (5, INCOME_GROUPS)


def test_residual_against_numpy():
    model = residual(gn)
    w = weights_of(model)
    x = feed_for(model)
    y = relu(relu(x @ w["res_1"][0] + w["res_1"][1]) @ w["res_2"][0] + w["res_2"][1]) + x
    np.testing.assert_allclose(model.predict(x), y @ w["out"][0] + w["out"][1], rtol=1e-5, atol=1e-6)


def test_siamese_shares_one_layer_and_is_symmetric_in_its_encoder():
    model = siamese(gn)
    assert {"shared", "shared@1"} <= set(model.graph.nodes)
    w = weights_of(model)
    left, right = feed_for(model)
    enc = lambda v: np.tanh(v @ w["shared"][0] + w["shared"][1])   # noqa: E731
    expected = sigmoid(np.concatenate([enc(left), enc(right)], -1) @ w["same"][0] + w["same"][1])
    np.testing.assert_allclose(model.predict({"left": left, "right": right}), expected, rtol=1e-5)


def test_model_as_layer_predict_matches_its_base():
    model = model_as_layer(gn)
    base = model.get_layer("base")
    left, right = feed_for(model)
    kd, bd = model.get_layer("depth").get_weights()
    expected = np.concatenate([base.predict(left), base.predict(right)], -1) @ kd + bd
    np.testing.assert_allclose(model.predict([left, right]), expected, rtol=1e-5, atol=1e-6)
