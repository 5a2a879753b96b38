"""RemoteMonitor posts each epoch's logs to a local HTTP server, in Keras's two forms."""
import doctest
import http.server
import json
import threading
import urllib.parse

import numpy as np
import pytest

import graphnet as gn
from graphnet import callbacks


class Recorder(http.server.BaseHTTPRequestHandler):
    received = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Recorder.received.append((self.path, self.headers["Content-Type"], body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    Recorder.received = []
    httpd = http.server.HTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_posts_each_epoch_as_a_form_field_or_as_json(server):
    x = np.ones((8, 2), "float32")
    y = np.zeros((8, 1), "float32")
    inputs = gn.Input((2,))
    model = gn.Model(inputs, gn.layers.Dense(1)(inputs))
    model.compile("sgd", loss="mse")
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0, callbacks=[
        callbacks.RemoteMonitor(root=server),
        callbacks.RemoteMonitor(root=server, path="/json", send_as_json=True,
                                headers={"X-Run": "1"})])
    form = [r for r in Recorder.received if r[0] == "/publish/epoch/end/"]
    as_json = [r for r in Recorder.received if r[0] == "/json"]
    assert len(form) == len(as_json) == 2
    for epoch, ((_, kind, body), (_, json_kind, json_body)) in enumerate(zip(form, as_json)):
        assert kind == "application/x-www-form-urlencoded"
        sent = json.loads(urllib.parse.parse_qs(body.decode())["data"][0])
        assert sent == json.loads(json_body) and json_kind == "application/json"
        assert sent["epoch"] == epoch
        assert sent["loss"] == pytest.approx(history.history["loss"][epoch], rel=1e-6)


def test_unreachable_server_warns_and_training_goes_on():
    monitor = callbacks.RemoteMonitor(root="http://127.0.0.1:9", timeout=2)
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor root server"):
        monitor.on_epoch_end(0, {"loss": np.float32(1.5)})


def test_docstring_example_runs():
    from graphnet.callbacks import remote
    failed, attempted = doctest.testmod(remote)
    assert attempted and not failed
