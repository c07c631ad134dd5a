"""``ModelCheckpoint`` and exact resumption of a killed run.

How resumption is exact
-----------------------
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

from profond import random as prandom
from profond._files import remove_stale_temporaries
from profond._validation import check_choice
from profond.callbacks.base import Callback
from profond.callbacks.early_stopping import resolve_mode

__all__ = ["ModelCheckpoint", "load_checkpoint", "latest_checkpoint", "Checkpoint",
           "rng_states", "restore_rng_states"]


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


# --- the callback --------------------------------------------------------------------------------
class ModelCheckpoint(Callback):
    """Save the model (or its weights) at the end of epochs.

    Parameters
    ----------
    filepath : str or path-like
        Must end in ``.safetensors``. May hold ``str.format`` fields filled from the epoch
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
        if not self.filepath.endswith(".safetensors"):
            raise ValueError(f"The 'filepath' parameter of ModelCheckpoint must end in "
                             f"'.safetensors'. Got {self.filepath!r} instead.")
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
        remove_stale_temporaries(re.sub(r"\{[^{}]*\}", "*", self.filepath))

    def _improved(self, value) -> bool:
        return value < self.best if self.mode == "min" else value > self.best

    def _format(self, epoch, logs):
        try:
            return self.filepath.format(epoch=epoch + 1, **logs)
        except KeyError as err:
            raise KeyError(f"ModelCheckpoint filepath {self.filepath!r} names {err}, which is "
                           f"not in the epoch logs {sorted(logs)}.") from None

    def _training_state(self, epoch, logs):
        history = getattr(self.model, "history", None)
        past = getattr(self.model, "_resumed_history", None) or {"epoch": [], "history": {}}
        epochs = list(past["epoch"])
        record = {k: list(v) for k, v in past["history"].items()}
        if history is not None:
            for i, e in enumerate(history.epoch):
                epochs.append(e)
                for k, v in history.history.items():
                    if i < len(v):
                        record.setdefault(k, []).append(float(v[i]))
        epochs.append(epoch)
        for k, v in logs.items():
            if isinstance(v, (int, float, np.floating)):
                record.setdefault(k, []).append(float(v))
        return {"epoch": epoch, "rng": rng_states(self.model),
                "history": {"epoch": epochs, "history": record}}

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
            previous, self.best = self.best, float(value)
        path = self._format(epoch, logs)
        state = self._training_state(epoch, logs)
        if self.save_weights_only:
            from profond.io.weights_file import save_weights

            save_weights(self.model, path, metadata={"epoch": epoch})
        else:
            from profond.io.model_file import save_model

            save_model(self.model, path, training_state=state)
        self.last_saved = path
        if self.verbose:
            note = f" ({self.monitor} improved from {previous:.5g} to {self.best:.5g})" \
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
    between would shift the stream.

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
    from profond.io.model_file import ModelFileError, load_model, read_metadata

    filepath = os.fspath(filepath)
    try:
        meta = read_metadata(filepath)
    except ModelFileError as err:
        if "weights only" in str(err):
            raise ValueError(f"{filepath!r} holds weights only: a run resumes exactly only from "
                             "a full checkpoint, ModelCheckpoint(..., save_weights_only=False)."
                             ) from None
        raise
    state = meta.get("training_state")
    if not isinstance(state, dict) or not isinstance(state.get("epoch"), int) or \
            state["epoch"] < 0:
        raise ValueError(f"{filepath!r} is a model file but not a checkpoint: it has no "
                         "training state (write checkpoints with ModelCheckpoint).")
    model = load_model(filepath)
    restore_rng_states(state.get("rng"), model)
    past = state.get("history") or {"epoch": [], "history": {}}
    model._resumed_history = past
    history = {"epoch": list(past.get("epoch", [])), **past.get("history", {})}
    return Checkpoint(model, state["epoch"] + 1, history)


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
