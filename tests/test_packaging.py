"""The distribution: a wheel built from this checkout installs under its own name
(`graphnet-jax`) in a fresh virtual environment and imports as `graphnet`.

The fresh environment gets the wheel alone (`--no-deps`); its dependencies are lent by this
interpreter's site-packages through a `.pth` file appended after the environment's own, so the
test needs no network and `import graphnet` can only find the installed wheel.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import graphnet

tomllib = pytest.importorskip("tomllib")     # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def test_metadata_names_the_distribution_license_and_version():
    assert PROJECT["name"] == "graphnet-jax"
    assert PROJECT["version"] == graphnet.__version__
    assert PROJECT["license"] == "Apache-2.0"
    assert "Apache License" in (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert f"## {graphnet.__version__}" in (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")


def test_extras_bring_what_the_pages_need():
    extras = {name: " ".join(deps) for name, deps in PROJECT["optional-dependencies"].items()}
    assert "h5py" in extras["keras"] and "keras>=" in extras["keras"]
    for needed in ("mkdocs", "mkdocstrings", "scikit-learn", "h5py", "keras>="):
        assert needed in extras["docs"], f"the docs extra lacks {needed}"
    assert "scikit-learn" in extras["examples"]


def _clean_env():
    """This environment without the checkout on PYTHONPATH (pip would take the checkout's
    metadata for an installed distribution)."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _build_wheel(tmp):
    """The wheel, built from a copy of the sources (a build writes build/ and *.egg-info
    next to pyproject.toml; the checkout stays as it is)."""
    source, out = tmp / "source", tmp / "dist"
    shutil.copytree(ROOT / "graphnet", source / "graphnet",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "README.md", "LICENSE", "CHANGELOG.md"):
        shutil.copy(ROOT / name, source / name)
    if importlib.util.find_spec("build"):
        command = [sys.executable, "-m", "build", "--wheel", "--outdir", str(out), str(source)]
    else:                       # the same PEP 517 build through pip
        command = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out),
                   str(source)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env=_clean_env())
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    wheels = list(out.glob("graphnet_jax-*.whl"))
    assert len(wheels) == 1, list(out.iterdir())
    return wheels[0]


@pytest.mark.slow
def test_wheel_installs_under_its_own_name_and_imports(tmp_path):
    wheel = _build_wheel(tmp_path)
    names = zipfile.ZipFile(wheel).namelist()
    assert "graphnet/__init__.py" in names and not any(n.startswith("tests/") for n in names)
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names)

    env = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env)], check=True)
    python = env / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")
    site = Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                               capture_output=True, text=True, check=True).stdout.strip())
    done = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install",
                           "--no-deps", "--no-index", "-q", str(wheel)],
                          capture_output=True, text=True, timeout=300, env=_clean_env())
    assert done.returncode == 0, done.stderr[-3000:]
    lent = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (site / "zz_lent_dependencies.pth").write_text("\n".join(sorted(lent)) + "\n")

    check = ("import importlib.metadata as m, graphnet, graphnet as gn;"
             "print(graphnet.__file__);"
             "print(m.version('graphnet-jax'), graphnet.__version__);"
             "print(m.metadata('graphnet-jax')['License-Expression']);"
             "model = gn.Sequential([gn.Input((3,)), gn.layers.Dense(2)]);"
             "print(model.predict(__import__('numpy').ones((1, 3), 'float32'), verbose=0).shape)")
    done = subprocess.run([str(python), "-c", check], cwd=tmp_path, capture_output=True,
                          text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "JAX_PLATFORMS": "cpu"})
    assert done.returncode == 0, done.stderr[-3000:]
    where, versions, license_, shape = done.stdout.split("\n")[:4]
    assert where.startswith(str(site)), f"imported {where}, not the installed wheel"
    assert versions == f"{graphnet.__version__} {graphnet.__version__}"
    assert license_ == "Apache-2.0"
    assert shape == "(1, 2)"
