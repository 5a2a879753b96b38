"""The book's models (examples/book_models.py) and a reader for rendered SVG pictures."""
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
from book_models import BOOK, shared_encoder, siamese, two_branch  # noqa: E402,F401

SVG = "{http://www.w3.org/2000/svg}"


def parse_svg(data):
    """{node title: (texts, (x0, y0, x1, y1), fill)} and the same for clusters."""
    root = ET.fromstring(data)
    found = {"node": {}, "cluster": {}}
    for group in root.iter(f"{SVG}g"):
        kind = group.get("class")
        if kind not in found:
            continue
        title = group.find(f"{SVG}title").text
        shape = group.find(f"{SVG}path")
        if shape is None:
            shape = group.find(f"{SVG}polygon")
        found[kind][title] = (runs(group),
                              bounds(shape.get("d") or shape.get("points")), shape.get("fill"))
    return found["node"], found["cluster"]


def runs(group):
    """The label's text runs in order: each `<tspan>` of a line (or a `<text>` without any)."""
    found = []
    for line in group.iter(f"{SVG}text"):
        spans = list(line.iter(f"{SVG}tspan"))
        found += [s.text for s in spans] if spans else [line.text]
    return found


def bounds(coordinates: str):
    numbers = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", coordinates)]
    xs, ys = numbers[0::2], numbers[1::2]
    return min(xs), min(ys), max(xs), max(ys)
