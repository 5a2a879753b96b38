"""Draws the pictures of the documentation's pages by running each page's own code.

A picture shown on a page as `drawn/<page>/<file>` (for example `drawn/editing/edit_before.svg`
on editing.md) is the file `<file>` that the page's code writes. This script runs every
```python block of the page, in order, in one namespace, in an empty temporary folder (as a
reader would, in a fresh interpreter), then copies those files into docs/drawn/<page>/. tests/test_docs.py runs the
same blocks and fails when a drawn SVG, Mermaid or DOT file differs from the committed one.

Run from the repository root, graphnet installed or on PYTHONPATH:

    python docs/draw_pictures.py                  # every page
    python docs/draw_pictures.py editing.md       # one page

The other pictures come from scripts: docs/models/ (the gallery of the Pictures page) from
`python examples/book_models.py --out docs/models`; docs/img/ from the example scripts of the
Examples page (`python examples/<script>.py --out docs/img`); docs/multi_output/ from
`python examples/multitask_diagnostics.py --out docs/multi_output`; and
docs/history_digits_multihead.png is `history.png` of `python examples/digits_multihead.py`.
"""
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
NO_RUN = "<!-- no-run -->"
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
TEXT_FORMATS = (".svg", ".mmd", ".dot")      # compared byte for byte by the tests


def python_blocks(text: str):
    """[(first line number, source)] of the runnable ```python blocks of a Markdown text.

    A block whose previous non-blank line is `<!-- no-run -->` is shown, not run."""
    blocks, lines, i = [], text.splitlines(), 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        indent, lang, start = match.group(1), match.group(2), i
        i += 1
        body = []
        while i < len(lines) and lines[i].strip() != "```":
            body.append(lines[i][len(indent):] if lines[i].startswith(indent) else lines[i])
            i += 1
        i += 1
        before = [line.strip() for line in lines[:start] if line.strip()]
        if lang == "python" and not (before and before[-1] == NO_RUN):
            blocks.append((start + 2, "\n".join(body) + "\n"))
    return blocks


def drawn_pictures(page: pathlib.Path):
    """{file name the page's code writes: committed path} for the pictures the page shows
    from docs/drawn/<page>/."""
    folder = f"drawn/{page.stem}/"
    return {ref[len(folder):]: DOCS / ref
            for ref in IMAGE.findall(page.read_text(encoding="utf-8"))
            if ref.startswith(folder)}


RUN_BLOCKS = r"""
import json, sys
page, blocks = json.load(sys.stdin)
scope = {"__name__": "__main__"}
for line, source in blocks:
    exec(compile(source, f"{page}, block at line {line}", "exec"), scope)
"""


def draw(page: pathlib.Path):
    """Runs the page's blocks in a fresh interpreter (default layer and model names count
    from zero, as for a reader), then copies the pictures it shows into docs/drawn/<page>/."""
    pictures = drawn_pictures(page)
    if not pictures:
        return []
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory() as folder:
        subprocess.run([sys.executable, "-c", RUN_BLOCKS], input=json.dumps([page.name, blocks]),
                       cwd=folder, env=env, text=True, check=True, stdout=subprocess.DEVNULL)
        for name, target in pictures.items():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(pathlib.Path(folder) / name, target)
    return sorted(pictures.values())


def main(argv=None):
    names = sys.argv[1:] if argv is None else argv
    pages = [DOCS / name for name in names] or sorted(DOCS.glob("*.md"))
    for page in pages:
        for target in draw(page):
            print(target.relative_to(ROOT))


if __name__ == "__main__":
    main()
