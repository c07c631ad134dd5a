"""Callbacks with Keras's contract: hooks called by ``fit``, ``evaluate`` and ``predict``."""

from profond.callbacks.base import Callback, CallbackList
from profond.callbacks.history import History
from profond.callbacks.lr_schedulers import LearningRateScheduler, ReduceLROnPlateau
from profond.callbacks.progbar import ProgressBar

__all__ = ["Callback", "CallbackList", "History", "ProgressBar", "LearningRateScheduler",
           "ReduceLROnPlateau"]
