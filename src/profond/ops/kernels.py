"""Optional compiled kernels (numba) for the passes NumPy cannot fuse.

Max pooling over non-overlapping windows makes, in NumPy, a pass per window offset forward and
several full-size passes backward (a comparison, a "first maximum" claim, a broadcast product);
col2im makes a strided addition per kernel offset; an LSTM or GRU step, a dozen elementwise
passes over small arrays; an optimizer's update, two to nine passes over each variable. A loop
makes one pass each. Predict's convolution and pooling also take a direct convolution and
Winograd's transforms, which write only the pooled output. The kernels
(:mod:`profond.ops._numba_kernels`, :mod:`profond.ops._recurrent_numba`,
:mod:`profond.ops._depthwise_numba`, :mod:`profond.ops._conv_numba`,
:mod:`profond.optimizers._compiled`) serve when numba is
installed (the ``numba`` extra: ``pip install profond[numba]``), the arrays are NumPy's and
:data:`ENABLED` is true; set ``profond.ops.kernels.ENABLED = False`` to force the NumPy paths
(the tests run both). They give the NumPy paths' results, NaN and ties included (sums in
another order: float rounding; Winograd's differences of inputs may turn an infinite input into
NaN where the NumPy path gives an infinity).
"""

from __future__ import annotations

import functools
import importlib.util

__all__ = ["ENABLED", "available", "get", "lazy"]

ENABLED = True
_loaded = None  # the kernels' module once imported; False when numba is missing


def get(xp):
    """The module of compiled kernels for arrays of module ``xp``, or None (not NumPy arrays,
    numba missing, or :data:`ENABLED` false)."""
    global _loaded
    if not ENABLED or xp.__name__ != "numpy":
        return None
    if _loaded is None:
        from profond.ops import _numba_kernels

        _loaded = _numba_kernels if _numba_kernels.COMPILED else False
    return _loaded or None


@functools.cache  # asked at every call of a kernel-backed op
def available() -> bool:
    """Whether numba is installed (whatever :data:`ENABLED` says)."""
    return importlib.util.find_spec("numba") is not None


def lazy(build):
    """``kernel(name, xp)`` for a family of compiled kernels: ``build()`` (which imports numba
    and returns ``{name: kernel}``) runs on the first call that can use them; ``kernel`` returns
    None when they cannot run on ``xp``'s arrays (not NumPy, numba missing, or :data:`ENABLED`
    false). ``kernel.table`` holds the kernels once built (tests wrap them there)."""
    table = {}

    def kernel(name, xp):
        if not ENABLED or xp.__name__ != "numpy" or not available():
            return None
        if not table:
            table.update(build())
        return table[name]

    kernel.table = table
    return kernel
