"""Weight and activity penalties (Keras's l1, l2, l1_l2), added to the total loss."""
import jax
import jax.numpy as jnp

from . import registry
from .registry import lookup


class Regularizer:
    """Base class of weight penalties: `__call__(x)` returns a scalar added to the loss.

    Examples:
        >>> class Sparse(regularizers.Regularizer):
        ...     def __call__(self, w):
        ...         return 0.01 * ops.sum(ops.abs(w))
        ...
        >>> w = np.array([[1.0, -2.0], [0.5, 0.0]], dtype="float32")
        >>> round(float(Sparse()(w)), 4)
        0.035
        >>> layer = layers.Dense(2, kernel_regularizer=Sparse())
    """
    def __call__(self, x):
        raise NotImplementedError(f"{type(self).__name__} must define __call__(x)")

    def get_config(self):
        """The constructor's arguments, for saving (a subclass with arguments returns them).

        Examples:
            >>> config = regularizers.L1L2(l1=0.1).get_config()
            >>> config
            {'l1': 0.1, 'l2': 0.0}
            >>> regularizers.L1L2.from_config(config).l1     # the same regularizer again
            0.1
        """
        return {}

    @classmethod
    def from_config(cls, config):
        """Keras `Regularizer.from_config`: the regularizer `get_config` described.

        It calls `cls(**config)`, so a subclass whose constructor takes its config's keys
        needs nothing more.

        Raises:
            TypeError: `config` is not a dict, or holds a key the constructor does not take.

        Examples:
            >>> reg = regularizers.L1L2.from_config({"l1": 0.01, "l2": 0.02})
            >>> reg.l1, reg.l2
            (0.01, 0.02)
            >>> regularizers.L2.from_config(regularizers.L2(0.3).get_config()).get_config()
            {'l2': 0.3}
        """
        if not isinstance(config, dict):
            raise TypeError(f"{cls.__name__}.from_config: expects the dict get_config() "
                            f"returns, received {type(config).__name__}")
        try:
            return cls(**config)
        except TypeError as error:
            raise TypeError(f"{cls.__name__}.from_config: the config {config!r} does not fit "
                            f"{cls.__name__}'s arguments ({error})") from error


class L1L2(Regularizer):
    """l1 * sum(|x|) + l2 * sum(x^2).

    Examples:
        >>> w = np.array([[1.0, -2.0], [0.5, 0.0]], dtype="float32")
        >>> round(float(regularizers.L1L2(l1=0.01, l2=0.01)(w)), 4)
        0.0875
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, x):
        penalty = jnp.zeros((), jnp.float32)
        if self.l1:
            penalty = penalty + self.l1 * jnp.sum(jnp.abs(x))
        if self.l2:
            penalty = penalty + self.l2 * jnp.sum(jnp.square(x))
        return penalty

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """l1 * sum(|x|): pushes weights to exactly zero.

    Examples:
        >>> w = np.array([[1.0, -2.0], [0.5, 0.0]], dtype="float32")
        >>> round(float(regularizers.L1(0.01)(w)), 4)
        0.035
    """
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {"l1": self.l1}


class L2(L1L2):
    """l2 * sum(x^2): weight decay through the loss.

    Examples:
        >>> w = np.array([[1.0, -2.0], [0.5, 0.0]], dtype="float32")
        >>> round(float(regularizers.L2(0.01)(w)), 4)
        0.0525
    """
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {"l2": self.l2}


def l1(l1=0.01):
    """An `L1` penalty with factor `l1` (Keras's `regularizers.l1`).

    Examples:
        >>> w = np.array([[1.0, -2.0], [0.5, 0.0]], dtype="float32")
        >>> round(float(regularizers.l1(0.01)(w)), 4)
        0.035
    """
    return L1(l1)


def l2(l2=0.01):
    """An `L2` penalty with factor `l2` (Keras's `regularizers.l2`).

    Examples:
        >>> w = np.array([[1.0, -2.0], [0.5, 0.0]], dtype="float32")
        >>> round(float(regularizers.l2(0.01)(w)), 4)
        0.0525
    """
    return L2(l2)


def l1_l2(l1=0.0, l2=0.0):
    """Keras 3's `l1_l2`, whose factors default to 0 (Keras 2's were 0.01).

    Examples:
        >>> w = np.array([[1.0, -2.0], [0.5, 0.0]], dtype="float32")
        >>> round(float(regularizers.l1_l2(l1=0.01, l2=0.01)(w)), 4)
        0.0875
    """
    return L1L2(l1, l2)


class OrthogonalRegularizer(Regularizer):
    """Keras OrthogonalRegularizer(factor=0.01, mode="rows"): `factor` times the mean |cosine|
    between pairs of L2-normalized rows (or columns) of a rank-2 weight.

    Examples:
        >>> w = np.array([[1.0, -2.0], [0.5, 0.0]], dtype="float32")
        >>> round(float(regularizers.OrthogonalRegularizer(factor=0.01)(w)), 6)
        0.004472
    """

    def __init__(self, factor=0.01, mode="rows"):
        if isinstance(factor, bool) or not isinstance(factor, (int, float)) or factor < 0:
            raise ValueError(f"OrthogonalRegularizer: factor must be a float >= 0, received "
                             f"{factor!r}")
        if mode not in ("rows", "columns"):
            raise ValueError(f'OrthogonalRegularizer: mode must be "rows" or "columns", '
                             f"received {mode!r}")
        self.factor, self.mode = float(factor), mode

    def __call__(self, x):
        if x.ndim != 2:
            raise ValueError(f"OrthogonalRegularizer: the weight must have rank 2, received "
                             f"shape {tuple(x.shape)}")
        axis = 1 if self.mode == "rows" else 0
        inv_norm = jnp.minimum(jax.lax.rsqrt(jnp.sum(jnp.square(x), axis=axis, keepdims=True)),
                               jnp.asarray(1e7, x.dtype))       # Keras: 1 / epsilon
        x = x * inv_norm
        product = x @ x.T if self.mode == "rows" else x.T @ x
        size = product.shape[0]
        off_diagonal = product * (1.0 - jnp.eye(size, dtype=x.dtype))
        pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * jnp.sum(jnp.abs(off_diagonal)) / pairs

    def get_config(self):
        """The constructor's arguments, for saving."""
        return {"factor": self.factor, "mode": self.mode}


orthogonal_regularizer = OrthogonalRegularizer

REGULARIZERS = {"l1": L1, "l2": L2, "l1_l2": l1_l2, "l1l2": l1_l2,
                "orthogonal_regularizer": OrthogonalRegularizer}   # as Keras 3: l1_l2() is 0, 0


def get(identifier):
    """A regularizer from a name (`"l1"`, `"l2"`, `"l1_l2"`), a config dict, an instance or None."""
    return registry.get(
        identifier, KIND, base=Regularizer, none=None, instantiate=False,
        from_callable=lambda fn: fn,
        from_name=lambda name: lookup(REGULARIZERS, name, "regularizer")(),
        expected="A regularizer must be a string, a Regularizer or a callable")


KIND = registry.Kind("regularizer", {"L1": L1, "L2": L2, "L1L2": L1L2,
                                     "OrthogonalRegularizer": OrthogonalRegularizer})


def serialize(reg):
    """The registry's one shape: `{"class_name": "L2", "config": {"l2": 0.01}}`."""
    return registry.serialize(reg, KIND)


def deserialize(config):
    """A regularizer from the dict `serialize` made."""
    return registry.deserialize(config, KIND)
