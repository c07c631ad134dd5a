"""Weight files in the safetensors format: plain tensors and a JSON header, never pickle.

Tensors are keyed ``"{index:04d}/{layer}/{name}"`` so the file keeps Keras's ``get_weights``
order and layouts (``Dense`` kernel ``(in, out)`` ...) and stays readable by any safetensors
reader: ``keras_model.set_weights(read_weights_list(path))`` loads them into an equivalent Keras
model. A whole-model file (:mod:`profond.io.model_file`) uses the same keys for its weights, so
``load_weights`` reads it too (its ``"optimizer/..."`` and ``"training/..."`` tensors are
skipped).
"""

from __future__ import annotations

import os

import numpy as np

from profond._files import atomic_path

__all__ = ["save_weights", "load_weights", "weights_to_dict", "read_safetensors",
           "read_weights_list"]


def _safetensors_numpy():
    try:
        from safetensors import numpy as st_numpy
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError("Saving and loading weights needs the 'safetensors' package: "
                          "pip install 'profond[io]' (or safetensors).") from err
    return st_numpy


def weights_to_dict(model) -> dict:
    return {f"{i:04d}/{v.path}": np.ascontiguousarray(v.numpy())
            for i, v in enumerate(model.weights)}


def save_weights(model, filepath, metadata: dict | None = None) -> None:
    """Write ``model``'s weights to ``filepath`` (``.safetensors``), atomically."""
    st = _safetensors_numpy()
    filepath = os.fspath(filepath)
    if not filepath.endswith(".safetensors"):
        raise ValueError(f"The 'filepath' parameter of save_weights must end in '.safetensors'. "
                         f"Got {filepath!r} instead.")
    if not model.built:
        raise ValueError(f"Model '{model.name}' has no weights yet: build it or train it first.")
    with atomic_path(filepath) as tmp:
        st.save_file(weights_to_dict(model), tmp, metadata={
            "format": "profond-weights", **{k: str(v) for k, v in (metadata or {}).items()}})


def read_safetensors(filepath) -> dict:
    """Read every tensor of a safetensors file, with a clear error when it is damaged."""
    st = _safetensors_numpy()
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No weights file at {filepath!r}.")
    try:
        return st.load_file(filepath)
    except Exception as err:  # safetensors raises its own error types
        raise ValueError(f"{filepath!r} is not a readable safetensors file (truncated or "
                         f"corrupted?): {err}") from None


def read_weights_list(filepath) -> list:
    """The weights of a weights or model file as NumPy arrays, in Keras's ``get_weights``
    order (what ``set_weights`` of an equivalent Keras or profond model takes)."""
    tensors = read_safetensors(filepath)
    return [tensors[k] for k in sorted(tensors) if not k.startswith(("optimizer/", "training/"))]


def load_weights(model, filepath) -> None:
    """Load a file written by :func:`save_weights` (or ``model.save``) into ``model``, all
    or nothing: names and shapes are checked before any weight changes."""
    tensors = read_safetensors(filepath)
    keys = sorted(k for k in tensors if not k.startswith(("optimizer/", "training/")))
    variables = model.weights
    if not variables:
        raise ValueError(f"Model '{model.name}' is not built: build it (or call it on data) "
                         "before loading weights.")
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
