"""HostLayer: a layer that runs on the host with NumPy (strings, vocabularies, hashes).

Strings never reach the device: these layers are applied to the data before it is fed to
a compiled program, the way Keras's book code maps a dataset with them.
"""
import jax
import numpy as np

from ..symbolic import CallNode, SymbolicTensor
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
        kwargs.pop("training", None)
        leaves, treedef = jax.tree_util.tree_flatten((args, kwargs))
        if any(is_symbolic(leaf) for leaf in leaves):
            return self._call_symbolic_host(leaves, treedef)
        return self.host_call(*args, **kwargs)

    def _call_symbolic_host(self, leaves, treedef):
        """A node of the model's graph, its output spec declared (nothing is traced: its
        values are computed on the host, before the compiled program)."""
        tensors = [leaf for leaf in leaves if is_symbolic(leaf)]
        if len(tensors) != 1 or len(leaves) != 1:
            raise NotImplementedError(f"{type(self).__name__} '{self.name}': inside a model a "
                                      f"host layer takes one input tensor; apply it to the "
                                      f"data instead")
        shape, dtype = self.host_output_spec(tensors[0].shape, tensors[0].dtype)
        node = CallNode(layer=self, treedef=treedef, leaves=leaves,
                        out_treedef=jax.tree_util.tree_structure(0))
        node.outputs = [SymbolicTensor(shape, dtype, node, 0)]
        self.call_nodes.append(node)
        self.built = True
        return node.outputs[0]

    def host_output_spec(self, input_shape, input_dtype):
        """`(shape, dtype)` of the output for a symbolic input: what the compiled program
        receives (int32 for indices, as JAX keeps Keras's int64 without x64)."""
        raise NotImplementedError(f"{type(self).__name__} '{self.name}' cannot be called on "
                                  f"a symbolic tensor: apply it to the data instead")

    def host_call(self, inputs):
        """The layer's computation on NumPy values (subclasses define it)."""
        raise NotImplementedError(f"{type(self).__name__} must define host_call()")

    def _need_strings(self, dtype):
        if np.dtype(dtype) != np.dtype(object):
            raise TypeError(f"{type(self).__name__} '{self.name}' takes strings: call it on "
                            f"Input(..., dtype=\"string\"), received dtype {np.dtype(dtype)}")

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
