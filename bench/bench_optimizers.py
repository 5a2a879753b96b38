"""Keras-named optimizers against Keras 3: a small MLP (5-16-3, softmax) trained 2 epochs of
7 unshuffled steps from the same weights; prints the largest weight difference to Keras for
graphnet's optimizer and for optax's own rule with the same hyperparameters."""
import os

os.environ.setdefault("KERAS_BACKEND", "jax")
os.environ.setdefault("JAX_PLATFORMS", "cpu")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402

import graphnet as gn  # noqa: E402
from graphnet import layers, optimizers  # noqa: E402


def train_both(ours, theirs):
    r = np.random.default_rng(3)
    x = r.normal(size=(56, 5)).astype("float32")
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype("int32") + (x[:, 3] > 1).astype("int32")
    kin = keras.Input((5,))
    kmodel = keras.Model(kin, keras.layers.Dense(3, activation="softmax")(
        keras.layers.Dense(16, activation="relu")(kin)))
    inp = gn.Input((5,))
    model = gn.Model(inp, layers.Dense(3, activation="softmax")(
        layers.Dense(16, activation="relu")(inp)))
    model.set_weights(kmodel.get_weights())
    kmodel.compile(optimizer=theirs, loss="sparse_categorical_crossentropy")
    model.compile(optimizer=ours, loss="sparse_categorical_crossentropy")
    kmodel.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    return max(float(np.abs(a - b).max()) for a, b in zip(model.get_weights(),
                                                          kmodel.get_weights()))


CASES = [
    ("Adam(0.1)", lambda: optimizers.Adam(0.1), lambda: optax.adam(0.1, eps=1e-7),
     lambda: keras.optimizers.Adam(0.1)),
    ("AdamW(1e-2)", lambda: optimizers.AdamW(1e-2),
     lambda: optax.adamw(1e-2, eps=1e-7, weight_decay=0.004),
     lambda: keras.optimizers.AdamW(1e-2)),
    ("Adam(1e-2, clipnorm=1)", lambda: optimizers.Adam(1e-2, clipnorm=1.0),
     lambda: optax.chain(optax.clip_by_global_norm(1.0), optax.adam(1e-2, eps=1e-7)),
     lambda: keras.optimizers.Adam(1e-2, clipnorm=1.0)),
    ("Nadam(1e-2)", lambda: optimizers.Nadam(1e-2), lambda: optax.nadam(1e-2, eps=1e-7),
     lambda: keras.optimizers.Nadam(1e-2)),
]

if __name__ == "__main__":
    print(f"{'optimizer':<24} {'graphnet vs Keras':>18} {'optax rule vs Keras':>20}")
    for name, ours, plain, theirs in CASES:
        print(f"{name:<24} {train_both(ours(), theirs()):>18.2e} "
              f"{train_both(plain(), theirs()):>20.2e}")
