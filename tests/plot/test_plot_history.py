"""Training curves: one panel per quantity, training and validation together."""
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from graphnet.plot import plot_history

HISTORY = {"loss": [1.0, 0.6, 0.4], "digit_loss": [1.5, 0.8, 0.5], "big_loss": [0.5, 0.4, 0.3],
           "digit_accuracy": [0.5, 0.7, 0.8], "val_loss": [1.1, 0.7, 0.5],
           "val_digit_loss": [1.6, 0.9, 0.6], "val_big_loss": [0.6, 0.5, 0.4],
           "val_digit_accuracy": [0.4, 0.6, 0.75], "learning_rate": [1e-3, 1e-3, 5e-4]}


class FakeHistory:
    """What History gives: `.history` and `.epoch`."""
    def __init__(self, history, epoch):
        self.history, self.epoch = history, epoch


def curves(ax):
    return {line.get_label(): (list(line.get_xdata()), list(line.get_ydata())) for line in ax.lines}


def test_panels_match_keys_with_training_and_validation_together(tmp_path):
    figure = plot_history(HISTORY, tmp_path / "history.png")
    axes = figure.axes
    assert [ax.get_title() for ax in axes] == ["loss", "digit_loss", "big_loss", "digit_accuracy",
                                               "learning_rate"]
    by_title = {ax.get_title(): curves(ax) for ax in axes}
    for title in ("loss", "digit_loss", "big_loss", "digit_accuracy"):
        assert by_title[title]["training"] == ([1, 2, 3], HISTORY[title])
        assert by_title[title]["validation"] == ([1, 2, 3], HISTORY[f"val_{title}"])
    assert set(by_title["learning_rate"]) == {"training"}
    data = (tmp_path / "history.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    from PIL import Image
    with Image.open(tmp_path / "history.png") as image:
        assert image.size[0] > 600 and image.size[1] > 400


def test_svg_titles_match_keys_and_object_with_history_attribute(tmp_path):
    history = FakeHistory({"loss": [0.9, 0.5], "val_loss": [1.0, 0.7], "accuracy": [0.6, 0.8]},
                          epoch=[4, 5])
    figure = plot_history(history, tmp_path / "curves.svg")
    root = ET.parse(tmp_path / "curves.svg").getroot()
    texts = ["".join(t.itertext()).strip() for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "loss" in texts and "accuracy" in texts and "val_loss" not in texts
    assert len(figure.axes) == 2
    assert curves(figure.axes[0])["training"][0] == [5, 6]   # epochs continue from initial_epoch


def test_validation_only_key_gets_its_own_panel(tmp_path):
    figure = plot_history({"loss": [1.0], "val_auc": [0.7]}, tmp_path / "h.png")
    assert [ax.get_title() for ax in figure.axes] == ["loss", "auc"]
    assert set(curves(figure.axes[1])) == {"validation"}


def test_history_mistakes_are_clear(tmp_path):
    with pytest.raises(ValueError, match=r"\.png.*\.svg.*'\.jpg'"):
        plot_history(HISTORY, tmp_path / "h.jpg")
    with pytest.raises(ValueError, match="empty"):
        plot_history({}, tmp_path / "h.png")
    with pytest.raises(ValueError, match="'acc'"):
        plot_history({"loss": [1.0], "acc": ["high"]}, tmp_path / "h.png")
    with pytest.raises(TypeError, match="History"):
        plot_history([1.0, 2.0], tmp_path / "h.png")
    assert not list(tmp_path.iterdir())


def test_does_not_touch_pyplot(tmp_path):
    import matplotlib.pyplot as plt
    before = plt.get_fignums()
    plot_history({"loss": list(np.linspace(1, 0, 40))}, tmp_path / "h.png")
    assert plt.get_fignums() == before
