"""Rematerialization: a training step's memory and time with and without `compile(remat=)`.

Two networks (Dense-BatchNorm-GELU blocks; Conv-BatchNorm-ReLU blocks) train one SGD step
on one batch, through the graph's run as `fit` does. Per setting (no remat; "auto";
a budget of half the estimated peak): the nodes recomputed, XLA's memory figures for the compiled step
(`compiled.memory_analysis()`: temporaries, and temporaries + arguments + outputs), the
device's peak where it reports one, and the median step time. Gradients are checked equal
to the plain step's (float rounding).

    python bench/bench_remat.py                  # CPU-sized: size 32 (MLP width 256), B=64
    python bench/bench_remat.py --batch 512 --size 64   # an accelerator
    python bench/bench_remat.py --quick          # tiny, any machine (a smoke test)
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import graphnet as gn  # noqa: E402
from graphnet import costing, layers  # noqa: E402
from graphnet.interpret import make_run  # noqa: E402


def cnn(size, width=32, blocks=4):
    """Conv-BatchNorm-ReLU blocks on size x size x 3 images."""
    x = gn.Input(shape=(size, size, 3), name="image")
    y = x
    for i in range(blocks):
        y = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i}")(y)
        y = layers.BatchNormalization(name=f"bn{i}")(y)
        y = layers.Activation("relu", name=f"relu{i}")(y)
    y = layers.GlobalAveragePooling2D(name="gap")(y)
    return gn.Model(x, layers.Dense(10, name="logits")(y))


def mlp(size, blocks=6):
    """Dense-BatchNorm-GELU blocks of width 8 * size on vectors of 8 * size."""
    x = gn.Input(shape=(8 * size,), name="x")
    y = x
    for i in range(blocks):
        y = layers.Dense(8 * size, name=f"dense{i}")(y)
        y = layers.BatchNormalization(name=f"bn{i}")(y)
        y = layers.Activation("gelu", name=f"gelu{i}")(y)
    return gn.Model(x, layers.Dense(10, name="logits")(y))


NETWORKS = {"mlp": mlp, "cnn": cnn}


def train_step(model, plan):
    """One SGD step through the graph's run with the plan's nodes recomputed: the function
    `fit` differentiates."""
    run = make_run(model.graph, plan.nodes if plan else ())

    def loss(params, state, x, y):
        (logits,), new_state, _ = run(params, state, [x], True, None)
        return -jnp.mean(jnp.sum(jax.nn.log_softmax(logits) * y, -1)), new_state

    def step(params, state, x, y):
        grads, new_state = jax.grad(loss, has_aux=True)(params, state, x, y)
        return jax.tree_util.tree_map(lambda p, g: p - 0.01 * g, params, grads), new_state, grads
    return jax.jit(step)


def measure(network, remat, size, batch, repeats):
    gn.utils.set_random_seed(0)
    model = network(size)
    plan = None if remat is None else costing.remat_plan(model, remat, batch_size=batch)
    model.compile("sgd", "categorical_crossentropy", remat=plan)
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.normal(size=(batch, *model.inputs[0].shape[1:])), jnp.float32)
    y = jax.nn.one_hot(rng.integers(0, 10, batch), 10)
    step = train_step(model, plan)
    compiled = step.lower(model.params, model.state, x, y).compile()
    memory = compiled.memory_analysis()
    out = compiled(model.params, model.state, x, y)
    jax.block_until_ready(out)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        jax.block_until_ready(compiled(model.params, model.state, x, y))
        times.append(time.perf_counter() - start)
    stats = getattr(jax.devices()[0], "memory_stats", lambda: None)() or {}
    return {"remat": str(remat), "nodes": list(plan.nodes) if plan else [],
            "temp_bytes": memory.temp_size_in_bytes,
            "total_bytes": (memory.temp_size_in_bytes + memory.argument_size_in_bytes
                            + memory.output_size_in_bytes - memory.alias_size_in_bytes),
            "device_peak_bytes": stats.get("peak_bytes_in_use"),
            "ms_per_step": 1e3 * statistics.median(times), "grads": out[2]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--networks", default="mlp,cnn")
    parser.add_argument("--quick", action="store_true", help="size 16, B=8, 2 repeats")
    args = parser.parse_args(argv)
    if args.quick:
        args.size, args.batch, args.repeats = 16, 8, 2
    rows = []
    for name in args.networks.split(","):
        network = NETWORKS[name]
        table = gn.cost(network(args.size), batch_size=args.batch, training=True)
        half = costing.remat.peak(table) // 2
        plans = {"none": None, "auto": "auto", "half the estimate": costing.choose_remat(table, half)}
        print(f"\n{name}: jax {jax.__version__}, {jax.devices()[0].platform}, size {args.size}, "
              f"B={args.batch}; estimated step peak without remat {costing.remat.peak(table):,} B")
        print(f"{'remat':18} {'nodes':>5} {'est. MB':>8} {'temp MB':>8} {'total MB':>9} "
              f"{'peak MB':>8} {'ms/step':>8}  max |grad diff|")
        found = {label: measure(network, plan, args.size, args.batch, args.repeats)
                 for label, plan in plans.items()}
        for label, row in found.items():
            diff = max(float(jnp.max(jnp.abs(a - b))) for a, b in zip(
                jax.tree_util.tree_leaves(found["none"]["grads"]),
                jax.tree_util.tree_leaves(row["grads"])))
            row.update(network=name, remat=label, max_grad_diff=diff,
                       estimated_bytes=costing.remat.peak(table, row["nodes"]))
            peak = row["device_peak_bytes"]
            print(f"{label:18} {len(row['nodes']):5d} {row['estimated_bytes'] / 1e6:8.2f} "
                  f"{row['temp_bytes'] / 1e6:8.2f} {row['total_bytes'] / 1e6:9.2f} "
                  f"{'-' if peak is None else f'{peak / 1e6:.1f}':>8} "
                  f"{row['ms_per_step']:8.2f}  {diff:.2g}")
        for row in found.values():
            del row["grads"]
            rows.append(row)
    return rows


if __name__ == "__main__":
    main()
