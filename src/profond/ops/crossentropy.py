"""Fused, numerically stable cross-entropies on logits.

``softmax_cross_entropy`` and ``sigmoid_cross_entropy`` are single nodes: their backward is
the famous ``p - y``, computed without ever forming ``log(softmax)``'s own graph.
"""

from __future__ import annotations

from profond.autograd.tensor import Tensor
from profond.ops._util import as_tensor, make

__all__ = ["softmax_cross_entropy", "sigmoid_cross_entropy"]


def softmax_cross_entropy(logits, target, sparse: bool = False, label_smoothing: float = 0.0,
                          axis: int = -1) -> Tensor:
    """Cross-entropy between ``softmax(logits)`` and ``target``, one value per sample.

    Parameters
    ----------
    logits : Tensor, shape (..., n_classes)
    target : array-like
        Class probabilities of the same shape as ``logits`` (``sparse=False``), or integer class
        indices of shape ``logits.shape[:-1]`` (``sparse=True``).
    label_smoothing : float in [0, 1)
        Mix the one-hot target with the uniform distribution (Szegedy et al., 2016).

    Returns
    -------
    Tensor of shape ``logits.shape`` without ``axis``.
    """
    logits = as_tensor(logits)
    xp = logits.xp
    z = logits.data
    ax = axis % z.ndim
    if ax != z.ndim - 1:  # move the class axis last, where rows are contiguous
        if not sparse:
            t = target.data if isinstance(target, Tensor) else target
            target = xp.moveaxis(xp.asarray(t), ax, -1)
        return softmax_cross_entropy(_moveaxis(logits, ax), target, sparse, label_smoothing)
    t = target.data if isinstance(target, Tensor) else target
    # C order matters: the flat-index update of the gradient below must write in place.
    z = xp.ascontiguousarray(z)
    shifted = z - z.max(axis=-1, keepdims=True)
    e = xp.exp(shifted)
    s = e.sum(axis=-1, keepdims=True)
    log_p = shifted - xp.log(s)
    n = z.shape[-1]
    if sparse:
        # Flat indices of the true classes: cheaper than take_along_axis on small batches.
        flat = xp.arange(log_p.size // n) * n + xp.asarray(t).reshape(-1).astype(xp.int64)
        picked = log_p.reshape(-1)[flat].reshape(log_p.shape[:-1])
        loss = -picked
        if label_smoothing:
            loss = (1 - label_smoothing) * loss - label_smoothing / n * log_p.sum(axis=-1)
    else:
        t = xp.asarray(t, dtype=z.dtype)
        if label_smoothing:
            t = t * (1 - label_smoothing) + label_smoothing / n
        loss = -(t * log_p).sum(axis=-1)

    def backward(g):
        grad = e / s
        if sparse:
            if label_smoothing:
                grad -= label_smoothing / n
            grad.reshape(-1)[flat] -= 1 - label_smoothing
        else:
            grad = grad * t.sum(axis=-1, keepdims=True) - t
        grad *= g[..., None]
        return (grad,)

    return make(loss, (logits,), backward)


def _moveaxis(x, ax):
    from profond.ops.shape import permute

    order = [i for i in range(x.ndim) if i != ax] + [ax]
    return permute(x, order)


def sigmoid_cross_entropy(logits, target, label_smoothing: float = 0.0) -> Tensor:
    """Elementwise binary cross-entropy between ``sigmoid(logits)`` and ``target`` in [0, 1].

    Uses ``max(z, 0) - z * t + log(1 + exp(-|z|))``, which never overflows.
    """
    logits = as_tensor(logits)
    xp = logits.xp
    z = logits.data
    t = target.data if isinstance(target, Tensor) else target
    t = xp.asarray(t, dtype=z.dtype)
    if label_smoothing:
        t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    loss = xp.maximum(z, 0) - z * t + xp.log1p(xp.exp(-xp.abs(z)))

    def backward(g):
        p = 0.5 * (1 + xp.tanh(0.5 * z))
        return (g * (p - t),)

    return make(loss, (logits,), backward)
