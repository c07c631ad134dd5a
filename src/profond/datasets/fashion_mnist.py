"""Fashion-MNIST (Xiao, Rasul & Vollgraf, 2017): 70,000 grey 28 x 28 images of clothing.

Ten classes: 0 T-shirt/top, 1 trouser, 2 pullover, 3 dress, 4 coat, 5 sandal, 6 shirt,
7 sneaker, 8 bag, 9 ankle boot. 60,000 training and 10,000 test images, in the IDX format of
MNIST, gzip-compressed. profond reads the four files from disk; it never downloads them.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np

__all__ = ["load_fashion_mnist", "read_idx", "FASHION_MNIST_CLASSES", "DEFAULT_DIRECTORY"]

DEFAULT_DIRECTORY = "/usr/share/datasets/fashion-mnist"

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal",
                         "Shirt", "Sneaker", "Bag", "Ankle boot")

_FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "y_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "y_test": "t10k-labels-idx1-ubyte.gz",
}

_HOW_TO_GET = ("Install Debian's package (`apt-get install dataset-fashion-mnist`, which puts the "
               f"files in {DEFAULT_DIRECTORY}), or download the four .gz files from "
               "https://github.com/zalandoresearch/fashion-mnist and pass their directory as "
               "`path=` or in the PROFOND_DATA environment variable.")


def read_idx(path) -> np.ndarray:
    """Read one IDX file of unsigned bytes (gzip-compressed or not) into a uint8 array.

    The header is checked against the file: two zero bytes, the type code 0x08 (unsigned byte),
    the number of dimensions, their sizes, then exactly that many bytes of data.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    ndarray of uint8, shape given by the header

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not a valid IDX file of unsigned bytes (truncated, corrupted, wrong
        format).

    Examples
    --------
    >>> import gzip, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "tiny-idx1-ubyte.gz")
    >>> with gzip.open(path, "wb") as f:
    ...     _ = f.write(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(path)
    array([7, 8, 9], dtype=uint8)
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"IDX file {str(path)!r} not found.")
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            return _read_idx_from(f, path)
    except (OSError, EOFError, zlib.error) as err:
        raise ValueError(f"Cannot decompress {str(path)!r}: {err}. The file is corrupted or "
                         "truncated; reinstall or re-download it.") from None


def _read_into(f, view) -> int:
    """Fill ``view`` from ``f``; the number of bytes read (fewer at the end of the file).

    1 MiB at a time: gzip's ``readinto`` reads into a new bytes object of the requested size,
    then copies it.
    """
    done = 0
    while done < len(view):
        got = f.readinto(view[done:done + (1 << 20)])
        if not got:
            break
        done += got
    return done


def _read_idx_from(f, path) -> np.ndarray:
    """The IDX array of the open file ``f``, read straight into its own buffer: reading the
    whole file as bytes, then copying it into a writable array, held the 47 MB training
    images twice (and gzip's chunks a third time) at load."""
    head = f.read(4)
    if len(head) < 4 or head[0] != 0 or head[1] != 0:
        raise ValueError(f"{str(path)!r} is not an IDX file (bad magic number "
                         f"{head[:4].hex() or 'empty'}).")
    if head[2] != 0x08:
        raise ValueError(f"{str(path)!r}: IDX type code 0x{head[2]:02x} is not 0x08 "
                         "(unsigned bytes).")
    ndim = head[3]
    dims = f.read(4 * ndim)
    if ndim == 0 or len(dims) < 4 * ndim:
        raise ValueError(f"{str(path)!r}: truncated IDX header ({4 + len(dims)} bytes for "
                         f"{ndim} dimensions).")
    shape = tuple(int.from_bytes(dims[4 * i:4 + 4 * i], "big") for i in range(ndim))
    expected = int(np.prod(shape, dtype=np.int64))
    out = np.empty(expected, dtype=np.uint8)
    held = _read_into(f, memoryview(out))
    if held == expected:  # count what follows, if anything: the file is then too long
        while chunk := f.read(1 << 20):
            held += len(chunk)
    if held != expected:
        raise ValueError(f"{str(path)!r}: the header announces shape {shape} ({expected} bytes) "
                         f"but the file holds {held} bytes of data; it is corrupted or "
                         "truncated.")
    return out.reshape(shape)


def _directory(path):
    if path is not None:
        return Path(path), "the 'path' argument"
    env = os.environ.get("PROFOND_DATA")
    if env:
        base = Path(env)
        sub = base / "fashion-mnist"
        return (sub if sub.is_dir() else base), "PROFOND_DATA"
    return Path(DEFAULT_DIRECTORY), "the default directory"


def load_fashion_mnist(path=None):
    """Load Fashion-MNIST from its four IDX files.

    Parameters
    ----------
    path : str or Path, optional
        Directory holding ``train-images-idx3-ubyte.gz``, ``train-labels-idx1-ubyte.gz``,
        ``t10k-images-idx3-ubyte.gz`` and ``t10k-labels-idx1-ubyte.gz``. By default the
        directory named by the ``PROFOND_DATA`` environment variable (or its ``fashion-mnist``
        sub-directory), else ``/usr/share/datasets/fashion-mnist`` (Debian's
        ``dataset-fashion-mnist`` package).

    Returns
    -------
    (x_train, y_train), (x_test, y_test)
        ``x`` uint8 arrays of shape ``(n, 28, 28)`` (values 0..255), ``y`` int64 class indices
        in 0..9 (names in ``FASHION_MNIST_CLASSES``); n = 60,000 and 10,000.

    Raises
    ------
    FileNotFoundError
        If a file is missing (the message says how to get them).
    ValueError
        If a file is corrupted, or images and labels do not match.

    Examples
    --------
    >>> from profond.datasets import load_fashion_mnist
    >>> (x_train, y_train), (x_test, y_test) = load_fashion_mnist()  # doctest: +SKIP
    >>> x_train.shape, x_train.dtype, y_test[:3]  # doctest: +SKIP
    ((60000, 28, 28), dtype('uint8'), array([9, 2, 1]))
    """
    directory, source = _directory(path)
    missing = [name for name in _FILES.values() if not (directory / name).is_file()]
    if missing:
        raise FileNotFoundError(f"Fashion-MNIST: {', '.join(missing)} not found in "
                                f"{str(directory)!r} ({source}). {_HOW_TO_GET}")
    arrays = {key: read_idx(directory / name) for key, name in _FILES.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or y.ndim != 1 or len(x) != len(y):
            raise ValueError(f"Fashion-MNIST {split} files in {str(directory)!r} do not match: "
                             f"images {x.shape}, labels {y.shape} (expected (n, 28, 28) and "
                             "(n,)).")
        if y.size and int(y.max()) > 9:
            raise ValueError(f"Fashion-MNIST {split} labels in {str(directory)!r} hold "
                             f"{int(y.max())}, outside 0..9; the file is corrupted.")
    return ((arrays["x_train"], arrays["y_train"].astype(np.int64)),
            (arrays["x_test"], arrays["y_test"].astype(np.int64)))


# Keras's path: keras.datasets.fashion_mnist.load_data() returns the same two pairs (Keras
# downloads the files; profond reads them from disk, and gives int64 labels where Keras's are
# uint8).
load_data = load_fashion_mnist
