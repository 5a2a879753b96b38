"""Keras Pipeline: layers applied one after the other, as one layer."""
from . import serialization
from .base import Layer


class Pipeline(Layer):
    """Keras Pipeline(layers): each layer called on the previous one's output (with the
    call's `training`), as one node of the graph; its weights are the layers', under their
    names.

    Examples:
        >>> pipeline = layers.Pipeline([layers.Rescaling(1 / 255), layers.Resizing(4, 4)])
        >>> pipeline(np.ones((2, 8, 8, 3), "float32")).shape
        (2, 4, 4, 3)
    """

    def __init__(self, layers, name=None, **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(layers, (list, tuple)):
            raise ValueError(f"Pipeline '{self.name}' takes a list of layers, received "
                             f"{type(layers).__name__}")
        layers = [serialization.deserialize(x) if isinstance(x, dict) else x for x in layers]
        for layer in layers:
            if not isinstance(layer, Layer):
                raise ValueError(f"Pipeline '{self.name}' takes layers, received "
                                 f"{type(layer).__name__}")
        self.pipeline_layers = list(layers)

    @property
    def layers(self):
        return list(self.pipeline_layers)

    @property
    def uses_rng(self) -> bool:
        return any(layer.uses_rng for layer in self.pipeline_layers)

    @property
    def batch_dependent(self) -> bool:
        return any(layer.batch_dependent for layer in self.pipeline_layers)

    def call(self, inputs, training=None):
        for layer in self.pipeline_layers:
            inputs = layer(inputs, training=training)
        return inputs

    def get_config(self):
        return {**super().get_config(),
                "layers": [serialization.serialize(x) for x in self.pipeline_layers]}
