"""One-sample predict overhead and import time, as ratios measured side by side in one run.

python bench/bench_predict.py [--repeats R] [--calls N]

* predict: the MLP 64 -> Dense 512 relu -> Dense 10 softmax; `model.predict(x)` and `model(x)`
  against a hand-jitted JAX function of the same math with NumPy in and out, interleaved,
  order rotated each repeat; ratio = median per-call time of graphnet / hand-jitted, per repeat.
* import: `import graphnet` against `import jax, optax, networkx`, each in fresh subprocesses.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def time_calls(fn, calls):
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def bench_predict(repeats, calls):
    import jax
    import jax.numpy as jnp
    import numpy as np

    import graphnet as gn
    from graphnet import layers

    gn.utils.set_random_seed(0)
    inputs = gn.Input((64,))
    hidden = layers.Dense(512, activation="relu")(inputs)
    model = gn.Model(inputs, layers.Dense(10, activation="softmax")(hidden))
    (k1, b1), (k2, b2) = [model.layers[i].get_weights() for i in (1, 2)]
    weights = [jnp.asarray(w) for w in (k1, b1, k2, b2)]

    @jax.jit
    def forward(w, x):
        h = jax.nn.relu(x @ w[0] + w[1])
        return jax.nn.softmax(h @ w[2] + w[3])

    x = np.random.default_rng(0).normal(size=(1, 64)).astype("float32")
    impls = {
        "jit": lambda: np.asarray(forward(weights, x)),
        "predict": lambda: model.predict(x, verbose=0),
        "call": lambda: np.asarray(model(x)),
    }
    ref = impls["jit"]()
    for name, fn in impls.items():          # warm-up: compile, and check the same numbers
        np.testing.assert_allclose(fn(), ref, rtol=1e-5, atol=1e-7)
    names = list(impls)
    ratios = {"predict": [], "call": []}
    absolute = {n: [] for n in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        t = {n: time_calls(impls[n], calls) for n in order}
        for n in names:
            absolute[n].append(t[n] * 1e6)
        for n in ratios:
            ratios[n].append(t[n] / t["jit"])
    return ratios, absolute


def import_time(statement, runs):
    code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=ROOT, env={**os.environ, "PYTHONPATH": ROOT})
    return float(out.stdout.strip().splitlines()[-1])


def bench_import(runs):
    base_stmt = "import jax, optax, networkx"
    ours_stmt = "import jax, optax, networkx; t = time.perf_counter(); import graphnet"
    added, base = [], []
    for _ in range(runs):
        # The second form times graphnet alone, after its heavy dependencies are loaded.
        base.append(import_time(base_stmt, 1))
        added.append(import_time(ours_stmt, 1))
    return base, added


def spread(values, fmt="{:.2f}"):
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--import-runs", type=int, default=5)
    args = parser.parse_args()
    ratios, absolute = bench_predict(args.repeats, args.calls)
    print(f"one-sample predict, MLP 64-512-10, {args.repeats} repeats x {args.calls} calls "
          f"(median, min-max over repeats)")
    for n, v in absolute.items():
        print(f"  {n:8s} {spread(v, '{:.0f}')} us/call")
    for n, v in ratios.items():
        print(f"  {n:8s}/jit ratio {spread(v)}   (target <= 3)")
    base, added = bench_import(args.import_runs)
    print(f"import, {args.import_runs} fresh subprocesses each")
    print(f"  import jax, optax, networkx   {spread(base)} s")
    print(f"  import graphnet after those   {spread(added, '{:.3f}')} s   (target <= 0.3)")


if __name__ == "__main__":
    main()
