"""Per-sample normalisations as fused nodes: layer (Ba et al., 2016), RMS (Zhang & Sennrich,
2019), group (Wu & He, 2018) and L2 (unit) normalisation.

Each normalises over some axes of every sample, then (but the L2 one) scales and shifts by
weights that broadcast over the other axes. The backward pass is the closed form through the
statistics, one pass over the data, with ``gy = g * gamma`` and ``mean`` over the normalised
axes (``N`` elements)::

    layer:  x_hat = (x - mean(x)) / sqrt(var(x) + eps)
            dx = (gy - mean(gy) - x_hat * mean(gy * x_hat)) / sqrt(var(x) + eps)
    rms:    x_hat = x / sqrt(mean(x**2) + eps)
            dx = (gy - x_hat * mean(gy * x_hat)) / sqrt(mean(x**2) + eps)
    l2:     out = x / max(||x||, eps)
            dx = (g - out * sum(g * out)) / ||x||      (g / eps where ||x|| <= eps)
"""

from __future__ import annotations

from profond.autograd.function import as_tensor, make, normalize_axis
from profond.autograd.tensor import Tensor

__all__ = ["group_norm", "layer_norm", "l2_normalize", "rms_norm"]


def _count(shape, axes):
    n = 1
    for a in axes:
        n *= shape[a]
    return n


def _param(p, bshape, name, owner, expected):
    """``p``'s data reshaped to broadcast against the input (``bshape``), or None."""
    if p is None:
        return None
    p = as_tensor(p)
    if tuple(p.shape) != tuple(expected):
        raise ValueError(f"The '{name}' parameter of {owner} must have shape {tuple(expected)} "
                         f"(the normalised axes' sizes). Got shape {tuple(p.shape)} instead.")
    return p, p.data.reshape(bshape)


def _fused(x, xd, axes, gamma, beta, epsilon, mode):
    """The node: ``xd`` (``x``'s data, maybe reshaped) normalised over ``axes`` in ``mode``.

    ``gamma``/``beta`` are ``(tensor, broadcastable data)`` pairs or None. Returns the output
    data's node; the gradients are reshaped back to ``x``'s and the weights' shapes.
    """
    xp = x.xp
    n = _count(xd.shape, axes)
    if mode == "rms":
        inv = 1.0 / xp.sqrt((xd * xd).mean(axis=axes, keepdims=True) + epsilon)
        xhat = xd * inv
    else:
        centred = xd - xd.mean(axis=axes, keepdims=True)
        inv = 1.0 / xp.sqrt((centred * centred).mean(axis=axes, keepdims=True) + epsilon)
        # "variance" (Keras's deprecated rms_scaling): divided by the standard deviation, but
        # not centred
        xhat = centred * inv if mode == "center" else xd * inv
    out = xhat if gamma is None else xhat * gamma[1]
    if beta is not None:
        out = out + beta[1]
    elif out is xhat:
        out = xhat.copy()
    params = [p for p in (gamma, beta) if p is not None]
    def param_grad(p, values):
        # sum over the axes the weight broadcasts along, back to its own shape
        over = tuple(a for a in range(xd.ndim) if p[1].shape[a] == 1 and xd.shape[a] != 1)
        return values.sum(axis=over).reshape(p[0].shape) if over else values.reshape(p[0].shape)

    def backward(g):
        g = g.reshape(xd.shape)
        grads = []
        if x.requires_grad:
            gy = g if gamma is None else g * gamma[1]
            if mode == "variance":
                gx = gy * inv
                gx -= centred * (inv ** 3) * ((gy * xd).sum(axis=axes, keepdims=True) / n)
            else:
                gx = gy - xhat * ((gy * xhat).sum(axis=axes, keepdims=True) / n)
                if mode == "center":
                    gx -= gy.sum(axis=axes, keepdims=True) / n
                gx *= inv
            grads.append(gx.reshape(x.shape))
        else:
            grads.append(None)
        if gamma is not None:
            grads.append(param_grad(gamma, g * xhat) if gamma[0].requires_grad else None)
        if beta is not None:
            grads.append(param_grad(beta, g) if beta[0].requires_grad else None)
        return tuple(grads)

    return make(out.reshape(x.shape), (x, *(p[0] for p in params)), backward)


def _affine_axes(x, axis):
    axes = normalize_axis(axis, x.ndim)
    bshape = tuple(s if a in axes else 1 for a, s in enumerate(x.shape))
    expected = tuple(x.shape[a] for a in axes)
    return axes, bshape, expected


def layer_norm(x, gamma=None, beta=None, axis=-1, epsilon: float = 1e-3,
               rms_scaling: bool = False) -> Tensor:
    """Normalise each sample of ``x`` over ``axis`` to zero mean and unit variance, then
    ``gamma * x_hat + beta``.

    Parameters
    ----------
    x : Tensor
    gamma, beta : Tensor, optional
        Of the normalised axes' shape (``x.shape[a] for a in sorted(axis)``); omitted: 1 and 0.
    axis : int or tuple of int, default -1
        The axes normalised over (the statistics are per position on the others).
    epsilon : float, default 1e-3
        Added to the variance (Keras's default).
    rms_scaling : bool, default False
        Keras's deprecated variant: ``x / sqrt(var(x) + eps) * gamma``, not centred, no
        ``beta``.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> ops.layer_norm(profond.tensor(np.array([[1.0, 3.0], [10.0, 30.0]])), epsilon=0.0).numpy()
    array([[-1.,  1.],
           [-1.,  1.]], dtype=float32)
    """
    x = as_tensor(x)
    axes, bshape, expected = _affine_axes(x, axis)
    gamma = _param(gamma, bshape, "gamma", "layer_norm", expected)
    beta = _param(beta, bshape, "beta", "layer_norm", expected)
    if rms_scaling and beta is not None:
        raise ValueError("The 'beta' parameter of layer_norm must be None with "
                         "rms_scaling=True. Got a tensor instead.")
    return _fused(x, x.data, axes, gamma, beta, epsilon, "variance" if rms_scaling else "center")


def rms_norm(x, scale=None, axis=-1, epsilon: float = 1e-6) -> Tensor:
    """``x / sqrt(mean(x**2 over axis) + eps) * scale``: root-mean-square normalisation.

    Parameters
    ----------
    x : Tensor
    scale : Tensor, optional
        Of the normalised axes' shape; omitted: 1.
    axis : int or tuple of int, default -1
    epsilon : float, default 1e-6

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> ops.rms_norm(profond.tensor(np.array([[3.0, 4.0, 0.0, 0.0]])), epsilon=0.0).numpy()
    array([[1.2, 1.6, 0. , 0. ]], dtype=float32)
    """
    x = as_tensor(x)
    axes, bshape, expected = _affine_axes(x, axis)
    scale = _param(scale, bshape, "scale", "rms_norm", expected)
    return _fused(x, x.data, axes, scale, None, epsilon, "rms")


def group_norm(x, groups: int, gamma=None, beta=None, axis=-1, epsilon: float = 1e-3) -> Tensor:
    """Split the channels (``axis``) into ``groups`` and normalise each sample's group over its
    channels and every other non-batch axis; then ``gamma * x_hat + beta`` per channel.

    Parameters
    ----------
    x : Tensor, shape (batch, ..., channels, ...)
    groups : int
        Divides the number of channels. 1 is layer normalisation over all the non-batch axes;
        the number of channels is instance normalisation.
    gamma, beta : Tensor of shape (channels,), optional
    axis : int, default -1
        The channel axis (not the batch axis 0).
    epsilon : float, default 1e-3

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> x = profond.tensor(np.array([[1.0, 3.0, 10.0, 30.0]]))
    >>> ops.group_norm(x, 2, epsilon=0.0).numpy()
    array([[-1.,  1., -1.,  1.]], dtype=float32)
    """
    x = as_tensor(x)
    if x.ndim < 2:
        raise ValueError(f"The 'x' parameter of group_norm must have a batch axis and a channel "
                         f"axis (rank >= 2). Got shape {tuple(x.shape)} instead.")
    (channel,) = normalize_axis(axis, x.ndim)
    if channel == 0:
        raise ValueError(f"The 'axis' parameter of group_norm must not be the batch axis 0. "
                         f"Got {axis!r} instead.")
    size = x.shape[channel]
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 \
            or size % groups:
        raise ValueError(f"The 'groups' parameter of group_norm must be a positive int that "
                         f"divides the {size} channels. Got {groups!r} instead.")
    shape = tuple(x.shape)
    grouped = shape[:channel] + (groups, size // groups) + shape[channel + 1:]
    # on the grouped view: reduce over everything but the batch and the group axes
    axes = tuple(a for a in range(1, len(grouped)) if a != channel)
    bshape = tuple(s if a in (channel, channel + 1) else 1 for a, s in enumerate(grouped))
    gamma = _param(gamma, bshape, "gamma", "group_norm", (size,))
    beta = _param(beta, bshape, "beta", "group_norm", (size,))
    return _fused(x, x.data.reshape(grouped), axes, gamma, beta, epsilon, "center")


def l2_normalize(x, axis=-1, epsilon: float = 1e-12) -> Tensor:
    """``x / max(||x||_2 over axis, epsilon)``: each slice scaled to unit L2 norm.

    Parameters
    ----------
    x : Tensor
    axis : int or tuple of int, default -1
    epsilon : float, default 1e-12
        The floor of the norm (a zero slice stays zero, with a finite gradient).

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> ops.l2_normalize(profond.tensor(np.array([[3.0, 4.0], [0.0, 0.0]]))).numpy()
    array([[0.6, 0.8],
           [0. , 0. ]], dtype=float32)
    """
    x = as_tensor(x)
    axes = normalize_axis(axis, x.ndim)
    xp = x.xp
    xd = x.data
    squares = (xd * xd).sum(axis=axes, keepdims=True)
    # the floor on the sum of squares, not the root, keeps 1/sqrt finite at a zero slice
    inv = 1.0 / xp.sqrt(xp.maximum(squares, epsilon * epsilon))
    out = xd * inv
    floored = squares <= epsilon * epsilon

    def backward(g):
        gx = g - xp.where(floored, 0.0, out * (g * out).sum(axis=axes, keepdims=True))
        gx *= inv
        return (gx.astype(xd.dtype, copy=False),)

    return make(out, (x,), backward)
