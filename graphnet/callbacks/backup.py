"""Keras BackupAndRestore: an interrupted `fit` resumes at the epoch it stopped in."""
import json
import os

import numpy as np

from .. import files
from .base import Callback


class BackupAndRestore(Callback):
    """Keras BackupAndRestore(backup_dir, save_freq="epoch", double_checkpoint=False,
    delete_checkpoint=True): back up the model, its optimizer state and the epoch after each
    epoch (or every `save_freq` batches); a later `fit` with the same callback starts from
    the backup, at the epoch the interrupted one was in.

    The backup is a `.graphnet` model file (weights and optimizer state, written atomically)
    and a small JSON file, so resuming continues the same optimizer trajectory. When `fit`
    ends normally, `delete_checkpoint` removes the files this callback wrote (and the folder,
    if that leaves it empty), never anything else in `backup_dir`.

    >>> import tempfile
    >>> from graphnet import callbacks
    >>> backup = callbacks.BackupAndRestore(tempfile.mkdtemp())
    >>> backup.save_freq
    'epoch'
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("BackupAndRestore: backup_dir is empty; pass the folder to keep "
                             "the backup in")
        if save_freq != "epoch" and (not isinstance(save_freq, (int, np.integer))
                                     or isinstance(save_freq, bool) or save_freq < 1):
            raise ValueError(f"BackupAndRestore: save_freq must be 'epoch' or a positive int "
                             f"(batches), received {save_freq!r}")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq, self.double_checkpoint = save_freq, double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self.resume_epoch = None
        self._current_epoch = 0
        self._last_batch_seen = 0
        self._batches_since_saving = 0

    @property
    def model_path(self) -> str:
        """The backup's model file (weights and optimizer state)."""
        return os.path.join(self.backup_dir, "latest.graphnet")

    @property
    def metadata_path(self) -> str:
        """The backup's epoch, batch and training step, as JSON."""
        return os.path.join(self.backup_dir, "training_metadata.json")

    def on_train_begin(self, logs=None):
        self.resume_epoch = None
        try:
            self._restore(self.model_path, self.metadata_path)
        except (OSError, ValueError):
            if not os.path.exists(self.model_path + ".bkp"):
                raise
            self._restore(self.model_path + ".bkp", self.metadata_path + ".bkp")

    def _restore(self, model_path, metadata_path):
        if not os.path.exists(model_path):
            return
        self.model.load_weights(model_path)
        if self.model.opt_state is not None:
            files.entry("load_optimizer_state")(self.model, model_path)
        if os.path.exists(metadata_path):
            with open(metadata_path, encoding="utf-8") as f:
                metadata = json.load(f)
            if metadata.get("training_step") is not None and self.model.opt_state is not None:
                self.model.training_step = np.asarray(metadata["training_step"], np.int32)
            self.resume_epoch = int(metadata["epoch"])
            self._current_epoch = self.resume_epoch

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save()

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq == "epoch":
            return
        # Keras's count: a batch index at or below the last one seen starts a new epoch.
        seen = batch + 1 if batch <= self._last_batch_seen else batch - self._last_batch_seen
        self._batches_since_saving += seen
        self._last_batch_seen = batch
        if self._batches_since_saving >= self.save_freq:
            self._batches_since_saving = 0
            self._save()

    def _save(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path in (self.model_path, self.metadata_path):
                if os.path.exists(path):
                    os.replace(path, path + ".bkp")
        self.model.save(self.model_path, include_optimizer=True)
        step = self.model.training_step
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen,
                    "training_step": None if step is None else int(np.asarray(step))}
        partial = self.metadata_path + ".partial"
        with open(partial, "w", encoding="utf-8") as f:
            json.dump(metadata, f)
        os.replace(partial, self.metadata_path)

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint:
            return
        for path in (self.model_path, self.metadata_path):
            for name in (path, path + ".bkp"):
                if os.path.exists(name):
                    os.remove(name)
        if os.path.isdir(self.backup_dir) and not os.listdir(self.backup_dir):
            os.rmdir(self.backup_dir)
