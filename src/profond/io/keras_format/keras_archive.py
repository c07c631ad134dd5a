"""Keras 3's ``.keras`` files: a zip of ``config.json`` (the model's serialization dict, its
compile settings under ``"compile_config"``), ``metadata.json`` and ``model.weights.h5``
(weights and optimizer variables, in :mod:`.layout`'s HDF5 layout).

Loading reads the JSON and the arrays, nothing else: no pickle, no code (a ``Lambda`` layer's
bytecode is refused), no module named in the file is imported (see
:mod:`.config_translation`). A model comes back whole or not at all: every weight is
checked before any is assigned. Saving builds the zip in memory and writes it through
:func:`profond._files.atomic_write_bytes` (a kill mid-write leaves the old file).
"""

from __future__ import annotations

import io
import json
import os
import time
import zipfile

from profond import random as prandom
from profond import saving
from profond._files import atomic_write_bytes
from profond.io._naming import check_config_round_trips, serialized
from profond.io.foreign import describe
from profond.io.keras_format import h5_weights
from profond.io.keras_format.config_translation import KerasFileError, to_keras, to_profond

__all__ = ["save_keras", "load_keras", "read_archive", "KERAS_FORMAT_VERSION"]

KERAS_FORMAT_VERSION = "3.15.1"  # the Keras whose files these are checked against
_MAX_JSON = 64 * 1024 * 1024
_COMPILE_KEYS = ("optimizer", "loss", "loss_weights", "metrics", "weighted_metrics")


def _fail(filepath, what):
    raise KerasFileError(f"{filepath!r} is not a Keras .keras file profond can read: {what}")


def read_archive(filepath) -> tuple[dict, bytes | None]:
    """``(config, weights)``: a ``.keras`` file's ``config.json`` decoded and the bytes of its
    ``model.weights.h5`` (None when it has none). Nothing is extracted to disk."""
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"No file at {filepath!r}.")
    try:
        archive = zipfile.ZipFile(filepath)
    except zipfile.BadZipFile:
        raise KerasFileError(describe(filepath) or f"{filepath!r} is not a Keras .keras file: "
                             "it is not a zip archive (truncated or of another format?).") \
            from None
    with archive:
        names = set(archive.namelist())
        if "config.json" not in names:
            raise KerasFileError(describe(filepath) or f"{filepath!r} is not a Keras .keras "
                                 f"file: it has no config.json.")
        if archive.getinfo("config.json").file_size > _MAX_JSON:
            _fail(filepath, "its config.json is larger than 64 MiB.")
        try:
            config = json.loads(archive.read("config.json"))
            weights = archive.read("model.weights.h5") if "model.weights.h5" in names else None
        except (zipfile.BadZipFile, OSError, ValueError, RecursionError, EOFError) as err:
            _fail(filepath, f"it is damaged ({type(err).__name__}: {err}).")
    if not isinstance(config, dict):
        _fail(filepath, "its config.json is not a serialized model.")
    return config, weights


def load_keras(filepath, compile=True):
    """Re-create a model from a ``.keras`` file written by Keras 3 or by profond.

    Parameters
    ----------
    filepath : str or path-like
    compile : bool, default True
        Compile as saved and restore the optimizer's variables.

    Returns
    -------
    Model

    Raises
    ------
    KerasFileError
        (a ``ValueError``) A damaged file, a class profond lacks (named with the layer), a
        module outside Keras and profond, weights that do not fit the architecture.
    """
    filepath = os.fspath(filepath)
    config, weights = read_archive(filepath)
    compile_config = config.get("compile_config")
    spec = to_profond({k: v for k, v in config.items() if k != "compile_config"}, filepath)
    try:
        # Building the model draws initial weights: the loading program's stream must not move.
        with prandom.preserved():
            model = saving.deserialize_keras_object(spec)
    except MemoryError:
        _fail(filepath, "its architecture asks for more memory than there is.")
    except Exception as err:
        _fail(filepath, f"its architecture cannot be rebuilt ({type(err).__name__}: {err}).")
    if not getattr(model, "built", False):
        _fail(filepath, "the saved model was never built (no input shape in its config).")
    optimizer_arrays = []
    if weights is not None:
        h5 = h5_weights.h5py()
        try:
            with h5.File(io.BytesIO(weights), "r") as f:
                pairs = h5_weights.read_weights(f, model)
                optimizer_arrays = h5_weights.read_optimizer_arrays(f)
        except (OSError, ValueError, KeyError, TypeError) as err:
            _fail(filepath, f"its weights do not fit its architecture: {err}.")
        for var, array in pairs:
            var.assign(array.astype(var.dtype, copy=False))
    elif model.weights:
        _fail(filepath, "it has no model.weights.h5.")
    if compile and isinstance(compile_config, dict) and compile_config.get("loss") is not None:
        _compile_from(model, compile_config, optimizer_arrays, filepath)
    return model


def _compile_from(model, compile_config, optimizer_arrays, filepath):
    settings = to_profond({k: compile_config.get(k) for k in _COMPILE_KEYS}, filepath)
    if settings.get("weighted_metrics") is None:
        settings.pop("weighted_metrics")
    try:
        model.compile(**settings)
        if optimizer_arrays:
            h5_weights.apply_optimizer_arrays(model.optimizer, model.trainable_weights,
                                              optimizer_arrays)
    except Exception as err:
        _fail(filepath, f"its compile settings or optimizer state cannot be restored "
              f"({type(err).__name__}: {err}).")


def save_keras(model, filepath, overwrite=True) -> None:
    """Write ``model`` as a Keras 3 ``.keras`` file, which ``keras.saving.load_model`` reads.

    Parameters
    ----------
    model : Model
        A built model; a subclassed one needs ``get_config`` and a registered class.
    filepath : str or path-like
        Ends in ``.keras``.
    overwrite : bool, default True

    Raises
    ------
    ValueError
        Something a loader could not name, or a per-epoch learning-rate schedule (Keras's count
        steps); nothing is written.
    """
    filepath = os.fspath(filepath)
    if not filepath.endswith(".keras"):
        raise ValueError(f"The 'filepath' parameter of save_keras must end in '.keras'. Got "
                         f"{filepath!r} instead.")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath!r} exists and overwrite=False.")
    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or train it first.")
    spec = serialized(model, f"model '{model.name}'", "config")
    check_config_round_trips(model, spec)
    config = to_keras(spec, f"model '{model.name}'")
    optimizer = getattr(model, "optimizer", None)
    arrays = None
    if optimizer is not None:
        compile_config = model.get_compile_config() or {}
        settings = serialized({k: compile_config.get(k) for k in ("loss", "loss_weights",
                                                                  "metrics")},
                              "the compile settings", "compile")
        settings["optimizer"] = serialized(optimizer, "the optimizer", "optimizer")
        config["compile_config"] = to_keras({**settings, "weighted_metrics": None,
                                             "run_eagerly": False, "steps_per_execution": 1,
                                             "jit_compile": False}, "the optimizer")
        arrays = h5_weights.optimizer_arrays(optimizer, model.trainable_weights)
    weights = h5_weights.write_h5_bytes(model, arrays, getattr(optimizer, "name", None))
    metadata = {"keras_version": KERAS_FORMAT_VERSION, "saved_by": "profond",
                "date_saved": time.strftime("%Y-%m-%d@%H:%M:%S")}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("metadata.json", json.dumps(metadata), zipfile.ZIP_DEFLATED)
        archive.writestr("config.json", json.dumps(config), zipfile.ZIP_DEFLATED)
        archive.writestr("model.weights.h5", weights, zipfile.ZIP_STORED)
    atomic_write_bytes(filepath, buffer.getvalue())
