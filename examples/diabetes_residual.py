"""Residual regression: disease progression one year on, from 10 baseline measurements
(scikit-learn's diabetes data, 442 patients).

A stem projects the measurements to 32 features, two residual blocks each add a learned
correction to their input (`x + F(x)`, with `Add`), and one linear unit predicts the
(standardized) target. Prints the test mean absolute error in the target's own units and R^2;
writes the model's picture and the training curves.

    python examples/diabetes_residual.py [--epochs 150] [--out out]
"""
import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import LinearRegression

import graphnet as gn
from graphnet import layers


def load_data(seed=0):
    """Standardized features and target (statistics of the training rows), split 80/20."""
    data = load_diabetes()
    order = np.random.default_rng(seed).permutation(len(data.target))
    x, y = data.data[order], data.target[order][:, None]
    cut = int(0.8 * len(y))
    x_mean, x_std = x[:cut].mean(0), x[:cut].std(0)
    y_mean, y_std = y[:cut].mean(), y[:cut].std()
    x = ((x - x_mean) / x_std).astype("float32")
    y = ((y - y_mean) / y_std).astype("float32")
    return (x[:cut], y[:cut]), (x[cut:], y[cut:]), (float(y_mean), float(y_std))


def residual_block(x, units, name):
    """x + Dense(Dense(x)), then relu: the block learns a correction to its input."""
    h = layers.Dense(units, activation="relu", name=f"{name}_dense_1")(x)
    h = layers.Dense(units, name=f"{name}_dense_2")(h)
    return layers.Activation("relu", name=f"{name}_relu")(layers.Add(name=f"{name}_add")([x, h]))


def build_model():
    inputs = gn.Input(shape=(10,), name="measurements")
    x = layers.Dense(32, activation="relu", name="stem")(inputs)
    x = residual_block(x, 32, "block_1")
    x = residual_block(x, 32, "block_2")
    x = layers.Dropout(0.2, name="dropout")(x)
    progression = layers.Dense(1, name="progression")(x)
    return gn.Model(inputs, progression, name="diabetes_residual")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=150,
                        help="training epochs (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="folder for the pictures, created if missing (default: out)")
    args = parser.parse_args(argv)

    gn.utils.set_random_seed(0)
    (x_train, y_train), (x_test, y_test), (y_mean, y_std) = load_data()
    model = build_model()
    model.compile(optimizer=gn.optimizers.Adam(1e-3), loss="mse", metrics=["mae"])
    history = model.fit(
        x_train, y_train, epochs=args.epochs, batch_size=32, validation_split=0.15, verbose=0,
        callbacks=[gn.callbacks.EarlyStopping(patience=20, restore_best_weights=True)])
    pred = model.predict(x_test, verbose=0)
    mae = float(np.abs(pred - y_test).mean()) * y_std
    r2 = 1 - float(((pred - y_test) ** 2).sum() / ((y_test - y_test.mean()) ** 2).sum())
    print(f"after {len(history.history['loss'])} epochs: test MAE {mae:.1f} "
          f"(target mean {y_mean:.0f}, std {y_std:.0f}), R^2 {r2:.3f} on {len(y_test)} patients")
    baseline = LinearRegression().fit(x_train, y_train).score(x_test, y_test)
    print(f"a linear regression on the same split: R^2 {baseline:.3f}")

    args.out.mkdir(parents=True, exist_ok=True)
    gn.plot_model(model, args.out / "diabetes_residual.svg")
    history.plot(args.out / "diabetes_residual_history.png")
    print(f"wrote {args.out / 'diabetes_residual.svg'}, "
          f"{args.out / 'diabetes_residual_history.png'}")
    return {"test_mae": mae, "test_r2": r2}


if __name__ == "__main__":
    main()
