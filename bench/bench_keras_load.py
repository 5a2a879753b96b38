"""Load time of a ~10 M-parameter `.keras` file (written by Keras 3): graphnet's
`load_model` against Keras's own `keras.saving.load_model`, on the same file.

Both loaders are interleaved in one process, their order alternating every repeat; the
file sits in the page cache for both. Each load ends with the weights usable (graphnet:
jax arrays in the model; Keras: its variables). Run from the repository root:
    python bench/bench_keras_load.py [--repeats 5] [--width 2048]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import graphnet as gn  # noqa: E402


def build(width: int):
    """Input(w/2) -> Dense(w) -> Dense(w) -> Dense(w/2) -> Dense(w/2) -> Dense(w/4), as in
    bench_save.py: w=2048 gives 9.97 M parameters."""
    x = keras.Input((width // 2,))
    h = x
    for units in (width, width, width // 2, width // 2, width // 4):
        h = keras.layers.Dense(units, activation="relu")(h)
    return keras.Model(x, h)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--width", type=int, default=2048)
    args = parser.parse_args()

    model = build(args.width)
    path = os.path.join(tempfile.mkdtemp(prefix="bench_keras_"), "model.keras")
    model.save(path)
    print(f"model: {model.count_params():,} parameters; file {os.path.getsize(path) / 2**20:.1f} "
          f"MiB; keras {keras.__version__}, {os.cpu_count()} CPUs, load average "
          f"{os.getloadavg()[0]:.2f}")

    x = np.random.default_rng(0).normal(size=(2, args.width // 2)).astype("float32")
    np.testing.assert_allclose(gn.load_model(path).predict(x),
                               keras.saving.load_model(path).predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)

    def load_graphnet():
        loaded = gn.load_model(path)
        for w in loaded.get_weights()[:1]:
            np.asarray(w)

    def load_keras():
        loaded = keras.saving.load_model(path)
        for w in loaded.weights[:1]:
            np.asarray(w)

    times = {"graphnet": [], "keras": []}
    for repeat in range(args.repeats):
        order = [("graphnet", load_graphnet), ("keras", load_keras)]
        for name, fn in order if repeat % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    ratios = [k / g for g, k in zip(times["graphnet"], times["keras"])]
    for name, values in times.items():
        print(f"{name:9s} load_model: median {statistics.median(values) * 1e3:7.1f} ms "
              f"(min {min(values) * 1e3:.1f}, max {max(values) * 1e3:.1f})")
    print(f"keras / graphnet: median {statistics.median(ratios):.2f}x "
          f"(min {min(ratios):.2f}, max {max(ratios):.2f})")


if __name__ == "__main__":
    main()
