"""Write docs/not_yet.md: every public name of Keras's modules that graphnet lacks.

Run `python docs/not_yet.py` (with Keras installed, KERAS_BACKEND=jax) after adding or
removing a name; tests/test_not_yet.py fails while the page differs from what this writes.
"""
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "not_yet.md"

MODULES = ["layers", "optimizers", "callbacks", "metrics", "losses", "activations",
           "initializers", "regularizers", "ops", "utils"]

# Names bound to another Keras backend: graphnet runs on JAX alone and will not have them.
OUT_OF_SCOPE = {
    ("layers", "TFSMLayer"): "loads a TensorFlow SavedModel (TensorFlow backend)",
    ("layers", "TorchModuleWrapper"): "wraps a PyTorch module (PyTorch backend)",
    ("optimizers", "legacy"): "TensorFlow's Keras 2 optimizers; Keras 3 itself raises an "
                              "ImportError for them on every backend",
    ("callbacks", "OrbaxCheckpoint"): "writes checkpoints through the orbax-checkpoint "
                                      "package, which graphnet does not depend on; "
                                      "ModelCheckpoint and BackupAndRestore save and resume",
}


def catalogue():
    """{module: (Keras's public names, the ones graphnet lacks)} and Keras's version."""
    os.environ.setdefault("KERAS_BACKEND", "jax")
    sys.path.insert(0, str(ROOT))
    import keras

    import graphnet
    table = {}
    for module in MODULES:
        theirs = sorted(n for n in dir(getattr(keras, module)) if not n.startswith("_"))
        ours = getattr(graphnet, module)
        table[module] = (theirs, [n for n in theirs if not hasattr(ours, n)
                                  and (module, n) not in OUT_OF_SCOPE])
    return table, keras.__version__


def render(table, version) -> str:
    total = sum(len(names) for names, _ in table.values())
    missing = sum(len(lacking) for _, lacking in table.values())
    lines = [
        "# Not there yet",
        "",
        f"Every public name of Keras {version}'s modules that graphnet does not have yet: "
        f"{missing} of {total}. A Keras listing that uses one of them fails at that name (an "
        "`AttributeError` naming it); everything else in these modules is there, with Keras's "
        "arguments and numbers (see [The catalogue](catalogue.md)).",
        "",
        "This page is generated from the installed Keras by `docs/not_yet.py`, and a test "
        "fails while it differs from what the script writes, so it is always current.",
        "",
        "| Module | Keras's names | graphnet has | Not yet |",
        "| --- | --- | --- | --- |",
    ]
    for module, (names, lacking) in table.items():
        scoped = sum((module, n) in OUT_OF_SCOPE for n in names)
        lines.append(f"| `{module}` | {len(names)} | {len(names) - len(lacking) - scoped} | "
                     f"{len(lacking)} |")
    for module, (_, lacking) in table.items():
        lines += ["", f"## {module}", ""]
        lines.append(", ".join(f"`{n}`" for n in lacking) if lacking else "Nothing missing.")
    lines += ["", "## Out of scope", "",
              "Tied to another Keras backend or to a package graphnet does not depend on, so "
              "not planned:", ""]
    lines += [f"- `{module}.{name}`: {why}" for (module, name), why in OUT_OF_SCOPE.items()]
    return "\n".join(lines) + "\n"


def main():
    PAGE.write_text(render(*catalogue()), encoding="utf-8")
    print(f"wrote {PAGE.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
