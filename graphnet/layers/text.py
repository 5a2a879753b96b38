"""TextVectorization: strings to token indices or bag-of-words vectors on the host, with
Keras's standardization, splitting, n-grams and vocabulary (a StringLookup inside)."""
import numpy as np

from ..registry import get_registered, registered_name
from .host import ESCAPE, HostLayer, as_strings, batches
from .lookup import StringLookup

# Keras strips these bytes (string.punctuation) with "strip_punctuation".
PUNCTUATION = b"!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
SPLIT = ("whitespace", "character")


class TextVectorization(HostLayer):
    """Keras TextVectorization: standardize, split, n-grams, then a vocabulary lookup, on
    the host.

    Lowercasing is ASCII-only and punctuation is ASCII's, byte for byte as TensorFlow does;
    "whitespace" splits on ASCII whitespace. A callable `standardize` receives a NumPy array
    of str (as Keras gives it on JAX); a callable `split` receives a 1-D NumPy array of str
    and returns one list of tokens per string.

    Examples:
        >>> from graphnet.layers import TextVectorization
        >>> vectorize = TextVectorization(output_mode="int", output_sequence_length=4)
        >>> vectorize.adapt(["The cat sat.", "The dog!"])
        >>> vectorize.get_vocabulary()
        ['', '[UNK]', 'the', 'sat', 'dog', 'cat']
        >>> vectorize(["the dog sat"]).tolist()
        [[2, 4, 3, 0]]
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None,
                 vocabulary_size=None, **kwargs):
        super().__init__(name=name, **kwargs)
        who = self.who = f"TextVectorization '{self.name}'"
        if not (standardize is None or callable(standardize) or standardize in STANDARDIZE):
            raise ValueError(f"{who}: standardize must be None, a callable or one of "
                             f"{STANDARDIZE}, received {standardize!r}")
        if not (split is None or callable(split) or split in SPLIT):
            raise ValueError(f"{who}: split must be None, a callable or one of {SPLIT}, "
                             f"received {split!r}")
        if sparse or ragged:
            raise ValueError(f"{who}: sparse=True and ragged=True need the TensorFlow "
                             f"backend; graphnet gives dense arrays")
        if not (ngrams is None or isinstance(ngrams, int) or (
                isinstance(ngrams, (tuple, list)) and all(isinstance(n, int) for n in ngrams))):
            raise ValueError(f"{who}: ngrams must be None, an int or a tuple of ints, "
                             f"received {ngrams!r}")
        mode = {"binary": "multi_hot", "tf-idf": "tf_idf"}.get(output_mode, output_mode)
        if mode == "int" and not (output_sequence_length is None or
                                  isinstance(output_sequence_length, int)):
            raise ValueError(f"{who}: output_sequence_length must be None or an int, "
                             f"received {output_sequence_length!r}")
        if mode != "int" and output_sequence_length is not None:
            raise ValueError(f"{who}: output_sequence_length is only for output_mode='int', "
                             f"received output_mode={output_mode!r}")
        self.standardize, self.split, self.ngrams_arg = standardize, split, ngrams
        self.ngrams = (tuple(range(1, ngrams + 1)) if isinstance(ngrams, int)
                       else None if ngrams is None else tuple(ngrams))
        self.output_mode, self.output_sequence_length = mode, output_sequence_length
        self.encoding = encoding
        self.lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=mode,
            encoding=encoding, vocabulary_size=vocabulary_size, name=f"{self.name}_lookup",
            owner=who)
        self.built = True

    # ---- the vocabulary (the inner StringLookup's) ------------------------------------
    def get_vocabulary(self, include_special_tokens=True):
        """The tokens by index: '' (padding) and '[UNK]' first in "int" mode.

        Examples:
            >>> from graphnet.layers import TextVectorization
            >>> vectorize = TextVectorization(vocabulary=["cat", "dog"])
            >>> vectorize.get_vocabulary()
            ['', '[UNK]', 'cat', 'dog']
            >>> vectorize.get_vocabulary(include_special_tokens=False)
            ['cat', 'dog']
        """
        return self.lookup_layer.get_vocabulary(include_special_tokens)

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Keras `set_vocabulary`: a list of tokens or a text file of one per line.

        Examples:
            >>> from graphnet.layers import TextVectorization
            >>> vectorize = TextVectorization()
            >>> vectorize.set_vocabulary(["a", "b"])
            >>> vectorize(["b a c"]).tolist()
            [[3, 2, 1]]
        """
        self.lookup_layer.set_vocabulary(vocabulary, idf_weights)

    def vocabulary_size(self):
        """The number of indices, padding and OOV included.

        Examples:
            >>> from graphnet.layers import TextVectorization
            >>> TextVectorization(vocabulary=["a", "b"]).vocabulary_size()
            4
        """
        return self.lookup_layer.vocabulary_size()

    def adapt(self, data, batch_size=None, steps=None):
        """Keras `adapt`: learns the vocabulary from `data` (a list or array of strings, or
        an iterable of such batches): tokens by count, ties broken by the greater token.

        Examples:
            >>> from graphnet.layers import TextVectorization
            >>> vectorize = TextVectorization()
            >>> vectorize.adapt(["the cat", "the dog", "a dog"])
            >>> vectorize.get_vocabulary()
            ['', '[UNK]', 'the', 'dog', 'cat', 'a']
        """
        if self.lookup_layer.has_input_vocabulary:
            raise ValueError(f"{self.who}: cannot adapt after a vocabulary was given")
        docs = []
        for batch in batches(data, steps, self.who):
            docs.extend(self._documents(batch))
        self.lookup_layer.adapt_documents(docs)

    # ---- strings to tokens -------------------------------------------------------------
    def _standardize(self, texts):
        if callable(self.standardize):
            out = np.asarray(self.standardize(texts.astype(str)))
            return as_strings(out, self.who)
        if self.standardize is None:
            return texts

        def one(text):
            data = text.encode("utf-8", ESCAPE)
            if self.standardize in ("lower", "lower_and_strip_punctuation"):
                data = data.lower()
            if self.standardize in ("strip_punctuation", "lower_and_strip_punctuation"):
                data = data.translate(None, PUNCTUATION)
            return data.decode("utf-8", ESCAPE)
        return np.vectorize(one, otypes=[object])(texts) if texts.size else texts

    def _split(self, texts):
        if self.split == "whitespace":
            return [[t.decode("utf-8", ESCAPE) for t in s.encode("utf-8", ESCAPE).split()]
                    for s in texts]
        if self.split == "character":
            return [list(s) for s in texts]
        rows = self.split(np.asarray(list(texts), dtype=str))
        return [[str(t) for t in np.asarray(as_strings(row, self.who)).ravel()] for row in rows]

    def _ngrams(self, tokens):
        out = []
        for width in self.ngrams:
            out.extend(" ".join(tokens[i:i + width]) for i in range(len(tokens) - width + 1))
        return out

    def _rows(self, texts):
        """Standardized strings as token rows (one per string): split, then n-grams."""
        if texts.ndim > 1:
            if texts.shape[-1] != 1:
                raise ValueError(f"{self.who}: to split strings the input must have rank 1 "
                                 f"or a last axis of size 1, received shape {texts.shape}")
            texts = texts[..., 0]
        rows = self._split(texts.reshape(-1))
        if self.ngrams is not None:
            rows = [self._ngrams(r) for r in rows]
        return rows

    def _documents(self, batch):
        """The documents `adapt` counts in one batch, as Keras forms them."""
        texts = self._standardize(as_strings(batch, self.who))
        if self.split is not None:
            return self._rows(texts if texts.ndim else texts[None])
        if self.ngrams is not None:
            raise NotImplementedError(f"{self.who}: ngrams with split=None")
        return [list(texts.ravel())] if texts.ndim <= 1 else \
            [list(r) for r in texts.reshape(len(texts), -1)]

    def host_output_spec(self, input_shape, input_dtype):
        self._need_strings(input_dtype)
        if self.split is None:
            return self.lookup_layer.vector_spec(input_shape) if self.output_mode != "int" \
                else ((*input_shape[:-1], self.output_sequence_length)
                      if self.output_sequence_length else tuple(input_shape), "int32")
        if len(input_shape) > 2 or (len(input_shape) == 2 and input_shape[-1] != 1):
            raise ValueError(f"{self.who}: to split strings the input must have shape "
                             f"(batch,) or (batch, 1), received {input_shape}")
        if self.output_mode == "int":
            if self.output_sequence_length is None:
                raise NotImplementedError(
                    f"{self.who}: inside a model, output_mode='int' needs "
                    f"output_sequence_length (each batch would otherwise be padded to its own "
                    f"longest text)")
            return (input_shape[0], self.output_sequence_length), "int32"
        return self.lookup_layer.vector_spec((input_shape[0], None))

    def host_call(self, inputs):
        texts = self._standardize(as_strings(inputs, self.who))
        lookup = self.lookup_layer
        if self.split is None:
            if self.ngrams is not None:
                raise NotImplementedError(f"{self.who}: ngrams with split=None")
            ids = lookup.lookup(texts)
            if self.output_mode != "int":
                return lookup.encode_indices(ids)
            if self.output_sequence_length is None or ids.ndim == 0:
                return ids
            length = self.output_sequence_length
            ids = ids[..., :length]
            pad = [(0, 0)] * (ids.ndim - 1) + [(0, length - ids.shape[-1])]
            return np.pad(ids, pad)
        scalar = texts.ndim == 0
        ids = [lookup.lookup(np.asarray(r, dtype=object)) for r in
               self._rows(texts[None] if scalar else texts)]
        if self.output_mode != "int":
            out = lookup.encode_indices(ids)
            return out[0] if scalar else out
        length = (max((len(r) for r in ids), default=0) if self.output_sequence_length is None
                  else self.output_sequence_length)
        out = np.zeros((len(ids), length), np.int64)
        for i, r in enumerate(ids):
            r = r[:length]
            out[i, :len(r)] = r
        return out[0] if scalar else out

    def get_config(self):
        lookup = self.lookup_layer
        inner = lookup.get_config()          # an adapted vocabulary included
        vocab, idf = inner["vocabulary"], inner["idf_weights"]
        return {**super().get_config(), "max_tokens": lookup.max_tokens,
                "standardize": _by_name(self.standardize), "split": _by_name(self.split),
                "ngrams": self.ngrams_arg, "output_mode": self.output_mode,
                "output_sequence_length": self.output_sequence_length,
                "pad_to_max_tokens": lookup.pad_to_max_tokens, "sparse": False,
                "ragged": False,
                "vocabulary": vocab.tolist() if isinstance(vocab, np.ndarray) else vocab,
                "idf_weights": idf.tolist() if isinstance(idf, np.ndarray) else idf,
                "encoding": self.encoding, "vocabulary_size": self.vocabulary_size()}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        for key, names in (("standardize", STANDARDIZE), ("split", SPLIT)):
            if isinstance(config.get(key), str) and config[key] not in names:
                config[key] = get_registered(config[key])
        return cls(**config)


def _by_name(value):
    """A callable `standardize` or `split` as its registered name (how a config saves it);
    an unregistered function stays itself, which saving refuses with its name."""
    if callable(value):
        return registered_name(value) or value
    return value
