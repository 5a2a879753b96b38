"""Small user-facing helpers (Keras's `keras.utils`)."""
import numpy as np

from . import naming
from .plot import plot_model


def set_random_seed(seed: int) -> None:
    """Seed everything graphnet draws: initial weights, dropout and shuffling."""
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"set_random_seed expects an int, received {type(seed).__name__}")
    naming.reset(int(seed))


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode integer labels, as `keras.utils.to_categorical`."""
    y = np.asarray(y, dtype="int64")
    shape = y.shape[:-1] if y.ndim > 1 and y.shape[-1] == 1 else y.shape
    y = y.reshape(-1)
    num_classes = int(y.max()) + 1 if num_classes is None else num_classes
    out = np.zeros((y.size, num_classes), dtype=dtype)
    out[np.arange(y.size), y] = 1
    return out.reshape(*shape, num_classes)
