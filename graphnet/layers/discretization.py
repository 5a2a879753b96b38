"""Discretization: numbers to bin indices by boundaries, given or adapted from quantiles
with Keras's summary arithmetic."""
import jax
import jax.numpy as jnp
import numpy as np

from .base import Layer
from .host import batches


def _summarize(values, epsilon):
    values = np.sort(np.reshape(values, [-1]))
    step = max(np.size(values) / (1.0 / epsilon), 1)
    boundaries = values[int(step - 1)::int(step)]
    return np.stack([boundaries, np.ones_like(boundaries) * step])


def _compress(summary, epsilon):
    if summary.shape[1] * epsilon < 1:
        return summary
    percents = epsilon + np.arange(0.0, 1.0, epsilon)
    cum_weights = summary[1].cumsum()
    cum_percents = cum_weights / cum_weights[-1]
    new_bins = np.interp(percents, cum_percents, summary[0])
    cum_weights = np.interp(percents, cum_percents, cum_weights)
    new_weights = cum_weights - np.concatenate((np.array([0]), cum_weights[:-1]))
    return np.stack((new_bins, new_weights)).astype("float32")


class Discretization(Layer):
    """Keras Discretization: each value to the index of its bin, `bin_boundaries` given or
    adapted (`num_bins`) from quantiles.

    `adapt` keeps Keras's approximate quantile summary (`epsilon`), merged batch by batch,
    so the boundaries equal Keras's, not exact quantiles.

    Examples:
        >>> from graphnet.layers import Discretization
        >>> Discretization(bin_boundaries=[0.0, 1.0])(np.array([[-1.0, 0.5, 2.0]])).tolist()
        [[0, 1, 2]]
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, dtype=None, name=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        who = f"Discretization '{self.name}'"
        if sparse:
            raise ValueError(f"{who}: sparse=True needs the TensorFlow backend")
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(f"{who}: output_mode must be 'int', 'one_hot', 'multi_hot' or "
                             f"'count', received {output_mode!r}")
        if num_bins is not None and num_bins < 0:
            raise ValueError(f"{who}: num_bins must be >= 0, received {num_bins}")
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(f"{who}: give num_bins or bin_boundaries, not both")
        if num_bins is None and bin_boundaries is None:
            raise ValueError(f"{who}: give num_bins (then call adapt) or bin_boundaries")
        self.bin_boundaries = None if bin_boundaries is None else list(bin_boundaries)
        self.num_bins, self.epsilon = num_bins, epsilon
        self.output_mode, self.sparse = output_mode, False
        self.summary = None if self.bin_boundaries else np.array([[], []], "float32")

    def adapt(self, data, steps=None):
        """Boundaries at the `num_bins` quantiles of `data` (an array, or an iterable of
        batches merged in Keras's summary)."""
        if self.num_bins is None:
            raise ValueError(f"Discretization '{self.name}' was given bin_boundaries; adapt "
                             f"needs num_bins instead")
        self.summary = np.array([[], []], "float32")
        for batch in batches(data, steps, f"Discretization '{self.name}'"):
            arr = np.asarray(batch)
            if arr.dtype.kind not in "iuf":
                raise TypeError(f"Discretization '{self.name}': adapt expects numbers, "
                                f"received an array of dtype {arr.dtype}")
            merged = np.concatenate((_summarize(arr.astype("float32"), self.epsilon),
                                     self.summary), axis=1)
            merged = np.take(merged, np.argsort(merged[0]), axis=1)
            self.summary = _compress(merged, self.epsilon)
        self.bin_boundaries = _compress(self.summary, 1.0 / self.num_bins)[0, :-1].tolist()

    def _depth(self):
        return len(self.bin_boundaries) + 1

    def output_shape(self, input_shape):
        if self.bin_boundaries is None:
            raise ValueError(f"Discretization '{self.name}': pass bin_boundaries or call "
                             f"adapt before using the layer")
        if self.output_mode == "int":
            return input_shape
        depth = self._depth()
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return (*input_shape[:-1], depth)
            return (*input_shape, depth)
        if len(input_shape) > 2:
            raise NotImplementedError(f"Discretization '{self.name}': output_mode="
                                      f"{self.output_mode!r} on inputs of rank 3 or more (Keras's "
                                      f"own shapes disagree there); give (batch, features)")
        return (input_shape[0], depth) if len(input_shape) == 2 else (depth,)

    def call(self, params, state, x, *, training=False, rng=None):
        if self.bin_boundaries is None:
            self.output_shape(x.shape)
        if not jnp.issubdtype(x.dtype, jnp.floating):
            x = x.astype(jnp.float32)
        ids = jnp.digitize(x, jnp.asarray(self.bin_boundaries, x.dtype)).astype(jnp.int32)
        if self.output_mode == "int":
            return ids, state
        depth = self._depth()
        if self.output_mode == "one_hot":
            if ids.ndim > 1 and ids.shape[-1] == 1:
                ids = ids[..., 0]
            return jax.nn.one_hot(ids, depth, dtype=jnp.float32), state
        hot = jax.nn.one_hot(ids if ids.ndim > 1 else ids[None], depth, dtype=jnp.float32)
        counts = hot.sum(axis=1 if ids.ndim > 1 else (0, 1))
        if self.output_mode == "multi_hot":
            counts = (counts > 0).astype(jnp.float32)
        return counts, state

    def get_config(self):
        return {**super().get_config(), "bin_boundaries": self.bin_boundaries,
                "num_bins": self.num_bins, "epsilon": self.epsilon,
                "output_mode": self.output_mode, "sparse": self.sparse}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = list(boundaries)
            return layer
        return cls(**config)
