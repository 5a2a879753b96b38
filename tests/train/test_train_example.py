"""examples/multitask_diagnostics.py runs (its --smoke option) and reports every diagnostic."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "examples"))
import multitask_diagnostics  # noqa: E402


def test_multitask_example_smoke(tmp_path, capsys):
    histories = multitask_diagnostics.main(["--smoke", "--out", str(tmp_path)])
    assert set(histories) == {"plain", "uncertainty", "pcgrad"}
    for name, history in histories.items():
        h = history.history
        for out in ("digit", "big", "ink"):
            assert len(h[f"{out}_loss_share"]) == 2 and len(h[f"{out}_grad_norm"]) == 2
        assert ("ink_loss_weight" in h) == (name == "uncertainty")
        assert abs(sum(h[f"{o}_loss_share"][-1] for o in ("digit", "big", "ink")) - 1) < 1e-5
    printed = capsys.readouterr().out
    assert "uncertainty: trunk gradient cosine" in printed and "loss share" in printed
    for name in ("multitask_plain.png", "multitask_uncertainty.png", "multitask_pcgrad.png",
                 "multitask_model.svg"):
        assert (tmp_path / name).stat().st_size > 1000
    assert "shared trunk" in (tmp_path / "multitask_model.svg").read_text()
