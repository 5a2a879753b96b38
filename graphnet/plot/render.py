"""DOT text to SVG or PNG with graphviz-pure, the Graphviz port that pip installs.

graphviz-pure ships no Python code, only a static `dot`-compatible program in the
environment's scripts folder. It is found through the installed distribution's file list,
never through PATH: a system `dot` there is not ours to trust (other versions draw other
pictures, and Keras's plot_model fails where it is missing).
"""
from __future__ import annotations

import functools
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
    return done.stdout
