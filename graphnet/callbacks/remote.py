"""Keras RemoteMonitor: each epoch's logs posted to a server as JSON."""
import json
import urllib.error
import urllib.parse
import urllib.request
import warnings

import numpy as np

from .base import Callback


class RemoteMonitor(Callback):
    """Keras RemoteMonitor(root="http://localhost:9000", path="/publish/epoch/end/",
    field="data", headers=None, send_as_json=False): after each epoch, POST
    `{"epoch": epoch, **logs}` to `root + path`, as a JSON body (`send_as_json=True`) or as
    the form field `field` holding that JSON (Keras's default).

    Sent with the standard library (Keras uses `requests`; the request is the same). A
    server that cannot be reached gives a warning, as in Keras, and training goes on;
    `timeout` (seconds, not in Keras, which waits without a bound) limits each post.

    >>> from graphnet import callbacks
    >>> monitor = callbacks.RemoteMonitor(root="http://localhost:9000", send_as_json=True)
    >>> monitor.root + monitor.path
    'http://localhost:9000/publish/epoch/end/'
    """

    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data",
                 headers=None, send_as_json=False, timeout=10.0):
        super().__init__()
        self.root, self.path, self.field = root, path, field
        self.headers, self.send_as_json, self.timeout = headers, send_as_json, timeout

    def on_epoch_end(self, epoch, logs=None):
        send = {"epoch": epoch}
        for key, value in (logs or {}).items():
            send[key] = value.item() if isinstance(value, (np.ndarray, np.generic)) else value
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(send).encode("utf-8")
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(send)}).encode("ascii")
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        request = urllib.request.Request(self.root + self.path, data=body, headers=headers,
                                         method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError, ValueError):
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root}",
                          stacklevel=2)
