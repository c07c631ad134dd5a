"""Progress display for ``fit`` (a live tqdm bar on a terminal, plain lines otherwise) and
``evaluate`` (one line)."""

from __future__ import annotations

import sys
import time

from profond.callbacks.base import Callback

__all__ = ["ProgressBar"]


def _fmt(logs):
    # Keys with a "/" are detail series (per-layer gradient norms): kept out of the line.
    return " - ".join(f"{k}: {v:.4g}" for k, v in logs.items()
                      if isinstance(v, (int, float)) and "/" not in k)


class ProgressBar(Callback):
    """Shows each epoch's progress with loss and metrics.

    Parameters
    ----------
    verbose : int
        1: a live bar per epoch (tqdm) when the stream is a terminal, else one line per
        epoch; 2: one line per epoch.
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

    def _use_bar(self):
        stream = self.stream or sys.stderr
        if self.verbose != 1 or not getattr(stream, "isatty", lambda: False)():
            return False
        try:
            import tqdm  # noqa: F401
        except ImportError:
            return False
        return True

    def on_epoch_begin(self, epoch, logs=None):
        self._t0 = time.perf_counter()
        self._seen = 0
        if self._use_bar():
            from tqdm.auto import tqdm

            total = self.params.get("steps")
            self._bar = tqdm(total=total, desc=f"Epoch {epoch + 1}/{self.params.get('epochs')}",
                             unit="batch", leave=True, file=self.stream or sys.stderr,
                             dynamic_ncols=True)

    def on_train_batch_end(self, batch, logs=None):
        if self._bar is not None:
            self._seen += 1
            # Refreshing the postfix costs more than a small batch: do it a few times a second.
            if self._seen % 10 == 0 or self._seen == self.params.get("steps"):
                self._bar.set_postfix_str(_fmt(logs or {}), refresh=False)
            self._bar.update(1)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._t0
        if self._bar is not None:
            self._bar.set_postfix_str(_fmt(logs or {}), refresh=False)
            self._bar.close()
            self._bar = None
        else:
            stream = self.stream or sys.stderr
            print(f"Epoch {epoch + 1}/{self.params.get('epochs')} - {elapsed:.1f}s - "
                  f"{_fmt(logs or {})}", file=stream, flush=True)

    # evaluate(): one line at the end, as Keras prints its evaluation progress.
    def on_test_begin(self, logs=None):
        self._t0 = time.perf_counter()
        self._seen = 0

    def on_test_batch_end(self, batch, logs=None):
        self._seen += 1

    def on_test_end(self, logs=None):
        elapsed = time.perf_counter() - self._t0
        print(f"{self._seen}/{self._seen} - {elapsed:.1f}s - {_fmt(logs or {})}",
              file=self.stream or sys.stderr, flush=True)
