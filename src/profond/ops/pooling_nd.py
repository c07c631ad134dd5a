"""3-D pooling and adaptive pooling (spatial rank 1, 2 or 3) of channels-last data.

Local pooling of any rank walks the window's offsets as :mod:`profond.ops.pooling` does in
2-D: for each offset one strided slice holds that offset's element of every window, and the
output is the running maximum (or sum) of the slices. The maximum's gradient goes to the first
maximal element of each window, the average's to every real (unpadded) element.

Adaptive pooling (PyTorch's and Keras's) splits each axis of length ``L`` into ``out`` windows,
window ``i`` covering ``[floor(i L / out), ceil((i + 1) L / out))``. Both kinds are separable:
an average over a box is the average over each axis in turn, and so is a maximum. The average
along one axis is a product with an ``(L, out)`` matrix of window weights (so its gradient is
the transposed product); the maximum along one axis gathers the windows (padded to the longest
by repeating their last index, which cannot change a maximum) and keeps, for the gradient, the
index of each window's first maximum.
"""

from __future__ import annotations

import itertools

from profond.autograd.function import as_tensor, make
from profond.autograd.linalg import matmul
from profond.autograd.shape import swapaxes
from profond.autograd.tensor import Tensor
from profond.ops.conv import normalize_tuple, same_padding

__all__ = ["max_pool3d", "avg_pool3d", "adaptive_average_pool", "adaptive_max_pool"]

_LAYOUTS = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
            3: "(batch, depth, height, width, channels)"}


def _window_counts(xp, size, pool, stride, out, pad_before, dtype):
    starts = xp.arange(out) * stride - pad_before
    return (xp.minimum(starts + pool, size) - xp.maximum(starts, 0)).astype(dtype)


def _pool_nd(x, pool_size, strides, padding, kind, rank, owner):
    x = as_tensor(x)
    if x.ndim != rank + 2:
        raise ValueError(f"The 'x' parameter of {owner} must have rank {rank + 2} "
                         f"{_LAYOUTS[rank]}. Got shape {tuple(x.shape)} instead.")
    pool = normalize_tuple(pool_size, rank, "pool_size", owner)
    strides = pool if strides is None else normalize_tuple(strides, rank, "strides", owner)
    sizes = tuple(x.shape[1:-1])
    if padding == "valid":
        pads = tuple((0, 0) for _ in sizes)
    elif padding == "same":
        pads = tuple(same_padding(s, p, st) for s, p, st in zip(sizes, pool, strides))
    else:
        raise ValueError(f"The 'padding' parameter of {owner} must be one of ['valid', "
                         f"'same']. Got {padding!r} instead.")
    xp, xd = x.xp, x.data
    n, c = x.shape[0], x.shape[-1]
    padded = tuple(s + a + b for s, (a, b) in zip(sizes, pads))
    out_sizes = tuple((p - k) // s + 1 for p, k, s in zip(padded, pool, strides))
    if min(out_sizes) < 1:
        raise ValueError(f"{owner}: the pool window {pool} is larger than the input of shape "
                         f"{tuple(x.shape)}.")
    inner = (slice(None),) + tuple(slice(a, a + s) for (a, _), s in zip(pads, sizes))
    is_padded = any(a or b for a, b in pads)
    if is_padded:
        xpad = xp.full((n,) + padded + (c,), -xp.inf if kind == "max" else 0, dtype=xd.dtype)
        xpad[inner] = xd
    else:
        xpad = xd
    windows = [(slice(None),) + tuple(slice(o, o + s * (m - 1) + 1, s)
                                      for o, m, s in zip(offset, out_sizes, strides))
               for offset in itertools.product(*map(range, pool))]
    out = xpad[windows[0]].copy()
    for w in windows[1:]:
        if kind == "max":
            xp.maximum(out, xpad[w], out=out)
        else:
            out += xpad[w]
    share = None
    if kind == "avg":
        # 1 / (number of real elements) of each window, broadcast over (n, *out, c)
        share = xp.ones((1,) * (rank + 2), dtype=xd.dtype)
        for a in range(rank):
            counts = _window_counts(xp, sizes[a], pool[a], strides[a], out_sizes[a],
                                    pads[a][0], xd.dtype)
            share = share * counts.reshape((1,) * (a + 1) + (-1,) + (1,) * (rank - a))
        share = 1.0 / share
        out *= share

    def backward(g):
        gx = xp.zeros(xpad.shape, dtype=g.dtype)
        if kind == "avg":
            g = g * share
            for w in windows:
                gx[w] += g
        else:
            free = None  # windows whose maximum has not been claimed yet
            for w in windows:
                hit = xpad[w] == out
                if free is None:
                    free = ~hit
                else:
                    hit &= free
                    free &= ~hit
                gx[w] += g * hit
        return (gx[inner] if is_padded else gx,)

    return make(out, (x,), backward)


def max_pool3d(x, pool_size=2, strides=None, padding="valid") -> Tensor:
    """Maximum over ``pool_size`` windows of channels-last volumes.

    Parameters
    ----------
    x : Tensor, shape (batch, depth, height, width, channels)
    pool_size : int or (int, int, int), default 2
    strides : int or (int, int, int), optional
        Defaults to ``pool_size``.
    padding : {"valid", "same"}, default "valid"

    Returns
    -------
    Tensor, shape (batch, out_depth, out_height, out_width, channels)

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> ops.max_pool3d(profond.tensor(np.arange(8.0).reshape(1, 2, 2, 2, 1))).numpy().ravel()
    array([7.], dtype=float32)
    """
    return _pool_nd(x, pool_size, strides, padding, "max", 3, "max_pool3d")


def avg_pool3d(x, pool_size=2, strides=None, padding="valid") -> Tensor:
    """Mean over ``pool_size`` windows of channels-last volumes (arguments as
    :func:`max_pool3d`); with ``padding="same"`` a window averages its real elements only.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> ops.avg_pool3d(profond.tensor(np.arange(8.0).reshape(1, 2, 2, 2, 1))).numpy().ravel()
    array([3.5], dtype=float32)
    """
    return _pool_nd(x, pool_size, strides, padding, "avg", 3, "avg_pool3d")


# --- adaptive pooling ----------------------------------------------------------------------------
def _bounds(length, out):
    """Start and end of each of the ``out`` adaptive windows over ``length`` positions."""
    return [(i * length // out, -(-(i + 1) * length // out)) for i in range(out)]


def _check_adaptive(x, output_size, owner):
    x = as_tensor(x)
    rank = x.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"The 'x' parameter of {owner} must have rank 3, 4 or 5 (batch, "
                         f"*spatial, channels). Got shape {tuple(x.shape)} instead.")
    return x, normalize_tuple(output_size, rank, "output_size", owner)


def adaptive_average_pool(x, output_size) -> Tensor:
    """Adaptive average pooling: each spatial axis split into ``output_size`` windows.

    Parameters
    ----------
    x : Tensor, shape (batch, *spatial, channels)
        Spatial rank 1, 2 or 3.
    output_size : int or tuple of ints
        The output's spatial shape; window ``i`` of an axis of length ``L`` covers
        ``[floor(i L / out), ceil((i + 1) L / out))``.

    Returns
    -------
    Tensor, shape (batch, *output_size, channels)

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> x = profond.tensor(np.arange(5.0).reshape(1, 5, 1))
    >>> ops.adaptive_average_pool(x, 2).numpy().ravel()
    array([1., 3.], dtype=float32)
    """
    x, output_size = _check_adaptive(x, output_size, "adaptive_average_pool")
    xp = x.xp
    for a, out in enumerate(output_size):
        length = x.shape[1 + a]
        weights = xp.zeros((length, out), dtype=x.dtype)
        for i, (lo, hi) in enumerate(_bounds(length, out)):
            weights[lo:hi, i] = 1.0 / (hi - lo)
        # the axis last, one product with the window weights, the axis back in place
        x = swapaxes(matmul(swapaxes(x, 1 + a, -1), as_tensor(weights, x)), 1 + a, -1)
    return x


def _adaptive_max_last(x, out):
    """Adaptive maximum along the last axis of ``x``, one node."""
    xp = x.xp
    length = x.shape[-1]
    bounds = _bounds(length, out)
    widest = max(hi - lo for lo, hi in bounds)
    index = xp.array([[min(lo + k, hi - 1) for k in range(widest)] for lo, hi in bounds])
    gathered = x.data[..., index]  # (..., out, widest)
    first = gathered.argmax(axis=-1)
    source = index[xp.arange(out), first]  # (..., out): where each maximum came from
    result = xp.take_along_axis(gathered, first[..., None], axis=-1)[..., 0]

    def backward(g):
        # the gradient of window i goes to position source[..., i]; windows may overlap, so
        # the scatter is a product with a one-hot (..., out, length) rather than an assignment
        onehot = source[..., None] == xp.arange(length)
        return (xp.einsum("...o,...ol->...l", g, onehot.astype(g.dtype)),)

    return make(result, (x,), backward)


def adaptive_max_pool(x, output_size) -> Tensor:
    """Adaptive max pooling: each spatial axis split into ``output_size`` windows (see
    :func:`adaptive_average_pool`).

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> x = profond.tensor(np.array([1.0, 5.0, 2.0, 0.0, 3.0]).reshape(1, 5, 1))
    >>> ops.adaptive_max_pool(x, 2).numpy().ravel()
    array([5., 3.], dtype=float32)
    """
    x, output_size = _check_adaptive(x, output_size, "adaptive_max_pool")
    for a, out in enumerate(output_size):
        x = swapaxes(_adaptive_max_last(swapaxes(x, 1 + a, -1), out), 1 + a, -1)
    return x
