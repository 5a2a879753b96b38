"""Merging layers: each takes a list of tensors, as in Keras."""
import functools

import jax
import jax.numpy as jnp

from .base import Layer, shape_str


class _Merge(Layer):
    """One driver for the element-wise merges: check shapes, then fold `combine`."""
    min_inputs, max_inputs = 2, None
    supports_masking = True

    @staticmethod
    def _masks(inputs, mask):
        """Keras's checks of a merge's masks: None, or one (or None) per input."""
        if mask is None:
            return None
        if not isinstance(mask, (list, tuple)) or not isinstance(inputs, (list, tuple)):
            raise ValueError(f"A merge layer's `inputs` and `mask` must be lists, received "
                             f"inputs={inputs!r}, mask={mask!r}")
        if len(mask) != len(inputs):
            raise ValueError(f"A merge layer's `inputs` and `mask` must have the same length, "
                             f"received {len(inputs)} inputs and {len(mask)} masks")
        return list(mask)

    def compute_mask(self, inputs, mask=None):
        """Keras: the masks OR-ed, or None when any input has none."""
        mask = self._masks(inputs, mask)
        if mask is None or any(m is None for m in mask):
            return None
        return functools.reduce(jnp.logical_or, mask[1:], jnp.asarray(mask[0]))

    def _check_list(self, shapes):
        if not isinstance(shapes, (list, tuple)) or not all(isinstance(s, tuple) for s in shapes):
            raise ValueError(f"{type(self).__name__} '{self.name}' must be called on a list of "
                             f"tensors, received {shapes!r}")
        if len(shapes) < self.min_inputs or (self.max_inputs and len(shapes) > self.max_inputs):
            count = (f"exactly {self.min_inputs}" if self.max_inputs == self.min_inputs
                     else f"at least {self.min_inputs}")
            raise ValueError(f"{type(self).__name__} '{self.name}' takes {count} inputs, "
                             f"received {len(shapes)}")

    def build(self, shapes, *, generator):
        self._check_list(shapes)
        return {}, {}

    def output_shape(self, shapes):
        self._check_list(shapes)
        if len({len(s) for s in shapes}) != 1:
            raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of the same rank, "
                             f"received shapes {', '.join(shape_str(s) for s in shapes)}")
        out = []
        for dims in zip(*shapes):
            known = {d for d in dims if d is not None and d != 1}
            if len(known) > 1:
                raise ValueError(f"{type(self).__name__} '{self.name}' expects inputs of the same "
                                 f"shape, received {', '.join(shape_str(s) for s in shapes)}")
            out.append(known.pop() if known else (1 if all(d == 1 for d in dims) else None))
        return tuple(out)

    def call(self, params, state, inputs, *, training=False, rng=None):
        return functools.reduce(self.combine, inputs[1:], inputs[0]) if len(inputs) > 1 else inputs[0], state


class Add(_Merge):
    """Keras Add: element-wise sum of the inputs.

    Examples:
        >>> a = graphnet.Input(shape=(4,))
        >>> b = graphnet.Input(shape=(4,))
        >>> layers.Add()([a, b]).shape
        (None, 4)
    """
    combine = staticmethod(jnp.add)


class Subtract(_Merge):
    """Keras Subtract: inputs[0] - inputs[1].

    Examples:
        >>> a = graphnet.Input(shape=(4,))
        >>> b = graphnet.Input(shape=(4,))
        >>> layers.Subtract()([a, b]).shape
        (None, 4)
    """
    min_inputs = max_inputs = 2
    combine = staticmethod(jnp.subtract)


class Multiply(_Merge):
    """Keras Multiply: element-wise product.

    Examples:
        >>> a = graphnet.Input(shape=(4,))
        >>> b = graphnet.Input(shape=(4,))
        >>> layers.Multiply()([a, b]).shape
        (None, 4)
    """
    combine = staticmethod(jnp.multiply)


class Maximum(_Merge):
    """Keras Maximum: element-wise maximum.

    Examples:
        >>> a = graphnet.Input(shape=(4,))
        >>> b = graphnet.Input(shape=(4,))
        >>> layers.Maximum()([a, b]).shape
        (None, 4)
    """
    combine = staticmethod(jnp.maximum)


class Minimum(_Merge):
    """Keras Minimum: element-wise minimum.

    Examples:
        >>> a = graphnet.Input(shape=(4,))
        >>> b = graphnet.Input(shape=(4,))
        >>> layers.Minimum()([a, b]).shape
        (None, 4)
    """
    combine = staticmethod(jnp.minimum)


class Average(_Merge):
    """Keras Average: element-wise mean.

    Examples:
        >>> a = graphnet.Input(shape=(4,))
        >>> b = graphnet.Input(shape=(4,))
        >>> layers.Average()([a, b]).shape
        (None, 4)
    """

    def call(self, params, state, inputs, *, training=False, rng=None):
        return functools.reduce(jnp.add, inputs[1:], inputs[0]) / len(inputs), state


class Concatenate(_Merge):
    """Keras Concatenate(axis=-1): all other axes must agree.

    Examples:
        >>> a = graphnet.Input(shape=(4,))
        >>> b = graphnet.Input(shape=(3,))
        >>> layers.Concatenate()([a, b]).shape
        (None, 7)
    """
    min_inputs = 1

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = int(axis)

    def compute_mask(self, inputs, mask=None):
        """Keras: each input's mask (all true where it has none) spread over its axes,
        concatenated along `axis`, then any() over the last axis."""
        mask = self._masks(inputs, mask)
        if mask is None or all(m is None for m in mask):
            return None
        full = [jnp.ones(jnp.shape(x), bool) if m is None else
                (jnp.broadcast_to(jnp.expand_dims(m, -1), jnp.shape(x)) if jnp.ndim(m) < jnp.ndim(x)
                 else jnp.asarray(m, bool))
                for x, m in zip(inputs, mask)]
        return jnp.any(jnp.concatenate(full, axis=self.axis), axis=-1)

    def output_shape(self, shapes):
        self._check_list(shapes)
        rank = len(shapes[0])
        axis = self.axis % rank if -rank <= self.axis < rank else None
        if axis is None or any(len(s) != rank for s in shapes) or axis == 0:
            raise ValueError(f"Concatenate '{self.name}' (axis={self.axis}) expects inputs of equal "
                             f"rank with a non-batch axis {self.axis}, received "
                             f"{', '.join(shape_str(s) for s in shapes)}")
        out = []
        for i, dims in enumerate(zip(*shapes)):
            if i == axis:
                out.append(None if None in dims else sum(dims))
                continue
            known = {d for d in dims if d is not None}
            if len(known) > 1:
                raise ValueError(f"Concatenate '{self.name}' expects inputs that match except on "
                                 f"axis {self.axis}, received {', '.join(shape_str(s) for s in shapes)}")
            out.append(known.pop() if known else None)
        return tuple(out)

    def call(self, params, state, inputs, *, training=False, rng=None):
        return jnp.concatenate(inputs, axis=self.axis), state

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Dot(_Merge):
    """Keras Dot(axes, normalize=False): batched dot product of two tensors.

    Contracts `axes[0]` of the first with `axes[1]` of the second, sharing the batch axis;
    a result with only the batch axis left gets a trailing axis of 1, as Keras's batch_dot.

    Examples:
        >>> a = graphnet.Input(shape=(4,))
        >>> b = graphnet.Input(shape=(4,))
        >>> layers.Dot(axes=1)([a, b]).shape
        (None, 1)
    """
    min_inputs = max_inputs = 2

    def compute_mask(self, inputs, mask=None):
        return None

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        self.axes = tuple(axes) if isinstance(axes, (list, tuple)) else (int(axes), int(axes))
        self.normalize = bool(normalize)

    def _axes(self, shapes):
        axes = tuple(a % len(s) for a, s in zip(self.axes, shapes))
        if 0 in axes:
            raise ValueError(f"Dot '{self.name}' cannot contract the batch axis (axes={self.axes})")
        return axes

    def output_shape(self, shapes):
        self._check_list(shapes)
        a0, a1 = self._axes(shapes)
        x, y = shapes
        if x[a0] is not None and y[a1] is not None and x[a0] != y[a1]:
            raise ValueError(f"Dot '{self.name}' (axes={self.axes}) expects matching sizes on the "
                             f"contracted axes, received {shape_str(x)} and {shape_str(y)}")
        rest = [d for i, d in enumerate(x) if i not in (0, a0)] + [d for i, d in enumerate(y) if i not in (0, a1)]
        return (x[0], *rest) if rest else (x[0], 1)

    def call(self, params, state, inputs, *, training=False, rng=None):
        x, y = inputs
        a0, a1 = self._axes((x.shape, y.shape))
        if self.normalize:
            x = x / jnp.maximum(jnp.linalg.norm(x, axis=a0, keepdims=True), 1e-12)
            y = y / jnp.maximum(jnp.linalg.norm(y, axis=a1, keepdims=True), 1e-12)
        out = jax.lax.dot_general(x, y, (((a0,), (a1,)), ((0,), (0,))))
        return (out[:, None] if out.ndim == 1 else out), state

    def get_config(self):
        return {**super().get_config(), "axes": list(self.axes), "normalize": self.normalize}


# ---- Keras's functional forms: `layers.add([x, y])` is `Add()([x, y])` -----------------
def add(inputs, **kwargs):
    """Keras `layers.add`: an `Add` layer called on `inputs`."""
    return Add(**kwargs)(inputs)


def subtract(inputs, **kwargs):
    """Keras `layers.subtract`: a `Subtract` layer called on `inputs`."""
    return Subtract(**kwargs)(inputs)


def multiply(inputs, **kwargs):
    """Keras `layers.multiply`: a `Multiply` layer called on `inputs`."""
    return Multiply(**kwargs)(inputs)


def average(inputs, **kwargs):
    """Keras `layers.average`: an `Average` layer called on `inputs`."""
    return Average(**kwargs)(inputs)


def maximum(inputs, **kwargs):
    """Keras `layers.maximum`: a `Maximum` layer called on `inputs`."""
    return Maximum(**kwargs)(inputs)


def minimum(inputs, **kwargs):
    """Keras `layers.minimum`: a `Minimum` layer called on `inputs`."""
    return Minimum(**kwargs)(inputs)


def concatenate(inputs, axis=-1, **kwargs):
    """Keras `layers.concatenate`: a `Concatenate(axis)` layer called on `inputs`."""
    return Concatenate(axis=axis, **kwargs)(inputs)


def dot(inputs, axes=-1, **kwargs):
    """Keras `layers.dot`: a `Dot(axes)` layer called on `inputs`."""
    return Dot(axes=axes, **kwargs)(inputs)
