"""`model.to_dot()`: the model's picture as Graphviz DOT text, written from `model.graph`.

Labels are Graphviz HTML-like labels (bold name, grey type, monospace shapes). Graphviz
measures them with Helvetica's and Courier's metrics, but a viewer draws them with whatever
sans and monospace fonts it has: each box is therefore at least `safe_width` wide (room for
a wide font), and the SVG writer lets the viewer place the text (`render.centre_text`).
"""
from __future__ import annotations

import re
from collections import Counter
from html import escape, unescape

from .layout import check_rankdir, marks, scene, shapes_text, trunk_boxes

FONT, MONO = "Helvetica", "Courier"
INK, MUTED, EDGE = "#1F2933", "#616E7C", "#7B8794"
# role -> (fill, border)
COLORS = {
    "layer": ("#EEF2F7", "#7B8CA6"),
    "model": ("#F1ECF9", "#7C5CB0"),
    "input": ("#E1F2E5", "#3D8B56"),
    "output": ("#FDEBD8", "#D9782D"),
}
SHARED = "#8E44AD"
TRUNK = "#0E7C86"
MASKED = "#1D5FD1"             # an edge whose tensor carries a mask
MASK_LEGEND = "thick blue arrows carry a mask"


MARK_COLORS = {"added": "#1E8E3E", "changed": "#D93025"}


def quote(value) -> str:
    """A DOT quoted id that no text can end early. Backslashes first: Graphviz reads `\\\\` as
    a pair it keeps and `\\"` as a quote, so a backslash that could start either (before a
    backslash, a quote, a line break or the end) is doubled; then quotes are escaped. Other
    backslashes stay single, so most names are their own id (the SVG title)."""
    value = re.sub(r'\\(?=[\\"\r\n]|$)', r"\\\\", str(value))
    return '"' + value.replace('"', '\\"') + '"'


def text(value) -> str:
    """Any model text inside an HTML-like label, as plain text: backslashes first (Graphviz
    reads `\\\\` in a label as one and `\\N` as an escape, so each is doubled), then
    markup characters become entities."""
    return escape(str(value).replace("\\", "\\\\"), quote=True)


# Widths of a character, in ems, wide enough for the common sans and monospace fonts
# (Verdana and DejaVu Sans are the widest): bold, regular, monospace.
EM_BOLD, EM_SANS, EM_MONO = 0.70, 0.64, 0.62
MARGIN_IN = 0.16


def safe_width(box_label: str) -> float:
    """The width, in inches, a box needs for its HTML-like label in a wide font: the widest
    line, each character at `EM_*` of its point size, plus the margins."""
    widest = 0.0
    for line in box_label.strip("<>").split("<BR/>"):
        size = 10 if 'POINT-SIZE="10"' in line else 12
        bold = "".join(re.findall(r"<B>(.*?)</B>", line))
        plain = re.sub(r"<B>.*?</B>", "", line)
        count = lambda t: len(unescape(re.sub(r"<[^>]*>", "", t)))  # noqa: E731
        em = EM_MONO if f'FACE="{MONO}"' in line else EM_SANS
        widest = max(widest, size * (EM_BOLD * count(bold) + em * count(plain)))
    return round(widest / 72 + 2 * MARGIN_IN, 2)


def role(box) -> str:
    if box.is_input:
        return "input"
    if box.is_output:
        return "output"
    return "model" if box.is_model else "layer"


def label(box, show_shapes=True, show_dtype=False, show_layer_names=True,
          show_layer_activations=False, show_trainable=False) -> str:
    """The box's HTML-like label: name and type, then the optional lines."""
    kind = "Input" if box.is_input else box.type
    head = (f'<B>{text(box.name)}</B>  <FONT COLOR="{MUTED}">{text(kind)}</FONT>'
            if show_layer_names else f"<B>{text(kind)}</B>")
    lines = [head]
    small = f'<FONT POINT-SIZE="10" COLOR="{MUTED}">{{}}</FONT>'
    if box.calls > 1:
        lines.append(f'<FONT POINT-SIZE="10" COLOR="{SHARED}">shared · call {box.call} of '
                     f'{box.calls}</FONT>')
    if box.mark is not None:
        lines.append(f'<FONT POINT-SIZE="10" COLOR="{MARK_COLORS[box.mark]}"><B>{box.mark}'
                     f'</B></FONT>')
    if show_layer_activations and box.activation is not None:
        lines.append(small.format(f"activation: {text(box.activation)}"))
    if show_trainable and box.has_weights:
        lines.append(small.format("trainable" if box.trainable else "frozen (not trainable)"))
    if show_shapes or show_dtype:
        out = shapes_text(box.output_shapes) if show_shapes else ""
        if show_dtype:
            out = f"{out} {', '.join(dict.fromkeys(box.dtypes))}".strip()
        line = out
        if show_shapes and box.input_shapes and not box.is_input:
            line = f"{shapes_text(box.input_shapes)} → {out}"
        lines.append(f'<FONT FACE="{MONO}" POINT-SIZE="10" COLOR="{INK}">{text(line)}</FONT>')
    return "<" + "<BR/>".join(lines) + ">"


def to_dot(model, show_shapes=True, show_dtype=False, show_layer_names=True,
           show_layer_activations=False, show_trainable=False, expand_nested=False,
           rankdir="TB", highlight=None, show_trunk=False, shade=None) -> str:
    """DOT text of the model, one node per box and one edge per graph edge. `show_trunk`
    marks the shared trunk: the layers two or more trained outputs depend on. `shade`:
    `{"boxes": {box id: (fill, line)}, "legend": text}` (`graphnet.costing.shading`)."""
    check_rankdir(rankdir)
    marked = marks(highlight)
    drawing = scene(model, expand_nested, marked)
    trunk = trunk_boxes(model, drawing) if show_trunk else set()
    options = dict(show_shapes=show_shapes, show_dtype=show_dtype,
                   show_layer_names=show_layer_names,
                   show_layer_activations=show_layer_activations, show_trainable=show_trainable)
    lines = [f"digraph {quote(model.name)} {{",
             f'  graph [rankdir={rankdir}, nodesep=0.3, ranksep=0.42, pad=0.15, '
             f'bgcolor="white", fontname="{FONT}", fontsize=11, fontcolor="{MUTED}"];',
             f'  node [shape=box, style="rounded,filled", fontname="{FONT}", fontsize=12, '
             f'fontcolor="{INK}", margin="0.16,0.08", penwidth=1.2];',
             f'  edge [color="{EDGE}", penwidth=1.1, arrowsize=0.7];']
    removed = [key for key, mark in marked.items() if mark == "removed"]
    legends = []
    if shade:
        legends.append(f'<FONT POINT-SIZE="10">{text(shade["legend"])}</FONT>')
    if removed:
        legends.append(f'<FONT COLOR="{MARK_COLORS["changed"]}">removed: '
                       f'{text(", ".join(map(str, removed)))}</FONT>')
    if drawing.masked:                  # one label holds every legend line
        legends.append(f'<FONT POINT-SIZE="10" COLOR="{MASKED}">{MASK_LEGEND}</FONT>')
        legends = ["<BR/>".join(legends)]
    lines += [f'  label=<{legend}>; labelloc="b";' for legend in legends]
    children = {}
    for box in drawing.boxes:
        children.setdefault(box.cluster, []).append(box)
    subclusters = {}
    for cluster in drawing.clusters:
        subclusters.setdefault(cluster.parent, []).append(cluster)

    def emit(cluster_id, indent):
        for box in children.get(cluster_id, ()):
            fill, border = COLORS[role(box)]
            style = "rounded,filled"
            if box.calls > 1:
                style, border = "rounded,filled,dashed", SHARED
            box_label = label(box, **options)
            if box.id in trunk:
                border = TRUNK
                box_label = (box_label[:-1] + f'<BR/><FONT POINT-SIZE="10" COLOR="{TRUNK}">'
                             f'shared trunk</FONT>>')
            if shade and box.id in shade["boxes"]:
                fill, line = shade["boxes"][box.id]
                box_label = box_label[:-1] + f'<BR/><FONT POINT-SIZE="10"><B>{text(line)}</B></FONT>>'
            attrs = [f"label={box_label}", f'style="{style}"', f'fillcolor="{fill}"',
                     f'color="{border}"', f"width={safe_width(box_label)}"]
            if box.is_output or box.id in trunk:
                attrs.append("penwidth=2.2")
            if box.mark is not None:
                attrs[3] = f'color="{MARK_COLORS[box.mark]}"'
                attrs.append("penwidth=3")
            if box.is_model:
                attrs.append("peripheries=2")
            lines.append(f"{indent}{quote(box.id)} [{', '.join(attrs)}];")
        for cluster in subclusters.get(cluster_id, ()):
            lines.append(f"{indent}subgraph {quote('cluster_' + cluster.id)} {{")
            shared = (f'<BR/><FONT POINT-SIZE="10" COLOR="{SHARED}">shared · call {cluster.call} '
                      f'of {cluster.calls}</FONT>' if cluster.calls > 1 else "")
            border = SHARED if cluster.calls > 1 else COLORS["model"][1]
            lines.append(f'{indent}  label=<<B>{text(cluster.name)}</B>  <FONT COLOR="{MUTED}">'
                         f'{text(cluster.type)}</FONT>{shared}>; labeljust="l"; '
                         f'style="rounded,filled,dashed"; fillcolor="#F7F5FB"; color="{border}";')
            emit(cluster.id, indent + "  ")
            lines.append(f"{indent}}}")

    emit(None, "  ")
    # Edges into a merge weigh less than the others, so a short branch sits right after the
    # split it comes from rather than right before the merge (dot ties both ways otherwise).
    fan_in = Counter(b for _, b in drawing.edges)
    masked = f', color="{MASKED}", penwidth=2.4'
    lines += [f"  {quote(a)} -> {quote(b)} [weight={1 if fan_in[b] > 1 else 3}"
              f"{masked if (a, b) in drawing.masked else ''}];" for a, b in drawing.edges]
    lines.append("}")
    return "\n".join(lines) + "\n"
