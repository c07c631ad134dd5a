"""Callbacks with Keras's contract: hooks called by ``fit``, ``evaluate`` and ``predict``."""

from profond.callbacks.backup_and_restore import BackupAndRestore
from profond.callbacks.base import Callback, CallbackList
from profond.callbacks.checkpoint import (Checkpoint, ModelCheckpoint, latest_checkpoint,
                                          load_checkpoint)
from profond.callbacks.csv_logger import CSVLogger
from profond.callbacks.divergence import DivergenceError, DivergenceGuard
from profond.callbacks.early_stopping import EarlyStopping
from profond.callbacks.gradient_health import GradientHealth
from profond.callbacks.history import History
from profond.callbacks.lambda_callback import LambdaCallback
from profond.callbacks.lr_schedulers import LearningRateScheduler, ReduceLROnPlateau
from profond.callbacks.progbar import ProgressBar
from profond.callbacks.terminate_on_nan import TerminateOnNaN

__all__ = ["Callback", "CallbackList", "History", "ProgressBar", "LearningRateScheduler",
           "ReduceLROnPlateau", "EarlyStopping",
           "ModelCheckpoint", "CSVLogger", "TerminateOnNaN", "LambdaCallback",
           "DivergenceGuard", "DivergenceError", "GradientHealth", "Checkpoint",
           "load_checkpoint", "latest_checkpoint", "BackupAndRestore"]
