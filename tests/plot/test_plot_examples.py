"""The README's main job (examples/digits_multihead.py): its data, model, picture and report."""
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from plot_helpers import parse_svg

import graphnet as gn

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import digits_multihead  # noqa: E402


def test_data_targets_match_the_heads():
    x, y = digits_multihead.load_data()
    assert x.shape == (1797, 64) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(y["big"][:, 0], (y["digit"] >= 5).astype("float32"))
    assert y["big"].shape == (1797, 1)


def test_model_picture_has_trunk_and_two_heads(tmp_path):
    model = digits_multihead.build_model()
    assert model.output_names == ["digit", "big"]
    paths = digits_multihead.draw(model, None, tmp_path / "out")
    assert [p.name for p in paths] == ["model.svg", "model.png"]
    nodes, _ = parse_svg(paths[0].read_bytes())
    assert set(nodes) == {"pixels", "trunk_1", "trunk_dropout", "trunk_2", "digit", "big"}
    assert "activation: softmax" in nodes["digit"][0]
    assert paths[1].read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_report_names_each_output_and_the_total_loss():
    class History:
        history = {"loss": [0.9, 0.5], "digit_loss": [1.2, 0.7], "big_loss": [0.6, 0.3],
                   "val_loss": [1.0, 0.6], "val_digit_loss": [1.3, 0.8], "val_big_loss": [0.7, 0.4],
                   "val_digit_accuracy": [0.6, 0.91], "val_big_accuracy": [0.7, 0.95]}
    text = digits_multihead.report(digits_multihead.build_model(), History())
    assert "digit  loss 0.8000  accuracy 0.9100" in text
    assert "big    loss 0.4000  accuracy 0.9500" in text
    assert "total loss 0.6000 (training 0.5000" in text


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(gn.Model, "compile"), reason="needs Model.compile/fit (training)")
def test_main_job_trains_and_writes_its_pictures(tmp_path, capsys):
    model, history = digits_multihead.main(["--epochs", "3", "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    for name in ("model.svg", "model.png", "history.png"):
        assert str(tmp_path / name) in printed
        assert (tmp_path / name).stat().st_size > 1000
    assert history.history["val_digit_accuracy"][-1] > 0.5
    ET.parse(tmp_path / "model.svg")
