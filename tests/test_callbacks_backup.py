"""BackupAndRestore: a fit interrupted by an exception resumes at the epoch it stopped in,
with the weights and optimizer state of the backup, and ends where an uninterrupted fit does."""
import json
import os

import numpy as np
import pytest

import graphnet as gn
from graphnet import callbacks, layers

rng = np.random.default_rng(4)
X = rng.normal(size=(24, 3)).astype("float32")
Y = rng.normal(size=(24, 2)).astype("float32")


def model_from(weights):
    inputs = gn.Input((3,))
    # Named as a rerun of the same script names them (the optimizer state is by path).
    hidden = layers.Dense(4, activation="tanh", name="hidden")(inputs)
    model = gn.Model(inputs, layers.Dense(2, name="out")(hidden))
    model.set_weights(weights)
    model.compile(gn.optimizers.Adam(0.05), loss="mse")
    return model


class Crash(callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch, self.epochs = at_epoch, []

    def on_epoch_begin(self, epoch, logs=None):
        self.epochs.append(epoch)
        if epoch == self.at_epoch:
            raise RuntimeError("interrupted")


def test_interrupted_fit_resumes_at_its_epoch_and_ends_as_an_uninterrupted_one(tmp_path):
    weights = _fresh().get_weights()
    reference = model_from(weights)
    reference.fit(X, Y, epochs=4, batch_size=8, shuffle=False, verbose=0)

    model = model_from(weights)
    backup_dir = tmp_path / "backup"
    crash = Crash(at_epoch=2)
    with pytest.raises(RuntimeError, match="interrupted"):
        model.fit(X, Y, epochs=4, batch_size=8, shuffle=False, verbose=0,
                  callbacks=[callbacks.BackupAndRestore(backup_dir), crash])
    with open(backup_dir / "training_metadata.json") as f:
        assert json.load(f)["epoch"] == 2
    # A new process would rebuild the model: fresh weights, then fit with the same backup.
    resumed = model_from([np.zeros_like(w) for w in weights])
    seen = Crash(at_epoch=-1)
    history = resumed.fit(X, Y, epochs=4, batch_size=8, shuffle=False, verbose=0,
                          callbacks=[callbacks.BackupAndRestore(backup_dir), seen])
    assert crash.epochs == [0, 1, 2] and seen.epochs == [2, 3]
    assert len(history.history["loss"]) == 2
    for a, b in zip(resumed.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    assert not os.path.exists(backup_dir)          # deleted when fit ends normally


def _fresh():
    gn.utils.set_random_seed(0)
    inputs = gn.Input((3,))
    hidden = layers.Dense(4, activation="tanh", name="hidden")(inputs)
    return gn.Model(inputs, layers.Dense(2, name="out")(hidden))


def test_batch_frequency_double_checkpoint_and_arguments(tmp_path):
    model = model_from(_fresh().get_weights())
    backup = callbacks.BackupAndRestore(tmp_path / "b", save_freq=2, double_checkpoint=True,
                                        delete_checkpoint=False)
    model.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0, callbacks=[backup])
    assert sorted(os.listdir(tmp_path / "b")) == [
        "latest.graphnet", "latest.graphnet.bkp", "training_metadata.json",
        "training_metadata.json.bkp"]
    with open(tmp_path / "b" / "training_metadata.json") as f:
        metadata = json.load(f)
    assert (metadata["epoch"], metadata["batch"]) == (1, 2)   # every 2 of the 3 batches
    with pytest.raises(ValueError, match="save_freq must be 'epoch' or a positive int"):
        callbacks.BackupAndRestore(tmp_path, save_freq="batch")
    with pytest.raises(ValueError, match="backup_dir is empty"):
        callbacks.BackupAndRestore("")


def test_docstring_example_runs():
    import doctest
    from graphnet.callbacks import backup
    failed, attempted = doctest.testmod(backup)
    assert attempted and not failed
