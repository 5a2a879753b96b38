"""Two groups of measurements, two branches, one answer: wine cultivars (scikit-learn's wine).

The 13 measurements of each wine are split into two inputs: its chemistry (alcohol, acids,
phenols, ...) and its colour and ageing (colour intensity, hue, OD280/OD315, proline). Each
input has its own small branch; the branches are concatenated and one softmax head names
the cultivar. The wines are split three ways: training (60%), validation (15%, watched by
EarlyStopping, which stops when the validation loss has not improved for 10 epochs and puts
back the best epoch's weights) and test (25%, seen only by the final evaluation). Prints the
test accuracy; writes the model's picture and the training curves.

    python examples/wine_two_branch.py [--epochs 300] [--out out]     # stops early, near epoch 70
"""
import argparse
from pathlib import Path

import numpy as np
from sklearn.datasets import load_wine

import graphnet as gn
from graphnet import layers

COLOUR = ["color_intensity", "hue", "od280/od315_of_diluted_wines", "proline"]


def load_data(seed=0):
    """(train, validation, test), each ({'chemistry': (n, 9), 'colour': (n, 4)}, labels),
    standardized with the training rows' mean and deviation."""
    wine = load_wine()
    names = list(wine.feature_names)
    colour = [names.index(n) for n in COLOUR]
    chemistry = [i for i in range(len(names)) if i not in colour]
    order = np.random.default_rng(seed).permutation(len(wine.target))
    x, y = wine.data[order], wine.target[order].astype("int32")
    cut, test = int(0.60 * len(y)), int(0.75 * len(y))
    mean, std = x[:cut].mean(0), x[:cut].std(0)
    x = ((x - mean) / std).astype("float32")

    def split(rows):
        return {"chemistry": x[rows][:, chemistry], "colour": x[rows][:, colour]}, y[rows]

    return split(slice(0, cut)), split(slice(cut, test)), split(slice(test, None))


def build_model():
    chemistry = gn.Input(shape=(9,), name="chemistry")
    colour = gn.Input(shape=(4,), name="colour")
    a = layers.Dense(16, activation="relu", name="chemistry_branch")(chemistry)
    b = layers.Dense(8, activation="relu", name="colour_branch")(colour)
    h = layers.Concatenate(name="both")([a, b])
    h = layers.Dropout(0.2, name="dropout")(h)
    cultivar = layers.Dense(3, activation="softmax", name="cultivar")(h)
    return gn.Model([chemistry, colour], cultivar, name="wine_two_branch")


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=300,
                        help="training epochs (default: %(default)s)")
    parser.add_argument("--out", type=Path, default=Path("out"),
                        help="folder for the pictures, created if missing (default: out)")
    args = parser.parse_args(argv)

    gn.utils.set_random_seed(0)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = load_data()
    model = build_model()
    model.compile(optimizer=gn.optimizers.Adam(5e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    stop = gn.callbacks.EarlyStopping(monitor="val_loss", patience=10, restore_best_weights=True)
    history = model.fit(x_train, y_train, epochs=args.epochs, batch_size=16,
                        validation_data=(x_val, y_val), callbacks=[stop], verbose=0)
    loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
    print(f"trained {len(history.history['loss'])} of {args.epochs} epochs "
          f"(best validation loss at epoch {stop.best_epoch + 1}): "
          f"test accuracy {accuracy:.4f} (loss {loss:.4f}) on {len(y_test)} wines")

    args.out.mkdir(parents=True, exist_ok=True)
    gn.plot_model(model, args.out / "wine_two_branch.svg", rankdir="LR")
    history.plot(args.out / "wine_two_branch_history.png")
    print(f"wrote {args.out / 'wine_two_branch.svg'}, {args.out / 'wine_two_branch_history.png'}")
    return {"test_accuracy": accuracy}


if __name__ == "__main__":
    main()
