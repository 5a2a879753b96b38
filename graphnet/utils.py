"""Small user-facing helpers (Keras's `keras.utils`)."""
import numpy as np

from . import naming
from .plot import plot_model
from .text_data import text_dataset_from_directory
from .timeseries import timeseries_dataset_from_array


def set_random_seed(seed: int) -> None:
    """Seed everything graphnet draws: initial weights, dropout and shuffling.

    Examples:
        >>> graphnet.utils.set_random_seed(42)
        >>> a = layers.Dense(2)(graphnet.Input(shape=(3,)))
    """
    if not isinstance(seed, (int, np.integer)) or isinstance(seed, bool):
        raise TypeError(f"set_random_seed expects an int, received {type(seed).__name__}")
    naming.reset(int(seed))


def to_categorical(y, num_classes=None, dtype="float32"):
    """One-hot encode integer labels, as `keras.utils.to_categorical`.

    Examples:
        >>> graphnet.utils.to_categorical([0, 2, 1], num_classes=3)
        array([[1., 0., 0.],
               [0., 0., 1.],
               [0., 1., 0.]], dtype=float32)
    """
    y = np.asarray(y, dtype="int64")
    shape = y.shape[:-1] if y.ndim > 1 and y.shape[-1] == 1 else y.shape
    y = y.reshape(-1)
    num_classes = int(y.max()) + 1 if num_classes is None else num_classes
    out = np.zeros((y.size, num_classes), dtype=dtype)
    out[np.arange(y.size), y] = 1
    return out.reshape(*shape, num_classes)


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Keras's `pad_sequences`: sequences of different lengths as one array.

    Args:
        sequences: a list of sequences (lists or arrays; their items may be arrays of one
            shape).
        maxlen: the length of the result; None: the longest sequence's.
        dtype: the result's dtype (`object` for text).
        padding: "pre" or "post": where `value` fills a shorter sequence.
        truncating: "pre" or "post": where a longer sequence is cut.
        value: the fill value.

    Returns:
        A NumPy array of shape (len(sequences), maxlen, *item shape).

    Raises:
        ValueError: `padding` or `truncating` is not "pre"/"post", the items' shapes differ,
            or `value` is a string for a non-text dtype.

    Examples:
        >>> graphnet.utils.pad_sequences([[1, 2], [3, 4, 5]], maxlen=3)
        array([[0, 1, 2],
               [3, 4, 5]], dtype=int32)
    """
    if padding not in ("pre", "post"):
        raise ValueError(f"pad_sequences: padding must be 'pre' or 'post', received {padding!r}")
    if truncating not in ("pre", "post"):
        raise ValueError(f"pad_sequences: truncating must be 'pre' or 'post', received "
                         f"{truncating!r}")
    try:
        lengths = [len(s) for s in sequences]
    except TypeError:
        raise ValueError("pad_sequences: `sequences` must be a list of sequences (each with a "
                         "length)") from None
    sample_shape = ()
    for s in sequences:
        if len(s):
            sample_shape = np.asarray(s).shape[1:]
            break
    maxlen = max(lengths, default=0) if maxlen is None else int(maxlen)
    is_text = np.issubdtype(np.dtype(dtype), np.str_) or np.issubdtype(np.dtype(dtype),
                                                                          np.object_)
    if isinstance(value, str) and not is_text:
        raise ValueError(f"pad_sequences: value {value!r} is a string but dtype {dtype!r} is "
                         f"not; pass dtype=object for text")
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or maxlen == 0:
            continue
        s = np.asarray(s, dtype=dtype)
        if s.shape[1:] != sample_shape:
            raise ValueError(f"pad_sequences: sequence {i} has items of shape {s.shape[1:]}, "
                             f"expected {sample_shape} like the first non-empty sequence")
        s = s[-maxlen:] if truncating == "pre" else s[:maxlen]
        if padding == "post":
            out[i, :len(s)] = s
        else:
            out[i, maxlen - len(s):] = s
    return out


def _split_sizes(left_size, right_size, total):
    """Keras's split sizes: an int is a count, a float a fraction; one may be None."""
    for name, size in (("left_size", left_size), ("right_size", right_size)):
        if size is not None and (type(size) not in (int, float)
                                 or size <= 0 or (type(size) is int and size >= total)
                                 or (type(size) is float and size >= 1)):
            raise ValueError(f"split_dataset: {name} must be None, a positive int smaller than "
                             f"the dataset's length {total}, or a float in (0, 1); received "
                             f"{size!r}")
    if left_size is None and right_size is None:
        raise ValueError("split_dataset: give left_size, right_size or both")
    if type(left_size) is float and type(right_size) is float and left_size + right_size > 1:
        raise ValueError(f"split_dataset: left_size + right_size must be at most 1, received "
                         f"{left_size} + {right_size}")
    left = round(left_size * total) if type(left_size) is float else left_size
    right = round(right_size * total) if type(right_size) is float else right_size
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total or left == 0 or right == 0:
        raise ValueError(f"split_dataset: sizes {left} and {right} do not split a dataset of "
                         f"length {total} into two non-empty parts")
    return int(left), int(right)


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Keras's `split_dataset` for arrays: two parts of a dataset, e.g. train and test.

    Args:
        dataset: an array, or a tuple, list or dict of arrays of one length.
        left_size: the first part's size: an int (samples) or a float in (0, 1) (a
            fraction); None: what `right_size` leaves.
        right_size: the second part's size, likewise; None: what `left_size` leaves.
        shuffle: shuffle the samples before splitting.
        seed: the shuffle's seed; None: the next draw of graphnet's global seed.

    Returns:
        `(left, right)`, each of the dataset's structure: the first `left_size` samples
        and the last `right_size`.

    Raises:
        ValueError: the arrays' lengths differ, or the sizes do not split the dataset into
            two non-empty parts.

    Examples:
        >>> left, right = graphnet.utils.split_dataset(np.arange(10), left_size=0.8)
        >>> len(left), len(right)
        (8, 2)
    """
    import jax
    leaves, treedef = jax.tree_util.tree_flatten(dataset)
    if not leaves:
        raise ValueError("split_dataset: the dataset holds no arrays")
    leaves = [np.asarray(a) for a in leaves]
    total = len(leaves[0])
    if any(len(a) != total for a in leaves):
        raise ValueError(f"split_dataset: every array must have the same length, received "
                         f"lengths {[len(a) for a in leaves]}")
    left, right = _split_sizes(left_size, right_size, total)
    order = np.arange(total)
    if shuffle:
        order = np.random.default_rng(seed if seed is not None else naming.next_seed()
                                      ).permutation(total)
    pick_left, pick_right = order[:left], order[total - right:]
    return (treedef.unflatten([a[pick_left] for a in leaves]),
            treedef.unflatten([a[pick_right] for a in leaves]))


class PyDataset:
    """Keras's `PyDataset`: subclass it with `__len__` (batches per epoch) and
    `__getitem__(index)` returning one batch `(x, y)` or `(x, y, sample_weight)`;
    `on_epoch_end()` runs after each full pass. `fit`, `evaluate` and `predict` take it
    like any re-iterable of batches. (Keras's `workers`/`use_multiprocessing` are accepted
    and ignored: batches are read on the host while the device runs the previous chunk.)

    Examples:
        >>> class Ones(graphnet.utils.PyDataset):
        ...     def __len__(self):
        ...         return 2
        ...     def __getitem__(self, index):
        ...         return np.ones((4, 3), dtype="float32"), np.ones((4, 1), dtype="float32")
        ...
        >>> len(Ones())
        2
        >>> Ones()[0][0].shape
        (4, 3)
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers, self.use_multiprocessing = workers, use_multiprocessing
        self.max_queue_size = max_queue_size

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__ (the number of "
                                  f"batches per epoch)")

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index) "
                                  f"returning one batch")

    @property
    def num_batches(self):
        """The number of batches per epoch (`len(dataset)`).

        Examples:
            >>> class Three(graphnet.utils.PyDataset):
            ...     def __len__(self):
            ...         return 3
            ...
            >>> Three().num_batches
            3
        """
        return len(self)

    def on_epoch_end(self):
        """Called after each full pass (e.g. to reshuffle); does nothing unless overridden.

        Examples:
            >>> class Counting(graphnet.utils.PyDataset):
            ...     passes = 0
            ...     def __len__(self):
            ...         return 2
            ...     def __getitem__(self, index):
            ...         return np.full((1, 1), index, "float32"), np.zeros((1, 1), "float32")
            ...     def on_epoch_end(self):
            ...         self.passes += 1
            ...
            >>> data = Counting()
            >>> [int(x[0, 0]) for x, y in data]   # one full pass, as each epoch of fit makes
            [0, 1]
            >>> data.passes
            1
        """

    def __iter__(self):
        for index in range(len(self)):
            yield self[index]
        self.on_epoch_end()


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=200, subgraph=False,
                 show_layer_activations=False, show_trainable=False, **kwargs):
    """Keras's `model_to_dot`, as DOT text (Keras returns a pydot graph, which needs the
    system's Graphviz; `plot_model` draws the picture without it)."""
    from .plot.dot import to_dot
    return to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                  show_layer_names=show_layer_names,
                  show_layer_activations=show_layer_activations,
                  show_trainable=show_trainable, expand_nested=expand_nested, rankdir=rankdir)


Sequence = PyDataset          # Keras's older name for PyDataset

from .general_utils import (  # noqa: E402,F401  (Keras's general utils)
    Config, CustomObjectScope, Progbar, clear_session, custom_object_scope,
    deserialize_keras_object, disable_interactive_logging, enable_interactive_logging,
    get_custom_objects, get_file, get_registered_name, get_registered_object,
    get_source_inputs, is_interactive_logging_enabled, is_keras_tensor, normalize,
    pack_x_y_sample_weight, register_keras_serializable, serialize_keras_object,
    standardize_dtype, unpack_x_y_sample_weight)
from .image_utils import (  # noqa: E402,F401  (Keras's image utils)
    ImageBatchDataset, array_to_img, image_dataset_from_directory, img_to_array, load_img,
    save_img)
