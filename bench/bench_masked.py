"""Masked sequences in fit: graphnet against the hand-written JAX + optax floor and Keras 3.

Padded id sequences of mixed lengths (padding 0 at the end), a binary label. Models:
  M4  Embedding(mask_zero=True) -> LSTM -> Dense(1, sigmoid): the masked LSTM keeps its
      state over padded steps, as Keras's
  M5  Embedding(mask_zero=True) -> a Transformer encoder block (MultiHeadAttention with the
      padding masks of query and value, Add + LayerNormalization, Dense projection, Add +
      LayerNormalization) -> masked GlobalAveragePooling1D -> Dense(1, sigmoid)
The floors (a, b, bk of bench_fit.py) compute the same masking arithmetic by hand: the masks
come from the ids inside the compiled step, so nothing about them goes to the host.

    python bench/bench_masked.py --models M4,M5 --batches 64 --repeats 5
    python bench/bench_masked.py --models M4 --batches 64 --repeats 1 --samples 1024  # quick
"""
from __future__ import annotations

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import bench_fit as bf  # noqa: E402  (sets KERAS_BACKEND and the repository path)
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402

N_SAMPLES, LENGTH, VOCAB, DIM = 8192, 40, 1000, 32
LARGE_NEGATIVE = -1e9                   # Keras's masked-softmax fill for float32


def load_data(n=N_SAMPLES, length=LENGTH):
    """Ids in [1, VOCAB) padded with 0 to `length` (true lengths uniform in [4, length]);
    the label says whether id 1..VOCAB/2 tokens are the majority."""
    rng = np.random.default_rng(0)
    ids = rng.integers(1, VOCAB, (n, length))
    lengths = rng.integers(4, length + 1, n)
    mask = np.arange(length)[None, :] < lengths[:, None]
    ids = np.where(mask, ids, 0).astype(np.int32)
    label = (((ids > 0) & (ids < VOCAB // 2)).sum(1) * 2 > lengths).astype(np.float32)[:, None]
    return ids, label, label


def bce_head(p, h, y):
    logits = h @ p["out"][0] + p["out"][1]
    if bf.KERAS_LOSS:
        return bf.clipped_bce(y, jax.nn.sigmoid(logits))
    return -jnp.mean(y * jax.nn.log_sigmoid(logits) + (1 - y) * jax.nn.log_sigmoid(-logits))


def dense(rng, n_in, n_out):
    return [bf.glorot(rng, (n_in, n_out)), np.zeros(n_out, np.float32)]


def embedding(rng):
    return [rng.uniform(-0.05, 0.05, (VOCAB, DIM)).astype(np.float32)]


class M4:
    name, image, heads = "M4 Embedding(mask_zero) + LSTM", False, 1
    units = 32

    @classmethod
    def weights(cls, rng):
        u = cls.units
        bias = np.zeros(4 * u, np.float32)
        bias[u:2 * u] = 1.0                             # unit_forget_bias
        q, _ = np.linalg.qr(rng.normal(size=(4 * u, u)))
        return {"emb": embedding(rng),
                "lstm": [bf.glorot(rng, (DIM, 4 * u)), q.T.astype(np.float32), bias],
                "out": dense(rng, u, 1)}

    @staticmethod
    def data(n):
        return load_data(n)

    @classmethod
    def loss(cls, p, ids, y, _):
        kernel, recurrent, bias = p["lstm"]
        x = jnp.take(p["emb"][0], ids, axis=0)
        keep = (ids != 0).T[:, :, None]                 # (T, B, 1)
        projected = jnp.swapaxes(x @ kernel + bias, 0, 1)

        def step(carry, inputs):
            h, c = carry
            z_t, keep_t = inputs
            i, f, g, o = jnp.split(z_t + h @ recurrent, 4, axis=-1)
            c_new = jax.nn.sigmoid(f) * c + jax.nn.sigmoid(i) * jnp.tanh(g)
            h_new = jax.nn.sigmoid(o) * jnp.tanh(c_new)
            return (jnp.where(keep_t, h_new, h), jnp.where(keep_t, c_new, c)), None
        zeros = jnp.zeros((ids.shape[0], cls.units), x.dtype)
        (h, _), _ = jax.lax.scan(step, (zeros, zeros), (projected, keep))
        return bce_head(p, h, y)

    @classmethod
    def build(cls, lib, w):
        L = lib.layers
        ids = lib.Input((None,), dtype="int32")
        x = L.Embedding(VOCAB, DIM, mask_zero=True, name="emb")(ids)
        x = L.LSTM(cls.units, name="lstm")(x)
        model = lib.Model(ids, L.Dense(1, activation="sigmoid", name="out")(x))
        for name, ws in w.items():
            model.get_layer(name).set_weights(ws)
        return model

    @staticmethod
    def compile(model, keras=False, **kw):
        model.compile(optimizer=bf.model_keras_rmsprop() if keras else bf.gn.optimizers.RMSprop(),
                      loss="binary_crossentropy", **kw)

    @staticmethod
    def targets(y, _):
        return y


def layer_norm(x, gamma, beta):
    mean = x.mean(-1, keepdims=True)
    var = jnp.square(x - mean).mean(-1, keepdims=True)
    return (x - mean) * jax.lax.rsqrt(var + 1e-3) * gamma + beta


class M5:
    name, image, heads = "M5 Transformer encoder block, padding masks", False, 1
    num_heads, key_dim, dense_dim = 2, 16, 64

    @classmethod
    def weights(cls, rng):
        h, k = cls.num_heads, cls.key_dim
        mha = []
        for _ in range(3):                              # query, key, value
            mha += [bf.glorot(rng, (DIM, h * k)).reshape(DIM, h, k), np.zeros((h, k), np.float32)]
        mha += [bf.glorot(rng, (h * k, DIM)).reshape(h, k, DIM), np.zeros(DIM, np.float32)]
        norm = [np.ones(DIM, np.float32), np.zeros(DIM, np.float32)]
        return {"emb": embedding(rng), "mha": mha, "norm_1": norm, "norm_2": list(norm),
                "proj_1": dense(rng, DIM, cls.dense_dim), "proj_2": dense(rng, cls.dense_dim, DIM),
                "out": dense(rng, DIM, 1)}

    @staticmethod
    def data(n):
        return load_data(n)

    @classmethod
    def loss(cls, p, ids, y, _):
        qk, qb, kk, kb, vk, vb, ok, ob = p["mha"]
        x = jnp.take(p["emb"][0], ids, axis=0)
        mask = ids != 0
        q = (jnp.einsum("btd,dhk->bthk", x, qk) + qb) / cls.key_dim ** 0.5
        k = jnp.einsum("btd,dhk->bthk", x, kk) + kb
        v = jnp.einsum("btd,dhk->bthk", x, vk) + vb
        scores = jnp.einsum("bshk,bthk->bhst", q, k)
        allowed = (mask[:, :, None] & mask[:, None, :])[:, None]      # query and value masks
        scores = jnp.where(allowed, scores, jnp.asarray(LARGE_NEGATIVE, scores.dtype))
        attended = jnp.einsum("bhst,bthk->bshk", jax.nn.softmax(scores, axis=-1), v)
        a = jnp.einsum("bshk,hkd->bsd", attended, ok) + ob
        x = layer_norm(x + a, *p["norm_1"])
        f = jax.nn.relu(x @ p["proj_1"][0] + p["proj_1"][1]) @ p["proj_2"][0] + p["proj_2"][1]
        x = layer_norm(x + f, *p["norm_2"])
        weights = mask.astype(x.dtype)[:, :, None]
        pooled = (x * weights).sum(1) / weights.sum(1)
        return bce_head(p, pooled, y)

    @classmethod
    def build(cls, lib, w):
        L = lib.layers
        ids = lib.Input((None,), dtype="int32")
        x = L.Embedding(VOCAB, DIM, mask_zero=True, name="emb")(ids)
        a = L.MultiHeadAttention(cls.num_heads, cls.key_dim, name="mha")(x, x)
        x = L.LayerNormalization(name="norm_1")(L.Add()([x, a]))
        f = L.Dense(cls.dense_dim, activation="relu", name="proj_1")(x)
        f = L.Dense(DIM, name="proj_2")(f)
        x = L.LayerNormalization(name="norm_2")(L.Add()([x, f]))
        x = L.GlobalAveragePooling1D()(x)
        model = lib.Model(ids, L.Dense(1, activation="sigmoid", name="out")(x))
        for name, ws in w.items():
            model.get_layer(name).set_weights(ws)
        return model

    compile = M4.compile
    targets = M4.targets


MODELS = {"M4": M4, "M5": M5}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--batches", default="64")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--samples", type=int, default=N_SAMPLES)
    parser.add_argument("--no-keras", action="store_true")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall")
    args = parser.parse_args(argv)
    if args.clock == "cpu":
        bf.CLOCK = __import__("time").process_time
    have_keras = not args.no_keras
    print(f"jax {jax.__version__}, devices {jax.devices()}, keras: {have_keras}")
    for key in args.models.split(","):
        model = MODELS[key]
        x, y, y2 = model.data(args.samples)
        w = model.weights(np.random.default_rng(42))
        for batch in [int(b) for b in args.batches.split(",")]:
            impls = {"a": bf.run_a, "b": bf.run_b, "bk": bf.run_bk, "gn": bf.run_gn}
            if have_keras:
                impls["c"] = bf.run_keras
            bf.measure(model, key, batch, impls, w, x, y, y2, args.repeats)


if __name__ == "__main__":
    main()
