"""Hashing and HashedCrossing: values to hash buckets on the host, with TensorFlow's
fingerprints so the bucket indices equal Keras's."""
import numpy as np

from .fingerprint import CROSS_KEY, fingerprint64, fingerprint_cat64, siphash
from .host import HostLayer
from .lookup import encode


def _as_text(values, who):
    """Keras's rule: floats are cast to int64, numbers hashed as their decimal text,
    booleans as "true"/"false" (TensorFlow's `as_string`), strings as their UTF-8 bytes."""
    arr = np.asarray(values) if not isinstance(values, np.ndarray) else values
    if arr.dtype.kind == "f":
        arr = arr.astype(np.int64)
    if arr.dtype.kind == "b":
        return arr, np.where(arr, b"true", b"false").astype(object)
    if arr.dtype.kind in "iu":
        return arr, np.vectorize(lambda v: str(int(v)).encode(), otypes=[object])(arr) \
            if arr.size else arr.astype(object)
    if arr.dtype.kind in "USO":
        def one(v):
            if isinstance(v, bytes):
                return v
            if isinstance(v, str):
                return v.encode("utf-8")
            raise TypeError(f"{who} expects strings or numbers, received a "
                            f"{type(v).__name__}")
        return arr, (np.vectorize(one, otypes=[object])(arr) if arr.size
                     else arr.astype(object))
    raise TypeError(f"{who} expects strings or numbers, received an array of dtype "
                    f"{arr.dtype}")


class Hashing(HostLayer):
    """Keras Hashing: each value to one of `num_bins` buckets, on the host.

    Without `salt`, FarmHash Fingerprint64 (TensorFlow's `to_hash_bucket_fast`); with it,
    SipHash-2-4 keyed by the salt (`to_hash_bucket_strong`). Numbers are hashed as their
    decimal text, as Keras does. With `mask_value`, that value goes to bucket 0 and the
    others to 1 .. num_bins - 1.

    Examples:
        >>> from graphnet.layers import Hashing
        >>> Hashing(num_bins=3)([["A"], ["B"], ["C"]]).tolist()
        [[1], [0], [1]]
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        kwargs.pop("dtype", None)
        super().__init__(**kwargs)
        who = self.who = f"Hashing '{self.name}'"
        if num_bins is None or num_bins <= 0:
            raise ValueError(f"{who}: num_bins must be a positive int, received {num_bins!r}")
        if output_mode not in ("int", "one_hot", "multi_hot", "count"):
            raise ValueError(f"{who}: output_mode must be 'int', 'one_hot', 'multi_hot' or "
                             f"'count', received {output_mode!r}")
        if sparse:
            raise ValueError(f"{who}: sparse=True needs the TensorFlow backend")
        if isinstance(salt, int) and not isinstance(salt, bool):
            salt = [salt, salt]
        elif salt is not None:
            if not (isinstance(salt, (list, tuple)) and len(salt) == 2):
                raise ValueError(f"{who}: salt must be an int or a pair of ints, received "
                                 f"{salt!r}")
            salt = list(salt)
        self.num_bins, self.mask_value, self.salt = int(num_bins), mask_value, salt
        self.output_mode, self.sparse = output_mode, False
        self.built = True

    def bins(self, values):
        """The bucket index of each value (int64, the shape of `values`)."""
        arr, texts = _as_text(values, self.who)
        buckets = self.num_bins
        mask = None
        if self.mask_value is not None and buckets > 1:
            buckets -= 1
            mask = arr == np.asarray(self.mask_value, dtype=arr.dtype) \
                if arr.dtype.kind not in "USO" else np.vectorize(
                    lambda v: v == self.mask_value, otypes=[bool])(arr)
        if self.salt is not None:
            def h(t):
                return siphash(self.salt, t) % buckets
        else:
            def h(t):
                return fingerprint64(t) % buckets
        out = np.asarray([h(t) for t in texts.ravel()], np.int64).reshape(texts.shape)
        if mask is not None:
            out = np.where(mask, 0, out + 1)
        return out

    def host_output_spec(self, input_shape, input_dtype):
        if self.output_mode == "int":
            return tuple(input_shape), "int32"
        if self.output_mode == "one_hot" and not (len(input_shape) > 1 and input_shape[-1] == 1):
            return (*input_shape, self.num_bins), "float32"
        return (*input_shape[:-1], self.num_bins), "float32"

    def host_call(self, inputs):
        ids = self.bins(inputs)
        if self.output_mode == "int":
            return ids
        return encode(ids, self.output_mode, self.num_bins)

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins, "salt": self.salt,
                "mask_value": self.mask_value, "output_mode": self.output_mode,
                "sparse": self.sparse}


class HashedCrossing(HostLayer):
    """Keras HashedCrossing: the cross of two or more categorical features hashed into
    `num_bins` buckets, on the host (TensorFlow's `sparse.cross_hashed`).

    A string feature enters as its Fingerprint64, an integer as its value; the features
    are combined in order with FingerprintCat64 from TensorFlow's fixed key.

    Examples:
        >>> from graphnet.layers import HashedCrossing
        >>> cross = HashedCrossing(num_bins=5)
        >>> cross((["A", "B"], [1, 2])).tolist()
        [0, 1]
    """

    def __init__(self, num_bins, output_mode="int", sparse=False, name=None, dtype=None,
                 **kwargs):
        super().__init__(name=name, **kwargs)
        who = self.who = f"HashedCrossing '{self.name}'"
        if output_mode not in ("int", "one_hot"):
            raise ValueError(f"{who}: output_mode must be 'int' or 'one_hot', received "
                             f"{output_mode!r}")
        if sparse:
            raise ValueError(f"{who}: sparse=True needs the TensorFlow backend")
        self.num_bins, self.output_mode, self.sparse = int(num_bins), output_mode, False
        self.built = True

    def _feature(self, values):
        if values.dtype.kind in "iu":
            return [int(v) & ((1 << 64) - 1) for v in values.ravel()]
        if values.dtype.kind in "USO" and all(isinstance(v, (str, bytes))
                                              for v in values.ravel()):
            return [fingerprint64(v.encode("utf-8") if isinstance(v, str) else v)
                    for v in values.ravel()]
        raise ValueError(f"{self.who}: every input must be integers or strings, received "
                         f"dtype {values.dtype}")

    def host_call(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) < 2:
            raise ValueError(f"{self.who} takes a list or tuple of at least two inputs, "
                             f"received {type(inputs).__name__}")
        arrays = [np.asarray(x) if not isinstance(x, list) or not x or not isinstance(
            x[0], str) else np.asarray(x, dtype=object) for x in inputs]
        shape = arrays[0].shape
        if len(shape) > 2 or (len(shape) == 2 and shape[-1] != 1):
            raise ValueError(f"{self.who}: inputs must have shape (), (batch,) or (batch, 1), "
                             f"received {shape}")
        if any(a.shape != shape for a in arrays[1:]):
            raise ValueError(f"{self.who}: every input must have the same shape, received "
                             f"{[a.shape for a in arrays]}")
        features = [self._feature(a) for a in arrays]
        out = []
        for row in zip(*features):
            h = CROSS_KEY
            for f in row:
                h = fingerprint_cat64(h, f)
            out.append(h % self.num_bins)
        ids = np.asarray(out, np.int64).reshape(shape)
        if self.output_mode == "int":
            return ids
        return encode(ids, "one_hot", self.num_bins)

    def get_config(self):
        return {**super().get_config(), "num_bins": self.num_bins,
                "output_mode": self.output_mode, "sparse": self.sparse}
