"""Layer-catalogue benchmarks, as ratios measured side by side in one process.

1. M3 inception CNN (8x8x1 digits): a `lax.scan`-ned training step against the same step
   jitted alone and called from Python (target: scan/jit <= 1.0). For contrast, the same
   with `lax.conv`'s own gradient (no custom VJP), the trap of jax-ml/jax#12868.
2. LSTM forward + backward over a sequence: graphnet's LSTM against hand-written
   `lax.scan` LSTMs of the same sizes (target <= 1.1x).
3. Building and initializing the inception CNN and a 20-layer conv stack (target < 1 s).

Usage: python bench/bench_layers.py [--repeats 5] [--steps 224] [--batch 32 256]
"""
import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from jax import lax  # noqa: E402

import graphnet as gn  # noqa: E402
from graphnet import layers, ops  # noqa: E402


def digits(n):
    """sklearn's 8x8 digits, standardized by one scalar, tiled with N(0, 0.05) noise."""
    from sklearn.datasets import load_digits
    d = load_digits()
    x = d.images.astype("float32")
    x = (x - x.mean()) / x.std()
    rng = np.random.default_rng(0)
    idx = rng.permutation(np.resize(np.arange(len(x)), n))
    x = x[idx] + rng.normal(0, 0.05, (n, 8, 8)).astype("float32")
    y = np.eye(10, dtype="float32")[d.target[idx]]
    return x[..., None], y


def inception():
    x = gn.Input((8, 8, 1))
    a = layers.Conv2D(16, 1, activation="relu")(x)
    b = layers.Conv2D(16, 3, padding="same", activation="relu")(layers.Conv2D(16, 1, activation="relu")(x))
    c = layers.Conv2D(16, 1, activation="relu")(layers.MaxPooling2D(3, strides=1, padding="same")(x))
    y = layers.GlobalAveragePooling2D()(layers.Concatenate()([a, b, c]))
    return gn.Model(x, layers.Dense(10, activation="softmax")(y))


def conv_stack(depth=20):
    x = gn.Input((32, 32, 3))
    y = x
    for _ in range(depth):
        y = layers.Conv2D(16, 3, padding="same", activation="relu")(y)
    return gn.Model(x, layers.GlobalAveragePooling2D()(y))


def train_fns(model):
    """One RMSprop step (Keras defaults), as a jitted step and as a scanned chunk."""
    tx = optax.rmsprop(1e-3, decay=0.9, eps=1e-7)

    def loss_fn(params, x, y):
        probs, _ = model.apply(params, model.state, x)
        return -jnp.mean(jnp.sum(y * jnp.log(jnp.clip(probs, 1e-7, 1 - 1e-7)), -1))

    def step(carry, batch):
        params, opt_state = carry
        loss, grads = jax.value_and_grad(loss_fn)(params, *batch)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), opt_state), loss

    one = jax.jit(step)
    chunk = jax.jit(lambda carry, xs, ys: lax.scan(step, carry, (xs, ys)))
    return tx, one, chunk


def time_cnn(model, xs, ys, repeats):
    """µs per step: per-step jit loop and one scan over all steps, interleaved."""
    tx, one, chunk = train_fns(model)
    init = (model.params, tx.init(model.params))
    steps = xs.shape[0]

    def run_loop():
        carry = init
        for i in range(steps):
            carry, loss = one(carry, (xs[i], ys[i]))
        jax.block_until_ready(carry)
        return float(loss)

    def run_scan():
        carry, losses = chunk(init, xs, ys)
        jax.block_until_ready(carry)
        return float(losses[-1])

    last = [run_loop(), run_scan()]                 # compile both
    assert abs(last[0] - last[1]) <= 1e-3 * max(1.0, abs(last[0])), last
    loop_t, scan_t = [], []
    for r in range(repeats):
        for name in (("loop", "scan") if r % 2 == 0 else ("scan", "loop")):
            t = time.perf_counter()
            (run_loop if name == "loop" else run_scan)()
            (loop_t if name == "loop" else scan_t).append((time.perf_counter() - t) / steps * 1e6)
    return loop_t, scan_t


def summarize(values):
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def bench_cnn(args):
    print("== 1. M3 inception CNN: scanned training step vs the same step jitted alone")
    for batch in args.batch:
        x, y = digits(args.steps * batch)
        xs = jnp.asarray(x.reshape(args.steps, batch, 8, 8, 1))
        ys = jnp.asarray(y.reshape(args.steps, batch, 10))
        gn.utils.set_random_seed(0)
        loop_t, scan_t = time_cnn(inception(), xs, ys, args.repeats)
        ratios = [s / l for s, l in zip(scan_t, loop_t)]
        print(f"B={batch:4d} steps={args.steps}: jit {statistics.median(loop_t):8.0f} us/step, "
              f"scan {statistics.median(scan_t):8.0f} us/step, scan/jit {summarize(ratios)}")
        # The trap, for contrast: lax.conv's own gradient inside the scan (fewer steps).
        few = max(8, args.steps // 8)
        original = ops._conv
        ops._conv = ops._plain_conv
        try:
            gn.utils.set_random_seed(0)
            loop_p, scan_p = time_cnn(inception(), xs[:few], ys[:few], max(2, args.repeats // 2))
        finally:
            ops._conv = original
        print(f"        without the custom VJP ({few} steps): jit {statistics.median(loop_p):8.0f} "
              f"us/step, scan {statistics.median(scan_p):8.0f} us/step, scan/jit "
              f"{summarize([s / l for s, l in zip(scan_p, loop_p)])}")


def hand_lstm(hoisted):
    """A hand-written Keras-layout LSTM loss; `hoisted` projects all inputs before the scan."""
    def loss(params, x):
        w, u, b = params
        units = u.shape[0]
        xs = jnp.swapaxes(x, 0, 1)
        if hoisted:
            xs = xs @ w + b

        def step(carry, x_t):
            h, c = carry
            z = (x_t if hoisted else x_t @ w + b) + h @ u
            i, f, g, o = jnp.split(z, 4, axis=-1)
            c = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h = jax.nn.sigmoid(o) * jnp.tanh(c)
            return (h, c), None
        zeros = jnp.zeros((x.shape[0], units), x.dtype)
        (h, _), _ = lax.scan(step, (zeros, zeros), xs)
        return jnp.sum(h ** 2)
    return loss


def bench_lstm(args):
    print("== 2. LSTM forward + backward over a sequence vs hand-written lax.scan LSTMs")
    batch, steps, features, units = args.lstm
    gn.utils.set_random_seed(0)
    lstm = layers.LSTM(units)
    model = gn.Model(i := gn.Input((steps, features)), lstm(i))
    x = jnp.asarray(np.random.default_rng(0).normal(size=(batch, steps, features)), jnp.float32)
    ours = jax.jit(jax.value_and_grad(lambda p, x: jnp.sum(model.apply(p, model.state, x)[0] ** 2)))
    triple = tuple(model.params[lstm.name][k] for k in ("kernel", "recurrent_kernel", "bias"))
    fns = {"graphnet": (ours, model.params),
           "hand (x@W in step)": (jax.jit(jax.value_and_grad(hand_lstm(False))), triple),
           "hand (x@W hoisted)": (jax.jit(jax.value_and_grad(hand_lstm(True))), triple)}
    values = {name: float(f(p, x)[0]) for name, (f, p) in fns.items()}
    assert max(values.values()) - min(values.values()) <= 1e-4 * max(values.values()), values
    times = {name: [] for name in fns}
    calls = 20
    names = list(fns)
    for r in range(args.repeats):
        for name in names[r % 3:] + names[:r % 3]:
            f, p = fns[name]
            t = time.perf_counter()
            for _ in range(calls):
                out = f(p, x)
            jax.block_until_ready(out)
            times[name].append((time.perf_counter() - t) / calls * 1e6)
    print(f"batch={batch} steps={steps} features={features} units={units}")
    for name in names:
        ratios = [a / b for a, b in zip(times["graphnet"], times[name])]
        print(f"  {name:20s} {statistics.median(times[name]):8.0f} us/call"
              + ("" if name == "graphnet" else f"   graphnet/this {summarize(ratios)}"))


def bench_build(args):
    print("== 3. Building and initializing models (weights drawn from the seed)")
    for name, build in (("inception CNN", inception), ("20-layer conv stack", conv_stack)):
        times = []
        for r in range(args.repeats):
            gn.utils.set_random_seed(r)
            t = time.perf_counter()
            model = build()
            jax.block_until_ready(model.params)
            times.append(time.perf_counter() - t)
        print(f"  {name:20s} {model.count_params():7d} params: first {times[0]:.3f} s, "
              f"then {summarize(times[1:]) if len(times) > 1 else '-'} s")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--steps", type=int, default=224, help="training steps per timing")
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 256])
    parser.add_argument("--lstm", type=int, nargs=4, default=[32, 50, 16, 64],
                        metavar=("BATCH", "STEPS", "FEATURES", "UNITS"))
    parser.add_argument("--only", choices=["cnn", "lstm", "build"], nargs="*")
    args = parser.parse_args()
    print(f"jax {jax.__version__}, {jax.devices()[0].platform}, {os.cpu_count()} cpu; "
          f"load average {os.getloadavg()[0]:.1f}")
    parts = {"build": bench_build, "cnn": bench_cnn, "lstm": bench_lstm}
    for name, fn in parts.items():
        if not args.only or name in args.only:
            fn(args)


if __name__ == "__main__":
    main()
