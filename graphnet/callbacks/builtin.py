"""Keras's ready-made callbacks: early stopping, checkpoints, learning-rate changes
(on a plateau or by schedule), stopping on NaN, a CSV log, and hooks given as functions."""
from __future__ import annotations

import csv
import math
import os
import warnings

import numpy as np

from .base import Callback


class _Monitor(Callback):
    """Shared by EarlyStopping and ReduceLROnPlateau: which way is better."""

    def __init__(self, monitor, mode, min_delta):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            raise ValueError(f"{type(self).__name__}: mode must be 'auto', 'min' or 'max', "
                             f"received {mode!r}")
        self.monitor, self.mode, self.min_delta = monitor, mode, abs(min_delta)

    def _maximize(self) -> bool:
        if self.mode != "auto":
            return self.mode == "max"
        name = self.monitor.removeprefix("val_")
        return any(word in name for word in ("acc", "auc", "precision", "recall"))

    def _is_improvement(self, current, reference) -> bool:
        if reference is None:
            return True
        if self._maximize():
            return current - self.min_delta > reference
        return current + self.min_delta < reference

    def _value(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"{type(self).__name__} is conditioned on '{self.monitor}', which is "
                          f"not in the logs; available: {sorted(logs or {})}", stacklevel=3)
        return value


class EarlyStopping(_Monitor):
    """Keras EarlyStopping: stop after `patience` epochs without improvement; with
    `restore_best_weights`, the best epoch's weights are put back at the end.

    Examples:
        >>> stop = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
        >>> stop.patience
        2
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta)
        self.patience, self.verbose, self.baseline = int(patience), verbose, baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best = 0, 0, None
        self.best_weights, self.best_epoch = None, 0

    def on_epoch_end(self, epoch, logs=None):
        current = self._value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights, self.best_epoch = self.model.get_weights(), epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class ModelCheckpoint(_Monitor):
    """Keras ModelCheckpoint: save the model (or its weights) after each epoch.

    `filepath` may hold `{epoch}` and log keys (`"ckpt-{epoch:02d}-{val_loss:.3f}.graphnet"`);
    its ending names the format written: `.keras` a Keras model file, `.weights.h5` Keras
    weights (with `save_weights_only=True`), `.graphnet` graphnet's file. Saves are atomic, so
    a crash mid-save leaves the previous checkpoint intact.

    Examples:
        >>> save = callbacks.ModelCheckpoint("best.weights.h5", save_best_only=True, save_weights_only=True)
        >>> save.monitor
        'val_loss'
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__(monitor, mode, 0)
        if save_freq != "epoch":
            raise ValueError(f"ModelCheckpoint: only save_freq='epoch' is supported, received "
                             f"{save_freq!r}")
        self.filepath, self.verbose = str(filepath), verbose
        _check_checkpoint_ending(self.filepath, save_weights_only)
        self.save_best_only, self.save_weights_only = save_best_only, save_weights_only
        self.best = initial_value_threshold

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        try:
            path = self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as err:
            raise KeyError(f"ModelCheckpoint filepath {self.filepath!r} names {err}, which is not "
                           f"in the logs {sorted(logs)}") from None
        if self.save_best_only:
            current = self._value(logs)
            if current is None or not self._is_improvement(current, self.best):
                return
            if self.verbose > 0:
                print(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best} to "
                      f"{current:.5f}, saving model to {path}")
            self.best = current
        if self.save_weights_only:
            self.model.save_weights(path)
        else:
            self.model.save(path)


def _check_checkpoint_ending(filepath: str, save_weights_only: bool) -> None:
    """The file's ending names its format, as in Keras 3; a wrong ending fails before
    training rather than at the first save."""
    name = filepath.lower()
    if save_weights_only:
        if not name.endswith((".weights.h5", ".graphnet")):
            raise ValueError(f"ModelCheckpoint: with save_weights_only=True the filepath must "
                             f"end in '.weights.h5' (Keras weights) or '.graphnet' (graphnet "
                             f"weights), received {filepath!r}")
    elif not name.endswith((".keras", ".graphnet")):
        raise ValueError(f"ModelCheckpoint: the filepath must end in '.keras' (a Keras model "
                         f"file) or '.graphnet' (graphnet's), received {filepath!r}; to save "
                         f"weights only, pass save_weights_only=True and a '.weights.h5' path")


class ReduceLROnPlateau(_Monitor):
    """Keras ReduceLROnPlateau: multiply the optimizer's learning rate by `factor` after
    `patience` epochs without improvement (the new rate takes effect without a recompile).

    Examples:
        >>> reduce = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
        >>> reduce.factor
        0.5
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau() got unexpected keyword argument(s) {sorted(kwargs)}")
        super().__init__(monitor, mode, min_delta)
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support factor >= 1.0, received {factor}")
        self.factor, self.patience, self.verbose = float(factor), int(patience), verbose
        self.cooldown, self.min_lr = int(cooldown), float(min_lr)

    def on_train_begin(self, logs=None):
        self.best, self.cooldown_counter, self.wait = None, 0, 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = self._value(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best, self.wait = current, 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old = float(optimizer.learning_rate)
                if old > np.float32(self.min_lr):
                    new = max(old * self.factor, self.min_lr)
                    optimizer.learning_rate = new
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Keras LearningRateScheduler: at each epoch's start, sets the optimizer's learning rate
    to `schedule(epoch, lr)` (or `schedule(epoch)`); logs `learning_rate` at its end.

    Examples:
        >>> schedule = callbacks.LearningRateScheduler(lambda epoch, lr: lr * 0.9)
        >>> round(schedule.schedule(1, 0.1), 4)
        0.09
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise TypeError(f"LearningRateScheduler: schedule must be a function (epoch, lr) -> "
                            f"lr, received {schedule!r}")
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = float(optimizer.learning_rate)
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:                 # the one-argument form, as Keras allows
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, int, np.floating, np.integer)) or isinstance(lr, bool):
            raise ValueError(f"LearningRateScheduler: the schedule must return a float, received "
                             f"{lr!r} for epoch {epoch}")
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class TerminateOnNaN(Callback):
    """Stops training when the loss becomes NaN or infinite, saying at which epoch and batch.

    With this callback, fit ends each compiled dispatch right after the first step whose
    loss is not finite, and reports that batch: no further step runs on broken weights.

    Examples:
        >>> isinstance(callbacks.TerminateOnNaN(), callbacks.Callback)
        True
    """

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(loss):
            self.epoch, self.batch = getattr(self, "_epoch", 0), batch
            print(f"Epoch {self.epoch + 1}, batch {batch}: invalid loss {loss}, terminating "
                  f"training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Keras CSVLogger: one row per epoch, columns `epoch` then the sorted log keys.

    Examples:
        >>> log = callbacks.CSVLogger("training.csv", append=False)
        >>> log.filename
        'training.csv'
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, append
        self.keys = None
        self._file = None

    def on_train_begin(self, logs=None):
        has_rows = self.append and os.path.exists(self.filename) and os.path.getsize(self.filename)
        self._file = open(self.filename, "a" if self.append else "w", newline="")
        self._header_written = bool(has_rows)
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self.keys is None:
            self.keys = sorted(logs)
        writer = csv.writer(self._file, delimiter=self.sep)
        if not self._header_written:
            writer.writerow(["epoch", *self.keys])
            self._header_written = True
        writer.writerow([epoch, *(logs.get(k, "NA") for k in self.keys)])
        self._file.flush()

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class LambdaCallback(Callback):
    """Keras LambdaCallback: hooks given as functions, e.g. on_epoch_end=lambda epoch, logs: ...

    Examples:
        >>> seen = []
        >>> cb = callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
        >>> cb.on_epoch_end(0, {})
        >>> seen
        [0]
    """

    _HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
              "on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end",
              "on_test_begin", "on_test_end", "on_predict_begin", "on_predict_end")

    def __init__(self, **hooks):
        super().__init__()
        unknown = set(hooks) - set(self._HOOKS)
        if unknown:
            raise TypeError(f"LambdaCallback got unknown hook(s) {sorted(unknown)}; valid: "
                            f"{list(self._HOOKS)}")
        for name, fn in hooks.items():
            if fn is not None:
                setattr(self, name, fn)
