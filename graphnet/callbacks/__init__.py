"""Keras callbacks: hooks around epochs and dispatches, with `self.model` set by fit,
evaluate and predict.

Batch hooks run once per dispatch of K steps (as Keras's with steps_per_execution), with
the index of the dispatch's last batch and the running logs.
"""
from .base import Callback, CallbackList, History, wants_batch_logs
from .builtin import (CSVLogger, EarlyStopping, LambdaCallback, LearningRateScheduler,
                      ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN)
from .backup import BackupAndRestore
from .remote import RemoteMonitor
from .tensorboard import TensorBoard
from .swap_ema import SwapEMAWeights
from .progbar import ProgbarLogger
