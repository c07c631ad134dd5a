"""``Hashing`` (Keras's): strings or integers into a fixed number of bins, with no vocabulary.

Keras runs this layer on TensorFlow. profond computes the same bins from the same hashes
(:mod:`profond.layers._string_hashes`): FarmHash's ``Fingerprint64`` of each value's bytes by
default, as ``tf.strings.to_hash_bucket_fast``; SipHash-2-4 keyed by the salt with a salt, as
``tf.strings.to_hash_bucket_strong``. Integers are hashed as their decimal strings, as
TensorFlow's ``as_string`` writes them, so the bins are Keras's on every platform.
"""

from __future__ import annotations

import numbers

import numpy as np

from profond import backend
from profond._validation import check_choice, check_int
from profond.autograd.tensor import Tensor
from profond.layers._string_hashes import fingerprint64, siphash24
from profond.layers.base import Layer
from profond.layers.symbolic import is_symbolic

__all__ = ["Hashing"]

_MODES = ("int", "one_hot", "multi_hot", "count")
_INT64 = (-(1 << 63), (1 << 63) - 1)


def _encode(ids, mode, depth, dtype):
    """Bin ids in ``[0, depth)`` as one-hot vectors (a new last axis; a last axis of size 1
    replaced), or multi-hot or count vectors over the last axis (a rank-1 input is one sample);
    a scalar's one-hot is one vector."""
    if mode == "one_hot":
        if ids.ndim > 1 and ids.shape[-1] == 1:
            ids = ids[..., 0]
        return (ids[..., None] == np.arange(depth)).astype(dtype)
    if ids.ndim == 0:
        ids = ids[None]
    hot = ids[..., None] == np.arange(depth)
    if mode == "multi_hot":
        return hot.any(axis=-2).astype(dtype)
    return hot.sum(axis=-2, dtype=dtype)


def _dtype_name(dtype):
    """The dtype name of a name, a NumPy dtype, or the dict Keras writes for a dtype policy."""
    name = dtype.get("config", {}).get("name") if isinstance(dtype, dict) else dtype
    try:
        return np.dtype(name).name
    except TypeError:
        raise ValueError("The 'dtype' parameter of Hashing must be a dtype name or a dtype "
                         f"policy. Got {dtype!r} instead.") from None


def _token(value):
    """The bytes TensorFlow hashes for one value, or None for a value it cannot take."""
    if isinstance(value, bytes):
        return value
    if isinstance(value, str):
        return value.encode("utf-8")
    if isinstance(value, (bool, np.bool_)):
        return b"true" if value else b"false"
    if isinstance(value, numbers.Integral):
        return str(int(value)).encode()
    if isinstance(value, numbers.Real) and np.isfinite(value):
        return str(int(value)).encode()  # Keras casts floats to int64 first (toward zero)
    return None


def _same(value, mask_value):
    """Whether ``value`` equals the mask value; a string never equals a number."""
    text = (str, bytes)
    if isinstance(mask_value, text):
        if not isinstance(value, text):
            return False
        encode = (lambda s: s.encode("utf-8") if isinstance(s, str) else s)
        return encode(value) == encode(mask_value)
    return not isinstance(value, text) and value == mask_value


class Hashing(Layer):
    """Hash strings or integers into ``num_bins`` bins (Keras 3's layer, Keras's bins).

    A value's bin is ``Fingerprint64(value) % num_bins`` (FarmHash) or, with a ``salt``,
    ``SipHash24(salt, value) % num_bins``; integers are hashed as their decimal strings and
    floats as the decimal strings of their integer parts. With a ``mask_value`` the masked
    value goes to bin 0 and the others to ``1 + hash % (num_bins - 1)``. Nothing is learned.

    Parameters
    ----------
    num_bins : int
        Number of bins, the mask's bin included (at least 2 with a ``mask_value``).
    mask_value : str, bytes, int or None, default None
        The value sent to bin 0.
    salt : int, or pair of int, optional
        Key of SipHash-2-4 as its two 64-bit halves; a single int ``s`` means ``[s, s]``.
        Ints in TensorFlow's range ``[-2**63, 2**63)``, negative ones taken modulo ``2**64``.
        None (default): FarmHash, unkeyed.
    output_mode : {"int", "one_hot", "multi_hot", "count"}, default "int"
        ``"int"``: the bins (int64). ``"one_hot"``: one vector of ``num_bins`` per value (a last
        axis of size 1 is replaced, otherwise one is added). ``"multi_hot"``, ``"count"``: one
        vector per sample of the last axis, with a 1 for (or the count of) each bin present.
    sparse : False
        Keras's sparse outputs need TensorFlow; profond's are dense.

    Notes
    -----
    Inputs are strings, bytes or integers (or floats) of any shape: a scalar, nested lists, an
    array or a tensor. The output has the input's shape for ``"int"``; ``(..., num_bins)`` for
    ``"one_hot"`` as said above; ``input_shape[:-1] + (num_bins,)`` for ``"multi_hot"`` and
    ``"count"``. The layer runs on the host (hashing is no array operation): on a GPU its output
    is copied to the device.

    Examples
    --------
    Keras's documented examples give the same bins:

    >>> from profond.layers import Hashing
    >>> Hashing(num_bins=3)([["A"], ["B"], ["C"], ["D"], ["E"]]).numpy().ravel().tolist()
    [1, 0, 1, 1, 2]
    >>> Hashing(num_bins=3, mask_value="")([["A"], ["B"], [""], ["C"], ["D"]]).numpy().ravel()
    array([1, 1, 0, 2, 2])
    >>> Hashing(num_bins=3, salt=[133, 137])(["A", "B", "C", "D", "E"]).numpy().tolist()
    [1, 2, 1, 0, 2]
    >>> Hashing(num_bins=3, output_mode="count")([["A", "A", "B"]]).numpy()
    array([[1., 2., 0.]], dtype=float32)
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        output_mode = check_choice(output_mode, "output_mode", "Hashing", _MODES)
        dtype = kwargs.pop("dtype", None)
        if output_mode == "int":
            # Integer bins: a layer's own dtype is a float one (its weights'), so the bins' dtype
            # is kept here and written in the config as Keras writes it.
            self._int_dtype = _dtype_name(dtype or "int64")
            if self._int_dtype not in ("int32", "int64"):
                raise ValueError("The 'dtype' parameter of Hashing must be 'int32' or 'int64' "
                                 f"with output_mode='int'. Got {dtype!r} instead.")
            super().__init__(**kwargs)
        else:
            self._int_dtype = None
            super().__init__(dtype=dtype or backend.floatx(), **kwargs)
        if mask_value is not None and _token(mask_value) is None:
            raise ValueError("The 'mask_value' parameter of Hashing must be a string, bytes, "
                             f"an int or None. Got {mask_value!r} instead.")
        self.num_bins = check_int(num_bins, "num_bins", "Hashing",
                                  low=1 if mask_value is None else 2)
        self.mask_value = mask_value
        self.salt = self._check_salt(salt)
        self.output_mode = output_mode
        if sparse:
            raise ValueError("The 'sparse' parameter of Hashing must be False (profond has no "
                             f"sparse tensors). Got {sparse!r} instead.")
        self.sparse = False

    @staticmethod
    def _check_salt(salt):
        def in_range(k):
            return isinstance(k, numbers.Integral) and not isinstance(k, bool) and \
                _INT64[0] <= k <= _INT64[1]

        if salt is None:
            return None
        if in_range(salt):
            return [int(salt), int(salt)]
        if isinstance(salt, (list, tuple)) and len(salt) == 2 and all(map(in_range, salt)):
            return [int(k) for k in salt]
        raise ValueError("The 'salt' parameter of Hashing must be an int, a pair of ints (each "
                         f"in [-2**63, 2**63)) or None. Got {salt!r} instead.")

    def __call__(self, inputs, *args, **kwargs):
        # Strings are no tensors: the hashing runs on the host values; symbolic inputs go
        # through the graph as for any layer.
        if is_symbolic(inputs):
            return super().__call__(inputs, *args, **kwargs)
        values = self._host(inputs)
        if not self.built:
            self._build_input_shape = values.shape
            self.built = True
        return self.call(values)

    def _bins(self, inputs):
        """The bin of every value of ``inputs`` (int64, the inputs' shape)."""
        values = self._host(inputs)
        flat = values.reshape(-1).tolist()
        tokens = [_token(v) for v in flat]
        if None in tokens:
            bad = flat[tokens.index(None)]
            raise ValueError(f"The inputs of layer '{self.name}' (Hashing) must be strings, "
                             f"bytes, integers or finite floats. Got {bad!r} (among inputs of "
                             f"shape {values.shape}) instead.")
        depth = self.num_bins if self.mask_value is None else self.num_bins - 1
        hashes = fingerprint64(tokens) if self.salt is None else siphash24(tokens, self.salt)
        ids = (hashes % np.uint64(depth)).astype(np.int64)
        if self.mask_value is not None:
            masked = np.fromiter((_same(v, self.mask_value) for v in flat), dtype=bool,
                                 count=len(flat))
            ids = np.where(masked, 0, ids + 1)
        return ids.reshape(values.shape)

    @staticmethod
    def _host(inputs):
        if isinstance(inputs, Tensor):
            return backend.to_numpy(inputs.data)
        if isinstance(inputs, np.ndarray):
            return inputs
        if hasattr(inputs, "__cuda_array_interface__"):
            return backend.to_numpy(inputs)
        values = np.asarray(inputs)
        # Fixed-width string arrays drop trailing NUL bytes: keep the values as given.
        return np.asarray(inputs, dtype=object) if values.dtype.kind in "SU" else values

    def call(self, inputs):
        ids = self._bins(inputs)
        if self._int_dtype is not None:
            return Tensor(ids, dtype=self._int_dtype)
        dtype = self.dtype or backend.floatx()
        return Tensor(_encode(ids, self.output_mode, self.num_bins, dtype), dtype=dtype)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        if self.output_mode == "one_hot" and (len(input_shape) < 2 or input_shape[-1] != 1):
            return input_shape + (self.num_bins,)
        return input_shape[:-1] + (self.num_bins,)

    def get_config(self):
        config = super().get_config()
        if self._int_dtype is not None:
            config["dtype"] = self._int_dtype
        return {**config, "num_bins": self.num_bins, "salt": self.salt,
                "mask_value": self.mask_value, "output_mode": self.output_mode,
                "sparse": self.sparse}
