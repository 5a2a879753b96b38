"""Where fit's and evaluate's batches come from: arrays on the device, an iterable of
batches, or a window of `steps_per_epoch` batches over either."""
from __future__ import annotations

import itertools
import warnings

import jax
import numpy as np

from .. import losses as losses_module
from . import data as data_module

def is_batches(x, y):
    """fit(x) with y None: x must be an iterable of (x, y) batches."""
    return y is None and not isinstance(x, (np.ndarray, jax.Array, dict))


class ArraySource:
    """Arrays on the device; chunks of K batches, then a ragged tail that keeps its own size
    when it cannot be masked. Each chunk is (data, start, count, offset, rows): `rows` is
    (index of the padded batch in `data`, its real rows), or None."""

    def __init__(self, batch, batch_size, shuffle, placement=None, who="fit", pad_tail=False,
                 one_hot_check=()):
        self.data = data_module.DeviceData(batch, batch_size, shuffle, placement, who, pad_tail)
        self.steps = self.data.steps
        self.shapes = batch
        # Of the outputs `one_hot_check` names, those whose targets are all one-hot rows.
        self.one_hot = frozenset(i for i in one_hot_check
                                 if losses_module.one_hot_rows(batch[1][i]))

    def chunks(self, k, key=None):
        stacked, tail = self.data.epoch(key)
        steps, rows = self.data.stacked_steps, self.data.rows
        for start in range(0, steps, k):
            yield stacked, start, min(k, steps - start), 0, rows
        if tail is not None:
            yield tail, 0, 1, steps, None


class IterableSource:
    """An iterable of (x, y[, sample_weight]) batches, stacked K at a time on the host."""

    one_hot = frozenset()          # batches not seen yet: nothing is known about them

    def __init__(self, source, trainer, who):
        self.source, self.view, self.spec, self.who = source, trainer.view(), trainer.spec, who
        placement = trainer.placement
        self.put = jax.device_put if placement is None else placement.put_stacked
        self.steps = len(source) if hasattr(source, "__len__") else None
        self.used = False
        first = self._peek()
        self.shapes = data_module.as_batch(first, self.view, self.spec, who)

    def _peek(self):
        iterator = iter(self.source)
        try:
            first = next(iterator)
        except StopIteration:
            raise ValueError(f"{self.who}: the iterable of batches is empty") from None
        self._pending = itertools.chain([first], iterator)
        return first

    def take_pending(self):
        """The iterator whose first batch was peeked at to learn the shapes, once; then None."""
        pending, self._pending = self._pending, None
        return pending

    def chunks(self, k, key=None):
        if self._pending is None:
            iterator = iter(self.source)
            if iterator is self.source:
                raise ValueError(f"{self.who}: the iterator of batches was used up after one "
                                 f"epoch; pass a re-iterable (a list, or an object whose "
                                 f"__iter__ starts over) to train for several epochs")
        else:
            iterator, self._pending = self._pending, None
        for data, count, offset in data_module.batch_chunks(iterator, self.view, self.spec, k,
                                                            self.who, self.put):
            yield data, 0, count, offset, None


_END = object()


class EpochWindow:
    """fit(steps_per_epoch=N), as Keras: each epoch takes the next N batches, continuing
    where the previous epoch stopped. An epoch that reaches the end of a pass over the
    data stops there (with a warning when it is short of N batches) and the next epoch
    starts a new pass (reshuffled); an iterator that cannot start over ends training.
    Batch indices given to callbacks count from 0 in every epoch."""

    def __init__(self, source, steps_per_epoch: int, who="fit"):
        self.source, self.steps, self.who = source, int(steps_per_epoch), who
        self.shapes, self.one_hot = source.shapes, source.one_hot
        self.position = 0              # batches of the current pass already used
        self.pass_data = None          # arrays: the current pass's (stacked, tail)
        self.iterator = None           # iterables: the current pass's iterator
        self.exhausted = False         # a one-shot iterator ran out: no more epochs

    def chunks(self, k, key=None):
        if isinstance(self.source, ArraySource):
            yield from self._array_chunks(k, key)
        else:
            yield from self._iterable_chunks(k)

    def _array_chunks(self, k, key):
        data = self.source.data
        if self.position == 0:
            self.pass_data = data.epoch(key)
        stacked, tail = self.pass_data
        lo = self.position
        hi = min(lo + self.steps, data.steps)
        stacked_hi = min(hi, data.stacked_steps)
        for start in range(lo, stacked_hi, k):
            yield stacked, start, min(k, stacked_hi - start), -lo, data.rows
        if hi > data.stacked_steps:        # an unmasked ragged tail ends this epoch
            yield tail, 0, 1, data.stacked_steps - lo, None
        self._advance(hi - lo, ended=hi == data.steps)

    def _iterable_chunks(self, k):
        one_shot = iter(self.source.source) is self.source.source
        for _ in range(2):
            if self.iterator is None:
                self.iterator, self.position = self._fresh_iterator(), 0
            used = 0
            window = itertools.islice(self.iterator, self.steps)
            for data, count, offset in data_module.batch_chunks(
                    window, self.source.view, self.source.spec, k, self.who, self.source.put):
                used += count
                yield data, 0, count, offset, None
            if used or one_shot:
                break
            self.iterator = None         # a re-iterable ended on the last epoch's boundary
        length = self.source.steps       # len() of the iterable, or None
        ended = used < self.steps or (length is not None and self.position + used >= length)
        if one_shot and not ended:       # peek: a generator that has just ended ends training
            following = next(self.iterator, _END)
            ended = following is _END
            if not ended:
                self.iterator = itertools.chain([following], self.iterator)
        if ended:
            self.iterator = None
            self.exhausted = one_shot
        self._advance(used, ended)

    def _fresh_iterator(self):
        pending = self.source.take_pending()
        return iter(self.source.source) if pending is None else pending

    def _advance(self, used, ended):
        if ended and (used < self.steps or self.exhausted):
            warnings.warn(f"{self.who}: the data ran out after {used} of the "
                          f"steps_per_epoch={self.steps} batches of this epoch; "
                          + ("training stops: pass a re-iterable (a list, a PyDataset) or an "
                             "endless generator to train longer" if self.exhausted else
                             "the next epoch starts a new pass over the data"), stacklevel=4)
        self.position = 0 if ended else self.position + used


def shapes(source, view):
    xs, ys, _ = source.shapes
    return ([None if y is None else tuple(y.shape) for y in ys],
            [tuple(t.shape) for t in view.outputs])


def make_source(trainer, x, y, sample_weight, class_weight, batch_size, shuffle, who):
    if is_batches(x, y):
        if sample_weight is not None or class_weight is not None:
            raise ValueError(f"{who}: with an iterable of batches, give sample weights inside "
                             f"the batches as (x, y, sample_weight)")
        return IterableSource(x, trainer, who)
    batch = data_module.prepare(trainer.view(), trainer.spec, x, y, sample_weight, class_weight, who)
    return ArraySource(batch, batch_size, shuffle, trainer.placement, who, trainer.pad_tail,
                       trainer.one_hot_candidates())


def validation_source(trainer, validation_data, batch_size):
    who = "fit (validation_data)"
    if isinstance(validation_data, (tuple, list)) and len(validation_data) in (2, 3) \
            and not _is_batch_list(validation_data):
        vx, vy, *vsw = validation_data
        batch = data_module.prepare(trainer.view(), trainer.spec, vx, vy, vsw[0] if vsw else None,
                                    None, who)
        return ArraySource(batch, batch_size, False, trainer.placement, who, trainer.pad_tail,
                           trainer.one_hot_candidates())
    return IterableSource(validation_data, trainer, who)


def _is_batch_list(value) -> bool:
    """A list whose items are (x, y) batches, rather than [x, y] arrays."""
    return isinstance(value, list) and all(isinstance(v, tuple) and len(v) in (2, 3)
                                           for v in value)
