"""Pictures of models (`plot_model`, `model.to_dot()`, `model.to_mermaid()`) and of training."""
from __future__ import annotations

import sys
from pathlib import Path

import networkx as nx

from .dot import to_dot
from .history import plot_history
from .mermaid import to_mermaid
from .render import render as render_image

EXTENSIONS = (".svg", ".png", ".dot", ".mmd")


def _check_model(model, who: str) -> None:
    """A model is anything with a networkx `graph` (an unbuilt Sequential says so itself)."""
    is_model = hasattr(type(model), "layers")          # a model, maybe not built yet
    if not is_model or (model.built and not isinstance(getattr(model, "graph", None), nx.DiGraph)):
        raise TypeError(f"{who} expects a graphnet Model or Sequential, received "
                        f"{type(model).__name__}")


def plot_model(model, to_file="model.png", show_shapes=True, show_dtype=False,
               show_layer_names=True, show_layer_activations=False, show_trainable=False,
               expand_nested=False, rankdir="TB", dpi=96, highlight=None,
               show_trunk=False, cost=None):
    """Keras plot_model: draws the model to `.svg`, `.png`, `.dot` or `.mmd` (Mermaid).

    The format follows the file's ending. Layout and rendering need no system Graphviz
    (graphviz-pure is a dependency), so the picture is the same on every machine. In
    IPython, returns the image for display, as Keras does.

    `highlight` marks boxes: `graphnet.edit.diff(before, after)` draws what an edit added
    and changed (and lists what it removed), or give node keys (a list, or a dict
    key -> "added" / "changed"). `show_trunk=True` marks the
    shared trunk of a multi-output model (the layers two or more trained outputs depend on).
    `cost="flops"` or `"memory"` shades each box by its share of the model's cost and
    writes the figure in it (`graphnet.cost`); a legend gives the scale.

    Examples:
        >>> inputs = graphnet.Input(shape=(3,), name="x")
        >>> model = graphnet.Model(inputs, layers.Dense(2, name="dense")(inputs), name="tiny")
        >>> import os, tempfile; folder = tempfile.mkdtemp()
        >>> graphnet.plot_model(model, os.path.join(folder, "model.svg"))
        >>> open(os.path.join(folder, "model.svg")).read().rstrip().endswith("</svg>")
        True
    """
    _check_model(model, "plot_model")
    path = Path(to_file)
    ext = path.suffix.lower()
    if ext not in EXTENSIONS:
        raise ValueError(f"plot_model cannot write '{to_file}': the file name must end in one of "
                         f"{list(EXTENSIONS)}, received {ext or 'no ending'!r}")
    if isinstance(dpi, bool) or not isinstance(dpi, (int, float)) or not dpi > 0:
        raise ValueError(f"plot_model: dpi must be a positive number, received {dpi!r}")
    options = dict(show_shapes=show_shapes, show_dtype=show_dtype,
                   show_layer_names=show_layer_names,
                   show_layer_activations=show_layer_activations, show_trainable=show_trainable,
                   expand_nested=expand_nested, rankdir=rankdir, highlight=highlight,
                   show_trunk=show_trunk)
    if cost is not None:                        # shares of the cost table, per node
        from ..costing import shading
        options["shade"] = shading(model, cost)
    if ext == ".mmd":
        data = to_mermaid(model, **options).encode("utf-8")
    else:
        dot_text = to_dot(model, **options)
        data = dot_text.encode("utf-8") if ext == ".dot" else render_image(dot_text, ext[1:], dpi)
    path.write_bytes(data)
    if "IPython" in sys.modules and ext in (".svg", ".png"):
        from IPython import display
        return display.SVG(data=data) if ext == ".svg" else display.Image(data=data)
    return None


def model_svg(model) -> str:
    """The model's default picture as SVG text (Jupyter's `_repr_svg_`)."""
    _check_model(model, "model_svg")
    return render_image(to_dot(model), "svg").decode("utf-8")


__all__ = ["plot_model", "plot_history", "to_dot", "to_mermaid", "render_image", "model_svg"]
