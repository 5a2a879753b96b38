"""Data-parallel fit (compile(devices="all")) on forced host devices: facts, not speed.

Forced CPU devices share the same cores, so a time ratio would say nothing. This prints:
  - compiles: XLA compilations (jax.monitoring events) after epoch 1 and after more epochs
    (the data-parallel step must compile once per batch shape, like the one-device step);
  - host transfers per epoch, counted from jax.transfer_guard("log"), for epochs of S and
    8*S steps, one dispatch and K-step dispatches: a constant per DISPATCH (its few scalar
    arguments: start, count, offset) and nothing per step;
  - that an epoch runs under jax.transfer_guard_device_to_host("disallow") (no implicit
    read-back; the epoch's logs are read once by an explicit device_get).

    python bench/bench_devices.py                 # 4 devices, MLP 64 -> 256 -> 10
    python bench/bench_devices.py --devices 8 --steps 16
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile

parser = argparse.ArgumentParser()
parser.add_argument("--devices", type=int, default=4)
parser.add_argument("--steps", type=int, default=8, help="steps of the short epoch")
parser.add_argument("--batch", type=int, default=64)
args = parser.parse_args()
os.environ["XLA_FLAGS"] = f"--xla_force_host_platform_device_count={args.devices}"
os.environ.setdefault("JAX_PLATFORMS", "cpu")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import jax  # noqa: E402
import numpy as np  # noqa: E402

import graphnet as gn  # noqa: E402
from graphnet import layers  # noqa: E402


_COMPILES = [0]


def _count_compile(event, duration, **kwargs):
    if event == "/jax/core/compile/backend_compile_duration":
        _COMPILES[0] += 1


def compiles() -> int:
    """XLA compilations so far (jax.monitoring's public compile events)."""
    return _COMPILES[0]


jax.monitoring.register_event_duration_secs_listener(_count_compile)


def model_for(spe):
    gn.utils.set_random_seed(0)
    inp = gn.Input((64,))
    h = layers.Dense(256, activation="relu")(inp)
    model = gn.Model(inp, layers.Dense(10, activation="softmax")(h))
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"],
                  devices="all", steps_per_execution=spe)
    return model


def data(steps):
    rng = np.random.default_rng(0)
    n = steps * args.batch
    return (rng.normal(size=(n, 64)).astype("float32"),
            np.eye(10, dtype="float32")[rng.integers(0, 10, n)])


def count_transfers(fn):
    """(host-to-device, device-to-host) transfers logged by jax.transfer_guard("log") while
    fn runs; the log is written by XLA's C++ to file descriptor 2, so capture that."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+") as log:
        os.dup2(log.fileno(), 2)
        try:
            with jax.transfer_guard("log"):
                fn()
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        log.seek(0)
        text = log.read()
    return text.count("host-to-device transfer"), text.count("device-to-host transfer")


def main():
    print(f"{len(jax.devices())} devices: {jax.devices()}")
    print(f"MLP 64 -> 256 relu -> 10 softmax, Adam, batch {args.batch} "
          f"({args.batch // len(jax.devices())} per device), shuffle on\n")
    print("| steps per epoch | steps per dispatch | dispatches | compiles after epoch 1 | "
          "after 4 more | host->device per epoch | device->host per epoch |")
    print("|---|---|---|---|---|---|---|")
    for steps in (args.steps, 8 * args.steps):
        x, y = data(steps)
        for spe in (None, 4):
            model = model_for(spe)
            model.fit(x, y, batch_size=args.batch, epochs=1, verbose=0)
            first = compiles()
            model.fit(x, y, batch_size=args.batch, epochs=4, verbose=0)
            again = compiles()
            h2d, d2h = count_transfers(
                lambda: model.fit(x, y, batch_size=args.batch, epochs=1, verbose=0))
            with jax.transfer_guard_device_to_host("disallow"):
                model.fit(x, y, batch_size=args.batch, epochs=1, verbose=0)
            k = steps if spe is None else spe
            print(f"| {steps} | {k} ({'auto' if spe is None else spe}) | {-(-steps // k)} | "
                  f"{first} | {again} | {h2d} | {d2h} |")
    print("\nAn epoch also ran under jax.transfer_guard_device_to_host('disallow') each time.")
    print("host->device counts include placing the epoch's data and replicating the weights at "
          "fit's start (per fit call) and each dispatch's scalar arguments, logged once per "
          "device; they do not grow with the steps inside a dispatch.")


if __name__ == "__main__":
    main()
