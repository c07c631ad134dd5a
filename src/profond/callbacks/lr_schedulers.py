"""Callbacks that change the learning rate between epochs (Keras's names and arguments)."""

from __future__ import annotations

import math
import numbers
import warnings

from profond._validation import check_choice, check_float, check_int
from profond.callbacks.base import Callback
from profond.schedules import LearningRateSchedule

__all__ = ["LearningRateScheduler", "ReduceLROnPlateau"]


def _current_rate(model) -> float:
    return float(model.optimizer.learning_rate)


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of every epoch from a function of the epoch.

    At ``on_epoch_begin(epoch)``::

        optimizer.learning_rate = schedule(epoch, current_rate)   # or schedule(epoch)

    ``schedule`` may also be a :class:`~profond.schedules.LearningRateSchedule`, called with
    the epoch (whatever its ``unit``: here it counts epochs). For per-epoch schedules the
    simpler route is to give the schedule, with ``unit="epoch"``, to the optimizer itself.

    Parameters
    ----------
    schedule : callable
        ``schedule(epoch, lr) -> float`` (Keras's form) or ``schedule(epoch) -> float``;
        ``epoch`` counts from 0.
    verbose : int, default 0
        1 prints the new rate at every epoch.

    Notes
    -----
    It keeps no state of its own (:meth:`get_state` is None): the rate it sets lives in the
    optimizer, whose state a checkpoint holds, so a resumed run calls ``schedule`` with the
    same ``(epoch, lr)`` as the uninterrupted one.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import layers
    >>> from profond.callbacks import LearningRateScheduler
    >>> model = profond.Sequential([layers.Dense(1)])
    >>> model.compile(optimizer=profond.optimizers.SGD(0.1), loss="mse")
    >>> halve = LearningRateScheduler(lambda epoch, lr: lr if epoch == 0 else lr / 2)
    >>> x = np.ones((8, 2))
    >>> model.fit(x, x.sum(1), epochs=3, callbacks=[halve], verbose=0).history["learning_rate"]
    [0.1, 0.05, 0.025]
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ValueError("The 'schedule' parameter of LearningRateScheduler must be a "
                             f"callable schedule(epoch, lr). Got {schedule!r} instead.")
        self.schedule = schedule
        self.verbose = check_int(verbose, "verbose", "LearningRateScheduler", low=0)

    def _rate_for(self, epoch, lr):
        if isinstance(self.schedule, LearningRateSchedule):
            return self.schedule(epoch)
        try:
            return self.schedule(epoch, lr)
        except TypeError:  # the older one-argument form
            return self.schedule(epoch)

    def on_epoch_begin(self, epoch, logs=None):
        lr = self._rate_for(epoch, _current_rate(self.model))
        if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) \
                or lr < 0:
            raise ValueError("The output of the 'schedule' function of LearningRateScheduler "
                             f"must be a finite float >= 0. Got {lr!r} for epoch {epoch}.")
        self.model.optimizer.learning_rate = float(lr)
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{float(lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = _current_rate(self.model)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by ``factor`` when a metric stops improving (Keras's rule).

    At every epoch end::

        if cooling down:  cooldown_counter -= 1; wait = 0
        if improved(current, best):          # current < best - min_delta for "min"
            best, wait = current, 0
        elif not cooling down:
            wait += 1
            if wait >= patience and lr > min_lr:
                lr = max(lr * factor, min_lr); cooldown_counter = cooldown; wait = 0

    Parameters
    ----------
    monitor : str, default "val_loss"
    factor : float in (0, 1), default 0.1
    patience : int >= 0, default 10
        Epochs without improvement before a reduction.
    verbose : int, default 0
    mode : {"auto", "min", "max"}, default "auto"
        "auto" maximises metrics whose name contains "acc", minimises the others.
    min_delta : float >= 0, default 1e-4
        Smallest change counted as an improvement.
    cooldown : int >= 0, default 0
        Epochs to wait after a reduction before counting again.
    min_lr : float >= 0, default 0.0

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import layers
    >>> from profond.callbacks import ReduceLROnPlateau
    >>> model = profond.Sequential([layers.Dense(1)])
    >>> model.compile(optimizer=profond.optimizers.SGD(1e-8), loss="mse")  # too slow to improve
    >>> x = np.ones((8, 2))
    >>> plateau = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1)
    >>> model.fit(x, x.sum(1), epochs=3, callbacks=[plateau], verbose=0).history["learning_rate"]
    [1e-08, 1e-08, 5e-09]
    >>> model.optimizer.learning_rate
    2.5e-09
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        owner = "ReduceLROnPlateau"
        if "epsilon" in kwargs:  # Keras's old name of min_delta
            min_delta = kwargs.pop("epsilon")
            warnings.warn("ReduceLROnPlateau: 'epsilon' is deprecated, use 'min_delta'.",
                          DeprecationWarning, stacklevel=2)
        if kwargs:
            raise TypeError(f"{owner} got unexpected keyword argument(s) {sorted(kwargs)}.")
        if not isinstance(monitor, str):
            raise ValueError(f"The 'monitor' parameter of {owner} must be a str. Got "
                             f"{monitor!r} instead.")
        self.monitor = monitor
        self.factor = check_float(factor, "factor", owner, low=0, high=1, low_open=True,
                                  high_open=True)
        self.patience = check_int(patience, "patience", owner, low=0)
        self.verbose = check_int(verbose, "verbose", owner, low=0)
        self.mode = check_choice(mode, "mode", owner, ("auto", "min", "max"))
        self.min_delta = check_float(min_delta, "min_delta", owner, low=0)
        self.cooldown = check_int(cooldown, "cooldown", owner, low=0)
        self.min_lr = check_float(min_lr, "min_lr", owner, low=0)
        self._reset()

    def _reset(self):
        if self.mode == "min" or (self.mode == "auto" and "acc" not in self.monitor):
            self._better = lambda a, b: a < b - self.min_delta
            self.best = math.inf
        else:
            self._better = lambda a, b: a > b + self.min_delta
            self.best = -math.inf
        self.cooldown_counter = 0
        self.wait = 0

    def get_state(self):
        """The counter, the best value and the cooldown counter."""
        return {"wait": self.wait, "best": self.best, "cooldown_counter": self.cooldown_counter}

    def set_state(self, state):
        self.wait = int(state["wait"])
        self.best = float(state["best"])
        self.cooldown_counter = int(state["cooldown_counter"])

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["learning_rate"] = logs.get("learning_rate", _current_rate(self.model))
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"ReduceLROnPlateau: the monitored metric '{self.monitor}' is not "
                          f"in the logs (available: {sorted(logs)}).", RuntimeWarning,
                          stacklevel=2)
            return
        current = float(current)
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._better(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old = _current_rate(self.model)
                if old > self.min_lr:
                    new = max(old * self.factor, self.min_lr)
                    self.model.optimizer.learning_rate = new
                    if self.verbose:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate "
                              f"to {new}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0
