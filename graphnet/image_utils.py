"""Keras's image utilities: PIL images to arrays and back, files to images, and
`image_dataset_from_directory` without tf.data.

Pillow reads and writes the files; it is an optional extra (the `images` extra),
imported when one of these functions is first called.
"""
import io
import os
import pathlib
import warnings

import numpy as np

from . import naming
from .ops import image as image_ops
from .directory_files import split_files
from .text_data import LABEL_MODES, BatchDataset

ALLOWLIST_FORMATS = (".bmp", ".gif", ".jpeg", ".jpg", ".png")
CHANNELS = {"rgb": 3, "rgba": 4, "grayscale": 1}
DATASET_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5",
                          "gaussian", "mitchellcubic")


def _pil(who):
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError(f"{who} reads and writes images with Pillow, which is not installed: "
                          f"pip install pillow (the 'images' extra)") from error
    return Image


def _pil_resampling(Image):
    resampling = getattr(Image, "Resampling", Image)
    return {"nearest": resampling.NEAREST, "bilinear": resampling.BILINEAR,
            "bicubic": resampling.BICUBIC, "hamming": resampling.HAMMING,
            "box": resampling.BOX, "lanczos": resampling.LANCZOS}


def _layout(data_format, who):
    if data_format not in (None, "channels_last", "channels_first"):
        raise ValueError(f"{who}: data_format must be 'channels_last' or 'channels_first', "
                         f"received {data_format!r}")
    return data_format == "channels_first"


def array_to_img(x, data_format=None, scale=True, dtype=None):
    """Keras `utils.array_to_img`: one image `(height, width, 1 | 3 | 4)` as a PIL image.

    With `scale=True` the values are stretched to [0, 255] first (minimum to 0, maximum to
    255); the cast to uint8 then truncates, as Keras's does.

    Example:
        >>> from graphnet import utils
        >>> utils.array_to_img(np.zeros((2, 3, 3))).size
        (3, 2)
    """
    Image = _pil("array_to_img")
    first = _layout(data_format, "array_to_img")
    x = np.asarray(x, dtype=dtype or "float32")
    if x.ndim != 3:
        raise ValueError(f"array_to_img expects one image of rank 3, received shape {x.shape}")
    if first:
        x = x.transpose(1, 2, 0)
    if scale:
        x = x - np.min(x)
        if np.max(x) != 0:
            x /= np.max(x)
        x *= 255
    channels = x.shape[2]
    if channels in (3, 4):
        return Image.fromarray(x.astype("uint8"), "RGBA" if channels == 4 else "RGB")
    if channels == 1:
        if np.max(x) > 255:
            return Image.fromarray(x[:, :, 0].astype("int32"), "I")
        return Image.fromarray(x[:, :, 0].astype("uint8"), "L")
    raise ValueError(f"array_to_img expects 1, 3 or 4 channels, received shape {x.shape}")


def img_to_array(img, data_format=None, dtype=None):
    """Keras `utils.img_to_array`: a PIL image as a float32 array `(height, width,
    channels)`; a one-band image gets a channel axis of 1.

    Example:
        >>> from graphnet import utils
        >>> utils.img_to_array(utils.array_to_img(np.zeros((2, 3, 1)))).shape
        (2, 3, 1)
    """
    first = _layout(data_format, "img_to_array")
    x = np.asarray(img, dtype=dtype or "float32")
    if x.ndim == 2:
        x = x[None] if first else x[:, :, None]
    elif x.ndim == 3:
        x = x.transpose(2, 0, 1) if first else x
    else:
        raise ValueError(f"img_to_array: unsupported image shape {x.shape}")
    return x


def save_img(path, x, data_format=None, file_format=None, scale=True, **kwargs):
    """Keras `utils.save_img`: an image array written to `path` (or a file object) in the
    format its ending names, or `file_format`.

    Example:
        >>> import tempfile, os
        >>> from graphnet import utils
        >>> path = os.path.join(tempfile.mkdtemp(), "black.png")
        >>> utils.save_img(path, np.zeros((2, 3, 3)))
        >>> utils.load_img(path).size
        (3, 2)
    """
    if file_format is None and isinstance(path, (str, pathlib.Path)):
        file_format = pathlib.Path(path).suffix[1:].lower()
    if file_format and file_format.lower() == "jpg":
        file_format = "jpeg"
    img = array_to_img(x, data_format=data_format, scale=scale)
    if img.mode == "RGBA" and file_format == "jpeg":
        warnings.warn("save_img: JPEG has no alpha channel; the RGBA image is saved as RGB",
                      stacklevel=2)
        img = img.convert("RGB")
    img.save(path, format=file_format or None, **kwargs)


def _convert(img, color_mode, who):
    if color_mode == "grayscale":
        return img if img.mode in ("L", "I;16", "I") else img.convert("L")
    if color_mode in ("rgb", "rgba"):
        mode = color_mode.upper()
        return img if img.mode == mode else img.convert(mode)
    raise ValueError(f"{who}: color_mode must be 'grayscale', 'rgb' or 'rgba', received "
                     f"{color_mode!r}")


def load_img(path, color_mode="rgb", target_size=None, interpolation="nearest",
             keep_aspect_ratio=False):
    """Keras `utils.load_img`: an image file as a PIL image, converted to `color_mode` and
    resized by Pillow to `target_size = (height, width)` when given.

    `keep_aspect_ratio=True` resizes the largest centred crop of the target's aspect ratio
    instead of stretching, as Keras does.

    Example:
        >>> import tempfile, os
        >>> from graphnet import utils
        >>> path = os.path.join(tempfile.mkdtemp(), "grey.png")
        >>> utils.save_img(path, np.ones((4, 6, 1)), scale=False)
        >>> utils.img_to_array(utils.load_img(path, target_size=(2, 3))).shape
        (2, 3, 3)
    """
    Image = _pil("load_img")
    if isinstance(path, io.BytesIO):
        img = Image.open(path)
    elif isinstance(path, (pathlib.Path, bytes, str)):
        with open(path, "rb") as f:
            img = Image.open(io.BytesIO(f.read()))
    else:
        raise TypeError(f"load_img: path must be a path or an io.BytesIO, received "
                        f"{type(path).__name__}")
    img = _convert(img, color_mode, "load_img")
    if target_size is None:
        return img
    size = (target_size[1], target_size[0])
    if img.size == size:
        return img
    methods = _pil_resampling(Image)
    if interpolation not in methods:
        raise ValueError(f"load_img: interpolation must be one of {tuple(methods)}, received "
                         f"{interpolation!r}")
    if not keep_aspect_ratio:
        return img.resize(size, methods[interpolation])
    width, height = img.size
    crop_h = min(height, (width * size[1]) // size[0])
    crop_w = min(width, (height * size[0]) // size[1])
    top, left = (height - crop_h) // 2, (width - crop_w) // 2
    return img.resize(size, methods[interpolation], box=[left, top, left + crop_w, top + crop_h])


class ImageBatchDataset(BatchDataset):
    """Batches of `(images, labels)` (or images alone) from image files: float32 arrays
    `(batch, height, width, channels)`, a re-iterable that `fit`, `evaluate` and `predict`
    take; `len()` is the number of batches per pass.

    `decode(path)` gives one image's array; `image_dataset_from_directory` makes these.

    Example:
        >>> from graphnet import utils
        >>> data = utils.ImageBatchDataset(["a.png", "b.png"], [0, 1], "categorical", 2,
        ...                                batch_size=2, shuffle=False, seed=0,
        ...                                class_names=["a", "b"],
        ...                                decode=lambda path: np.zeros((3, 3, 1), "float32"))
        >>> images, labels = next(iter(data))
        >>> images.shape, labels.tolist()
        ((2, 3, 3, 1), [[1.0, 0.0], [0.0, 1.0]])
    """

    def __init__(self, paths, labels, label_mode, num_classes, batch_size, shuffle, seed,
                 class_names, decode):
        super().__init__(paths, labels, label_mode, num_classes, batch_size, None, shuffle,
                         seed, class_names)
        self.decode = decode

    def _item(self, index):
        images = np.stack([self.decode(self.paths[i]) for i in index])
        if self.label_mode is None:
            return images
        return images, self._labels(index)

    def __repr__(self):
        return f"<ImageBatchDataset: {len(self.paths)} images, {len(self)} batches>"


def _readable(path, Image):
    """Whether Pillow can read `path`'s header; a file it cannot is skipped, with a warning."""
    try:
        with Image.open(path) as img:
            img.verify()
        return True
    except Exception as error:  # noqa: BLE001  (Pillow raises many kinds for a bad file)
        warnings.warn(f"image_dataset_from_directory: skipping {path}: Pillow cannot read it "
                      f"({type(error).__name__}: {error})", stacklevel=3)
        return False


def _image_files(directory, follow_links, Image):
    found = []
    for root, _, files in sorted(os.walk(directory, followlinks=follow_links),
                                 key=lambda w: w[0]):
        found += [os.path.join(root, f) for f in sorted(files)
                  if f.lower().endswith(ALLOWLIST_FORMATS)]
    return [p for p in found if _readable(p, Image)]


def _index(directory, labels, class_names, follow_links, Image, who):
    if labels != "inferred":
        if class_names is not None:
            raise ValueError(f"{who}: class_names can only be given with labels='inferred'")
        paths = _image_files(directory, follow_links, Image)
        if labels is None:
            return paths, None, None
        if len(labels) != len(paths):
            raise ValueError(f"{who}: {len(labels)} labels for {len(paths)} images in "
                             f"{directory!r}; give one label per image, in the files' sorted "
                             f"order")
        return paths, np.asarray(labels, "int32"), [str(v) for v in sorted(set(labels))]
    subdirs = [d for d in sorted(os.listdir(directory))
               if os.path.isdir(os.path.join(directory, d)) and not d.startswith(".")]
    if class_names is not None:
        if not set(class_names).issubset(subdirs):
            raise ValueError(f"{who}: class_names {list(class_names)} do not match the "
                             f"subdirectories of {directory!r}: expected {subdirs} (or a "
                             f"subset)")
        subdirs = list(class_names)
    paths, found = [], []
    for index, subdir in enumerate(subdirs):
        files = _image_files(os.path.join(directory, subdir), follow_links, Image)
        paths += files
        found += [index] * len(files)
    return paths, np.asarray(found, "int32"), subdirs


def _check_dataset_args(who, labels, label_mode, color_mode, image_size, interpolation,
                        validation_split, subset, shuffle, seed, crop, pad, data_format):
    if labels not in ("inferred", None) and not isinstance(labels, (list, tuple)):
        raise ValueError(f"{who}: labels must be 'inferred', None or a list of integer labels, "
                         f"one per image; received {labels!r}")
    if label_mode not in LABEL_MODES:
        raise ValueError(f"{who}: label_mode must be one of {LABEL_MODES}, received "
                         f"{label_mode!r}")
    if color_mode not in CHANNELS:
        raise ValueError(f"{who}: color_mode must be one of {tuple(CHANNELS)}, received "
                         f"{color_mode!r}")
    if isinstance(image_size, int):
        image_size = (image_size, image_size)
    if not isinstance(image_size, (list, tuple)) or len(image_size) != 2:
        raise ValueError(f"{who}: image_size must be (height, width), received {image_size!r}")
    if interpolation.lower() not in DATASET_INTERPOLATIONS:
        raise ValueError(f"{who}: interpolation must be one of {DATASET_INTERPOLATIONS}, "
                         f"received {interpolation!r}")
    if interpolation.lower() not in image_ops.INTERPOLATIONS:
        raise NotImplementedError(f"{who}: interpolation={interpolation!r} is TensorFlow's; "
                                  f"use one of {image_ops.INTERPOLATIONS}")
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
                         f"training and validation images do not overlap")
    if crop and pad:
        raise ValueError(f"{who}: only one of crop_to_aspect_ratio and pad_to_aspect_ratio "
                         f"can be True")
    _layout(data_format, who)
    return tuple(int(s) for s in image_size), interpolation.lower()


def image_dataset_from_directory(directory, labels="inferred", label_mode="int",
                                 class_names=None, color_mode="rgb", batch_size=32,
                                 image_size=(256, 256), shuffle=True, seed=None,
                                 validation_split=None, subset=None, interpolation="bilinear",
                                 follow_links=False, crop_to_aspect_ratio=False,
                                 pad_to_aspect_ratio=False, data_format=None, format="tf",
                                 verbose=True):
    """Keras `utils.image_dataset_from_directory`: batches of (images, labels) from the
    .bmp/.gif/.jpeg/.jpg/.png files of `directory`'s class subfolders.

    The files, their labels, `class_names` and the training/validation split are Keras's
    for the same seed (the file list is shuffled by NumPy's `RandomState(seed)`, as Keras
    does); each image is decoded by Pillow (GIFs: the first frame) and resized with
    `ops.image.resize` to `image_size`, in float32, as Keras's non-TensorFlow path does.
    The order within an epoch when shuffling is drawn by NumPy from tf.data's buffer of
    `batch_size * 8` images. A file with an image ending that Pillow cannot read is skipped
    with a warning naming it.

    Returns:
        An `ImageBatchDataset` (with `class_names`), or a (training, validation) pair when
        `subset="both"`.

    Raises:
        ValueError: an argument out of Keras's range, labels that do not fit the files, or
            a directory with no image.

    Example:
        >>> import tempfile, os
        >>> from graphnet import utils
        >>> root = tempfile.mkdtemp()
        >>> for name in ("cat", "dog"):
        ...     os.mkdir(os.path.join(root, name))
        ...     utils.save_img(os.path.join(root, name, "a.png"), np.ones((5, 5, 3)))
        >>> data = utils.image_dataset_from_directory(root, image_size=(4, 4), verbose=False)
        >>> data.class_names, next(iter(data))[0].shape
        (['cat', 'dog'], (2, 4, 4, 3))
    """
    who = "image_dataset_from_directory"
    image_size, interpolation = _check_dataset_args(
        who, labels, label_mode, color_mode, image_size, interpolation, validation_split,
        subset, shuffle, seed, crop_to_aspect_ratio, pad_to_aspect_ratio, data_format)
    if format not in ("tf", "grain"):
        raise ValueError(f"{who}: format must be 'tf' or 'grain', received {format!r}")
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"{who}: directory {directory!r} does not exist")
    Image = _pil(who)
    if labels is None or label_mode is None:
        labels, label_mode = None, None
    if seed is None:
        seed = naming.next_seed() % 1_000_000
    paths, found, names = _index(directory, labels, class_names, follow_links, Image, who)
    def decode(path):
        with Image.open(path) as img:
            x = np.asarray(_convert(img, color_mode, who), "float32")
        x = x[:, :, None] if x.ndim == 2 else x
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
        return np.asarray(image_ops.resize(
            x, image_size, interpolation=interpolation, crop_to_aspect_ratio=crop_to_aspect_ratio,
            pad_to_aspect_ratio=pad_to_aspect_ratio, data_format=data_format))

    return split_files(
        paths, found, names, labels=labels, label_mode=label_mode, shuffle=shuffle, seed=seed,
        validation_split=validation_split, subset=subset, verbose=verbose, who=who,
        empty=lambda which: (f"{who}: no {'' if which is None else which + ' '}images in "
                             f"{directory!r} (allowed formats: {ALLOWLIST_FORMATS})"),
        make=lambda chosen, chosen_labels, shuffled: ImageBatchDataset(
            chosen, chosen_labels, label_mode, len(names or ()), batch_size, shuffled, seed,
            names, decode))
