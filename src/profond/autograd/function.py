"""What a differentiable function is written with: ``make`` (a node: the output array, its
parents and a backward closure), operand coercion, broadcasting reduction, axis normalisation.

The primitives of :mod:`profond.autograd` and the ops of :mod:`profond.ops` all use them.
"""

from __future__ import annotations

from profond import backend
from profond.autograd.tensor import Tensor

make = Tensor._make


def as_tensor(x, like: Tensor | None = None) -> Tensor:
    """Wrap a constant (number, array) as a Tensor that needs no gradient.

    Numbers and float arrays take ``like``'s float dtype so that ``x * 2.0`` stays float32;
    integer arrays combined with a float tensor are cast to its dtype.
    """
    if isinstance(x, Tensor):
        return x
    if like is not None:
        xp = like.xp
        dtype = like.dtype if like.dtype.kind == "f" else None
        if backend.get_array_module(x) is not xp:
            x = backend.to_numpy(x) if xp.__name__ == "numpy" else x
        arr = xp.asarray(x)
        if dtype is not None and arr.dtype != dtype and arr.dtype.kind in "biuf":
            arr = arr.astype(dtype)
        return make(arr)
    return Tensor(x)


# Rows of 256 values: long enough for the fast loop; much longer rows (2,048) measured up to
# 6x slower on some shapes (cache-set conflicts between the rows and the zeros).
_RELU_ROW = 256


def relu_(a, xp, out=None):
    """``max(a, 0)`` into ``out`` (default: ``a`` itself, in place); returns it.

    Against rows of zeros rather than the scalar 0: NumPy's maximum runs its fast loop only for
    two contiguous operands, and with a scalar (or a short broadcast row) it is 2.5-4x slower
    (a (128, 256) float32 batch: ~30 -> ~12 us). Contiguous data are viewed as rows of
    ``_RELU_ROW`` values whatever their shape, so the inner loop is always long.
    """
    if out is None:
        out = a
    if a.size < 256 or not (a.flags.c_contiguous and out.flags.c_contiguous):
        return xp.maximum(a, 0, out=out)
    src, dst = a.reshape(-1), out.reshape(-1)
    width = min(src.size, _RELU_ROW)
    body = src.size - src.size % width
    xp.maximum(src[:body].reshape(-1, width), xp.zeros(width, dtype=a.dtype),
               out=dst[:body].reshape(-1, width))
    if body < src.size:
        xp.maximum(src[body:], xp.zeros(src.size - body, dtype=a.dtype), out=dst[body:])
    return out


def pair(a, b):
    """Coerce a binary op's operands to tensors of a common float dtype."""
    if not isinstance(a, Tensor):
        a = as_tensor(a, b if isinstance(b, Tensor) else None)
    if not isinstance(b, Tensor):
        b = as_tensor(b, a)
    ka, kb = a.data.dtype.kind, b.data.dtype.kind
    if ka == "f" and kb != "f":
        b = make(b.data.astype(a.data.dtype))
    elif kb == "f" and ka != "f":
        a = make(a.data.astype(b.data.dtype))
    return a, b


def unbroadcast(g, shape):
    """Sum ``g`` over the axes that broadcasting added or stretched to reach ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, s in enumerate(shape) if s == 1 and g.shape[i + lead] != 1
    )
    if axes:
        g = g.sum(axis=axes)
    return g.reshape(shape)


def normalize_axis(axis, ndim: int):
    """``axis`` as a sorted tuple of non-negative ints (None means every axis)."""
    if axis is None:
        return tuple(range(ndim))
    if isinstance(axis, (list, tuple)):
        axes = axis
    else:
        axes = (axis,)
    out = []
    for a in axes:
        a = int(a)
        if not -ndim <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of bounds for a tensor of rank {ndim}.")
        out.append(a % ndim if ndim else 0)
    return tuple(sorted(set(out)))


def expand_reduced(g, shape, axes, keepdims: bool):
    """Reshape a reduced gradient so that it broadcasts against the input ``shape``."""
    if keepdims or not axes:
        return g
    kept = list(g.shape)
    for a in axes:
        kept.insert(a, 1)
    return g.reshape(kept)
