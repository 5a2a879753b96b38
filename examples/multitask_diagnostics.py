"""Three heads on one trunk, on scikit-learn's digits: what each head does to the trunk,
with and without balancing.

The heads: "digit" (which of 10, softmax), "big" (5 or more, sigmoid) and "ink" (how much
ink the digit uses, a regression whose loss is on another scale). The same model trains
three times from the same weights:

  plain        the total is the mean of the three losses
  uncertainty  loss_weights="uncertainty": learned weights exp(-s_i) (Kendall et al. 2018)
  pcgrad       grad_combine="pcgrad": conflicting trunk gradients projected apart (Yu et al.)

Each run logs, per epoch, every head's share of the total and the norm of its gradient on
the shared trunk, and how much the heads' trunk gradients agree (head_diagnostics=True).
The script prints them, then writes the model's picture with its trunk marked and each
run's curves.

    python examples/multitask_diagnostics.py [--epochs 20] [--out out]
    python examples/multitask_diagnostics.py --smoke      # a few steps, for the tests
"""
import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

import graphnet as gn
from graphnet import layers

RUNS = {"plain": {}, "uncertainty": {"loss_weights": "uncertainty"},
        "pcgrad": {"grad_combine": "pcgrad"}}


def load_data(seed: int = 0):
    """Pixels in [0, 1], shuffled once; the ink target is the total ink in units of 100."""
    digits = load_digits()
    order = np.random.default_rng(seed).permutation(len(digits.target))
    x = (digits.data[order] / 16.0).astype("float32")
    digit = digits.target[order].astype("int32")
    return x, {"digit": digit,
               "big": (digit >= 5).astype("float32")[:, None],
               "ink": (digits.data[order].sum(1, keepdims=True) / 100.0).astype("float32")}


def build_model(seed: int = 0):
    gn.utils.set_random_seed(seed)
    pixels = gn.Input(shape=(64,), name="pixels")
    h = layers.Dense(64, activation="relu", name="trunk_1")(pixels)
    h = layers.Dense(32, activation="relu", name="trunk_2")(h)
    digit = layers.Dense(10, activation="softmax", name="digit")(h)
    big = layers.Dense(1, activation="sigmoid", name="big")(h)
    ink = layers.Dense(1, name="ink")(layers.Dense(8, activation="relu", name="ink_hidden")(h))
    return gn.Model(pixels, [digit, big, ink], name="multitask")


def compile_model(model, **options):
    model.compile(optimizer="adam",
                  loss={"digit": "sparse_categorical_crossentropy",
                        "big": "binary_crossentropy", "ink": "mse"},
                  metrics={"digit": ["accuracy"], "big": ["accuracy"], "ink": ["mae"]},
                  head_diagnostics=True, **options)


def report(name, model, history) -> str:
    """The last epoch's diagnostics and validation results of one run."""
    h = {key: values[-1] for key, values in history.history.items()}
    lines = [f"{name}: trunk gradient cosine {h['grad_cosine']:+.3f}, "
             f"conflicting pairs {h['grad_conflict']:.2f}"]
    for out in model.output_names:
        weight = f"  weight {h[out + '_loss_weight']:.3f}" if out + "_loss_weight" in h else ""
        metric = "accuracy" if out != "ink" else "mae"
        lines.append(f"  {out:<6} loss share {h[out + '_loss_share']:.3f}  trunk grad norm "
                     f"{h[out + '_grad_norm']:.4f}{weight}  val {metric} "
                     f"{h[f'val_{out}_{metric}']:.4f}")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=20,
                        help="training epochs (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="folder for the pictures, created if missing (default: out)")
    parser.add_argument("--smoke", action="store_true",
                        help="2 epochs on 256 samples: checks that everything runs")
    args = parser.parse_args(argv)
    x, y = load_data()
    epochs = args.epochs
    if args.smoke:
        x, y, epochs = x[:256], {k: v[:256] for k, v in y.items()}, 2
    args.out.mkdir(parents=True, exist_ok=True)
    histories = {}
    for name, options in RUNS.items():
        model = build_model()                       # the same initial weights every run
        compile_model(model, **options)
        history = model.fit(x, y, epochs=epochs, batch_size=32, validation_split=0.2,
                            verbose=0)
        histories[name] = history
        print(report(name, model, history))
        history.plot(args.out / f"multitask_{name}.png")
    gn.plot_model(model, args.out / "multitask_model.svg", show_trunk=True)
    print(f"wrote: {args.out / 'multitask_model.svg'} and "
          + ", ".join(str(args.out / f"multitask_{n}.png") for n in RUNS))
    return histories


if __name__ == "__main__":
    main()
