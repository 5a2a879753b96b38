"""plot_model: the format follows the file's ending; the model's own picture methods."""
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from plot_helpers import two_branch

import graphnet as gn
from graphnet import layers


def test_each_ending_writes_its_format(tmp_path):
    model = two_branch()
    for ending in (".svg", ".png", ".dot", ".mmd", ".SVG"):
        assert gn.plot_model(model, tmp_path / f"m{ending}", rankdir="LR") is None
    assert (tmp_path / "m.dot").read_text() == model.to_dot(rankdir="LR")
    assert (tmp_path / "m.mmd").read_text() == model.to_mermaid(rankdir="LR")
    assert (tmp_path / "m.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert ET.parse(tmp_path / "m.svg").getroot().tag.endswith("svg")
    assert ET.parse(tmp_path / "m.SVG").getroot().tag.endswith("svg")


def test_unknown_ending_lists_the_valid_ones(tmp_path):
    for name in ("m.pdf", "model"):
        with pytest.raises(ValueError, match=r"'\.svg', '\.png', '\.dot', '\.mmd'"):
            gn.plot_model(two_branch(), tmp_path / name)
    assert not list(tmp_path.iterdir())


def test_plot_model_mistakes(tmp_path):
    with pytest.raises(TypeError, match="Dense"):
        gn.plot_model(layers.Dense(3), tmp_path / "m.svg")
    with pytest.raises(ValueError, match="dpi"):
        gn.plot_model(two_branch(), tmp_path / "m.png", dpi=0)
    with pytest.raises(ValueError, match="rankdir"):
        gn.plot_model(two_branch(), tmp_path / "m.svg", rankdir="up")
    empty = gn.Sequential([layers.Dense(3)], name="later")
    with pytest.raises(ValueError, match="'later' has no input shape"):
        gn.plot_model(empty, tmp_path / "m.svg")
    assert empty._repr_svg_() is None


def test_sequential_and_jupyter_svg():
    model = gn.Sequential([layers.Dense(4, activation="relu", input_shape=(3,), name="hidden"),
                           layers.Dense(1, name="score")])
    svg = model._repr_svg_()
    root = ET.fromstring(svg)
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert "hidden" in titles and "score" in titles


def test_keras_names():
    assert gn.utils.plot_model is gn.plot_model


def test_import_graphnet_does_not_import_matplotlib():
    code = "import sys, graphnet; print('matplotlib' in sys.modules, 'pydot' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[2], timeout=120)
    assert done.stdout.split() == ["False", "False"], done.stderr
