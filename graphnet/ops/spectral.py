"""Keras's Fourier ops: complex values as `(real, imag)` pairs of float arrays, as Keras
passes them, so every input and output of the graph stays real."""
from __future__ import annotations

import jax.numpy as jnp
import numpy as np
from jax import lax

from .recording import op as _op
from .recording import public_names


def _complex(x, who):
    """The complex array that Keras's `(real, imag)` pair stands for."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(f"ops.{who}: x must be a tuple (real, imag) of two float arrays, "
                         f"received {type(x).__name__}")
    real, imag = jnp.asarray(x[0]), jnp.asarray(x[1])
    if real.shape != imag.shape:
        raise ValueError(f"ops.{who}: the real and imaginary parts must have one shape, "
                         f"received {real.shape} and {imag.shape}")
    if not (jnp.issubdtype(real.dtype, jnp.floating)
            and jnp.issubdtype(imag.dtype, jnp.floating)):
        raise ValueError(f"ops.{who}: the real and imaginary parts must be floats, received "
                         f"{real.dtype} and {imag.dtype}")
    return lax.complex(real, imag)


def _pair(z):
    return jnp.real(z), jnp.imag(z)


@_op
def fft(x):
    """Keras `ops.fft`: the discrete Fourier transform over the last axis of `(real, imag)`.

    Args:
        x: a pair `(real, imag)` of float arrays of one shape.

    Returns:
        A pair `(real, imag)` of the transform, of `x`'s shape.

    Raises:
        ValueError: `x` is not a pair, or its parts differ in shape or are not floats.

    Examples:
        The transform of [1, 2, 3, 4] is [10, -2 + 2j, -2, -2 - 2j]:

        >>> real, imag = ops.fft((np.array([1.0, 2.0, 3.0, 4.0]), np.zeros(4)))
        >>> print(np.asarray(real), np.asarray(imag))
        [10. -2. -2. -2.] [ 0.  2.  0. -2.]
    """
    return _pair(jnp.fft.fft(_complex(x, "fft")))


@_op
def fft2(x):
    """Keras `ops.fft2`: the 2-D transform over the last two axes of `(real, imag)`.

    Args:
        x: a pair `(real, imag)` of float arrays of one shape, at least 2-D.

    Returns:
        A pair `(real, imag)` of the transform, of `x`'s shape.

    Raises:
        ValueError: `x` is not a pair, or its parts differ in shape or are not floats.

    Examples:
        A constant image has only the zero frequency, the sum of its entries:

        >>> real, imag = ops.fft2((np.ones((2, 2)), np.zeros((2, 2))))
        >>> print(np.asarray(real))
        [[4. 0.]
         [0. 0.]]
        >>> print(np.asarray(imag))
        [[0. 0.]
         [0. 0.]]
    """
    return _pair(jnp.fft.fft2(_complex(x, "fft2")))


@_op
def ifft2(x):
    """Keras `ops.ifft2`: the inverse 2-D transform over the last two axes of `(real, imag)`.

    Args:
        x: a pair `(real, imag)` of float arrays of one shape, at least 2-D.

    Returns:
        A pair `(real, imag)` of the inverse transform, of `x`'s shape (divided by the size
        of the last two axes, so that `ifft2(fft2(x))` is `x`).

    Raises:
        ValueError: `x` is not a pair, or its parts differ in shape or are not floats.

    Examples:
        >>> real, imag = ops.ifft2((np.array([[4.0, 0.0], [0.0, 0.0]]), np.zeros((2, 2))))
        >>> print(np.asarray(real))
        [[1. 1.]
         [1. 1.]]
        >>> print(np.asarray(imag))
        [[0. 0.]
         [0. 0.]]
    """
    return _pair(jnp.fft.ifft2(_complex(x, "ifft2")))


@_op
def rfft(x, fft_length=None):
    """Keras `ops.rfft`: the transform of a real signal over its last axis, the
    `fft_length // 2 + 1` non-negative frequencies, as `(real, imag)`.

    Args:
        x: a real float array.
        fft_length: the number of samples transformed: the signal is cut to it or padded with
            zeros (default: the length of the last axis).

    Returns:
        A pair `(real, imag)` of shape `(..., fft_length // 2 + 1)`.

    Examples:
        An impulse holds every frequency with weight 1:

        >>> real, imag = ops.rfft(np.array([1.0, 0.0, 0.0, 0.0]))
        >>> print(np.asarray(real), np.asarray(imag))
        [1. 1. 1.] [0. 0. 0.]

        On a symbolic tensor it adds a graph node with two outputs:

        >>> real, imag = ops.rfft(graphnet.Input(shape=(8,)))
        >>> real.shape, imag.shape
        ((None, 5), (None, 5))
    """
    return _pair(jnp.fft.rfft(x, n=fft_length, axis=-1))


@_op
def irfft(x, fft_length=None):
    """Keras `ops.irfft`: the real signal whose `rfft` is `(real, imag)`.

    Args:
        x: a pair `(real, imag)` of float arrays of shape `(..., bins)`: non-negative
            frequencies, as `rfft` gives them.
        fft_length: the length of the signal (default: `2 * (bins - 1)`).

    Returns:
        A float array of shape `(..., fft_length)`.

    Raises:
        ValueError: `x` is not a pair, or its parts differ in shape or are not floats.

    Examples:
        >>> print(np.asarray(ops.irfft((np.ones(3), np.zeros(3)))))
        [1. 0. 0. 0.]
    """
    return jnp.fft.irfft(_complex(x, "irfft"), n=fft_length, axis=-1)


@_op
def extract_sequences(x, sequence_length, sequence_stride):
    """Keras `ops.extract_sequences`: the frames of `sequence_length` samples every
    `sequence_stride` along the last axis: shape `(..., frames, sequence_length)`.

    A last frame that would run past the end is left out:
    `frames = 1 + (length - sequence_length) // sequence_stride`.

    Args:
        x: the signal, frames taken along its last axis.
        sequence_length: the samples per frame.
        sequence_stride: the samples between the starts of two frames.

    Examples:
        >>> print(np.asarray(ops.extract_sequences(np.arange(6), 3, 2)))
        [[0 1 2]
         [2 3 4]]
    """
    x = jnp.asarray(x)
    frames = 1 + (x.shape[-1] - sequence_length) // sequence_stride
    starts = jnp.arange(frames) * sequence_stride
    index = starts[:, None] + jnp.arange(sequence_length)[None, :]
    return x[..., index]


def _window(window, sequence_length, fft_length, dtype, who):
    """The analysis window, centred in `fft_length` samples (Keras pads it the same way)."""
    if window is None:
        return jnp.ones((fft_length,), dtype)
    if isinstance(window, str):
        if window not in ("hann", "hamming"):
            raise ValueError(f"ops.{who}: a window given by name must be 'hann' or 'hamming', "
                             f"received {window!r}")
        # the periodic window (scipy.signal.get_window's), not NumPy's symmetric one
        n = np.arange(sequence_length)
        a = 0.5 if window == "hann" else 0.54
        win = a - (1 - a) * np.cos(2 * np.pi * n / sequence_length)
    else:
        win = np.asarray(window)
        if win.ndim != 1 or win.shape[0] != sequence_length:
            raise ValueError(f"ops.{who}: the window must have shape ({sequence_length},), "
                             f"received {win.shape}")
    left = (fft_length - sequence_length) // 2
    return jnp.pad(jnp.asarray(win, dtype), (left, fft_length - sequence_length - left))


@_op
def stft(x, sequence_length, sequence_stride, fft_length, window="hann", center=True):
    """Keras `ops.stft`: the short-time Fourier transform of a real signal over its last
    axis, `(real, imag)` of shape `(..., frames, fft_length // 2 + 1)`; `center` pads
    `fft_length // 2` reflected samples at both ends.

    Args:
        x: the signal, float32 or float64, transformed along its last axis.
        sequence_length: the samples per frame (the window's length).
        sequence_stride: the samples between the starts of two frames.
        fft_length: the samples each frame's transform covers, at least `sequence_length`
            (the window is centred in it, padded with zeros).
        window: "hann", "hamming" (the periodic windows), an array of `sequence_length`
            weights, or None (no window).
        center: pad the signal so that frame t is centred on sample `t * sequence_stride`.

    Returns:
        A pair `(real, imag)` of shape `(..., frames, fft_length // 2 + 1)`.

    Raises:
        TypeError: `x` is not float32 or float64.
        ValueError: `fft_length` is below `sequence_length`, or `window` is another name or an
            array of another shape.

    Examples:
        Without window or centring, each frame of ones transforms to its sum at frequency 0
        (compiled as one program with `jax.jit`, as inside a layer's `call`):

        >>> import jax
        >>> frames = jax.jit(lambda s: ops.stft(s, 4, 4, 4, window=None, center=False))
        >>> real, imag = frames(np.ones(8))
        >>> print(np.asarray(real))
        [[4. 0. 0.]
         [4. 0. 0.]]
        >>> print(np.asarray(imag))
        [[0. 0. 0.]
         [0. 0. 0.]]

        With `center`, 16 samples padded to 24 give `1 + (24 - 8) // 4` frames of
        `8 // 2 + 1` bins:

        >>> real, imag = ops.stft(graphnet.Input(shape=(16,)), 8, 4, 8)
        >>> real.shape, imag.shape
        ((None, 5, 5), (None, 5, 5))
    """
    x = jnp.asarray(x)
    if x.dtype not in (jnp.float32, jnp.float64):
        raise TypeError(f"ops.stft: x must be float32 or float64, received {x.dtype}")
    if fft_length < sequence_length:
        raise ValueError(f"ops.stft: fft_length ({fft_length}) must be at least "
                         f"sequence_length ({sequence_length})")
    win = _window(window, sequence_length, fft_length, x.dtype, "stft")
    if center:
        pad = [(0, 0)] * (x.ndim - 1) + [(fft_length // 2, fft_length // 2)]
        x = jnp.pad(x, pad, mode="reflect")
    frames = extract_sequences(x, fft_length, sequence_stride)
    return _pair(jnp.fft.rfft(frames * win, n=fft_length, axis=-1))


@_op
def istft(x, sequence_length, sequence_stride, fft_length, length=None, window="hann",
          center=True):
    """Keras `ops.istft`: the signal whose `stft` is `(real, imag)`, by windowed overlap-add
    divided by the summed squared window (the inverse wherever the windows overlap enough).

    Args:
        x: a pair `(real, imag)` of float arrays of shape `(..., frames, fft_length // 2 + 1)`,
            as `stft` gives them.
        sequence_length: the samples per frame of the `stft`.
        sequence_stride: the samples between frames of the `stft`.
        fft_length: the transform length of the `stft`.
        length: cut the signal to this many samples (default: all that the frames cover,
            less the padding of `center`).
        window: the window of the `stft`: "hann", "hamming", an array, or None.
        center: whether the `stft` centred its frames (their padding is then removed).

    Returns:
        A float array of shape `(..., samples)`.

    Raises:
        ValueError: `x` is not a pair of float arrays of one shape with at least 2 axes, or
            `window` is another name or an array of another shape.

    Examples:
        Hann windows at half overlap reconstruct the signal (compiled as one program with
        `jax.jit`, as inside a layer's `call`):

        >>> import jax
        >>> round_trip = jax.jit(lambda s: ops.istft(ops.stft(s, 4, 2, 4), 4, 2, 4, length=8))
        >>> print(np.asarray(round_trip(np.arange(8, dtype="float32"))).round(3))
        [0. 1. 2. 3. 4. 5. 6. 7.]
    """
    z = _complex(x, "istft")
    if z.ndim < 2:
        raise ValueError(f"ops.istft: x must have at least 2 axes (frames, bins), received "
                         f"shape {z.shape}")
    dtype = jnp.real(z).dtype
    win = _window(window, sequence_length, fft_length, dtype, "istft")
    frames = jnp.fft.irfft(z, n=fft_length, axis=-1) * win
    count = z.shape[-2]
    total = fft_length + sequence_stride * (count - 1)
    index = (jnp.arange(count) * sequence_stride)[:, None] + jnp.arange(fft_length)[None, :]
    signal = jnp.zeros((*frames.shape[:-2], total), dtype).at[..., index].add(frames)
    norm = jnp.zeros((total,), dtype).at[index].add(jnp.broadcast_to(win * win, index.shape))
    signal = signal / jnp.where(norm > 1e-10, norm, 1.0)
    if window is None:
        # Keras rescales a window-less inverse by fft_length / sequence_stride
        signal = signal * (fft_length / sequence_stride)
    start = fft_length // 2 if center else 0
    if length is not None:
        return signal[..., start:start + length]
    return signal[..., start:total - fft_length // 2] if center else signal[..., start:total]


@_op
def view_as_complex(x):
    """Keras `ops.view_as_complex`: a real array whose last axis is `(real, imag)` as complex64
    numbers (that axis removed).

    Raises:
        ValueError: the last axis of `x` does not have size 2.

    Examples:
        >>> print(np.asarray(ops.view_as_complex(np.array([[1.0, 2.0], [3.0, -4.0]]))))
        [1.+2.j 3.-4.j]
    """
    x = jnp.asarray(x)
    if x.ndim < 1 or x.shape[-1] != 2:
        raise ValueError(f"ops.view_as_complex: the last axis must have size 2 (real, imag), "
                         f"received shape {x.shape}")
    return lax.complex(x[..., 0].astype(jnp.float32), x[..., 1].astype(jnp.float32))


@_op
def view_as_real(x):
    """Keras `ops.view_as_real`: complex numbers as a real array with a last axis
    `(real, imag)`.

    Examples:
        >>> print(np.asarray(ops.view_as_real(np.array([1 + 2j, 3 - 4j]))))
        [[ 1.  2.]
         [ 3. -4.]]
    """
    return jnp.stack([jnp.real(x), jnp.imag(x)], axis=-1)


__all__ = public_names(globals(), __name__)
