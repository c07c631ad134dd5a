"""Input checks for ``fit``/``evaluate``/``predict``: clear errors before any work is done."""

from __future__ import annotations

import numpy as np

from profond import backend
from profond.autograd.tensor import Tensor
from profond.training.structure import flatten, map_structure

__all__ = ["as_array_structure", "check_finite"]

_CHUNK = 1 << 16


def _to_array(a, name):
    if isinstance(a, Tensor):
        return a.data
    if hasattr(a, "__array__") or isinstance(a, (list, tuple)):
        arr = a if hasattr(a, "shape") and hasattr(a, "dtype") else np.asarray(a)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"The '{name}' argument must hold numbers (bool, int or float). "
                            f"Got an array of dtype {arr.dtype}.")
        if arr.ndim == 0:
            raise ValueError(f"The '{name}' argument must have a sample axis; got a scalar.")
        return arr
    raise TypeError(f"The '{name}' argument must be an array (or a list/dict of arrays). "
                    f"Got {type(a).__name__}.")


def as_array_structure(x, name: str):
    """Arrays of ``x`` (a structure of array-likes) with dtype and rank checked."""
    if x is None:
        return None
    if isinstance(x, (list, tuple)) and x and all(isinstance(v, (int, float, bool))
                                                  for v in x):
        return _to_array(np.asarray(x), name)
    if isinstance(x, (list, tuple)) and x and not any(hasattr(v, "shape") or
                                                      isinstance(v, (list, tuple, dict))
                                                      for v in x):
        return _to_array(np.asarray(x), name)
    return map_structure(lambda a: _to_array(a, name), x)


def check_finite(x, name: str) -> None:
    """Raise if ``x`` is empty or holds NaN or inf (checked in chunks: memmaps stay lazy)."""
    for i, a in enumerate(flatten(x)):
        label = name if len(flatten(x)) == 1 else f"{name}[{i}]"
        if len(a) == 0:
            raise ValueError(f"The '{label}' argument is empty (0 samples): nothing to train on "
                             "or evaluate.")
        if a.dtype.kind != "f":
            continue
        xp = backend.get_array_module(a)
        for start in range(0, len(a), _CHUNK):
            chunk = a[start:start + _CHUNK]
            if not bool(xp.isfinite(chunk).all()):
                bad = np.argwhere(~np.isfinite(backend.to_numpy(chunk)))[0]
                where = (start + int(bad[0]),) + tuple(int(b) for b in bad[1:])
                kind = "NaN" if np.isnan(backend.to_numpy(chunk)[tuple(bad)]) else "inf"
                raise ValueError(f"The '{label}' argument contains {kind} (first at index "
                                 f"{where}). Clean or impute the data before training.")
