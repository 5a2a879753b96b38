"""InputLayer and `Input`: where a model's data enters its graph."""
from __future__ import annotations

import jax

from .. import naming
from ..symbolic import CallNode, SymbolicTensor, normalize_shape
from .base import Layer

__all__ = ["Input", "InputLayer"]


class InputLayer(Layer):
    """The layer behind `Input`: holds the shape and dtype the model is fed with.

    Examples:
        >>> model = graphnet.Sequential([layers.InputLayer(shape=(3,)), layers.Dense(2)])
        >>> model.input_shape
        (None, 3)
    """

    def __init__(self, shape=None, dtype="float32", name=None, batch_size=None,
                 batch_shape=None, **kwargs):
        if batch_shape is not None:
            batch_size, shape = batch_shape[0], tuple(batch_shape)[1:]
        if shape is None:
            raise ValueError("Input needs shape= (the shape of one sample, without the batch axis)")
        super().__init__(name=name if name is not None else naming.unique_name("input_layer"),
                         dtype=dtype, **kwargs)
        self.shape = normalize_shape(shape, f"Input '{self.name}'")
        self.batch_size = batch_size
        self.built = True
        node = CallNode(layer=self, treedef=jax.tree_util.tree_structure(((), {})), leaves=[],
                        out_treedef=jax.tree_util.tree_structure(0))
        node.outputs = [SymbolicTensor((batch_size, *self.shape), self.dtype, node, 0)]
        self.call_nodes.append(node)

    def call(self, params, state, x, *, training=False, rng=None):
        return x, state

    def get_config(self):
        return {"name": self.name, "shape": list(self.shape), "dtype": self.dtype,
                "batch_size": self.batch_size}

    def __call__(self, *args, **kwargs):
        raise TypeError(f"InputLayer '{self.name}' is not called; use graphnet.Input(shape=...)")


def Input(shape=None, dtype="float32", name=None, batch_size=None, batch_shape=None):
    """A symbolic model input; `shape` excludes the batch axis (None for variable sizes).

    Examples:
        >>> x = graphnet.Input(shape=(None, 8), name="tokens")
        >>> x.shape
        (None, None, 8)
        >>> x.dtype
        dtype('float32')
    """
    layer = InputLayer(shape=shape, dtype=dtype, name=name, batch_size=batch_size,
                       batch_shape=batch_shape)
    return layer.output
