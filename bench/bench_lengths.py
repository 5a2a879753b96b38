"""Compiles and memory when fit, evaluate and predict see data of many lengths.

python bench/bench_lengths.py [--lengths 150] [--batch-size 16] [--predict-only]

A small MLP (8 -> Dense 32 relu -> Dense 1) compiled once; then for each of `--lengths`
data lengths (100, 101, ...) one `fit` (shuffled, one epoch) and one `evaluate`, and
`predict` with each batch size 1 .. `--lengths`. Prints the XLA compiles counted through
jax.monitoring (per jitted function name) and the process's resident memory after 50, 100
and 150 lengths.
"""
import argparse
import collections
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def rss_mb() -> float:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", type=int, default=150)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--predict-only", action="store_true")
    args = parser.parse_args()

    import jax
    import numpy as np

    import graphnet as gn
    from graphnet import layers

    names = collections.Counter()

    def listen(event, duration, **kwargs):
        if event == "/jax/core/compile/backend_compile_duration":
            names[kwargs.get("fun_name", "")] += 1
    jax.monitoring.register_event_duration_secs_listener(listen)

    gn.utils.set_random_seed(0)
    inputs = gn.Input((8,))
    model = gn.Model(inputs, layers.Dense(1)(layers.Dense(32, activation="relu")(inputs)))
    model.compile(optimizer="adam", loss="mse")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(100 + args.lengths, 8)).astype("float32")
    y = rng.normal(size=(100 + args.lengths, 1)).astype("float32")
    model.fit(x[:100], y[:100], batch_size=args.batch_size, verbose=0)   # the first compiles
    model.evaluate(x[:100], y[:100], batch_size=args.batch_size, verbose=0)
    model.predict(x[:100], batch_size=args.batch_size, verbose=0)
    names.clear()
    start = rss_mb()
    print(f"after the first fit/evaluate/predict: {start:.0f} MB resident")
    for i in range(1, 0 if args.predict_only else args.lengths + 1):
        n = 100 + i
        model.fit(x[:n], y[:n], batch_size=args.batch_size, verbose=0)
        model.evaluate(x[:n], y[:n], batch_size=args.batch_size, verbose=0)
        if i % 50 == 0 or i == args.lengths:
            print(f"{i} lengths: {sum(names.values())} compiles, "
                  f"{rss_mb() - start:+.0f} MB resident")
    fit_names = dict(names)
    names.clear()
    for b in range(1, args.lengths + 1):
        model.predict(x[:100], batch_size=b, verbose=0)
    print(f"predict with batch sizes 1..{args.lengths}: {sum(names.values())} compiles, "
          f"{rss_mb() - start:+.0f} MB resident")
    print("fit/evaluate compiles by function:", dict(sorted(fit_names.items())))


if __name__ == "__main__":
    main()
