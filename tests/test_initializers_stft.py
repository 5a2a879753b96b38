"""The STFT initializer against Keras 3 and against a Fourier basis written with NumPy."""
import doctest

import keras
import numpy as np
import pytest

import graphnet as gn
from graphnet import initializers

TOL = dict(rtol=1e-5, atol=1e-6)


def fourier(frames, bins, side, win, scaling):
    n_fft = (bins - 1) * 2
    t, f = np.arange(frames)[:, None], np.arange(bins)[None, :]
    basis = np.exp(-2j * np.pi * t * f / n_fft)
    part = basis.real if side == "real" else basis.imag
    if win is None:
        return part[:, None, :]
    scale = {"density": np.sqrt((win ** 2).sum()), "spectrum": np.abs(win).sum(), None: 1}
    return (part * win[:, None] / scale[scaling])[:, None, :]


@pytest.mark.parametrize("side, window, scaling, periodic", [
    ("real", "hann", "density", False), ("imag", "hamming", "spectrum", True),
    ("real", None, None, False), ("imag", [0.5, 1.0, 1.0, 0.5, 0.25, 0.1], None, False)])
def test_stft_matches_keras_and_a_fourier_basis(side, window, scaling, periodic):
    shape = (6, 1, 5)
    ours = np.asarray(initializers.STFT(side, window, scaling, periodic)(shape))
    theirs = np.asarray(keras.initializers.STFT(side, window, scaling, periodic)(shape))
    np.testing.assert_allclose(ours, theirs, **TOL)
    if isinstance(window, str):
        from scipy.signal import get_window
        win = get_window(window, 6, periodic)
    else:
        win = None if window is None else np.asarray(window)
    np.testing.assert_allclose(ours, fourier(6, 5, side, win, scaling), rtol=1e-5, atol=2e-6)
    assert ours.dtype == np.float32


def test_stft_config_names_and_errors():
    init = initializers.STFT("imag", "hamming", "spectrum", True)
    ref = keras.initializers.STFT("imag", "hamming", "spectrum", True)
    assert init.get_config() == ref.get_config()
    again = initializers.deserialize(initializers.serialize(init))
    assert isinstance(again, initializers.STFT) and again.get_config() == init.get_config()
    assert initializers.STFTInitializer is initializers.STFT is initializers.stft
    assert isinstance(initializers.get("stft"), initializers.STFT)
    with pytest.raises(ValueError, match="side should be 'real' or 'imag'"):
        initializers.STFT("complex")
    with pytest.raises(ValueError, match="scaling must be None, 'density' or 'spectrum'"):
        initializers.STFT(scaling="l2")
    with pytest.raises(ValueError, match=r"window must have shape \(4,\)"):
        initializers.STFT(window=[1.0, 1.0])((4, 1, 3))


def test_stft_kernel_in_a_layer_saves_and_loads(tmp_path):
    inputs = gn.Input((8, 1))
    conv = gn.layers.Conv1D(5, 6, kernel_initializer=initializers.STFT(), use_bias=False)
    model = gn.Model(inputs, conv(inputs))
    np.testing.assert_allclose(conv.get_weights()[0],
                               np.asarray(keras.initializers.STFT()((6, 1, 5))), **TOL)
    model.save(tmp_path / "m.graphnet")
    loaded = gn.load_model(tmp_path / "m.graphnet")
    assert loaded.layers[-1].get_config()["kernel_initializer"] == \
        model.layers[-1].get_config()["kernel_initializer"]


def test_docstring_example_runs():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(initializers.STFT, "STFT", globs={"np": np}):
        runner.run(test)
    assert runner.tries and not runner.failures
