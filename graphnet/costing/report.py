"""The cost table where users look: `model.summary(cost=True)` and the shaded picture."""
from __future__ import annotations

from ..graph import argument_sources
from .measure import cost
from .table import aligned, count, shape_text, size

WHAT = ("flops", "memory")
# (lightest, darkest) fill per measure: dark enough to read the share, light enough for text
RAMPS = {"flops": ((0xFF, 0xFF, 0xFF), (0xF5, 0x9F, 0x00)),
         "memory": ((0xFF, 0xFF, 0xFF), (0x4D, 0xAB, 0xF7))}


def cost_summary(model, summary_text: str = "", plan=None) -> str:
    """The summary with FLOPs and activation memory per node, for one sample (forward FLOPs;
    output bytes; bytes kept for the backward pass), then the parameter totals of
    `summary_text` and the rematerialization `plan`, if any."""
    table = cost(model)
    graph = model.graph
    rows = [("Layer (type)", "Output Shape", "Param #", "FLOPs", "Activations", "Saved",
             "Connected to")]
    for row in table:
        inbound = [source for source, _ in argument_sources(graph, row.node)]
        params = 0 if row.type == "InputLayer" or not row.param_bytes else \
            graph.nodes[row.node]["layer"].count_params()
        rows.append((f"{row.node} ({row.type})",
                     ", ".join(shape_text((None, *s[1:])) for s in row.output_shapes),
                     f"{params:,}", count(row.flops), size(row.output_bytes),
                     size(row.saved_bytes), ", ".join(inbound) or "-"))
    t = table.totals
    rows.append(("Total", "", f"{model.count_params():,}", count(t["flops"]),
                 size(t["output_bytes"]), size(t["saved_bytes"]), ""))
    lines = [f'Model: "{model.name}" (cost per sample: forward FLOPs, XLA\'s count per node)',
             aligned(rows, right=range(2, 6))]
    lines += [line for line in summary_text.splitlines() if "params:" in line]
    if t["unknown"]:
        lines.append("n/a: " + "; ".join(f"{r.node}: {r.note}" for r in table if r.flops is None))
    if plan is not None:
        lines.append(str(plan))
    return "\n".join(lines)


def color(share: float, what: str) -> str:
    (r0, g0, b0), (r1, g1, b1) = RAMPS[what]
    s = min(max(share, 0.0), 1.0)
    return "#{:02X}{:02X}{:02X}".format(*(round(a + (b - a) * s) for a, b in
                                          ((r0, r1), (g0, g1), (b0, b1))))


def shading(model, what: str, batch_size: int = 1) -> dict:
    """`{"boxes": {node: (fill, label line)}, "legend": text}` for `plot_model(cost=...)`:
    each node's share of the model's forward FLOPs, or of the activation memory of a
    training step (the bytes its backward pass keeps); the largest share is the darkest."""
    if what not in WHAT:
        raise ValueError(f"plot_model: cost must be one of {list(WHAT)} (or None), "
                         f"received {what!r}")
    table = cost(model, batch_size=batch_size, training=what == "memory")
    values = {row.node: row.flops if what == "flops" else row.saved_bytes for row in table}
    total = sum(v for v in values.values() if v) or 1.0
    top = max((v for v in values.values() if v), default=0.0) / total or 1.0
    boxes = {}
    for row in table:
        v = values[row.node]
        if v is None:
            boxes[row.node] = ("#FFFFFF", "n/a")
            continue
        share = v / total
        figure = count(v) + " FLOPs" if what == "flops" else size(v)
        boxes[row.node] = (color(share / top, what), f"{figure} · {share:.1%}")
    unit = ("FLOPs (forward, XLA's count per node)" if what == "flops"
            else "activation memory (bytes kept for the backward pass)")
    legend = (f"shade: share of {unit}, batch of {batch_size}; white 0%, darkest "
              f"{top:.1%}; total {count(total) + ' FLOPs' if what == 'flops' else size(total)}")
    return {"boxes": boxes, "legend": legend, "ramp": [color(i / 4, what) for i in range(5)]}
