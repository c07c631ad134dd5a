"""The batch iterators that ``fit``, ``evaluate`` and ``predict`` share.

:class:`ArrayBatches` cuts aligned arrays into batches. Arrays stay where they are (NumPy arrays,
memory maps) and only each batch is gathered and moved to the backend, in the default float
dtype: data larger than memory streams from a ``numpy.memmap`` without being loaded whole, and
uint8 images are converted batch by batch. With ``shuffle`` each pass draws a new permutation
from profond's seeded generator; the last partial batch is kept.

:class:`GeneratorBatches` takes batches from the caller instead: a Python generator or iterator,
any iterable, or a Keras-style sequence (``__len__`` and ``__getitem__``), each yielding
``(x, y)`` or ``(x, y, sample_weight)`` tuples (or ``x`` alone for ``predict``).
"""

from __future__ import annotations

import collections.abc
import math
import warnings

import numpy as np

from profond import backend
from profond import random as prandom
from profond.training.structure import flatten, unflatten

__all__ = ["ArrayBatches", "GeneratorBatches", "StepBatches", "is_batch_source",
           "num_samples"]


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

    @classmethod
    def from_leaves(cls, templates, leaves, n: int, batch_size: int = 32,
                    shuffle: bool = False, seed=None):
        """Batches of structures already flattened (and their sample count ``n`` checked) by
        the caller, as the data adapter does once per argument.

        Parameters
        ----------
        templates : tuple
            The structures, as for ``data``.
        leaves : list of lists
            ``flatten(template)`` of each structure.
        n : int
            Their common number of samples.
        """
        batches = cls.__new__(cls)
        batches.templates, batches.leaves, batches.n = tuple(templates), list(leaves), int(n)
        batches.batch_size, batches.shuffle, batches.seed = int(batch_size), shuffle, seed
        return batches

    def __len__(self) -> int:
        return math.ceil(self.n / self.batch_size) if self.n else 0

    def first(self):
        """The first batch (in order, not shuffled): what a model is built on."""
        return next(iter(ArrayBatches.from_leaves(self.templates, self.leaves, self.n,
                                                  batch_size=self.batch_size)))

    @staticmethod
    def _to_backend(a):
        if getattr(a, "dtype", None) is not None and a.dtype.kind in "fc":
            return backend.asarray(a, dtype=backend.floatx())
        return backend.asarray(a)

    @staticmethod
    def _mover(a):
        """The conversion a gathered batch of ``a`` needs (None: it is ready as it comes)."""
        kind = getattr(getattr(a, "dtype", None), "kind", None)
        if backend.xp() is np and type(a) is np.ndarray and (
                kind in "biu" or (kind == "f" and a.dtype == np.dtype(backend.floatx()))):
            return None  # fancy indexing already gives a fresh C-ordered NumPy array
        return ArrayBatches._to_backend

    def __iter__(self):
        bs = self.batch_size
        order = None
        if self.shuffle:
            order = prandom.generator(self.seed).permutation(self.n)
        # Decided once per pass, not per batch: what each leaf needs and which structures are
        # a bare array (no rebuilding of lists and dicts for them).
        movers = [[self._mover(a) for a in leaves] for leaves in self.leaves]
        bare = [t is not None and not isinstance(t, (list, tuple, dict)) for t in self.templates]
        plan = list(zip(self.templates, self.leaves, movers, bare))
        for start in range(0, self.n, bs):
            if order is None:
                idx = slice(start, start + bs)
            else:
                # Sorted within the batch: memory maps (and caches) are read sequentially, and
                # in-memory and memory-mapped data give the same batches bit for bit.
                idx = order[start:start + bs]
                idx.sort()
            batch = []
            for template, leaves, moves, is_bare in plan:
                if is_bare:
                    a, move = leaves[0][idx], moves[0]
                    batch.append(a if move is None else move(a))
                elif template is None:
                    batch.append(None)
                else:
                    batch.append(unflatten(template, [
                        a[idx] if move is None else move(a[idx])
                        for a, move in zip(leaves, moves)]))
            yield tuple(batch)


class StepBatches:
    """``steps`` batches per pass drawn from a stream of :class:`ArrayBatches` passes.

    What ``fit(x, y, steps_per_epoch=k)`` does with arrays (as Keras and PyTorch's infinite
    samplers do): an epoch is ``k`` batches; the next epoch continues where the last one
    stopped, and when the data are used up a new pass (a new shuffle) begins. No sample is
    seen twice before every sample has been seen once.

    Examples
    --------
    >>> import numpy as np
    >>> batches = StepBatches(ArrayBatches((np.arange(5),), batch_size=2), steps=2)
    >>> [b[0].tolist() for b in batches], [b[0].tolist() for b in batches]
    ([[0, 1], [2, 3]], [[4], [0, 1]])
    """

    def __init__(self, batches: ArrayBatches, steps: int):
        if len(batches) == 0:
            raise ValueError("steps_per_epoch needs data: the arrays have 0 samples.")
        self.batches = batches
        self.steps = int(steps)
        self.n = batches.n
        self._stream = None

    def __len__(self) -> int:
        return self.steps

    def first(self):
        return self.batches.first()

    def __iter__(self):
        for _ in range(self.steps):
            batch = next(self._stream, None) if self._stream is not None else None
            if batch is None:  # a pass ended (or none began): start the next one
                self._stream = iter(self.batches)
                batch = next(self._stream)
            yield batch


def is_batch_source(x) -> bool:
    """Whether ``x`` supplies batches itself (generator, iterator, iterable or sequence) rather
    than being data (an array, or a list/tuple/dict of arrays)."""
    if x is None or isinstance(x, (list, tuple, dict, str, bytes)):
        return False
    if hasattr(x, "shape") or hasattr(x, "__array__") or hasattr(x, "__array_interface__"):
        return False
    return isinstance(x, collections.abc.Iterable) or (hasattr(x, "__getitem__") and
                                                       hasattr(x, "__len__"))


class GeneratorBatches:
    """Batches drawn from a caller's source, ``steps`` per pass.

    Parameters
    ----------
    source : generator, iterator, iterable, or sequence with ``__len__``/``__getitem__``
        Yields ``(x, y)``, ``(x, y, sample_weight)`` or (with ``targets=False``) ``x``; ``x``,
        ``y`` and ``sample_weight`` may be arrays or lists/dicts of arrays.
    steps : int, optional
        Batches per pass. None: until the source runs out (its length for a sequence).
        A generator is one stream: each pass continues where the last one stopped, and when it
        runs out :attr:`exhausted` becomes True. An iterable or a sequence starts over at each
        pass (a sequence's ``on_epoch_end`` is called after each).
    targets : bool, default True
        Whether batches must carry targets (``fit``, ``evaluate``) or may be ``x`` alone
        (``predict``, where a tuple's ``y`` is ignored).
    prepare : callable, optional
        ``prepare(x, y, sample_weight) -> (x, y, sample_weight)`` applied to each batch (checks,
        class weights) before it is moved to the backend.
    what : str
        The caller, for error messages.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.training.batching import GeneratorBatches
    >>> def batches():
    ...     for i in range(3):
    ...         yield np.full((2, 1), i), np.zeros(2)
    >>> [float(x.sum()) for x, y, w in GeneratorBatches(batches(), steps=2)]
    [0.0, 2.0]
    """

    def __init__(self, source, steps=None, targets=True, prepare=None, what="fit"):
        self.source = source
        self.steps = steps
        self.targets = targets
        self.prepare = prepare
        self.what = what
        self.exhausted = False
        self.n = None
        self._is_sequence = not isinstance(source, collections.abc.Iterable)
        self._stream = None
        if isinstance(source, collections.abc.Iterator):
            self._stream = source
        self._peeked = None
        self._warned = False

    def __len__(self):
        """Batches per pass, when known (else ``TypeError``, as for any unsized iterable)."""
        if self.steps is not None:
            return self.steps
        if self._is_sequence or hasattr(self.source, "__len__"):
            return len(self.source)
        raise TypeError(f"{self.what}: the number of batches of a generator is unknown; pass "
                        "steps_per_epoch (or steps).")

    @property
    def known_length(self):
        try:
            return len(self)
        except TypeError:
            return None

    def _raw(self):
        """The source's batches for one pass (the stream itself for an iterator)."""
        if self._stream is not None:
            return self._stream
        if hasattr(self.source, "on_epoch_begin"):  # Keras's PyDataset hook
            self.source.on_epoch_begin()
        if self._is_sequence:
            return (self.source[i] for i in range(len(self.source)))
        return iter(self.source)

    def _unpack(self, item):
        if isinstance(item, tuple):
            if not 1 <= len(item) <= 3:
                raise ValueError(f"{self.what}: each batch must be (x, y) or (x, y, "
                                 f"sample_weight); got a tuple of {len(item)} items.")
            x, y, sw = (item + (None, None))[:3]
        else:
            x, y, sw = item, None, None
        if self.targets and y is None:
            raise ValueError(f"{self.what}: the batches must carry targets, as (x, y) or "
                             "(x, y, sample_weight) tuples; got a batch without y.")
        if not self.targets:
            y, sw = None, None
        if self.prepare is not None:
            x, y, sw = self.prepare(x, y, sw)
        out = []
        for d in (x, y, sw):
            out.append(unflatten(d, [ArrayBatches._to_backend(a) for a in flatten(d)])
                       if d is not None else None)
        return tuple(out)

    def first(self):
        """The first batch, kept so that the first pass still yields it."""
        if self._peeked is None:
            it = iter(self._raw())
            try:
                item = next(it)
            except StopIteration:
                raise ValueError(f"{self.what}: the batch source yielded no batches.") from None
            self._peeked = (self._unpack(item), it)
        return self._peeked[0]

    def __iter__(self):
        if self._peeked is not None:
            head, it = self._peeked
            self._peeked = None
            items = [head]
        else:
            head, it, items = None, iter(self._raw()), []
        steps = self.steps
        count = 0
        for batch in items:
            count += 1
            yield batch
        while steps is None or count < steps:
            try:
                item = next(it)
            except StopIteration:
                if self._stream is not None:
                    self.exhausted = True
                elif steps is not None and not self._warned:
                    self._warned = True
                    warnings.warn(f"{self.what}: the batch source gave {count} batches, fewer "
                                  f"than steps={steps}; each pass stops there.", UserWarning,
                                  stacklevel=2)
                break
            count += 1
            yield self._unpack(item)
        if self._stream is None and hasattr(self.source, "on_epoch_end"):
            self.source.on_epoch_end()
