"""The documentation is part of the product: the site builds strictly, and every ```python
block of README.md and docs/*.md runs as written.

A page's blocks run in order in one fresh interpreter (so a later block may use what an
earlier one defined), in an empty folder, with this checkout's graphnet first on the path.
A block whose previous non-blank line is `<!-- no-run -->` is shown, not run (e.g. code
that needs several hosts).

A picture a page shows from `docs/drawn/<page>/` is drawn by the page's own code
(docs/draw_pictures.py redraws them): after the blocks run, every such SVG, Mermaid or DOT
file must equal the committed one, and every PNG must have been written.

What a page says a line prints is checked. A one-line `print(...)` call followed by an
`# expected:` comment states its output:

    print(model.output.shape)        # expected: (None, 3)
    print(edit.diff(model, lean))
    # expected:
    # 0 added, 1 removed, 1 changed
    # - dropout (Dropout) -> (None, 8)

The text after `# expected:` on the same line, or the comment lines that follow a bare
`# expected:` line (each without its leading `# `), must equal what that call prints (trailing
spaces ignored); `...` in the expected text stands for any text, as in doctest's ELLIPSIS.
Any other comment is prose, not checked.
"""
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]

_spec = importlib.util.spec_from_file_location("draw_pictures", ROOT / "docs" / "draw_pictures.py")
draw_pictures = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(draw_pictures)
python_blocks = draw_pictures.python_blocks

RUNNER = r"""
import io, json, re, sys, traceback
page, blocks, known_wrong = json.load(sys.stdin)


def __expect__(where, expected):
    def checked_print(*args, **kwargs):
        text = io.StringIO()
        print(*args, **{**kwargs, "file": text})
        print(*args, **kwargs)
        got = "\n".join(line.rstrip() for line in text.getvalue().rstrip("\n").split("\n"))
        want = "\n".join(line.rstrip() for line in expected.split("\n"))
        pattern = ".*".join(re.escape(part) for part in want.split("..."))
        right = re.fullmatch(pattern, got, re.S)
        if where in known_wrong:
            print(f"KNOWN {'FIXED' if right else 'WRONG'}: {where}", file=sys.stderr)
        elif not right:
            raise AssertionError(f"{where} prints\n{got}\nbut the page says it prints\n{want}")
    return checked_print


scope = {"__name__": "__main__", "__expect__": __expect__}
for line, source in blocks:
    try:
        exec(compile(source, f"{page}, block at line {line}", "exec"), scope)
    except BaseException:
        traceback.print_exc()
        print(f"FAILED: {page}, the ```python block at line {line}", file=sys.stderr)
        sys.exit(1)
"""


EXPECTED = "# expected:"
PRINT = re.compile(r"^(\s*)print\(")


def with_expectations(source: str, page: str, first_line: int) -> str:
    """The block's source with every `print(` that carries an `# expected:` comment turned
    into a print that checks its output (same line numbers)."""
    lines = source.split("\n")
    for i, line in enumerate(lines):
        match = PRINT.match(line)
        if not match:
            continue
        code, _, comment = line.partition(EXPECTED)
        if comment:
            expected = comment.strip()
        elif i + 1 < len(lines) and lines[i + 1].strip() == EXPECTED:
            following = []
            for later in lines[i + 2:]:
                if not later.strip().startswith("#"):
                    break
                following.append(later.strip()[2:] if later.strip().startswith("# ")
                                 else later.strip()[1:])
            assert following, f"{page}, line {first_line + i + 1}: '# expected:' with no lines"
            expected = "\n".join(following)
        else:
            continue
        where = f"{page}, line {first_line + i}"
        lines[i] = (match.group(1) + f"__expect__({where!r}, {expected!r})("
                    + line[match.end():])
    return "\n".join(lines)


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


# Lines whose `# expected:` states the contract's output where graphnet still prints something
# else. The rest of the page is checked as usual; the page's test is an expected failure while
# a line prints the wrong text, and fails once it prints the right one (remove the entry then).
KNOWN_WRONG_OUTPUT = {
}


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_page_code_blocks_run(page, tmp_path):
    blocks = python_blocks(page.read_text(encoding="utf-8"))
    if not blocks:
        pytest.skip(f"{page.name} has no runnable python block")
    name = page.relative_to(ROOT).as_posix()
    done = _run_blocks(name, blocks, tmp_path)
    assert done.returncode == 0, f"{name}:\n{done.stdout[-3000:]}\n{done.stderr[-6000:]}"
    for written, committed in draw_pictures.drawn_pictures(page).items():
        drawn = tmp_path / written
        assert drawn.exists(), f"{name} shows {committed.name}, but its code does not write {written}"
        if committed.suffix in draw_pictures.TEXT_FORMATS:
            assert drawn.read_bytes() == committed.read_bytes(), (
                f"{committed.relative_to(ROOT)} is not what {name}'s code draws; "
                f"run: python docs/draw_pictures.py {page.name}")
    fixed = re.findall(r"^KNOWN FIXED: (.*)$", done.stderr, re.M)
    assert not fixed, f"these lines now print what the page says: remove {fixed} from KNOWN_WRONG_OUTPUT"
    wrong = re.findall(r"^KNOWN WRONG: (.*)$", done.stderr, re.M)
    if wrong:
        pytest.xfail("; ".join(f"{where}: {KNOWN_WRONG_OUTPUT[where]}" for where in wrong))


# Pictures drawn by scripts rather than by a page's blocks, and the pages that may show them.
DRAWN_BY_SCRIPTS = {
    "pictures.md": ("models/", "history_digits_multihead.png"),      # examples/book_models.py
    "examples.md": ("img/", "history_digits_multihead.png"),         # the example scripts
    "multi_output.md": ("multi_output/",),                 # examples/multitask_diagnostics.py
}


@pytest.mark.parametrize("page", PAGES, ids=[p.relative_to(ROOT).as_posix() for p in PAGES])
def test_pictures_come_from_the_code_beside_them(page):
    """A page shows pictures its own code draws (docs/drawn/<page>/); only the gallery, the
    examples and the multi-output example's curves come from scripts."""
    allowed = (f"drawn/{page.stem}/", *DRAWN_BY_SCRIPTS.get(page.name, ()))
    refs = draw_pictures.IMAGE.findall(page.read_text(encoding="utf-8"))
    wrong = [ref for ref in refs if not ref.startswith(("http", *allowed))]
    assert not wrong, f"{page.name} shows pictures its code does not draw: {wrong}"
    for ref in refs:
        if not ref.startswith("http"):
            assert (page.parent / ref).exists(), f"{page.name}: {ref} does not exist"


def test_gallery_is_what_book_models_draws(tmp_path):
    """docs/models/ is the output of `python examples/book_models.py --out docs/models`."""
    spec = importlib.util.spec_from_file_location("book_models", ROOT / "examples" / "book_models.py")
    book_models = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(book_models)
    book_models.main(["--out", str(tmp_path)])
    drawn = sorted(p.name for p in tmp_path.iterdir())
    assert drawn == sorted(p.name for p in (ROOT / "docs" / "models").iterdir())
    for name in drawn:
        if Path(name).suffix in draw_pictures.TEXT_FORMATS:
            assert (tmp_path / name).read_bytes() == (ROOT / "docs" / "models" / name).read_bytes(), (
                f"docs/models/{name} is stale: python examples/book_models.py --out docs/models")


def _run_blocks(name, blocks, folder):
    blocks = [(line, with_expectations(source, name, line)) for line, source in blocks]
    known = [where for where in KNOWN_WRONG_OUTPUT if where.startswith(f"{name}, line ")]
    return subprocess.run([sys.executable, "-c", RUNNER], input=json.dumps([name, blocks, known]),
                          cwd=folder, env=_env(), capture_output=True, text=True, timeout=900)


def test_expected_output_is_checked_and_can_fail(tmp_path):
    page = ("```python\nx = 0.5\nprint(x)  # expected: 0.5\nprint(x, 'a')  # expected: 0.5 ...\n"
            "for i in range(1):\n    print(i)  # expected: 0\nprint('a\\nb')\n# expected:\n# a\n# b\n"
            "print(x)  # prose: not checked\n```\n")
    done = _run_blocks("good.md", python_blocks(page), tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["0.5", "0.5", "a", "0", "a", "b", "0.5"]
    for wrong in ("print(x)  # expected: 0.25\n", "print(x, 1)  # expected: 0.5\n",
                  "print('a\\nb')\n# expected:\n# a\n# c\n"):
        done = _run_blocks("bad.md", python_blocks(f"```python\nx = 0.5\n{wrong}```\n"), tmp_path)
        assert done.returncode == 1 and "bad.md, line 3 prints" in done.stderr, done.stderr


def test_a_known_wrong_line_is_reported_not_raised(tmp_path, monkeypatch):
    monkeypatch.setitem(KNOWN_WRONG_OUTPUT, "known.md, line 3", "a known bug")
    for printed, verdict in (("0.25", "KNOWN WRONG"), ("0.5", "KNOWN FIXED")):
        page = f"```python\nx = {printed}\nprint(x)  # expected: 0.5\nprint('after')\n```\n"
        done = _run_blocks("known.md", python_blocks(page), tmp_path)
        assert done.returncode == 0 and "after" in done.stdout, done.stderr
        assert f"{verdict}: known.md, line 3" in done.stderr


def test_docs_site_builds_strictly(tmp_path):
    done = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet",
                           "--config-file", str(ROOT / "mkdocs.yml"),
                           "--site-dir", str(tmp_path / "site")],
                          cwd=ROOT, env=_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-6000:]
    assert (tmp_path / "site" / "index.html").exists()
    assert (tmp_path / "site" / "api" / "index.html").exists()


def test_the_readme_lists_every_page():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"\]\(docs/([\w/]+\.md)\)", readme))
    pages = {p.name for p in (ROOT / "docs").glob("*.md")} - {"index.md", "benchmark_results.md"}
    assert pages <= listed, f"README.md's page list lacks {sorted(pages - listed)}"


def test_every_docs_page_is_in_the_navigation():
    nav = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    pages = [*(ROOT / "docs").glob("*.md"), *(ROOT / "docs").glob("api/*.md")]
    missing = [p.relative_to(ROOT / "docs").as_posix() for p in pages
               if p.relative_to(ROOT / "docs").as_posix() not in nav]
    assert not missing, f"add these pages to mkdocs.yml's nav: {missing}"
