"""Keras Sequential: a stack of layers whose graph is made once the input shape is known."""
from __future__ import annotations

import numpy as np

from . import naming
from .layers.base import Layer
from .layers.input_layer import Input, InputLayer
from .model import Model
from .subclass import first_inputs
from .symbolic import SymbolicTensor


class Sequential(Model):
    """Keras Sequential: a stack of layers, built once its input shape is known.

    Examples:
        >>> model = graphnet.Sequential([graphnet.Input(shape=(4,)), layers.Dense(8, activation="relu"), layers.Dense(1)])
        >>> model.output_shape
        (None, 1)
    """

    def __init__(self, layers=None, name=None, trainable=True):
        Layer.__init__(self, name=name if name is not None else naming.unique_name("sequential"),
                       trainable=trainable)
        self._stack: list[Layer] = []
        self._tensors: list[SymbolicTensor] = []     # the input, then each layer's output
        self.built = False
        for layer in layers or ():
            self.add(layer)

    @property
    def layers(self) -> list:
        """The stack's layers, in order (without the input)."""
        return list(self._stack)

    def add(self, layer):
        """Append a layer (or an `Input`) to the stack; shapes are checked when known.

        Examples:
            >>> model = graphnet.Sequential()
            >>> model.add(graphnet.Input(shape=(4,)))
            >>> model.add(layers.Dense(2))
            >>> model.output_shape
            (None, 2)
        """
        if isinstance(layer, InputLayer):
            layer = layer.output
        if isinstance(layer, SymbolicTensor):
            if self._tensors or self._stack:
                raise ValueError(f"Sequential '{self.name}': an Input can only be added first")
            self._tensors = [layer]
            return
        if not isinstance(layer, Layer):
            raise TypeError(f"Sequential '{self.name}'.add expects a layer, received "
                            f"{type(layer).__name__}")
        if not self._tensors and not self._stack:
            if layer.input_shape_hint is not None:
                self._tensors = [Input(shape=layer.input_shape_hint)]
            elif _one_built_input(layer) is not None:  # a built model first: its input, as Keras
                source = _one_built_input(layer)
                self._tensors = [Input(shape=tuple(source.shape)[1:], dtype=source.dtype)]
        if self._tensors:
            output = layer(self._tensors[-1])
            if not isinstance(output, SymbolicTensor):
                raise ValueError(f"Sequential '{self.name}': layer '{layer.name}' returns "
                                 f"several tensors; use the functional Model for it")
            self._tensors.append(output)
        self._stack.append(layer)
        if self._tensors:
            self._init_graph(self._tensors[0], self._tensors[-1])

    def pop(self):
        """Remove the last layer of the stack.

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input(shape=(4,)), layers.Dense(8), layers.Dense(1, name="last")])
            >>> model.pop().name
            'last'
            >>> model.output_shape
            (None, 8)
        """
        if not self._stack:
            raise ValueError(f"Sequential '{self.name}' has no layer to pop")
        layer = self._stack.pop()
        if self._tensors:
            popped = self._tensors.pop()
            layer.call_nodes = [n for n in layer.call_nodes if n.outputs[0] is not popped]
            if self._stack:
                self._init_graph(self._tensors[0], self._tensors[-1])
            else:
                self.built = False
        return layer

    def build(self, input_shape=None, *, rng=None):
        """Keras's `model.build((None, features))`: the shape includes the batch axis."""
        if self.built:
            return self.params, self.state
        if input_shape is None:
            raise ValueError(f"Sequential '{self.name}' needs an input shape to build")
        self._start(Input(shape=tuple(input_shape)[1:]))
        return self.params, self.state

    def _start(self, tensor):
        """Calls the stacked layers on `tensor`, the model's input."""
        stack, self._stack = self._stack, []
        self._tensors = [tensor]
        for layer in stack:
            self.add(layer)

    def _require_built(self, x=None):
        if self.built:
            return
        if isinstance(x, dict):
            if len(x) != 1:
                raise ValueError(f"Sequential '{self.name}' has one input; received a dict of "
                                 f"{len(x)} arrays {list(x)}")
            (name, first), = x.items()
            self._start(Input(shape=np.shape(first)[1:], name=name))
            return
        if x is not None:
            first = x[0] if isinstance(x, (list, tuple)) else x
            self.build((None, *np.shape(first)[1:]))
            return
        raise ValueError(f"Sequential '{self.name}' has no input shape yet: pass input_shape= "
                         f"to its first layer, add a graphnet.Input, or call it on data")

    def __call__(self, *args, **kwargs):
        if not self.built and args:
            first = args[0]
            if isinstance(first, SymbolicTensor):
                self.build(first.shape)
            else:
                self._require_built(first)
        return super().__call__(*args, **kwargs)

    def predict(self, x, *args, **kwargs):
        """As `Model.predict`; builds the stack from the data's shape on first use."""
        self._require_built(x)
        return super().predict(x, *args, **kwargs)

    def fit(self, x=None, y=None, *args, **kwargs):
        """As `Model.fit`; builds the stack from the data's shape on first use."""
        self._require_built(first_inputs(x, y))
        return super().fit(x, y, *args, **kwargs)

    def evaluate(self, x=None, y=None, *args, **kwargs):
        """As `Model.evaluate`; builds the stack from the data's shape on first use."""
        self._require_built(first_inputs(x, y))
        return super().evaluate(x, y, *args, **kwargs)

    def summary(self, print_fn=None, cost=False):
        """As `Model.summary`; the stack must be built (given an input shape)."""
        self._require_built()
        super().summary(print_fn, cost=cost)

    def __getattr__(self, name):
        # Graph attributes exist only once the input shape is known; say so clearly.
        if name in ("graph", "inputs", "outputs", "input_names", "output_names", "node_keys"):
            raise AttributeError(f"Sequential '{self.__dict__.get('name')}' is not built yet: it "
                                 f"has no input shape, so no {name}")
        raise AttributeError(name)


def _one_built_input(layer):
    """The one input tensor of a built model given as a Sequential's first layer, else None."""
    inputs = getattr(layer, "inputs", None) if getattr(layer, "built", False) else None
    return inputs[0] if isinstance(inputs, list) and len(inputs) == 1 else None
