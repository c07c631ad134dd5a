"""Keras's ``PyDataset``: the base class of a dataset that hands ``fit`` whole batches.

A subclass says how many batches there are (``__len__``) and builds batch ``i``
(``__getitem__``), as ``(x, y)`` or ``(x, y, sample_weight)``; ``fit``, ``evaluate`` and
``predict`` read it as they read any sequence of batches (see
:class:`profond.training.batching.GeneratorBatches`), calling ``on_epoch_begin`` before each
pass and ``on_epoch_end`` after it.
"""

from __future__ import annotations

from profond._validation import check_int

__all__ = ["PyDataset"]


class PyDataset:
    """Base class of a dataset of batches (Keras's ``keras.utils.PyDataset``).

    Parameters
    ----------
    workers : int, default 1
    use_multiprocessing : bool, default False
    max_queue_size : int, default 10
        Keras's settings for reading batches in parallel. They are checked and kept (a
        subclass may read them), but profond reads the batches one after the other in the
        training thread: a slow ``__getitem__`` is not overlapped with training.

    Examples
    --------
    >>> import numpy as np
    >>> import profond
    >>> class Halves(profond.utils.PyDataset):
    ...     def __init__(self, x, y, **kwargs):
    ...         super().__init__(**kwargs)
    ...         self.x, self.y = x, y
    ...     def __len__(self):
    ...         return 2
    ...     def __getitem__(self, i):
    ...         half = len(self.x) // 2
    ...         return self.x[i * half:(i + 1) * half], self.y[i * half:(i + 1) * half]
    >>> model = profond.Sequential([profond.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> history = model.fit(Halves(np.ones((8, 3)), np.ones(8)), epochs=2, verbose=0)
    >>> len(history.history["loss"]), Halves(np.ones((8, 3)), np.ones(8)).num_batches
    (2, 2)
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self.workers = check_int(workers, "workers", "PyDataset", low=1)
        self.use_multiprocessing = bool(use_multiprocessing)
        self.max_queue_size = check_int(max_queue_size, "max_queue_size", "PyDataset", low=1)

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index), "
                                  "returning batch number index.")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__(), the number of "
                                  "batches.")

    @property
    def num_batches(self):
        """The number of batches (``len(self)``)."""
        return len(self)

    def on_epoch_begin(self):
        """Called before each pass over the batches (nothing by default)."""

    def on_epoch_end(self):
        """Called after each pass over the batches (nothing by default)."""
