"""Keras 3's loss reductions: per-sample values, weighted (sample weights times the mask),
then summed, averaged over the values, or averaged over the weights.

The losses call :func:`reduce_weighted`; the fused cross-entropies take the same weights from
:func:`_value_weights` and reduce inside their own node.
"""

from __future__ import annotations

from profond.autograd.reduction import sum as _sum
from profond.autograd.tensor import Tensor

__all__ = ["REDUCTIONS", "reduce_weighted"]

# Keras 3's reductions: None is "none"; "mean" is "sum_over_batch_size" (the sum divided by the
# number of values); "mean_with_sample_weight" divides the weighted sum by the sum of the weights
# (mask included) where there are weights, and by the number of values where there are none.
REDUCTIONS = ("sum_over_batch_size", "sum", "none", None, "mean", "mean_with_sample_weight")
_CANONICAL = {None: "none", "mean": "sum_over_batch_size"}
_OP_REDUCTION = {"sum_over_batch_size": "mean", "sum": "sum"}  # Keras's names -> the ops'


def _canonical(reduction):
    return _CANONICAL.get(reduction, reduction)


def _data(x):
    return x.data if isinstance(x, Tensor) else x


def _value_weights(shape, dtype, xp, sample_weight, mask, reduction, name):
    """What multiplies each per-sample loss: ``sample_weight`` times the mask (None: ones)."""
    weight = None
    if sample_weight is not None:
        w = xp.asarray(_data(sample_weight), dtype=dtype)
        if w.ndim > len(shape) and w.shape[-1] == 1:
            w = w.reshape(w.shape[:-1])
        while w.ndim < len(shape):
            w = w[..., None]
        try:
            w = xp.broadcast_to(w, shape)
        except ValueError:
            raise ValueError(f"The 'sample_weight' parameter of {name} must broadcast to the "
                             f"per-sample losses of shape {shape}. Got sample_weight of shape "
                             f"{_data(sample_weight).shape} instead.") from None
        weight = w
    if mask is not None:
        m = xp.asarray(mask, dtype=dtype)
        if m.shape == tuple(shape):
            if _canonical(reduction) == "sum_over_batch_size":
                # Keras: masked steps count neither in the sum nor in the average.
                m = m * (m.size / max(float(m.sum()), 1.0))
            weight = m if weight is None else weight * m
    return weight


def _weight_total(weight, sample_weight, mask, shape) -> float:
    """Keras's divisor for ``"mean_with_sample_weight"``: the sum of the sample weights as
    given (a per-sample column counts once, not once per value it covers), or, with a mask,
    the sum of the weights times the mask."""
    if sample_weight is None or (mask is not None and tuple(mask.shape) == tuple(shape)):
        return float(weight.sum())
    return float(_data(sample_weight).sum())


def reduce_weighted(values, sample_weight, mask, reduction, name="loss"):
    """Apply ``sample_weight`` and ``mask`` to per-sample ``values`` and reduce them.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond.losses import reduce_weighted
    >>> v = profond.tensor([1.0, 2.0, 3.0])
    >>> w = np.array([1.0, 1.0, 2.0])
    >>> [float(reduce_weighted(v, w, None, r)) for r in ("sum", "mean", "mean_with_sample_weight")]
    [9.0, 3.0, 2.25]
    """
    reduction = _canonical(reduction)
    weight = _value_weights(values.shape, values.dtype, values.xp, sample_weight, mask,
                            reduction, name)
    if weight is not None:
        values = values * weight
    if reduction == "none":
        return values
    total = _sum(values)
    if reduction == "sum":
        return total
    if reduction == "mean_with_sample_weight" and weight is not None:
        divisor = _weight_total(weight, sample_weight, mask, values.shape)
        return total / divisor if divisor else total * 0.0  # Keras's divide_no_nan
    return total / max(values.size, 1)
