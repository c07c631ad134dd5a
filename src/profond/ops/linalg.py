"""Matrix products: ``matmul`` (``a @ b``, from :mod:`profond.autograd.linalg`) and the fused
``linear`` (x @ W + b) that Dense layers use."""

from __future__ import annotations

from profond.autograd.tensor import Tensor
from profond.autograd.function import as_tensor, make, pair, relu_
from profond.autograd.linalg import matmul

__all__ = ["matmul", "linear"]


def linear(x, kernel, bias=None, relu: bool = False) -> Tensor:
    """Fused affine map ``x @ kernel + bias`` over the last axis of ``x``.

    One node instead of two: the backward computes the three gradients with two GEMMs and one
    column sum, and no broadcast bookkeeping.

    Parameters
    ----------
    x : Tensor, shape (..., in_features)
    kernel : Tensor, shape (in_features, units)
    bias : Tensor, shape (units,), optional
    relu : bool, default False
        Apply ``max(., 0)`` inside the node (what ``Dense(..., activation="relu")`` uses): the
        same result as ``ops.relu(linear(...))``, in place, with one node and one array less.

    Returns
    -------
    Tensor, shape (..., units)
    """
    if not (isinstance(x, Tensor) and isinstance(kernel, Tensor)
            and x.data.dtype == kernel.data.dtype):
        x, kernel = pair(x, kernel)
    if bias is not None and not isinstance(bias, Tensor):
        bias = as_tensor(bias, kernel)
    xd, kd = x.data, kernel.data
    if kd.ndim != 2 or xd.ndim < 1 or xd.shape[-1] != kd.shape[0]:
        raise ValueError(f"The 'x' parameter of linear must have shape (..., "
                         f"{kd.shape[0] if kd.ndim else '?'}) for a kernel of shape {kd.shape}. "
                         f"Got shape {xd.shape} instead.")
    x2 = xd.reshape(-1, xd.shape[-1]) if xd.ndim != 2 else xd
    out = x2 @ kd
    if bias is not None:
        out += bias.data
    if relu:
        relu_(out, x.xp)
    if xd.ndim != 2:
        out = out.reshape(xd.shape[:-1] + (kd.shape[1],))
    parents = (x, kernel) if bias is None else (x, kernel, bias)

    def backward(g):
        g2 = g.reshape(-1, g.shape[-1]) if g.ndim != 2 else g
        if relu:
            g2 = g2 * (out.reshape(g2.shape) > 0)  # relu's gradient is 0 at 0, as in PyTorch
        gx = (g2 @ kd.T).reshape(xd.shape) if x.requires_grad else None
        gk = x2.T @ g2 if kernel.requires_grad else None
        if bias is None:
            return gx, gk
        return gx, gk, (g2.sum(axis=0) if bias.requires_grad else None)

    return make(out, parents, backward)
