"""Keras's InputSpec: what a layer accepts, checked at every call."""
import jax
import numpy as np

from ..symbolic import shape_str


class InputSpec:
    """Keras InputSpec: the rank, shape or axis sizes a layer accepts, checked at every call.

    A layer sets `self.input_spec` (one spec, or a list with one per input tensor) and gets
    Keras's error naming the layer, the input, what it expected and what it received.

    Examples:
        >>> spec = layers.InputSpec(ndim=3, axes={-1: 4})
        >>> spec.ndim
        3
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, name=None):
        self.dtype = dtype
        self.shape = None if shape is None else tuple(shape)
        self.ndim = len(self.shape) if self.shape is not None else ndim
        self.max_ndim, self.min_ndim, self.name = max_ndim, min_ndim, name
        self.axes = {int(k): v for k, v in (axes or {}).items()}

    def check(self, layer, index: int, shape: tuple, dtype) -> None:
        def fail(expected):
            raise ValueError(f"Input {index} of layer '{layer.name}' ({type(layer).__name__}) "
                             f"is incompatible with the layer: expected {expected}, received "
                             f"shape {shape_str(shape)}")
        rank = len(shape)
        if self.ndim is not None and rank != self.ndim:
            fail(f"ndim={self.ndim}")
        if self.max_ndim is not None and rank > self.max_ndim:
            fail(f"max_ndim={self.max_ndim}")
        if self.min_ndim is not None and rank < self.min_ndim:
            fail(f"min_ndim={self.min_ndim}")
        for axis, size in self.axes.items():
            if size is not None and (axis >= rank or axis < -rank or
                                     shape[axis] not in (None, size)):
                fail(f"axis {axis} of size {size}")
        if self.shape is not None and any(e is not None and r is not None and e != r
                                          for e, r in zip(self.shape, shape)):
            fail(f"shape {shape_str(self.shape)}")
        if self.dtype is not None and np.dtype(dtype) != np.dtype(self.dtype):
            raise ValueError(f"Input {index} of layer '{layer.name}' ({type(layer).__name__}) "
                             f"expects dtype {np.dtype(self.dtype).name}, received "
                             f"{np.dtype(dtype).name}")

    def __repr__(self):
        fields = {k: v for k, v in vars(self).items() if v not in (None, {})}
        return "InputSpec(" + ", ".join(f"{k}={v!r}" for k, v in fields.items()) + ")"


def check_inputs(layer, args) -> None:
    """Keras's assert_input_compatibility: `layer.input_spec` on the first argument's
    tensors."""
    if layer.input_spec is None or not args:
        return
    specs = layer.input_spec if isinstance(layer.input_spec, (list, tuple)) else [layer.input_spec]
    tensors = [t for t in jax.tree_util.tree_leaves(args[0]) if hasattr(t, "shape")]
    if len(specs) != len(tensors):
        raise ValueError(f"Layer '{layer.name}' ({type(layer).__name__}) expects "
                         f"{len(specs)} input tensor(s), received {len(tensors)}")
    for i, (spec, t) in enumerate(zip(specs, tensors)):
        if spec is not None:
            spec.check(layer, i, tuple(t.shape), t.dtype)
