"""A training loop written by hand around `model.apply`: graphnet builds the network, JAX and
optax train it (scikit-learn's breast cancer data: benign or malignant from 30 measurements).

`model.apply(params, state, x, training=True, rng=key)` is the whole network as a pure
function; the loop takes its gradient with `jax.value_and_grad`, updates with an optax chain
(gradient clipping + AdamW on a cosine schedule) and runs each epoch as one `jax.lax.scan`
inside one `jax.jit`. The trained weights go back into the model, so `evaluate`, `predict`,
`save` and the pictures work as after `fit`. Prints the test accuracy; writes the model's
picture and the loss curve.

    python examples/optax_loop.py [--epochs 40] [--out out]
"""
import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from sklearn.datasets import load_breast_cancer

import graphnet as gn
from graphnet import layers

BATCH_SIZE = 32


def load_data(seed=0):
    """Standardized measurements (statistics of the training rows), labels (n, 1); 80/20."""
    data = load_breast_cancer()
    order = np.random.default_rng(seed).permutation(len(data.target))
    x, y = data.data[order], data.target[order].astype("float32")[:, None]
    cut = int(0.8 * len(y))
    x = ((x - x[:cut].mean(0)) / x[:cut].std(0)).astype("float32")
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])


def build_model():
    inputs = gn.Input(shape=(30,), name="measurements")
    h = layers.Dense(32, activation="relu", name="hidden")(inputs)
    h = layers.Dropout(0.2, name="dropout")(h)
    benign = layers.Dense(1, name="benign_logit")(h)               # a logit: see loss_fn
    return gn.Model(inputs, benign, name="cancer_optax_loop")


def make_train_epoch(model, tx, x, y):
    """A jitted epoch: shuffle on the device, then one optimizer step per batch in a scan."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    steps = len(x) // BATCH_SIZE

    def loss_fn(params, state, xb, yb, key):
        logits, state = model.apply(params, state, xb, training=True, rng=key)
        return optax.sigmoid_binary_cross_entropy(logits, yb).mean(), state

    def step(carry, batch):
        params, state, opt_state, key = carry
        key, dropout_key = jax.random.split(key)
        (loss, state), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            params, state, *batch, dropout_key)
        updates, opt_state = tx.update(grads, opt_state, params)
        return (optax.apply_updates(params, updates), state, opt_state, key), loss

    @jax.jit
    def train_epoch(params, state, opt_state, key):
        key, shuffle_key = jax.random.split(key)
        order = jax.random.permutation(shuffle_key, len(x))[:steps * BATCH_SIZE]
        batches = (x[order].reshape(steps, BATCH_SIZE, -1), y[order].reshape(steps, BATCH_SIZE, 1))
        (params, state, opt_state, key), losses = jax.lax.scan(
            step, (params, state, opt_state, key), batches)
        return params, state, opt_state, key, losses.mean()

    return train_epoch, steps


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=40,
                        help="training epochs (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="folder for the pictures, created if missing (default: out)")
    args = parser.parse_args(argv)

    gn.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test) = load_data()
    model = build_model()
    steps = len(x_train) // BATCH_SIZE
    schedule = optax.cosine_decay_schedule(1e-2, decay_steps=max(args.epochs * steps, 1))
    tx = optax.chain(optax.clip_by_global_norm(1.0), optax.adamw(schedule, weight_decay=1e-4))
    train_epoch, _ = make_train_epoch(model, tx, x_train, y_train)

    params, state = model.params, model.state
    opt_state, key = tx.init(params), jax.random.key(0)
    losses = []
    for epoch in range(args.epochs):
        params, state, opt_state, key, loss = train_epoch(params, state, opt_state, key)
        losses.append(float(loss))
        if (epoch + 1) % 10 == 0 or epoch + 1 == args.epochs:
            print(f"epoch {epoch + 1}: training loss {losses[-1]:.4f}")

    model.params, model.state = params, state                    # the weights go back
    logits = model.predict(x_test, verbose=0)
    accuracy = float(((logits > 0) == (y_test > 0.5)).mean())
    print(f"test accuracy {accuracy:.4f} on {len(y_test)} tumours")

    args.out.mkdir(parents=True, exist_ok=True)
    gn.plot_model(model, args.out / "optax_loop.svg")
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(range(1, len(losses) + 1), losses, marker="o", markersize=3)
    ax.set(xlabel="epoch", ylabel="training loss", title="hand-written optax loop")
    fig.tight_layout()
    fig.savefig(args.out / "optax_loop_loss.png", dpi=96)
    plt.close(fig)
    print(f"wrote {args.out / 'optax_loop.svg'}, {args.out / 'optax_loop_loss.png'}")
    return {"test_accuracy": accuracy}


if __name__ == "__main__":
    main()
