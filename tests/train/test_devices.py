"""compile(devices=...): data-parallel fit, evaluate and predict equal one device's.

The checks live in devices_checks.py and run in ONE subprocess with 4 forced CPU devices
(this process already has 2 from conftest); each prints PASS <name> and any failure makes
the subprocess fail with its traceback."""
import os
import subprocess
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
CHECKS = ["all_devices", "params_ordinary", "two_of_four", "mesh", "shuffled_and_compiled_once",
          "batch_size_not_divisible", "iterable_and_single_batches", "compile_errors"]


@pytest.mark.slow
def test_data_parallel_equals_one_device():
    flags = os.environ["XLA_FLAGS"].replace("device_count=2", "device_count=4")  # conftest's
    env = dict(os.environ, XLA_FLAGS=flags, JAX_PLATFORMS="cpu")
    done = subprocess.run([sys.executable, os.path.join(HERE, "devices_checks.py")], env=env,
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-6000:]
    passed = [line.split()[1] for line in done.stdout.splitlines() if line.startswith("PASS ")]
    assert passed == CHECKS, done.stdout


def test_devices_errors_in_this_process():
    """Wrong devices= fail at compile, in the main process too (2 devices here)."""
    import jax
    import graphnet as gn
    from graphnet import layers
    inp = gn.Input((3,))
    model = gn.Model(inp, layers.Dense(1)(inp))
    with pytest.raises(ValueError, match="devices"):
        model.compile(loss="mse", devices="everything")
    with pytest.raises(ValueError, match="twice"):
        model.compile(loss="mse", devices=[jax.devices()[0]] * 2)
    model.compile(loss="mse", devices="all")
    with pytest.raises(ValueError, match="multiple of 2"):
        model.fit(jax.numpy.ones((8, 3)), jax.numpy.ones((8, 1)), batch_size=3, verbose=0)


@pytest.mark.slow
def test_multihost_simulation_on_localhost():
    """examples/multihost_localhost.py: 2 processes x 2 CPU devices through
    jax.distributed (gloo), each feeding half the samples, end with one device's weights."""
    import socket
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    root = os.path.dirname(os.path.dirname(HERE))
    env = dict(os.environ, GRAPHNET_EXAMPLE_PORT=str(port))     # conftest's compile flags kept
    done = subprocess.run([sys.executable, os.path.join(root, "examples", "multihost_localhost.py")],
                          env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-4000:]
    assert "OK: 2 processes x 2 devices match one device" in done.stdout
