"""The package's shape: no import cycles, no reaching into another module's private names,
small files. Read from the source with `ast`, so imports inside functions count too."""
import ast
import pathlib

import networkx as nx
import pytest

PACKAGE = pathlib.Path(__file__).resolve().parents[1] / "graphnet"
MAX_LINES = 600

# Private names another module may read, and why. Keep it short: each entry is a seam
# that should have been public or should not be crossed.
ALLOWED_PRIVATE = {
}


def module_name(path):
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules():
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def imported_names(module, path, known):
    """(imported module, name or None) for every import in the file, at any depth."""
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("graphnet"):
                continue
            for alias in node.names:
                submodule = f"{target}.{alias.name}"
                yield (submodule, None) if submodule in known else (target, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("graphnet"):
                    yield alias.name, None


def import_graph():
    known = modules()
    graph = nx.DiGraph()
    graph.add_nodes_from(known)
    for module, path in known.items():
        for target, _ in imported_names(module, path, known):
            # `from . import x` inside a package's __init__ is the package listing itself
            if target in known and target != module:
                graph.add_edge(module, target)
    return graph


def is_private(name):
    return name.startswith("_") and not name.startswith("__")


def test_no_import_cycle():
    graph = import_graph()
    cycles = [sorted(c) for c in nx.strongly_connected_components(graph) if len(c) > 1]
    assert not cycles, f"modules that import each other (through any path): {cycles}"


def test_no_module_reads_another_modules_private_names():
    known = modules()
    reaches = []
    for module, path in known.items():
        for target, name in imported_names(module, path, known):
            if name and is_private(name) and (module, name) not in ALLOWED_PRIVATE:
                reaches.append(f"{module} imports {target}.{name}")
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Attribute) and is_private(node.attr)):
                continue
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in ("self", "cls"):
                continue
            if isinstance(owner, ast.Call) and ast.unparse(owner.func) == "super":
                continue
            if (module, node.attr) in ALLOWED_PRIVATE:
                continue
            reaches.append(f"{module}:{node.lineno} reads {ast.unparse(owner)}.{node.attr}")
    assert not reaches, "\n".join(reaches)


def test_no_module_over_the_line_limit():
    long = {m: n for m, p in modules().items() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: {long}"


def test_model_keeps_a_small_public_surface():
    import graphnet as gn
    public = sorted(a for a in vars(gn.Model) if not a.startswith("_"))
    assert len(public) < 40, f"Model defines {len(public)} public attributes: {public}"


@pytest.mark.parametrize("probe", ["cycle", "private", "long"])
def test_the_checks_can_fail(tmp_path, monkeypatch, probe):
    """Each check above fails on a package that breaks its rule."""
    package = tmp_path / "graphnet"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "sub" / "__init__.py").write_text("")
    if probe == "cycle":
        (package / "a.py").write_text("def f():\n    from .sub import b\n")
        (package / "sub" / "b.py").write_text("from .. import a\n")
        test = test_no_import_cycle
    elif probe == "private":
        (package / "a.py").write_text("from .sub.b import _hidden\n")
        (package / "sub" / "b.py").write_text("_hidden = 1\n")
        test = test_no_module_reads_another_modules_private_names
    else:
        (package / "a.py").write_text("x = 1\n" * (MAX_LINES + 1))
        test = test_no_module_over_the_line_limit
    monkeypatch.setitem(globals(), "PACKAGE", package)
    with pytest.raises(AssertionError):
        test()
