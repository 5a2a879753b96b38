"""Keras's audio front ends: STFTSpectrogram (the STFT as a strided convolution with
learnable Fourier kernels) and MelSpectrogram (a fixed mel filter bank over the STFT)."""
import math
import warnings

import jax
import jax.numpy as jnp

from .. import initializers, ops
from .base import Layer, shape_str
from .convolutional import check_data_format

_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")
_EPSILON = 1e-7                     # Keras's backend.epsilon()


class STFTSpectrogram(Layer):
    """Keras STFTSpectrogram(mode="log", frame_length=256, frame_step=None, fft_length=None,
    window="hann", periodic=False, scaling="density", padding="valid", expand_dims=False):
    the spectrogram of each channel of a `(batch, time, channels)` signal.

    The Fourier basis is a pair of weights (`real_kernel`, `imag_kernel`, trainable as in
    Keras) of shape `(frame_length, 1, fft_length // 2 + 1)` made by the `STFT`
    initializer, so the transform is a convolution and can be fine-tuned.

    Examples:
        >>> spec = layers.STFTSpectrogram(frame_length=8, frame_step=4, fft_length=8)
        >>> model = graphnet.Sequential([graphnet.Input(shape=(32, 1)), spec])
        >>> model.output_shape
        (None, 7, 5)
    """
    weight_names = ("real_kernel", "imag_kernel")

    def __init__(self, mode="log", frame_length=256, frame_step=None, fft_length=None,
                 window="hann", periodic=False, scaling="density", padding="valid",
                 expand_dims=False, data_format=None, **kwargs):
        who = "STFTSpectrogram"
        if frame_step is not None and (frame_step > frame_length or frame_step < 1):
            raise ValueError(f"{who}: frame_step must be a positive int not greater than "
                             f"frame_length ({frame_length}), received {frame_step}")
        if fft_length is not None and fft_length < frame_length:
            raise ValueError(f"{who}: fft_length must be at least frame_length "
                             f"({frame_length}), received {fft_length}")
        if fft_length is not None and (fft_length & -fft_length) != fft_length:
            warnings.warn(f"{who}: fft_length is best a power of two, received {fft_length}")
        if mode not in _MODES:
            raise ValueError(f"{who}: mode must be one of {', '.join(_MODES)}, received "
                             f"{mode!r}")
        if padding not in ("valid", "same"):
            raise ValueError(f"{who}: padding must be 'valid' or 'same', received {padding!r}")
        initializers.STFT("real", window, scaling, periodic)     # checks window and scaling
        super().__init__(**kwargs)
        self.mode, self.frame_length, self.frame_step = mode, frame_length, frame_step
        self.fft_length, self.window, self.periodic = fft_length, window, periodic
        self.scaling, self.padding, self.expand_dims = scaling, padding, expand_dims
        self.data_format = check_data_format(data_format, who)
        self.step = frame_step or frame_length // 2
        self.bins = (fft_length or 2 ** int(math.ceil(math.log2(frame_length)))) // 2 + 1

    def output_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"STFTSpectrogram '{self.name}' expects an input of rank 3 "
                             f"(batch, time, channels), received {shape_str(input_shape)}")
        steps, channels = input_shape[1], input_shape[2]
        if steps is None:
            frames = None
        elif self.padding == "valid":
            frames = max((steps - self.frame_length) // self.step + 1, 0)
        else:
            frames = -(-steps // self.step)
        freq = self.bins * (2 if self.mode == "stft" else 1)
        if self.expand_dims:
            return (input_shape[0], frames, freq, channels)
        return (input_shape[0], frames, None if channels is None else freq * channels)

    def build(self, input_shape, *, generator):
        shape = (self.frame_length, 1, self.bins)
        params = {}
        for side in ("real", "imag"):
            if self.mode != {"real": "imag", "imag": "real"}[side]:
                init = initializers.STFT(side, self.window, self.scaling, self.periodic)
                params[f"{side}_kernel"] = init(shape, self.dtype, generator)
        return params, {}

    def _conv(self, x, kernel):
        """(batch, time, channels) -> (batch, channels, bins, frames), as Keras's."""
        batch, steps, channels = x.shape
        signals = jnp.transpose(x, (0, 2, 1)).reshape(-1, steps, 1)
        out = jax.lax.conv_general_dilated(
            signals, kernel.astype(x.dtype), (self.step,), self.padding.upper(),
            dimension_numbers=("NWC", "WIO", "NWC"))
        return jnp.transpose(out, (0, 2, 1)).reshape(batch, channels, out.shape[2], -1)

    def _arrange(self, out):
        batch, channels, freq, frames = out.shape
        if self.expand_dims:
            return jnp.transpose(out, (0, 3, 2, 1))
        return jnp.transpose(out.reshape(batch, channels * freq, frames), (0, 2, 1))

    def call(self, params, state, x, *, training=False, rng=None):
        if x.dtype not in (jnp.float16, jnp.float32, jnp.float64):
            raise TypeError(f"STFTSpectrogram '{self.name}' expects float16, float32 or "
                            f"float64 input, received {x.dtype}")
        real = self._conv(x, params["real_kernel"]) if "real_kernel" in params else None
        imag = self._conv(x, params["imag_kernel"]) if "imag_kernel" in params else None
        if self.mode == "real":
            return self._arrange(real), state
        if self.mode == "imag":
            return self._arrange(imag), state
        if self.mode == "angle":
            return self._arrange(jnp.arctan2(imag, real)), state
        if self.mode == "stft":
            return self._arrange(jnp.concatenate([real, imag], axis=2)), state
        power = jnp.square(real) + jnp.square(imag)
        if self.mode == "psd":
            inner = jnp.pad(power[:, :, 1:-1, :], ((0, 0), (0, 0), (1, 1), (0, 0)))
            return self._arrange(power + inner), state
        eps = jnp.asarray(_EPSILON, power.dtype)
        magnitude = self._arrange(jnp.sqrt(jnp.maximum(power, eps)))
        if self.mode == "magnitude":
            return magnitude, state
        return jnp.log(jnp.maximum(magnitude, eps)), state

    def get_config(self):
        return {**super().get_config(), "mode": self.mode, "frame_length": self.frame_length,
                "frame_step": self.frame_step, "fft_length": self.fft_length,
                "window": self.window, "periodic": self.periodic, "scaling": self.scaling,
                "padding": self.padding, "data_format": self.data_format,
                "expand_dims": self.expand_dims}


class MelSpectrogram(Layer):
    """Keras MelSpectrogram(fft_length=2048, sequence_stride=512, sequence_length=None,
    window="hann", sampling_rate=16000, num_mel_bins=128, min_freq=20.0, max_freq=None,
    power_to_db=True, top_db=80.0, mag_exp=2.0, min_power=1e-10, ref_power=1.0): a
    `(batch, samples)` signal to `(batch, num_mel_bins, frames)`.

    With `power_to_db`, Keras clips at `top_db` below the largest value of the whole batch,
    so a sample's output depends on its batch (fit never pads a last batch for it).

    Examples:
        >>> mel = layers.MelSpectrogram(fft_length=64, sequence_stride=16, num_mel_bins=8)
        >>> model = graphnet.Sequential([graphnet.Input(shape=(128,)), mel])
        >>> model.output_shape
        (None, 8, 9)
    """
    batch_dependent = True

    def __init__(self, fft_length=2048, sequence_stride=512, sequence_length=None,
                 window="hann", sampling_rate=16000, num_mel_bins=128, min_freq=20.0,
                 max_freq=None, power_to_db=True, top_db=80.0, mag_exp=2.0, min_power=1e-10,
                 ref_power=1.0, **kwargs):
        self.fft_length, self.sequence_stride = fft_length, sequence_stride
        self.sequence_length = sequence_length or fft_length
        if fft_length < self.sequence_length:
            raise ValueError(f"MelSpectrogram: fft_length ({fft_length}) must be at least "
                             f"sequence_length ({self.sequence_length})")
        super().__init__(**kwargs)
        self.window, self.sampling_rate, self.num_mel_bins = window, sampling_rate, num_mel_bins
        self.min_freq, self.max_freq = min_freq, max_freq or int(sampling_rate / 2)
        self.power_to_db, self.top_db, self.mag_exp = power_to_db, top_db, mag_exp
        self.min_power, self.ref_power = min_power, ref_power

    def output_shape(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"MelSpectrogram '{self.name}' expects an input of rank 2 "
                             f"(batch, samples), received {shape_str(input_shape)}")
        steps = input_shape[1]
        frames = None if steps is None else 1 + steps // self.sequence_stride
        return (input_shape[0], self.num_mel_bins, frames)

    def _mel_matrix(self, bins):
        """Keras's (HTK) filter bank, (bins, num_mel_bins), computed as Keras does in
        float32; the first (DC) row is zero."""
        f32 = jnp.float32

        def to_mel(hz):
            return 1127.0 * jnp.log(1.0 + hz / 700.0)
        nyquist = jnp.asarray(self.sampling_rate, f32) / 2.0
        linear = jnp.linspace(jnp.asarray(0.0, f32), nyquist, bins)[1:]
        bins_mel = to_mel(linear)[:, None]
        edges = jnp.linspace(to_mel(jnp.asarray(self.min_freq, f32)),
                             to_mel(jnp.asarray(self.max_freq, f32)), self.num_mel_bins + 2)
        lower, center, upper = edges[:-2][None], edges[1:-1][None], edges[2:][None]
        weights = jnp.maximum(0.0, jnp.minimum((bins_mel - lower) / (center - lower),
                                               (upper - bins_mel) / (upper - center)))
        return jnp.pad(weights, ((1, 0), (0, 0)))

    def call(self, params, state, x, *, training=False, rng=None):
        dtype = x.dtype if x.dtype in (jnp.float32, jnp.float64) else jnp.float32
        x = x.astype(dtype)
        real, imag = ops.stft(x, self.sequence_length, self.sequence_stride, self.fft_length,
                              window=self.window, center=True)
        spec = jnp.power(jnp.sqrt(jnp.square(real) + jnp.square(imag)), self.mag_exp)
        out = jnp.tensordot(spec, self._mel_matrix(spec.shape[-1]).astype(dtype), axes=1)
        if self.power_to_db:
            log_spec = 10.0 * jnp.log10(jnp.maximum(out, self.min_power))
            ref = jnp.abs(jnp.asarray(self.ref_power, dtype))
            log_spec = log_spec - 10.0 * jnp.log10(jnp.maximum(ref, self.min_power))
            out = jnp.maximum(log_spec, jnp.max(log_spec) - self.top_db)
        return jnp.swapaxes(out, -1, -2).astype(self.dtype), state

    def get_config(self):
        return {**super().get_config(), "fft_length": self.fft_length,
                "sequence_stride": self.sequence_stride,
                "sequence_length": self.sequence_length, "window": self.window,
                "sampling_rate": self.sampling_rate, "num_mel_bins": self.num_mel_bins,
                "min_freq": self.min_freq, "max_freq": self.max_freq,
                "power_to_db": self.power_to_db, "top_db": self.top_db,
                "mag_exp": self.mag_exp, "min_power": self.min_power,
                "ref_power": self.ref_power}
