"""What Keras's layer-writing form costs: an MLP of Keras-form custom layers (add_weight,
call(inputs)) against the same MLP of graphnet's Dense, in the compiled program and in `fit`.

    python bench/bench_keras_form.py [--epochs 5] [--repeats 3]

The variables stand for traced values only while the program is traced, so both forms
should compile to the same operations and train at the same speed.
"""
import argparse
import time

import jax
import numpy as np

import graphnet as gn
from graphnet import layers, ops


class Linear(layers.Layer):
    def __init__(self, units, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.act = units, activation

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs):
        y = ops.matmul(inputs, self.kernel) + self.bias
        return ops.relu(y) if self.act == "relu" else y


def mlp(dense):
    inputs = gn.Input((64,))
    x = inputs
    for _ in range(3):
        x = dense(256, "relu")(x)
    return gn.Model(inputs, dense(10, None)(x))


def equations(model, x):
    jaxpr = jax.make_jaxpr(lambda p, s, x: model.apply(p, s, x)[0])(model.params, model.state, x)
    return len(jaxpr.jaxpr.eqns)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4096, 64)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, 4096)]
    forms = {"graphnet Dense": lambda u, a: layers.Dense(u, activation=a),
             "Keras-form Linear": lambda u, a: Linear(u, a)}
    for name, dense in forms.items():
        model = mlp(dense)
        model.compile("adam", "categorical_crossentropy")
        model.fit(x, y, epochs=1, batch_size=128, verbose=0)          # compile
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            model.fit(x, y, epochs=args.epochs, batch_size=128, verbose=0)
            times.append((time.perf_counter() - start) / args.epochs)
        print(f"{name:18s} forward equations {equations(model, x[:8]):3d}   "
              f"fit epoch (32 steps) best {min(times) * 1e3:7.1f} ms   "
              f"median {np.median(times) * 1e3:7.1f} ms")


if __name__ == "__main__":
    main()
