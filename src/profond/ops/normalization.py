"""Batch normalisation (Ioffe & Szegedy, 2015) as fused nodes.

Training normalises with the statistics of the batch, and the backward pass is the closed form
of the gradient through the mean and the variance (one pass over the data, no graph of
elementary ops):

    x_hat = (x - mean) / sqrt(var + eps)          out = gamma * x_hat + beta
    d x   = gamma / sqrt(var + eps) * (g - mean(g) - x_hat * mean(g * x_hat))

Inference normalises with fixed statistics (the layer's moving averages): an affine map.

Synchronised batch normalisation (data-parallel training): inside
:func:`summed_over_replicas`, each replica holds a part of the batch, and the four sums the
op needs (of ``x`` and of ``(x - mean)**2`` forward, of ``g`` and ``g * x_hat`` backward) are
summed over the replicas before use, so every replica normalises with the statistics of the
whole batch, as one process would. The gradients of ``gamma`` and ``beta`` stay local: the
optimizer's gradient sum adds them up with the others.
"""

from __future__ import annotations

import contextlib

from profond.autograd.tensor import Tensor
from profond.autograd.function import as_tensor, make, normalize_axis

__all__ = ["batch_norm_train", "batch_norm_inference", "summed_over_replicas"]

# The function that sums an array over the replicas in place (None: one process).
_replicas = {"sum": None}


@contextlib.contextmanager
def summed_over_replicas(sum_in_place):
    """Within the block, :func:`batch_norm_train` takes its statistics over every replica's
    part of the batch.

    Parameters
    ----------
    sum_in_place : callable
        ``sum_in_place(buffer)`` replaces a contiguous float64 array with its sum over the
        replicas (an MPI ``Allreduce``); every replica calls it in the same order.

    Examples
    --------
    One replica "summing" with a second that holds the same data gives that data's
    statistics:

    >>> import numpy as np, profond
    >>> from profond import ops
    >>> x = profond.tensor(np.array([[1.0], [3.0]]))
    >>> def double(buffer):
    ...     buffer *= 2
    >>> with ops.normalization.summed_over_replicas(double):
    ...     _, mean, var = ops.batch_norm_train(x, epsilon=0.0)
    >>> mean, var
    (array([2.], dtype=float32), array([1.], dtype=float32))
    """
    previous = _replicas["sum"]
    _replicas["sum"] = sum_in_place
    try:
        yield
    finally:
        _replicas["sum"] = previous


def _global_sums(xp, count, *sums):
    """``(count, *sums)`` summed over the replicas (float64 on the wire, the sums' dtype
    after), or as they are with one process."""
    sum_in_place = _replicas["sum"]
    if sum_in_place is None:
        return (count, *sums)
    buffer = xp.concatenate([xp.asarray([count], dtype="float64")] +
                            [s.reshape(-1).astype("float64") for s in sums])
    sum_in_place(buffer)
    out, start = [int(buffer[0])], 1
    for s in sums:
        out.append(buffer[start:start + s.size].reshape(s.shape).astype(s.dtype))
        start += s.size
    return tuple(out)


def _stats_shape(x, axes):
    return tuple(1 if a in axes else s for a, s in enumerate(x.shape))


def batch_norm_train(x, gamma=None, beta=None, axis=-1, epsilon: float = 1e-3):
    """Normalise ``x`` with its own statistics over every axis but ``axis``.

    Parameters
    ----------
    x : Tensor, shape (batch, ..., channels)
    gamma, beta : Tensor of shape (channels,), optional
        Scale and offset (omitted: 1 and 0).
    axis : int or tuple of int, default -1
        The feature axis (or axes) kept; the statistics are taken over the others.
    epsilon : float, default 1e-3
        Added to the variance (Keras's default).

    Returns
    -------
    out : Tensor, same shape as ``x``
    mean, variance : ndarray, shape (channels,)
        The batch statistics (the biased variance, as Keras uses for its moving average).

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> x = profond.tensor(np.array([[1.0, 10.0], [3.0, 30.0]]))
    >>> out, mean, var = ops.batch_norm_train(x, epsilon=0.0)
    >>> out.numpy(), mean, var
    (array([[-1., -1.],
           [ 1.,  1.]], dtype=float32), array([ 2., 20.], dtype=float32), array([  1., 100.], dtype=float32))
    """
    x = as_tensor(x)
    kept = normalize_axis(axis, x.ndim)
    axes = tuple(a for a in range(x.ndim) if a not in kept)
    shape = _stats_shape(x, axes)
    xd = x.data
    count = xd.size // max(1, _prod(shape))
    synchronised = _replicas["sum"] is not None
    if synchronised:
        count, total = _global_sums(x.xp, count, xd.sum(axis=axes, keepdims=True))
        mean = total / count
        xhat = xd - mean
        _, squares = _global_sums(x.xp, 0, (xhat * xhat).sum(axis=axes, keepdims=True))
        var = squares / count
    else:
        mean = xd.mean(axis=axes, keepdims=True)
        xhat = xd - mean
        var = (xhat * xhat).mean(axis=axes, keepdims=True)
    inv = 1.0 / x.xp.sqrt(var + epsilon)
    xhat *= inv
    scale = inv if gamma is None else inv * gamma.data.reshape(shape)
    out = xhat if gamma is None else xhat * gamma.data.reshape(shape)
    if beta is not None:
        out = out + beta.data.reshape(shape)
    elif out is xhat:
        out = xhat.copy()
    params = [p for p in (gamma, beta) if p is not None]

    def backward(g):
        gsum = g.sum(axis=axes, keepdims=True)
        gxhat = (g * xhat).sum(axis=axes, keepdims=True)
        gx = None
        if x.requires_grad:
            # The input's gradient needs the whole batch's sums; gamma's and beta's are the
            # local ones (the optimizer's gradient sum adds the replicas' up).
            gsum_all, gxhat_all = _global_sums(x.xp, 0, gsum, gxhat)[1:] if synchronised \
                else (gsum, gxhat)
            gx = g - gsum_all / count
            gx -= xhat * (gxhat_all / count)
            gx *= scale
        grads = [gx]
        if gamma is not None:
            grads.append(gxhat.reshape(gamma.shape) if gamma.requires_grad else None)
        if beta is not None:
            grads.append(gsum.reshape(beta.shape) if beta.requires_grad else None)
        return tuple(grads)

    result = make(out, (x, *params), backward)
    return result, mean.reshape(-1), var.reshape(-1)


def batch_norm_inference(x, mean, variance, gamma=None, beta=None, axis=-1,
                         epsilon: float = 1e-3) -> Tensor:
    """Normalise ``x`` with given statistics: ``gamma * (x - mean) / sqrt(variance + eps) + beta``.

    Parameters
    ----------
    x : Tensor, shape (batch, ..., channels)
    mean, variance : Tensor or ndarray, shape (channels,)
        Constants (the moving averages); no gradient flows to them.
    gamma, beta : Tensor of shape (channels,), optional
    axis : int or tuple of int, default -1
    epsilon : float, default 1e-3

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> x = profond.tensor(np.array([[3.0], [5.0]]))
    >>> ops.batch_norm_inference(x, np.array([1.0]), np.array([4.0]), epsilon=0.0).numpy()
    array([[1.],
           [2.]], dtype=float32)
    """
    x = as_tensor(x)
    kept = normalize_axis(axis, x.ndim)
    axes = tuple(a for a in range(x.ndim) if a not in kept)
    shape = _stats_shape(x, axes)
    xp = x.xp
    mean = as_tensor(mean, x).data.reshape(shape)
    inv = 1.0 / xp.sqrt(as_tensor(variance, x).data.reshape(shape) + epsilon)
    scale = inv if gamma is None else inv * gamma.data.reshape(shape)
    shift = -mean * scale
    if beta is not None:
        shift = shift + beta.data.reshape(shape)
    out = x.data * scale
    out += shift
    params = [p for p in (gamma, beta) if p is not None]

    def backward(g):
        grads = [g * scale if x.requires_grad else None]
        if gamma is not None:
            grads.append((g * ((x.data - mean) * inv)).sum(axis=axes).reshape(gamma.shape)
                         if gamma.requires_grad else None)
        if beta is not None:
            grads.append(g.sum(axis=axes).reshape(beta.shape) if beta.requires_grad else None)
        return tuple(grads)

    return make(out, (x, *params), backward)


def _prod(shape):
    out = 1
    for s in shape:
        out *= s
    return out
