"""Name the files of other formats that users hand to ``load_model`` and ``load_weights``.

A ``.keras`` zip, an HDF5 file or a PyTorch checkpoint otherwise fails deep in the safetensors
reader with a misleading "its header claims 85966670672 bytes". The signatures are read from
the first bytes (and a zip's table of contents); nothing in the file is ever unpickled,
extracted or run.
"""

from __future__ import annotations

import os
import zipfile

__all__ = ["identify"]

_HDF5 = b"\x89HDF\r\n\x1a\n"
_HDF5_OFFSETS = (0, 512, 1024, 2048)  # HDF5 allows a user block of 512 * 2**k bytes first
_SUPPORTED = ("profond reads the .safetensors files of its own model.save (profond.load_model) "
              "and save_weights (model.load_weights)")
_MOVE_WEIGHTS = ("To move the weights, build the same architecture in profond and call "
                 "model.set_weights(keras_model.get_weights()): layouts and order are Keras's")


def _zip_names(path):
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None


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
            return (f"{shown}: this is a Keras .keras file: profond does not read Keras files "
                    f"yet; {_SUPPORTED}. {_MOVE_WEIGHTS}.")
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
        return (f"{shown} is an HDF5 file (Keras's .h5 and .weights.h5 files are HDF5), which "
                f"profond does not read yet; {_SUPPORTED}. {_MOVE_WEIGHTS}.")
    return None


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
