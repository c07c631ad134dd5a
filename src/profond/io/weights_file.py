"""Weight files in the safetensors format: plain tensors and a JSON header, never pickle.

Tensors are keyed ``"{index:04d}/{layer}/{name}"`` so the file keeps Keras's ``get_weights``
order and layouts (``Dense`` kernel ``(in, out)`` ...) and stays readable by any safetensors
reader: ``keras_model.set_weights(read_weights_list(path))`` loads them into an equivalent Keras
model. A whole-model file (:mod:`profond.io.model_file`) uses the same keys for its weights, so
``load_weights`` reads it too (its ``"optimizer/..."`` and ``"training/..."`` tensors are
skipped). Both carry the SHA-256 checksum of :mod:`profond.io.safetensors_file`, verified on
every read.
"""

from __future__ import annotations

import os

import numpy as np

from profond.io import keras_format, safetensors_file

__all__ = ["save_weights", "load_weights", "weights_to_dict", "read_safetensors",
           "read_weights_list"]


def weights_to_dict(model) -> dict:
    # reshape: ascontiguousarray gives a 0-d weight (Normalization's count) one axis.
    return {f"{i:04d}/{v.path}": np.ascontiguousarray(v.numpy()).reshape(v.shape)
            for i, v in enumerate(model.weights)}


def stored_variables(n_stored: int, variables: list) -> list:
    """The variables that ``n_stored`` weights of a file fill, in order. A file written before
    Normalization kept Keras's third weight (``count``) lacks it: with exactly that many
    weights fewer, those counts are left out (and keep their value)."""
    if n_stored != len(variables):
        kept = [v for v in variables if v.name != "count" or v.ndim != 0]
        if len(kept) == n_stored:
            return kept
    return variables


def _is_hdf5_or_zip(filepath) -> bool:
    """Whether the file starts as HDF5 (Keras's weights) or a zip (a ``.keras`` file)."""
    try:
        with open(filepath, "rb") as fh:
            head = fh.read(8)
    except OSError:
        return False
    return head == b"\x89HDF\r\n\x1a\n" or head[:4] == b"PK\x03\x04"


def save_weights(model, filepath, metadata: dict | None = None) -> None:
    """Write ``model``'s weights to ``filepath`` (``.safetensors``), atomically, with a
    SHA-256 checksum that :func:`load_weights` verifies; or to a Keras 3 ``.weights.h5``
    file, which a Keras model of the same architecture loads."""
    filepath = os.fspath(filepath)
    if filepath.endswith(".weights.h5"):
        if not model.built:
            raise ValueError(f"Model '{model.name}' has no weights yet: build it or train it "
                             "first.")
        return keras_format.save_weights_h5(model, filepath)
    if not filepath.endswith(".safetensors"):
        raise ValueError(f"The 'filepath' parameter of save_weights must end in '.safetensors' "
                         f"(profond's file) or '.weights.h5' (Keras 3's). Got {filepath!r} "
                         "instead.")
    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or train it first.")
    safetensors_file.write(filepath, weights_to_dict(model), {
        "format": "profond-weights", **{k: str(v) for k, v in (metadata or {}).items()}})


def read_safetensors(filepath) -> dict:
    """Read every tensor of a safetensors file, its checksum verified, with a clear error
    (a ``ValueError``) when it is damaged or of another format."""
    return safetensors_file.read(filepath)[1]


def read_weights_list(filepath) -> list:
    """The weights of a weights or model file as NumPy arrays, in Keras's ``get_weights``
    order (what ``set_weights`` of an equivalent Keras or profond model takes)."""
    tensors = read_safetensors(filepath)
    return [tensors[k] for k in sorted(tensors) if not k.startswith(("optimizer/", "training/"))]


def load_weights(model, filepath) -> None:
    """Load a file written by :func:`save_weights` (or ``model.save``) into ``model``, all
    or nothing: names and shapes are checked before any weight changes. Keras 3's
    ``.weights.h5`` and ``.keras`` files are read too (:mod:`profond.io.keras_format`)."""
    filepath = os.fspath(filepath)
    if filepath.endswith((".h5", ".keras")) or _is_hdf5_or_zip(filepath):
        if not model.weights:
            raise ValueError(f"Model '{model.name}' is not built: build it (or call it on "
                             "data) before loading weights.")
        return keras_format.load_weights_h5(model, filepath)
    tensors = read_safetensors(filepath)
    keys = sorted(k for k in tensors if not k.startswith(("optimizer/", "training/")))
    variables = model.weights
    if not variables:
        raise ValueError(f"Model '{model.name}' is not built: build it (or call it on data) "
                         "before loading weights.")
    variables = stored_variables(len(keys), variables)
    if len(keys) != len(variables):
        raise ValueError(f"{filepath!r} holds {len(keys)} weights; model '{model.name}' has "
                         f"{len(variables)}.")
    for key, var in zip(keys, variables):
        if tuple(tensors[key].shape) != tuple(var.shape):
            raise ValueError(f"Weight {key!r} in {filepath!r} has shape "
                             f"{tuple(tensors[key].shape)}; the model's '{var.path}' has shape "
                             f"{tuple(var.shape)}.")
    for key, var in zip(keys, variables):  # checked above: nothing is half-loaded
        var.assign(tensors[key])
