"""The batch iterator that ``fit``, ``evaluate`` and ``predict`` share.

Arrays stay where they are (NumPy arrays, memory maps) and only each batch is gathered and
moved to the backend, in the default float dtype: data larger than memory streams from a
``numpy.memmap`` without being loaded whole, and uint8 images are converted batch by batch.
"""

from __future__ import annotations

import math

import numpy as np

from profond import backend
from profond import random as prandom
from profond.training.structure import flatten, unflatten

__all__ = ["ArrayBatches", "num_samples"]


def num_samples(*structures) -> int:
    """Common length of all arrays in the structures; raises when they differ."""
    lengths = {}
    for name, s in structures:
        for i, a in enumerate(flatten(s)):
            lengths[f"{name}[{i}]" if len(flatten(s)) > 1 else name] = len(a)
    values = set(lengths.values())
    if len(values) > 1:
        detail = ", ".join(f"{k}: {v}" for k, v in lengths.items())
        raise ValueError(f"Data cardinality is ambiguous: the arrays have different numbers of "
                         f"samples ({detail}). Make sure x, y and sample_weight have the same "
                         "first dimension.")
    return values.pop() if values else 0


class ArrayBatches:
    """Iterate over aligned structures of arrays in batches.

    Parameters
    ----------
    data : tuple
        Structures (arrays, lists or dicts of arrays, or None) with a common first axis, e.g.
        ``(x, y, sample_weight)``.
    batch_size : int
    shuffle : bool
        Draw a new permutation at each pass (from profond's seeded generator). The last
        partial batch is kept.
    seed : int or Generator, optional

    Yields
    ------
    tuple
        One batch of each structure, as backend arrays.
    """

    def __init__(self, data, batch_size: int = 32, shuffle: bool = False, seed=None):
        self.templates = tuple(data)
        self.leaves = [flatten(d) for d in self.templates]
        self.n = num_samples(*[(f"data[{i}]", d) for i, d in enumerate(self.templates)])
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.seed = seed

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size) if self.n else 0

    @staticmethod
    def _to_backend(a):
        if getattr(a, "dtype", None) is not None and a.dtype.kind in "fc":
            return backend.asarray(a, dtype=backend.floatx())
        return backend.asarray(a)

    def __iter__(self):
        bs = self.batch_size
        order = None
        if self.shuffle:
            order = prandom.generator(self.seed).permutation(self.n)
        for start in range(0, self.n, bs):
            if order is None:
                idx = slice(start, start + bs)
            else:
                # Sorted within the batch: memory maps (and caches) are read sequentially, and
                # in-memory and memory-mapped data give the same batches bit for bit.
                idx = np.sort(order[start:start + bs])
            batch = []
            for template, leaves in zip(self.templates, self.leaves):
                batch.append(unflatten(template, [self._to_backend(a[idx]) for a in leaves]))
            yield tuple(batch)
