"""Every example script runs: one short epoch each, its result printed, its pictures written.

The scripts are loaded from examples/ and their `main(argv)` called in this process, so a run
costs its compile and one epoch, not a fresh JAX import.
"""
import ast
import contextlib
import importlib.util
import runpy
from pathlib import Path

import jax
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

# script -> (the line it prints with its result, the pictures it writes)
SMOKE = {
    "digits_inception": ("test accuracy", ["digits_inception.svg", "digits_inception_history.png"]),
    "wine_two_branch": ("test accuracy", ["wine_two_branch.svg", "wine_two_branch_history.png"]),
    "digits_siamese": ("same/different accuracy", ["digits_siamese.svg",
                                                   "digits_siamese_history.png"]),
    "diabetes_residual": ("test MAE", ["diabetes_residual.svg", "diabetes_residual_history.png"]),
    "digits_lstm": ("test accuracy", ["digits_lstm.svg", "digits_lstm_history.png"]),
    "optax_loop": ("test accuracy", ["optax_loop.svg", "optax_loop_loss.png"]),
}


def load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", sorted(SMOKE))
def test_example_runs_one_epoch(name, tmp_path, capsys):
    printed, pictures = SMOKE[name]
    # The suite runs with strict dtype promotion; optax's schedules (used as a user would, in
    # the hand-written loop) multiply a float by the int32 step count.
    promotion = (jax.numpy_dtype_promotion("standard") if name == "optax_loop"
                 else contextlib.nullcontext())
    with promotion:
        result = load(name).main(["--epochs", "1", "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert printed in out
    for value in result.values():
        assert value == value and abs(value) < 1e6          # a finite number came out
    for picture in pictures:
        path = tmp_path / picture
        assert path.stat().st_size > 500, f"{name} did not write {picture}"
    assert "<svg" in (tmp_path / pictures[0]).read_text(encoding="utf-8")
    shown = EXAMPLES.parent / "docs" / "img" / pictures[0]      # the Examples page's picture
    assert (tmp_path / pictures[0]).read_bytes() == shown.read_bytes(), (
        f"docs/img/{pictures[0]} is not what examples/{name}.py draws")


def test_every_example_is_smoke_tested_and_documented():
    scripts = {p.stem for p in EXAMPLES.glob("*.py")}
    known = set(SMOKE) | {"digits_multihead", "book_models", "multihost_localhost",
                          "multitask_diagnostics"}     # tests/train/test_train_example.py
    assert scripts <= known, f"add a smoke test for {sorted(scripts - known)}"
    page = (EXAMPLES.parent / "docs" / "examples.md").read_text(encoding="utf-8")
    missing = [s for s in sorted(scripts) if f"examples/{s}.py" not in page]
    assert not missing, f"docs/examples.md does not show {missing}"


def _files(folder):
    return {p: p.stat().st_mtime_ns for p in folder.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts}


@pytest.mark.parametrize("name", sorted(p.stem for p in EXAMPLES.glob("*.py")))
def test_example_help_prints_usage_and_writes_nothing(name, tmp_path, monkeypatch, capsys):
    """`python examples/<name>.py --help` prints the whole description and exits 0 without
    training or writing a file, in the current folder or in the checkout."""
    checkout = EXAMPLES.parent
    watched = [checkout / "docs", EXAMPLES]
    before = [_files(folder) for folder in watched] + [sorted(checkout.iterdir())]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", [str(EXAMPLES / f"{name}.py"), "--help"])
    with pytest.raises(SystemExit) as stop:
        runpy.run_path(str(EXAMPLES / f"{name}.py"), run_name="__main__")
    assert stop.value.code in (0, None)
    out = capsys.readouterr().out
    assert out.startswith("usage:"), out
    script = importlib.util.spec_from_file_location(name, EXAMPLES / f"{name}.py")
    doc = ast.get_docstring(ast.parse(Path(script.origin).read_text(encoding="utf-8")))
    last_sentence = doc.split("\n\n")[0].split()[-1]
    assert last_sentence in out, "the description is cut short"
    assert list(tmp_path.iterdir()) == [], "--help wrote files"
    after = [_files(folder) for folder in watched] + [sorted(checkout.iterdir())]
    assert after == before, "--help changed the checkout"
