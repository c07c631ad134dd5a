"""Vocabulary lookups: ``StringLookup`` and ``IntegerLookup`` map tokens to integer ids (or
one-hot, multi-hot, count, TF-IDF vectors) and back, with Keras 3's index layout::

    [mask token (int mode, when given)] [OOV ids] [vocabulary, most frequent first]

Keras runs these layers on TensorFlow's hash tables; here the table is a Python dict, and
``adapt`` counts tokens with :class:`collections.Counter` (ties broken as Keras does: by the
token, descending).
"""

from __future__ import annotations

import collections
import math

import numpy as np

from profond import backend
from profond._validation import check_choice, check_int
from profond.autograd.tensor import Tensor
from profond.layers.base import Layer
from profond.layers.categorical import encode_categorical
from profond.layers.masks import set_mask
from profond.layers.symbolic import is_symbolic

__all__ = ["StringLookup", "IntegerLookup"]

_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def _host(x):
    return backend.to_numpy(x.data) if isinstance(x, Tensor) else np.asarray(x)


class _IndexLookup(Layer):
    _kind = "token"

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                 idf_weights, invert, output_mode, pad_to_max_tokens, sparse, **kwargs):
        kwargs.pop("vocabulary_size", None)  # Keras writes it in configs; the vocabulary says it
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.max_tokens = check_int(max_tokens, "max_tokens", owner, low=2, allow_none=True)
        self.num_oov_indices = check_int(num_oov_indices, "num_oov_indices", owner, low=0,
                                         high=1)
        self.mask_token, self.oov_token = mask_token, oov_token
        self.output_mode = check_choice(output_mode, "output_mode", owner, _MODES)
        self.invert = bool(invert)
        if self.invert and self.output_mode != "int":
            raise ValueError(f"The 'output_mode' parameter of {owner} must be 'int' when "
                             f"invert=True. Got {output_mode!r} instead.")
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        if self.pad_to_max_tokens and self.max_tokens is None:
            raise ValueError(f"The 'max_tokens' parameter of {owner} must be set when "
                             "pad_to_max_tokens=True. Got None instead.")
        if sparse:
            raise ValueError(f"The 'sparse' parameter of {owner} must be False. Got True "
                             "instead.")
        self.sparse = False
        if idf_weights is not None and self.output_mode != "tf_idf":
            raise ValueError(f"The 'idf_weights' parameter of {owner} is only used with "
                             f"output_mode='tf_idf'. Got output_mode={output_mode!r}.")
        self._tokens: list = []
        self._idf = None
        self.supports_masking = mask_token is not None
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)
        elif self.output_mode == "tf_idf" and idf_weights is not None:
            raise ValueError(f"The 'vocabulary' parameter of {owner} must be given with "
                             "idf_weights. Got None instead.")

    def __call__(self, inputs, *args, **kwargs):
        # Strings are no tensors: the lookup runs on the host data, the rest as for any layer.
        if is_symbolic(inputs):
            return super().__call__(inputs, *args, **kwargs)
        out = self.call(inputs)
        mask = self.compute_mask(inputs)
        if mask is not None and isinstance(out, Tensor):
            set_mask(out, backend.asarray(mask))
        return out

    # --- the index layout -----------------------------------------------------------------
    def _mask_slot(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _start(self):
        return self._mask_slot() + self.num_oov_indices

    def vocabulary_size(self):
        """Ids the layer gives: mask, OOV and vocabulary."""
        return self._start() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens=True):
        """The token of each id (with the mask and OOV tokens first, by default)."""
        special = ([self.mask_token] if self._mask_slot() else []) + \
            [self.oov_token] * self.num_oov_indices
        return (special if include_special_tokens else []) + list(self._tokens)

    def _normalise(self, token):
        return token

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Set the vocabulary (and the IDF weights of ``tf_idf``) directly."""
        owner = type(self).__name__
        tokens = [self._normalise(t) for t in _host(vocabulary).ravel().tolist()]
        special = ([self.mask_token] if self._mask_slot() else []) + \
            [self.oov_token] * self.num_oov_indices
        given_special = tokens[:len(special)] == special and bool(special)
        if given_special:
            tokens = tokens[len(special):]
        if not tokens:
            raise ValueError(f"The 'vocabulary' parameter of {owner} must hold at least one "
                             "token. Got an empty vocabulary instead.")
        repeated = [t for t, n in collections.Counter(tokens).items() if n > 1]
        if repeated:
            raise ValueError(f"The 'vocabulary' parameter of {owner} must not repeat a token. "
                             f"Got {repeated[:5]!r} more than once.")
        if self.mask_token is not None and self.mask_token in tokens:
            raise ValueError(f"The 'vocabulary' parameter of {owner} must not hold the mask "
                             f"token {self.mask_token!r} (it has index 0 of its own).")
        if self.max_tokens is not None and len(tokens) + self._start() > self.max_tokens:
            raise ValueError(f"The 'vocabulary' parameter of {owner} must fit in max_tokens="
                             f"{self.max_tokens} with the special tokens. Got "
                             f"{len(tokens)} tokens instead.")
        self._tokens = tokens
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError(f"The 'idf_weights' parameter of {owner} must be given with a "
                                 "vocabulary in output_mode='tf_idf'. Got None instead.")
            idf = np.asarray(_host(idf_weights), dtype="float32").ravel()
            if idf.size != len(tokens) + (len(special) if given_special else 0):
                raise ValueError(f"The 'idf_weights' parameter of {owner} must hold one weight "
                                 f"per vocabulary token ({len(tokens)}). Got {idf.size} "
                                 "instead.")
            if not given_special:  # the special ids get the average weight, as in Keras
                idf = np.concatenate([np.full(self._start(), idf.mean(), "float32"), idf])
            self._idf = idf
        self._index = {t: i + self._start() for i, t in enumerate(tokens)}

    def adapt(self, data):
        """Build the vocabulary from ``data``: its tokens by decreasing frequency (at most
        ``max_tokens`` ids in all), and for ``tf_idf`` the inverse document frequencies (a
        document is a row of ``data``)."""
        arrays = [data] if isinstance(data, (np.ndarray, Tensor, str)) or \
            np.isscalar(data) else list(data)
        rows = []
        for batch in arrays:
            batch = _host(batch)
            for row in (batch.reshape(batch.shape[0], -1) if batch.ndim > 1 else batch[:, None]):
                rows.append([self._normalise(t) for t in row.tolist()])
        self.adapt_rows(rows)

    def adapt_rows(self, rows):
        """:meth:`adapt` on documents given as lists of tokens (of any lengths)."""
        counts, documents = collections.Counter(), collections.Counter()
        for row in rows:
            counts.update(row)
            documents.update(set(row))
        for special in (self.mask_token, self.oov_token):
            counts.pop(special, None)
        ordered = sorted(counts, key=lambda t: (counts[t], t), reverse=True)
        if self.max_tokens is not None:
            ordered = ordered[:self.max_tokens - self._start()]
        idf = None
        if self.output_mode == "tf_idf":
            idf = [math.log(1 + len(rows) / (1 + documents[t])) for t in ordered]
        self.set_vocabulary(ordered, idf)

    def _depth(self):
        return self.max_tokens if self.pad_to_max_tokens else self.vocabulary_size()

    def call(self, inputs):
        if not self._tokens:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) has no vocabulary: "
                             "give vocabulary= or call adapt(data) first.")
        values = _host(inputs)
        if self.invert:
            return self._inverted(values)
        oov = self._mask_slot() if self.num_oov_indices else None
        ids = np.empty(values.shape, dtype="int64")
        flat = ids.reshape(-1)
        for k, token in enumerate(values.reshape(-1).tolist()):
            token = self._normalise(token)
            if self._mask_slot() and token == self.mask_token:
                flat[k] = 0
                continue
            index = self._index.get(token, oov)
            if index is None:
                raise ValueError(f"Layer '{self.name}' ({type(self).__name__}) met the "
                                 f"{self._kind} {token!r}, not in its vocabulary, with "
                                 "num_oov_indices=0.")
            flat[k] = index
        if self.output_mode == "int":
            return Tensor(ids, dtype=ids.dtype)
        out = encode_categorical(ids, self.output_mode, self._depth(),
                                 f"layer '{self.name}' ({type(self).__name__})",
                                 idf_weights=None if self._idf is None
                                 else np.pad(self._idf, (0, self._depth() - self._idf.size)),
                                 dtype=self.compute_dtype)
        return Tensor(out, dtype=out.dtype)

    def _inverted(self, ids):
        vocab = self.get_vocabulary()
        tokens = [vocab[i] if 0 <= i < len(vocab) else self.oov_token
                  for i in ids.reshape(-1).tolist()]
        return np.array(tokens, dtype=self._invert_dtype).reshape(ids.shape)

    def compute_mask(self, inputs, mask=None):
        if self.mask_token is None or self.output_mode != "int" or self.invert:
            return None
        return _host(inputs) != self.mask_token

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        if self.output_mode == "one_hot" and not (len(input_shape) > 1
                                                  and input_shape[-1] == 1):
            return input_shape + (self._depth(),)
        return input_shape[:-1] + (self._depth(),)

    def get_config(self):
        return {**super().get_config(), "invert": self.invert, "max_tokens": self.max_tokens,
                "num_oov_indices": self.num_oov_indices, "oov_token": self.oov_token,
                "mask_token": self.mask_token, "output_mode": self.output_mode,
                "sparse": self.sparse, "pad_to_max_tokens": self.pad_to_max_tokens,
                "vocabulary": list(self._tokens) or None,
                "idf_weights": None if self._idf is None
                else self._idf[self._start():].tolist()}


class StringLookup(_IndexLookup):
    """Strings to integer ids (or vectors), and back with ``invert=True``.

    Parameters
    ----------
    max_tokens : int, optional
        Most ids in all (special tokens included).
    num_oov_indices : {0, 1}, default 1
        Ids for tokens outside the vocabulary (0: such a token is an error).
    mask_token : str, optional
        Maps to id 0 and masks the step (in "int" mode).
    oov_token : str, default "[UNK]"
    vocabulary : list of str, optional
    idf_weights : list of float, optional (``tf_idf``)
    invert : bool, default False
    output_mode : {"int", "one_hot", "multi_hot", "count", "tf_idf"}, default "int"
    pad_to_max_tokens : bool, default False
    sparse : False
    encoding : str, default "utf-8"
        How bytes inputs are decoded.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import StringLookup
    >>> layer = StringLookup(vocabulary=["a", "b", "c"])
    >>> layer(np.array([["a", "c", "z"]])).numpy()
    array([[1, 3, 0]])
    >>> StringLookup(vocabulary=["a", "b", "c"], invert=True)(np.array([[1, 3, 0]]))
    array([['a', 'c', '[UNK]']], dtype=object)
    """

    _invert_dtype = object

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", **kwargs):
        self.encoding = encoding
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, pad_to_max_tokens, sparse,
                         **kwargs)

    def _normalise(self, token):
        return token.decode(self.encoding) if isinstance(token, bytes) else str(token)

    def get_config(self):
        return {**super().get_config(), "encoding": self.encoding,
                "vocabulary_dtype": "string"}


class IntegerLookup(_IndexLookup):
    """Integers (arbitrary ids: years, codes) to contiguous ids (or vectors), and back.

    Parameters
    ----------
    max_tokens, num_oov_indices, vocabulary, idf_weights, invert, output_mode,
    pad_to_max_tokens, sparse
        As for :class:`StringLookup`.
    mask_token : int, optional
    oov_token : int, default -1
        What ``invert`` gives for an OOV id.
    vocabulary_dtype : "int64"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import IntegerLookup
    >>> layer = IntegerLookup()
    >>> layer.adapt(np.array([12, 36, 12, 1138, 12, 36]))
    >>> layer.get_vocabulary()
    [-1, 12, 36, 1138]
    >>> layer(np.array([[12, 1138, 42]])).numpy()
    array([[1, 3, 0]])
    """

    _kind = "integer"
    _invert_dtype = "int64"

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False, **kwargs):
        self.vocabulary_dtype = check_choice(vocabulary_dtype, "vocabulary_dtype",
                                             "IntegerLookup", ("int64", "int32"))
        super().__init__(max_tokens, num_oov_indices, mask_token, oov_token, vocabulary,
                         idf_weights, invert, output_mode, pad_to_max_tokens, sparse,
                         **kwargs)

    def _normalise(self, token):
        if isinstance(token, float) and not token.is_integer():
            raise ValueError(f"The inputs of IntegerLookup must be integers. Got {token!r} "
                             "instead.")
        return int(token)

    def get_config(self):
        return {**super().get_config(), "vocabulary_dtype": self.vocabulary_dtype}
