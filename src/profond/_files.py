"""Atomic file writes: write a temporary file in the same folder, flush, then rename.

A crash or a kill mid-write leaves either the old file or the new one, never a torn one (a
SIGKILL can leave the temporary file behind: :func:`remove_stale_temporaries` clears them).
"""

from __future__ import annotations

import contextlib
import glob
import os
import tempfile

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_text", "remove_stale_temporaries"]

_PREFIX = ".tmp-"


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_PREFIX + os.path.basename(path) + "-", dir=folder)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def atomic_write_bytes(path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            fh.write(data)


def atomic_write_text(path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def remove_stale_temporaries(pattern) -> list:
    """Delete the temporary files that writes to paths matching ``pattern`` (a glob, e.g.
    ``"run/ckpt-*.safetensors"``) left behind when killed mid-write; returns their paths."""
    pattern = os.fspath(pattern)
    folder, name = os.path.split(os.path.abspath(pattern))
    removed = []
    for tmp in glob.glob(os.path.join(glob.escape(folder), _PREFIX + name + "-*")):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
            removed.append(tmp)
    return removed
