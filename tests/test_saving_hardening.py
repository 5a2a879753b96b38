"""The `.graphnet` format against hostile and damaged files, and its write-side guarantees."""
import hashlib
import json
import os
import stat
import struct
import threading
import zipfile
import zlib

import numpy as np
import pytest

import graphnet as gn
from graphnet import activations, initializers, layers, losses, metrics, registry, regularizers
from graphnet.saving import archive as archive_mod
from graphnet.saving import atomic
from graphnet.saving.archive import FileFormatError


@pytest.fixture(autouse=True)
def _registry_restored():
    saved = dict(registry._registered)
    yield
    registry._registered.clear()
    registry._registered.update(saved)


def small_model():
    inputs = gn.Input((4,), name="x")
    return gn.Model(inputs, layers.Dense(2, name="out")(layers.Dense(3, name="h")(inputs)))


@pytest.fixture
def saved(tmp_path):
    path = tmp_path / "m.graphnet"
    small_model().save(path)
    return path


def rewrite(path, files: dict):
    """Writes `files` as the zip at `path` with a correct manifest (an editor's file)."""
    files = dict(files)
    manifest = json.loads(files["manifest.json"])
    manifest["members"] = {name: {"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)}
                           for name, blob in files.items() if name != "manifest.json"}
    files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, blob in files.items():
            zf.writestr(name, blob)


def members(path) -> dict:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def patch_member_fields(path, name, *, crc=None, size=None, local=True, central=True):
    """Edits one member's crc and sizes in its local header and/or central entry."""
    blob = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(name)
    if local:
        at = info.header_offset
        if crc is not None:
            struct.pack_into("<L", blob, at + 14, crc)
        if size is not None:
            struct.pack_into("<LL", blob, at + 18, size, size)
    if central:
        at = blob.find(b"PK\x01\x02" + bytes(blob[blob.find(b"PK\x01\x02") + 4:][:0]))
        while at >= 0:
            name_len = struct.unpack_from("<H", blob, at + 28)[0]
            if bytes(blob[at + 46:at + 46 + name_len]) == name.encode():
                break
            at = blob.find(b"PK\x01\x02", at + 4)
        if crc is not None:
            struct.pack_into("<L", blob, at + 16, crc)
        if size is not None:
            struct.pack_into("<LL", blob, at + 20, size, size)
    path.write_bytes(bytes(blob))


# ---- reading hostile files -----------------------------------------------------------
def test_overlapping_members_are_refused(saved):
    """A member whose data reaches over the next member's header: a file that would make
    the loader read the same bytes many times over (memory far beyond the file's size)."""
    with zipfile.ZipFile(saved) as zf:
        infos = sorted(zf.infolist(), key=lambda i: i.header_offset)
    first, second = infos[0], infos[1]
    blob = saved.read_bytes()
    start = first.header_offset + 30 + len(first.filename.encode()) + len(first.extra)
    size = second.header_offset + 30 - start
    patch_member_fields(saved, first.filename, crc=zlib.crc32(blob[start:start + size]),
                        size=size)
    with pytest.raises(FileFormatError, match="overlap"):
        gn.load_model(saved)


def test_member_claiming_more_than_the_file_is_refused(saved):
    patch_member_fields(saved, "config.json", size=1 << 30)
    with pytest.raises(FileFormatError, match="more than the file holds"):
        gn.load_model(saved)


def test_bytes_read_never_exceed_the_file_size(saved):
    archive = archive_mod.open_archive(saved)
    try:
        total = sum(size for _, size in archive._spans.values())
    finally:
        archive.close()
    assert total <= os.path.getsize(saved)


def test_local_header_disagreeing_with_the_directory_is_damage(saved):
    patch_member_fields(saved, "config.json", crc=0x12345678, central=False)
    with pytest.raises(FileFormatError, match="local header disagrees"):
        gn.load_model(saved)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_named_pipe_is_refused_not_waited_on(tmp_path):
    pipe = tmp_path / "m.graphnet"
    os.mkfifo(pipe)
    with pytest.raises(FileFormatError, match="not a regular file"):
        gn.load_model(pipe)


# ---- damaged metadata: ValueError naming the member and the field -------------------------
def _edit_json(path, member, edit):
    files = members(path)
    data = json.loads(files[member])
    edit(data)
    files[member] = json.dumps(data).encode()
    rewrite(path, files)


def _first_array(data):
    return next(iter(data["layers"][0]["arrays"].values()))


@pytest.mark.parametrize("member, edit, field", [
    ("weights.json", lambda d: _first_array(d).update(shape=5), "shape"),
    ("weights.json", lambda d: _first_array(d).update(shape=None), "shape"),
    ("weights.json", lambda d: _first_array(d).update(shape=[-1, 2]), "shape[0]"),
    ("weights.json", lambda d: _first_array(d).update(dtype=["float32"]), "dtype"),
    ("weights.json", lambda d: d.update(layers={"h": 1}), "layers"),
    ("config.json", lambda d: d["config"].update(nodes={"a": 1}), "config.nodes"),
    ("config.json", lambda d: d["config"].update(name=7), "config.name"),
    ("config.json", lambda d: d.pop("class_name"), "class_name"),
])
def test_damaged_metadata_names_member_and_field(saved, member, edit, field):
    _edit_json(saved, member, edit)
    with pytest.raises(ValueError, match=f"{member}.*{field.replace('[', '.').replace(']', '.')}"):
        gn.load_model(saved)


def test_a_layer_listed_twice_in_the_weights_index_is_refused(saved):
    _edit_json(saved, "weights.json", lambda d: d["layers"].append(dict(d["layers"][0])))
    with pytest.raises(ValueError, match=r"weights.json.*'layers\[2\]\.layer' lists layer "
                                         r"'h' a second time"):
        gn.load_model(saved)


def test_compile_config_without_loss_is_a_value_error(tmp_path):
    model = small_model()
    model.compile(optimizer="adam", loss="mse")
    path = tmp_path / "m.graphnet"
    model.save(path)
    _edit_json(path, "config.json", lambda d: d["compile_config"].pop("loss"))
    with pytest.raises(ValueError, match="config.json.*compile_config.loss"):
        gn.load_model(path)


def test_deeply_nested_json_is_refused_without_recursion_error(saved):
    files = members(saved)
    files["config.json"] = b"[" * 100_000 + b"]" * 100_000
    rewrite(saved, files)
    with pytest.raises(ValueError, match="config.json.*nested"):
        gn.load_model(saved)


# ---- writing: no-replace, modes, symlinks, stale temporaries ---------------------------
def test_overwrite_false_never_replaces_a_file_that_appears_during_the_save(tmp_path,
                                                                            monkeypatch):
    path = tmp_path / "m.graphnet"
    finish = archive_mod.ArchiveWriter.finish

    def someone_else_writes(self, kind):
        path.write_bytes(b"theirs")
        finish(self, kind)
    monkeypatch.setattr(archive_mod.ArchiveWriter, "finish", someone_else_writes)
    with pytest.raises(FileExistsError, match="appeared while saving"):
        small_model().save(path, overwrite=False)
    assert path.read_bytes() == b"theirs"
    assert os.listdir(tmp_path) == ["m.graphnet"]


def test_saving_over_a_file_keeps_its_permission_bits(tmp_path):
    path = tmp_path / "m.graphnet"
    model = small_model()
    model.save(path)
    os.chmod(path, 0o600)
    model.save(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    os.chmod(path, 0o640)
    model.save_weights(path)
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o640


def test_saving_to_a_symlink_writes_its_target(tmp_path):
    target = tmp_path / "real.graphnet"
    link = tmp_path / "link.graphnet"
    target.write_bytes(b"old")
    link.symlink_to(target.name)
    model = small_model()
    model.save(link)
    assert link.is_symlink()
    x = np.ones((2, 4), "float32")
    np.testing.assert_array_equal(gn.load_model(target).predict(x), model.predict(x))


@pytest.mark.skipif(atomic.fcntl is None, reason="no flock here")
def test_leftovers_of_killed_saves_are_removed_but_live_ones_kept(tmp_path):
    import fcntl
    stale = tmp_path / f".m.graphnet.{'ab' * 8}.tmp"
    stale.write_bytes(b"x" * 1000)
    live = tmp_path / f".other.graphnet.{'cd' * 8}.tmp"
    live.write_bytes(b"y")
    unrelated = tmp_path / ".notes.tmp"
    unrelated.write_bytes(b"z")
    with open(live, "rb") as held:
        fcntl.flock(held.fileno(), fcntl.LOCK_EX)       # a save in progress holds its lock
        small_model().save(tmp_path / "m.graphnet")
    assert not stale.exists()
    assert live.exists() and unrelated.exists()


def test_concurrent_saves_to_one_folder_all_succeed(tmp_path):
    models = [small_model() for _ in range(4)]
    errors = []

    def save(i):
        try:
            for _ in range(3):
                models[i].save(tmp_path / f"m{i}.graphnet")
        except Exception as err:           # noqa: BLE001 - reported below
            errors.append(err)
    threads = [threading.Thread(target=save, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    x = np.ones((2, 4), "float32")
    for i, model in enumerate(models):
        np.testing.assert_array_equal(gn.load_model(tmp_path / f"m{i}.graphnet").predict(x),
                                      model.predict(x))
    assert sorted(os.listdir(tmp_path)) == [f"m{i}.graphnet" for i in range(4)]


# ---- loading draws no weights; training resumes with the same dropout stream ------------
def test_loading_draws_no_initial_weights(saved, monkeypatch):
    def no_sampling(self, rng, shape):
        raise AssertionError("an initial weight was drawn while loading")
    monkeypatch.setattr(initializers.VarianceScaling, "sample", no_sampling)
    monkeypatch.setattr(initializers.Zeros, "sample", no_sampling)
    loaded = gn.load_model(saved)
    assert loaded.count_params() == 4 * 3 + 3 + 3 * 2 + 2


def test_dropout_model_resumes_exactly(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")
    inputs = gn.Input((4,))
    hidden = layers.Dropout(0.5)(layers.Dense(8, activation="relu")(inputs))
    model = gn.Model(inputs, layers.Dense(1)(hidden))
    model.compile(optimizer="sgd", loss="mse")
    model.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.graphnet")
    loaded = gn.load_model(tmp_path / "m.graphnet")
    for m in (model, loaded):
        gn.utils.set_random_seed(5)
        m.fit(x, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---- one serialization format ----------------------------------------------------------
@registry.register_serializable(package="Test")
def scaled_mse(y_true, y_pred):
    return ((y_true - y_pred) ** 2).mean(-1) * 2


@pytest.mark.parametrize("module, obj", [
    (losses, losses.get("mse")), (losses, losses.Huber(delta=2.0)),
    (losses, losses.get(scaled_mse)),
    (metrics, metrics.MeanAbsoluteError()), (metrics, metrics.MeanMetricWrapper(scaled_mse)),
    (initializers, initializers.GlorotUniform()), (initializers, initializers.Constant(0.5)),
    (regularizers, regularizers.L2(0.1)), (regularizers, regularizers.L1L2(0.1, 0.2)),
])
def test_one_serialized_shape_for_every_kind(module, obj):
    entry = module.serialize(obj)
    assert set(entry) <= {"class_name", "config", "options"}
    back = module.deserialize(json.loads(json.dumps(entry)))
    assert type(back) is type(obj)
    assert module.serialize(back) == entry


def test_keras_shaped_entries_and_earlier_shapes_are_read():
    keras_entry = {"module": "keras.initializers", "class_name": "GlorotUniform",
                   "config": {"seed": None}, "registered_name": None}
    assert type(initializers.deserialize(keras_entry)) is initializers.GlorotUniform
    assert activations.get({"module": "builtins", "class_name": "function", "config": "relu",
                            "registered_name": "relu"}) is activations.relu
    old_loss = losses.deserialize({"function": "mse", "config": {"name": "mse"}})
    assert type(old_loss) is losses.LossFunctionWrapper and old_loss.name == "mse"
    assert type(regularizers.deserialize({"class_name": "l2", "config": {"l2": 0.5}})) \
        is regularizers.L2
    with pytest.raises(ValueError, match="Unknown loss 'Nope'.*custom_objects"):
        losses.deserialize({"class_name": "Nope", "config": {}})


def _dense_entry(data):
    return next(e for e in data["config"]["layers"] if e.get("class_name") == "Dense")


@pytest.mark.parametrize("edit, message", [
    (lambda d: _dense_entry(d)["config"]["dtype"].update(class_name=[1, 2]),
     r"config.json.*field 'config.layers\[1\].config.dtype.class_name' should be a string"),
    (lambda d: _dense_entry(d)["config"]["kernel_initializer"].update(module=7),
     r"config.json.*field 'config.layers\[1\].config.kernel_initializer.module'"),
    (lambda d: d["config"].update(outputs={"out": []}),
     r"an empty list where a tensor reference \{\"tensor\": \[key, output\]\} was expected"),
])
def test_damaged_config_fields_name_the_field_not_pythons_words(saved, edit, message):
    _edit_json(saved, "config.json", edit)
    with pytest.raises(ValueError, match=message):
        gn.load_model(saved)
