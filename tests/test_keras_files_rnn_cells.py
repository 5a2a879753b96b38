"""RNN(cell), RNN of StackedRNNCells and ConvLSTM go through Keras 3 files both ways: the
cell is a serialized layer in the config, its weights sit under `cell/` (a stack's under
`cell/cells/<cell>`), as Keras writes them."""
import json
import zipfile

import numpy as np
import pytest

import graphnet as gn

keras = pytest.importorskip("keras")
h5py = pytest.importorskip("h5py")


def build(lib):
    L = lib.layers
    steps, grid = lib.Input((3, 2)), lib.Input((3, 4, 2))
    stack = L.StackedRNNCells([L.LSTMCell(3), L.LSTMCell(2), L.GRUCell(2)])
    return lib.Model([steps, grid], [L.RNN(L.LSTMCell(3))(steps), L.RNN(stack)(steps),
                                     L.ConvLSTM1D(2, 3, padding="same")(grid)])


def predictions(model, x):
    return [np.asarray(y) for y in model.predict(x, verbose=0)]


@pytest.mark.slow
def test_rnn_cells_and_conv_lstm_in_keras_files_both_ways(tmp_path):
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(2, 3, 2)).astype("float32"),
         rng.normal(size=(2, 3, 4, 2)).astype("float32")]
    theirs = build(keras)                      # Keras's own weights, Keras's file
    theirs.save(tmp_path / "theirs.keras")
    ours = gn.load_model(tmp_path / "theirs.keras")
    want = predictions(theirs, x)
    for got, expected in zip(predictions(ours, x), want):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)

    ours.save(tmp_path / "ours.keras")         # graphnet's file, read by Keras
    with zipfile.ZipFile(tmp_path / "ours.keras") as zf:
        config = json.loads(zf.read("config.json"))
        zf.extract("model.weights.h5", tmp_path)
    cell = next(entry for entry in config["config"]["layers"]
                if entry["class_name"] == "RNN")["config"]["cell"]
    assert (cell["module"], cell["class_name"]) == ("keras.layers", "LSTMCell")
    with h5py.File(tmp_path / "model.weights.h5") as f:
        names = set()
        f.visit(names.add)
    assert {"layers/rnn/cell/vars/0", "layers/rnn_1/cell/cells/lstm_cell_1/vars/0",
            "layers/rnn_1/cell/cells/gru_cell/vars/2",
            "layers/conv_lstm1d/cell/vars/0"} <= names
    again = keras.saving.load_model(tmp_path / "ours.keras")
    for got, expected in zip(predictions(again, x), want):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
