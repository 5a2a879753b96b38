"""Weight initializers with Keras 3's names, formulas and defaults.

Draws come from a seeded NumPy generator (see `naming.next_generator`): reproducible under
`set_random_seed`, and free of the per-shape compile that eager `jax.random` costs on CPU.
"""
import contextlib
import contextvars
import math

import jax.numpy as jnp
import numpy as np

from . import naming
from . import registry
from .registry import lookup


def compute_fans(shape):
    """Keras's fans: conv kernels (..., in, out) count the receptive field."""
    shape = tuple(shape)
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive = math.prod(shape[:-2])
    return shape[-2] * receptive, shape[-1] * receptive


def _truncated_normal(generator, shape, mean, stddev):
    """Normal samples redrawn until inside mean ± 2 stddev, as Keras truncates."""
    values = generator.standard_normal(shape)
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = generator.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return mean + stddev * values


_drawing = contextvars.ContextVar("graphnet_drawing", default=True)


class _Budget:
    """Bytes the arrays built while loading may take: what the file holds."""

    def __init__(self, limit, what):
        self.limit, self.what, self.used = limit, what, 0


@contextlib.contextmanager
def without_drawing(limit_bytes=None, what="the file's weights"):
    """Initializers return uninitialized arrays of the right shape and dtype, drawing nothing.

    Loading a saved model builds its layers inside this (their shapes are what matter) and
    then sets every value from the file, so a large model loads without sampling and
    discarding all its initial weights. With `limit_bytes`, weights declared beyond what the
    file holds are a ValueError raised before their array is allocated: a small file may
    not make a load allocate terabytes.
    """
    current = _drawing.get()
    keep = limit_bytes is None and isinstance(current, _Budget)   # an outer limit holds
    token = _drawing.set(current if keep else _Budget(limit_bytes, what))
    try:
        yield
    finally:
        _drawing.reset(token)


def _uninitialized(shape, dtype) -> np.ndarray:
    """An uninitialized host array on a 64-byte boundary (jax adopts those without a copy)."""
    dtype = jnp.dtype(dtype)
    size = math.prod(shape) * dtype.itemsize
    budget = _drawing.get()
    budget.used += size
    if budget.limit is not None and budget.used > budget.limit:
        raise ValueError(f"its config declares weights of at least {budget.used} bytes (one "
                         f"of shape {tuple(shape)}, {dtype.name}: {size} bytes), more than "
                         f"{budget.what} can hold ({budget.limit} bytes)")
    raw = np.empty(size + 64, np.uint8)
    start = (-raw.ctypes.data) % 64
    return raw[start:start + size].view(dtype).reshape(shape)


class Initializer:
    """Base: `init(shape, dtype="float32", generator=None)` returns a jax array.

    Examples:
        >>> init = initializers.get("he_normal")
        >>> isinstance(init, initializers.Initializer)
        True
        >>> init((3, 2)).shape
        (3, 2)
    """

    def __call__(self, shape, dtype="float32", generator=None):
        if _drawing.get() is not True:
            return _uninitialized(tuple(shape), dtype)
        generator = naming.next_generator() if generator is None else generator
        return jnp.asarray(np.asarray(self.sample(generator, tuple(shape)), dtype=dtype))

    def sample(self, generator, shape):
        """Draw the values (NumPy) for `shape` from the NumPy `generator`; override this.

        Calling the initializer casts the values to the `dtype` it is called with, so `sample`
        may return any NumPy array of `shape`.

        Args:
            generator: a seeded NumPy Generator (drawing on the host, as `build` does).
            shape: the weight's shape, a tuple of ints.

        Examples:
            >>> class Halves(initializers.Initializer):
            ...     def sample(self, generator, shape):
            ...         return np.full(shape, 0.5)
            >>> print(np.asarray(Halves()((2,), dtype="float16")))
            [0.5 0.5]
            >>> layer = layers.Dense(1, kernel_initializer=Halves())
            >>> _ = layer(graphnet.Input(shape=(2,)))
            >>> print(layer.get_weights()[0])
            [[0.5]
             [0.5]]
        """
        raise NotImplementedError(f"{type(self).__name__} must define sample(generator, shape)")

    def get_config(self):
        """The constructor's arguments, for saving (an initializer without any has `{}`).

        Examples:
            >>> initializers.Constant(2.0).get_config()
            {'value': 2.0}
            >>> initializers.Zeros().get_config()
            {}
        """
        return {}


class Zeros(Initializer):
    """Keras Zeros: every value 0 (Keras's default bias initializer).

    Examples:
        >>> print(np.asarray(initializers.Zeros()((2, 2))))
        [[0. 0.]
         [0. 0.]]
    """
    def sample(self, generator, shape):
        """Zeros of `shape`."""
        return np.zeros(shape)


class Ones(Initializer):
    """Keras Ones: every value 1 (the default scale of the normalization layers).

    Examples:
        >>> print(np.asarray(initializers.Ones()((2, 2))))
        [[1. 1.]
         [1. 1.]]
    """
    def sample(self, generator, shape):
        """Ones of `shape`."""
        return np.ones(shape)


class Constant(Initializer):
    """Every value equal to `value`.

    Examples:
        >>> print(np.asarray(initializers.Constant(0.5)((3,))))
        [0.5 0.5 0.5]
    """
    def __init__(self, value=0.0):
        self.value = value

    def sample(self, generator, shape):
        """`value` repeated to `shape`."""
        return np.full(shape, self.value)

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {"value": self.value}


class RandomNormal(Initializer):
    """Normal draws with mean `mean` and standard deviation `stddev`.

    Examples:
        >>> w = initializers.RandomNormal(mean=0.0, stddev=0.05, seed=0)((2, 3))
        >>> w.shape
        (2, 3)
    """
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev, self.seed = mean, stddev, seed

    def sample(self, generator, shape):
        """Normal draws of `shape`."""
        generator = generator if self.seed is None else np.random.default_rng(self.seed)
        return generator.normal(self.mean, self.stddev, shape)

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class TruncatedNormal(RandomNormal):
    """Normal draws, redrawn when more than two standard deviations from the mean.

    Examples:
        >>> w = initializers.TruncatedNormal(stddev=1.0, seed=0)((100,))
        >>> bool(np.all(np.abs(w) <= 2.0))
        True
    """
    def sample(self, generator, shape):
        """Truncated normal draws of `shape`."""
        generator = generator if self.seed is None else np.random.default_rng(self.seed)
        return _truncated_normal(generator, shape, self.mean, self.stddev)


class RandomUniform(Initializer):
    """Uniform draws in [minval, maxval).

    Examples:
        >>> w = initializers.RandomUniform(minval=-1.0, maxval=1.0, seed=0)((2, 3))
        >>> bool(np.all(np.abs(w) <= 1.0))
        True
    """
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval, self.seed = minval, maxval, seed

    def sample(self, generator, shape):
        """Uniform draws of `shape`."""
        generator = generator if self.seed is None else np.random.default_rng(self.seed)
        return generator.uniform(self.minval, self.maxval, shape)

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


class VarianceScaling(Initializer):
    """scale / fan, drawn uniform, truncated normal or normal (Keras's formulas).

    Examples:
        >>> init = initializers.VarianceScaling(scale=2.0, mode="fan_in", seed=0)
        >>> init((4, 3)).shape
        (4, 3)
    """

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None):
        if mode not in ("fan_in", "fan_out", "fan_avg"):
            raise ValueError(f"VarianceScaling mode must be fan_in, fan_out or fan_avg, "
                             f"received {mode!r}")
        if distribution not in ("uniform", "truncated_normal", "untruncated_normal", "normal"):
            raise ValueError(f"VarianceScaling distribution must be uniform, truncated_normal "
                             f"or untruncated_normal, received {distribution!r}")
        if distribution == "normal":          # Keras's alias
            distribution = "truncated_normal"
        self.scale, self.mode, self.distribution, self.seed = scale, mode, distribution, seed

    def sample(self, generator, shape):
        """Draws whose variance is scale / fan (fan_in, fan_out or their mean)."""
        generator = generator if self.seed is None else np.random.default_rng(self.seed)
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[self.mode]
        scale = self.scale / max(1.0, fan)
        if self.distribution == "uniform":
            limit = math.sqrt(3.0 * scale)
            return generator.uniform(-limit, limit, shape)
        if self.distribution == "truncated_normal":
            # 0.879... is the stddev of a unit normal truncated to [-2, 2].
            return _truncated_normal(generator, shape, 0.0, math.sqrt(scale) / 0.87962566103423978)
        return generator.normal(0.0, math.sqrt(scale), shape)

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {"scale": self.scale, "mode": self.mode, "distribution": self.distribution,
                "seed": self.seed}


class _Preset(VarianceScaling):
    """A VarianceScaling whose scale, mode and distribution are fixed: only `seed` is saved."""
    preset = (1.0, "fan_in", "uniform")

    def __init__(self, seed=None):
        VarianceScaling.__init__(self, *self.preset, seed)

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {"seed": self.seed}


class GlorotUniform(_Preset):
    """Keras GlorotUniform (Xavier): uniform in ±sqrt(6 / (fan_in + fan_out)), Keras's default
    kernel initializer, so a layer's outputs keep the variance of its inputs.

    Examples:
        >>> w = initializers.GlorotUniform(seed=0)((3, 2))
        >>> w.shape
        (3, 2)
    """
    preset = (1.0, "fan_avg", "uniform")


class GlorotNormal(_Preset):
    """Keras GlorotNormal (Xavier): truncated normal with variance 2 / (fan_in + fan_out).

    Examples:
        >>> w = initializers.GlorotNormal(seed=0)((3, 2))
        >>> w.shape
        (3, 2)
    """
    preset = (1.0, "fan_avg", "truncated_normal")


class HeUniform(_Preset):
    """Keras HeUniform: uniform in ±sqrt(6 / fan_in), for layers followed by ReLU (He et al., 2015).

    Examples:
        >>> w = initializers.HeUniform(seed=0)((3, 2))
        >>> w.shape
        (3, 2)
    """
    preset = (2.0, "fan_in", "uniform")


class HeNormal(_Preset):
    """Keras HeNormal: truncated normal with variance 2 / fan_in, for layers followed by ReLU.

    Examples:
        >>> w = initializers.HeNormal(seed=0)((3, 2))
        >>> w.shape
        (3, 2)
    """
    preset = (2.0, "fan_in", "truncated_normal")


class LecunUniform(_Preset):
    """Keras LecunUniform: uniform in ±sqrt(3 / fan_in), for SELU networks.

    Examples:
        >>> w = initializers.LecunUniform(seed=0)((3, 2))
        >>> w.shape
        (3, 2)
    """
    preset = (1.0, "fan_in", "uniform")


class LecunNormal(_Preset):
    """Keras LecunNormal: truncated normal with variance 1 / fan_in, for SELU networks.

    Examples:
        >>> w = initializers.LecunNormal(seed=0)((3, 2))
        >>> w.shape
        (3, 2)
    """
    preset = (1.0, "fan_in", "truncated_normal")


class Orthogonal(Initializer):
    """QR of a normal matrix, signs fixed by R's diagonal (Keras's recurrent default).

    Examples:
        >>> w = initializers.Orthogonal(seed=0)((3, 2))
        >>> w.shape
        (3, 2)
    """

    def __init__(self, gain=1.0, seed=None):
        self.gain, self.seed = gain, seed

    def sample(self, generator, shape):
        """An orthogonal matrix (QR of a normal draw) times `gain`, reshaped to `shape`."""
        generator = generator if self.seed is None else np.random.default_rng(self.seed)
        rows = math.prod(shape[:-1])
        cols = shape[-1]
        a = generator.standard_normal((max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q = q * np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return self.gain * q.reshape(shape)

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {"gain": self.gain, "seed": self.seed}


class Identity(Initializer):
    """`gain` times the identity matrix (2-D shapes only).

    Examples:
        >>> print(np.asarray(initializers.Identity(gain=2.0)((2, 3))))
        [[2. 0. 0.]
         [0. 2. 0.]]
    """
    def __init__(self, gain=1.0):
        self.gain = gain

    def sample(self, generator, shape):
        """`gain` times the identity of `shape`."""
        if len(shape) != 2:
            raise ValueError(f"Identity initializer needs a 2-D shape, received {shape}")
        return self.gain * np.eye(*shape)

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {"gain": self.gain}


class STFT(Initializer):
    """Keras STFT: the real or imaginary part of a Fourier basis, windowed, as a conv kernel
    of shape (frame_length, 1, fft_length // 2 + 1).

    Keras computes it in the kernel's dtype, phases rounded there; so does this, so the
    values agree to the last bits. A window given by name comes from
    `scipy.signal.get_window` (SciPy needed); values or `None` need nothing.

    >>> from graphnet import initializers
    >>> kernel = initializers.STFT("real", window=None)((4, 1, 3))
    >>> print(kernel[:, 0, 2].round(3))
    [ 1. -1.  1. -1.]
    """

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ("real", "imag"):
            raise ValueError(f"STFT: side should be 'real' or 'imag', received {side!r}")
        if isinstance(window, str):
            _window(window, 1, periodic)             # an unknown name fails here
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(f"STFT: scaling must be None, 'density' or 'spectrum', "
                             f"received {scaling!r}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype="float32", generator=None):
        if _drawing.get() is not True:
            return _uninitialized(tuple(shape), dtype)
        return jnp.asarray(self.values(tuple(shape), dtype))

    def sample(self, generator, shape):
        """The kernel of `shape` in float32 (nothing is drawn)."""
        return self.values(shape, "float32")

    def values(self, shape, dtype):
        """The kernel of `shape` (frame_length, channels, bins), computed in `dtype`."""
        if len(shape) != 3:
            raise ValueError(f"STFT initializer needs a shape (frame_length, channels, "
                             f"fft_length // 2 + 1), received {shape}")
        dtype = np.dtype(dtype)
        frames, _, bins = shape
        freq = np.arange(bins, dtype=dtype).reshape(1, 1, bins) / dtype.type((bins - 1) * 2)
        time = np.arange(frames, dtype=dtype).reshape(frames, 1, 1)
        phase = (dtype.type(-2) * time) * freq * np.arccos(dtype.type(-1))
        kernel = (np.cos(phase) if self.side == "real" else np.sin(phase)).astype(dtype)
        if self.window is None:
            return kernel
        win = self.window
        if isinstance(win, str):
            win = _window(win, frames, self.periodic)
        win = np.asarray(win, dtype)
        if win.shape != (frames,):
            raise ValueError(f"STFT: the window must have shape ({frames},) (frame_length), "
                             f"received {win.shape}")
        win = win.reshape(frames, 1, 1)
        scale = dtype.type(1)
        if self.scaling == "density":
            scale = np.sqrt(np.sum(np.square(win)))
        elif self.scaling == "spectrum":
            scale = np.sum(np.abs(win))
        return (kernel * win / scale).astype(dtype)

    def get_config(self):
        """The constructor's arguments, for saving."""
        window = self.window
        if not (window is None or isinstance(window, str)):
            window = np.asarray(window).tolist()
        return {"side": self.side, "window": window, "periodic": self.periodic,
                "scaling": self.scaling}


def _window(name, length, periodic):
    try:
        from scipy import signal
    except ImportError as error:
        raise ImportError(f"STFT window={name!r} comes from scipy.signal.get_window: install "
                          f"scipy (pip install scipy), or pass the window's values as an "
                          f"array") from error
    return signal.get_window(name, length, periodic)


INITIALIZERS = {
    "zeros": Zeros, "ones": Ones, "constant": Constant, "random_normal": RandomNormal,
    "random_uniform": RandomUniform, "truncated_normal": TruncatedNormal,
    "variance_scaling": VarianceScaling, "glorot_uniform": GlorotUniform,
    "glorot_normal": GlorotNormal, "he_uniform": HeUniform, "he_normal": HeNormal,
    "lecun_uniform": LecunUniform, "lecun_normal": LecunNormal, "orthogonal": Orthogonal,
    "identity": Identity, "stft": STFT,
    # Keras's short aliases (Embedding's default is "uniform"); after the full names, so
    # `serialize` still writes those.
    "uniform": RandomUniform, "normal": RandomNormal,
}


class _CallableInitializer(Initializer):
    """A user function `f(shape, dtype)` (Keras style) used as an initializer."""

    def __init__(self, fn):
        self.fn = fn

    def __call__(self, shape, dtype="float32", generator=None):
        return jnp.asarray(self.fn(tuple(shape), dtype), dtype=dtype)


def get(identifier):
    """A name, an Initializer, a class or a callable `f(shape, dtype)`."""
    return registry.get(
        identifier, KIND, base=Initializer, from_callable=_CallableInitializer,
        from_name=lambda name: lookup(INITIALIZERS, name, "initializer")(),
        expected="An initializer must be a string, an Initializer or a callable")


KIND = registry.Kind("initializer", {**{cls.__name__: cls for cls in INITIALIZERS.values()},
                                     **INITIALIZERS}, {}, _CallableInitializer)


def serialize(init):
    """The registry's one shape: `{"class_name": "GlorotUniform", "config": {...}}`."""
    return registry.serialize(init, KIND)


def deserialize(config):
    """An initializer from the dict `serialize` made."""
    return registry.deserialize(config, KIND)


# Keras's other names for the same classes.
IdentityInitializer, OrthogonalInitializer, STFTInitializer = Identity, Orthogonal, STFT
constant, zeros, ones = Constant, Zeros, Ones
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, orthogonal, identity, stft = VarianceScaling, Orthogonal, Identity, STFT
glorot_normal, glorot_uniform = GlorotNormal, GlorotUniform
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform
