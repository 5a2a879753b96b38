"""HostLayer: a layer that runs on the host with NumPy (strings, vocabularies, hashes).

Strings never reach the device: these layers are applied to the data before it is fed to
a compiled program, the way Keras's book code maps a dataset with them.
"""
import jax
import numpy as np

from .base import Layer
from .tracing import is_symbolic

ESCAPE = "surrogateescape"     # str <-> bytes both ways, for any bytes


class HostLayer(Layer):
    """Base of the layers that run on the host: calling one on arrays, lists or strings
    returns NumPy arrays.

    Why: their inputs (strings) and tables (vocabularies) are not JAX values. A model takes
    their outputs; calling one on a symbolic tensor is refused with the way to do that.
    """
    runs_on_host = True
    supports_masking = False           # Keras: these layers carry no mask

    @property
    def uses_rng(self) -> bool:
        return False

    @property
    def batch_dependent(self) -> bool:
        return False

    def __call__(self, *args, **kwargs):
        leaves = jax.tree_util.tree_leaves((args, kwargs))
        if any(is_symbolic(leaf) for leaf in leaves):
            raise NotImplementedError(
                f"{type(self).__name__} '{self.name}' runs on the host with NumPy and cannot "
                f"be called on a symbolic tensor (inside a model) yet: apply it to the data "
                f"(`x = {self.name}(texts)`, or map a dataset with it) and give its output to "
                f"the model")
        kwargs.pop("training", None)
        return self.host_call(*args, **kwargs)

    def host_call(self, inputs):
        """The layer's computation on NumPy values (subclasses define it)."""
        raise NotImplementedError(f"{type(self).__name__} must define host_call()")

    def call(self, params, state, *args, training=False, rng=None, **kwargs):
        raise TypeError(f"{type(self).__name__} '{self.name}' runs on the host with NumPy; "
                        f"it has no compiled call (strings never reach the device)")

    def compute_mask(self, inputs, mask=None):
        return None


def as_strings(values, who):
    """`values` (str, bytes, nested lists, NumPy or object arrays) as an object array of
    str; anything else is a TypeError naming the layer. Bytes that are not UTF-8 (a text
    cut inside a character) keep their bytes as escapes, as TensorFlow keeps them."""
    arr = values if isinstance(values, np.ndarray) else np.asarray(values, dtype=object)
    if arr.dtype.kind == "U":
        return arr.astype(object)
    if arr.dtype.kind == "S":
        return np.vectorize(lambda b: b.decode("utf-8", ESCAPE), otypes=[object])(arr)
    if arr.dtype.kind == "O" and all(isinstance(v, (str, bytes)) for v in arr.flat):
        return np.vectorize(lambda v: v.decode("utf-8", ESCAPE) if isinstance(v, bytes) else v,
                            otypes=[object])(arr) if arr.size else arr
    raise TypeError(f"{who} expects strings, received {_describe(arr)}")


def as_integers(values, who):
    """`values` as an int64 array; strings or floats are a TypeError naming the layer."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iu" or arr.size == 0:
        return arr.astype(np.int64)
    if arr.dtype.kind == "O" and all(isinstance(v, (int, np.integer)) and not isinstance(
            v, bool) for v in arr.flat):
        return arr.astype(np.int64)
    raise TypeError(f"{who} expects integers, received {_describe(arr)}")


def _describe(arr):
    if arr.dtype.kind in "USO":
        kinds = sorted({type(v).__name__ for v in arr.flat})
        return f"values of type {', '.join(kinds) or 'none'}"
    return f"an array of dtype {arr.dtype}"


def batches(data, steps, who):
    """Keras's `adapt` rule: a list, tuple or array is one batch of samples (a 1-D one
    gets a trailing axis: each value is a sample); any other iterable yields batches."""
    if isinstance(data, (list, tuple, np.ndarray, str, bytes)) or hasattr(data, "shape"):
        arr = np.asarray(data, dtype=object) if isinstance(data, (list, tuple)) else data
        if steps is not None:
            raise ValueError(f"{who}: adapt's `steps` applies to an iterable of batches, not "
                             f"to an array or a list")
        return [np.expand_dims(np.asarray(arr), -1) if np.ndim(arr) == 1 else arr]
    if not hasattr(data, "__iter__"):
        raise TypeError(f"{who}: adapt expects an array, a list or an iterable of batches, "
                        f"received {type(data).__name__}")
    out = []
    for i, batch in enumerate(data):
        if steps is not None and i >= steps:
            break
        if isinstance(batch, tuple):
            raise TypeError(f"{who}: adapt expects batches of samples, received a tuple "
                            f"(a dataset of (x, y) pairs? map it to x first)")
        out.append(batch)
    return out
