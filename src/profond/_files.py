"""Atomic file writes: write a temporary file in the same folder, flush, then rename.

A crash or a kill mid-write leaves either the old file or the new one, never a torn one.
Files are created with mode ``0o666`` less the process's umask, as ``open`` would create them
(so a colleague on a shared server reads a model or a report when the umask allows it).

The temporary file is named ``.tmp-{name}-{pid}-{random}``: a failed write (an exception,
disk full, Ctrl-C) deletes it at once; a write killed outright (SIGKILL, power loss) leaves
it behind, and the next write to the same path deletes the ones whose process is gone
(:func:`remove_stale_temporaries` clears them all, e.g. when a training run starts).
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets

__all__ = ["atomic_path", "atomic_write_bytes", "atomic_write_chunks", "atomic_write_text",
           "remove_stale_temporaries"]

_PREFIX = ".tmp-"
_CHUNK = 64 * 1024 * 1024  # one os.write call is capped near 2 GiB on Linux


def _write(fd, view) -> int:
    """One ``os.write`` (a seam for tests that simulate a full disk)."""
    return os.write(fd, view)


def _create_temporary(path) -> tuple[int, str]:
    """Open a new file beside ``path`` for writing; ``O_EXCL`` so no other writer shares it,
    mode 0o666 so the umask decides (``tempfile.mkstemp`` would force 0o600)."""
    folder, name = os.path.split(path)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(folder, f"{_PREFIX}{name}-{os.getpid()}-{secrets.token_hex(4)}")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 32 random bits collided
            continue


def _process_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would terminate the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # someone else's process: leave its file alone
    return True


def _remove_dead_temporaries(path) -> None:
    """Delete the temporaries of writes to ``path`` whose writing process no longer runs."""
    folder, name = os.path.split(path)
    for tmp in glob.glob(os.path.join(glob.escape(folder), glob.escape(_PREFIX + name) + "-*")):
        pid = os.path.basename(tmp)[len(_PREFIX) + len(name) + 1:].split("-", 1)[0]
        if pid.isdigit() and not _process_alive(int(pid)):
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def _sync_folder(folder) -> None:
    """Make the rename itself durable (a no-op where folders cannot be opened)."""
    with contextlib.suppress(OSError, AttributeError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    The temporary file exists (empty) when the block starts; whatever the block writes to it
    replaces ``path`` when the block ends without an exception. On an exception it is deleted
    and ``path`` is untouched.
    """
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    _remove_dead_temporaries(path)
    fd, tmp = _create_temporary(path)
    os.close(fd)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _sync_folder(folder)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def atomic_write_chunks(path, chunks) -> None:
    """Write the bytes-like ``chunks`` one after another to ``path``, atomically (no joined
    copy of them is made: a 1 GB model is written from its own buffers)."""
    path = os.path.abspath(os.fspath(path))
    folder = os.path.dirname(path)
    os.makedirs(folder, exist_ok=True)
    _remove_dead_temporaries(path)
    fd, tmp = _create_temporary(path)
    try:
        try:
            for chunk in chunks:
                view = memoryview(chunk).cast("B")
                while view:
                    view = view[_write(fd, view[:_CHUNK]):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
        _sync_folder(folder)
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def atomic_write_bytes(path, data: bytes) -> None:
    atomic_write_chunks(path, [data])


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
