"""StringLookup and IntegerLookup: a vocabulary maps tokens to indices on the host, with
Keras's index layout (mask, then the OOV indices, then the tokens), adapt order and
encodings."""
import collections
import os

import numpy as np

from .fingerprint import fingerprint64, siphash
from .host import ESCAPE, HostLayer, as_integers, as_strings, batches

MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")
INT64_MAX = np.iinfo(np.int64).max


def encode(rows, mode, depth, idf=None, dtype="float32"):
    """Index rows as Keras's `one_hot` / `multi_hot` / `count` / `tf_idf` vectors of length
    `depth`, in `dtype` (float32 for tf_idf). `rows` is an int array (rank 0 to 2) or a
    list of index lists (one per sample); indices outside [0, depth) (the mask's) count
    nowhere, as TensorFlow's bincount drops them."""
    if mode == "one_hot":
        ids = np.asarray(rows)
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = ids[..., 0]
        valid = (ids >= 0) & (ids < depth)
        out = np.zeros((*ids.shape, depth), "float32")
        np.put_along_axis(out, np.where(valid, ids, 0)[..., None], valid[..., None], -1)
        return out.astype(dtype)
    single = not isinstance(rows, list) and np.ndim(rows) <= 1
    if not isinstance(rows, list):
        arr = np.asarray(rows)
        if arr.ndim > 2:
            raise ValueError(f"output_mode {mode!r} takes inputs of rank 1 or 2 (one vector "
                             f"per row), received shape {arr.shape}")
        rows = [np.atleast_1d(arr).ravel()] if single else list(arr)
    out = np.zeros((len(rows), depth), "float32")
    for i, row in enumerate(rows):
        row = np.asarray(row, np.int64)
        row = row[(row >= 0) & (row < depth)]
        np.add.at(out[i], row, 1.0)
    if mode == "multi_hot":
        out = (out > 0).astype("float32")
    if mode == "tf_idf":
        out = out * np.asarray(idf, "float32")
    else:
        out = out.astype(dtype)
    return out[0] if single else out


class IndexLookup(HostLayer):
    """The common core of StringLookup and IntegerLookup (Keras's IndexLookup)."""
    kind = "string"
    called = False            # vector outputs were made: their length may not change now

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, salt=None, oov_method="floormod",
                 vocabulary_size=None, has_input_vocabulary=None, owner=None, **kwargs):
        super().__init__(**kwargs)
        # `owner`: the layer errors name when this lookup is another layer's part.
        who = self.who = owner or f"{type(self).__name__} '{self.name}'"
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(f"{who}: max_tokens must be greater than 1, received {max_tokens}")
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(f"{who}: pad_to_max_tokens=True needs max_tokens")
        if num_oov_indices < 0:
            raise ValueError(f"{who}: num_oov_indices must be >= 0, received {num_oov_indices}")
        output_mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if output_mode not in MODES:
            raise ValueError(f"{who}: output_mode must be one of {MODES}, received "
                             f"{output_mode!r}")
        if invert and output_mode != "int":
            raise ValueError(f"{who}: invert=True needs output_mode='int', received "
                             f"{output_mode!r}")
        if sparse:
            raise ValueError(f"{who}: sparse=True needs the TensorFlow backend; graphnet gives "
                             f"dense arrays")
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(f"{who}: idf_weights is only for output_mode='tf_idf'")
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(f"{who}: oov_method must be 'floormod' or 'farmhash', received "
                             f"{oov_method!r}")
        if isinstance(salt, int) and not isinstance(salt, bool):
            salt = [salt, salt]
        elif salt is not None:
            if not (isinstance(salt, (list, tuple)) and len(salt) == 2):
                raise ValueError(f"{who}: salt must be an int or a pair of ints, received "
                                 f"{salt!r}")
            salt = list(salt)
        self.max_tokens, self.num_oov_indices = max_tokens, int(num_oov_indices)
        self.mask_token, self.oov_token = mask_token, oov_token
        self.invert, self.output_mode = bool(invert), output_mode
        self.pad_to_max_tokens, self.sparse = bool(pad_to_max_tokens), False
        self.salt, self.oov_method = salt, oov_method
        self.input_vocabulary = None if isinstance(vocabulary, str) else vocabulary
        self.input_idf_weights = idf_weights
        self.has_input_vocabulary = (vocabulary is not None if has_input_vocabulary is None
                                     else bool(has_input_vocabulary))
        self.tokens, self.index, self.idf = None, {}, None
        self.frozen_vocab_size = vocabulary_size
        if output_mode == "tf_idf" and self.has_input_vocabulary and idf_weights is None:
            raise ValueError(f"{who}: output_mode='tf_idf' with a vocabulary needs "
                             f"idf_weights")
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        self.built = True

    # ---- Keras's index layout -------------------------------------------------------
    def _oov_start(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start(self):
        return self._oov_start() + self.num_oov_indices

    def _check_tokens(self, values):
        if self.kind == "string":
            return as_strings(values, self.who)
        return as_integers(values, self.who)

    def vocabulary_size(self):
        """The number of indices: mask and OOV indices included."""
        return (0 if self.tokens is None else len(self.tokens)) + self._token_start()

    def get_vocabulary(self, include_special_tokens=True):
        """The tokens by index (the mask and OOV tokens first, unless left out)."""
        vocab = ([self.mask_token] * self._oov_start()
                 + [self.oov_token] * self.num_oov_indices + list(self.tokens or []))
        return vocab if include_special_tokens else vocab[self._token_start():]

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Keras `set_vocabulary`: a list or array of tokens, or the path of a text file
        with one token per line (then without the special tokens)."""
        who = self.who
        if self.output_mode == "tf_idf" and idf_weights is None:
            raise ValueError(f"{who}: idf_weights must be set with output_mode='tf_idf'")
        if self.output_mode != "tf_idf" and idf_weights is not None:
            raise ValueError(f"{who}: idf_weights is only for output_mode='tf_idf'")
        if isinstance(vocabulary, (str, os.PathLike)):
            path = os.fspath(vocabulary)
            if not os.path.isfile(path):
                raise ValueError(f"{who}: vocabulary file {path!r} does not exist")
            if self.output_mode == "tf_idf":
                raise ValueError(f"{who}: output_mode='tf_idf' cannot read its vocabulary "
                                 f"from a file")
            with open(path, encoding="utf-8") as f:
                lines = f.read().splitlines()
            values = self._check_tokens(lines if self.kind == "string" else
                                        [int(v) for v in lines])
            self._set_tokens(list(values), path)
            return
        values = list(self._check_tokens(np.asarray(vocabulary, dtype=object)
                                         if self.kind == "string" else vocabulary).ravel())
        if not values:
            raise ValueError(f"{who}: cannot set an empty vocabulary")
        token_start = self._token_start()
        special = [self.mask_token] * self._oov_start() + [self.oov_token] * self.num_oov_indices
        found_special = values[:token_start] == special
        tokens = values[token_start:] if found_special else values
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(f"{who}: the vocabulary repeats {repeated}; give each token once")
        for what, token in (("mask", self.mask_token), ("OOV", self.oov_token)):
            if token is not None and token in tokens and not (what == "OOV" and
                                                              self.num_oov_indices == 0):
                raise ValueError(f"{who}: the {what} token {token!r} is in the vocabulary at "
                                 f"a place other than its start; give the vocabulary without "
                                 f"the special tokens, or with exactly {special} first")
        self._set_tokens(tokens, None)
        if self.output_mode == "tf_idf":
            idf = np.asarray(idf_weights, "float64")
            if idf.ndim != 1 or len(idf) != len(values):
                raise ValueError(f"{who}: idf_weights must be 1-D and as long as the "
                                 f"vocabulary ({len(values)}), received shape {idf.shape}")
            front = 0 if found_special else token_start
            back = (self.max_tokens - front - len(idf)
                    if self.pad_to_max_tokens and self.max_tokens else 0)
            self.idf = np.pad(idf, (front, back), constant_values=(
                0 if found_special else np.average(idf), 0)).astype("float32")

    def _set_tokens(self, tokens, source):
        size = self._token_start() + len(tokens)
        if self.max_tokens is not None and size > self.max_tokens:
            raise ValueError(f"{self.who}: the vocabulary has {size} indices, more than "
                             f"max_tokens={self.max_tokens}")
        self.tokens = list(tokens)
        self.index = {t: i + self._token_start() for i, t in enumerate(self.tokens)}
        self.vocabulary_file = source
        self._freeze_size()

    def _freeze_size(self):
        if self.output_mode == "int" or self.pad_to_max_tokens:
            return
        size = self.vocabulary_size()
        if self.frozen_vocab_size is not None and self.called and \
                size != self.frozen_vocab_size:
            raise RuntimeError(f"{self.who}: with output_mode={self.output_mode!r} the "
                               f"vocabulary size cannot change after the layer was called "
                               f"({self.frozen_vocab_size} -> {size})")
        self.frozen_vocab_size = size

    # ---- adapt ---------------------------------------------------------------------
    def adapt(self, data, steps=None):
        """Keras `adapt`: the vocabulary is the tokens of `data` by count (ties: the
        greater token first), cut to `max_tokens`; tf_idf also counts documents."""
        if self.has_input_vocabulary:
            raise ValueError(f"{self.who}: cannot adapt after a vocabulary was given (the "
                             f"`vocabulary` argument or set_vocabulary)")
        docs = []
        for batch in batches(data, steps, self.who):
            values = self._check_tokens(batch)
            if values.ndim == 0:
                values = values[None]
            docs.extend([values] if values.ndim == 1 else
                        [row.ravel() for row in values.reshape(len(values), -1)])
        self.adapt_documents(docs)

    def adapt_documents(self, docs):
        """Builds the vocabulary from documents (each a 1-D sequence of tokens)."""
        counts, doc_counts = collections.Counter(), collections.Counter()
        for doc in docs:
            doc = [t.item() if isinstance(t, np.generic) else t for t in doc]
            counts.update(doc)
            doc_counts.update(set(doc))
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        if not counts:
            return
        ranked = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens:
            ranked = ranked[:self.max_tokens - self._token_start()]
        self.tokens = None
        self._set_tokens(ranked, None)
        if self.output_mode == "tf_idf":
            idf = np.log(1 + len(docs) / (1 + np.asarray([doc_counts[t] for t in ranked],
                                                         "float64"))).astype("float32")
            idf = np.pad(idf, (self._token_start(), 0), constant_values=np.mean(idf))
            if self.pad_to_max_tokens and self.max_tokens:
                idf = np.pad(idf, (0, self.max_tokens - len(idf)))
            self.idf = idf.astype("float32")

    # ---- the lookup ------------------------------------------------------------------
    def _oov_index(self, token):
        n = self.num_oov_indices
        if self.kind == "int" and self.oov_method != "farmhash":
            return int(token) % n
        data = str(token).encode("utf-8", ESCAPE)
        h = siphash(self.salt, data) if self.salt is not None else fingerprint64(data)
        return h % n

    def lookup(self, values):
        """Indices of `values` (an array of tokens) with Keras's mask and OOV rules."""
        default = self._oov_start() if self.num_oov_indices == 1 else -1
        mask_index = 0 if self.output_mode == "int" else INT64_MAX
        out = np.empty(values.shape, np.int64)
        flat_in, flat_out = values.ravel(), out.reshape(-1)
        for i, token in enumerate(flat_in):
            token = token.item() if isinstance(token, np.generic) else token
            if self.mask_token is not None and token == self.mask_token:
                flat_out[i] = mask_index
                continue
            index = self.index.get(token, default)
            if index == -1 and self.num_oov_indices == 0:
                raise ValueError(f"{self.who}: {token!r} is not in the vocabulary and "
                                 f"num_oov_indices=0; set num_oov_indices=1 to map unknown "
                                 f"tokens to an OOV index")
            if index == -1:
                index = self._oov_index(token) + self._oov_start()
            flat_out[i] = index
        return out

    def _invert(self, ids):
        ids = as_integers(ids, self.who)
        vocab = self.get_vocabulary()
        out = np.empty(ids.shape, dtype=object if self.kind == "string" else np.int64)
        flat = out.reshape(-1)
        for i, k in enumerate(ids.ravel()):
            if self.mask_token is not None and k == 0:
                flat[i] = self.mask_token
            elif self._token_start() <= k < len(vocab):
                flat[i] = vocab[k]
            else:
                flat[i] = self.oov_token
        return out

    def _depth(self):
        if self.pad_to_max_tokens:
            return self.max_tokens
        if self.frozen_vocab_size is None:
            raise RuntimeError(f"{self.who}: with output_mode={self.output_mode!r} and "
                               f"pad_to_max_tokens=False, set the vocabulary (the "
                               f"`vocabulary` argument or adapt) before calling the layer")
        return self.frozen_vocab_size

    def encode_indices(self, ids):
        """Indices (an array, or a list of rows) in this layer's output_mode."""
        if self.output_mode == "int":
            return ids
        self.called = True
        # Keras's lookups count in their index dtype, int64; tf_idf weighs them in float32.
        return encode(ids, self.output_mode, self._depth(), self.idf, dtype="int64")

    def vector_spec(self, input_shape):
        """The output spec of a lookup's output_mode for `input_shape`: Keras's shapes and
        symbolic dtypes (int32 indices, as JAX keeps int64 without x64; float32 vectors)."""
        if self.output_mode == "int":
            return tuple(input_shape), "int32"
        depth = self._depth()
        dtype = "float32"
        if self.output_mode == "one_hot":
            keep = input_shape[:-1] if len(input_shape) > 1 and input_shape[-1] == 1 \
                else input_shape
            return (*keep, depth), dtype
        return (*input_shape[:-1], depth), dtype

    def host_output_spec(self, input_shape, input_dtype):
        if self.kind == "string":
            self._need_strings(input_dtype)
        elif np.dtype(input_dtype).kind not in "iu":
            raise TypeError(f"{self.who} takes integers, received dtype {np.dtype(input_dtype)}")
        if self.invert:
            raise NotImplementedError(f"{self.who}: invert=True gives strings or tokens, which "
                                      f"never reach the device; apply it to the outputs instead")
        return self.vector_spec(input_shape)

    def host_call(self, inputs):
        if self.invert:
            return self._invert(inputs)
        if self.output_mode != "int":
            self._depth()
        return self.encode_indices(self.lookup(self._check_tokens(inputs)))

    def get_config(self):
        vocab = self.input_vocabulary
        if isinstance(vocab, np.ndarray):
            vocab = vocab.tolist()
        idf = self.input_idf_weights
        if vocab is None and self.tokens is not None:
            # An adapted (or file) vocabulary travels in the config, special tokens first,
            # so a saved model (.graphnet or .keras) rebuilds it from the file alone.
            vocab = self.get_vocabulary()
            idf = None if self.idf is None else self.idf[:len(vocab)].tolist()
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                "mask_token": self.mask_token, "output_mode": self.output_mode,
                "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "idf_weights": idf.tolist() if isinstance(idf, np.ndarray) else idf,
                "vocabulary": vocab, "vocabulary_size": self.frozen_vocab_size,
                "salt": self.salt}


class StringLookup(IndexLookup):
    """Keras StringLookup: strings to vocabulary indices (or back, with `invert=True`),
    on the host.

    Index 0 is the mask (when `mask_token` is set), then `num_oov_indices` OOV indices
    (unknown strings are spread over them by FarmHash, as Keras does), then the
    vocabulary.

    Examples:
        >>> from graphnet.layers import StringLookup
        >>> lookup = StringLookup(vocabulary=["a", "b"])
        >>> lookup([["a", "z", "b"]]).tolist()
        [[1, 0, 2]]
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None, salt=None,
                 **kwargs):
        if encoding not in ("utf-8", "utf8", "UTF-8"):
            raise NotImplementedError(f"StringLookup: encoding {encoding!r}; graphnet reads "
                                      f"strings as UTF-8")
        self.encoding = encoding
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, pad_to_max_tokens, sparse, salt,
                         name=name, **kwargs)

    def get_config(self):
        return {**super().get_config(), "encoding": self.encoding}


class IntegerLookup(IndexLookup):
    """Keras IntegerLookup: integers to vocabulary indices (or back, with `invert=True`),
    on the host.

    Unknown integers share the OOV indices by `value % num_oov_indices` (Keras's
    "floormod"), or by FarmHash of their decimal text with `oov_method="farmhash"`.

    Examples:
        >>> from graphnet.layers import IntegerLookup
        >>> lookup = IntegerLookup(vocabulary=[12, 36])
        >>> lookup([12, 7, 36]).tolist()
        [1, 0, 2]
    """
    kind = "int"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, name=None, **kwargs):
        if vocabulary_dtype != "int64":
            raise ValueError(f"IntegerLookup: only vocabulary_dtype='int64' is supported, "
                             f"received {vocabulary_dtype!r}")
        if salt is not None and oov_method != "farmhash":
            raise ValueError("IntegerLookup: salt needs oov_method='farmhash'")
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, pad_to_max_tokens, sparse, salt,
                         oov_method, name=name, **kwargs)

    def get_config(self):
        config = {**super().get_config(), "vocabulary_dtype": "int64",
                  "oov_method": self.oov_method}
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
