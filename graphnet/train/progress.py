"""The progress display and the checks of fit's plain arguments."""
from __future__ import annotations

import numpy as np

from ..callbacks.progbar import ProgbarLogger, fmt  # noqa: F401  (fmt: the log line)


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


class Progress(ProgbarLogger):
    """The display fit, evaluate and predict make when no ProgbarLogger was passed (Keras's
    CallbackList adds one the same way)."""

    def __init__(self, verbose, epochs):
        super().__init__()
        self.verbose, self.epochs = verbose, epochs


def verbosity(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"verbose must be 0, 1, 2 or 'auto', received {verbose!r}")
    return int(verbose)
