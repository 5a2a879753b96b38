"""Save and load of a ~10 M-parameter model against NumPy reading and writing the same arrays.

Implementations are interleaved in one process, the order rotated every repeat, and each
ratio is taken within one repeat. Files sit in the page cache for every reader alike.
Run from the repository root:  python bench/bench_save.py [--repeats 7] [--width 2048]
"""
import argparse
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import jax  # noqa: E402
import numpy as np  # noqa: E402

import graphnet as gn  # noqa: E402
from graphnet import layers  # noqa: E402
from graphnet.saving.archive import read_archive  # noqa: E402


def build(width: int):
    """Input(w/2) -> Dense(w) -> Dense(w) -> Dense(w/2) -> Dense(w/2) -> Dense(w/4): w=2048
    gives 9.97 M parameters in 10 arrays."""
    x = gn.Input((width // 2,))
    h = x
    for units in (width, width, width // 2, width // 2, width // 4):
        h = layers.Dense(units, activation="relu")(h)
    return gn.Model(x, h)


def timed(fn):
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--width", type=int, default=2048)
    args = parser.parse_args()

    gn.utils.set_random_seed(0)
    model = build(args.width)
    arrays = [np.asarray(w) for w in model.get_weights()]
    nbytes = sum(a.nbytes for a in arrays)
    print(f"model: {model.count_params():,} parameters, {len(arrays)} arrays, "
          f"{nbytes / 2**20:.1f} MiB; jax {jax.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.2f}")

    tmp = tempfile.mkdtemp(prefix="bench_save_")
    path = os.path.join(tmp, "model.graphnet")
    npz = os.path.join(tmp, "arrays.npz")
    npy = [os.path.join(tmp, f"w{i}.npy") for i in range(len(arrays))]

    def save_graphnet():
        model.save(path)

    def save_npy():
        for name, a in zip(npy, arrays):
            np.save(name, a)

    def save_npz():
        np.savez(npz, *arrays)

    def load_graphnet():
        loaded = gn.load_model(path)
        jax.block_until_ready(loaded.params)

    def load_npy():
        return [np.load(name) for name in npy]

    def load_npz():
        with np.load(npz) as f:
            return [f[k] for k in f.files]

    def verify_only():
        read_archive(path)

    saves = {"graphnet save": save_graphnet, "np.save .npy": save_npy, "np.savez": save_npz}
    loads = {"load_model": load_graphnet, "np.load .npy": load_npy, "np.load .npz": load_npz,
             "read+verify only": verify_only}
    for fn in (*saves.values(), *loads.values()):          # warm-up: imports, first compiles
        fn()
    x = np.random.default_rng(0).normal(size=(4, args.width // 2)).astype("float32")
    assert np.array_equal(gn.load_model(path).predict(x), model.predict(x))

    times = {name: [] for name in (*saves, *loads)}
    for r in range(args.repeats):
        for group in (saves, loads):
            names = list(group)
            names = names[r % len(names):] + names[:r % len(names)]
            for name in names:
                times[name].append(timed(group[name]))

    def summary(values):
        return f"{statistics.median(values):.3f} ({min(values):.3f}-{max(values):.3f})"

    print(f"\nmedian (min-max) over {args.repeats} repeats")
    print("| operation | ms | ratio to np .npy | ratio to np .npz |")
    print("|---|---|---|---|")
    for name, npy_name, npz_name in (
            ("graphnet save", "np.save .npy", "np.savez"),
            ("np.save .npy", "np.save .npy", "np.savez"),
            ("np.savez", "np.save .npy", "np.savez"),
            ("load_model", "np.load .npy", "np.load .npz"),
            ("read+verify only", "np.load .npy", "np.load .npz"),
            ("np.load .npy", "np.load .npy", "np.load .npz"),
            ("np.load .npz", "np.load .npy", "np.load .npz")):
        ms = [t * 1e3 for t in times[name]]
        to_npy = [a / b for a, b in zip(times[name], times[npy_name])]
        to_npz = [a / b for a, b in zip(times[name], times[npz_name])]
        print(f"| {name} | {summary(ms)} | {summary(to_npy)} | {summary(to_npz)} |")
    for name in os.listdir(tmp):
        os.unlink(os.path.join(tmp, name))
    os.rmdir(tmp)


if __name__ == "__main__":
    main()
