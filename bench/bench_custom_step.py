"""A Keras 3 JAX `train_step` under graphnet's fit against graphnet's built-in fit and
Keras 3 running the same step (bench/RESULTS.md).

Model M1 of bench_fit.py (MLP 64 -> 512 relu -> 10 softmax, categorical crossentropy,
RMSprop with Keras's defaults), the same initial weights for every implementation, 4 epochs,
shuffle off; steady epoch = median of epochs 2-4. Implementations, interleaved and rotated
every repeat:
  gn   graphnet `fit`, its built-in step (the crossentropy from the logits behind the softmax)
  gnp  the same with the crossentropy from the probabilities, as the custom step computes it
  gnc  graphnet `fit` running the keras.io guide's `train_step` (compute_loss, stateless_apply,
       a Mean loss tracker)
  kc   Keras 3 `fit` running the same `train_step`

    python bench/bench_custom_step.py --batches 32,256 --repeats 4 [--clock cpu]
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("KERAS_BACKEND", "jax")
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

import graphnet as gn  # noqa: E402
from bench_fit import M1, glorot, load_data, model_keras_rmsprop  # noqa: E402

EPOCHS = 4
CLOCK = time.perf_counter     # --clock cpu: process CPU seconds, steadier on a loaded machine


class GnMean(gn.metrics.Metric):
    """Keras's Mean written Keras's way (what the guide's loss tracker is)."""

    def __init__(self, name="mean"):
        super().__init__(name=name)
        self.total = self.add_weight(name="total", initializer="zeros")
        self.count = self.add_weight(name="count", initializer="zeros")

    def update_state(self, values, sample_weight=None):
        values = jnp.asarray(values, "float32")
        self.total.assign_add(jnp.sum(values))
        self.count.assign_add(jnp.asarray(values.size, "float32"))

    def result(self):
        return self.total.value / jnp.maximum(self.count.value, 1.0)


def custom_class(lib, mean):
    class CustomModel(lib.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.loss_tracker = mean(name="loss")

        def compute_loss_and_updates(self, trainable_variables, non_trainable_variables, x, y):
            y_pred, non_trainable_variables = self.stateless_call(
                trainable_variables, non_trainable_variables, x, training=True)
            return self.compute_loss(x, y, y_pred), non_trainable_variables

        def train_step(self, state, data):
            (trainable_variables, non_trainable_variables, optimizer_variables,
             metrics_variables) = state
            x, y = data[0], data[1]
            grad_fn = jax.value_and_grad(self.compute_loss_and_updates, has_aux=True)
            (loss, non_trainable_variables), grads = grad_fn(
                trainable_variables, non_trainable_variables, x, y)
            trainable_variables, optimizer_variables = self.optimizer.stateless_apply(
                optimizer_variables, grads, trainable_variables)
            metrics_variables = self.loss_tracker.stateless_update_state(metrics_variables,
                                                                         loss)
            logs = {"loss": self.loss_tracker.stateless_result(metrics_variables)}
            return logs, (trainable_variables, non_trainable_variables, optimizer_variables,
                          metrics_variables)

        @property
        def metrics(self):
            return [self.loss_tracker]
    return CustomModel


def build(lib, cls, w):
    L = lib.layers
    inp = lib.Input((64,))
    h = L.Dense(512, activation="relu", name="h")(inp)
    model = cls(inp, L.Dense(10, activation="softmax", name="out")(h))
    for name, ws in w.items():
        model.get_layer(name).set_weights(ws)
    return model


def timed_fit(lib, model, x, y, batch):
    marks = []

    class Clock(lib.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            marks.append([CLOCK()])

        def on_epoch_end(self, epoch, logs=None):
            marks[-1].append(CLOCK())
            marks[-1].append(float(logs["loss"]))
    model.fit(x, y, batch_size=batch, epochs=EPOCHS, verbose=0, shuffle=False,
              callbacks=[Clock()])
    steady = statistics.median(end - start for start, end, _ in marks[1:])
    return steady, [loss for _, _, loss in marks]


def run(name, x, y, batch, w):
    import keras
    if name == "gn":
        model = build(gn, gn.Model, w)
        M1.compile(model)
        return timed_fit(gn, model, x, y, batch)
    if name == "gnp":
        saved = gn.losses.behind_activation
        gn.losses.behind_activation = lambda loss, activation, one_hot_targets=False: None
        try:
            return run("gn", x, y, batch, w)
        finally:
            gn.losses.behind_activation = saved
    if name == "gnc":
        model = build(gn, custom_class(gn, GnMean), w)
        model.compile(optimizer=gn.optimizers.RMSprop(), loss="categorical_crossentropy")
        return timed_fit(gn, model, x, y, batch)
    model = build(keras, custom_class(keras, keras.metrics.Mean), w)
    model.compile(optimizer=model_keras_rmsprop(), loss="categorical_crossentropy")
    return timed_fit(keras, model, x, y, batch)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--batches", default="32,256")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=57_344)
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args()
    global CLOCK
    CLOCK = time.process_time if args.clock == "cpu" else time.perf_counter
    x, y10, _ = load_data(False)
    x, y10 = x[:args.samples], y10[:args.samples]
    names = ["gn", "gnp", "gnc", "kc"]
    print(f"jax {jax.__version__}, {jax.devices()[0].platform}; M1, {len(x)} samples, "
          f"{EPOCHS} epochs, steady = median of epochs 2-{EPOCHS}, {args.clock} clock")
    for batch in (int(b) for b in args.batches.split(",")):
        w = M1.weights(np.random.default_rng(0))
        ratios = {"gnc/gn": [], "gnc/gnp": [], "kc/gn": [], "kc/gnc": []}
        steps = -(-len(x) // batch)
        for repeat in range(args.repeats):
            order = names[repeat % len(names):] + names[:repeat % len(names)]
            times, losses = {}, {}
            for name in order:
                times[name], losses[name] = run(name, x, y10, batch, w)
            ratios["gnc/gn"].append(times["gnc"] / times["gn"])
            ratios["gnc/gnp"].append(times["gnc"] / times["gnp"])
            ratios["kc/gn"].append(times["kc"] / times["gn"])
            ratios["kc/gnc"].append(times["kc"] / times["gnc"])
            print(f"B={batch} repeat {repeat + 1}: " + ", ".join(
                f"{n} {times[n] / steps * 1e6:.0f} us/step" for n in names) +
                "; losses epoch 1/4: " + ", ".join(
                f"{n} {losses[n][0]:.5f}/{losses[n][-1]:.5f}" for n in names), flush=True)
        print(f"B={batch}: " + ", ".join(
            f"{k} {statistics.median(v):.2f} ({min(v):.2f}-{max(v):.2f})"
            for k, v in ratios.items()), flush=True)


if __name__ == "__main__":
    main()
