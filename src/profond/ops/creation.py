"""Tensors made from a shape or from other data, under Keras's ``keras.ops`` names.

Constants, not nodes: nothing here has a gradient to pass on. Float tensors take the default
float dtype (``profond.backend.floatx()``, float32) unless ``dtype`` says otherwise, as Keras's
do.

Examples
--------
>>> from profond import ops
>>> ops.ones((2, 3)).shape, ops.zeros((2,), dtype="int32").numpy().tolist()
((2, 3), [0, 0])
>>> ops.convert_to_numpy(ops.zeros_like(ops.ones((2,)))).tolist()
[0.0, 0.0]
"""

from __future__ import annotations

from profond import backend
from profond.autograd.tensor import Tensor

__all__ = ["zeros", "ones", "zeros_like", "ones_like", "convert_to_tensor", "convert_to_numpy"]


def _dtype(dtype):
    return backend.floatx() if dtype is None else dtype


def zeros(shape, dtype=None) -> Tensor:
    """A tensor of ``shape`` filled with zeros (Keras's ``ops.zeros``)."""
    return Tensor(backend.xp().zeros(shape, dtype=_dtype(dtype)))


def ones(shape, dtype=None) -> Tensor:
    """A tensor of ``shape`` filled with ones (Keras's ``ops.ones``)."""
    return Tensor(backend.xp().ones(shape, dtype=_dtype(dtype)))


def _data(x):
    return x.data if isinstance(x, Tensor) else backend.asarray(x)


def zeros_like(x, dtype=None) -> Tensor:
    """Zeros of ``x``'s shape and (unless ``dtype`` is given) dtype."""
    data = _data(x)
    return Tensor(backend.get_array_module(data).zeros_like(data, dtype=dtype))


def ones_like(x, dtype=None) -> Tensor:
    """Ones of ``x``'s shape and (unless ``dtype`` is given) dtype."""
    data = _data(x)
    return Tensor(backend.get_array_module(data).ones_like(data, dtype=dtype))


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None) -> Tensor:
    """``x`` as a tensor (Keras's ``ops.convert_to_tensor``); a tensor is returned as it is
    when no other ``dtype`` is asked. profond has neither sparse nor ragged tensors: ``sparse``
    and ``ragged`` must be None or False.
    """
    if sparse or ragged:
        raise ValueError(f"The 'sparse' and 'ragged' parameters of convert_to_tensor must be "
                         f"None or False: profond has dense tensors only. Got sparse={sparse!r}, "
                         f"ragged={ragged!r} instead.")
    if isinstance(x, Tensor) and (dtype is None or x.data.dtype == dtype):
        return x
    return Tensor(_data(x), dtype=dtype)


def convert_to_numpy(x):
    """``x`` as a NumPy array (Keras's ``ops.convert_to_numpy``; copied off a GPU)."""
    return backend.to_numpy(_data(x))
