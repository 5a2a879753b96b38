"""`history.plot(to_file)`: training curves, one panel per loss or metric.

matplotlib is imported only when a plot is drawn, so `import graphnet` stays fast. The figure
is a plain `Figure` on an Agg canvas, never pyplot: no global figure list to leak into, and a
user's interactive backend is left alone.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

EXTENSIONS = (".png", ".svg")
TRAIN, VALIDATION = "#2F6DB5", "#D9782D"
PALETTE = ("#2F6DB5", "#D9782D", "#3D8B56", "#8E44AD", "#C0392B", "#0E7C86", "#7B8794")
# Per-output training diagnostics drawn together, one line per output: suffix -> title.
GROUPS = (("_loss_share", "loss share"), ("_grad_norm", "trunk gradient norm"),
          ("_loss_weight", "loss weight"))
AGREEMENT = ("grad_cosine", "grad_conflict")


def panels(history: dict) -> list:
    """[(title, training key or None, validation key or None)], `loss` first, then log order."""
    found = []
    for key in history:
        if not key.startswith("val_"):
            found.append((key, key, f"val_{key}" if f"val_{key}" in history else None))
        elif key[4:] not in history:
            found.append((key[4:], None, key))
    return sorted(found, key=lambda p: p[0] != "loss")


def drawn_panels(history: dict) -> list:
    """[(title, [(key, color, legend)])]: `panels`, with the per-output diagnostics of a
    multi-output model (loss shares, trunk gradient norms, learned loss weights) gathered
    into one panel each and the trunk gradients' cosine and conflict fraction into one."""
    grouped, taken = [], set()
    for suffix, title in GROUPS:
        keys = [k for k in history if k.endswith(suffix) and not k.startswith("val_")]
        if keys:
            grouped.append((title, [(k, PALETTE[i % len(PALETTE)], k[:-len(suffix)])
                                    for i, k in enumerate(keys)]))
            taken.update(keys)
    agreement = [k for k in AGREEMENT if k in history]
    if agreement:
        grouped.append(("trunk gradient agreement",
                        [(k, PALETTE[i], k.replace("grad_", "")) for i, k in enumerate(agreement)]))
        taken.update(agreement)
    plain = [(title, [(key, color, name) for key, color, name in
                      ((train, TRAIN, "training"), (val, VALIDATION, "validation"))
                      if key is not None])
             for title, train, val in panels({k: v for k, v in history.items()
                                              if k not in taken})]
    return plain + grouped


def _series(history, key) -> np.ndarray:
    values = history[key]
    try:
        array = np.asarray(values, dtype="float64").reshape(-1)
    except (TypeError, ValueError):
        raise ValueError(f"plot_history: history['{key}'] must be a list of numbers (one per "
                         f"epoch), received {values!r}") from None
    if array.size == 0:
        raise ValueError(f"plot_history: history['{key}'] is empty; train for an epoch first")
    return array


def plot_history(history, to_file="history.png", dpi=100):
    """Draws each loss and metric per epoch, training and validation in one panel.

    `history` is `History.history` (a dict of lists) or an object with a `.history` dict.
    The format follows the file's ending (.png or .svg). Returns the matplotlib Figure.
    """
    logs = getattr(history, "history", history)
    if not isinstance(logs, dict):
        raise TypeError(f"plot_history expects a History or a dict of per-epoch lists, "
                        f"received {type(history).__name__}")
    if not logs:
        raise ValueError("plot_history: the history is empty; train for an epoch first")
    path = Path(to_file)
    ext = path.suffix.lower()
    if ext not in EXTENSIONS:
        raise ValueError(f"plot_history cannot write '{to_file}': the file name must end in one "
                         f"of {list(EXTENSIONS)}, received {ext or 'no ending'!r}")
    series = {key: _series(logs, key) for key in logs}
    first_epoch = 1
    epochs = getattr(history, "epoch", None)
    if epochs:
        first_epoch = int(epochs[0]) + 1

    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    found = drawn_panels(logs)
    cols = min(3, len(found))
    rows = math.ceil(len(found) / cols)
    with matplotlib.rc_context({"svg.fonttype": "none", "font.size": 9,
                                "axes.spines.top": False, "axes.spines.right": False}):
        figure = Figure(figsize=(4.0 * cols, 2.9 * rows), layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.subplots(rows, cols, squeeze=False).reshape(-1)
        for ax, (title, lines) in zip(axes, found):
            for key, color, name in lines:
                y = series[key]
                ax.plot(np.arange(first_epoch, first_epoch + y.size), y, color=color,
                        marker="o" if y.size < 30 else None, markersize=3, linewidth=1.6,
                        label=name)
            ax.set_title(title)
            ax.set_xlabel("epoch")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.grid(alpha=0.3)
            ax.legend(frameon=False)
        for ax in axes[len(found):]:
            figure.delaxes(ax)
        figure.savefig(path, format=ext[1:], dpi=dpi)
    return figure
