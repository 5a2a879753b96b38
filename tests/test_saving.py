"""Saving and loading: round trips, the file's safety checks, atomic writes, configs."""
import hashlib
import io
import json
import os
import pickle
import zipfile

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import graphnet as gn
from graphnet import layers, registry
from graphnet.layers.base import Layer
from graphnet.layers.input_layer import InputLayer
from graphnet.saving import archive as archive_mod


# ---- helpers ---------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def _registry_restored():
    """Tests register and unregister functions; each starts from the same registry."""
    saved = dict(registry._registered)
    yield
    registry._registered.clear()
    registry._registered.update(saved)


def normalized(config):
    """What a config looks like once written to the file (tuples become lists)."""
    return json.loads(json.dumps(config))


def data(*shapes, seed=1):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(5, *s)).astype("float32") for s in shapes]


def assert_same_outputs(a, b):
    leaves_a, tree_a = jax.tree_util.tree_flatten(a)
    leaves_b, tree_b = jax.tree_util.tree_flatten(b)
    assert tree_a == tree_b
    for x, y in zip(leaves_a, leaves_b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def round_trip(model, x, path):
    """Save, load; the loaded model predicts identically and has the same config."""
    model.save(path)
    loaded = gn.load_model(path)
    assert type(loaded) is type(model)
    assert normalized(loaded.get_config()) == normalized(model.get_config())
    assert_same_outputs(loaded.predict(x), model.predict(x))
    assert_same_outputs(loaded.get_weights(), model.get_weights())
    return loaded


def members(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def rewrite(path, files: dict, fix_manifest=True):
    """Writes `files` as the zip at `path`; with fix_manifest the checksums are recomputed,
    as an attacker who edits a file would do (sha256 protects against damage, not intent)."""
    files = dict(files)
    if fix_manifest:
        manifest = json.loads(files["manifest.json"])
        manifest["members"] = {
            name: {"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)}
            for name, blob in files.items() if name != "manifest.json"}
        files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, blob in files.items():
            zf.writestr(name, blob)


# ---- models ----------------------------------------------------------------------------
def multi_input_list_output():
    a, b = gn.Input((6,), name="a"), gn.Input((4,), name="b")
    left = layers.Dense(5, activation="relu", name="left")(a)
    right = layers.Dense(5, activation="tanh", name="right")(b)
    merged = layers.Concatenate(name="cat")([left, right])
    out1 = layers.Dense(3, activation="softmax", name="head1")(merged)
    out2 = layers.Dense(1, name="head2")(layers.Add(name="sum")([left, right]))
    return gn.Model([a, b], [out1, out2], name="two_branch")


def dict_in_dict_out():
    a, b = gn.Input((6,), name="a"), gn.Input((4,), name="b")
    h = layers.Concatenate()([layers.Dense(5)(a), b])
    return gn.Model({"x": a, "y": b}, {"score": layers.Dense(1)(h), "features": h})


def shared_layers():
    a, b = gn.Input((3,), name="a"), gn.Input((3,), name="b")
    shared = layers.Dense(4, activation="relu", name="shared")
    diff = layers.Subtract()([shared(a), shared(b)])
    third = shared(layers.Dense(3, name="pre")(a))
    return gn.Model([a, b], [diff, layers.Multiply()([third, third])])


def nested_models():
    inner_in = gn.Input((4,), name="inner_in")
    inner_dense = layers.Dense(3, activation="relu", name="inner_dense")
    encoder = gn.Model(inner_in, layers.Dense(2, name="code")(inner_dense(inner_in)), name="encoder")
    a, b = gn.Input((4,), name="a"), gn.Input((4,), name="b")
    # the encoder is called twice (shared), and one of its layers is also used directly
    ea, eb = encoder(a), encoder(b)
    direct = inner_dense(b)
    stack = gn.Sequential([layers.Dense(3, activation="tanh", input_shape=(4,)), layers.Dense(2)],
                          name="stack")
    out = layers.Concatenate()([ea, eb, direct, stack(a)])
    return gn.Model([a, b], out, name="outer")


# ---- round trips -----------------------------------------------------------------------
@pytest.mark.parametrize("background", [False, True], ids=["inline", "background"])
def test_multi_input_list_output_round_trip(tmp_path, monkeypatch, background):
    if background:
        monkeypatch.setattr(archive_mod, "_BACKGROUND_BYTES", 0)
    round_trip(multi_input_list_output(), data((6,), (4,)), tmp_path / "m.graphnet")


def test_dict_inputs_and_outputs_round_trip(tmp_path):
    xa, xb = data((6,), (4,))
    loaded = round_trip(dict_in_dict_out(), {"x": xa, "y": xb}, tmp_path / "m.graphnet")
    assert loaded.output_names == ["score", "features"]
    assert loaded.input_names == ["x", "y"]


def test_shared_layer_round_trip_keeps_one_set_of_weights(tmp_path):
    model = shared_layers()
    loaded = round_trip(model, data((3,), (3,)), tmp_path / "m.graphnet")
    assert {"shared", "shared@1", "shared@2"} <= set(loaded.graph.nodes)
    assert len(loaded.get_weights()) == len(model.get_weights()) == 4


def test_nested_models_round_trip_and_sharing_is_preserved(tmp_path):
    model = nested_models()
    loaded = round_trip(model, data((4,), (4,)), tmp_path / "m.graphnet")
    encoder = loaded.get_layer("encoder")
    assert {"encoder", "encoder@1"} <= set(loaded.graph.nodes)
    # the layer used inside the encoder and directly in the outer graph is one object
    assert loaded.get_layer("inner_dense") is encoder.get_layer("inner_dense")
    assert isinstance(loaded.get_layer("stack"), gn.Sequential)
    # new values in the shared layer reach both of its uses
    kernel, bias = encoder.get_layer("inner_dense").get_weights()
    encoder.get_layer("inner_dense").set_weights([kernel * 2, bias + 1])
    x = data((4,), (4,))
    assert not np.allclose(loaded.predict(x), model.predict(x))
    model.get_layer("inner_dense").set_weights([kernel * 2, bias + 1])
    np.testing.assert_array_equal(loaded.predict(x), model.predict(x))


def test_sequential_round_trip(tmp_path):
    model = gn.Sequential([layers.Dense(8, activation="relu", input_shape=(5,)),
                           layers.Dropout(0.5), layers.Dense(2, activation="softmax")],
                          name="seq")
    round_trip(model, data((5,))[0], tmp_path / "seq.graphnet")


def test_trainable_flags_and_regularizers_round_trip(tmp_path):
    a = gn.Input((3,))
    frozen = layers.Dense(2, kernel_regularizer=gn.regularizers.l2(0.1), name="frozen",
                          trainable=False)
    model = gn.Model(a, layers.Dense(1, activity_regularizer="l1")(frozen(a)))
    loaded = round_trip(model, data((3,))[0], tmp_path / "m.graphnet")
    assert loaded.get_layer("frozen").trainable is False
    assert loaded.trainable_mask() == model.trainable_mask()
    np.testing.assert_allclose(loaded.weight_penalty(loaded.params),
                               model.weight_penalty(model.params))


def test_config_round_trip_without_file():
    for model in (multi_input_list_output(), dict_in_dict_out(), shared_layers(), nested_models()):
        config = model.get_config()
        rebuilt = gn.Model.from_config(normalized(config))
        assert normalized(rebuilt.get_config()) == normalized(config)
        rebuilt.set_weights(model.get_weights())
        x = data(*[t.shape[1:] for t in model.inputs])
        assert_same_outputs(rebuilt.predict(x), model.predict(x))
    seq = gn.Sequential([layers.Dense(3, input_shape=(2,)), layers.Dense(1)])
    rebuilt = gn.Sequential.from_config(normalized(seq.get_config()))
    assert normalized(rebuilt.get_config()) == normalized(seq.get_config())
    unbuilt = gn.Sequential([layers.Dense(3)], name="later")
    again = gn.Sequential.from_config(normalized(unbuilt.get_config()))
    assert not again.built and again.get_config() == unbuilt.get_config()


def test_from_config_draws_fresh_weights_but_load_model_keeps_saved_ones(tmp_path):
    model = multi_input_list_output()
    fresh = gn.Model.from_config(model.get_config())
    assert not np.array_equal(fresh.get_layer("left").get_weights()[0],
                              model.get_layer("left").get_weights()[0])
    model.save(tmp_path / "m.graphnet")
    loaded = gn.load_model(tmp_path / "m.graphnet")
    # the placeholders used while loading are gone: the layer still saves its initializer
    assert loaded.get_layer("left").get_config() == model.get_layer("left").get_config()
    assert gn.models.load_model is gn.load_model


@gn.register_serializable(package="graphnet_tests")
class Split(Layer):
    """Test layer with two outputs (a multi-output call) and a call keyword."""

    def __init__(self, at=2, **kwargs):
        super().__init__(**kwargs)
        self.at = at

    def call(self, params, state, x, *, training=False, rng=None, scale=1.0):
        return [x[:, :self.at] * scale, x[:, self.at:]], state

    def get_config(self):
        return {**super().get_config(), "at": self.at}


@gn.register_serializable(package="graphnet_tests")
class Scale(Layer):
    """Test layer with a weight and a state entry (a counter of calls in training)."""
    weight_names = ("factor", "calls")

    def build(self, input_shape, *, rng):
        return ({"factor": jnp.asarray(rng.normal(size=input_shape[-1:]), jnp.float32)},
                {"calls": jnp.zeros((), jnp.int32)})

    def call(self, params, state, x, *, training=False, rng=None):
        return x * params["factor"], {"calls": state["calls"] + (1 if training else 0)}


def test_multi_output_layer_and_call_keywords_round_trip(tmp_path):
    a = gn.Input((5,), name="a")
    first, second = Split(at=2, name="split")(a, scale=3.0)
    dropped = layers.Dropout(0.5)(second, training=False)
    model = gn.Model(a, [Scale(name="scale")(first), dropped])
    loaded = round_trip(model, data((5,))[0], tmp_path / "m.graphnet")
    assert loaded.graph.nodes["split"]["arguments"][1] == {"scale": 3.0}
    assert np.asarray(loaded.get_layer("scale").state["calls"]).dtype == np.int32


def test_custom_layer_class_must_be_registered(tmp_path):
    class Unregistered(Layer):
        def call(self, params, state, x, *, training=False, rng=None):
            return x, state

    a = gn.Input((2,))
    model = gn.Model(a, Unregistered(name="mine")(a))
    with pytest.raises(ValueError, match=r"'mine'.*Unregistered.*register_serializable"):
        model.save(tmp_path / "m.graphnet")
    assert not os.listdir(tmp_path)
    # registered at save, not at load: the error names the class and the fix
    model = gn.Model(a, Split(name="halves")(a))
    model.save(tmp_path / "m.graphnet")
    del registry._registered["graphnet_tests>Split"]
    with pytest.raises(ValueError, match=r"m\.graphnet.*'halves'.*graphnet_tests>Split.*"
                                         r"register_serializable"):
        gn.load_model(tmp_path / "m.graphnet")


def double(x):
    return 2.0 * x


def test_lambda_round_trip_when_registered_and_clear_error_when_not(tmp_path):
    a = gn.Input((3,))
    model = gn.Model(a, layers.Lambda(double, name="doubler")(a))
    # Unregistered: saved as code (as Keras does), loaded only with safe_mode=False.
    model.save(tmp_path / "code.graphnet")
    with pytest.raises(ValueError, match=r"'doubler'.*run code.*safe_mode=False"):
        gn.load_model(tmp_path / "code.graphnet")
    x = data((3,))[0]
    unsafe = gn.load_model(tmp_path / "code.graphnet", safe_mode=False)
    np.testing.assert_array_equal(unsafe.predict(x), 2 * x)
    gn.register_serializable(package="graphnet_tests", name="double")(double)
    x = data((3,))[0]
    loaded = round_trip(model, x, tmp_path / "m.graphnet")
    np.testing.assert_array_equal(loaded.predict(x), 2 * x)
    del registry._registered["graphnet_tests>double"]     # a new session that did not register
    with pytest.raises(ValueError, match=r"m\.graphnet.*'doubler'.*graphnet_tests>double.*"
                                         r"not registered.*register_serializable"):
        gn.load_model(tmp_path / "m.graphnet")


def test_registered_activation_round_trip(tmp_path):
    @gn.register_serializable(package="graphnet_tests")
    def cube(x):
        return x * x * x

    a = gn.Input((3,))
    round_trip(gn.Model(a, layers.Dense(2, activation=cube)(a)), data((3,))[0],
               tmp_path / "m.graphnet")


# ---- weights only ----------------------------------------------------------------------
def test_save_weights_load_weights_by_position(tmp_path):
    model = multi_input_list_output()
    model.save_weights(tmp_path / "w.graphnet")
    gn.utils.set_random_seed(7)
    other = gn.Model.from_config(model.get_config())
    x = data((6,), (4,))
    assert not np.allclose(other.predict(x)[0], model.predict(x)[0])
    other.load_weights(tmp_path / "w.graphnet")
    assert_same_outputs(other.predict(x), model.predict(x))
    with pytest.raises(ValueError, match="weights only.*load_weights"):
        gn.load_model(tmp_path / "w.graphnet")
    # a full model file holds weights too
    model.save(tmp_path / "m.graphnet")
    other.load_weights(tmp_path / "m.graphnet")
    # another architecture: the error lists both sides
    small = gn.Sequential([layers.Dense(2, input_shape=(6,))])
    with pytest.raises(ValueError, match=r"4 layers.*1 layers"):
        small.load_weights(tmp_path / "w.graphnet")


def test_load_weights_shape_mismatch_names_layer_and_leaves_model_unchanged(tmp_path):
    a = gn.Input((3,))
    gn.Model(a, layers.Dense(2)(layers.Dense(4)(a))).save_weights(tmp_path / "w.graphnet")
    b = gn.Input((3,))
    other = gn.Model(b, layers.Dense(2, name="out")(layers.Dense(5, name="hidden")(b)))
    before = other.get_weights()
    with pytest.raises(ValueError, match=r"layer 'hidden' weight 'params/bias' has shape \(5,\) in the model, \(4,\) in the file"):
        other.load_weights(tmp_path / "w.graphnet")
    assert_same_outputs(other.get_weights(), before)


def test_overwrite_false_and_unbuilt_models(tmp_path):
    model = gn.Sequential([layers.Dense(2, input_shape=(3,))])
    model.save(tmp_path / "m.graphnet")
    with pytest.raises(FileExistsError):
        model.save(tmp_path / "m.graphnet", overwrite=False)
    with pytest.raises(ValueError, match="'later'.*not built"):
        gn.Sequential([layers.Dense(2)], name="later").save(tmp_path / "u.graphnet")


# ---- the file's safety -----------------------------------------------------------------
class Payload:
    """Unpickling this creates `path`: proof that a pickle ran."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_a_pickle_is_never_run(tmp_path):
    marker = tmp_path / "pwned"
    # 1. a pickle renamed to .graphnet
    evil = tmp_path / "evil.graphnet"
    evil.write_bytes(pickle.dumps(Payload(marker)))
    with pytest.raises(ValueError, match=r"evil\.graphnet.*not a graphnet file.*pickle"):
        gn.load_model(evil)
    # 2. a weight member replaced by an object array, checksums fixed up by the attacker
    model = multi_input_list_output()
    path = tmp_path / "m.graphnet"
    model.save(path)
    files = members(path)
    blob = io.BytesIO()
    np.save(blob, np.array([Payload(marker)], dtype=object), allow_pickle=True)
    files["weights/00000.npy"] = blob.getvalue()
    rewrite(path, files)
    with pytest.raises(ValueError, match=r"m\.graphnet.*weights/00000\.npy.*Python objects.*pickle"):
        gn.load_model(path)
    with pytest.raises(ValueError, match="pickle"):
        model.load_weights(path)
    assert not marker.exists()
    # 3. a pickle added as an extra member
    model.save(path)
    files = members(path)
    files["payload.pkl"] = pickle.dumps(Payload(marker))
    rewrite(path, files, fix_manifest=False)
    with pytest.raises(ValueError, match=r"'payload\.pkl'.*manifest does not list"):
        gn.load_model(path)
    assert not marker.exists()
    # 4. an .npy header that is code rather than a literal
    header = b"{'descr': __import__('os').mkdir(%r), 'fortran_order': False, 'shape': (1,)}" % (
        str(marker).encode(),)
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    files["weights/00000.npy"] = (b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little")
                                  + header + bytes(4))
    del files["payload.pkl"]
    rewrite(path, files)
    with pytest.raises(ValueError, match=r"weights/00000\.npy.*not a valid \.npy array"):
        gn.load_model(path)
    assert not marker.exists()
    # the payloads are live: NumPy with allow_pickle=True does run them
    np.load(io.BytesIO(blob.getvalue()), allow_pickle=True)
    assert marker.exists()


def test_truncated_file_is_a_clear_error(tmp_path):
    path = tmp_path / "m.graphnet"
    multi_input_list_output().save(path)
    raw = path.read_bytes()
    for size in (len(raw) // 2, len(raw) - 10, 3, 0):
        path.write_bytes(raw[:size])
        with pytest.raises(ValueError, match=r"m\.graphnet.*(truncated|empty|not a graphnet)"):
            gn.load_model(path)


@pytest.mark.parametrize("background", [False, True], ids=["inline", "background"])
def test_flipped_weight_byte_fails_the_checksum(tmp_path, monkeypatch, background):
    if background:          # large files read and hash their arrays on a thread pool
        monkeypatch.setattr(archive_mod, "_BACKGROUND_BYTES", 0)
    model = multi_input_list_output()
    path = tmp_path / "m.graphnet"
    model.save(path)
    raw = bytearray(path.read_bytes())
    kernel = model.get_layer("head1").get_weights()[0]
    at = bytes(raw).find(kernel.tobytes())
    assert at > 0
    raw[at + 7] ^= 0x01
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match=r"m\.graphnet.*member 'weights/\d+\.npy' fails its "
                                         r"checksum"):
        gn.load_model(path)


def test_newer_format_version_is_refused(tmp_path):
    path = tmp_path / "m.graphnet"
    multi_input_list_output().save(path)
    files = members(path)
    manifest = json.loads(files["manifest.json"])
    manifest["format_version"] = archive_mod.FORMAT_VERSION + 1
    files["manifest.json"] = json.dumps(manifest).encode()
    rewrite(path, files, fix_manifest=False)
    with pytest.raises(ValueError, match=rf"m\.graphnet.*format version "
                                         rf"{archive_mod.FORMAT_VERSION + 1}.*upgrade graphnet"):
        gn.load_model(path)


def test_missing_member_and_foreign_zip(tmp_path):
    path = tmp_path / "m.graphnet"
    multi_input_list_output().save(path)
    files = members(path)
    del files["weights/00001.npy"]
    rewrite(path, files, fix_manifest=False)          # the manifest still lists it
    with pytest.raises(ValueError, match=r"missing member 'weights/00001\.npy'"):
        gn.load_model(path)
    rewrite(path, files)                              # consistent manifest, index still names it
    with pytest.raises(ValueError, match=r"missing member 'weights/00001\.npy'.*layer"):
        gn.load_model(path)
    with zipfile.ZipFile(tmp_path / "other.zip", "w") as zf:
        zf.writestr("hello.txt", "hi")
    with pytest.raises(ValueError, match=r"other\.zip.*not a graphnet file"):
        gn.load_model(tmp_path / "other.zip")
    with pytest.raises(FileNotFoundError):
        gn.load_model(tmp_path / "absent.graphnet")


def test_interrupted_save_leaves_the_previous_file(tmp_path, monkeypatch):
    path = tmp_path / "m.graphnet"
    model = multi_input_list_output()
    model.save(path)
    x = data((6,), (4,))
    before = model.predict(x)
    model.set_weights([w + 1 for w in model.get_weights()])
    original = archive_mod.ArchiveWriter.add_array
    calls = []

    def failing(self, name, array):
        calls.append(name)
        if len(calls) == 3:
            raise OSError("No space left on device")
        return original(self, name, array)

    monkeypatch.setattr(archive_mod.ArchiveWriter, "add_array", failing)
    with pytest.raises(OSError, match="No space left"):
        model.save(path)
    assert len(calls) == 3
    assert os.listdir(tmp_path) == ["m.graphnet"]       # no temporary file left behind
    assert_same_outputs(gn.load_model(path).predict(x), before)
    monkeypatch.undo()
    model.save(path)
    assert_same_outputs(gn.load_model(path).predict(x), model.predict(x))


def test_files_are_zips_of_npy_members_numpy_can_read(tmp_path):
    model = multi_input_list_output()
    model.save(tmp_path / "m.graphnet")
    files = members(tmp_path / "m.graphnet")
    index = json.loads(files["weights.json"])["layers"]
    entry = next(e for e in index if e["layer"] == "head1")
    kernel = np.load(io.BytesIO(files[entry["arrays"]["params/kernel"]["member"]]),
                     allow_pickle=False)
    np.testing.assert_array_equal(kernel, model.get_layer("head1").get_weights()[0])
    manifest = json.loads(files["manifest.json"])
    assert manifest["format"] == "graphnet" and set(manifest["members"]) == set(files) - {"manifest.json"}
    with zipfile.ZipFile(tmp_path / "m.graphnet") as zf:
        assert zf.testzip() is None


def test_archive_keeps_bfloat16_and_int_dtypes(tmp_path):
    arrays = {"bf16": jnp.arange(6, dtype=jnp.bfloat16).reshape(2, 3),
              "i32": np.arange(4, dtype=np.int32), "flag": np.array([True, False]),
              "scalar": np.float32(2.5)}
    entries = {}
    archive_mod.write_archive(tmp_path / "a.graphnet", "test", lambda w: entries.update(
        {k: w.add_array(f"{k}.npy", v) for k, v in arrays.items()}))
    read = archive_mod.read_archive(tmp_path / "a.graphnet")
    for k, v in arrays.items():
        e = entries[k]
        got = read.array(e["member"], e["dtype"], e["shape"])
        assert got.dtype == np.asarray(v).dtype and got.shape == np.shape(v)
        np.testing.assert_array_equal(got.astype("float32"), np.asarray(v).astype("float32"))


# ---- optimizer state -------------------------------------------------------------------
def make_step(model, tx, x):
    """One jitted optax step of a squared-output loss; pure, so it serves any model with the
    same architecture (one compile per test). Standard promotion: optax's Adam raises a
    float to the int32 step count."""
    def loss(params):
        out, _ = model.apply(params, model.state, x)
        return sum(jnp.mean(jnp.square(o)) for o in out)

    @jax.jit
    def step(params, opt_state):
        updates, opt_state = tx.update(jax.grad(loss)(params), opt_state, params)
        return optax.apply_updates(params, updates), opt_state

    def train(target, opt_state, steps):
        params = target.params
        with jax.numpy_dtype_promotion("standard"):
            for _ in range(steps):
                params, opt_state = step(params, opt_state)
        target.params = params
        return opt_state
    return train


def test_optimizer_state_round_trip_continues_training_exactly(tmp_path):
    model = multi_input_list_output()
    x = data((6,), (4,))
    y = [np.zeros((5,) + tuple(t.shape[1:]), "float32") for t in model.outputs]
    model.compile(optimizer=gn.optimizers.Adam(1e-2, clipnorm=1.0), loss="mse")
    model.fit(x, y, batch_size=5, epochs=3, shuffle=False, verbose=0)
    path = tmp_path / "m.graphnet"
    model.save(path)
    loaded = gn.load_model(path)
    assert loaded.get_compile_config() == model.get_compile_config()
    assert_same_outputs(loaded.opt_state, model.opt_state)
    model.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x, y, batch_size=5, epochs=1, shuffle=False, verbose=0)
    assert_same_outputs(loaded.get_weights(), model.get_weights())
    loaded.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="another optimizer"):
        gn.saving.load_optimizer_state(loaded, path)
    model.save(path, include_optimizer=False)
    loaded.compile(optimizer=gn.optimizers.Adam(1e-2, clipnorm=1.0), loss="mse")
    with pytest.raises(ValueError, match="no optimizer state"):
        gn.saving.load_optimizer_state(loaded, path)


def test_load_model_compile_false_restarts_the_optimizer(tmp_path):
    a = gn.Input((3,))
    model = gn.Model(a, [layers.Dense(2)(a)])
    model.compile(optimizer=gn.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    x, y = data((3,))[0], np.ones((5, 2), "float32")
    model.fit(x, y, batch_size=5, epochs=2, verbose=0)
    model.save(tmp_path / "m.graphnet")
    restarted = gn.load_model(tmp_path / "m.graphnet", compile=False)
    assert restarted.get_compile_config() is None and restarted.opt_state is None
    restarted.compile(optimizer=gn.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    restarted.fit(x, y, batch_size=5, epochs=1, verbose=0)
    model.fit(x, y, batch_size=5, epochs=1, verbose=0)
    # momentum carried over versus restarted from zero
    assert not np.allclose(restarted.get_weights()[0], model.get_weights()[0], rtol=1e-3)


# ---- every layer's config --------------------------------------------------------------
gn.register_serializable(package="graphnet_tests", name="negate")(jnp.negative)

# class name -> (constructor kwargs, input shapes without batch, called on a list)
EXAMPLES = {
    "Dense": ({"units": 3, "activation": "tanh"}, [(4,)], False),
    "Activation": ({"activation": "gelu"}, [(4,)], False),
    "Dropout": ({"rate": 0.3, "seed": 3}, [(4,)], False),
    "Flatten": ({}, [(2, 3)], False),
    "Reshape": ({"target_shape": (3, -1)}, [(6,)], False),
    "Permute": ({"dims": (2, 1)}, [(2, 3)], False),
    "RepeatVector": ({"n": 3}, [(4,)], False),
    "Identity": ({}, [(4,)], False),
    "Lambda": ({"function": jnp.negative}, [(4,)], False),
    "Add": ({}, [(4,), (4,)], True),
    "Subtract": ({}, [(4,), (4,)], True),
    "Multiply": ({}, [(4,), (4,)], True),
    "Average": ({}, [(4,), (4,), (4,)], True),
    "Maximum": ({}, [(4,), (4,)], True),
    "Minimum": ({}, [(4,), (4,)], True),
    "Concatenate": ({"axis": 1}, [(4,), (3,)], True),
    "Dot": ({"axes": 1, "normalize": True}, [(4,), (4,)], True),
    "Conv1D": ({"filters": 3, "kernel_size": 2, "strides": 2, "padding": "same"}, [(6, 2)], False),
    "Conv2D": ({"filters": 3, "kernel_size": 3, "dilation_rate": 2, "activation": "relu"},
               [(7, 7, 2)], False),
    "SeparableConv2D": ({"filters": 3, "kernel_size": 3, "depth_multiplier": 2}, [(6, 6, 2)], False),
    "DepthwiseConv2D": ({"kernel_size": 3, "padding": "same"}, [(5, 5, 2)], False),
    "Conv2DTranspose": ({"filters": 2, "kernel_size": 3, "strides": 2}, [(4, 4, 3)], False),
    "MaxPooling1D": ({"pool_size": 2}, [(6, 3)], False),
    "MaxPooling2D": ({"pool_size": 3, "strides": 1, "padding": "same"}, [(5, 5, 2)], False),
    "AveragePooling1D": ({"pool_size": 3, "padding": "same"}, [(6, 3)], False),
    "AveragePooling2D": ({"pool_size": 2}, [(6, 6, 2)], False),
    "GlobalMaxPooling1D": ({"keepdims": True}, [(6, 3)], False),
    "GlobalMaxPooling2D": ({}, [(5, 5, 2)], False),
    "GlobalAveragePooling1D": ({}, [(6, 3)], False),
    "GlobalAveragePooling2D": ({"keepdims": True}, [(5, 5, 2)], False),
    "BatchNormalization": ({"momentum": 0.9, "epsilon": 1e-2}, [(4,)], False),
    "LayerNormalization": ({"epsilon": 1e-5}, [(3, 4)], False),
    "Embedding": ({"input_dim": 8, "output_dim": 3, "mask_zero": True}, [(6,)], False, "int32"),
    "SimpleRNN": ({"units": 3, "return_sequences": True}, [(5, 2)], False),
    "LSTM": ({"units": 3, "go_backwards": True}, [(5, 2)], False),
    "GRU": ({"units": 3, "return_sequences": True}, [(5, 2)], False),
    "Bidirectional": ({"layer": layers.LSTM(3, return_sequences=True), "merge_mode": "sum"},
                      [(5, 2)], False),
    "MultiHeadAttention": ({"num_heads": 2, "key_dim": 3}, [(4, 5), (6, 5)], "query_value"),
    "Conv3D": ({"filters": 2, "kernel_size": 2}, [(3, 3, 3, 2)], False),
    "Conv1DTranspose": ({"filters": 2, "kernel_size": 3, "strides": 2}, [(4, 3)], False),
    "Conv3DTranspose": ({"filters": 2, "kernel_size": 2}, [(2, 2, 2, 3)], False),
    "MaxPooling3D": ({"pool_size": 2}, [(4, 4, 4, 2)], False),
    "AveragePooling3D": ({"pool_size": 2, "padding": "same"}, [(3, 4, 4, 2)], False),
    "GlobalMaxPooling3D": ({}, [(3, 3, 3, 2)], False),
    "GlobalAveragePooling3D": ({"keepdims": True}, [(3, 3, 3, 2)], False),
    "UpSampling1D": ({"size": 3}, [(4, 2)], False),
    "UpSampling2D": ({"size": (2, 1), "interpolation": "bilinear"}, [(3, 3, 2)], False),
    "ZeroPadding1D": ({"padding": (1, 2)}, [(4, 2)], False),
    "ZeroPadding2D": ({"padding": ((1, 0), (0, 2))}, [(3, 3, 2)], False),
    "Cropping1D": ({"cropping": (1, 0)}, [(4, 2)], False),
    "Cropping2D": ({"cropping": ((1, 0), (0, 1))}, [(3, 3, 2)], False),
    "ReLU": ({"max_value": 6.0, "negative_slope": 0.1}, [(4,)], False),
    "LeakyReLU": ({"negative_slope": 0.2}, [(4,)], False),
    "ELU": ({"alpha": 0.5}, [(4,)], False),
    "Softmax": ({"axis": 1}, [(3, 4)], False),
    "PReLU": ({"shared_axes": [1]}, [(3, 4)], False),
    "GaussianNoise": ({"stddev": 0.1}, [(4,)], False),
    "GaussianDropout": ({"rate": 0.2}, [(4,)], False),
    "SpatialDropout1D": ({"rate": 0.2}, [(3, 4)], False),
    "SpatialDropout2D": ({"rate": 0.2}, [(3, 3, 4)], False),
    "SpatialDropout3D": ({"rate": 0.2}, [(2, 3, 3, 4)], False),
    "Masking": ({"mask_value": 0.5}, [(3, 4)], False),
    "TimeDistributed": ({"layer": layers.Dense(2)}, [(3, 4)], False),
    "Attention": ({"use_scale": True, "score_mode": "concat"}, [(3, 4), (5, 4)], True),
    "AdditiveAttention": ({}, [(3, 4), (5, 4)], True),
    "Rescaling": ({"scale": 0.5, "offset": 1.0}, [(4,)], False),
    "Normalization": ({"axis": -1}, [(3, 4)], False),
    "CategoryEncoding": ({"num_tokens": 5, "output_mode": "count"}, [(3,)], False, "int32"),
    "RandomFlip": ({"mode": "horizontal"}, [(4, 4, 1)], False),
    "RandomRotation": ({"factor": 0.1}, [(4, 4, 1)], False),
    "RandomZoom": ({"height_factor": 0.1}, [(4, 4, 1)], False),
    "RandomTranslation": ({"height_factor": 0.1, "width_factor": 0.2}, [(4, 4, 1)], False),
    "RandomContrast": ({"factor": 0.2}, [(4, 4, 1)], False),
    "AutoContrast": ({"value_range": (0, 1)}, [(4, 4, 3)], False),
    "Equalization": ({"value_range": (0, 1), "bins": 16}, [(4, 4, 3)], False),
    "Solarization": ({"addition_factor": 0.1, "threshold_factor": (0.2, 0.6)}, [(4, 4, 3)],
                     False),
    "RandomBrightness": ({"factor": (-0.2, 0.1)}, [(4, 4, 3)], False),
    "RandomGrayscale": ({"factor": 0.3}, [(4, 4, 3)], False),
    "RandomInvert": ({"factor": 0.4, "value_range": (0, 1)}, [(4, 4, 3)], False),
    "RandomPosterization": ({"factor": (2, 5)}, [(4, 4, 3)], False),
    "RandomColorDegeneration": ({"factor": 0.3}, [(4, 4, 3)], False),
    "RandomSharpness": ({"factor": (0.2, 0.7)}, [(4, 4, 3)], False),
    "RandomGaussianBlur": ({"factor": 0.5, "kernel_size": (3, 5), "sigma": (0.2, 0.8)},
                           [(4, 4, 3)], False),
    "RandomHue": ({"factor": 0.3, "value_range": (0, 1)}, [(4, 4, 3)], False),
    "RandomSaturation": ({"factor": (0.1, 0.8)}, [(4, 4, 3)], False),
    "RandomColorJitter": ({"brightness_factor": 0.2, "contrast_factor": 0.3,
                           "saturation_factor": 0.5, "hue_factor": 0.1}, [(4, 4, 3)], False),
    "RandomErasing": ({"factor": 0.5, "scale": (0.1, 0.3), "fill_value": 0.5,
                       "value_range": (0, 1)}, [(4, 4, 3)], False),
    "RandomShear": ({"x_factor": 0.2, "y_factor": (0.1, 0.3), "fill_mode": "constant"},
                    [(4, 4, 3)], False),
    "RandomPerspective": ({"factor": 0.5, "scale": 0.4, "interpolation": "nearest"},
                          [(4, 4, 3)], False),
    "MixUp": ({"alpha": 0.4}, [(4, 4, 3)], False),
    "CutMix": ({"factor": 0.7}, [(4, 4, 3)], False),
}
NOT_STANDALONE = {"Layer": "the abstract base class", "InputLayer": "made by graphnet.Input"}
LAYER_CLASSES = sorted(name for name, obj in vars(layers).items()      # Keras's aliases
                       if isinstance(obj, type) and issubclass(obj, Layer)  # (MaxPool2D) are
                       and obj.__name__ == name)                            # the same classes


@pytest.mark.parametrize("name", LAYER_CLASSES)
def test_every_layer_round_trips(name, tmp_path):
    if name in NOT_STANDALONE:
        pytest.skip(f"{name} is {NOT_STANDALONE[name]}; covered by the model round trips")
    if name not in EXAMPLES:
        pytest.skip(f"no example for layers.{name} in tests/test_saving.py EXAMPLES yet: add "
                    f"(kwargs, input shapes, called on a list)")
    kwargs, shapes, as_list, *dtype = EXAMPLES[name]
    dtype = dtype[0] if dtype else "float32"
    cls = getattr(layers, name)
    layer = cls(**kwargs)
    config = layer.get_config()
    assert normalized(cls.from_config(normalized(config)).get_config()) == normalized(config)
    inputs = [gn.Input(s, dtype=dtype) for s in shapes]
    if as_list == "query_value":
        out = layer(inputs[0], inputs[1])
    else:
        out = layer(inputs) if as_list else layer(inputs[0])
    model = gn.Model(inputs, out)
    x = data(*shapes)
    if dtype != "float32":
        x = [np.random.default_rng(2).integers(0, 8, size=a.shape).astype(dtype) for a in x]
    loaded = round_trip(model, x, tmp_path / f"{name}.graphnet")
    assert type(loaded.layers[-1]) is cls


def assert_config_round_trips(layer):
    config = normalized(layer.get_config())
    again = type(layer).from_config(config)
    assert normalized(again.get_config()) == config


@settings(max_examples=15, deadline=None)
@given(units=st.integers(1, 64), activation=st.sampled_from(["relu", "softmax", None, "gelu"]),
       use_bias=st.booleans(),
       init=st.sampled_from(["glorot_uniform", "he_normal", "zeros", "orthogonal"]),
       reg=st.sampled_from([None, "l1", "l2", gn.regularizers.l1_l2(0.1, 0.2)]),
       trainable=st.booleans())
def test_dense_config_round_trips(units, activation, use_bias, init, reg, trainable):
    assert_config_round_trips(layers.Dense(units, activation=activation, use_bias=use_bias,
                                           kernel_initializer=init, kernel_regularizer=reg,
                                           bias_regularizer=reg, trainable=trainable,
                                           activity_regularizer=reg))


@settings(max_examples=10, deadline=None)
@given(rate=st.floats(0, 0.95), seed=st.one_of(st.none(), st.integers(0, 2**31 - 1)),
       noise=st.one_of(st.none(), st.tuples(st.none(), st.just(1), st.integers(1, 4))))
def test_dropout_config_round_trips(rate, seed, noise):
    assert_config_round_trips(layers.Dropout(rate, noise_shape=noise, seed=seed))


@settings(max_examples=10, deadline=None)
@given(shape=st.lists(st.integers(1, 5), min_size=1, max_size=4), infer=st.booleans(),
       perm_seed=st.integers(0, 100), axis=st.integers(-3, 2), n=st.integers(1, 9))
def test_shape_layer_configs_round_trip(shape, infer, perm_seed, axis, n):
    target = list(shape)
    if infer:
        target[0] = -1
    assert_config_round_trips(layers.Reshape(target))
    dims = list(np.random.default_rng(perm_seed).permutation(len(shape)) + 1)
    assert_config_round_trips(layers.Permute([int(d) for d in dims]))
    assert_config_round_trips(layers.Concatenate(axis=axis))
    assert_config_round_trips(layers.RepeatVector(n))
    assert_config_round_trips(layers.Dot(axes=(1, max(axis, 1)), normalize=n % 2 == 0))


def test_config_errors_name_the_layer_or_model(tmp_path):
    @gn.register_serializable(package="graphnet_tests")
    def keep(x, tag):
        return x

    a = gn.Input((3,))
    odd = layers.Lambda(keep, arguments={"tag": object()}, name="odd")
    with pytest.raises(ValueError, match=r"Cannot save layer 'odd' \(Lambda\).*object"):
        gn.Model(a, odd(a)).save(tmp_path / "m.graphnet")
    seq = gn.Sequential([layers.Dense(2, input_shape=(3,))], name="stack")
    with pytest.raises(ValueError, match=r"'stack'.*Sequential\.from_config"):
        gn.Model.from_config(seq.get_config())


def test_batchnorm_moving_statistics_round_trip(tmp_path):
    """Moving mean/variance live in `state`; a save must carry them, not the initial ones."""
    inputs = gn.Input((4,))
    model = gn.Model(inputs, layers.BatchNormalization(momentum=0.5)(layers.Dense(4)(inputs)))
    x = data((4,))[0] * 3 + 1
    _, new_state = model.apply(model.params, model.state, x, training=True)
    model.state = new_state
    bn = model.layers[-1]
    assert not np.allclose(bn.get_weights()[2], 0)          # the moving mean moved
    loaded = round_trip(model, [x], tmp_path / "bn.graphnet")
    np.testing.assert_array_equal(loaded.layers[-1].get_weights()[2], bn.get_weights()[2])
    np.testing.assert_array_equal(loaded.layers[-1].get_weights()[3], bn.get_weights()[3])


def test_register_keras_serializable_is_the_same_registry_as_keras_names_it():
    import keras
    from graphnet import registry, saving

    @saving.register_keras_serializable("MyPackage")
    def doubled(x):
        return 2 * x

    @saving.register_keras_serializable(package="MyPackage", name="Tripled")
    def tripled(x):
        return 3 * x

    @keras.saving.register_keras_serializable("MyPackage")
    def doubled_k(x):
        return 2 * x

    assert registry.registered_name(doubled) == "MyPackage>doubled"
    assert keras.saving.get_registered_name(doubled_k) == "MyPackage>doubled_k"
    assert registry.get_registered("MyPackage>Tripled") is tripled


@pytest.mark.parametrize("kind", ["functional", "sequential"])
def test_to_json_round_trip(kind):
    from graphnet import models
    if kind == "sequential":
        model = gn.Sequential([gn.Input((4,)), layers.Dense(3, activation="relu"),
                               layers.Dense(2)], name="seq")
    else:
        inp = gn.Input((4,), name="x")
        model = gn.Model(inp, [layers.Dense(2, name="a")(inp), layers.Dense(1, name="b")(inp)])
    text = model.to_json()
    again = models.model_from_json(text)
    assert type(again) is type(model)
    assert again.get_config() == model.get_config()
    assert [w.shape for w in again.get_weights()] == [w.shape for w in model.get_weights()]
    again.set_weights(model.get_weights())
    x = np.random.default_rng(0).random((5, 4)).astype("float32")
    got, want = again.predict(x, verbose=0), model.predict(x, verbose=0)
    if kind == "sequential":
        got, want = [got], [want]
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-6)
    with pytest.raises(ValueError, match="model_from_json: expected the text model.to_json"):
        models.model_from_json("not json")
