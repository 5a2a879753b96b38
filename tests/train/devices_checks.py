"""Data-parallel checks, run by test_devices.py in a subprocess with 4 forced CPU devices
(the pytest process already has 2). Each check prints "PASS <name>"; any failure raises."""
import os
import sys
import tempfile

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import jax  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import Mesh, PartitionSpec  # noqa: E402
from numpy.testing import assert_allclose  # noqa: E402

jax.config.update("jax_numpy_dtype_promotion", "strict")

import graphnet as gn  # noqa: E402
from graphnet import layers  # noqa: E402
from graphnet.train.data import DeviceData  # noqa: E402

COMPILES = [0]


def _count_compile(event, duration, **kwargs):
    if event == "/jax/core/compile/backend_compile_duration":
        COMPILES[0] += 1


jax.monitoring.register_event_duration_secs_listener(_count_compile)

RTOL = 1e-4          # float32 sums in another order across devices
rng = np.random.default_rng(5)
N = 70               # 4 full batches of 16 and a ragged 6, which does not divide by 4
X = rng.normal(size=(N, 6)).astype("float32")
Y3 = np.eye(3, dtype="float32")[rng.integers(0, 3, N)]
Y1 = rng.normal(size=(N, 1)).astype("float32")
VX = rng.normal(size=(12, 6)).astype("float32")
VY = [np.eye(3, dtype="float32")[rng.integers(0, 3, 12)], rng.normal(size=(12, 1)).astype("float32")]


def two_outputs(devices):
    """Two outputs and BatchNormalization, whose batch statistics must be global ones."""
    gn.utils.set_random_seed(0)
    inp = gn.Input((6,), name="x")
    h = layers.Dense(16, activation="tanh", name="h")(inp)
    h = layers.BatchNormalization(name="bn")(h)
    model = gn.Model(inp, [layers.Dense(3, activation="softmax", name="cls")(h),
                           layers.Dense(1, name="reg")(h)])
    # Plain SGD: its update is proportional to the gradient, so gradients summed over the
    # devices instead of averaged would show as updates 4x too large (Adam would hide it).
    model.compile(optimizer=gn.optimizers.SGD(0.1), loss=["categorical_crossentropy", "mse"],
                  metrics={"cls": ["accuracy"], "reg": ["mae"]}, devices=devices)
    return model


def trained(devices, **kw):
    model = two_outputs(devices)
    before = [np.array(w) for w in model.get_weights()]
    gn.utils.set_random_seed(1)
    history = model.fit(X, [Y3, Y1], batch_size=16, epochs=1, verbose=0,
                        validation_data=(VX, VY), **kw)
    after = [np.array(w) for w in model.get_weights()]
    return model, before, after, history.history


def same_training(ref, got, what):
    _, before_r, after_r, hist_r = ref
    _, before_g, after_g, hist_g = got
    for b_r, b_g in zip(before_r, before_g):
        assert_allclose(b_g, b_r, rtol=0, err_msg=f"{what}: initial weights differ")
    for a_r, a_g, b in zip(after_r, after_g, before_r):
        assert_allclose(a_g, a_r, rtol=RTOL, atol=1e-6, err_msg=f"{what}: weights")
        assert_allclose(a_g - b, a_r - b, rtol=1e-3, atol=1e-6, err_msg=f"{what}: updates")
    assert list(hist_g) == list(hist_r), (list(hist_g), list(hist_r))
    for key in hist_r:
        assert_allclose(hist_g[key], hist_r[key], rtol=RTOL, err_msg=f"{what}: history {key}")


def check_all_devices(single):
    got = trained("all", shuffle=False)
    same_training(single, got, "devices='all'")
    model, ref = got[0], single[0]
    program = next(iter(model._trainer._programs.values()))
    assert program.placement.size == 4
    leaf = jax.tree_util.tree_leaves(model.params)[0]
    assert len(leaf.sharding.device_set) == 4 and leaf.sharding.is_fully_replicated
    data = DeviceData([X], 16, False, program.placement)
    stacked, tail = data.epoch()
    assert stacked[0].sharding.spec == PartitionSpec(None, "data"), stacked[0].sharding
    assert stacked[0].addressable_shards[0].data.shape == (4, 4, 6)   # a quarter of each batch
    assert tail[0].sharding.is_fully_replicated            # 6 rows: whole on every device
    assert_allclose(model.evaluate(X, [Y3, Y1], batch_size=16, verbose=0),
                    ref.evaluate(X, [Y3, Y1], batch_size=16, verbose=0), rtol=RTOL)
    for batch_size in (16, 7, 200):          # predict takes any batch size and count
        for out, expected in zip(model.predict(X, batch_size=batch_size, verbose=0),
                                 ref.predict(X, batch_size=batch_size, verbose=0)):
            assert_allclose(out, expected, rtol=RTOL, atol=1e-6)
    print("PASS all_devices")
    return model


def check_params_ordinary(model, single):
    """After a data-parallel fit: get_weights, save/load, plain jit and a one-device
    predict all work on model.params."""
    expected = single[0].predict(X, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "m.graphnet")
        model.save(path)
        loaded = gn.load_model(path)
    for out, exp in zip(loaded.predict(X, verbose=0), expected):
        assert_allclose(out, exp, rtol=RTOL, atol=1e-6)
    outs, _ = jax.jit(lambda p, s, x: model.apply(p, s, x))(model.params, model.state, X)
    assert_allclose(np.asarray(outs[1]), expected[1], rtol=RTOL, atol=1e-6)
    model.compile(optimizer="sgd", loss=["categorical_crossentropy", "mse"])   # devices=None
    for out, exp in zip(model.predict(X, verbose=0), expected):
        assert_allclose(out, exp, rtol=RTOL, atol=1e-6)
    print("PASS params_ordinary")


def check_two_of_four(single):
    same_training(single, trained(jax.devices()[:2], shuffle=False), "two of four devices")
    print("PASS two_of_four")


def check_mesh(single):
    # A 2 x 2 mesh: the first axis ("batch") splits the data; the second is left alone.
    mesh = Mesh(np.array(jax.devices()).reshape(2, 2), ("batch", "model"))
    got = trained(mesh, shuffle=False)
    same_training(single, got, "Mesh")
    program = next(iter(got[0]._trainer._programs.values()))
    assert program.placement.axis == "batch" and program.placement.size == 2
    print("PASS mesh")


def check_shuffled_and_compiled_once():
    """Shuffling draws the same permutation, and later epochs and fits reuse the compiles of
    the first (a first multi-epoch fit may compile a small helper once, never the step)."""
    runs = []
    for devices in (None, "all"):
        model = two_outputs(devices)
        gn.utils.set_random_seed(3)
        model.fit(X, [Y3, Y1], batch_size=16, epochs=1, verbose=0)
        model.fit(X, [Y3, Y1], batch_size=16, epochs=2, verbose=0)
        traces = COMPILES[0]
        model.fit(X, [Y3, Y1], batch_size=16, epochs=3, verbose=0)
        assert COMPILES[0] == traces, (devices, traces, COMPILES[0])
        runs.append(model.get_weights())
    for a, b in zip(*runs):
        assert_allclose(b, a, rtol=RTOL, atol=1e-6, err_msg="shuffled")
    print("PASS shuffled_and_compiled_once")


def check_batch_size_not_divisible():
    model = two_outputs("all")
    try:
        model.fit(X, [Y3, Y1], batch_size=10, verbose=0)
    except ValueError as err:
        message = str(err)
        assert "batch_size=10" in message and "multiple of 4" in message and "8, 12" in message, message
    else:
        raise AssertionError("batch_size=10 on 4 devices did not raise")
    try:
        model.evaluate(X, [Y3, Y1], batch_size=6, verbose=0)
    except ValueError as err:
        assert "evaluate" in str(err) and "4, 8" in str(err), str(err)
    else:
        raise AssertionError("evaluate with batch_size=6 on 4 devices did not raise")
    # A dataset smaller than one batch is one batch, whatever its size: exact, replicated.
    model.fit(X[:7], [Y3[:7], Y1[:7]], batch_size=32, verbose=0)
    print("PASS batch_size_not_divisible")


def check_iterable_and_single_batches():
    batches = [(X[i:i + 16], [Y3[i:i + 16], Y1[i:i + 16]]) for i in range(0, N, 16)]
    runs = []
    for devices in (None, "all"):
        model = two_outputs(devices)
        model.fit(batches, epochs=1, verbose=0)
        model.train_on_batch(X[:16], [Y3[:16], Y1[:16]])
        runs.append((model.get_weights(), model.evaluate(batches, verbose=0),
                     model.test_on_batch(X[:8], [Y3[:8], Y1[:8]])))
    for a, b in zip(runs[0][0], runs[1][0]):
        assert_allclose(b, a, rtol=RTOL, atol=1e-6, err_msg="iterable weights")
    assert_allclose(runs[1][1], runs[0][1], rtol=RTOL)
    assert_allclose(runs[1][2], runs[0][2], rtol=RTOL)
    print("PASS iterable_and_single_batches")


def check_compile_errors():
    for bad, kind in (("gpu0", ValueError), ([0, 1], TypeError), ([], TypeError)):
        try:
            two_outputs(bad)
        except kind as err:
            assert "devices" in str(err), str(err)
        else:
            raise AssertionError(f"devices={bad!r} did not raise {kind.__name__}")
    print("PASS compile_errors")


if __name__ == "__main__":
    assert len(jax.devices()) == 4, jax.devices()
    single = trained(None, shuffle=False)
    model = check_all_devices(single)
    check_params_ordinary(model, single)
    check_two_of_four(single)
    check_mesh(single)
    check_shuffled_and_compiled_once()
    check_batch_size_not_divisible()
    check_iterable_and_single_batches()
    check_compile_errors()
