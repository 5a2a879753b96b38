"""The API reference is worth reading: every name docs/api/ shows has a docstring, and every
Keras-named class graphnet exports is shown there.

The pages of docs/api/ list the objects mkdocstrings renders (`::: graphnet.layers.Dense`), each with
its `members` option: `false` (the object's own docstring), a list, or absent (every public
member the class or module defines itself, as mkdocstrings renders it).
"""
import doctest
import importlib
import inspect
import re
from pathlib import Path

import pytest

import graphnet
from graphnet import callbacks, initializers, layers, losses, metrics, optimizers, regularizers

API = Path(__file__).resolve().parents[1] / "docs" / "api"


def api_text() -> str:
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(API.glob("*.md")))
DIRECTIVE = re.compile(r"^::: ([\w.]+)\n((?:[ \t]+\S.*\n)*)", re.M)


def directives():
    """{path: members} for each `::: path` of docs/api/; members is False, a list of
    names, or None (all public members)."""
    found = {}
    for match in DIRECTIVE.finditer(api_text()):
        members = re.search(r"^\s+members:\s*(.+)$", match.group(2), re.M)
        if members is None:
            found[match.group(1)] = None
        elif members.group(1).strip() == "false":
            found[match.group(1)] = False
        else:
            found[match.group(1)] = re.findall(r"\w+", members.group(1))
    return found


def resolve(path: str):
    """The object a dotted path names: the longest importable module, then attributes."""
    parts = path.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            obj = getattr(obj, name)
        return obj
    raise ImportError(path)


def own_members(obj):
    """(name, object) of the public functions, classes and properties `obj` defines itself."""
    if inspect.ismodule(obj):
        names = getattr(obj, "__all__", None) or [n for n in vars(obj) if not n.startswith("_")]
        for name in names:
            member = getattr(obj, name)
            if ((inspect.isfunction(member) or inspect.isclass(member))
                    and member.__module__.startswith(obj.__name__)):
                yield name, member
        return
    for name, member in vars(obj).items():
        if name.startswith("_"):
            continue
        if isinstance(member, (staticmethod, classmethod)):
            member = member.__func__
        if inspect.isfunction(member) or isinstance(member, property):
            yield name, member


def documented(obj) -> bool:
    doc = obj.fget.__doc__ if isinstance(obj, property) else obj.__doc__
    return bool(doc and doc.strip())


def undocumented():
    """Dotted names shown by the API reference that have no docstring."""
    missing = []
    for path, members in directives().items():
        obj = resolve(path)
        if not documented(obj):
            missing.append(path)
        if members is False or not (inspect.isclass(obj) or inspect.ismodule(obj)):
            continue
        if members is None:
            shown = list(own_members(obj))
        else:
            shown = []
            for name in members:
                try:
                    member = inspect.getattr_static(obj, name)
                except AttributeError:           # an attribute set in __init__
                    continue
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                shown.append((name, member))
        for name, member in shown:
            if (inspect.isfunction(member) or inspect.isclass(member)
                    or isinstance(member, property)) and not documented(member):
                missing.append(f"{path}.{name}")
            if inspect.ismodule(obj) and inspect.isclass(member):     # rendered with members
                missing += [f"{path}.{name}.{n}" for n, m in own_members(member)
                            if not documented(m)]
    return missing


def test_every_name_in_the_api_reference_has_a_docstring():
    missing = undocumented()
    assert not missing, f"add a docstring to: {missing}"


def test_every_directive_names_an_object():
    for path in directives():
        resolve(path)                        # raises if docs/api/ names something gone


FAMILIES = [(layers, layers.Layer), (losses, losses.Loss), (metrics, metrics.Metric),
            (optimizers, optimizers.Optimizer), (callbacks, callbacks.Callback),
            (initializers, initializers.Initializer), (regularizers, regularizers.Regularizer)]


@pytest.mark.parametrize("module, base", FAMILIES, ids=[m.__name__ for m, _ in FAMILIES])
def test_every_exported_class_is_in_the_api_reference(module, base):
    shown = set(directives())
    missing = sorted(
        name for name, obj in vars(module).items()
        if inspect.isclass(obj) and issubclass(obj, base) and not name.startswith("_")
        and obj.__name__ == name                                       # not an alias
        and f"{module.__name__}.{name}" not in shown and f"graphnet.{name}" not in shown)
    assert not missing, f"add these to docs/api/: {missing}"


def test_every_numpy_named_op_is_listed():
    text = api_text()
    missing = [name for name in graphnet.ops._NUMPY_SAME if f"`{name}`" not in text]
    assert not missing, f"docs/api/'s list of NumPy-named ops lacks {missing}"


def test_every_op_is_rendered():
    """Each op of `graphnet.ops` is on the ops page: rendered with the module that defines it
    (a `:::` line per module, as the package's star imports hide them from the renderer), or
    named in the page's list of NumPy-named ops."""
    rendered = {path for path, members in directives().items() if members is None}
    text = api_text()
    missing = sorted(
        name for name, fn in vars(graphnet.ops).items()
        if callable(fn) and not name.startswith("_") and not inspect.isclass(fn)
        and getattr(fn, "__module__", "").startswith("graphnet.ops")
        and fn.__module__ not in rendered and f"`{name}`" not in text)
    assert not missing, f"docs/api/ops.md shows neither these ops nor their module: {missing}"


def test_every_public_module_is_in_the_api_reference():
    shown = directives()
    modules = [name for name in graphnet.__all__ if inspect.ismodule(getattr(graphnet, name))
               and name != "models"]                  # graphnet.models: Keras's alias module
    missing = [m for m in modules
               if not any(p == f"graphnet.{m}" or p.startswith(f"graphnet.{m}.") for p in shown)]
    assert not missing, f"docs/api/ shows nothing of {missing}"


ARGS = re.compile(r"^(\s*)(Args|Arguments|Parameters):\s*$")
ARG = re.compile(r"^\s*\*{0,2}(\w+)\s*(\(.*?\))?\s*:")


def documented_args(doc: str):
    """The names a Google-style `Args:` section lists (each at the section's first indent)."""
    lines, names = (doc or "").expandtabs().splitlines(), []
    for i, line in enumerate(lines):
        match = ARGS.match(line)
        if not match:
            continue
        indent = None
        for entry in lines[i + 1:]:
            if not entry.strip():
                continue
            width = len(entry) - len(entry.lstrip())
            if width <= len(match.group(1)):
                break                                   # the next section
            indent = width if indent is None else indent
            if width == indent and ARG.match(entry):
                names.append(ARG.match(entry).group(1))
    return names


def real_parameters(obj):
    target = obj.fget if isinstance(obj, property) else obj
    if inspect.isclass(target):
        target = target.__init__
    try:
        return set(inspect.signature(target).parameters)
    except (TypeError, ValueError):
        return None


def shown_objects():
    """(dotted name, object) of everything the API reference renders."""
    for path, members in directives().items():
        obj = resolve(path)
        yield path, obj
        if not (inspect.isclass(obj) or inspect.ismodule(obj)) or members is False:
            continue
        if members is None:
            chosen = list(own_members(obj))
        else:
            chosen = [(n, inspect.getattr_static(obj, n)) for n in members
                      if hasattr(obj, n) and not isinstance(inspect.getattr_static(obj, n),
                                                            (int, float, str))]
        for name, member in chosen:
            if isinstance(member, (staticmethod, classmethod)):
                member = member.__func__
            yield f"{path}.{name}", member
            if inspect.ismodule(obj) and inspect.isclass(member):
                for n, m in own_members(member):
                    yield f"{path}.{name}.{n}", m


def wrong_args(objects):
    """{dotted name: [documented names that are no parameter]} of (name, object) pairs."""
    wrong = {}
    for path, obj in objects:
        doc = obj.fget.__doc__ if isinstance(obj, property) else getattr(obj, "__doc__", None)
        if inspect.isclass(obj) and obj.__init__.__doc__:
            doc = f"{doc or ''}\n{obj.__init__.__doc__}"
        names = documented_args(doc)
        params = real_parameters(obj) if names else None
        if not names or params is None:
            continue
        unknown = [n for n in names if n not in params]
        if unknown:
            wrong[path] = unknown
    return wrong


def test_args_sections_are_parsed():
    doc = """Does a thing.

    Args:
        units: how many.
        activation (str): a name
            on two lines: not an entry.
        *args: passed on.

    Returns:
        value: not an argument.
    """
    assert documented_args(doc) == ["units", "activation", "args"]

    def dense(units, activation=None):
        """A layer.

        Args:
            unit: a misspelt parameter.
            activation: a name.
        """
    assert wrong_args([("dense", dense)]) == {"dense": ["unit"]}


def test_args_sections_name_real_parameters():
    """A docstring's `Args:` lists the parameters of the signature, by their names."""
    wrong = wrong_args(shown_objects())
    assert not wrong, f"Args that name no parameter: {wrong}"


# ---- examples: every object the reference shows has one, and they all run ---------------------
def example_globals():
    """The names every docstring example may use without importing them (docs/api/index.md)."""
    import numpy as np

    from graphnet import activations, constraints, ops
    return dict(np=np, graphnet=graphnet, activations=activations, callbacks=callbacks,
                constraints=constraints, initializers=initializers, layers=layers, losses=losses,
                metrics=metrics, ops=ops, optimizers=optimizers, regularizers=regularizers)


def doc_of(obj) -> str:
    return (obj.fget.__doc__ if isinstance(obj, property) else getattr(obj, "__doc__", None)) or ""


def numpy_named_ops() -> list:
    """The ops that are `jax.numpy`'s function under Keras's name: docs/api/ops.md lists them
    by name rather than rendering each, and `help()` shows their examples."""
    return [(f"graphnet.ops.{name}", fn) for name, fn in vars(graphnet.ops).items()
            if callable(fn) and getattr(fn, "__module__", None) == "graphnet.ops.recording"
            and not name.startswith("_")]


def example_scope():
    """(dotted name, object) of what must carry an example: everything the reference renders
    (each object a `:::` line names, and the members shown with it) and the NumPy-named ops."""
    for path, obj in shown_objects():
        if not (inspect.ismodule(obj) and obj.__name__.startswith("graphnet.ops.")):
            yield path, obj                # a module of ops is a section: its ops show examples
    yield from numpy_named_ops()


def examples():
    """One doctest per distinct docstring that has `>>>` lines, among all the reference shows."""
    parser, seen, found = doctest.DocTestParser(), set(), []
    functions = [(f"graphnet.losses.{fn.__name__}", fn) for fn in loss_functions()]
    for path, obj in [*example_scope(), *functions]:
        doc = doc_of(obj)
        if ">>>" not in doc or id(doc) in seen:
            continue
        seen.add(id(doc))
        found.append(parser.get_doctest(doc, {}, path, None, 0))
    return found


def test_every_object_of_the_reference_has_an_example():
    missing = sorted({path for path, obj in example_scope() if ">>>" not in doc_of(obj)})
    assert not missing, f"add an `Example:` with >>> lines to: {missing}"


def loss_functions() -> list:
    """The per-sample functions behind the loss names (`"mse"`, `"huber"`, ...): not pages
    of the reference, but `help()` shows them, so they carry examples too."""
    return list({id(fn): fn for fn in losses.LOSSES.values()}.values())


def test_every_loss_function_has_an_example():
    missing = sorted(fn.__name__ for fn in loss_functions() if ">>>" not in doc_of(fn))
    assert not missing, f"add an example with >>> lines to: {missing}"


SHARDS = 4     # the examples in four tests, so that pytest-xdist spreads them over the cores


@pytest.mark.slow                    # ~400 examples: about 30 s of CPU in all
@pytest.mark.parametrize("shard", range(SHARDS))
def test_the_examples_run_and_print_what_they_show(shard, tmp_path, monkeypatch):
    """Every example of the reference, run with the names of `example_globals` only (a file
    an example writes lands in a temporary folder); each shard runs every SHARDS-th one."""
    monkeypatch.chdir(tmp_path)
    names = example_globals()
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    report = []
    found = examples()
    assert len(found) > 200
    for test in found[shard::SHARDS]:
        test.globs = dict(names)
        runner.run(test, out=report.append)
    assert runner.tries and runner.failures == 0, "".join(report)
