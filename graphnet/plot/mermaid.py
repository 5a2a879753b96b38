"""`model.to_mermaid()`: the model's picture as a Mermaid flowchart (GitHub and docs render it).

Node ids are `n0, n1, ...` because Mermaid ids cannot hold every character a layer name
may; the names are in the labels. Quotes and angle brackets in names become entity codes.
"""
from __future__ import annotations

from .dot import COLORS, MARK_COLORS, MASK_LEGEND, MASKED, SHARED, TRUNK, role
from .layout import check_rankdir, marks, scene, shapes_text, trunk_boxes

# role -> Mermaid node shape (opening, closing)
SHAPES = {"input": ('(["', '"])'), "output": ('("', '")'), "layer": ('("', '")'),
          "model": ('[["', '"]]')}


# Mermaid entity codes, `#...;`: `#` itself first, then everything that could end a label,
# start markup or break the line. Backslashes go before the rest, as in DOT.
_ENTITIES = (("#", "#35;"), ("\\", "#92;"), ("&", "#38;"), ('"', "#quot;"), ("<", "#lt;"),
             (">", "#gt;"), ("`", "#96;"), ("\n", "#10;"), ("\r", "#13;"))


def text(value) -> str:
    """Any model text inside a quoted Mermaid label, as plain text."""
    value = str(value)
    for char, code in _ENTITIES:
        value = value.replace(char, code)
    return value


def label(box, show_shapes=True, show_dtype=False, show_layer_names=True,
          show_layer_activations=False, show_trainable=False) -> str:
    kind = "Input" if box.is_input else box.type
    lines = [f"<b>{text(box.name)}</b> {text(kind)}" if show_layer_names else f"<b>{text(kind)}</b>"]
    if box.calls > 1:
        lines.append(f"<i>shared · call {box.call} of {box.calls}</i>")
    if box.mark is not None:
        lines.append(f"<b>{box.mark}</b>")
    if show_layer_activations and box.activation is not None:
        lines.append(f"activation: {text(box.activation)}")
    if show_trainable and box.has_weights:
        lines.append("trainable" if box.trainable else "frozen (not trainable)")
    if show_shapes or show_dtype:
        out = shapes_text(box.output_shapes) if show_shapes else ""
        if show_dtype:
            out = f"{out} {', '.join(dict.fromkeys(box.dtypes))}".strip()
        if show_shapes and box.input_shapes and not box.is_input:
            out = f"{shapes_text(box.input_shapes)} → {out}"
        lines.append(f"<code>{text(out)}</code>")
    return "<br/>".join(lines)


def to_mermaid(model, show_shapes=True, show_dtype=False, show_layer_names=True,
               show_layer_activations=False, show_trainable=False, expand_nested=False,
               rankdir="TB", highlight=None, show_trunk=False, shade=None) -> str:
    """Mermaid flowchart text: one node per box, one `-->` per graph edge. `show_trunk`
    marks the shared trunk: the layers two or more trained outputs depend on. `shade`: as
    `to_dot`'s (fill and figure per box, and the legend as a comment)."""
    check_rankdir(rankdir)
    drawing = scene(model, expand_nested, marks(highlight))
    trunk = trunk_boxes(model, drawing) if show_trunk else set()
    options = dict(show_shapes=show_shapes, show_dtype=show_dtype,
                   show_layer_names=show_layer_names,
                   show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    ids = {box.id: f"n{i}" for i, box in enumerate(drawing.boxes)}
    cluster_ids = {c.id: f"c{i}" for i, c in enumerate(drawing.clusters)}
    children, subclusters = {}, {}
    for box in drawing.boxes:
        children.setdefault(box.cluster, []).append(box)
    for cluster in drawing.clusters:
        subclusters.setdefault(cluster.parent, []).append(cluster)
    lines = [f"flowchart {rankdir}"]

    def emit(cluster_id, indent):
        for box in children.get(cluster_id, ()):
            opening, closing = SHAPES[role(box)]
            text_ = label(box, **options) + ("<br/><i>shared trunk</i>" if box.id in trunk else "")
            if shade and box.id in shade["boxes"]:
                text_ += f"<br/><b>{text(shade['boxes'][box.id][1])}</b>"
            lines.append(f"{indent}{ids[box.id]}{opening}{text_}{closing}")
        for cluster in subclusters.get(cluster_id, ()):
            shared = (f"<br/><i>shared · call {cluster.call} of {cluster.calls}</i>"
                      if cluster.calls > 1 else "")
            lines.append(f'{indent}subgraph {cluster_ids[cluster.id]}["<b>{text(cluster.name)}</b> '
                         f'{text(cluster.type)}{shared}"]')
            lines.append(f"{indent}  direction {rankdir}")
            emit(cluster.id, indent + "  ")
            lines.append(f"{indent}end")

    emit(None, "  ")
    # A thick blue link carries a mask; linkStyle counts links in the order written.
    lines += [f"  {ids[a]} {'==>' if (a, b) in drawing.masked else '-->'} {ids[b]}"
              for a, b in drawing.edges]
    masked = [str(i) for i, edge in enumerate(drawing.edges) if edge in drawing.masked]
    if masked:
        lines.append(f"  linkStyle {','.join(masked)} stroke:{MASKED},stroke-width:2.4px")
        lines.append(f"  %% {MASK_LEGEND}")
    for name, (fill, border) in COLORS.items():
        width = "2.5px" if name == "output" else "1.2px"
        lines.append(f"  classDef {name} fill:{fill},stroke:{border},stroke-width:{width},color:#1F2933")
    lines.append(f"  classDef shared stroke:{SHARED},stroke-dasharray:5 3")
    for name in COLORS:
        members = [ids[b.id] for b in drawing.boxes if role(b) == name]
        if members:
            lines.append(f"  class {','.join(members)} {name}")
    shared = [ids[b.id] for b in drawing.boxes if b.calls > 1]
    if shared:
        lines.append(f"  class {','.join(shared)} shared")
    if trunk:
        lines.append(f"  classDef trunk stroke:{TRUNK},stroke-width:2.5px")
        lines.append(f"  class {','.join(ids[b.id] for b in drawing.boxes if b.id in trunk)} trunk")
    for mark, color in MARK_COLORS.items():
        members = [ids[b.id] for b in drawing.boxes if b.mark == mark]
        if members:
            lines.append(f"  classDef {mark} stroke:{color},stroke-width:3px")
            lines.append(f"  class {','.join(members)} {mark}")
    for cluster in drawing.clusters:
        lines.append(f"  style {cluster_ids[cluster.id]} fill:#F7F5FB,stroke:{COLORS['model'][1]},"
                     f"stroke-dasharray:5 3")
    if shade:
        lines += [f"  style {ids[b]} fill:{fill}" for b, (fill, _) in shade["boxes"].items()
                  if b in ids]
        lines.append(f"  %% {shade['legend']}")
    return "\n".join(lines) + "\n"
