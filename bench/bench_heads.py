"""What the many-heads options cost per training step: a plain fit against the same fit with
head_diagnostics=True, grad_combine="pcgrad" and loss_weights="uncertainty".

A two-head MLP on the digits (tiled to --samples rows): a shared trunk 64 -> 256 -> 256
(relu), a 10-way softmax head and a 1-unit sigmoid head; RMSprop, batch --batch,
`fit(verbose=0, shuffle=False)`, so each epoch is one compiled dispatch. Every variant
starts from the same weights; variants are interleaved and rotated every repeat. Steady
step time = median of epochs 2..E divided by the steps per epoch; ratios are to the plain
fit, paired per repeat.

    python bench/bench_heads.py                         # 3 repeats, batch 32, wall clock
    python bench/bench_heads.py --clock cpu --repeats 5
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

import graphnet as gn  # noqa: E402
from graphnet import layers  # noqa: E402

VARIANTS = {
    "plain": {},
    "diagnostics": {"head_diagnostics": True},
    "pcgrad": {"grad_combine": "pcgrad"},
    "pcgrad+diagnostics": {"grad_combine": "pcgrad", "head_diagnostics": True},
    "uncertainty": {"loss_weights": "uncertainty"},
}


def load_data(samples):
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = (digits.data / 16.0).astype("float32")
    idx = np.tile(np.arange(len(x)), -(-samples // len(x)))[:samples]
    labels = digits.target[idx]
    return x[idx], {"digit": np.eye(10, dtype="float32")[labels],
                    "big": (labels >= 5).astype("float32")[:, None]}


def build(weights=None):
    gn.utils.set_random_seed(0)
    inp = gn.Input((64,), name="pixels")
    h = layers.Dense(256, activation="relu", name="trunk_1")(inp)
    h = layers.Dense(256, activation="relu", name="trunk_2")(h)
    model = gn.Model(inp, [layers.Dense(10, activation="softmax", name="digit")(h),
                           layers.Dense(1, activation="sigmoid", name="big")(h)])
    if weights is not None:
        model.set_weights(weights)
    return model


def run(options, weights, x, y, batch, epochs, clock):
    model = build(weights)
    model.compile(optimizer="rmsprop",
                  loss={"digit": "categorical_crossentropy", "big": "binary_crossentropy"},
                  **options)
    times = []
    for _ in range(epochs):
        start = clock()
        history = model.fit(x, y, batch_size=batch, epochs=1, verbose=0, shuffle=False)
        times.append(clock() - start)
    steps = len(x) // batch
    return statistics.median(times[1:]) / steps * 1e6, times[0] - statistics.median(times[1:]), \
        history.history["loss"][-1]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16_384)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args(argv)
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    x, y = load_data(args.samples)
    weights = build().get_weights()
    names = list(VARIANTS)
    per_step = {n: [] for n in names}
    compile_s = {n: [] for n in names}
    run(VARIANTS["plain"], weights, x[:1024], {k: v[:1024] for k, v in y.items()},
        args.batch, 2, clock)                                          # warm-up
    for r in range(args.repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            us, comp, loss = run(VARIANTS[name], weights, x, y, args.batch, args.epochs, clock)
            per_step[name].append(us)
            compile_s[name].append(comp)
    print(f"two-head MLP, {args.samples} samples, batch {args.batch}, {args.epochs} epochs, "
          f"{args.repeats} repeats, clock {args.clock}")
    print("| variant | µs/step | / plain, median (min-max) | compile s |")
    print("|---|---|---|---|")
    for name in names:
        ratios = [a / b for a, b in zip(per_step[name], per_step["plain"])]
        print(f"| {name} | {statistics.median(per_step[name]):.0f} | "
              f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f}) | "
              f"{statistics.median(compile_s[name]):.2f} |")


if __name__ == "__main__":
    main()
