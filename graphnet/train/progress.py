"""The progress display and the checks of fit's plain arguments."""
from __future__ import annotations

import sys
import time

import numpy as np

def check_batch_size(batch_size, who):
    """None -> 32; anything but a positive int (2.7, "8", True) is a clear error."""
    if batch_size is None:
        return 32
    if not isinstance(batch_size, (int, np.integer)) or isinstance(batch_size, bool) or batch_size < 1:
        raise ValueError(f"{who}: batch_size must be a positive int, received {batch_size!r}")
    return int(batch_size)


def check_flag(value, name, who):
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{who}: {name} must be True or False, received {value!r}")
    return bool(value)


def fmt(logs):
    """One line of logs; a metric with a vector result (F1Score per class) prints its values."""
    def value(v):
        if np.ndim(v):
            return np.array2string(np.asarray(v), precision=4, separator=", ")
        return f"{v:.4g}"
    return " - ".join(f"{k}: {value(v)}" for k, v in logs.items())


class Progress:
    """A tqdm bar per epoch (verbose=1), one line per epoch (verbose=2), or nothing (0)."""

    def __init__(self, verbose, epochs):
        self.verbose, self.epochs, self.bar = verbose, epochs, None

    def begin(self, epoch, total, desc=None):
        self.t0 = time.perf_counter()
        if self.verbose == 1:
            from tqdm.auto import tqdm
            self.bar = tqdm(total=total, desc=desc or f"Epoch {epoch + 1}/{self.epochs}", unit="step",
                            file=sys.stdout, dynamic_ncols=True, leave=True)

    def update(self, count, logs):
        if self.bar is not None:
            self.bar.update(count)
            self.bar.set_postfix_str(fmt(logs), refresh=False)

    def end(self, epoch, logs):
        if self.bar is not None:
            self.bar.set_postfix_str(fmt(logs), refresh=False)
            self.bar.close()
            self.bar = None
        elif self.verbose == 2:
            print(f"Epoch {epoch + 1}/{self.epochs} - {time.perf_counter() - self.t0:.1f}s - "
                  f"{fmt(logs)}", flush=True)


def verbosity(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', received {verbose!r}")
    return int(verbose)
