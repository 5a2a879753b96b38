"""docs/not_yet.md is what docs/not_yet.py generates from the installed Keras: the list of
Keras's names graphnet lacks is always current."""
import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("not_yet", ROOT / "docs" / "not_yet.py")
not_yet = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(not_yet)


def test_the_page_lists_what_graphnet_lacks_today():
    pytest.importorskip("keras")
    table, version = not_yet.catalogue()
    want = not_yet.render(table, version)
    have = not_yet.PAGE.read_text(encoding="utf-8")
    assert have == want, ("docs/not_yet.md is out of date: run `KERAS_BACKEND=jax python "
                          "docs/not_yet.py` and commit the page")


def test_the_comparison_can_see_a_missing_and_an_out_of_scope_name():
    pytest.importorskip("keras")
    table, _ = not_yet.catalogue()
    names, lacking = table["layers"]
    assert "Dense" in names and "Dense" not in lacking
    assert "TFSMLayer" in names and "TFSMLayer" not in lacking
    page = not_yet.render({"layers": (["Dense", "Foo", "TFSMLayer"], ["Foo"])}, "3.x")
    assert "| `layers` | 3 | 1 | 1 |" in page and "`Foo`" in page
    assert "- `layers.TFSMLayer`:" in page
