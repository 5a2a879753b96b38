"""compile(devices=...): the devices, the mesh, and where batches and weights are placed.

`None` keeps the single-device path exactly as it was: no placement object exists. Otherwise
every batch is split along the mesh's first axis (the data axis) with a NamedSharding and
everything else (params, state, optimizer and metric state) is replicated. The compiled
chunk stays one jitted function: GSPMD partitions it from the shardings of its arguments, so
a batch mean is the global mean and gradients come out averaged over all devices, with the
same numbers as on one device up to float rounding.

A batch whose size does not divide by the number of data devices (the ragged last batch, or
a whole small dataset) is placed replicated: every device computes it whole, which is exact.
The regular batch size must divide; `check_batch_size` says which sizes work.
"""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec


def resolve(devices):
    """None, or the Placement for "all", a list of jax devices, or a Mesh."""
    if devices is None:
        return None
    if isinstance(devices, Mesh):
        return Placement(devices)
    if isinstance(devices, str):
        if devices != "all":
            raise ValueError(f"compile: devices must be None, 'all', a list of jax devices or a "
                             f"jax.sharding.Mesh, received {devices!r}")
        devices = jax.devices()
    if not isinstance(devices, (list, tuple)) or not devices:
        raise TypeError(f"compile: devices must be None, 'all', a non-empty list of jax devices "
                        f"or a jax.sharding.Mesh, received {type(devices).__name__}")
    bad = [d for d in devices if not isinstance(d, jax.Device)]
    if bad:
        raise TypeError(f"compile: devices must be jax devices (from jax.devices()), received "
                        f"{bad[0]!r}")
    if len(set(devices)) != len(devices):
        raise ValueError(f"compile: devices lists a device twice: {list(devices)}")
    return Placement(Mesh(np.array(devices), ("data",)))


def _pad_rows(a, rows):
    if a.shape[0] == rows:
        return a
    pad = [(0, rows - a.shape[0])] + [(0, 0)] * (a.ndim - 1)
    return jnp.pad(a, pad) if isinstance(a, jax.Array) else np.pad(a, pad)


class Placement:
    """Shardings on one mesh whose first axis splits the batch."""

    def __init__(self, mesh: Mesh):
        self.mesh = mesh
        self.axis = mesh.axis_names[0]
        self.size = int(mesh.shape[self.axis])
        self.replicated = NamedSharding(mesh, PartitionSpec())
        self.rows = NamedSharding(mesh, PartitionSpec(self.axis))             # (n, ...)
        self.stacked = NamedSharding(mesh, PartitionSpec(None, self.axis))    # (steps, B, ...)
        self.multi_process = jax.process_count() > 1

    def __repr__(self):
        return f"<Placement {self.size} device(s) on data axis '{self.axis}'>"

    # ---- checks --------------------------------------------------------------------------
    def check_batch_size(self, batch_size: int, n: int, who: str) -> int:
        """The batch size to cut with: a multiple of the device count (else a ValueError
        naming the sizes that work), or all n samples when fewer than one batch."""
        if batch_size >= n:
            return n
        if batch_size % self.size:
            lower = batch_size - batch_size % self.size
            options = ", ".join(str(b) for b in (lower, lower + self.size) if b > 0)
            raise ValueError(f"{who}: batch_size={batch_size} does not divide over the "
                             f"{self.size} devices of the data axis '{self.axis}'; use a "
                             f"multiple of {self.size} (e.g. {options})")
        return batch_size

    def split_batch(self, size: int):
        """The sharding of a (steps, size, ...) stack: split when size divides, else whole
        on every device."""
        return self.stacked if size % self.size == 0 else self.replicated

    # ---- placing -------------------------------------------------------------------------
    def replicate(self, tree):
        """Params, state and the like on every device (no copy if already there)."""
        return jax.device_put(tree, self.replicated)

    def _local(self, sharding, a):
        return jax.make_array_from_process_local_data(sharding, a)

    def put_rows(self, tree, who: str):
        """Sample arrays split along their first axis: (global arrays, global sample count).

        One process: padded with zero rows to a multiple of the device count (the padding
        is never read: batches are cut from the first n rows). Several processes: each
        host passes its own rows, which must divide by its local devices on the data axis.
        """
        n = jax.tree_util.tree_leaves(tree)[0].shape[0]
        if not self.multi_process:
            rows = -(-n // self.size) * self.size
            return jax.tree_util.tree_map(
                lambda a: self._local(self.rows, _pad_rows(a, rows)), tree), n
        local = self.size // jax.process_count()
        if n % local:
            raise ValueError(f"{who}: this process holds {n} samples, which does not divide "
                             f"over its {local} local devices of the data axis; with several "
                             f"processes give each the same multiple of {local}")
        placed = jax.tree_util.tree_map(lambda a: self._local(self.rows, a), tree)
        return placed, jax.tree_util.tree_leaves(placed)[0].shape[0]

    def put_stacked(self, tree):
        """Host-stacked batches (steps, B, ...) from an iterable: split when B divides."""
        def put(a):
            sharding = self.split_batch(a.shape[1])
            if sharding is self.stacked:
                return self._local(sharding, a)
            if self.multi_process:
                raise ValueError(f"fit: with several processes every batch of an iterable "
                                 f"must divide over the {self.size} devices; one has "
                                 f"{a.shape[1]} samples")
            return jax.device_put(a, sharding)
        return jax.tree_util.tree_map(put, tree)

    def put_batch(self, arrays):
        """One predict batch (B, ...) with B a multiple of the device count."""
        if self.multi_process:
            raise ValueError("predict: a model compiled with devices= across several "
                             "processes does not predict data-parallel; save it and predict "
                             "on one process with a model compiled with devices=None")
        return [self._local(self.rows, a) for a in arrays]

    def round_up(self, size: int) -> int:
        return -(-size // self.size) * self.size
