"""Hostile files: weights come only from the file's own bytes, and a load costs what the
file's size allows."""
import hashlib
import io
import json
import zipfile

import h5py
import numpy as np
import pytest

import graphnet as gn
from graphnet import layers

KERNEL = "layers/dense/vars/0"


def small_model():
    inputs = gn.Input((4,), name="x")
    return gn.Model(inputs, layers.Dense(3, name="d")(inputs))


def edit_h5(blob: bytes, edit) -> bytes:
    buffer = io.BytesIO(blob)
    with h5py.File(buffer, "r+") as h5:
        edit(h5)
    return buffer.getvalue()


def rezip(path, edit_weights=None, edit_config=None):
    """Rewrites a .keras file with its weights HDF5 and/or config edited."""
    with zipfile.ZipFile(path) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    if edit_weights is not None:
        files["model.weights.h5"] = edit_h5(files["model.weights.h5"], edit_weights)
    if edit_config is not None:
        config = json.loads(files["config.json"])
        edit_config(config)
        files["config.json"] = json.dumps(config).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, blob in files.items():
            zf.writestr(name, blob)


@pytest.fixture
def secret(tmp_path):
    """Another file on the machine, 48 bytes: 12 float32 that a Dense(3) kernel would take."""
    path = tmp_path / "secret.bin"
    path.write_bytes(np.arange(12, dtype=np.float32).tobytes())
    return path


def external_kernel(secret):
    def edit(h5):
        del h5[KERNEL]
        h5.create_dataset(KERNEL, shape=(4, 3), dtype="float32",
                          external=[(str(secret), 0, 48)])
    return edit


def virtual_kernel(tmp_path):
    source = tmp_path / "source.h5"
    with h5py.File(source, "w") as f:
        f.create_dataset("k", data=np.ones((4, 3), np.float32))

    def edit(h5):
        del h5[KERNEL]
        layout = h5py.VirtualLayout(shape=(4, 3), dtype="float32")
        layout[:] = h5py.VirtualSource(str(source), "k", shape=(4, 3))
        h5.create_virtual_dataset(KERNEL, layout)
    return edit


def external_link(tmp_path):
    other = tmp_path / "other.h5"
    with h5py.File(other, "w") as f:
        f.create_dataset("vars/0", data=np.ones((4, 3), np.float32))
        f.create_dataset("vars/1", data=np.ones((3,), np.float32))

    def edit(h5):
        del h5["layers/dense/vars"]
        h5["layers/dense/vars"] = h5py.ExternalLink(str(other), "/vars")
    return edit


def link_loop(h5):
    del h5["layers/dense/vars"]
    h5["layers/dense/vars"] = h5py.SoftLink("/layers/dense/vars")


def cases(tmp_path, secret):
    return {"external storage": (external_kernel(secret), f"'{KERNEL}'.*external storage"),
            "virtual": (virtual_kernel(tmp_path), f"'{KERNEL}' is a virtual dataset"),
            "external link": (external_link(tmp_path), "'layers/dense/vars' is an external link"),
            "link loop": (link_loop, "'layers/dense/vars' is a soft link")}


@pytest.mark.parametrize("case", ["external storage", "virtual", "external link", "link loop"])
def test_weights_from_outside_the_file_are_refused_by_load_weights(tmp_path, secret, case):
    model = small_model()
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    edit, message = cases(tmp_path, secret)[case]
    path.write_bytes(edit_h5(path.read_bytes(), edit))
    before = model.get_weights()
    with pytest.raises(ValueError, match=message):
        model.load_weights(path)
    for old, now in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, now)


@pytest.mark.parametrize("case", ["external storage", "virtual", "external link", "link loop"])
def test_weights_from_outside_the_file_are_refused_by_load_model(tmp_path, secret, case):
    path = tmp_path / "m.keras"
    small_model().save(path)
    edit, message = cases(tmp_path, secret)[case]
    rezip(path, edit_weights=edit)
    with pytest.raises(ValueError, match=message):
        gn.load_model(path)


def test_compressed_dataset_expanding_past_64x_is_refused(tmp_path):
    inputs = gn.Input((2000,), name="x")
    model = gn.Model(inputs, layers.Dense(500, name="d")(inputs))
    path = tmp_path / "m.keras"
    model.save(path)

    def zeros(h5):
        del h5[KERNEL]
        h5.create_dataset(KERNEL, data=np.zeros((2000, 500), np.float32), compression="gzip",
                          chunks=(500, 500))
    rezip(path, edit_weights=zeros)
    with pytest.raises(ValueError, match=rf"'{KERNEL}' would expand to 4000000 bytes from "
                                         r"\d+ stored bytes, more than 64x"):
        gn.load_model(path)


def test_unwritten_chunks_count_as_nothing_stored(tmp_path):
    model = small_model()
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)

    def unwritten(h5):
        del h5[KERNEL]
        h5.create_dataset(KERNEL, shape=(4, 3), dtype="float32", chunks=(2, 3))
    path.write_bytes(edit_h5(path.read_bytes(), unwritten))
    with pytest.raises(ValueError, match=rf"'{KERNEL}' would expand to 48 bytes from 0 stored"):
        model.load_weights(path)


def test_an_uncompressed_dataset_loads(tmp_path):
    """The bound leaves Keras's own layout alone: plain and chunked uncompressed datasets."""
    model = small_model()
    path = tmp_path / "m.weights.h5"
    model.save_weights(path)
    kernel = np.arange(12, dtype=np.float32).reshape(4, 3)

    def chunked(h5):
        del h5[KERNEL]
        h5.create_dataset(KERNEL, data=kernel, chunks=(2, 3))
    path.write_bytes(edit_h5(path.read_bytes(), chunked))
    model.load_weights(path)
    np.testing.assert_array_equal(model.get_weights()[0], kernel)


def huge_units(config):
    for layer in config["config"]["layers"]:
        if layer["class_name"] == "InputLayer":
            layer["config"]["batch_shape"] = [None, 10 ** 6]
        if layer["class_name"] == "Dense":
            layer["config"]["units"] = 10 ** 7


def test_keras_config_declaring_more_weights_than_the_file_holds_is_refused(tmp_path):
    path = tmp_path / "m.keras"
    small_model().save(path)
    rezip(path, edit_config=huge_units)
    with pytest.raises(ValueError, match=r"declares weights of at least 40000000\d+ bytes .*"
                                         r"\(1000000, 10000000\), float32.*more than .*"
                                         r"model\.weights\.h5"):
        gn.load_model(path)                      # a refusal, not a 40 TB allocation


def edit_graphnet_config(path, edit):
    """Rewrites a .graphnet file with its config edited and a manifest that matches it."""
    with zipfile.ZipFile(path) as zf:
        files = {name: zf.read(name) for name in zf.namelist()}
    config = json.loads(files["config.json"])
    edit(config)
    files["config.json"] = json.dumps(config).encode()
    manifest = json.loads(files["manifest.json"])
    manifest["members"] = {name: {"sha256": hashlib.sha256(blob).hexdigest(), "size": len(blob)}
                           for name, blob in files.items() if name != "manifest.json"}
    files["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(path, "w") as zf:
        for name, blob in files.items():
            zf.writestr(name, blob)


def test_graphnet_config_declaring_more_weights_than_the_file_holds_is_refused(tmp_path):
    path = tmp_path / "m.graphnet"
    small_model().save(path)

    def huge(config):
        for entry in config["config"]["layers"]:
            if entry.get("class_name") == "Dense":
                entry["config"]["units"] = 10 ** 7
            if entry.get("class_name") == "InputLayer":
                entry["config"]["shape"] = [10 ** 6]
    edit_graphnet_config(path, huge)
    with pytest.raises(ValueError, match=r"\(1000000, 10000000\), float32.*more than its \d+ "
                                         r"bytes of weights"):
        gn.load_model(path)


# ---- a damaged compile config is refused by the load, not by the first fit -------------------
def compiled_model():
    model = small_model()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    return model


def set_metric(value):
    def edit(config):
        config["compile_config"]["metrics"] = [value]
    return edit


def set_clipnorm(config):
    config["compile_config"]["optimizer"]["config"]["clipnorm"] = "zz"


@pytest.mark.parametrize("ending", [".graphnet", ".keras"])
@pytest.mark.parametrize("edit, message", [
    (set_metric("zz"), r"'compile_config.metrics\[0\]' is not a metric: Unknown metric 'zz'"),
    (set_metric(7), r"'compile_config.metrics\[0\]' is not a metric: A metric must be"),
    (set_metric({}), r"'compile_config.metrics\[0\]' is not a metric: A saved metric is a dict"),
    (set_clipnorm, r"config.json' field 'compile_config.*could not convert string to float"),
])
def test_a_damaged_compile_config_is_refused_at_load(tmp_path, ending, edit, message):
    path = tmp_path / f"m{ending}"
    compiled_model().save(path)
    if ending == ".keras":
        rezip(path, edit_config=edit)
    else:
        edit_graphnet_config(path, edit)
    with pytest.raises(ValueError, match=message):
        gn.load_model(path)
    assert gn.load_model(path, compile=False).count_params() == 15


# ---- a damaged .keras config names the member and the field ---------------------------------
def dense_entry(config):
    return next(layer for layer in config["config"]["layers"] if layer["class_name"] == "Dense")


@pytest.mark.parametrize("edit, field", [
    (lambda c: dense_entry(c).update(inbound_nodes="zz"), r"config.layers\[1\].inbound_nodes"),
    (lambda c: dense_entry(c)["inbound_nodes"].__setitem__(0, 7),
     r"config.layers\[1\].inbound_nodes\[0\]"),
    (lambda c: dense_entry(c)["inbound_nodes"][0].update(kwargs=[1, 2]),
     r"config.layers\[1\].inbound_nodes\[0\].kwargs"),
    (lambda c: dense_entry(c)["config"]["kernel_initializer"].update(module=7),
     r"config.layers\[1\].config.kernel_initializer.module"),
    (lambda c: dense_entry(c).update(name=[1, 2]), r"config.layers\[1\].name"),
    (lambda c: dense_entry(c)["inbound_nodes"][0]["args"][0].update(config=None),
     r"config.layers\[1\].inbound_nodes\[0\].args\[0\].config"),
])
def test_a_damaged_keras_config_names_the_member_and_field(tmp_path, edit, field):
    path = tmp_path / "m.keras"
    small_model().save(path)
    rezip(path, edit_config=edit)
    with pytest.raises(ValueError, match=rf"member 'config.json' is damaged: field '{field}'"):
        gn.load_model(path)
