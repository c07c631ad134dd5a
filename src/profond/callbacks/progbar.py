"""Progress display for ``fit`` (a live tqdm bar on a terminal, plain lines otherwise) and
``evaluate`` (one line).

On a terminal, each epoch has its bar (the training loss and metrics beside it while it runs)
and, when it ends, every figure of the epoch (validation ones included) on the lines below it,
wrapped to the terminal's width, so that nothing is cut off on an 80-column terminal. In a pipe
or a file, each epoch is one line.
"""

from __future__ import annotations

import os
import shutil
import sys
import time

from profond import distribution
from profond.callbacks.base import Callback

__all__ = ["ProgressBar"]


def _items(logs):
    # Keys with a "/" are detail series (per-layer gradient norms): kept out of the line.
    return [f"{k}: {v:.4g}" for k, v in logs.items()
            if isinstance(v, (int, float)) and "/" not in k]


def _fmt(logs):
    return " - ".join(_items(logs))


def _wrap(items, width, indent="  "):
    """``items`` joined by " - " on lines of at most ``width`` characters (an item longer
    than a line gets a line of its own)."""
    lines, line = [], indent
    for item in items:
        piece = item if line == indent else " - " + item
        if line != indent and len(line) + len(piece) > width:
            lines.append(line)
            line, piece = indent, item
        line += piece
    if line != indent:
        lines.append(line)
    return lines


class ProgressBar(Callback):
    """Shows each epoch's progress with loss and metrics.

    Parameters
    ----------
    verbose : int
        1: a live bar per epoch (tqdm) when the stream is a terminal, then the epoch's figures
        wrapped to the terminal's width, else one line per epoch; 2: one line per epoch.
    stream : file, optional
        Where to write (``sys.stderr`` by default).
    """

    def __init__(self, verbose: int = 1, stream=None):
        super().__init__()
        self.verbose = verbose
        self.stream = stream
        self._bar = None
        self._seen = 0
        self._t0 = 0.0
        self._in_fit = False

    def _use_bar(self):
        stream = self.stream or sys.stderr
        if self.verbose != 1 or not getattr(stream, "isatty", lambda: False)():
            return False
        try:
            import tqdm  # noqa: F401
        except ImportError:
            return False
        return True

    def _columns(self) -> int:
        """The terminal's width (COLUMNS, else the stream's terminal, else 80)."""
        stream = self.stream or sys.stderr
        if "COLUMNS" not in os.environ:
            try:
                return os.get_terminal_size(stream.fileno()).columns
            except (AttributeError, ValueError, OSError):
                pass
        return shutil.get_terminal_size((80, 24)).columns

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        self._seen = 0
        if self._use_bar() and distribution.is_primary():
            from tqdm.auto import tqdm

            total = self.params.get("steps")
            # One column short of the width: a line that fills the last column wraps on
            # some terminals.
            self._bar = tqdm(total=total, desc=f"Epoch {epoch + 1}/{self.params.get('epochs')}",
                             unit="batch", leave=True, file=self.stream or sys.stderr,
                             ncols=max(self._columns() - 1, 20))

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._seen += 1
            # Refreshing the postfix costs more than a small batch: do it a few times a second.
            if self._seen % 10 == 0 or self._seen == self.params.get("steps"):
                self._bar.set_postfix_str(_fmt(logs or {}), refresh=False)
            self._bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._t0
        stream = self.stream or sys.stderr
        if not distribution.is_primary():  # one console for every rank: rank 0's
            return
        if self._bar is not None:
            self._bar.set_postfix_str("", refresh=False)  # the figures follow, in full
            self._bar.close()
            self._bar = None
            for line in _wrap(_items(logs or {}), max(self._columns() - 1, 20)):
                print(line, file=stream, flush=True)
        else:
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')} - {elapsed:.1f}s - "
                  f"{_fmt(logs or {})}", file=stream, flush=True)

    # fit's validation runs the test hooks too: its figures go on the epoch's line instead.
    def on_train_begin(self, logs=None):
        self._in_fit = True

    def on_train_end(self, logs=None):
        self._in_fit = False

    # evaluate(): one line at the end, as Keras prints its evaluation progress.
    def on_test_begin(self, logs=None):
        if not self._in_fit:
            self._t0 = time.perf_counter()
            self._seen = 0

    def on_test_batch_end(self, batch, logs=None):
        self._seen += 1

    def on_test_end(self, logs=None):
        if self._in_fit:
            return
        elapsed = time.perf_counter() - self._t0
        if not distribution.is_primary():
            return
        print(f"{self._seen}/{self._seen} - {elapsed:.1f}s - {_fmt(logs or {})}",
              file=self.stream or sys.stderr, flush=True)
