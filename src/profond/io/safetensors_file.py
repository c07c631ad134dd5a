"""profond's ``.safetensors`` files with a checksum: what model and weights files share.

A safetensors file is an 8-byte little-endian header length, a JSON header (each tensor's
dtype, shape and byte range, and ``"__metadata__"``, a map of strings) and the tensor bytes.
profond adds ``"sha256"`` to the metadata: the SHA-256 of every byte of the file, header
and tensors, with the checksum's own 64 hex digits taken as zeros. So a changed byte
anywhere, a weight, a shape, a metadata string or the header's padding, is refused on
loading, and the file stays a plain safetensors file that any reader opens.

Writing goes through :func:`profond._files.atomic_write_chunks`: the bytes that
``safetensors.numpy.save`` returns are written by profond itself, so a failed or interrupted
save leaves no temporary file and a full disk raises ``OSError``. Files written before the
checksum existed (or by other programs) still load, with a warning.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
import warnings

from profond._files import atomic_write_chunks
from profond._validation import require
from profond.io.foreign import identify

__all__ = ["CHECKSUM_KEY", "ModelFileError", "read", "read_header", "seal", "write"]

CHECKSUM_KEY = "sha256"
_ZEROS = "0" * 64
_MAX_HEADER = 100 * 1024 * 1024  # safetensors's own limit


class ModelFileError(ValueError):
    """A profond file that cannot be read: truncated, damaged, foreign or inconsistent."""


def _safetensors_numpy():
    return require("safetensors.numpy", "Saving and loading weights", "io")


def _needle(hexdigest: str) -> bytes:
    return f'"{CHECKSUM_KEY}":"{hexdigest}"'.encode("ascii")


def seal(header: dict, data) -> bytes:
    """The 8-byte length and JSON header of a file holding ``data`` (the tensor bytes), with
    its checksum: the SHA-256 of the whole file as written, its 64 hex digits taken as
    zeros while hashing.

    Parameters
    ----------
    header : dict
        The parsed safetensors header (tensor entries and ``"__metadata__"``).
    data : bytes-like
        The tensor bytes that follow the header.
    """
    header = dict(header)
    header["__metadata__"] = {**(header.get("__metadata__") or {}), CHECKSUM_KEY: _ZEROS}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # keep the tensors 8-byte aligned, as safetensors does
    head = struct.pack("<Q", len(text)) + text
    digest = hashlib.sha256(head)
    digest.update(data)
    return head.replace(_needle(_ZEROS), _needle(digest.hexdigest()))


def write(filepath, tensors: dict, metadata: dict) -> None:
    """Write ``tensors`` (name -> contiguous NumPy array) and ``metadata`` (str -> str) to
    ``filepath`` as safetensors with a checksum, atomically."""
    raw = _safetensors_numpy().save(tensors, metadata=metadata)
    (n,) = struct.unpack("<Q", raw[:8])
    data = memoryview(raw)[8 + n:]
    atomic_write_chunks(filepath, [seal(json.loads(raw[8:8 + n]), data), data])


def _intact(raw, n, expected) -> bool:
    """Whether the file's bytes hash to ``expected``, the checksum its header holds."""
    if not isinstance(expected, str) or len(expected) != 64 or \
            any(c not in "0123456789abcdef" for c in expected):
        return False
    head = bytes(raw[:8 + n])
    if head.count(_needle(expected)) != 1:
        return False
    digest = hashlib.sha256(head.replace(_needle(expected), _needle(_ZEROS)))
    digest.update(memoryview(raw)[8 + n:])
    return digest.hexdigest() == expected


def _head(filepath, fh, size) -> int:
    """The header length, after refusing files that are too short or of another format."""
    head = fh.read(16)
    foreign = identify(filepath, head)
    if foreign:
        raise ModelFileError(foreign)
    if len(head) < 8:
        raise ModelFileError(f"{filepath!r} is not a profond file: it is only {size} bytes long "
                             "(truncated?).")
    (n,) = struct.unpack("<Q", head[:8])
    if n > min(_MAX_HEADER, size - 8):
        raise ModelFileError(f"{filepath!r} is not a profond file: its header claims {n} bytes "
                             f"but the file has {size} (truncated or corrupted?).")
    fh.seek(8)
    return n


def _parse(filepath, raw: bytes) -> dict:
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as err:
        raise ModelFileError(f"{filepath!r} is not a profond file: its header is not valid "
                             f"JSON ({type(err).__name__}).") from None
    if not isinstance(header, dict):
        raise ModelFileError(f"{filepath!r} is not a profond file: malformed header.")
    metadata = header.get("__metadata__") or {}
    if not isinstance(metadata, dict) or not all(isinstance(v, str) for v in metadata.values()):
        raise ModelFileError(f"{filepath!r}: the header's metadata must map names to strings.")
    header["__metadata__"] = metadata
    return header


def _open(filepath):
    filepath = os.fspath(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file at {filepath!r}.")
    if os.path.isdir(filepath):
        raise IsADirectoryError(f"{filepath!r} is a folder, not a profond file.")
    return filepath, open(filepath, "rb")


def read_header(filepath) -> tuple[dict, dict]:
    """``(metadata, tensor_infos)`` from a file's header, without reading the tensors (and so
    without checking the checksum)."""
    filepath, fh = _open(filepath)
    with fh:
        n = _head(filepath, fh, os.path.getsize(filepath))
        header = _parse(filepath, fh.read(n))
    return header.pop("__metadata__"), header


def read(filepath) -> tuple[dict, dict]:
    """``(metadata, tensors)`` of a whole file, its checksum verified.

    Raises
    ------
    ModelFileError
        A file of another format, truncated, or whose bytes do not match its checksum.
    """
    filepath, fh = _open(filepath)
    with fh:
        n = _head(filepath, fh, os.path.getsize(filepath))
        fh.seek(0)
        raw = fh.read()
    header = _parse(filepath, raw[8:8 + n])
    data = memoryview(raw)[8 + n:]
    ends = [info.get("data_offsets", [0, 0])[1] for k, info in header.items()
            if k != "__metadata__" and isinstance(info, dict)
            and isinstance(info.get("data_offsets"), list) and len(info["data_offsets"]) == 2]
    needed = max((e for e in ends if isinstance(e, int)), default=0)
    if needed > len(data):
        raise ModelFileError(f"{filepath!r} is truncated: its header describes {needed} bytes "
                             f"of tensors and the file holds {len(data)}.")
    expected = header["__metadata__"].get(CHECKSUM_KEY)
    if expected is None:
        warnings.warn(f"{filepath!r} carries no checksum (written by an earlier profond or "
                      "another program): damage to its tensors cannot be detected. Save it "
                      "again to add one.", UserWarning, stacklevel=3)
    elif not _intact(raw, n, expected):
        raise ModelFileError(f"{filepath!r} is damaged: its contents do not match the SHA-256 "
                             "checksum in its header (bytes changed after it was written: a "
                             "bad copy, disk or transfer). Use an intact copy.")
    try:
        tensors = _safetensors_numpy().load(raw)
    except Exception as err:  # safetensors raises its own error types
        raise ModelFileError(f"{filepath!r} is not a valid profond file: its tensors cannot be "
                             f"read (truncated or corrupted?): {err}") from None
    return header["__metadata__"], tensors

