"""Multi-host data-parallel fit, simulated on one machine: 2 processes x 2 CPU devices.

Each process runs the SAME code after jax.distributed.initialize() and feeds only its own
half of the samples; compile(devices="all") then spans all 4 devices of both processes. The
parent checks that every process ends with the weights of a one-device run on all samples.

    python examples/multihost_localhost.py          # about 30 s on 2 cores
"""
import argparse
import os
import subprocess
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROCESSES, LOCAL_DEVICES, PORT = 2, 2, int(os.environ.get("GRAPHNET_EXAMPLE_PORT", "12765"))
rng = np.random.default_rng(0)
X = rng.normal(size=(64, 6)).astype("float32")
Y = (X @ np.linspace(-1, 1, 6, dtype="float32"))[:, None]


def train(devices, x, y):
    import graphnet as gn
    from graphnet import layers
    gn.utils.set_random_seed(0)
    inp = gn.Input((6,))
    model = gn.Model(inp, layers.Dense(1)(layers.Dense(8, activation="tanh")(inp)))
    model.compile(optimizer=gn.optimizers.SGD(0.1), loss="mse", devices=devices)
    # batch_size is the GLOBAL batch: 16 = 8 rows from each process, 4 per device.
    history = model.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    loss = model.evaluate(x, y, batch_size=16, verbose=0)
    return model, history.history["loss"], loss


def worker(pid):
    kept = [flag for flag in os.environ.get("XLA_FLAGS", "").split()    # yours, but the count
            if not flag.startswith("--xla_force_host_platform_device_count")]
    os.environ["XLA_FLAGS"] = " ".join(
        [*kept, f"--xla_force_host_platform_device_count={LOCAL_DEVICES}"])
    os.environ["JAX_PLATFORMS"] = "cpu"
    sys.path.insert(0, ROOT)
    import jax
    jax.config.update("jax_cpu_collectives_implementation", "gloo")   # CPU collectives
    jax.distributed.initialize(f"localhost:{PORT}", num_processes=PROCESSES, process_id=pid)
    assert len(jax.devices()) == PROCESSES * LOCAL_DEVICES
    rows = slice(pid * len(X) // PROCESSES, (pid + 1) * len(X) // PROCESSES)
    model, losses, loss = train("all", X[rows], Y[rows])   # this process's shard only
    np.save(os.environ["GRAPHNET_EXAMPLE_OUT"] + f"{pid}.npy",
            np.concatenate([np.asarray(w).ravel() for w in model.get_weights()]
                           + [np.asarray(losses + [loss], np.float32)]))
    jax.distributed.shutdown()


def main(argv=None):
    argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    import tempfile
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, GRAPHNET_EXAMPLE_OUT=os.path.join(tmp, "out"))
        procs = [subprocess.Popen([sys.executable, __file__, "--worker", str(i)], env=env)
                 for i in range(PROCESSES)]
        codes = [p.wait(timeout=300) for p in procs]
        if any(codes):
            sys.exit(f"a worker failed: exit codes {codes}")
        results = [np.load(os.path.join(tmp, f"out{i}.npy")) for i in range(PROCESSES)]
    os.environ["JAX_PLATFORMS"] = "cpu"
    sys.path.insert(0, ROOT)
    model, losses, loss = train(None, X, Y)           # one device, all samples
    expected = np.concatenate([np.asarray(w).ravel() for w in model.get_weights()]
                              + [np.asarray(losses + [loss], np.float32)])
    for i, got in enumerate(results):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6,
                                   err_msg=f"process {i} differs from one device")
    print(f"OK: {PROCESSES} processes x {LOCAL_DEVICES} devices match one device "
          f"(loss per epoch {losses}, evaluate {loss:.6f})")


if __name__ == "__main__":
    if sys.argv[1:2] == ["--worker"]:
        worker(int(sys.argv[2]))
    else:
        main()
