"""Keras's IoU family beyond MeanIoU: IoU of chosen classes, BinaryIoU, and the one-hot
forms. All keep MeanIoU's (num_classes, num_classes) confusion matrix of class indices."""
import jax.numpy as jnp

from ..naming import snake_case
from .confusion import KERAS_EPSILON, MeanIoU
from .functions import as_float


class IoU(MeanIoU):
    """Keras IoU: the intersection over union of the classes in `target_class_ids`,
    averaged over those of them that occur.

    `name`, `dtype`, `ignore_class`, `sparse_y_true`, `sparse_y_pred` and `axis` are as
    MeanIoU's.

    Args:
        num_classes: the number of classes (>= 1).
        target_class_ids: the class indices whose IoU is averaged.

    Examples:
        >>> y_true = np.array([0, 1, 2, 2])
        >>> y_pred = np.array([0, 1, 1, 2])
        >>> m = metrics.IoU(num_classes=3, target_class_ids=[1])
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.5
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype="float32",
                 ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name or snake_case(type(self).__name__),
                         dtype=dtype, ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)
        ids = [int(i) for i in target_class_ids]
        if not ids or max(ids) >= self.num_classes or min(ids) < 0:
            raise ValueError(f"{type(self).__name__} '{self.name}': target_class_ids must be "
                             f"class indices in [0, {self.num_classes}), received "
                             f"{list(target_class_ids)}")
        self.target_class_ids = ids

    def result(self, state=None):
        cm = self._current(state)["cm"]
        tp = jnp.diagonal(cm)
        denominator = cm.sum(0) + cm.sum(1) - tp
        ids = jnp.asarray(self.target_class_ids)
        tp, denominator = tp[ids], denominator[ids]
        valid = denominator > 1e-9
        iou = jnp.where(valid, tp / (denominator + KERAS_EPSILON), 0.0)
        return jnp.sum(iou) / (jnp.sum(valid.astype(jnp.float32)) + KERAS_EPSILON)

    def get_config(self):
        return {**super().get_config(), "target_class_ids": self.target_class_ids}


class BinaryIoU(IoU):
    """Keras BinaryIoU: IoU of the two classes of 0/1 labels against `y_pred >= threshold`.

    Args:
        target_class_ids: [0], [1] or [0, 1] (default): whose IoU is averaged.
        threshold: a score at or above it is class 1.
        name: the metric's name in the logs.
        dtype: the dtype of the result.

    Examples:
        >>> y_true = np.array([[0.0], [1.0], [1.0], [0.0]], dtype="float32")
        >>> y_pred = np.array([[0.2], [0.7], [0.4], [0.1]], dtype="float32")
        >>> m = metrics.BinaryIoU(target_class_ids=[1], threshold=0.5)
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        0.5
    """

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype="float32"):
        super().__init__(2, target_class_ids, name=name, dtype=dtype)
        self.threshold = float(threshold)

    def update(self, state, y_true, y_pred, sample_weight=None):
        y_pred = (as_float(y_pred) >= self.threshold).astype(jnp.float32)
        return super().update(state, y_true, y_pred, sample_weight)

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype,
                "target_class_ids": self.target_class_ids, "threshold": self.threshold}


class OneHotIoU(IoU):
    """Keras OneHotIoU: IoU with one-hot targets (their argmax is the class).

    Args: as IoU, without `sparse_y_true`; `sparse_y_pred` defaults to False (scores).

    Examples:
        >>> y_true = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype="float32")
        >>> y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]], dtype="float32")
        >>> m = metrics.OneHotIoU(num_classes=3, target_class_ids=[0])
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype="float32",
                 ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        config.pop("sparse_y_true")
        return config


class OneHotMeanIoU(IoU):
    """Keras OneHotMeanIoU: MeanIoU with one-hot targets (their argmax is the class).

    Args: as MeanIoU, without `sparse_y_true`; `sparse_y_pred` defaults to False (scores).

    Examples:
        >>> y_true = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], dtype="float32")
        >>> y_pred = np.array([[0.1, 0.8, 0.1], [0.6, 0.3, 0.1]], dtype="float32")
        >>> m = metrics.OneHotMeanIoU(num_classes=3)
        >>> m.update_state(y_true, y_pred)
        >>> round(float(m.result()), 4)
        1.0
    """

    def __init__(self, num_classes, name=None, dtype="float32", ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, list(range(int(num_classes))), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        config.pop("sparse_y_true")
        config.pop("target_class_ids")
        return config
