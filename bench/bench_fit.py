"""graphnet's fit against hand-written JAX + optax floors and Keras 3 (bench/RESULTS.md).

Implementations, interleaved and rotated every repeat, each training a fresh model from the
same initial weights for 4 epochs (RMSprop, Keras defaults, shuffle off):
  a   hand-written per-step `jax.jit` loop (params and optimizer state donated)
  b   hand-written whole-epoch `lax.scan` (the floor), losses from logits
  bk  (b) with Keras's losses (clipped probabilities), which graphnet and Keras compute
  gn  graphnet `fit(x, y, batch_size=B, epochs=4, verbose=0, shuffle=False)` on NumPy arrays
  gnK graphnet with steps_per_execution=K (with --spe)
  c   Keras 3 `fit` (JAX backend), when keras is importable (skip with --no-keras)
Steady epoch = median of epochs 2-4; compile = epoch 1 - steady. Ratios are per repeat.

    python bench/bench_fit.py                       # M1, M2 (and M3 when Conv2D exists)
    python bench/bench_fit.py --models M1 --batches 32 --repeats 3 --spe 8,32,128,0
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from functools import partial

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import graphnet as gn  # noqa: E402
from graphnet import layers  # noqa: E402

KERAS_LOSS = False            # set while tracing the "bk" floor: Keras's probability losses
CLOCK = time.perf_counter     # --clock cpu: process CPU seconds (all threads), steadier under load
PHASES = {}                   # jax.monitoring compile events of the current run: name -> seconds


def _on_event(event, seconds, **_):
    name = event.rsplit("/", 1)[-1].replace("_duration", "")
    PHASES[name] = PHASES.get(name, 0.0) + seconds


jax.monitoring.register_event_duration_secs_listener(_on_event)
N_SAMPLES = 57_344            # 7 * 32 * 256: every batch size and 32-step chunk divides it
EPOCHS = 4


# ---- data (digits, standardized, tiled with noise, shuffled once) ----------------------------
def load_data(image: bool):
    from sklearn.datasets import load_digits
    digits = load_digits()
    x = digits.data.astype(np.float64)
    if image:
        x = ((x - x.mean()) / x.std()).reshape(-1, 8, 8, 1)
    else:
        std = x.std(0)
        x = (x - x.mean(0)) / np.where(std == 0, 1.0, std)
    rng = np.random.default_rng(0)
    reps = -(-N_SAMPLES // len(x))
    idx = np.tile(np.arange(len(x)), reps)[:N_SAMPLES]
    xs = x[idx] + rng.normal(0, 0.05, size=(N_SAMPLES, *x.shape[1:]))
    labels = digits.target[idx]
    order = rng.permutation(N_SAMPLES)
    xs, labels = xs[order].astype(np.float32), labels[order]
    y10 = np.eye(10, dtype=np.float32)[labels]
    y2 = (labels >= 5).astype(np.float32)[:, None]
    return xs, y10, y2


def glorot(rng, shape):
    """Glorot-uniform drawn with NumPy, so every implementation starts from the same weights."""
    receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
    fan_in, fan_out = shape[-2] * receptive, shape[-1] * receptive
    limit = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-limit, limit, size=shape).astype(np.float32)


# ---- models: initial weights, the pure floor function, graphnet and Keras builders -----------
def clipped_ce(y, probs):
    """Keras (JAX backend): renormalized, clipped probabilities, as graphnet's losses."""
    p = jnp.clip(probs / probs.sum(-1, keepdims=True), 1e-7, 1 - 1e-7)
    return -jnp.mean(jnp.sum(y * jnp.log(p), -1))


def clipped_bce(y, probs):
    p = jnp.clip(probs, 1e-7, 1 - 1e-7)
    return -jnp.mean(y * jnp.log(p) + (1 - y) * jnp.log(1 - p))


class M1:
    name, image, heads = "M1 MLP", False, 1

    @staticmethod
    def weights(rng):
        return {"h": [glorot(rng, (64, 512)), np.zeros(512, np.float32)],
                "out": [glorot(rng, (512, 10)), np.zeros(10, np.float32)]}

    @staticmethod
    def loss(p, x, y10, y2):
        h = jax.nn.relu(x @ p["h"][0] + p["h"][1])
        logits = h @ p["out"][0] + p["out"][1]
        if KERAS_LOSS:
            return clipped_ce(y10, jax.nn.softmax(logits))
        return -jnp.mean(jnp.sum(y10 * jax.nn.log_softmax(logits), -1))

    @staticmethod
    def build(lib, w):
        L = lib.layers
        inp = lib.Input((64,))
        h = L.Dense(512, activation="relu", name="h")(inp)
        out = L.Dense(10, activation="softmax", name="out")(h)
        model = lib.Model(inp, out)
        for name, ws in w.items():
            model.get_layer(name).set_weights(ws)
        return model

    @staticmethod
    def compile(model, keras=False, **kw):
        opt = (model_keras_rmsprop() if keras else gn.optimizers.RMSprop())
        model.compile(optimizer=opt, loss="categorical_crossentropy", **kw)

    @staticmethod
    def targets(y10, y2):
        return y10


class M2:
    name, image, heads = "M2 2-branch, 2-head", False, 2

    @staticmethod
    def weights(rng):
        return {"a": [glorot(rng, (64, 256)), np.zeros(256, np.float32)],
                "b": [glorot(rng, (64, 256)), np.zeros(256, np.float32)],
                "mid": [glorot(rng, (512, 128)), np.zeros(128, np.float32)],
                "digit": [glorot(rng, (128, 10)), np.zeros(10, np.float32)],
                "big": [glorot(rng, (128, 1)), np.zeros(1, np.float32)]}

    @staticmethod
    def loss(p, x, y10, y2):
        a = jax.nn.relu(x @ p["a"][0] + p["a"][1])
        b = jnp.tanh(x @ p["b"][0] + p["b"][1])
        h = jax.nn.relu(jnp.concatenate([a, b], -1) @ p["mid"][0] + p["mid"][1])
        l10 = h @ p["digit"][0] + p["digit"][1]
        l2 = h @ p["big"][0] + p["big"][1]
        if KERAS_LOSS:
            return (clipped_ce(y10, jax.nn.softmax(l10)) + clipped_bce(y2, jax.nn.sigmoid(l2))) / 2
        ce = -jnp.mean(jnp.sum(y10 * jax.nn.log_softmax(l10), -1))
        bce = -jnp.mean(y2 * jax.nn.log_sigmoid(l2) + (1 - y2) * jax.nn.log_sigmoid(-l2))
        return (ce + bce) / 2

    @staticmethod
    def build(lib, w):
        L = lib.layers
        inp = lib.Input((64,))
        a = L.Dense(256, activation="relu", name="a")(inp)
        b = L.Dense(256, activation="tanh", name="b")(inp)
        h = L.Dense(128, activation="relu", name="mid")(L.Concatenate()([a, b]))
        model = lib.Model(inp, [L.Dense(10, activation="softmax", name="digit")(h),
                                L.Dense(1, activation="sigmoid", name="big")(h)])
        for name, ws in w.items():
            model.get_layer(name).set_weights(ws)
        return model

    @staticmethod
    def compile(model, keras=False, **kw):
        if keras:   # Keras sums the weighted losses: 0.5/0.5 gives the same mean
            model.compile(optimizer=model_keras_rmsprop(),
                          loss=["categorical_crossentropy", "binary_crossentropy"],
                          loss_weights=[0.5, 0.5], **kw)
        else:
            model.compile(optimizer=gn.optimizers.RMSprop(),
                          loss={"digit": "categorical_crossentropy", "big": "binary_crossentropy"},
                          **kw)

    @staticmethod
    def targets(y10, y2):
        return [y10, y2]


def model_keras_rmsprop():  # noqa: E302
    import keras
    return keras.optimizers.RMSprop(learning_rate=1e-3, rho=0.9, epsilon=1e-7)


# ---- M3: the small inception CNN (needs graphnet.layers.Conv2D) ----------------------------
@jax.custom_vjp
def conv_same(x, k):
    """NHWC/HWIO stride-1 SAME conv (odd kernels) whose gradients are canonical convs: inside
    lax.scan XLA:CPU runs lax.conv's own kernel gradient 14-31x slower (jax-ml/jax#12868)."""
    return jax.lax.conv_general_dilated(x, k, (1, 1), "SAME",
                                        dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _conv_fwd(x, k):
    return conv_same(x, k), (x, k)


def _conv_bwd(res, g):
    x, k = res
    dn = ("NHWC", "HWIO", "NHWC")
    dx = jax.lax.conv_general_dilated(g, jnp.flip(k, (0, 1)).transpose(0, 1, 3, 2), (1, 1),
                                      "SAME", dimension_numbers=dn)
    ph, pw = (k.shape[0] - 1) // 2, (k.shape[1] - 1) // 2
    # Channels become the batch and the batch the contracted feature axis.
    dk = jax.lax.conv_general_dilated(x.transpose(3, 1, 2, 0), g.transpose(1, 2, 0, 3), (1, 1),
                                      [(ph, ph), (pw, pw)], dimension_numbers=dn)
    return dx, dk.transpose(1, 2, 0, 3)


conv_same.defvjp(_conv_fwd, _conv_bwd)


class M3:
    name, image, heads = "M3 inception CNN", True, 1

    @staticmethod
    def weights(rng):
        def conv(kh, cin):
            return [glorot(rng, (kh, kh, cin, 16)), np.zeros(16, np.float32)]
        return {"b1": conv(1, 1), "b2a": conv(1, 1), "b2b": conv(3, 16), "b3": conv(1, 1),
                "out": [glorot(rng, (48, 10)), np.zeros(10, np.float32)]}

    @staticmethod
    def loss(p, x, y10, y2):
        def conv(name, v):
            return jax.nn.relu(conv_same(v, p[name][0]) + p[name][1])
        pooled = jax.lax.reduce_window(x, -jnp.inf, jax.lax.max, (1, 3, 3, 1), (1, 1, 1, 1), "SAME")
        h = jnp.concatenate([conv("b1", x), conv("b2b", conv("b2a", x)), conv("b3", pooled)], -1)
        logits = h.mean((1, 2)) @ p["out"][0] + p["out"][1]
        if KERAS_LOSS:
            return clipped_ce(y10, jax.nn.softmax(logits))
        return -jnp.mean(jnp.sum(y10 * jax.nn.log_softmax(logits), -1))

    @staticmethod
    def build(lib, w):
        L = lib.layers
        inp = lib.Input((8, 8, 1))
        b1 = L.Conv2D(16, 1, padding="same", activation="relu", name="b1")(inp)
        b2 = L.Conv2D(16, 1, padding="same", activation="relu", name="b2a")(inp)
        b2 = L.Conv2D(16, 3, padding="same", activation="relu", name="b2b")(b2)
        b3 = L.MaxPooling2D(3, strides=1, padding="same")(inp)
        b3 = L.Conv2D(16, 1, padding="same", activation="relu", name="b3")(b3)
        h = L.GlobalAveragePooling2D()(L.Concatenate()([b1, b2, b3]))
        model = lib.Model(inp, L.Dense(10, activation="softmax", name="out")(h))
        for name, ws in w.items():
            model.get_layer(name).set_weights(ws)
        return model

    compile = M1.compile
    targets = M1.targets


MODELS = {"M1": M1, "M2": M2}
if hasattr(layers, "Conv2D"):
    MODELS["M3"] = M3


def rmsprop():
    return optax.rmsprop(1e-3, decay=0.9, eps=1e-7, initial_scale=0.0, eps_in_sqrt=True)


# ---- the implementations: each returns the per-epoch wall times ------------------------------
def run_a(model, w, x, y10, y2, batch):
    tx = rmsprop()
    loss_fn = model.loss

    def step(params, opt_state, total, xb, yb10, yb2):
        loss, grads = jax.value_and_grad(loss_fn)(params, xb, yb10, yb2)
        updates, opt_state = tx.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, total + loss
    step = jax.jit(step, donate_argnums=(0, 1, 2))
    steps = len(x) // batch
    cut = [jax.device_put(np.split(a, steps)) for a in (x, y10, y2)]
    jax.block_until_ready(cut)
    params = jax.tree_util.tree_map(jnp.asarray, w)
    opt_state = tx.init(params)
    times, losses = [], []
    for _ in range(EPOCHS):
        t0 = CLOCK()
        total = jnp.zeros((), jnp.float32)
        for i in range(steps):
            params, opt_state, total = step(params, opt_state, total, cut[0][i], cut[1][i], cut[2][i])
        jax.block_until_ready(params)
        losses.append(float(total) / steps)
        times.append(CLOCK() - t0)
    return times, losses


def run_b(model, w, x, y10, y2, batch):
    tx = rmsprop()
    loss_fn = model.loss

    def epoch(params, opt_state, xs, ys10, ys2):
        def step(carry, b):
            params, opt_state, total = carry
            loss, grads = jax.value_and_grad(loss_fn)(params, *b)
            updates, opt_state = tx.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state, total + loss), None
        (params, opt_state, total), _ = jax.lax.scan(
            step, (params, opt_state, jnp.zeros((), jnp.float32)), (xs, ys10, ys2))
        return params, opt_state, total / xs.shape[0]
    epoch = jax.jit(epoch, donate_argnums=(0, 1))
    steps = len(x) // batch
    stacked = [jax.device_put(a.reshape(steps, batch, *a.shape[1:])) for a in (x, y10, y2)]
    jax.block_until_ready(stacked)
    params = jax.tree_util.tree_map(jnp.asarray, w)
    opt_state = tx.init(params)
    times, losses = [], []
    for _ in range(EPOCHS):
        t0 = CLOCK()
        params, opt_state, loss = epoch(params, opt_state, *stacked)
        jax.block_until_ready(params)
        losses.append(float(loss))
        times.append(CLOCK() - t0)
    return times, losses


def run_bk(model, w, x, y10, y2, batch):
    """(b) with the losses computed from clipped probabilities, as Keras and graphnet do:
    the same floor for the model the frameworks actually compile."""
    global KERAS_LOSS
    KERAS_LOSS = True
    try:
        return run_b(model, w, x, y10, y2, batch)
    finally:
        KERAS_LOSS = False


def _epoch_timer(callback_base):
    class Timer(callback_base):
        def __init__(self, start):
            super().__init__()
            self.last, self.times, self.losses = start, [], []

        def on_epoch_begin(self, epoch, logs=None):
            if self.times:
                self.last = CLOCK()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(CLOCK() - self.last)
            self.losses.append(float(logs["loss"]))
    return Timer


def run_gn(model, w, x, y10, y2, batch, spe=None):
    net = model.build(gn, w)
    model.compile(net, steps_per_execution=spe)
    timer = _epoch_timer(gn.callbacks.Callback)(CLOCK())
    timer.last = CLOCK()
    net.fit(x, model.targets(y10, y2), batch_size=batch, epochs=EPOCHS, verbose=0,
            shuffle=False, callbacks=[timer])
    return timer.times, timer.losses


def run_gn_probability_losses(model, w, x, y10, y2, batch):
    """graphnet with its crossentropies computed from the probabilities (as before the losses
    started from the logits behind a softmax/sigmoid): what that costs in compile time."""
    saved = gn.losses.behind_activation
    gn.losses.behind_activation = lambda loss, activation, one_hot_targets=False: None
    try:
        return run_gn(model, w, x, y10, y2, batch)
    finally:
        gn.losses.behind_activation = saved


def run_keras(model, w, x, y10, y2, batch):
    import keras
    net = model.build(keras, w)
    model.compile(net, keras=True)
    timer = _epoch_timer(keras.callbacks.Callback)(CLOCK())
    timer.last = CLOCK()
    net.fit(x, model.targets(y10, y2), batch_size=batch, epochs=EPOCHS, verbose=0,
            shuffle=False, callbacks=[timer])
    return timer.times, timer.losses


# ---- the driver ----------------------------------------------------------------------------------
def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batches", default="32,256")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--samples", type=int, default=N_SAMPLES,
                        help="use fewer samples for a quick check (a multiple of 32*256)")
    parser.add_argument("--spe", default="", help="also time graphnet with these "
                        "steps_per_execution values (0 = the whole epoch), e.g. 8,32,128,0")
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--prob-losses", action="store_true", help="also time graphnet with "
                        "its crossentropies computed from probabilities (gnp)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="time epochs by the wall clock or by this process's CPU seconds")
    parser.add_argument("--phases", action="store_true", help="also print jax.monitoring's "
                        "tracing, lowering and XLA compile seconds of each implementation's run")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    try:
        if args.no_keras:
            raise ImportError
        import keras  # noqa: F401
        have_keras = True
    except ImportError:
        have_keras = False
    print(f"jax {jax.__version__}, devices {jax.devices()}, keras: {have_keras}")
    for key in args.models.split(","):
        model = MODELS.get(key)
        if model is None:
            print(f"{key}: not available (needs graphnet.layers.Conv2D)" if key == "M3" else
                  f"{key}: unknown model")
            continue
        x, y10, y2 = load_data(model.image)
        x, y10, y2 = x[:args.samples], y10[:args.samples], y2[:args.samples]
        w = model.weights(np.random.default_rng(42))
        for batch in [int(b) for b in args.batches.split(",")]:
            impls = {"a": run_a, "b": run_b, "bk": run_bk, "gn": run_gn}
            for k in [int(s) for s in args.spe.split(",") if s]:
                spe = k or len(x) // batch
                impls[f"gn{k or 'E'}"] = partial(run_gn, spe=spe)
            if args.prob_losses:
                impls["gnp"] = run_gn_probability_losses
            if have_keras:
                impls["c"] = run_keras
            measure(model, key, batch, impls, w, x, y10, y2, args.repeats, args.phases)


def measure(model, key, batch, impls, w, x, y10, y2, repeats, show_phases=False):
    names = list(impls)
    for name in names:                                   # warm-up, discarded
        impls[name](model, w, x, y10, y2, batch)
    steady = {n: [] for n in names}
    compile_ = {n: [] for n in names}
    losses = {}
    phases = {n: [] for n in names}
    for r in range(repeats):
        order = names[r % len(names):] + names[:r % len(names)]
        for name in order:
            PHASES.clear()
            times, loss = impls[name](model, w, x, y10, y2, batch)
            phases[name].append(dict(PHASES))
            s = statistics.median(times[1:])
            steady[name].append(s)
            compile_[name].append(times[0] - s)
            losses[name] = loss
    steps = len(x) // batch
    print(f"\n{model.name}, B={batch}: {steps} steps/epoch, {repeats} repeats "
          f"(median (min-max) over repeats; ratios paired per repeat)")
    print(f"{'impl':6} {'us/step':>8} {'/a':>17} {'/b':>17} {'/bk':>17} {'compile s':>9} "
          f"{'/b compile':>17} {'/bk compile':>17}  loss epoch 1, 4")
    for name in names:
        us = statistics.median(steady[name]) / steps * 1e6
        print(f"{name:6} {us:8.0f} {_ratio(steady[name], steady['a']):>17} "
              f"{_ratio(steady[name], steady['b']):>17} "
              f"{_ratio(steady[name], steady['bk']):>17} "
              f"{statistics.median(compile_[name]):9.2f} "
              f"{_ratio(compile_[name], compile_['b']):>17} "
              f"{_ratio(compile_[name], compile_['bk']):>17}  "
              f"{losses[name][0]:.5g}, {losses[name][-1]:.4g}")
    if show_phases:
        print("jax.monitoring seconds per run (median over repeats): tracing to jaxpr, jaxpr to "
              "MLIR, XLA backend compile")
        for name in names:
            keys = ("jaxpr_trace", "jaxpr_to_mlir_module", "backend_compile")
            med = [statistics.median(p.get(k, 0.0) for p in phases[name]) for k in keys]
            print(f"{name:6} trace {med[0]:6.3f}  lower {med[1]:6.3f}  compile {med[2]:6.3f}")


def _ratio(xs, ref):
    ratios = [a / b for a, b in zip(xs, ref)]
    return f"{statistics.median(ratios):.2f} ({min(ratios):.2f}-{max(ratios):.2f})"


if __name__ == "__main__":
    main()
