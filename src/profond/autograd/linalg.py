"""``matmul``, the matrix product behind ``a @ b`` (the fused ``linear`` is in :mod:`profond.ops`)."""

from __future__ import annotations

from profond.autograd.function import make, pair, unbroadcast
from profond.autograd.tensor import Tensor

__all__ = ["matmul"]


def matmul(a, b) -> Tensor:
    """Matrix product with NumPy's rules (1-D operands, batched broadcasting)."""
    a, b = pair(a, b)
    xp = a.xp
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(f"The 'a' and 'b' parameters of matmul must have rank >= 1. Got shapes "
                         f"{a.shape} and {b.shape} instead.")
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(f"The 'a' and 'b' parameters of matmul must have equal inner "
                         f"dimensions. Got {a.shape} @ {b.shape} instead.")
    out = a.data @ b.data

    def backward(g):
        ad = a.data[None, :] if a.ndim == 1 else a.data
        bd = b.data[:, None] if b.ndim == 1 else b.data
        gg = g
        if b.ndim == 1:  # first: for vector @ vector, g is 0-d and -2 would be out of range
            gg = xp.expand_dims(gg, -1)
        if a.ndim == 1:
            gg = xp.expand_dims(gg, -2)
        ga = gb = None
        if a.requires_grad:
            ga = gg @ xp.swapaxes(bd, -1, -2)
            ga = unbroadcast(ga, ad.shape).reshape(a.shape)
        if b.requires_grad:
            gb = xp.swapaxes(ad, -1, -2) @ gg
            gb = unbroadcast(gb, bd.shape).reshape(b.shape)
        return ga, gb

    return make(out, (a, b), backward)
