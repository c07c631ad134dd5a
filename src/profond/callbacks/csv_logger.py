"""``CSVLogger``: one CSV row per epoch, written as training goes."""

from __future__ import annotations

import csv
import math
import os

from profond import distribution
from profond.callbacks.base import Callback

__all__ = ["CSVLogger"]


def _cell(value):
    if isinstance(value, float):
        return "nan" if math.isnan(value) else repr(value)
    return str(value)


class CSVLogger(Callback):
    """Stream the epoch logs to a CSV file: an ``epoch`` column, then the log keys, sorted.

    Each row is flushed when written, so the file is up to date if the run is killed. Keys
    that appear after the first epoch are dropped, and missing values are written ``NA``, as
    in Keras.

    Parameters
    ----------
    filename : str or path-like
    separator : str, default ","
    append : bool, default False
        Append to an existing file (no second header) instead of overwriting it.

    Notes
    -----
    A resumed run (from a checkpoint holding this callback's state) appends to the file
    whatever ``append`` says: the rows the checkpoint covers are kept, and a row written
    after the checkpoint (by the epoch that was killed before its checkpoint was written)
    is dropped, so that each epoch has exactly one row. The file is opened at the first
    epoch's end, so a resumed run never truncates it first.

    Examples
    --------
    >>> import os, tempfile, numpy as np, profond
    >>> from profond import layers
    >>> from profond.callbacks import CSVLogger
    >>> model = profond.Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> _ = model.fit(np.ones((4, 2)), np.ones(4), epochs=2, verbose=0,
    ...               callbacks=[CSVLogger(path)])
    >>> open(path).read().splitlines()[0]
    'epoch,loss'
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = bool(append)
        self.keys = None
        self._file = None
        self._writer = None
        self._resumed_size = None

    def on_train_begin(self, logs=None):
        self.keys = None
        self._resumed_size = None
        self._close()

    def _open(self):
        folder = os.path.dirname(os.path.abspath(self.filename))
        os.makedirs(folder, exist_ok=True)
        append = self.append or self._resumed_size is not None
        if self._resumed_size is not None and os.path.exists(self.filename) and \
                os.path.getsize(self.filename) > self._resumed_size:
            os.truncate(self.filename, self._resumed_size)  # rows past the checkpoint
        has_header = append and os.path.exists(self.filename) and \
            os.path.getsize(self.filename) > 0
        if has_header and self.keys is None:
            with open(self.filename, newline="", encoding="utf-8") as fh:
                header = next(csv.reader(fh, delimiter=self.sep), None)
            if header and header[0] == "epoch":
                self.keys = header[1:]
        self._file = open(self.filename, "a" if append else "w", newline="", encoding="utf-8")
        self._writer = csv.writer(self._file, delimiter=self.sep, lineterminator="\n")

    def get_state(self):
        """The columns and the size of the file so far (it holds every epoch up to now)."""
        if self._file is None:
            return None
        return {"keys": self.keys, "size": self._file.tell()}

    def set_state(self, state):
        self._close()
        self.keys = None if state.get("keys") is None else list(state["keys"])
        self._resumed_size = int(state["size"])

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if not distribution.is_primary():  # rank 0 writes for every rank
            return
        if self._file is None:
            self._open()
        if self.keys is None:
            self.keys = sorted(logs)
            self._writer.writerow(["epoch"] + self.keys)
        self._writer.writerow([epoch] + [_cell(logs[k]) if k in logs else "NA"
                                         for k in self.keys])
        self._file.flush()

    def on_train_end(self, logs=None):
        self._close()

    def _close(self):
        if self._file is not None:
            self._file.close()
            self._file = None
            self._writer = None
