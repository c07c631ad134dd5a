"""``TextVectorization``: raw strings to token ids or bag-of-words vectors, as Keras 3 does it
(standardize, split, n-grams, then a vocabulary lookup), in plain Python and NumPy (Keras runs
it on TensorFlow)."""

from __future__ import annotations

import re

import numpy as np

from profond._validation import check_choice, check_int
from profond.autograd.tensor import Tensor
from profond.layers.base import Layer
from profond.layers.lookup import StringLookup

__all__ = ["TextVectorization"]

# Keras's punctuation set (that of string.punctuation)
_PUNCTUATION = re.compile(r'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']')
_STANDARDIZE = ("lower_and_strip_punctuation", "lower", "strip_punctuation")
_SPLIT = ("whitespace", "character")


class TextVectorization(Layer):
    """Map strings to sequences of token ids (``"int"``) or to vectors over the vocabulary
    (``"multi_hot"``, ``"count"``, ``"tf_idf"``).

    Each string is standardized (lower-cased and stripped of punctuation by default), split
    into tokens (on whitespace by default), optionally extended with its n-grams, and looked
    up: in ``"int"`` mode id 0 is padding and id 1 the out-of-vocabulary token ``"[UNK]"``.

    Parameters
    ----------
    max_tokens : int, optional
        Size of the vocabulary, special tokens included.
    standardize : {"lower_and_strip_punctuation", "lower", "strip_punctuation"}, callable or None
    split : {"whitespace", "character"}, callable or None
    ngrams : int or tuple of int, optional
        ``n``: the n-grams of sizes 1 to n; a tuple: those sizes.
    output_mode : {"int", "multi_hot", "count", "tf_idf"}, default "int"
    output_sequence_length : int, optional
        ``"int"`` mode: pad or cut every sequence to this length (else: to the longest).
    pad_to_max_tokens : bool, default False
    vocabulary : list of str, optional
    idf_weights : list of float, optional
    sparse, ragged : False
    encoding : str, default "utf-8"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import TextVectorization
    >>> layer = TextVectorization(max_tokens=6, output_sequence_length=4)
    >>> layer.adapt(np.array(["The cat sat.", "The dog sat, the end!"]))
    >>> layer.get_vocabulary()
    ['', '[UNK]', 'the', 'sat', 'end', 'dog']
    >>> layer(np.array(["the cat ran"])).numpy()
    array([[2, 1, 1, 0]])
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", **kwargs):
        kwargs.pop("vocabulary_size", None)
        super().__init__(**kwargs)
        owner = "TextVectorization"
        if not callable(standardize) and standardize is not None:
            check_choice(standardize, "standardize", owner, _STANDARDIZE)
        if not callable(split) and split is not None:
            check_choice(split, "split", owner, _SPLIT)
        self.standardize, self.split = standardize, split
        if isinstance(ngrams, int) and not isinstance(ngrams, bool):
            check_int(ngrams, "ngrams", owner, low=1)
            sizes = tuple(range(1, ngrams + 1))
        elif ngrams is None:
            sizes = (1,)
        else:
            try:
                sizes = tuple(int(n) for n in ngrams)
            except (TypeError, ValueError):
                sizes = ()
            if not sizes or min(sizes) < 1:
                raise ValueError("The 'ngrams' parameter of TextVectorization must be None, an "
                                 f"int >= 1 or a tuple of them. Got {ngrams!r} instead.")
        self.ngrams, self._sizes = ngrams, sizes
        self.output_mode = check_choice(output_mode, "output_mode", owner,
                                        ("int", "multi_hot", "count", "tf_idf"))
        if output_sequence_length is not None and self.output_mode != "int":
            raise ValueError("The 'output_sequence_length' parameter of TextVectorization is "
                             f"only used with output_mode='int'. Got output_mode={output_mode!r}.")
        self.output_sequence_length = check_int(output_sequence_length,
                                                "output_sequence_length", owner, low=1,
                                                allow_none=True)
        if sparse or ragged:
            raise ValueError("The 'sparse' and 'ragged' parameters of TextVectorization must be "
                             "False (profond has dense tensors only). Got "
                             f"sparse={sparse!r}, ragged={ragged!r} instead.")
        self.sparse = self.ragged = False
        self.encoding = encoding
        self.max_tokens = max_tokens
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self._lookup = StringLookup(
            max_tokens=max_tokens, num_oov_indices=1,
            mask_token="" if self.output_mode == "int" else None,
            output_mode="int" if self.output_mode == "int" else self.output_mode,
            pad_to_max_tokens=self.pad_to_max_tokens, vocabulary=vocabulary,
            idf_weights=idf_weights, encoding=encoding, name=f"{self.name}_lookup")

    # --- text to tokens ---------------------------------------------------------------------
    def _tokens(self, text):
        if isinstance(text, bytes):
            text = text.decode(self.encoding)
        text = str(text)
        if callable(self.standardize):
            text = self.standardize(text)
        elif self.standardize is not None:
            if "lower" in self.standardize:
                text = text.lower()
            if "strip_punctuation" in self.standardize:
                text = _PUNCTUATION.sub("", text)
        if callable(self.split):
            words = list(self.split(text))
        elif self.split == "whitespace":
            words = text.split()
        elif self.split == "character":
            words = list(text)
        else:
            words = [text]
        out = []
        for n in self._sizes:
            out.extend(" ".join(words[i:i + n]) for i in range(len(words) - n + 1))
        return out

    def _texts(self, inputs):
        data = inputs.numpy() if isinstance(inputs, Tensor) else np.asarray(inputs, dtype=object)
        if data.ndim == 2 and data.shape[1] == 1:
            data = data[:, 0]
        if data.ndim != 1:
            raise ValueError(f"Input of layer '{self.name}' (TextVectorization) must be strings "
                             f"of shape (batch,) or (batch, 1). Got shape {data.shape} instead.")
        return data.tolist()

    def adapt(self, data):
        """Build the vocabulary (and IDF weights) from the strings of ``data``."""
        texts = data if isinstance(data, (list, tuple)) and not hasattr(data, "shape") \
            else self._texts(data)
        self._lookup.adapt_rows([self._tokens(t) for t in texts])

    def get_vocabulary(self, include_special_tokens=True):
        return self._lookup.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        return self._lookup.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        self._lookup.set_vocabulary(vocabulary, idf_weights)

    def __call__(self, inputs, *args, **kwargs):
        # strings are no tensors: the layer runs on the host data
        return self.call(inputs)

    def call(self, inputs):
        rows = [self._tokens(t) for t in self._texts(inputs)]
        lookup = self._lookup
        if self.output_mode == "int":
            length = self.output_sequence_length or max((len(r) for r in rows), default=0)
            ids = np.zeros((len(rows), length), dtype="int64")
            for i, row in enumerate(rows):
                row = row[:length]
                if row:
                    ids[i, :len(row)] = lookup(np.array(row, dtype=object)).numpy()
            return Tensor(ids, dtype=ids.dtype)
        depth = lookup._depth()
        out = np.zeros((len(rows), depth), dtype="float32")
        for i, row in enumerate(rows):
            if row:
                counts = lookup(np.array(row, dtype=object)[None]).numpy()[0]
                out[i] = counts
        return Tensor(out, dtype=out.dtype)

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return (input_shape[0], self.output_sequence_length)
        return (input_shape[0], self._lookup._depth() if self._lookup._tokens else None)

    def get_config(self):
        return {**super().get_config(), "max_tokens": self.max_tokens,
                "standardize": self.standardize if not callable(self.standardize) else None,
                "split": self.split if not callable(self.split) else None,
                "ngrams": self.ngrams, "output_mode": self.output_mode,
                "output_sequence_length": self.output_sequence_length,
                "pad_to_max_tokens": self.pad_to_max_tokens, "sparse": False, "ragged": False,
                "vocabulary": list(self._lookup._tokens) or None,
                "idf_weights": None if self._lookup._idf is None
                else self._lookup._idf[self._lookup._start():].tolist(),
                "encoding": self.encoding}
