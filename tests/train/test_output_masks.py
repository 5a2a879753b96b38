"""An output that carries a mask weights its loss and metrics as Keras 3 does: fit, evaluate,
train_on_batch and test_on_batch against Keras from the same weights, with and without
sample weights, with a partial last batch, and with one masked head among two."""
import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import graphnet as gn

keras = pytest.importorskip("keras")

RTOL, ATOL = 1e-5, 1e-6


def ids_and_targets(rng, rows=10, steps=5, pad=0):
    """Token ids with zero padding at the end of each sequence (ragged real lengths)."""
    x = rng.integers(1, 6, (rows, steps))
    lengths = rng.integers(1, steps + 1, rows)
    x[np.arange(steps)[None, :] >= lengths[:, None]] = 0
    y = rng.normal(size=(rows, steps, 2)).astype("float32")
    if pad:
        x = np.concatenate([x, np.zeros((rows, pad), x.dtype)], axis=1)
        y = np.concatenate([y, rng.normal(size=(rows, pad, 2)).astype("float32")], axis=1)
    return x, y


def sequence_model(lib, steps=5):
    i = lib.Input((steps,), dtype="int32")
    h = lib.layers.Embedding(6, 3, mask_zero=True)(i)
    o = lib.layers.Dense(2)(h)
    return lib.Model(i, o)


def close(ours, theirs):
    assert set(ours) == set(theirs), (ours, theirs)
    for key in theirs:
        np.testing.assert_allclose(np.asarray(ours[key]), np.asarray(theirs[key]),
                                   rtol=RTOL, atol=ATOL, err_msg=key)


def both(build, eager=False, **compile_kwargs):
    """The same model in Keras and graphnet, same weights, both compiled alike (Keras run
    eagerly where that compiles less: evaluation)."""
    theirs = build(keras)
    ours = build(gn)
    ours.set_weights(theirs.get_weights())
    theirs.compile(keras.optimizers.SGD(0.1), run_eagerly=eager, **compile_kwargs)
    ours.compile(gn.optimizers.SGD(0.1), **compile_kwargs)
    return ours, theirs


METRICS = {"loss": "mse", "metrics": ["mae"], "weighted_metrics": ["mse"]}


def data(rows=10):
    rng = np.random.default_rng(1)
    x, y = ids_and_targets(rng, rows)
    return x, y, rng


@pytest.mark.slow
def test_fit_weights_a_masked_output_as_keras():
    x, y, rng = data()
    val = ids_and_targets(rng, rows=6)
    per_step = rng.uniform(0.5, 2, (10, 5)).astype("float32")
    # 10 rows in batches of 4: a partial last batch. Keras's training metrics see no mask
    # (its JAX trainer loses it through the gradient), its validation metrics do.
    fits = [m.fit(x, y, batch_size=4, epochs=2, shuffle=False, verbose=0,
                  sample_weight=per_step, validation_data=val).history
            for m in both(sequence_model, **METRICS)]
    close(*fits)


def test_evaluate_weights_a_masked_output_as_keras():
    x, y, rng = data()
    per_sample = rng.uniform(0.5, 2, (10, 1)).astype("float32")
    ours, theirs = both(sequence_model, eager=True, **METRICS)
    close(*[m.evaluate(x, y, sample_weight=per_sample, batch_size=4, verbose=0,
                       return_dict=True) for m in (ours, theirs)])


def test_train_and_test_on_batch_weight_a_masked_output_as_keras():
    x, y, rng = data()
    per_sample = rng.uniform(0.5, 2, (10, 1)).astype("float32")
    ours, theirs = both(sequence_model, **METRICS)
    close(*[m.train_on_batch(x, y, sample_weight=per_sample, return_dict=True)
            for m in (ours, theirs)])
    theirs.compile(keras.optimizers.SGD(0.1), run_eagerly=True, **METRICS)
    close(*[m.test_on_batch(x, y, return_dict=True) for m in (ours, theirs)])


def test_a_masked_mean_is_numpys_mean_over_the_valid_steps():
    x, y, _ = data()
    model = sequence_model(gn)
    model.compile("sgd", **METRICS)
    valid = x != 0
    error = model.predict(x, verbose=0) - y
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["loss"], np.mean((error ** 2).mean(-1)[valid]),
                               rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(logs["mae"], np.mean(np.abs(error).mean(-1)[valid]),
                               rtol=RTOL, atol=ATOL)


@pytest.mark.slow
def test_the_masked_head_of_two_is_weighted_and_the_other_not_as_keras():
    def build(lib):
        i = lib.Input((5,), dtype="int32")
        h = lib.layers.Embedding(6, 3, mask_zero=True, name="embed")(i)
        tags = lib.layers.Dense(3, activation="softmax", name="tags")(h)
        score = lib.layers.Dense(1, name="score")(lib.layers.GlobalAveragePooling1D()(h))
        return lib.Model(i, {"tags": tags, "score": score})

    rng = np.random.default_rng(2)
    x, _ = ids_and_targets(rng, rows=7)
    y = {"tags": rng.integers(0, 3, (7, 5)), "score": rng.normal(size=(7, 1)).astype("float32")}
    weights = rng.uniform(0.5, 2, (7, 1)).astype("float32")
    ours, theirs = build(gn), build(keras)
    for name in ("embed", "tags", "score"):
        ours.get_layer(name).set_weights(theirs.get_layer(name).get_weights())
    losses = {"tags": "sparse_categorical_crossentropy", "score": "mse"}
    theirs.compile(keras.optimizers.SGD(0.1), loss=losses, metrics={"tags": ["accuracy"]},
                   weighted_metrics={"score": ["mae"]})
    ours.compile(gn.optimizers.SGD(0.1), loss=losses, metrics={"tags": ["accuracy"]},
                 weighted_metrics={"score": ["mae"]}, loss_reduction="sum")   # Keras's total
    fits = [m.fit(x, y, batch_size=3, epochs=2, shuffle=False, verbose=0,
                  sample_weight=weights).history for m in (ours, theirs)]
    close(*fits)


@functools.lru_cache(maxsize=None)
def compiled(steps):
    gn.utils.set_random_seed(0)             # the same weights at every length
    model = sequence_model(gn, steps)
    model.compile("sgd", **METRICS)
    return model


@settings(max_examples=4, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pad=st.sampled_from([1, 3]), seed=st.integers(0, 2 ** 16))
def test_padding_appended_leaves_the_loss_and_masked_metrics_unchanged(pad, seed):
    x, y = ids_and_targets(np.random.default_rng(seed), rows=6)
    xp, yp = ids_and_targets(np.random.default_rng(seed), rows=6, pad=pad)
    close(compiled(5 + pad).evaluate(xp, yp, batch_size=4, verbose=0, return_dict=True),
          compiled(5).evaluate(x, y, batch_size=4, verbose=0, return_dict=True))


def test_a_loss_that_cannot_be_weighted_by_the_mask_is_an_error_naming_the_output():
    model = sequence_model(gn)
    model.compile("sgd", loss=lambda t, p: gn.ops.mean(gn.ops.square(t - p), axis=(1, 2)))
    x, y = ids_and_targets(np.random.default_rng(3))
    with pytest.raises(ValueError, match=r"Output 'dense.*\(10,\).*mask of shape \(10, 5\)"):
        model.evaluate(x, y, verbose=0)
