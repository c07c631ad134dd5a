"""Array backends: which array module runs the math, and in which float precision.

This is the only module that imports ``numpy``/``cupy`` for dispatch. Op code asks for the
array module of its inputs with :func:`get_array_module` (Chainer's idiom), so one code path
serves the CPU (NumPy) and the GPU (CuPy).

Examples
--------
>>> from profond import backend
>>> backend.floatx()
'float32'
>>> with backend.floatx_scope("float64"):
...     backend.floatx()
'float64'
"""

from __future__ import annotations

import contextlib
import importlib

import numpy

__all__ = [
    "get_array_module",
    "get_backend",
    "set_backend",
    "use_backend",
    "floatx",
    "set_floatx",
    "floatx_scope",
    "xp",
    "asarray",
    "to_numpy",
    "is_cupy_available",
    "scatter_add",
    "sum_of_squares",
    "erf",
    "blas_threads",
]

_BACKENDS = ("numpy", "cupy")
_FLOATS = ("float32", "float64")

_state = {"backend": "numpy", "floatx": "float32"}
_cupy = None


def _import_cupy():
    global _cupy
    if _cupy is None:
        try:
            _cupy = importlib.import_module("cupy")
        except ImportError as err:  # pragma: no cover - depends on the machine
            raise RuntimeError(
                "The 'cupy' backend was requested but CuPy is not installed or cannot load "
                f"({err}). Install the CuPy wheel matching your CUDA version, e.g. "
                "`pip install cupy-cuda12x` (or `pip install profond[gpu]`), or use "
                "backend 'numpy'."
            ) from err
    return _cupy


def is_cupy_available() -> bool:
    """Return True when CuPy imports and sees at least one GPU."""
    try:
        cp = _import_cupy()
        return cp.cuda.runtime.getDeviceCount() > 0
    except Exception:  # noqa: BLE001 - any failure means "not usable"
        return False


def get_backend() -> str:
    """Name of the backend new tensors are created on: ``"numpy"`` or ``"cupy"``."""
    return _state["backend"]


def set_backend(name: str) -> None:
    """Choose the backend for new tensors and layers' weights.

    Parameters
    ----------
    name : {"numpy", "cupy"}

    Raises
    ------
    ValueError
        If ``name`` is not a known backend.
    RuntimeError
        If ``"cupy"`` is asked for and CuPy is not available.
    """
    if name not in _BACKENDS:
        raise ValueError(
            f"The 'name' parameter of set_backend must be one of {list(_BACKENDS)}. "
            f"Got {name!r} instead."
        )
    if name == "cupy":
        _import_cupy()
    _state["backend"] = name


@contextlib.contextmanager
def use_backend(name: str):
    """Context manager: create new tensors on backend ``name`` inside the block."""
    previous = _state["backend"]
    set_backend(name)
    try:
        yield
    finally:
        _state["backend"] = previous


def xp():
    """The array module of the current backend (``numpy`` or ``cupy``)."""
    return _import_cupy() if _state["backend"] == "cupy" else numpy


def get_array_module(*arrays):
    """Array module (``numpy`` or ``cupy``) that owns ``arrays``.

    NumPy arrays, Python scalars and ``None`` give ``numpy``; any CuPy array gives ``cupy``.
    """
    if _cupy is not None:
        for a in arrays:
            if isinstance(a, _cupy.ndarray):
                return _cupy
    return numpy


def floatx() -> str:
    """Default float dtype of new tensors and weights (``"float32"`` unless changed)."""
    return _state["floatx"]


def set_floatx(dtype: str) -> None:
    """Set the default float dtype: ``"float32"`` (default) or ``"float64"``."""
    dtype = numpy.dtype(dtype).name if dtype is not None else dtype
    if dtype not in _FLOATS:
        raise ValueError(
            f"The 'dtype' parameter of set_floatx must be one of {list(_FLOATS)}. "
            f"Got {dtype!r} instead."
        )
    _state["floatx"] = dtype


@contextlib.contextmanager
def floatx_scope(dtype: str):
    """Context manager: use ``dtype`` as the default float dtype inside the block."""
    previous = _state["floatx"]
    set_floatx(dtype)
    try:
        yield
    finally:
        _state["floatx"] = previous


def asarray(data, dtype=None):
    """Convert ``data`` to an array of the current backend.

    Floating and Python-number inputs take ``dtype`` or, when ``dtype`` is None, the default
    float dtype; integer and boolean arrays keep their dtype.
    """
    mod = xp()
    if dtype is None:
        kind = getattr(getattr(data, "dtype", None), "kind", None)
        if kind is None:
            data = numpy.asarray(data)
            kind = data.dtype.kind
        dtype = _state["floatx"] if kind == "f" else None
    if mod is numpy:
        src_mod = get_array_module(data)
        if src_mod is not numpy:
            data = src_mod.asnumpy(data)
        # not ascontiguousarray: it turns 0-d data into shape (1,)
        return numpy.asarray(data, dtype=dtype, order="C")
    return mod.asarray(data, dtype=dtype, order="C")


def to_numpy(a):
    """Return ``a`` as a NumPy array (copying from the GPU when needed)."""
    mod = get_array_module(a)
    if mod is numpy:
        return numpy.asarray(a)
    return mod.asnumpy(a)


def sum_of_squares(a) -> float:
    """The sum of the squares of ``a``'s entries (its squared L2 norm), as a Python float.

    One dot product of the flattened array with itself: BLAS does it without a squared copy.
    Gradient norms (clipping, the gradient-health and divergence watches) are built on it.

    Examples
    --------
    >>> import numpy as np
    >>> sum_of_squares(np.array([[3.0], [4.0]]))
    25.0
    """
    flat = a.reshape(-1)
    return float(flat @ flat)


def scatter_add(target, index, values):
    """``target[index] += values`` with repeated indices accumulated (unbuffered).

    Used only where indices may repeat (integer-array indexing, embeddings). Dense sliding-window
    code accumulates with slices instead, which is much faster.
    """
    mod = get_array_module(target)
    if mod is numpy:
        numpy.add.at(target, index, values)
    else:  # pragma: no cover - GPU only
        import cupyx

        cupyx.scatter_add(target, index, values)
    return target


def erf(x):
    """The error function, elementwise, on either backend.

    Uses SciPy's (or CuPy's) compiled ``erf`` when available, else Python's ``math.erf``
    element by element: exact, only slower.
    """
    mod = get_array_module(x)
    if mod is not numpy:  # pragma: no cover - GPU only
        from cupyx.scipy.special import erf as cupy_erf

        return cupy_erf(x)
    try:
        from scipy.special import erf as scipy_erf
    except ImportError:  # pragma: no cover - scipy ships with the [cli] extra
        import math

        return numpy.vectorize(math.erf, otypes=[x.dtype])(x)
    return scipy_erf(x).astype(x.dtype, copy=False)


def blas_threads(limit: int = 1):
    """Context manager: let NumPy's BLAS use at most ``limit`` threads inside the block.

    Small models run their many small matrix products faster on one thread (threads that spin
    waiting for work cost more than they give), and a busy machine suffers most. Uses
    ``threadpoolctl`` (installed with scikit-learn); without it the block runs unchanged.

    Examples
    --------
    >>> from profond import backend
    >>> with backend.blas_threads(1):
    ...     pass
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    return threadpool_limits(limits=int(limit), user_api="blas")
