"""Whole-model files: architecture, compile settings, weights and optimizer state in ONE file.

``save_model`` and ``load_model`` also take Keras 3's ``.keras`` files, by their suffix (a zip
holding a ``config.json`` is one whatever its name): see :mod:`profond.io.keras_format`.

The file is a plain `safetensors <https://huggingface.co/docs/safetensors>`_ file:

* tensors ``"{i:04d}/{layer}/{weight}"`` are the weights in Keras's ``get_weights()`` order and
  layouts (the same keys as :func:`profond.io.weights_file.save_weights`, so ``load_weights`` reads
  a model file too, and any safetensors reader sees the weights);
* tensors ``"optimizer/{i:04d}/{slot}"`` are the optimizer's slots (momentum, moments ...), in
  the order of ``model.trainable_weights``;
* the header's string metadata holds JSON: ``"model"`` (Keras 3's dict of the model, as in a
  ``.keras`` file's ``config.json``), ``"compile"`` (loss, loss weights, metrics) and
  ``"optimizer"``, serialized the same way, ``"optimizer_state"`` (iterations, learning rate,
  slot names) and, for checkpoints, ``"training_state"`` (epoch, random generator states,
  history so far, the callbacks' states), whose arrays (best weights ...) are tensors
  ``"training/{n:05d}"``.

Everything is named through :mod:`profond.saving`, and this module knows no kind of object.
Loading never runs code from the file: no pickle, only JSON and raw tensors, and classes and
functions are found among the built-in and registered ones. So ``save`` refuses, before
writing anything, what a loader could not find (a plain function, an instance of an
unregistered class), naming the layer, the argument and the way out. Files of format
version 1 (``{"class_name", "config"}`` dicts without a module) still load.
Every part of the file is read and checked before a model is returned, so a truncated,
corrupted or hostile file raises ``ValueError`` with the reason and never yields a
half-loaded model; the header's ``"sha256"`` (see :mod:`profond.io.safetensors_file`) makes
any changed byte, in the tensors too, a refusal. Writing goes to a temporary file renamed over
the target, so a kill mid-write leaves the old file intact.
"""

from __future__ import annotations

import json
import os
import zipfile

import numpy as np

from profond import random as prandom
from profond import saving
from profond.io import keras_format, safetensors_file
from profond.io._naming import check_config_round_trips, serialized
from profond.io.safetensors_file import ModelFileError
from profond.io.weights_file import stored_variables, weights_to_dict

__all__ = ["save_model", "load_model", "read_metadata", "read_training_state",
           "ModelFileError"]

FORMAT = "profond-model"
FORMAT_VERSION = 2
_READABLE_VERSIONS = (1, 2)  # 1: profond's own {"class_name", "config"} dicts


# --- header ------------------------------------------------------------------------------------
def _read_header(filepath) -> tuple[dict, dict]:
    """``(metadata, tensor_infos)`` from a safetensors header, without reading the tensors."""
    return safetensors_file.read_header(filepath)


def read_metadata(filepath) -> dict:
    """The JSON parts of a model file's metadata, decoded (only the header is read).

    Returns
    -------
    dict
        ``{"format": ..., "model": {...}, "compile": {...} or None, "optimizer": ...,
        "optimizer_state": ..., "training_state": ... or None}``.
    """
    metadata, _ = _read_header(filepath)
    fmt = metadata.get("format")
    if fmt != FORMAT:
        hint = " It holds weights only: use model.load_weights(path)." \
            if fmt == "profond-weights" else ""
        raise ModelFileError(f"{os.fspath(filepath)!r} is not a profond model file (format "
                             f"{fmt!r}).{hint}")
    try:
        version = int(metadata.get("format_version", "0"))
    except ValueError:
        version = -1
    if version not in _READABLE_VERSIONS:
        raise ModelFileError(f"{os.fspath(filepath)!r} has model-file format version "
                             f"{metadata.get('format_version')!r}; this profond reads versions "
                             f"{list(_READABLE_VERSIONS)}.")
    out = {"format": fmt}
    for key in ("model", "compile", "optimizer", "optimizer_state", "training_state"):
        text = metadata.get(key)
        if text is None:
            out[key] = None
            continue
        try:
            out[key] = json.loads(text)
        except (ValueError, RecursionError) as err:
            raise ModelFileError(f"{os.fspath(filepath)!r}: the '{key}' metadata is not valid "
                                 f"JSON ({type(err).__name__}).") from None
    if not isinstance(out["model"], dict):
        raise ModelFileError(f"{os.fspath(filepath)!r} has no model architecture.")
    return out


TRAINING_PREFIX = "training/"  # tensors of a checkpoint's training state (best weights ...)


def _jsonable(value, tensors):
    """The training state of a checkpoint as JSON: each array is moved into ``tensors``
    (stored exactly, as the file's tensors) and replaced by ``{"__tensor__": key}``."""
    if isinstance(value, np.ndarray):
        key = f"{TRAINING_PREFIX}{len(tensors):05d}"
        tensors[key] = np.ascontiguousarray(value)
        return {"__tensor__": key}
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v, tensors) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v, tensors) for k, v in value.items()}
    if hasattr(value, "__array__") and not isinstance(value, (str, bytes)):
        return _jsonable(np.asarray(value), tensors)  # a CuPy array: stored as NumPy
    return value


def _with_arrays(value, tensors, filepath):
    """Undo :func:`_jsonable`: put the tensors back in place of their references."""
    if isinstance(value, list):
        return [_with_arrays(v, tensors, filepath) for v in value]
    if isinstance(value, dict):
        if set(value) == {"__tensor__"}:
            key = value["__tensor__"]
            if key not in tensors:
                _fail(filepath, f"its training state names the tensor {key!r}, which it lacks.")
            return tensors[key]
        return {k: _with_arrays(v, tensors, filepath) for k, v in value.items()}
    return value


def read_training_state(filepath):
    """The training state of a checkpoint, arrays included, or None when the file has none.

    Parameters
    ----------
    filepath : str or path-like
        A model file written with a ``training_state`` (a checkpoint).

    Returns
    -------
    dict or None
        The ``training_state`` given to :func:`save_model`, arrays back as NumPy arrays.
    """
    filepath = os.fspath(filepath)
    state = read_metadata(filepath).get("training_state")
    if state is None:
        return None
    _, infos = _read_header(filepath)
    tensors = {}
    if any(k.startswith(TRAINING_PREFIX) for k in infos):
        tensors = {k: v for k, v in safetensors_file.read(filepath)[1].items()
                   if k.startswith(TRAINING_PREFIX)}
    return _with_arrays(state, tensors, filepath)


def save_model(model, filepath, overwrite=True, training_state=None) -> None:
    """Write ``model`` (architecture, compile settings, weights, optimizer state) to one file.

    Parameters
    ----------
    model : Model
        A built model; a subclassed model needs ``get_config``/``from_config``.
    filepath : str or path-like
        Ends in ``.safetensors`` (profond's file) or ``.keras`` (Keras 3's, which Keras loads;
        see :mod:`profond.io.keras_format`).
    overwrite : bool, default True
        When False, refuse to replace an existing file.
    training_state : dict, optional
        State stored beside the model (used by checkpoints): JSON-friendly values, and NumPy
        arrays, which are stored as tensors (``"training/..."``) and come back exactly with
        :func:`read_training_state`.

    Raises
    ------
    ValueError
        Something the file cannot name (a plain function, an instance of an unregistered
        class, anywhere in the model, its compile settings or its optimizer): nothing is
        written, and the message names the layer, the argument and what to do.

    Examples
    --------
    >>> import os, tempfile, profond
    >>> from profond import layers
    >>> model = profond.Sequential([layers.Input((3,)), layers.Dense(2)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> path = os.path.join(tempfile.mkdtemp(), "model.safetensors")
    >>> model.save(path)
    >>> restored = profond.load_model(path)
    >>> all((a == b).all() for a, b in zip(model.get_weights(), restored.get_weights()))
    True
    """
    filepath = os.fspath(filepath)
    if filepath.endswith(".keras"):
        if training_state is not None:
            raise ValueError(f"A Keras .keras file cannot hold a training state; save "
                             f"checkpoints to resume from as '.safetensors'. Got {filepath!r}.")
        return keras_format.save_keras(model, filepath, overwrite=overwrite)
    if not filepath.endswith(".safetensors"):
        raise ValueError(f"The 'filepath' parameter of save must end in '.safetensors' "
                         f"(profond's file) or '.keras' (Keras 3's). Got {filepath!r} instead.")
    if not overwrite and os.path.exists(filepath):
        raise FileExistsError(f"{filepath!r} exists and overwrite=False.")
    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or train it first.")
    spec = serialized(model, f"model '{model.name}'", "config")
    check_config_round_trips(model, spec)
    metadata = {"format": FORMAT, "format_version": str(FORMAT_VERSION),
                "model": json.dumps(spec)}
    tensors = weights_to_dict(model)
    compile_config = model.get_compile_config() if getattr(model, "optimizer", None) \
        is not None else None
    if compile_config:
        metadata["compile"] = json.dumps(serialized(
            {k: compile_config.get(k) for k in ("loss", "loss_weights", "metrics")},
            "the compile settings", "compile"))
        metadata["optimizer"] = json.dumps(serialized(model.optimizer, "the optimizer",
                                                       "optimizer"))
        opt = model.optimizer
        index = {id(v): i for i, v in enumerate(model.trainable_weights)}
        state = opt.get_state()
        tracked = opt.variables if hasattr(opt, "variables") else opt._variables
        if any(id(v) not in index for v in tracked):
            raise ValueError("The optimizer holds state for variables that are not the "
                             "model's trainable weights; it cannot be saved with the model.")
        slots = [None] * len(index)
        for var, s in zip(tracked, state["slots"]):
            slots[index[id(var)]] = s
        names = []
        for i, s in enumerate(slots):
            names.append(sorted(s) if s is not None else None)
            for k, arr in (s or {}).items():
                # reshape: ascontiguousarray gives a 0-d slot (Attention's scale) one axis
                tensors[f"optimizer/{i:04d}/{k}"] = np.ascontiguousarray(arr).reshape(arr.shape)
        metadata["optimizer_state"] = json.dumps({
            "iterations": int(state["iterations"]),
            "learning_rate": state.get("learning_rate"), "slots": names})
    if training_state is not None:
        metadata["training_state"] = json.dumps(_jsonable(training_state, tensors))
    safetensors_file.write(filepath, tensors, metadata)


def _is_keras_archive(filepath) -> bool:
    """A ``.keras`` name, or a zip that holds a Keras model's ``config.json``."""
    if filepath.endswith(".keras"):
        return True
    if not os.path.isfile(filepath) or not zipfile.is_zipfile(filepath):
        return False
    try:
        with zipfile.ZipFile(filepath) as archive:
            return "config.json" in archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False


# --- load --------------------------------------------------------------------------------------
def _fail(filepath, what):
    raise ModelFileError(f"{filepath!r} is not a valid profond model file: {what}")


def load_model(filepath, compile=True):
    """Re-create a model saved with ``model.save(path)``: architecture, weights, compile
    settings and optimizer state, ready to predict or to continue training.

    Parameters
    ----------
    filepath : str or path-like
        A profond ``.safetensors`` model file, or a Keras 3 ``.keras`` file (written by Keras
        or by profond; see :mod:`profond.io.keras_format`).
    compile : bool, default True
        Compile the model as it was saved and restore the optimizer's state.

    Returns
    -------
    Model

    Raises
    ------
    FileNotFoundError
        No file at ``filepath``.
    ModelFileError
        (a ``ValueError``) The file is truncated, corrupted, not a profond model file, or names
        a class or function that is not registered in this program.
    """
    filepath = os.fspath(filepath)
    if _is_keras_archive(filepath):
        return keras_format.load_keras(filepath, compile=compile)
    meta = read_metadata(filepath)
    tensors = safetensors_file.read(filepath)[1]
    weight_keys = sorted(k for k in tensors if not k.startswith(("optimizer/",
                                                                 TRAINING_PREFIX)))
    try:
        # Building the model draws initial weights: the loading program's stream must not move.
        with prandom.preserved():
            model = saving.deserialize_keras_object(meta["model"])
    except MemoryError:
        _fail(filepath, "its architecture asks for more memory than there is.")
    except Exception as err:
        _fail(filepath, f"its architecture cannot be rebuilt ({type(err).__name__}: {err}). "
              "Custom classes and functions must be registered (with "
              "@profond.saving.register_keras_serializable()) under the name they were saved "
              "with.")
    if not model.built:
        _fail(filepath, "the saved model was never built (no input shape in its config).")
    variables = stored_variables(len(weight_keys), model.weights)
    if len(weight_keys) != len(variables):
        _fail(filepath, f"it holds {len(weight_keys)} weights; its architecture has "
              f"{len(variables)}.")
    for key, var in zip(weight_keys, variables):
        if tuple(tensors[key].shape) != tuple(var.shape):
            _fail(filepath, f"weight {key!r} has shape {tuple(tensors[key].shape)}; the "
                  f"architecture's '{var.path}' has shape {tuple(var.shape)}.")
        if tensors[key].dtype.kind not in "fci":  # i: Normalization's count
            _fail(filepath, f"weight {key!r} has dtype {tensors[key].dtype}.")
    for key, var in zip(weight_keys, variables):
        var.assign(tensors[key])
    if compile and meta.get("compile") is not None:
        try:
            _compile_from(model, meta, tensors)
        except ModelFileError:
            raise
        except Exception as err:
            _fail(filepath, f"its compile settings or optimizer state cannot be restored "
                  f"({type(err).__name__}: {err}).")
    return model


def _compile_from(model, meta, tensors):
    """Compile with the saved settings; ``compile`` resolves each serialized loss, metric and
    optimizer through its kind's ``get`` (files of version 1 included)."""
    cfg = meta["compile"]
    if not isinstance(cfg, dict):
        raise ValueError("malformed compile settings")
    model.compile(optimizer=meta["optimizer"], loss=cfg.get("loss"),
                  loss_weights=cfg.get("loss_weights"), metrics=cfg.get("metrics"))
    optimizer = model.optimizer
    state = meta.get("optimizer_state")
    if not state:
        return
    names = state["slots"]
    trainable = model.trainable_weights
    if not isinstance(names, list) or len(names) != len(trainable):
        raise ValueError(f"the optimizer state covers {len(names)} variables; the model has "
                         f"{len(trainable)} trainable weights")
    if all(n is None for n in names):
        return  # saved before the first update: nothing to restore
    if any(n is None for n in names):
        raise ValueError("the optimizer state covers only some variables")
    slots = []
    for i, keys in enumerate(names):
        slot = {}
        for k in keys:
            key = f"optimizer/{i:04d}/{k}"
            if key not in tensors:
                raise ValueError(f"missing optimizer tensor {key!r}")
            slot[k] = tensors[key]
        slots.append(slot)
    optimizer.set_state({"iterations": int(state["iterations"]),
                         "learning_rate": state.get("learning_rate"), "slots": slots},
                        trainable)
