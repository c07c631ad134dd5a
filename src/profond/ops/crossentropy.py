"""Fused, numerically stable cross-entropies on logits.

``softmax_cross_entropy`` and ``sigmoid_cross_entropy`` are single nodes: their backward is
the famous ``p - y``, computed without ever forming ``log(softmax)``'s own graph.
"""

from __future__ import annotations

from profond._validation import check_choice
from profond.autograd.tensor import Tensor
from profond.autograd.function import as_tensor, make
from profond.autograd.shape import permute

__all__ = ["softmax_cross_entropy", "sigmoid_cross_entropy"]


def softmax_cross_entropy(logits, target, sparse: bool = False, label_smoothing: float = 0.0,
                          axis: int = -1, weight=None, reduction: str = "none") -> Tensor:
    """Cross-entropy between ``softmax(logits)`` and ``target``: per sample, or reduced.

    Parameters
    ----------
    logits : Tensor, shape (..., n_classes)
    target : array-like
        Class probabilities of the same shape as ``logits`` (``sparse=False``), or integer class
        indices of shape ``logits.shape[:-1]`` (``sparse=True``).
    label_smoothing : float in [0, 1)
        Mix the one-hot target with the uniform distribution (Szegedy et al., 2016).
    weight : float or array broadcastable to the per-sample losses, optional
        Multiplies each sample's loss before the reduction (sample and class weights, masks).
    reduction : {"none", "sum", "mean"}
        ``"none"`` returns one value per sample; ``"sum"`` the weighted sum; ``"mean"`` the
        weighted sum divided by the number of samples (Keras's ``sum_over_batch_size``). A
        reduced loss is still one node: its backward scales ``softmax - target`` once.

    Returns
    -------
    Tensor of shape ``logits.shape`` without ``axis``, or a scalar when reduced.

    Examples
    --------
    >>> import profond
    >>> z = profond.tensor([[2.0, 0.0], [0.0, 2.0]], requires_grad=True)
    >>> loss = profond.ops.softmax_cross_entropy(z, [0, 0], sparse=True, reduction="mean")
    >>> round(float(loss), 4)
    1.1269
    """
    check_choice(reduction, "reduction", "softmax_cross_entropy", _REDUCTIONS)
    logits = as_tensor(logits)
    xp = logits.xp
    z = logits.data
    ax = axis % z.ndim
    if ax != z.ndim - 1:  # move the class axis last, where rows are contiguous
        if not sparse:
            t = target.data if isinstance(target, Tensor) else target
            target = xp.moveaxis(xp.asarray(t), ax, -1)
        return softmax_cross_entropy(_moveaxis(logits, ax), target, sparse, label_smoothing,
                                     weight=weight, reduction=reduction)
    t = target.data if isinstance(target, Tensor) else target
    # C order matters: the flat-index update of the gradient below must write in place.
    z = xp.ascontiguousarray(z)
    shifted = z - z.max(axis=-1, keepdims=True)
    e = xp.exp(shifted)
    s = e.sum(axis=-1, keepdims=True)
    log_s = xp.log(s)[..., 0]
    n = z.shape[-1]
    if sparse:
        # Flat indices of the true classes: cheaper than take_along_axis on small batches.
        flat = xp.arange(log_s.size) * n + xp.asarray(t).reshape(-1).astype(xp.int64)
        loss = log_s - shifted.reshape(-1)[flat].reshape(log_s.shape)  # -log p[true]
        if label_smoothing:  # - sum(log p) / n = log s - mean(shifted)
            loss = (1 - label_smoothing) * loss + label_smoothing * (
                log_s - shifted.mean(axis=-1))
    else:
        t = xp.asarray(t, dtype=z.dtype)
        if label_smoothing:
            t = t * (1 - label_smoothing) + label_smoothing / n
        t_sum = t.sum(axis=-1)
        loss = t_sum * log_s - (t * shifted).sum(axis=-1)  # -sum(t * log p)
    out, scale = _reduce(loss, weight, reduction, xp, "softmax_cross_entropy")

    def backward(g):
        grad = e / s
        if sparse:
            if label_smoothing:
                grad -= label_smoothing / n
            grad.reshape(-1)[flat] -= 1 - label_smoothing
        else:
            grad *= t_sum[..., None]
            grad -= t
        grad *= (g if scale is None else g * scale)[..., None]
        return (grad,)

    return make(out, (logits,), backward)


def _moveaxis(x, ax):
    order = [i for i in range(x.ndim) if i != ax] + [ax]
    return permute(x, order)


def sigmoid_cross_entropy(logits, target, label_smoothing: float = 0.0, weight=None,
                          reduction: str = "none") -> Tensor:
    """Elementwise binary cross-entropy between ``sigmoid(logits)`` and ``target`` in [0, 1].

    Uses ``max(z, 0) - z * t + log(1 + exp(-|z|))``, which never overflows. ``weight`` and
    ``reduction`` work as in :func:`softmax_cross_entropy`, over the elementwise values
    (``"mean"`` divides by their number).

    Examples
    --------
    >>> import profond
    >>> z = profond.tensor([[0.0, 3.0]], requires_grad=True)
    >>> loss = profond.ops.sigmoid_cross_entropy(z, [[1.0, 1.0]], reduction="mean")
    >>> round(float(loss), 4)
    0.3709
    """
    check_choice(reduction, "reduction", "sigmoid_cross_entropy", _REDUCTIONS)
    logits = as_tensor(logits)
    xp = logits.xp
    z = logits.data
    t = target.data if isinstance(target, Tensor) else target
    t = xp.asarray(t, dtype=z.dtype)
    if label_smoothing:
        t = t * (1 - label_smoothing) + 0.5 * label_smoothing
    loss = xp.maximum(z, 0) - z * t + xp.log1p(xp.exp(-xp.abs(z)))
    out, scale = _reduce(loss, weight, reduction, xp, "sigmoid_cross_entropy")

    def backward(g):
        p = 0.5 * (1 + xp.tanh(0.5 * z))
        p -= t
        p *= g if scale is None else g * scale
        return (p,)

    return make(out, (logits,), backward)


_REDUCTIONS = ("none", "sum", "mean")


def _reduce(loss, weight, reduction, xp, owner):
    """The node's output and the factor that maps its gradient back to each value."""
    if weight is not None and not isinstance(weight, (int, float)):
        weight = xp.asarray(weight, dtype=loss.dtype)
        fits = weight.ndim <= loss.ndim and all(
            a in (1, b) for a, b in zip(reversed(weight.shape), reversed(loss.shape)))
        if not fits:
            raise ValueError(f"The 'weight' parameter of {owner} must broadcast to the "
                             f"per-sample losses of shape {loss.shape}. Got shape "
                             f"{weight.shape} instead.")
    if reduction == "none":
        return (loss if weight is None else loss * weight), weight
    if reduction == "mean":
        count = max(loss.size, 1)
        weight = 1.0 / count if weight is None else weight / count
    if weight is None:
        return loss.sum(), None
    if isinstance(weight, (int, float)):
        return loss.sum() * weight, weight
    return (loss * weight).sum(), weight

