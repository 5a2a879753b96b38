"""The summary, pictures and files of a `Model`: a base of `model.Model`, kept in its own
module so that each stays short. Files are graphnet.saving, reached through `files` (saving
imports the model)."""
from __future__ import annotations

from . import files
from .costing import cost_summary
from .plot import model_svg, to_dot, to_mermaid
from .summary import summary_text


class ModelFiles:
    """What `Model` shows of itself and writes: `summary`, `to_dot`, `to_mermaid`, `save`,
    `save_weights`, `load_weights`, `get_config`, `to_json`, `from_config`."""
    _remat_plan = None          # Model.compile(remat=...) sets it; the summary shows it

    def to_dot(self, **options) -> str:
        """The model's picture as Graphviz DOT text; options as in `graphnet.plot_model`.

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2)], name="tiny")
            >>> model.to_dot().splitlines()[0]
            'digraph "tiny" {'
        """
        return to_dot(self, **options)

    def to_mermaid(self, **options) -> str:
        """The model's picture as a Mermaid flowchart; options as in `graphnet.plot_model`.

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> model.to_mermaid().splitlines()[0]
            'flowchart TB'
        """
        return to_mermaid(self, **options)

    def _repr_svg_(self):
        """Jupyter shows a model as its picture (None before a Sequential knows its input)."""
        if not self.built:
            return None
        return model_svg(self)

    def summary(self, print_fn=None, cost=False):
        """Print a table of layers: name and type, output shape, parameters, inbound layers.
        `cost=True` adds FLOPs and activation memory per node (`graphnet.cost`).

        Examples:
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> model.summary(print_fn=lambda text: print(text.splitlines()[-3]))
            Total params: 8
        """
        self._require_built()
        text = summary_text(self)
        if cost:
            text = cost_summary(self, text, self._remat_plan)
        (print_fn or print)(text)

    def save(self, filepath, overwrite=True, include_optimizer=True):
        """Keras `model.save`: one `.graphnet` file (architecture, weights, optimizer state).

        The file is written beside the target and moved into place, so an interrupted save
        never leaves a half-written file; `graphnet.load_model` reads it back compiled as it
        was saved. A path ending in `.keras` writes Keras's own format.

        Args:
            filepath: the file to write (its folder must exist).
            overwrite: replace an existing file; False refuses one, even one that appears
                while the save runs.
            include_optimizer: also write the optimizer state, so `fit` continues where it
                stopped.

        Raises:
            FileExistsError: the file exists and `overwrite` is False.
            ValueError: a `Lambda` or custom layer is not registered with
                `graphnet.register_serializable` (the message names it).

        Examples:
            >>> import os, tempfile; path = os.path.join(tempfile.mkdtemp(), "m.graphnet")
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> model.save(path)
            >>> graphnet.load_model(path).count_params()
            8
        """
        files.entry("save_model")(self, filepath, overwrite=overwrite,
                                  include_optimizer=include_optimizer)

    def save_weights(self, filepath, overwrite=True):
        """Write the weights alone to a file (see `load_weights`).

        Examples:
            >>> import os, tempfile; path = os.path.join(tempfile.mkdtemp(), "m.weights.h5")
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> model.save_weights(path); os.path.exists(path)
            True
        """
        files.entry("save_weights")(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath):
        """Read weights written by `save_weights` into this model (same architecture).

        Examples:
            >>> import os, tempfile; path = os.path.join(tempfile.mkdtemp(), "m.weights.h5")
            >>> model = graphnet.Sequential([graphnet.Input((3,)), layers.Dense(2, name="dense")])
            >>> model.save_weights(path); model.load_weights(path)
        """
        files.entry("load_weights")(self, filepath)

    def get_config(self) -> dict:
        """The architecture as JSON-able data: layers, their configs and connections.

        Examples:
            >>> inputs = graphnet.Input((3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs))
            >>> graphnet.Model.from_config(model.get_config()).count_params()
            8
        """
        return files.entry("model_config")(self)

    def to_json(self, **kwargs) -> str:
        """Keras's `to_json()`: the architecture as JSON text (`models.model_from_json`)."""
        return files.entry("model_to_json")(self, **kwargs)

    @classmethod
    def from_config(cls, config):
        """A new model (fresh weights) from the dict `get_config` returned; registered custom
        layers are found by name (`register_serializable`).

        Examples:
            >>> inputs = graphnet.Input((3,), name="x")
            >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs))
            >>> clone = graphnet.Model.from_config(model.get_config())
            >>> [layer.name for layer in clone.layers][1:]
            ['dense']
        """
        return files.entry("model_from_config")(config, cls)
