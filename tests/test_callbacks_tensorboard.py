"""TensorBoard: the event files are read back record by record (TFRecord framing, Event
protos) and hold Keras's tags, steps and values, the histograms and the model graph."""
import doctest
import importlib.util
import os
import struct
import sys

import numpy as np
import pytest

import graphnet as gn
from graphnet import callbacks, layers

needs_tensorboardx = pytest.mark.skipif(importlib.util.find_spec("tensorboardX") is None,
                                        reason="the optional package tensorboardX")


def read_events(folder):
    """Every Event of the event files in `folder`, in order."""
    from tensorboardX.proto import event_pb2
    events = []
    for name in sorted(os.listdir(folder)):
        data = open(os.path.join(folder, name), "rb").read()
        at = 0
        while at < len(data):
            (length,) = struct.unpack("<Q", data[at:at + 8])
            events.append(event_pb2.Event.FromString(data[at + 12:at + 12 + length]))
            at += 12 + length + 4          # length, its crc, the record, its crc
    return events


def scalars(events):
    found = {}
    for event in events:
        for value in event.summary.value:
            if value.HasField("simple_value"):
                found.setdefault(value.tag, []).append((event.step, value.simple_value))
    return found


@needs_tensorboardx
def test_scalars_histograms_and_graph(tmp_path):
    from tensorboardX.proto import graph_pb2
    rng = np.random.default_rng(0)
    x = rng.normal(size=(12, 3)).astype("float32")
    y = rng.normal(size=(12, 1)).astype("float32")
    inputs = gn.Input((3,), name="input_layer")
    model = gn.Model(inputs, layers.Dense(1, name="out")(layers.Dense(4, name="hidden")(inputs)))
    model.compile(gn.optimizers.SGD(0.01), loss="mse")
    board = callbacks.TensorBoard(tmp_path, histogram_freq=1, update_freq=2)
    history = model.fit(x, y, epochs=2, batch_size=4, shuffle=False, verbose=0,
                        validation_data=(x[:4], y[:4]), callbacks=[board])

    train = read_events(tmp_path / "train")
    found = scalars(train)
    np.testing.assert_allclose([v for _, v in found["epoch_loss"]], history.history["loss"],
                               rtol=1e-6)
    assert [s for s, _ in found["epoch_loss"]] == [0, 1]
    assert [s for s, _ in found["epoch_learning_rate"]] == [0, 1]
    assert [s for s, _ in found["batch_loss"]] == [2, 4, 6]       # 6 batches, every 2nd
    histograms = {v.tag for e in train for v in e.summary.value if v.HasField("histo")}
    assert histograms == {"hidden/kernel/histogram", "hidden/bias/histogram",
                          "out/kernel/histogram", "out/bias/histogram"}
    kernel = [v.histo for e in train for v in e.summary.value
              if v.tag == "out/kernel/histogram"][-1]
    w = model.get_layer("out").get_weights()[0]
    assert kernel.num == w.size and np.isclose(kernel.sum, w.sum(), atol=1e-5)
    graph = [graph_pb2.GraphDef.FromString(e.graph_def) for e in train if e.graph_def][0]
    assert [(n.name, n.op, list(n.input)) for n in graph.node] == [
        ("input_layer", "InputLayer", []), ("hidden", "Dense", ["input_layer"]),
        ("out", "Dense", ["hidden"])]

    validation = scalars(read_events(tmp_path / "validation"))
    np.testing.assert_allclose([v for _, v in validation["epoch_loss"]],
                               history.history["val_loss"], rtol=1e-6)
    assert [s for s, _ in validation["evaluation_loss_vs_iterations"]] == [3, 6]


@needs_tensorboardx
def test_unsupported_arguments_are_named():
    with pytest.raises(NotImplementedError, match="profile_batch"):
        callbacks.TensorBoard(profile_batch=2)
    with pytest.raises(NotImplementedError, match="write_images"):
        callbacks.TensorBoard(write_images=True)
    with pytest.raises(ValueError, match="update_freq must be"):
        callbacks.TensorBoard(update_freq="sometimes")


def test_without_tensorboardx_the_error_names_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)     # import fails as if absent
    with pytest.raises(ImportError, match="pip install tensorboardX"):
        callbacks.TensorBoard()


@needs_tensorboardx
def test_docstring_example_runs():
    from graphnet.callbacks import tensorboard
    failed, attempted = doctest.testmod(tensorboard)
    assert attempted and not failed
