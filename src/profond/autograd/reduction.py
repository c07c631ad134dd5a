"""Reductions over axes: sum, mean, max, min, var, logsumexp."""

from __future__ import annotations

from profond.autograd.tensor import Tensor
from profond.autograd.elementwise import sqrt
from profond.autograd.function import as_tensor, expand_reduced, make, normalize_axis

__all__ = ["sum", "mean", "max", "min", "var", "std", "logsumexp", "argmax", "argmin"]


def sum(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis`` (all axes when None)."""
    a = as_tensor(a)
    xp = a.xp
    axes = normalize_axis(axis, a.ndim)
    shape = a.data.shape

    def backward(g):
        return (xp.broadcast_to(expand_reduced(g, shape, axes, keepdims), shape),)

    return make(a.data.sum(axis=axes, keepdims=keepdims), (a,), backward)


def mean(a, axis=None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis``."""
    a = as_tensor(a)
    xp = a.xp
    axes = normalize_axis(axis, a.ndim)
    shape = a.data.shape
    count = 1
    for ax in axes:
        count *= shape[ax]

    def backward(g):
        return (xp.broadcast_to(expand_reduced(g, shape, axes, keepdims) / count, shape),)

    return make(a.data.mean(axis=axes, keepdims=keepdims), (a,), backward)


def _extremum(a, axis, keepdims, fn):
    a = as_tensor(a)
    axes = normalize_axis(axis, a.ndim)
    out_keep = getattr(a.data, fn)(axis=axes, keepdims=True)
    out = out_keep if keepdims else out_keep.reshape(
        [s for i, s in enumerate(a.data.shape) if i not in axes])

    def backward(g):
        # Ties share the gradient equally, as PyTorch's amax/amin do.
        hit = a.data == out_keep
        count = hit.sum(axis=axes, keepdims=True)
        return (expand_reduced(g, a.data.shape, axes, keepdims) * hit / count,)

    return make(out, (a,), backward)


def max(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; tied maxima share the gradient."""
    return _extremum(a, axis, keepdims, "max")


def min(a, axis=None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Minimum over ``axis``; tied minima share the gradient."""
    return _extremum(a, axis, keepdims, "min")


def var(a, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Variance over ``axis`` (``ddof=0``: the biased estimate, as Keras uses)."""
    a = as_tensor(a)
    axes = normalize_axis(axis, a.ndim)
    count = 1
    for ax in axes:
        count *= a.data.shape[ax]
    centered = a.data - a.data.mean(axis=axes, keepdims=True)
    out = (centered * centered).sum(axis=axes, keepdims=keepdims) / (count - ddof)

    def backward(g):
        return (expand_reduced(g, a.data.shape, axes, keepdims) * (2.0 / (count - ddof))
                * centered,)

    return make(out, (a,), backward)


def std(a, axis=None, keepdims: bool = False, ddof: int = 0) -> Tensor:
    """Standard deviation over ``axis``."""
    return sqrt(var(a, axis=axis, keepdims=keepdims, ddof=ddof))


def logsumexp(a, axis=None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(a)))`` over ``axis``, computed stably."""
    a = as_tensor(a)
    xp = a.xp
    axes = normalize_axis(axis, a.ndim)
    m = a.data.max(axis=axes, keepdims=True)
    m = xp.where(xp.isfinite(m), m, 0)
    e = xp.exp(a.data - m)
    s = e.sum(axis=axes, keepdims=True)
    out_keep = xp.log(s) + m
    out = out_keep if keepdims else out_keep.reshape(
        [n for i, n in enumerate(a.data.shape) if i not in axes])

    def backward(g):
        return (expand_reduced(g, a.data.shape, axes, keepdims) * (e / s),)

    return make(out, (a,), backward)


def argmax(a, axis=None) -> Tensor:
    """Index of the maximum (integer tensor, not differentiable)."""
    a = as_tensor(a)
    return make(a.data.argmax(axis=axis))


def argmin(a, axis=None) -> Tensor:
    """Index of the minimum (integer tensor, not differentiable)."""
    a = as_tensor(a)
    return make(a.data.argmin(axis=axis))
