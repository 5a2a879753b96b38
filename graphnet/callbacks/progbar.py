"""Keras's ProgbarLogger: the progress display of fit, evaluate and predict."""
from __future__ import annotations

import sys
import time

import numpy as np

from .base import Callback


def fmt(logs):
    """One line of logs; a metric with a vector result (F1Score per class) prints its values."""
    def value(v):
        if np.ndim(v):
            return np.array2string(np.asarray(v), precision=4, separator=", ")
        return f"{v:.4g}"
    return " - ".join(f"{k}: {value(v)}" for k, v in logs.items())


class ProgbarLogger(Callback):
    """Keras ProgbarLogger(): a bar per epoch counting steps (verbose=1), one line per epoch
    (verbose=2), or nothing (verbose=0), with the running metrics.

    As in Keras, `fit` draws through this callback when one is passed and makes one itself
    otherwise, so passing it never draws a second bar. The loop moves the bar between
    dispatches, not from batch hooks, so it never forces a read-back per batch.

    Examples:
        >>> bar = callbacks.ProgbarLogger()
        >>> bar.set_params({"verbose": "auto", "epochs": 3, "steps": 10})
        >>> bar.verbose, bar.epochs, bar.target
        (1, 3, 10)
    """

    def __init__(self):
        super().__init__()
        self.verbose, self.epochs, self.target, self.bar = 1, 1, None, None

    def set_params(self, params):
        """Keras's: the verbosity ("auto" is 1), the epochs and the steps of `fit`."""
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def begin(self, epoch, total, desc=None):
        """An epoch (or an evaluation) of `total` steps starts."""
        self.t0 = time.perf_counter()
        if self.verbose == 1:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, desc=desc or f"Epoch {epoch + 1}/{self.epochs}",
                            unit="step", file=sys.stdout, dynamic_ncols=True, leave=True)

    def update(self, count, logs):
        """`count` more steps ran; `logs` are the running metrics."""
        if self.bar is not None:
            self.bar.update(count)
            self.bar.set_postfix_str(fmt(logs), refresh=False)

    def end(self, epoch, logs):
        """The epoch ended with `logs`."""
        if self.bar is not None:
            self.bar.set_postfix_str(fmt(logs), refresh=False)
            self.bar.close()
            self.bar = None
        elif self.verbose == 2:
            print(f"Epoch {epoch + 1}/{self.epochs} - {time.perf_counter() - self.t0:.1f}s - "
                  f"{fmt(logs)}", flush=True)
