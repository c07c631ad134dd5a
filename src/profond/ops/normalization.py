"""Batch normalisation (Ioffe & Szegedy, 2015) as fused nodes.

Training normalises with the statistics of the batch, and the backward pass is the closed form
of the gradient through the mean and the variance (one pass over the data, no graph of
elementary ops):

    x_hat = (x - mean) / sqrt(var + eps)          out = gamma * x_hat + beta
    d x   = gamma / sqrt(var + eps) * (g - mean(g) - x_hat * mean(g * x_hat))

Inference normalises with fixed statistics (the layer's moving averages): an affine map.
"""

from __future__ import annotations

from profond.autograd.tensor import Tensor
from profond.autograd.function import as_tensor, make, normalize_axis

__all__ = ["batch_norm_train", "batch_norm_inference"]


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
            gx = g - gsum / count
            gx -= xhat * (gxhat / count)
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
