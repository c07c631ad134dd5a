"""Name the files of other formats that users hand to ``load_model`` and ``load_weights``.

A ``.keras`` zip, an HDF5 file or a PyTorch checkpoint otherwise fails deep in the reader of
another format with a misleading "its header claims 85966670672 bytes". The signatures are
read from the first bytes (a zip's table of contents, an HDF5 file's top-level names and
attributes, with h5py where it is installed); nothing in the file is ever unpickled,
extracted or run.
"""

from __future__ import annotations

import os
import zipfile

from profond._validation import require

__all__ = ["identify", "describe"]

_HDF5 = b"\x89HDF\r\n\x1a\n"
_HDF5_OFFSETS = (0, 512, 1024, 2048)  # HDF5 allows a user block of 512 * 2**k bytes first
_SUPPORTED = ("profond reads its own .safetensors files (model.save, save_weights) and Keras 3's "
              ".keras (profond.load_model) and .weights.h5 (model.load_weights) files")


def _zip_names(path):
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


def describe(path) -> str | None:
    """:func:`identify` of the file at ``path`` (its first bytes read here)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError:
        return None
    return identify(path, head)


def identify(path, head: bytes) -> str | None:
    """A sentence saying what ``path`` is when it is a known foreign format, else None.

    Parameters
    ----------
    path : str
        The file (a zip's table of contents or an HDF5 user block may be read).
    head : bytes
        The file's first bytes (at least 16 when the file has them).
    """
    shown = repr(os.fspath(path))
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        names = _zip_names(path)
        if names is None:
            return f"{shown} is a zip archive (damaged), not a profond file. {_SUPPORTED}."
        if "config.json" in names and ("model.weights.h5" in names or "metadata.json" in names):
            return (f"{shown}: this is a Keras .keras file: read it with "
                    f"profond.load_model(path), or its weights with model.load_weights(path); "
                    f"it is not a profond .safetensors file (it holds no training state to "
                    f"resume from).")
        if any(n == "data.pkl" or n.endswith("/data.pkl") for n in names):
            return (f"{shown} is a PyTorch checkpoint, which profond does not read (it holds a "
                    f"pickle, and unpickling can run code). {_SUPPORTED}.")
        return f"{shown} is a zip archive, not a profond file. {_SUPPORTED}."
    # A safetensors header's length can start with the same two bytes as a pickle (896 is
    # 80 03 00 ...), but then its JSON starts at byte 8.
    if head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05") and \
            head[8:9] != b"{":
        return (f"{shown} is a Python pickle, e.g. a PyTorch checkpoint, which profond does not "
                f"read (unpickling can run code). {_SUPPORTED}.")
    if head[:6] == b"\x93NUMPY":
        return f"{shown} is a NumPy .npy file, not a profond file. {_SUPPORTED}."
    if _is_hdf5(path, head):
        return f"{shown} is {_hdf5_kind(path)}"
    return None


def _hdf5_kind(path) -> str:
    """What an HDF5 file holds, as far as its top-level names and attributes tell."""
    try:
        h5py = require("h5py", "Reading HDF5 files", "h5")
    except ImportError:
        return (f"an HDF5 file (Keras's .weights.h5 files are HDF5; pip install "
                f"'profond[h5]' to read those). {_SUPPORTED}.")
    try:
        with h5py.File(path, "r") as f:
            names, attrs = set(f.keys()), set(f.attrs.keys())
    except (OSError, ValueError):
        return f"an HDF5 file (damaged). {_SUPPORTED}."
    if "vars" in names or "layers" in names:
        return ("a Keras .weights.h5 file: it holds weights only; load it with "
                "model.load_weights(path) into a model of the same architecture.")
    if "model_weights" in names or "model_config" in attrs or "layer_names" in attrs:
        return ("a legacy Keras 2 HDF5 model file, which profond does not read: load it in "
                "Keras and save it as .keras (model.save('m.keras')), which profond reads.")
    return f"an HDF5 file without Keras weights. {_SUPPORTED}."


def _is_hdf5(path, head) -> bool:
    if head[:8] == _HDF5:
        return True
    if head[8:9] == b"{":
        return False  # a safetensors header starts there: no user block to look behind
    try:
        size = os.path.getsize(path)
        with open(path, "rb") as fh:
            for offset in _HDF5_OFFSETS[1:]:
                if offset + 8 > size:
                    break
                fh.seek(offset)
                if fh.read(8) == _HDF5:
                    return True
    except OSError:
        return False
    return False
