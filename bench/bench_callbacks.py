"""What a batch-level callback costs in `fit`: the same fit without callbacks, with a callback
that overrides `on_train_batch_end` (one step per dispatch, the hook after every batch), and
with that callback under `compile(steps_per_execution=32)` (the hook once per 32 steps);
Keras 3 with the same callback for reference.

An MLP 64 -> 512 relu -> 10 softmax on the digits (tiled to --samples rows), RMSprop,
`fit(verbose=0, shuffle=False)`. Steady step time = median of epochs 2..E over the steps per
epoch; variants are interleaved and rotated every repeat; ratios are to the fit without
callbacks, paired per repeat.

    python bench/bench_callbacks.py
    python bench/bench_callbacks.py --batch 256 --repeats 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

import graphnet as gn  # noqa: E402


def load_data(samples):
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    idx = np.tile(np.arange(len(x)), -(-samples // len(x)))[:samples]
    return x[idx], np.eye(10, dtype="float32")[digits.target[idx]]


def build(lib, weights=None):
    inp = lib.Input((64,))
    h = lib.layers.Dense(512, activation="relu")(inp)
    model = lib.Model(inp, lib.layers.Dense(10, activation="softmax")(h))
    if weights is not None:
        model.set_weights(weights)
    return model


def counting_callback(base):
    class Count(base):
        def __init__(self):
            super().__init__()
            self.calls = 0

        def on_train_batch_end(self, batch, logs=None):
            self.calls += 1
    return Count


def run(lib, weights, x, y, batch, epochs, clock, callback=False, spe=None):
    model = build(lib, weights)
    kwargs = {} if spe is None else {"steps_per_execution": spe}
    model.compile(optimizer="rmsprop", loss="categorical_crossentropy", **kwargs)
    cbs = [counting_callback(lib.callbacks.Callback)()] if callback else []
    times = []
    for _ in range(epochs):
        start = clock()
        model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False, callbacks=cbs)
        times.append(clock() - start)
    steps = -(-len(x) // batch)
    return statistics.median(times[1:]) / steps * 1e6


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=8192)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    parser.add_argument("--no-keras", action="store_true")
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    x, y = load_data(args.samples)
    weights = build(gn).get_weights()
    variants = {"no callback": lambda: run(gn, weights, x, y, args.batch, args.epochs, clock),
                "batch hook": lambda: run(gn, weights, x, y, args.batch, args.epochs, clock,
                                          callback=True),
                "batch hook, spe=32": lambda: run(gn, weights, x, y, args.batch, args.epochs,
                                                  clock, callback=True, spe=32)}
    if not args.no_keras:
        try:
            import keras
            variants["Keras 3, batch hook"] = lambda: run(keras, weights, x, y, args.batch,
                                                          args.epochs, clock, callback=True)
        except ImportError:
            pass
    names = list(variants)
    per_step = {n: [] for n in names}
    for r in range(args.repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            per_step[name].append(variants[name]())
    print(f"MLP 64-512-10, {args.samples} samples, batch {args.batch}, {args.epochs} epochs, "
          f"{args.repeats} repeats, clock {args.clock}")
    print("| variant | µs/step | / no callback, median (min-max) |")
    print("|---|---|---|")
    for name in names:
        ratios = [a / b for a, b in zip(per_step[name], per_step["no callback"])]
        print(f"| {name} | {statistics.median(per_step[name]):.0f} | "
              f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) |")


if __name__ == "__main__":
    main()
