"""Keras's `text_dataset_from_directory` without tf.data: the files Keras lists, split and
labelled as Keras does, as re-iterable batches with a `map` like tf.data's."""
import math
import os

import numpy as np

from . import naming
from .directory_files import split_files

LABEL_MODES = ("int", "categorical", "binary", None)


class BatchDataset:
    """Batches of `(texts, labels)` (or texts alone): a re-iterable that `fit`, `evaluate`
    and `predict` take once mapped to arrays; `len()` is the number of batches per pass.

    Texts are bytes, as TensorFlow gives them; graphnet's text layers read them. Each pass
    with shuffling draws a new order, as tf.data reshuffles each epoch.
    """

    def __init__(self, paths, labels, label_mode, num_classes, batch_size, max_length,
                 shuffle, seed, class_names):
        self.paths, self.labels = list(paths), labels
        self.label_mode, self.num_classes = label_mode, num_classes
        self.batch_size, self.max_length = batch_size, max_length
        self.shuffle, self.seed = shuffle, seed
        self.class_names = class_names
        self.passes = 0

    def __len__(self):
        if self.batch_size is None:
            return len(self.paths)
        return math.ceil(len(self.paths) / self.batch_size)

    def _order(self):
        """This pass's order: tf.data's shuffle buffer of `batch_size * 8` files (1024
        unbatched), drawn by NumPy."""
        count = len(self.paths)
        if not self.shuffle:
            return list(range(count))
        rng = np.random.default_rng([self.seed, self.passes])
        size = 1024 if self.batch_size is None else self.batch_size * 8
        order, buffer = [], []
        for i in range(count):
            buffer.append(i)
            if len(buffer) == size:
                order.append(buffer.pop(int(rng.integers(len(buffer)))))
        while buffer:
            order.append(buffer.pop(int(rng.integers(len(buffer)))))
        return order

    def _read(self, path):
        with open(path, "rb") as f:
            data = f.read()
        return data if self.max_length is None else data[:self.max_length]

    def _labels(self, index):
        labels = np.asarray([self.labels[i] for i in index], "int32")
        if self.label_mode == "binary":
            return labels.astype("float32")[:, None]
        if self.label_mode == "categorical":
            return np.eye(self.num_classes, dtype="float32")[labels]
        return labels

    def _item(self, index):
        texts = np.empty(len(index), dtype=object)
        texts[:] = [self._read(self.paths[i]) for i in index]
        if self.label_mode is None:
            return texts
        return texts, self._labels(index)

    def __iter__(self):
        order = self._order()
        self.passes += 1
        if self.batch_size is None:
            for i in order:
                item = self._item([i])
                yield item[0] if self.label_mode is None else (item[0][0], item[1][0])
            return
        for first in range(0, len(order), self.batch_size):
            yield self._item(order[first:first + self.batch_size])

    def map(self, function, num_parallel_calls=None):
        """tf.data's `map`: `function` applied to each batch (a `(texts, labels)` batch is
        given as two arguments), lazily, on every pass."""
        return MappedDataset(self, function)

    def __repr__(self):
        return f"<BatchDataset: {len(self.paths)} files, {len(self)} batches>"


class MappedDataset:
    """A dataset with a function applied to each batch, on every pass (tf.data's `map`)."""

    def __init__(self, source, function):
        self.source, self.function = source, function
        self.class_names = getattr(source, "class_names", None)

    def __len__(self):
        return len(self.source)

    def __iter__(self):
        for item in self.source:
            yield self.function(*item) if isinstance(item, tuple) else self.function(item)

    def map(self, function, num_parallel_calls=None):
        """Another function after this one, as tf.data chains `map`s."""
        return MappedDataset(self, function)


def _files(directory, subdir, follow_links):
    """The .txt files under `directory/subdir`, walked and sorted as Keras walks them."""
    root_dir = os.path.join(directory, subdir)
    found = []
    for root, _, files in sorted(os.walk(root_dir, followlinks=follow_links),
                                 key=lambda w: w[0]):
        found.extend(os.path.join(root, f) for f in sorted(files)
                     if f.lower().endswith(".txt"))
    return found


def _index(directory, labels, class_names, follow_links):
    if labels == "inferred":
        subdirs = [d for d in sorted(os.listdir(directory))
                   if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
        if class_names is not None:
            if not set(class_names).issubset(subdirs):
                raise ValueError(f"text_dataset_from_directory: class_names {class_names} do "
                                 f"not match the subdirectories of {directory!r}: expected "
                                 f"{subdirs} (or a subset)")
            subdirs = list(class_names)
        paths, found = [], []
        for index, subdir in enumerate(subdirs):
            files = _files(directory, subdir, follow_links)
            paths += files
            found += [index] * len(files)
        return paths, np.asarray(found, "int32"), subdirs
    paths = _files(directory, "", follow_links)
    if labels is None:
        return paths, None, None
    if len(labels) != len(paths):
        raise ValueError(f"text_dataset_from_directory: {len(labels)} labels for {len(paths)} "
                         f"files in {directory!r}; give one label per file")
    return paths, np.asarray(labels), [str(v) for v in sorted(set(labels))]


def text_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                class_names=None, batch_size=32, max_length=None,
                                shuffle=True, seed=None, validation_split=None, subset=None,
                                follow_links=False, format="tf", verbose=True):
    """Keras `utils.text_dataset_from_directory`: batches of (texts, labels) from the .txt
    files of `directory`'s class subfolders.

    The files, their labels, `class_names` and the training/validation split are Keras's
    for the same seed (the file list is shuffled by NumPy's `RandomState(seed)`, as Keras
    does); what differs is the order within an epoch when shuffling, which tf.data draws
    from a buffer of `batch_size * 8` files and graphnet draws from the same buffer with
    NumPy. `max_length` cuts each text to that many bytes, as TensorFlow does. `format` is
    accepted ("tf" or "grain"); both give the same batches here.

    Returns:
        A `BatchDataset` (with `class_names`), or a (training, validation) pair when
        `subset="both"`.

    Raises:
        ValueError: an argument out of Keras's range, labels that do not fit the files, or
            a directory with no .txt file.

    Examples:
        >>> import pathlib, tempfile
        >>> from graphnet.utils import text_dataset_from_directory
        >>> root = pathlib.Path(tempfile.mkdtemp())
        >>> for label, text in [("neg", "dull"), ("pos", "great")]:
        ...     (root / label).mkdir()
        ...     _ = (root / label / "review.txt").write_text(text)
        >>> dataset = text_dataset_from_directory(root, batch_size=2, shuffle=False)
        Found 2 files belonging to 2 classes.
        >>> dataset.class_names
        ['neg', 'pos']
        >>> texts, labels = next(iter(dataset))
        >>> texts.tolist(), labels.tolist()
        ([b'dull', b'great'], [0, 1])
    """
    who = "text_dataset_from_directory"
    if labels not in ("inferred", None):
        if not isinstance(labels, (list, tuple)):
            raise ValueError(f"{who}: labels must be 'inferred', None or a list of integer "
                             f"labels, one per file; received {labels!r}")
        if class_names:
            raise ValueError(f"{who}: class_names can only be given with labels='inferred'")
    if label_mode not in LABEL_MODES:
        raise ValueError(f"{who}: label_mode must be one of {LABEL_MODES}, received "
                         f"{label_mode!r}")
    if format not in ("tf", "grain"):
        raise ValueError(f"{who}: format must be 'tf' or 'grain', received {format!r}")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{who}: directory {directory!r} does not exist")
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if validation_split and not 0 < validation_split < 1:
        raise ValueError(f"{who}: validation_split must be between 0 and 1, received "
                         f"{validation_split}")
    if bool(validation_split) != bool(subset):
        raise ValueError(f"{who}: give validation_split and subset together")
    if subset not in ("training", "validation", "both", None):
        raise ValueError(f"{who}: subset must be 'training', 'validation' or 'both', received "
                         f"{subset!r}")
    if validation_split and shuffle and seed is None:
        raise ValueError(f"{who}: with validation_split and shuffle=True give a seed, so the "
                         f"training and validation files do not overlap")
    if seed is None:
        seed = naming.next_seed() % 1_000_000
    paths, found, names = _index(directory, labels, class_names, follow_links)
    return split_files(
        paths, found, names, labels=labels, label_mode=label_mode, shuffle=shuffle, seed=seed,
        validation_split=validation_split, subset=subset, verbose=verbose, who=who,
        empty=lambda which: (f"{who}: no {'' if which is None else which + ' '}text files in "
                             f"{directory!r} (Allowed format: .txt)"),
        make=lambda chosen, chosen_labels, shuffled: BatchDataset(
            chosen, chosen_labels, label_mode, len(names or ()), batch_size, max_length,
            shuffled, seed, names))
