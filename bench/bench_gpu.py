"""Steady epoch and compile on one accelerator: graphnet vs the hand-written floor vs Keras 3,
in float32 and mixed_bfloat16.

Models: M1, M2, M3 of bench_fit.py, a ResNet-style CNN on 32x32x3 inputs
(digits upsampled, three residual stages, 16-32-64 channels, global average pool, softmax),
and the masked-sequence models M4 (Embedding(mask_zero) + LSTM) and M5 (a Transformer
encoder block with padding masks) of bench_masked.py, all at B=256 unless --batches says
otherwise. Implementations, interleaved and rotated each
repeat, every one training a fresh model from the same weights for 4 epochs (RMSprop,
Keras defaults, shuffle off):
  b   hand-written whole-epoch `lax.scan`, losses from logits; under mixed_bfloat16 the
      params and inputs are cast to bfloat16 at the start of each step (float32 weights)
  gn  graphnet `fit(x, y, batch_size=B, epochs=4, verbose=0, shuffle=False)`
  c   Keras 3 `fit` (JAX backend), same arguments (skip with --no-keras)
Steady epoch = median of epochs 2-4; compile = epoch 1 - steady. Ratios are per repeat.

    python bench/bench_gpu.py                    # on the accelerator: all models, both policies
    python bench/bench_gpu.py --quick            # M1, tiny sizes, any machine (a smoke test)
    python bench/bench_gpu.py --json out.json    # also write every figure as JSON
    python bench/bench_gpu.py --remat            # also the remat rows (bench_remat.py)
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_fit as bf  # noqa: E402  (sets KERAS_BACKEND and the repository path)
import bench_masked  # noqa: E402
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import graphnet as gn  # noqa: E402

POLICIES = ("float32", "mixed_bfloat16")


# ---- the larger model: a ResNet-style CNN on 32x32x3 ------------------------------------------
def load_images(n, size=32):
    """Digits upsampled to size x size, three channels, standardized, tiled with noise."""
    x, y10, y2 = bf.load_data(image=True)
    reps = size // 8
    x = np.kron(x[..., 0], np.ones((1, reps, reps), np.float32))[..., None]
    x = np.repeat(x, 3, axis=-1)[:n]
    return x.astype(np.float32), y10[:n], y2[:n]


def _conv(x, k, stride=1):
    return jax.lax.conv_general_dilated(x, k, (stride, stride), "SAME",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


class ResNet:
    """stem 3x3/16 -> [block 16, block 32 (stride 2), block 64 (stride 2)] -> GAP -> Dense 10.
    A block: relu(conv3x3(relu(conv3x3(x))) + shortcut(x)), the shortcut a strided 1x1 conv
    where the shape changes. No normalization, so the floor stays a pure function."""
    name, image, heads = "ResNet-style CNN 32x32x3", True, 1
    stages = ((16, 1), (32, 2), (64, 2))

    @classmethod
    def weights(cls, rng):
        def conv(kh, cin, cout):
            return [bf.glorot(rng, (kh, kh, cin, cout)), np.zeros(cout, np.float32)]
        w = {"stem": conv(3, 3, 16)}
        cin = 16
        for i, (c, stride) in enumerate(cls.stages):
            w[f"s{i}a"], w[f"s{i}b"] = conv(3, cin, c), conv(3, c, c)
            if stride != 1 or cin != c:
                w[f"s{i}p"] = conv(1, cin, c)
            cin = c
        w["out"] = [bf.glorot(rng, (cin, 10)), np.zeros(10, np.float32)]
        return w

    @classmethod
    def logits(cls, p, x):
        def conv(name, v, stride=1):
            return _conv(v, p[name][0], stride) + p[name][1]
        h = jax.nn.relu(conv("stem", x))
        for i, (c, stride) in enumerate(cls.stages):
            short = conv(f"s{i}p", h, stride) if f"s{i}p" in p else h
            h = jax.nn.relu(conv(f"s{i}b", jax.nn.relu(conv(f"s{i}a", h, stride))) + short)
        return h.mean((1, 2)) @ p["out"][0] + p["out"][1]

    @classmethod
    def loss(cls, p, x, y10, y2):
        logits = cls.logits(p, x).astype(jnp.float32)
        return -jnp.mean(jnp.sum(y10 * jax.nn.log_softmax(logits), -1))

    @classmethod
    def build(cls, lib, w):
        L = lib.layers
        inp = lib.Input((32, 32, 3))
        h = L.Conv2D(16, 3, padding="same", activation="relu", name="stem")(inp)
        cin = 16
        for i, (c, stride) in enumerate(cls.stages):
            a = L.Conv2D(c, 3, strides=stride, padding="same", activation="relu",
                         name=f"s{i}a")(h)
            b = L.Conv2D(c, 3, padding="same", name=f"s{i}b")(a)
            short = (L.Conv2D(c, 1, strides=stride, padding="same", name=f"s{i}p")(h)
                     if stride != 1 or cin != c else h)
            h = L.Activation("relu")(L.Add()([b, short]))
            cin = c
        out = L.Dense(10, activation="softmax", name="out")(L.GlobalAveragePooling2D()(h))
        model = lib.Model(inp, out)
        for name, ws in w.items():
            model.get_layer(name).set_weights(ws)
        return model

    compile = bf.M1.compile
    targets = bf.M1.targets


class Mixed:
    """A bench model whose floor computes in `compute_dtype`: params and inputs cast at the
    start of the step (the weights stay float32), the loss in float32."""

    def __init__(self, model, compute_dtype):
        self.model, self.compute = model, compute_dtype
        self.name, self.image, self.heads = model.name, model.image, model.heads

    def loss(self, p, x, y10, y2):
        cast = jax.tree_util.tree_map(lambda a: a.astype(self.compute), p)
        with jax.numpy_dtype_promotion("standard"):
            if jnp.issubdtype(x.dtype, jnp.floating):      # token ids stay integers
                x = x.astype(self.compute)
            return self.model.loss(cast, x, y10, y2).astype(jnp.float32)

    def __getattr__(self, name):
        return getattr(self.model, name)


# ---- implementations under a policy ---------------------------------------------------------------
def run_floor(model, policy, w, x, y10, y2, batch):
    floor = model if policy == "float32" else Mixed(model, "bfloat16")
    return bf.run_b(floor, w, x, y10, y2, batch)


def run_graphnet(model, policy, w, x, y10, y2, batch):
    gn.mixed_precision.set_global_policy(policy)
    try:
        return bf.run_gn(model, w, x, y10, y2, batch)
    finally:
        gn.mixed_precision.set_global_policy("float32")


def run_keras(model, policy, w, x, y10, y2, batch):
    import keras
    keras.mixed_precision.set_global_policy(policy)
    try:
        with jax.numpy_dtype_promotion("standard"):
            return bf.run_keras(model, w, x, y10, y2, batch)
    finally:
        keras.mixed_precision.set_global_policy("float32")


MODELS = {"M1": bf.M1, "M2": bf.M2, "M3": bf.M3, "ResNet": ResNet, "M4": bench_masked.M4,
          "M5": bench_masked.M5}


def measure(model, policy, batch, impls, w, data, repeats):
    names = list(impls)
    for name in names:                                   # warm-up, discarded
        impls[name](model, policy, w, *data, batch)
    steady = {n: [] for n in names}
    compile_ = {n: [] for n in names}
    losses = {}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            times, loss = impls[name](model, policy, w, *data, batch)
            s = statistics.median(times[1:])
            steady[name].append(s)
            compile_[name].append(times[0] - s)
            losses[name] = loss
    steps = len(data[0]) // batch
    rows = {}
    for name in names:
        rows[name] = {
            "us_per_step": statistics.median(steady[name]) / steps * 1e6,
            "steady_ratio_to_b": _ratio(steady[name], steady["b"]),
            "compile_s": statistics.median(compile_[name]),
            "compile_ratio_to_b": _ratio(compile_[name], compile_["b"]),
            "loss_epoch_1": losses[name][0], "loss_epoch_4": losses[name][-1]}
    return rows


def _ratio(xs, ref):
    ratios = [a / b for a, b in zip(xs, ref)]
    return [statistics.median(ratios), min(ratios), max(ratios)]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=None, help=f"default: {','.join(MODELS)} "
                        f"(M1 with --quick)")
    parser.add_argument("--policies", default=",".join(POLICIES))
    parser.add_argument("--batches", default="256")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=None,
                        help="samples per epoch (default: 57,344; the ResNet 16,384; M4 "
                        "and M5 8,192)")
    parser.add_argument("--quick", action="store_true",
                        help="tiny sizes (2 steps of B=32 per epoch, 1 repeat): a smoke test")
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--json", default=None, help="write the figures to this file")
    parser.add_argument("--remat", action="store_true", help="also the rematerialization rows "
                        "(bench_remat.py: step memory and time with and without remat)")
    args = parser.parse_args(argv)
    if args.quick:
        args.batches, args.repeats, args.samples = "32", 1, 64
    # On a CPU the ResNet floor's strided lax.conv inside lax.scan is XLA:CPU's slow path
    # (the M3 notes in bench/RESULTS.md): the figures are for accelerators.
    models = args.models or ("M1" if args.quick else ",".join(MODELS))
    try:
        if args.no_keras:
            raise ImportError
        import keras  # noqa: F401
        have_keras = True
    except ImportError:
        have_keras = False
    print(f"jax {jax.__version__}, devices {jax.devices()}, keras: {have_keras}")
    results = []
    for key in models.split(","):
        model = MODELS[key]
        default_n = {ResNet: 16_384, bench_masked.M4: bench_masked.N_SAMPLES,
                     bench_masked.M5: bench_masked.N_SAMPLES}.get(model, bf.N_SAMPLES)
        n = args.samples or default_n
        if model is ResNet:
            data = load_images(n)
        elif hasattr(model, "data"):
            data = model.data(n)
        else:
            data = bf.load_data(model.image)
        data = tuple(a[:n] for a in data)
        w = model.weights(np.random.default_rng(42))
        for policy in args.policies.split(","):
            for batch in [int(b) for b in args.batches.split(",")]:
                impls = {"b": run_floor, "gn": run_graphnet}
                if have_keras:
                    impls["c"] = run_keras
                rows = measure(model, policy, batch, impls, w, data, args.repeats)
                print(f"\n{model.name}, {policy}, B={batch}: {n // batch} steps/epoch, "
                      f"{args.repeats} repeats")
                print(f"{'impl':5} {'us/step':>9} {'/b steady':>18} {'compile s':>9} "
                      f"{'/b compile':>18}  loss epoch 1, 4")
                for name, row in rows.items():
                    print(f"{name:5} {row['us_per_step']:9.0f} {_fmt(row['steady_ratio_to_b']):>18}"
                          f" {row['compile_s']:9.2f} {_fmt(row['compile_ratio_to_b']):>18}  "
                          f"{row['loss_epoch_1']:.5g}, {row['loss_epoch_4']:.4g}")
                results.append({"model": key, "policy": policy, "batch": batch,
                                "samples": n, "rows": rows})
    if args.remat:
        import bench_remat
        results.append({"model": "remat", "rows": bench_remat.main(
            ["--quick"] if args.quick else ["--batch", "512", "--size", "64"])})
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"devices": [str(d) for d in jax.devices()], "results": results}, f,
                      indent=1)
    return results


def _fmt(r):
    return f"{r[0]:.2f} ({r[1]:.2f}-{r[2]:.2f})"


if __name__ == "__main__":
    main()
