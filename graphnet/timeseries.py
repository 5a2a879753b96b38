"""Keras's `timeseries_dataset_from_array` without tf.data: windows over an array, in batches."""
import math

import numpy as np

from . import naming


def _check_int(value, name, low=None):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"timeseries_dataset_from_array: `{name}` must be an int, received "
                        f"{value!r}")
    if low is not None and value < low:
        raise ValueError(f"timeseries_dataset_from_array: `{name}` must be {low} or greater, "
                         f"received {name}={value}")
    return int(value)


class TimeseriesDataset:
    """The batches of windows `timeseries_dataset_from_array` describes: a re-iterable of
    `(x, y)` batches (or `x` alone without targets) that `fit`, `evaluate` and `predict`
    take; `len()` is the number of batches per pass.

    Each pass with `shuffle=True` draws a new order, as tf.data reshuffles each epoch."""

    def __init__(self, data, targets, starts, sequence_length, sampling_rate, batch_size,
                 shuffle, seed, format="tf"):
        self.data, self.targets, self.starts = data, targets, starts
        self.offsets = np.arange(sequence_length) * sampling_rate
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.format = format
        self.passes = 0

    def __len__(self):
        if self.batch_size is None:
            return len(self.starts)
        return math.ceil(len(self.starts) / self.batch_size)

    def _order(self):
        """The window order of this pass: the start positions as Keras shuffled them, then
        tf.data's shuffle buffer of `batch_size * 8` (1024 unbatched) windows, or, for
        `format="grain"`, a shuffle of all of them (grain's `MapDataset.shuffle`)."""
        if not self.shuffle:
            return self.starts
        rng = np.random.default_rng([self.seed, self.passes])
        if self.format == "grain":
            return self.starts[rng.permutation(len(self.starts))]
        buffer_size = 1024 if self.batch_size is None else self.batch_size * 8
        order, buffer, incoming = [], [], iter(self.starts)
        for start in incoming:                 # fill, then draw one and refill in its place
            buffer.append(start)
            if len(buffer) == buffer_size:
                order.append(buffer.pop(int(rng.integers(len(buffer)))))
        while buffer:
            order.append(buffer.pop(int(rng.integers(len(buffer)))))
        return np.asarray(order, self.starts.dtype)

    def _item(self, starts):
        x = self.data[starts[:, None] + self.offsets]
        if self.targets is None:
            return x
        return x, self.targets[starts]

    def __iter__(self):
        order = self._order()
        self.passes += 1
        if self.batch_size is None:
            for start in order:
                item = self._item(np.asarray([start]))
                yield item[0] if self.targets is None else (item[0][0], item[1][0])
            return
        for first in range(0, len(order), self.batch_size):
            yield self._item(order[first:first + self.batch_size])

    def __repr__(self):
        return (f"<TimeseriesDataset: {len(self.starts)} windows of {len(self.offsets)} steps, "
                f"{len(self)} batches>")


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None, format="tf"):
    """Keras `utils.timeseries_dataset_from_array`: windows of `sequence_length` steps taken
    every `sampling_rate` steps of `data[start_index:end_index]`, one starting every
    `sequence_stride` steps; window `i`'s target is `targets[start_index + start_i]`.

    Without shuffling the batches are Keras's, element for element. With `shuffle=True` the
    windows are Keras's and so is the first shuffle (the start positions, by NumPy's
    `RandomState(seed)`), but the second one, tf.data's shuffle buffer of `batch_size * 8`
    windows, is drawn by NumPy: the same buffer, another order within it. `format="grain"`
    (Keras's grain dataset) gives the same windows and batches; shuffled, all the windows are
    shuffled again each pass, as grain does, by NumPy.

    Raises:
        ValueError: an index, stride or rate out of range, or targets shorter than needed.

    Examples:
        >>> data = np.arange(10, dtype="float32")
        >>> batches = graphnet.utils.timeseries_dataset_from_array(data, None, sequence_length=3, batch_size=4)
        >>> [batch.shape for batch in batches]
        [(4, 3), (4, 3)]
    """
    data = np.asarray(data)
    if data.ndim == 0:
        raise ValueError("timeseries_dataset_from_array: `data` must be an array of steps, "
                         "received a scalar")
    sequence_length = _check_int(sequence_length, "sequence_length", 1)
    length = len(data)
    if start_index:
        start_index = _check_int(start_index, "start_index", 0)
        if start_index >= length:
            raise ValueError(f"timeseries_dataset_from_array: `start_index` must be lower than "
                             f"the length of the data. Received: start_index={start_index}, "
                             f"for data of length {length}")
    if end_index:
        end_index = _check_int(end_index, "end_index", 1)
        if start_index and end_index <= start_index:
            raise ValueError(f"timeseries_dataset_from_array: `end_index` must be higher than "
                             f"`start_index`. Received: start_index={start_index}, and "
                             f"end_index={end_index}")
        if end_index >= length:
            raise ValueError(f"timeseries_dataset_from_array: `end_index` must be lower than "
                             f"the length of the data. Received: end_index={end_index}, for "
                             f"data of length {length}")
    for name, value in (("sampling_rate", sampling_rate), ("sequence_stride", sequence_stride)):
        _check_int(value, name, 1)
        if value >= length:
            raise ValueError(f"timeseries_dataset_from_array: `{name}` must be lower than the "
                             f"length of the data. Received: {name}={value}, for data of "
                             f"length {length}")
    if format not in ("tf", "grain"):
        raise ValueError(f'timeseries_dataset_from_array: `format` should be either "tf" or '
                         f'"grain". Received: format={format!r}')
    if batch_size is not None:
        batch_size = _check_int(batch_size, "batch_size", 1)
    start_index = start_index or 0
    end_index = end_index or length
    count = end_index - start_index - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)
        count = min(count, len(targets))
        targets = targets[start_index:end_index]
    starts = np.arange(0, max(count, 0), sequence_stride,
                       dtype="int32" if count < 2147483647 else "int64")
    if shuffle:
        seed = naming.next_seed() % 1_000_000 if seed is None else _check_int(seed, "seed")
        np.random.RandomState(seed).shuffle(starts)
    return TimeseriesDataset(data[start_index:end_index], targets, starts, sequence_length,
                             sampling_rate, batch_size, bool(shuffle), seed, format)
