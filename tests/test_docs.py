"""The documentation is part of the product: the site builds strictly, and every ```python
block of README.md and docs/*.md runs as written.

A page's blocks run in order in one fresh interpreter (so a later block may use what an
earlier one defined), in an empty folder, with this checkout's graphnet first on the path.
A block whose previous non-blank line is `<!-- no-run -->` is shown, not run (e.g. code
that needs several hosts).
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
NO_RUN = "<!-- no-run -->"
FENCE = re.compile(r"^(\s*)```(\w*)\s*$")

RUNNER = r"""
import json, sys, traceback
page, blocks = json.load(sys.stdin)
scope = {"__name__": "__main__"}
for line, source in blocks:
    try:
        exec(compile(source, f"{page}, block at line {line}", "exec"), scope)
    except BaseException:
        traceback.print_exc()
        print(f"FAILED: {page}, the ```python block at line {line}", file=sys.stderr)
        sys.exit(1)
"""


def python_blocks(text: str):
    """[(first line number, source)] of the runnable ```python blocks of a Markdown text."""
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


def test_block_parser_skips_no_run_and_other_languages():
    text = ("a\n```python\nx = 1\n```\n\n<!-- no-run -->\n\n```python\nnever()\n```\n"
            "```bash\nls\n```\n```python\ny = x + 1\n```\n")
    assert python_blocks(text) == [(3, "x = 1\n"), (15, "y = x + 1\n")]


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["MPLBACKEND"] = "Agg"
    env["NO_MKDOCS_2_WARNING"] = "1"
    env.setdefault("JAX_PLATFORMS", "cpu")
    return env


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_page_code_blocks_run(page, tmp_path):
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(f"{page.name} has no runnable python block")
    name = page.relative_to(ROOT).as_posix()
    done = subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps([name, blocks]),
                          cwd=tmp_path, env=_env(), capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, f"{name}:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"


def test_docs_site_builds_strictly(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--config-file", str(ROOT / "mkdocs.yml"),
                           "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "api" / "index.html").exists()


def test_every_docs_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    missing = [p.name for p in (ROOT / "docs").glob("*.md") if p.name not in nav]
    assert not missing, f"add these pages to mkdocs.yml's nav: {missing}"
