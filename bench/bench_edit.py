"""Time of one edit of a 200-layer model, and of the first predict after it.

An edit is a networkx change of a copy of the graph plus `Model.from_graph`; the layers a
call already made with the same arguments reuse that call's output specs, so only the
inserted layer infers shapes. The first predict of the new model includes its XLA compile.
Run from the repository root:  python bench/bench_edit.py [--layers 200] [--width 64] [--repeats 7]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np  # noqa: E402

import graphnet as gn  # noqa: E402
from graphnet import edit, layers  # noqa: E402


def build(n_layers: int, width: int):
    x = gn.Input((width,), name="x")
    h = x
    for i in range(n_layers):
        h = layers.Dense(width, activation="relu", name=f"dense_{i}")(h)
    return gn.Model(x, h, name="deep")


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=200)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    t_build, model = timed(lambda: build(args.layers, args.width))
    x = np.random.default_rng(0).normal(size=(32, args.width)).astype("float32")
    model.predict(x)
    middle = f"dense_{args.layers // 2}"
    rows = {"insert_after (middle)": [], "first predict after it": [], "second predict": [],
            "remove (middle)": [], "Model.from_graph(graph.copy())": []}
    for r in range(args.repeats):
        t, edited = timed(lambda: edit.insert_after(
            model, middle, layers.Dense(args.width, activation="relu", name=f"extra_{r}")))
        rows["insert_after (middle)"].append(t)
        rows["first predict after it"].append(timed(lambda: edited.predict(x))[0])
        rows["second predict"].append(timed(lambda: edited.predict(x))[0])
        rows["remove (middle)"].append(timed(lambda: edit.remove(model, middle))[0])
        rows["Model.from_graph(graph.copy())"].append(
            timed(lambda: gn.Model.from_graph(model.graph.copy()))[0])
    print(f"model: Input({args.width}) -> {args.layers} x Dense({args.width}, relu); built in "
          f"{t_build:.2f} s; predict on 32 rows; {args.repeats} repeats")
    print(f"{'operation':34s} {'median s':>9s} {'min s':>9s}")
    for name, times in rows.items():
        print(f"{name:34s} {statistics.median(times):9.4f} {min(times):9.4f}")


if __name__ == "__main__":
    main()
