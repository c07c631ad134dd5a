"""``ModelCheckpoint`` and exact resumption of a killed run.

How resumption is exact
-----------------------
A checkpoint holds everything the rest of the run depends on. The callbacks' part: every
callback of the ``fit`` that implements :meth:`~profond.callbacks.Callback.get_state`
(EarlyStopping's counter, best value and best weights, ReduceLROnPlateau's, a save-best
ModelCheckpoint's best value, CSVLogger's rows, the divergence guard's ...), taken once every
callback's ``on_epoch_end`` has run, keyed by class and position (``"EarlyStopping:0"``),
arrays stored as tensors; and whether training stopped at that epoch. The resumed ``fit``
gives each callback its state back after ``on_train_begin``, and runs no epoch when the saved
run had stopped (its ``on_train_end`` still runs: best weights are restored as they would
have been).

Every random draw of a training run (the shuffle of each epoch, each dropout mask) comes from
profond's global generator, or from a generator a layer holds when it was given ``seed=``. A
full checkpoint (``save_weights_only=False``, the default) therefore stores, besides the
architecture, the weights and the optimizer's state (slots, step count, learning rate), the
state of every one of those generators at the end of the epoch it was written at.
:func:`load_checkpoint` puts all of it back, so ``fit(..., initial_epoch=...)`` continues with
the very draws the uninterrupted run would have made next, and ends with the same weights bit
for bit. Storing the generators' states (rather than re-deriving each epoch's randomness from
``(seed, epoch)``) keeps ``fit`` and the layers free of any resume logic: they just draw.

Files are written atomically (temporary file, then rename), so a run killed at any moment,
even by SIGKILL in the middle of a write, leaves the previous checkpoint intact.

Examples
--------
Train, checkpointing every epoch; after a crash, resume from the newest checkpoint:

>>> import os, tempfile, numpy as np, profond
>>> from profond import layers
>>> from profond.callbacks import ModelCheckpoint, latest_checkpoint, load_checkpoint
>>> folder = tempfile.mkdtemp()
>>> profond.random.seed(0)
>>> model = profond.Sequential([layers.Input((2,)), layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> x, y = np.ones((16, 2)), np.ones(16)
>>> ckpt = ModelCheckpoint(os.path.join(folder, "ckpt-{epoch:03d}.safetensors"))
>>> _ = model.fit(x, y, epochs=2, verbose=0, callbacks=[ckpt])
>>> path = latest_checkpoint(folder)
>>> os.path.basename(path)
'ckpt-002.safetensors'
>>> model, initial_epoch, past = load_checkpoint(path)
>>> initial_epoch, len(past["loss"])
(2, 2)
>>> _ = model.fit(x, y, epochs=4, initial_epoch=initial_epoch, verbose=0, callbacks=[ckpt])
"""

from __future__ import annotations

import glob
import math
import os
import re
import sys
from typing import NamedTuple

import numpy as np

from profond import distribution
from profond import random as prandom
from profond._files import remove_stale_temporaries
from profond._validation import check_choice
from profond.callbacks.base import Callback
from profond.callbacks.early_stopping import resolve_mode

__all__ = ["ModelCheckpoint", "load_checkpoint", "latest_checkpoint", "Checkpoint",
           "rng_states", "restore_rng_states", "training_state", "CheckpointWriter"]


# --- random generators ---------------------------------------------------------------------------
def _layer_generators(model):
    """``{"layer/attribute": Generator}`` for generators held by the model's layers."""
    found = {}
    global_gen = prandom.generator()
    for layer in model.flatten_layers():
        for attr, value in sorted(vars(layer).items()):
            if isinstance(value, np.random.Generator) and value is not global_gen:
                found[f"{layer.name}/{attr}"] = value
    return found


def rng_states(model=None) -> dict:
    """The states of profond's global generator and of the generators ``model``'s layers hold
    (JSON-friendly), as a checkpoint stores them."""
    states = {"global": prandom.generator().bit_generator.state}
    if model is not None:
        states["layers"] = {k: g.bit_generator.state
                            for k, g in _layer_generators(model).items()}
    return states


def restore_rng_states(states: dict, model=None) -> None:
    """Put back :func:`rng_states`'s output. Generators are restored in place, so objects that
    hold them keep drawing from the restored stream."""
    if not isinstance(states, dict) or "global" not in states:
        raise ValueError(f"The 'states' parameter of restore_rng_states must be a dict with a "
                         f"'global' entry. Got a {type(states).__name__} instead.")
    try:
        prandom.generator().bit_generator.state = states["global"]
        if model is not None:
            held = _layer_generators(model)
            for key, state in (states.get("layers") or {}).items():
                if key in held:
                    held[key].bit_generator.state = state
    except (TypeError, ValueError, KeyError) as err:
        raise ValueError(f"Invalid random generator state in checkpoint: {err}") from None


# --- what a checkpoint holds ---------------------------------------------------------------------
def training_state(model, epoch, logs=None, callback_list=None) -> dict:
    """The training state a checkpoint stores at the end of ``epoch``.

    Parameters
    ----------
    model : Model
        The model being trained (its ``history`` holds the epochs of this ``fit``).
    epoch : int
        The epoch just ended (0-based).
    logs : dict, optional
        That epoch's logs, recorded when ``model.history`` does not hold them yet.
    callback_list : CallbackList, optional
        The ``fit``'s callbacks: their states, and the history before a resumption.

    Returns
    -------
    dict
        ``{"epoch", "stopped", "rng", "history": {"epoch": [...], "history": {...}},
        "callbacks": [{"key", "state"}, ...]}``.
    """
    history = getattr(model, "history", None)
    past = (callback_list.past_history if callback_list is not None else None) or \
        {"epoch": [], "history": {}}
    epochs = list(past["epoch"])
    record = {k: list(v) for k, v in past["history"].items()}
    if history is not None:
        for i, e in enumerate(history.epoch):
            epochs.append(e)
            for k, v in history.history.items():
                if i < len(v) and isinstance(v[i], (int, float, np.floating)):
                    record.setdefault(k, []).append(float(v[i]))
    if not epochs or epochs[-1] != epoch:
        epochs.append(epoch)
        for k, v in (logs or {}).items():
            if isinstance(v, (int, float, np.floating)):
                record.setdefault(k, []).append(float(v))
    return {"epoch": epoch, "stopped": bool(getattr(model, "stop_training", False)),
            "rng": rng_states(model), "history": {"epoch": epochs, "history": record},
            "callbacks": callback_list.get_state() if callback_list is not None else []}


class CheckpointWriter(Callback):
    """Base of the callbacks that write checkpoints (``writes_checkpoints = True``).

    A subclass decides in ``on_epoch_end`` and calls :meth:`defer_write`; ``fit``'s
    :class:`~profond.callbacks.CallbackList` calls :meth:`write_checkpoint` once every
    callback's ``on_epoch_end`` has run, so the states it saves are those at the very end of
    the epoch. Outside a callback list, the write happens at once.
    """

    writes_checkpoints = True

    def __init__(self):
        super().__init__()
        self._callback_list = None
        self._pending = None

    def set_callback_list(self, callback_list) -> None:
        """Called by the CallbackList this callback belongs to."""
        self._callback_list = callback_list

    def take_restored_state(self):
        """The training state this callback restored in ``on_train_begin``, once (None by
        default): the CallbackList gives it to every callback."""
        return None

    def defer_write(self, epoch, logs) -> None:
        """Ask for a checkpoint of ``epoch`` (written by :meth:`write_checkpoint`)."""
        self._pending = (epoch, dict(logs or {}))
        if self._callback_list is None:
            self.write_checkpoint()

    def write_checkpoint(self) -> None:
        """Write what :meth:`defer_write` asked for, if anything."""
        if self._pending is None:
            return
        epoch, logs = self._pending
        self._pending = None
        if distribution.is_primary():  # one writer for every rank of a data-parallel run
            self._write(epoch, logs)

    def checkpoint_state(self, epoch, logs) -> dict:
        """:func:`training_state` of this callback's model and callback list."""
        return training_state(self.model, epoch, logs, self._callback_list)

    def _write(self, epoch, logs) -> None:
        raise NotImplementedError


# --- the callback --------------------------------------------------------------------------------
class ModelCheckpoint(CheckpointWriter):
    """Save the model (or its weights) at the end of epochs.

    Parameters
    ----------
    filepath : str or path-like
        Ends in ``.safetensors`` (profond's files; a full one resumes a run exactly with
        :func:`load_checkpoint`), or as Keras 3 asks: ``.keras`` for the whole model,
        ``.weights.h5`` with ``save_weights_only=True`` (files Keras loads, without the
        training state a resumption needs). May hold ``str.format`` fields filled from the epoch
        (1-based, as in Keras) and the epoch's logs:
        ``"ckpt-{epoch:02d}-{val_loss:.3f}.safetensors"``.
    monitor : str, default "val_loss"
        The log key that ``save_best_only`` compares.
    verbose : int, default 0
        1 prints a line for every save.
    save_best_only : bool, default False
        Only save when ``monitor`` improves on the best value seen (the file is then
        overwritten in place unless ``filepath`` has fields).
    save_weights_only : bool, default False
        Save the weights alone (``model.save_weights``). The default saves the whole model,
        optimizer state and random generator states included: what :func:`load_checkpoint`
        needs to resume a run exactly.
    mode : {"auto", "min", "max"}, default "auto"
    save_freq : "epoch"
        Checkpoints are written at the end of epochs (the only points a run resumes from).
    initial_value_threshold : float, optional
        With ``save_best_only``, only save once ``monitor`` beats this value.

    Attributes
    ----------
    best : float
        The best monitored value so far.
    last_saved : str or None
        Path of the most recent file written.
    """

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self._previous = None
        suffixes = (".safetensors", ".weights.h5") if save_weights_only else \
            (".safetensors", ".keras")
        if not self.filepath.endswith(suffixes):
            raise ValueError(f"The 'filepath' parameter of ModelCheckpoint must end in "
                             f"{' or '.join(repr(s) for s in suffixes)} with "
                             f"save_weights_only={bool(save_weights_only)}. Got "
                             f"{self.filepath!r} instead.")
        self.monitor = monitor
        self.verbose = verbose
        self.save_best_only = bool(save_best_only)
        self.save_weights_only = bool(save_weights_only)
        self.mode = resolve_mode(mode, monitor, "ModelCheckpoint")
        check_choice(save_freq, "save_freq", "ModelCheckpoint", ("epoch",))
        self.save_freq = save_freq
        if initial_value_threshold is not None:
            self.best = float(initial_value_threshold)
        else:
            self.best = math.inf if self.mode == "min" else -math.inf
        self.last_saved = None

    def on_train_begin(self, logs=None):
        # A run killed in the middle of a write leaves its temporary file: clear them.
        if distribution.is_primary():
            remove_stale_temporaries(re.sub(r"\{[^{}]*\}", "*", self.filepath))

    def _improved(self, value) -> bool:
        return value < self.best if self.mode == "min" else value > self.best

    def _format(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as err:
            raise KeyError(f"ModelCheckpoint filepath {self.filepath!r} names {err}, which is "
                           f"not in the epoch logs {sorted(logs)}.") from None

    def get_state(self):
        """The best value so far (what ``save_best_only`` compares with) and the last file."""
        return {"best": self.best, "last_saved": self.last_saved}

    def set_state(self, state):
        self.best = float(state["best"])
        self.last_saved = state.get("last_saved")

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.save_best_only:
            value = logs.get(self.monitor)
            if value is None:
                import warnings

                warnings.warn(f"ModelCheckpoint can save the best model only with "
                              f"'{self.monitor}' in the logs; it is not there. Available: "
                              f"{', '.join(sorted(logs))}.", stacklevel=2)
                return
            if not (math.isfinite(float(value)) and self._improved(float(value))):
                return
            self._previous, self.best = self.best, float(value)
        self.last_saved = self._format(epoch, logs)
        self.defer_write(epoch, logs)

    def _write(self, epoch, logs):
        path = self._format(epoch, logs)
        if self.save_weights_only:
            from profond.io.weights_file import save_weights

            save_weights(self.model, path, metadata={"epoch": epoch})
        else:
            from profond.io.model_file import save_model

            # A Keras file holds no training state: it is for Keras, not for resuming.
            state = None if path.endswith(".keras") else self.checkpoint_state(epoch, logs)
            save_model(self.model, path, training_state=state)
        if self.verbose:
            note = f" ({self.monitor} improved from {self._previous:.5g} to {self.best:.5g})" \
                if self.save_best_only else ""
            print(f"Epoch {epoch + 1}: saving model to {path}{note}", file=sys.stderr)


# --- resuming ------------------------------------------------------------------------------------
class Checkpoint(NamedTuple):
    """What :func:`load_checkpoint` returns (a tuple: ``model, initial_epoch, history``)."""

    model: object
    initial_epoch: int
    history: dict


def load_checkpoint(filepath) -> Checkpoint:
    """Restore a training run from a checkpoint written by :class:`ModelCheckpoint`.

    Loads the model (architecture, weights, compile settings, optimizer state) and puts back
    the random generators' states, so that ``model.fit(..., initial_epoch=initial_epoch)`` —
    with the same data, batch size and callbacks — ends with exactly the weights the
    uninterrupted run would have had. Call it last, right before ``fit``: any random draw in
    between would shift the stream. That ``fit`` gives its callbacks their saved states
    (:meth:`~profond.callbacks.Callback.set_state`), and when the saved run had stopped (early
    stopping), it trains no more epoch and only ends the run (restoring best weights ...).

    Parameters
    ----------
    filepath : str or path-like
        A full checkpoint (``save_weights_only=False``); see :func:`latest_checkpoint`.

    Returns
    -------
    Checkpoint
        ``(model, initial_epoch, history)``: the epoch to pass to ``fit`` (the number of
        epochs done), and ``{"epoch": [...], "loss": [...], ...}``, the history of the
        epochs done.
    """
    from profond.io.model_file import load_model

    filepath = os.fspath(filepath)
    state = read_checkpoint_state(filepath)
    model = load_model(filepath)
    restore_rng_states(state.get("rng"), model)
    # The next fit's CallbackList takes it after on_train_begin (see CallbackList.resume).
    model._resume_training_state = state
    past = state["history"]
    history = {"epoch": list(past.get("epoch", [])), **past.get("history", {})}
    return Checkpoint(model, state["epoch"] + 1, history)


def read_checkpoint_state(filepath) -> dict:
    """A checkpoint's training state (see :func:`training_state`), arrays included, checked.

    Raises
    ------
    ValueError
        The file holds weights only, or is a model file without a training state.
    """
    from profond.io.model_file import ModelFileError, read_training_state

    filepath = os.fspath(filepath)
    try:
        state = read_training_state(filepath)
    except ModelFileError as err:
        if "weights only" in str(err):
            raise ValueError(f"{filepath!r} holds weights only: a run resumes exactly only from "
                             "a full checkpoint, ModelCheckpoint(..., save_weights_only=False)."
                             ) from None
        raise
    if not isinstance(state, dict) or not isinstance(state.get("epoch"), int) or \
            state["epoch"] < 0:
        raise ValueError(f"{filepath!r} is a model file but not a checkpoint: it has no "
                         "training state (write checkpoints with ModelCheckpoint).")
    history = state.get("history")
    if not isinstance(history, dict) or not isinstance(history.get("epoch", []), list) or \
            not isinstance(history.get("history", {}), dict):
        history = {"epoch": [], "history": {}}
    state["history"] = {"epoch": history.get("epoch", []),
                        "history": history.get("history", {})}
    callbacks = state.get("callbacks") or []
    if not isinstance(callbacks, list) or not all(
            isinstance(c, dict) and isinstance(c.get("key"), str) and "state" in c
            for c in callbacks):
        raise ValueError(f"{filepath!r}: the callbacks' states of its training state are "
                         "malformed.")
    state["callbacks"] = callbacks
    return state


def latest_checkpoint(path):
    """The checkpoint with the latest epoch among ``path``'s ``.safetensors`` files (``path``
    a folder or a glob pattern), or None when there is none. Only headers are read; files that
    are not checkpoints (or are damaged) are skipped."""
    from profond.io.model_file import read_metadata

    path = os.fspath(path)
    pattern = os.path.join(path, "*.safetensors") if os.path.isdir(path) else path
    best, best_key = None, None
    for candidate in glob.glob(pattern):
        try:
            state = read_metadata(candidate).get("training_state") or {}
        except (ValueError, OSError):
            continue
        epoch = state.get("epoch") if isinstance(state, dict) else None
        if not isinstance(epoch, int):
            continue
        key = (epoch, os.path.getmtime(candidate))
        if best_key is None or key > best_key:
            best, best_key = candidate, key
    return best
