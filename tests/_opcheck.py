"""Shared machinery of the op tests (Chainer's idea): a test gives the op, a NumPy reference and
the input shapes; ``check_op`` runs the forward in float32 and float64 against the reference and
the backward in float64 against central differences (``profond.testing.gradcheck``).
"""

from __future__ import annotations

import numpy as np

import profond
from profond.testing import gradcheck

FORWARD_TOL = {np.float32: dict(rtol=2e-5, atol=2e-6), np.float64: dict(rtol=1e-10, atol=1e-12)}


def dodge(x, points=(0.0,), margin=0.15):
    """Move the values of ``x`` that lie within ``margin`` of a kink in ``points`` away from it
    (relu and abs at 0, clip at its bounds): finite differences are meaningless across a kink."""
    x = np.array(x, dtype=np.float64)
    for p in points:
        near = np.abs(x - p) < margin
        x[near] = p + np.where(x[near] >= p, margin, -margin)
    return x


def draw(shape, low=-2.0, high=2.0, seed=0, points=None, untie=False):
    """Uniform values in ``[low, high)``, optionally dodging kinks and with no two equal values
    (so that max/min and sorting have no ties)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(low, high, size=shape)
    if untie and x.size:
        # distinct values spaced at least (high - low) / (2 size) apart, in random order
        grid = np.linspace(low, high, x.size * 2 + 1)[1::2]
        x = rng.permutation(grid).reshape(shape)
    if points is not None:
        x = dodge(x, points)
    return x


def check_op(fn, ref, *inputs, grad=True, dtypes=(np.float32, np.float64), atol=1e-5,
             rtol=1e-4, fwd_tol=None):
    """Forward of ``fn`` against ``ref`` in each dtype; backward against finite differences.

    ``inputs`` are float64 NumPy arrays (the reference sees them cast to each dtype then back
    to float64, so rounding of the inputs is not counted as the op's error).
    """
    for dtype in dtypes:
        cast = [np.asarray(x).astype(dtype) if np.asarray(x).dtype.kind == "f" else np.asarray(x)
                for x in inputs]
        tensors = [profond.tensor(c, dtype=dtype) if c.dtype.kind == "f" else profond.tensor(c)
                   for c in cast]
        out = fn(*tensors)
        assert isinstance(out, profond.Tensor)
        expected = np.asarray(ref(*[c.astype(np.float64) if c.dtype.kind == "f" else c
                                    for c in cast]))
        assert out.shape == expected.shape, (out.shape, expected.shape)
        if expected.dtype.kind == "f":
            assert out.dtype == dtype, f"{dtype.__name__} input gave {out.dtype} output"
        tol = fwd_tol or FORWARD_TOL[dtype]
        np.testing.assert_allclose(out.numpy().astype(np.float64), expected, **tol)
    if grad:
        assert gradcheck(fn, *inputs, atol=atol, rtol=rtol)
