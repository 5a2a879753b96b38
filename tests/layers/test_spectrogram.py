"""STFTSpectrogram and MelSpectrogram against Keras 3 on a short random signal."""
import jax
import numpy as np
import pytest

import graphnet
from graphnet import layers

keras = pytest.importorskip("keras")
X = np.random.default_rng(0).normal(size=(2, 40, 2)).astype("float32")


@pytest.mark.parametrize("mode, padding, expand_dims", [
    ("log", "valid", False), ("psd", "same", True), ("stft", "same", False),
    *[pytest.param(*case, marks=pytest.mark.slow) for case in [
        ("angle", "valid", True), ("real", "valid", False), ("imag", "same", False),
        ("magnitude", "valid", False)]]])
def test_stft_spectrogram_matches_keras(mode, padding, expand_dims):
    kwargs = dict(mode=mode, frame_length=8, frame_step=3, fft_length=16, padding=padding,
                  expand_dims=expand_dims)
    theirs = keras.layers.STFTSpectrogram(**kwargs)
    want = np.asarray(theirs(X))
    ours = layers.STFTSpectrogram(**kwargs)
    model = graphnet.Sequential([graphnet.Input(shape=(40, 2)), ours])
    # the STFT kernels as Keras makes them, in Keras's order and layout
    mine, keras_weights = ours.get_weights(), theirs.get_weights()
    assert [w.shape for w in mine] == [w.shape for w in keras_weights]
    for a, b in zip(mine, keras_weights):
        np.testing.assert_allclose(a, np.asarray(b), rtol=1e-6, atol=1e-7)
    assert model.output_shape[1:] == want.shape[1:]
    np.testing.assert_allclose(model.predict(X, verbose=0), want, rtol=1e-5, atol=1e-5)


def test_stft_kernels_are_trainable_weights_as_in_keras():
    layer = layers.STFTSpectrogram(frame_length=8, mode="magnitude")
    graphnet.Sequential([graphnet.Input(shape=(16, 1)), layer])
    assert [w.name for w in layer.trainable_weights] == ["real_kernel", "imag_kernel"]
    assert len(layers.STFTSpectrogram(frame_length=8, mode="real")(
        graphnet.Input(shape=(16, 1))).node.layer.get_weights()) == 1


def mel_reference(signal, fft_length, stride, length, mels, rate, top_db):
    """HTK mel filters over graphnet's ops.stft (compared with Keras's in the ops tests), in
    float64, then Keras's dB scale clipped at the batch's maximum."""
    real, imag = (np.asarray(a, np.float64) for a in graphnet.ops.stft(
        signal, length, stride, fft_length, window="hann", center=True))
    power = real ** 2 + imag ** 2
    bins = power.shape[-1]
    to_mel = lambda hz: 1127.0 * np.log(1.0 + hz / 700.0)  # noqa: E731
    freqs = to_mel(np.linspace(0.0, rate / 2, bins))[1:, None]
    edges = np.linspace(to_mel(20.0), to_mel(rate // 2), mels + 2)
    lower, center, upper = edges[:-2], edges[1:-1], edges[2:]
    filters = np.maximum(0, np.minimum((freqs - lower) / (center - lower),
                                       (upper - freqs) / (upper - center)))
    mel = power @ np.vstack([np.zeros((1, mels)), filters])
    db = 10 * np.log10(np.maximum(mel, 1e-10))
    return np.swapaxes(np.maximum(db, db.max() - top_db), -1, -2)


def test_mel_spectrogram_matches_a_numpy_reference():
    signal = np.random.default_rng(2).normal(size=(2, 96)).astype("float32")
    model = graphnet.Sequential([graphnet.Input(shape=(96,)), layers.MelSpectrogram(
        fft_length=32, sequence_stride=8, sequence_length=24, num_mel_bins=6,
        sampling_rate=4000, top_db=30.0)])
    np.testing.assert_allclose(model.predict(signal, verbose=0, batch_size=2),
                               mel_reference(signal, 32, 8, 24, 6, 4000, 30.0),
                               rtol=1e-4, atol=1e-4)


@pytest.mark.slow               # Keras's MelSpectrogram takes seconds to make its first output
@pytest.mark.parametrize("power_to_db", [True, False])
def test_mel_spectrogram_matches_keras(power_to_db):
    signal = np.random.default_rng(1).normal(size=(3, 200)).astype("float32")
    kwargs = dict(fft_length=64, sequence_stride=16, sequence_length=48, num_mel_bins=10,
                  sampling_rate=8000, power_to_db=power_to_db, top_db=40.0)
    with jax.numpy_dtype_promotion("standard"):      # Keras's mixes complex and float
        want = np.asarray(keras.layers.MelSpectrogram(**kwargs)(signal))
    model = graphnet.Sequential([graphnet.Input(shape=(200,)), layers.MelSpectrogram(**kwargs)])
    assert model.output_shape[1:] == want.shape[1:]
    got = model.predict(signal, verbose=0, batch_size=3)     # top_db is over the whole batch
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4 if power_to_db else 1e-6)


def test_configs_round_trip_and_bad_arguments_are_named():
    layer = layers.STFTSpectrogram(mode="psd", frame_length=16, frame_step=4, window=None)
    again = layers.STFTSpectrogram.from_config(layer.get_config())
    assert (again.mode, again.frame_step, again.window) == ("psd", 4, None)
    mel = layers.MelSpectrogram(fft_length=64, num_mel_bins=5)
    assert layers.MelSpectrogram.from_config(mel.get_config()).get_config() == mel.get_config()
    with pytest.raises(ValueError, match="mode"):
        layers.STFTSpectrogram(mode="loud")
    with pytest.raises(ValueError, match="frame_step"):
        layers.STFTSpectrogram(frame_length=8, frame_step=9)
    with pytest.raises(ValueError, match="fft_length"):
        layers.MelSpectrogram(fft_length=32, sequence_length=64)
    with pytest.raises(ValueError, match="rank 3"):
        layers.STFTSpectrogram(frame_length=8)(graphnet.Input(shape=(16,)))
