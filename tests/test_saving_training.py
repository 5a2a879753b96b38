"""Saving meets training: resume exactly, checkpoints, and the history picture."""
import zipfile

import numpy as np
import pytest

import graphnet as gn
from graphnet import callbacks, layers


def two_head_model():
    inputs = gn.Input((8,), name="x")
    trunk = layers.Dense(16, activation="relu", name="trunk")(inputs)
    cls = layers.Dense(3, activation="softmax", name="cls")(trunk)
    reg = layers.Dense(1, name="reg")(trunk)
    model = gn.Model(inputs, {"cls": cls, "reg": reg})
    model.compile(optimizer="adam", loss={"cls": "sparse_categorical_crossentropy", "reg": "mse"},
                  metrics={"cls": ["accuracy"]}, loss_weights={"cls": 2.0, "reg": 1.0})
    return model


def data(n=64):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(n, 8)).astype("float32")
    return x, {"cls": (x[:, 0] > 0).astype("int32") + (x[:, 1] > 0), "reg": x[:, :1] * 2}


def test_saved_and_reloaded_model_trains_on_exactly_like_the_original(tmp_path):
    x, y = data()
    model = two_head_model()
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    model.save(tmp_path / "m.graphnet")
    loaded = gn.load_model(tmp_path / "m.graphnet")
    np.testing.assert_array_equal(loaded.predict(x)["cls"], model.predict(x)["cls"])
    h1 = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    h2 = loaded.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert h1.history.keys() == h2.history.keys()
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-6)


def test_without_the_optimizer_a_reload_restarts_adam(tmp_path):
    """Adam's moments are part of where training stands: leaving them out must show."""
    x, y = data()
    model = two_head_model()
    model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    model.save(tmp_path / "m.graphnet", include_optimizer=False)
    loaded = gn.load_model(tmp_path / "m.graphnet")
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    loaded.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    assert not np.allclose(model.get_weights()[0], loaded.get_weights()[0], rtol=1e-6)


def test_model_checkpoint_keeps_the_best_epoch(tmp_path):
    x, y = data()
    model = two_head_model()
    seen = []
    record = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: seen.append((logs["val_loss"], model.predict(x)["reg"])))
    path = tmp_path / "best.graphnet"
    model.fit(x, y, batch_size=16, epochs=4, validation_split=0.25, verbose=0,
              callbacks=[record, callbacks.ModelCheckpoint(path, save_best_only=True)])
    best_loss, best_prediction = min(seen, key=lambda item: item[0])
    np.testing.assert_allclose(gn.load_model(path).predict(x)["reg"], best_prediction, rtol=1e-6)


def test_model_checkpoint_formats_epoch_and_weights_only(tmp_path):
    x, y = data()
    model = two_head_model()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(tmp_path / "w-{epoch:02d}.graphnet",
                                                   save_weights_only=True)])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["w-01.graphnet", "w-02.graphnet"]
    fresh = two_head_model()
    fresh.load_weights(tmp_path / "w-02.graphnet")
    np.testing.assert_array_equal(fresh.predict(x)["reg"], model.predict(x)["reg"])


@pytest.mark.parametrize("name, weights_only, members", [
    ("m.keras", False, {"config.json", "metadata.json", "model.weights.h5"}),
    ("m.graphnet", False, {"manifest.json", "config.json", "weights.json"}),
    ("m.weights.h5", True, None),
])
def test_model_checkpoint_writes_the_format_its_ending_names(tmp_path, name, weights_only,
                                                             members):
    x, y = data()
    model = two_head_model()
    path = tmp_path / name
    model.fit(x, y, batch_size=16, epochs=1, verbose=0,
              callbacks=[callbacks.ModelCheckpoint(path, save_weights_only=weights_only)])
    if members is None:
        assert path.read_bytes()[:8] == b"\x89HDF\r\n\x1a\n"
        fresh = two_head_model()
        fresh.load_weights(path)
    else:
        with zipfile.ZipFile(path) as zf:
            assert members <= set(zf.namelist())
        fresh = gn.load_model(path)
    np.testing.assert_array_equal(fresh.predict(x)["reg"], model.predict(x)["reg"])


@pytest.mark.parametrize("name, weights_only, message", [
    ("m.pkl", False, r"must end in '\.keras'.*received '.*m\.pkl'"),
    ("m.h5", False, r"must end in '\.keras'.*received '.*m\.h5'"),
    ("m.weights.h5", False, r"must end in '\.keras'.*save_weights_only=True"),
    ("m.keras", True, r"save_weights_only=True .*'\.weights\.h5'.*received '.*m\.keras'"),
    ("w-{epoch:02d}.weights", True, r"save_weights_only=True .*'\.weights\.h5'"),
])
def test_model_checkpoint_refuses_another_ending_at_construction(tmp_path, name, weights_only,
                                                                 message):
    with pytest.raises(ValueError, match=message):
        callbacks.ModelCheckpoint(tmp_path / name, save_weights_only=weights_only)


def test_model_checkpoint_names_a_missing_log_key(tmp_path):
    x, y = data()
    model = two_head_model()
    with pytest.raises(KeyError, match="val_accuracy"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[callbacks.ModelCheckpoint(str(tmp_path / "{val_accuracy}.graphnet"))])


def test_history_plot_writes_a_png(tmp_path):
    x, y = data()
    history = two_head_model().fit(x, y, epochs=2, validation_split=0.25, verbose=0)
    history.plot(tmp_path / "h.png")
    assert (tmp_path / "h.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
