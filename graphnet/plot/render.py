"""DOT text to SVG or PNG with graphviz-pure, the Graphviz port that pip installs.

graphviz-pure ships no Python code, only a static `dot`-compatible program in the
environment's scripts folder. It is found through the installed distribution's file list,
never through PATH: a system `dot` there is not ours to trust (other versions draw other
pictures, and Keras's plot_model fails where it is missing).
"""
from __future__ import annotations

import functools
import re
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

DISTRIBUTION = "graphviz-pure"
FORMATS = ("svg", "png")
TIMEOUT_S = 120


@functools.lru_cache(maxsize=1)
def executable() -> Path:
    """The graphviz-pure program that belongs to this Python environment."""
    names = {DISTRIBUTION, DISTRIBUTION + ".exe"}
    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        dist = None
    candidates = [Path(dist.locate_file(f)) for f in (dist.files or ()) if f.name in names] if dist else []
    scripts = Path(sysconfig.get_path("scripts"))
    candidates += [scripts / name for name in sorted(names)]
    candidates += [Path(sys.prefix) / "bin" / DISTRIBUTION, Path(sys.prefix) / "Scripts" / (DISTRIBUTION + ".exe")]
    for path in candidates:
        if path.is_file():
            return path.resolve()
    raise ImportError(f"Drawing a model needs the '{DISTRIBUTION}' package (the Graphviz layout "
                      f"engine as a wheel, no system package): pip install {DISTRIBUTION}")


def render(dot_text: str, fmt: str, dpi=96) -> bytes:
    """Lays out `dot_text` and returns the image bytes (`fmt` 'svg' or 'png')."""
    if fmt not in FORMATS:
        raise ValueError(f"render: format must be one of {list(FORMATS)}, received {fmt!r}")
    command = [str(executable()), f"-T{fmt}"]
    if fmt == "png":
        command.append(f"-Gdpi={dpi:g}")
    done = subprocess.run(command, input=dot_text.encode("utf-8"), capture_output=True,
                          timeout=TIMEOUT_S, check=False)
    if done.returncode != 0 or not done.stdout:
        raise RuntimeError(f"{DISTRIBUTION} could not render the picture (exit code "
                           f"{done.returncode}): {done.stderr.decode('utf-8', 'replace').strip()}")
    if fmt == "svg":
        return centre_text(done.stdout.decode("utf-8")).encode("utf-8")
    return done.stdout


GROUP = re.compile(r'(<g id="[^"]*" class="(node|cluster)">)(.*?)(</g>)', re.S)
TEXT = re.compile(r"<text ([^>]*)>(.*?)</text>", re.S)
PLACING = re.compile(r'(?:^|\s)(?:xml:space|text-anchor|x|y)="[^"]*"')
SHAPE = re.compile(r'<(?:path|polygon)\b[^>]*?\s(?:d|points)="([^"]*)"')


def centre_text(svg: str) -> str:
    """The SVG with each line of a box's label as one `<text>` whose styled runs are
    `<tspan>`s: the viewer lays the runs out one after the other in the font it has, so they
    never overlap, and a node's lines are centred on the box (`text-anchor="middle"`)
    rather than placed at x positions Graphviz computed from Helvetica's metrics. A
    cluster's label keeps its left edge."""
    return GROUP.sub(_centre_group, svg)


def _centre_group(match) -> str:
    head, kind, body, tail = match.groups()
    shape = SHAPE.search(body)
    if shape is None:
        return match.group(0)
    xs = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", shape.group(1))][0::2]
    lines: dict[str, list] = {}

    def collect(text):
        attrs, content = text.group(1), text.group(2)
        y = re.search(r'(?:^|\s)y="([^"]*)"', attrs).group(1)
        first = y not in lines
        lines.setdefault(y, []).append((attrs, content))
        return f"\0{y}\0" if first else ""

    body = TEXT.sub(collect, body)
    for y, runs in lines.items():
        if kind == "node":
            anchor, x = "middle", f"{(min(xs) + max(xs)) / 2:.2f}"
        else:
            anchor, x = "start", re.search(r'(?:^|\s)x="([^"]*)"', runs[0][0]).group(1)
        spans = "".join(f"<tspan {PLACING.sub('', attrs).strip()}>{content}</tspan>"
                        for attrs, content in runs)
        body = body.replace(f"\0{y}\0", f'<text xml:space="preserve" text-anchor="{anchor}" '
                                         f'dominant-baseline="alphabetic" x="{x}" y="{y}">'
                                         f"{spans}</text>")
    return head + body + tail
