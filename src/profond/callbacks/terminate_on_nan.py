"""``TerminateOnNaN``: stop training at the first batch whose loss is NaN or infinite."""

from __future__ import annotations

import math
import sys

from profond.callbacks.base import Callback

__all__ = ["TerminateOnNaN"]


class TerminateOnNaN(Callback):
    """Stop training as soon as the loss becomes NaN or infinite.

    A NaN loss never recovers: every later update is NaN too. To recover instead of
    stopping, use ``fit(..., divergence_guard=True)``.

    Parameters
    ----------
    raise_error : bool, default False
        Raise ``RuntimeError`` instead of stopping quietly.

    Attributes
    ----------
    stopped_batch : int or None
        The batch at which the loss went bad.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import layers
    >>> from profond.callbacks import TerminateOnNaN
    >>> model = profond.Sequential([layers.Input((1,)), layers.Dense(1)])
    >>> model.compile(optimizer=profond.optimizers.SGD(1e30), loss="mse")
    >>> x = np.full((64, 1), 1e3, dtype="float32")
    >>> stop = TerminateOnNaN()
    >>> with np.errstate(all="ignore"):
    ...     history = model.fit(x, x, epochs=5, batch_size=8, verbose=0, callbacks=[stop])
    >>> stop.stopped_batch is not None, len(history.epoch)
    (True, 1)
    """

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = bool(raise_error)
        self.stopped_batch = None

    def on_train_begin(self, logs=None):
        self.stopped_batch = None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(float(loss)):
            return
        self.stopped_batch = batch
        if self.raise_error:
            raise RuntimeError(f"Batch {batch}: invalid loss {loss}; training stopped.")
        print(f"Batch {batch}: invalid loss {loss}, terminating training.", file=sys.stderr)
        self.model.stop_training = True
