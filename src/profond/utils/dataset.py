"""Keras's dataset utilities on arrays: ``split_dataset`` and ``timeseries_dataset_from_array``.

Keras returns ``tf.data`` datasets; profond returns what ``fit`` takes without TensorFlow:
arrays (in the caller's structure) for a split, and a sequence of ``(inputs, targets)`` batches
(``len`` and indexing, as a Keras ``PyDataset``) for time-series windows.
"""

from __future__ import annotations

import numbers
import random as _py_random

import numpy as np

from profond import random
from profond._validation import check_int

__all__ = ["split_dataset", "timeseries_dataset_from_array", "TimeseriesDataset",
           "pack_x_y_sample_weight", "unpack_x_y_sample_weight"]


def _split_size(size, name, total):
    """A size as Keras takes it: a fraction in (0, 1) or a count in (0, total); None kept."""
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, (numbers.Integral, numbers.Real)):
        raise TypeError(f"The '{name}' parameter of split_dataset must be an int, a float or "
                        f"None. Got {size!r} instead.")
    if isinstance(size, numbers.Integral):
        if not 0 < size < total:
            raise ValueError(f"The '{name}' parameter of split_dataset must be an int in [1, "
                             f"{total - 1}] (the dataset has {total} samples). Got {size} "
                             "instead.")
        return int(size)
    if not 0 < size < 1:
        raise ValueError(f"The '{name}' parameter of split_dataset must be a float in (0, 1). "
                         f"Got {size} instead.")
    return round(size * total)  # Python's round, as Keras's (half to even)


def _split_sizes(left_size, right_size, total):
    if left_size is None and right_size is None:
        raise ValueError("The 'left_size' and 'right_size' parameters of split_dataset must "
                         "not both be None. Got left_size=None and right_size=None instead.")
    left, right = _split_size(left_size, "left_size", total), \
        _split_size(right_size, "right_size", total)
    left = total - right if left is None else left
    right = total - left if right is None else right
    if left + right > total or not left or not right:
        raise ValueError(f"The 'left_size' and 'right_size' parameters of split_dataset must "
                         f"give two non-empty parts of at most {total} samples together. Got "
                         f"{left} and {right} samples (left_size={left_size!r}, right_size="
                         f"{right_size!r}) instead.")
    return left, right


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None):
    """Split arrays (one, or a tuple/list/dict of arrays of one length) in two parts.

    Keras's ``keras.utils.split_dataset``: the left part is the first ``left_size`` samples, the
    right part the last ``right_size``; with ``shuffle`` the samples are shuffled first, by
    Python's ``random`` seeded with ``seed``, the same permutation as Keras's TensorFlow path.

    Parameters
    ----------
    dataset : ndarray, or tuple, list or dict of ndarrays
    left_size, right_size : int or float, optional
        A count, or a fraction of the samples (rounded); one left out is the rest. At least one.
    shuffle : bool, default False
    seed : int, optional

    Returns
    -------
    left, right
        Each in the structure of ``dataset`` (a tuple for a tuple ...).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.utils import split_dataset
    >>> (x_train, y_train), (x_test, y_test) = split_dataset(
    ...     (np.arange(10).reshape(5, 2), np.arange(5)), left_size=0.6)
    >>> y_train, y_test
    (array([0, 1, 2]), array([3, 4]))
    """
    if isinstance(dataset, dict):
        names, arrays = list(dataset), [np.asarray(a) for a in dataset.values()]
    elif isinstance(dataset, (tuple, list)):
        names, arrays = None, [np.asarray(a) for a in dataset]
    else:
        names, arrays = None, [np.asarray(dataset)]
    if not arrays or any(a.ndim == 0 for a in arrays) or \
            len({len(a) for a in arrays}) != 1:
        raise TypeError("The 'dataset' parameter of split_dataset must be an array or a "
                        "tuple, list or dict of arrays of one length. Got "
                        f"{[getattr(a, 'shape', None) for a in arrays]} shapes instead.")
    total = len(arrays[0])
    left, right = _split_sizes(left_size, right_size, total)
    order = list(range(total))
    if shuffle:
        if seed is None:
            seed = random.draw_seed()
        _py_random.Random(seed).shuffle(order)
    parts = []
    for index in (np.asarray(order[:left], dtype=np.intp),
                  np.asarray(order[total - right:], dtype=np.intp)):
        taken = [a[index] for a in arrays]
        if names is not None:
            parts.append(dict(zip(names, taken)))
        elif isinstance(dataset, (tuple, list)):
            parts.append(type(dataset)(taken))
        else:
            parts.append(taken[0])
    return tuple(parts)


class TimeseriesDataset:
    """Batches of windows over a series, computed when asked for (what
    :func:`timeseries_dataset_from_array` returns).

    ``len(ds)`` batches; ``ds[i]`` is ``(inputs, targets)`` (or ``inputs`` without targets),
    ``inputs`` of shape ``(batch, sequence_length) + data.shape[1:]`` (one window without the
    batch axis when ``batch_size`` is None). ``fit``, ``evaluate``
    and ``predict`` take it as ``x``. With ``shuffle``, the windows are shuffled again after
    each epoch (``on_epoch_end``).
    """

    def __init__(self, data, targets, starts, offsets, batch_size, rng=None):
        self.data, self.targets = data, targets
        self.starts, self.offsets = starts, offsets
        self.batch_size = batch_size
        self._rng = rng

    def __len__(self):
        return -(-len(self.starts) // (self.batch_size or 1))

    def __getitem__(self, index):
        if not -len(self) <= index < len(self):
            raise IndexError(f"batch {index} of a dataset of {len(self)} batches")
        index %= len(self)
        if self.batch_size is None:
            starts = self.starts[index]
            inputs = self.data[starts + self.offsets]
        else:
            starts = self.starts[index * self.batch_size:(index + 1) * self.batch_size]
            inputs = self.data[starts[:, None] + self.offsets]
        if self.targets is None:
            return inputs
        return inputs, self.targets[starts]

    def __iter__(self):
        return (self[i] for i in range(len(self)))

    def on_epoch_end(self):
        if self._rng is not None:
            self._rng.shuffle(self.starts)


def timeseries_dataset_from_array(data, targets, sequence_length, sequence_stride=1,
                                  sampling_rate=1, batch_size=128, shuffle=False, seed=None,
                                  start_index=None, end_index=None):
    """Windows over a series in batches (Keras's ``timeseries_dataset_from_array``).

    Window ``i`` starts at ``s = start_index + i * sequence_stride`` and holds
    ``data[s], data[s + sampling_rate], ...`` (``sequence_length`` steps); its target is
    ``targets[s]``. (For forecasting ``horizon`` steps ahead, pass ``targets=data[k:]``; or see
    :func:`profond.data.timeseries_windows`, which returns the windows and the next steps as two
    arrays.)

    Parameters
    ----------
    data : array-like, shape (n_steps, ...)
    targets : array-like, shape (n_steps, ...), or None
        None: batches hold the windows alone (for ``predict``).
    sequence_length : int
    sequence_stride : int, default 1
        Steps between the starts of consecutive windows.
    sampling_rate : int, default 1
        Steps between the samples within a window.
    batch_size : int or None, default 128
        None: one window per item, without the batch axis.
    shuffle : bool, default False
    seed : int, optional
    start_index, end_index : int, optional
        Only ``data[start_index:end_index]`` is read.

    Returns
    -------
    TimeseriesDataset

    Examples
    --------
    >>> import numpy as np
    >>> from profond.utils import timeseries_dataset_from_array
    >>> ds = timeseries_dataset_from_array(np.arange(10), np.arange(10) * 10, sequence_length=3,
    ...                                    sampling_rate=2, batch_size=4)
    >>> len(ds), ds[0][0].tolist(), ds[0][1].tolist()
    (2, [[0, 2, 4], [1, 3, 5], [2, 4, 6], [3, 5, 7]], [0, 10, 20, 30])
    """
    owner = "timeseries_dataset_from_array"
    data = np.asarray(data)
    if data.ndim == 0:
        raise ValueError(f"The 'data' parameter of {owner} must have a time axis. Got a scalar "
                         "instead.")
    n = len(data)
    sequence_length = check_int(sequence_length, "sequence_length", owner, low=1)
    sequence_stride = check_int(sequence_stride, "sequence_stride", owner, low=1, high=n - 1)
    sampling_rate = check_int(sampling_rate, "sampling_rate", owner, low=1, high=n - 1)
    batch_size = check_int(batch_size, "batch_size", owner, low=1, allow_none=True)
    start = check_int(start_index or 0, "start_index", owner, low=0, high=n - 1)
    end = check_int(n if end_index is None else end_index, "end_index", owner, low=start + 1,
                    high=n)
    if end_index is not None and end_index == n:  # Keras refuses it: "lower than the length"
        raise ValueError(f"The 'end_index' parameter of {owner} must be an int in "
                         f"[{start + 1}, {n - 1}]. Got {end_index} instead.")
    count = end - start - (sequence_length - 1) * sampling_rate
    if targets is not None:
        targets = np.asarray(targets)
        count = min(count, len(targets) - start)
    starts = start + np.arange(0, max(count, 0), sequence_stride)
    rng = None
    if shuffle:
        rng = random.generator(random.draw_seed() if seed is None else seed)
        rng.shuffle(starts)
    offsets = np.arange(sequence_length) * sampling_rate
    return TimeseriesDataset(data, targets, starts, offsets, batch_size, rng)


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """The tuple a batch source yields: ``(x, y, sample_weight)`` without its trailing Nones
    (``x`` alone stays as it is, unless it is a tuple or list, which is wrapped in a 1-tuple so
    that it is not read as ``(x, y)``).

    Examples
    --------
    >>> from profond.utils import pack_x_y_sample_weight
    >>> pack_x_y_sample_weight([1, 2]), pack_x_y_sample_weight(1, 2)
    (([1, 2],), (1, 2))
    """
    if y is None:
        return (x,) if isinstance(x, (tuple, list)) else x
    return (x, y) if sample_weight is None else (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from a batch (a lone ``x``, or a tuple or list of 1 to 3),
    the missing ones None.

    Examples
    --------
    >>> from profond.utils import unpack_x_y_sample_weight
    >>> unpack_x_y_sample_weight(("x", "y"))
    ('x', 'y', None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if not 1 <= len(data) <= 3:
        raise ValueError("The 'data' parameter of unpack_x_y_sample_weight must be x or a tuple "
                         f"(x,), (x, y) or (x, y, sample_weight). Got a tuple of {len(data)} "
                         "items instead.")
    return data + (None,) * (3 - len(data))
