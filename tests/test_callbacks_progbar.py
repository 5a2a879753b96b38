"""ProgbarLogger: passed explicitly it draws fit's bar, as Keras's, never a second one."""
import numpy as np
import pytest

import graphnet
from graphnet import callbacks, layers

X = np.ones((8, 2), "float32")


def fit_output(capsys, verbose, extra):
    model = graphnet.Sequential([graphnet.Input(shape=(2,)), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    capsys.readouterr()
    model.fit(X, X[:, :1], batch_size=4, epochs=2, verbose=verbose, callbacks=extra)
    out = capsys.readouterr()
    return out.out + out.err


def finished_bars(text, epoch):
    """Bars that reached their end (tqdm's last refresh of a bar ends the line)."""
    return sum(f"Epoch {epoch}/2" in line and "2/2" in line for line in text.split("\n"))


@pytest.mark.parametrize("verbose", [1, 2])
def test_an_explicit_progbar_draws_the_one_bar(capsys, verbose):
    bar = callbacks.ProgbarLogger()
    alone = fit_output(capsys, verbose, None)
    with_bar = fit_output(capsys, verbose, [bar])
    if verbose == 1:
        assert finished_bars(alone, 1) == finished_bars(with_bar, 1) == 1
        assert finished_bars(with_bar, 2) == 1
    else:
        lines = [line for line in with_bar.splitlines() if line.startswith("Epoch ")]
        assert [line.split(" - ")[0] for line in lines] == ["Epoch 1/2", "Epoch 2/2"]
        assert len(lines) == len([l for l in alone.splitlines() if l.startswith("Epoch ")])
    assert (bar.verbose, bar.epochs, bar.target) == (verbose, 2, 2)     # Keras's set_params


def test_an_explicit_progbar_is_quiet_with_verbose_0(capsys):
    assert fit_output(capsys, 0, [callbacks.ProgbarLogger()]) == ""


def test_set_params_reads_auto_as_1():
    bar = callbacks.ProgbarLogger()
    bar.set_params({"verbose": "auto", "epochs": 4, "steps": 7})
    assert (bar.verbose, bar.epochs, bar.target) == (1, 4, 7)
