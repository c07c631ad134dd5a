"""``EarlyStopping``: stop training when a monitored quantity has stopped improving."""

from __future__ import annotations

import math
import sys
import warnings

from profond._validation import check_choice, check_float, check_int
from profond.callbacks.base import Callback

__all__ = ["EarlyStopping", "resolve_mode"]


def resolve_mode(mode: str, monitor: str, owner: str) -> str:
    """``"min"`` or ``"max"``: ``"auto"`` picks ``"max"`` for accuracies and AUC, as Keras."""
    check_choice(mode, "mode", owner, ("auto", "min", "max"))
    if mode != "auto":
        return mode
    name = monitor[4:] if monitor.startswith("val_") else monitor
    return "max" if any(k in name for k in ("acc", "auc", "precision", "recall", "f1")) \
        else "min"


class EarlyStopping(Callback):
    """Stop training when ``monitor`` has not improved for ``patience`` epochs (Keras's rules).

    An epoch improves on the best value so far when it is better by more than ``min_delta``.
    Training stops after ``patience`` epochs in a row without improvement.

    Parameters
    ----------
    monitor : str, default "val_loss"
        Key of the epoch logs to watch.
    min_delta : float, default 0
        Smallest change that counts as an improvement.
    patience : int, default 0
        Epochs without improvement after which training stops.
    verbose : int, default 0
        1 prints a line when training stops and when best weights are restored.
    mode : {"auto", "min", "max"}, default "auto"
        Whether lower or higher is better; ``"auto"`` reads it from the name.
    baseline : float, optional
        Training stops unless the model improves on this value within ``patience`` epochs.
    restore_best_weights : bool, default False
        At the end of training, put back the weights of the best epoch (when training ran
        at least one epoch past ``start_from_epoch``).
    start_from_epoch : int, default 0
        Warm-up epochs during which improvement is not watched.

    Attributes
    ----------
    stopped_epoch : int
        The epoch at which training was stopped (0 when it was not).
    best : float
        The best monitored value seen.
    best_epoch : int
        The epoch (0-based) of the best value.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import layers
    >>> from profond.callbacks import EarlyStopping
    >>> profond.random.seed(0)
    >>> model = profond.Sequential([layers.Input((1,)), layers.Dense(1)])
    >>> model.compile(optimizer=profond.optimizers.SGD(0.0), loss="mse")
    >>> x = np.ones((8, 1), dtype="float32")
    >>> stop = EarlyStopping(monitor="loss", patience=2)
    >>> history = model.fit(x, x, epochs=20, verbose=0, callbacks=[stop])
    >>> len(history.epoch)  # the loss never improves with a zero learning rate
    3
    """

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self.monitor = monitor
        self.min_delta = abs(check_float(min_delta, "min_delta", "EarlyStopping"))
        self.patience = check_int(patience, "patience", "EarlyStopping", low=0)
        self.verbose = verbose
        self.mode = resolve_mode(mode, monitor, "EarlyStopping")
        self.baseline = check_float(baseline, "baseline", "EarlyStopping", allow_none=True)
        self.restore_best_weights = bool(restore_best_weights)
        self.start_from_epoch = check_int(start_from_epoch, "start_from_epoch",
                                          "EarlyStopping", low=0)
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = math.inf if self.mode == "min" else -math.inf
        self.best_weights = None
        self.best_epoch = 0

    def _is_improvement(self, value, reference) -> bool:
        if reference is None:
            return True
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_train_begin(self, logs=None):
        self._reset()

    def get_state(self):
        """The counter, the best value and epoch, the best weights and the stopped epoch."""
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self.best,
                "best_epoch": self.best_epoch,
                "best_weights": None if self.best_weights is None else list(self.best_weights)}

    def set_state(self, state):
        self.wait = int(state["wait"])
        self.stopped_epoch = int(state["stopped_epoch"])
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        weights = state.get("best_weights")
        self.best_weights = None if weights is None else [w.copy() for w in weights]

    def _current(self, logs):
        value = (logs or {}).get(self.monitor)
        if value is None:
            warnings.warn(f"Early stopping conditioned on metric '{self.monitor}', which is "
                          f"not available. Available metrics are: "
                          f"{', '.join(sorted(logs or {}))}.", stacklevel=3)
            return None
        return float(value)

    def on_epoch_end(self, epoch, logs=None):
        current = self._current(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping", file=sys.stderr)
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose:
                print(f"Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.", file=sys.stderr)
            self.model.set_weights(self.best_weights)
