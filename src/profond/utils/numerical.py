"""Keras's array utilities: one-hot labels (``to_categorical``), norms (``normalize``) and
padded sequence batches (``pad_sequences``), on NumPy arrays."""

from __future__ import annotations

import numbers

import numpy as np

from profond import ops
from profond._validation import check_choice, check_int
from profond.autograd.tensor import Tensor

__all__ = ["to_categorical", "normalize", "pad_sequences"]


def to_categorical(x, num_classes=None):
    """One-hot encode integer class labels (Keras's ``keras.utils.to_categorical``).

    Parameters
    ----------
    x : array-like of int, shape (...) or (..., 1)
        Class indices in ``[0, num_classes)``; a last axis of length 1 is dropped first.
    num_classes : int, optional
        Default: ``max(x) + 1``.

    Returns
    -------
    ndarray of float64, shape x.shape + (num_classes,)
        As Keras's for NumPy input (``fit`` casts it to the model's dtype).

    Examples
    --------
    >>> from profond.utils import to_categorical
    >>> to_categorical([0, 2, 1], num_classes=3)
    array([[1., 0., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    """
    if isinstance(x, Tensor):
        x = x.numpy()
    labels = np.asarray(x)
    if labels.size and (labels.dtype.kind not in "biuf" or
                        not np.array_equal(labels, np.round(labels))):
        raise ValueError("The 'x' parameter of to_categorical must hold integer class labels. "
                         f"Got an array of dtype {labels.dtype} instead.")
    labels = labels.astype(np.int64)
    shape = labels.shape
    if len(shape) > 1 and shape[-1] == 1:
        shape = shape[:-1]
    labels = labels.reshape(-1)
    if num_classes is None or num_classes == 0:  # Keras's "not num_classes"
        num_classes = int(labels.max()) + 1 if labels.size else 0
    num_classes = check_int(num_classes, "num_classes", "to_categorical", low=1)
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(f"The 'x' parameter of to_categorical must hold labels in [0, "
                         f"{num_classes}). Got labels from {labels.min()} to {labels.max()} "
                         "instead.")
    out = np.zeros((labels.size, num_classes))
    out[np.arange(labels.size), labels] = 1
    return out.reshape(shape + (num_classes,))


def normalize(x, axis=-1, order=2):
    """``x`` divided by its ``order``-norm along ``axis`` (zero norms left as they are).

    Parameters
    ----------
    x : array-like or Tensor
        A Tensor gives a Tensor (differentiable, :func:`profond.ops.nn.normalize`, which keeps
        the norm at least 1e-7); anything else a NumPy array.
    axis : int, default -1
    order : int, default 2
        The norm's order, as :func:`numpy.linalg.norm` takes it (1, 2, ``np.inf`` ...).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.utils import normalize
    >>> normalize(np.array([[3.0, 4.0], [0.0, 0.0]]))
    array([[0.6, 0.8],
           [0. , 0. ]])
    """
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise ValueError(f"The 'axis' parameter of normalize must be an int. Got {axis!r} "
                         "instead.")
    if isinstance(x, Tensor):  # as Keras's: its tensors go to ops.nn.normalize
        return ops.nn.normalize(x, axis=axis, order=order)
    x = np.asarray(x)
    if not -max(x.ndim, 1) <= axis < max(x.ndim, 1):
        raise ValueError(f"The 'axis' parameter of normalize must be an axis of the input of "
                         f"shape {x.shape}. Got {axis} instead.")
    # Keras writes "axis or -1", which turns axis=0 into -1; here axis=0 is axis 0
    norm = np.linalg.norm(x, order, axis, keepdims=True)
    norm[norm == 0] = 1
    return x / norm


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pad (and cut) a list of sequences to one length (Keras's ``pad_sequences``).

    Parameters
    ----------
    sequences : list of array-like
        Each of shape ``(length,) + sample_shape``, the same ``sample_shape`` for all.
    maxlen : int, optional
        The output length; default the longest sequence's.
    dtype : str or dtype, default "int32"
    padding, truncating : {"pre", "post"}, default "pre"
        Pad, and cut what is over ``maxlen``, at the start ("pre") or the end ("post").
    value : float or str, default 0.0
        The padding value.

    Returns
    -------
    ndarray, shape (len(sequences), maxlen) + sample_shape

    Examples
    --------
    >>> from profond.utils import pad_sequences
    >>> pad_sequences([[1, 2, 3], [4]], maxlen=2)
    array([[2, 3],
           [0, 4]], dtype=int32)
    >>> pad_sequences([[1, 2, 3], [4]], padding="post")
    array([[1, 2, 3],
           [4, 0, 0]], dtype=int32)
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError("The 'sequences' parameter of pad_sequences must be a list of "
                         f"sequences. Got {sequences!r} instead.")
    padding = check_choice(padding, "padding", "pad_sequences", ("pre", "post"))
    truncating = check_choice(truncating, "truncating", "pad_sequences", ("pre", "post"))
    maxlen = check_int(maxlen, "maxlen", "pad_sequences", low=0, allow_none=True)
    for s in sequences:
        if not hasattr(s, "__len__"):
            raise ValueError("The 'sequences' parameter of pad_sequences must hold sequences. "
                             f"Got an item {s!r} instead.")
    lengths = [len(s) for s in sequences]
    first = next((s for s in sequences if len(s)), None)
    sample_shape = () if first is None else np.asarray(first).shape[1:]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    text = np.issubdtype(np.dtype(dtype), np.str_)
    if isinstance(value, str) and dtype is not object and not text:
        raise ValueError(f"The 'value' parameter of pad_sequences must be a number for dtype "
                         f"{dtype!r} (use dtype=object for text). Got {value!r} instead.")
    out = np.full((len(sequences), maxlen) + sample_shape, value, dtype=dtype)
    for i, s in enumerate(sequences):
        if not len(s) or not maxlen:
            continue
        kept = np.asarray(s[-maxlen:] if truncating == "pre" else s[:maxlen], dtype=dtype)
        if kept.shape[1:] != sample_shape:
            raise ValueError(f"The 'sequences' parameter of pad_sequences must hold sequences "
                             f"of one sample shape {sample_shape}. Got shape {kept.shape[1:]} "
                             f"for sequence {i} instead.")
        if padding == "post":
            out[i, :len(kept)] = kept
        else:
            out[i, -len(kept):] = kept
    return out
