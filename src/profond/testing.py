"""Gradient checking: compare hand-written backward passes with central finite differences."""

from __future__ import annotations

import numpy as np

from profond import backend
from profond.autograd.engine import enable_grad
from profond.autograd.tensor import Tensor

__all__ = ["numerical_gradient", "gradcheck"]


def numerical_gradient(fn, inputs, index: int, seed_grad, eps: float = 1e-6):
    """Central-difference estimate of ``d <fn(*inputs), seed_grad> / d inputs[index]``."""
    base = inputs[index].data
    grad = np.zeros(base.shape, dtype=np.float64)
    flat = base.reshape(-1)
    gflat = grad.reshape(-1)
    for i in range(flat.size):
        orig = flat[i].item()
        flat[i] = orig + eps
        plus = (backend.to_numpy(_data(fn(*inputs))) * seed_grad).sum()
        flat[i] = orig - eps
        minus = (backend.to_numpy(_data(fn(*inputs))) * seed_grad).sum()
        flat[i] = orig
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def _data(out):
    return out.data if isinstance(out, Tensor) else out


def gradcheck(fn, *inputs, eps: float = 1e-6, atol: float = 1e-5, rtol: float = 1e-4,
              seed: int = 0, raise_exception: bool = True) -> bool:
    """Check ``fn``'s backward against float64 central differences.

    Every input is converted to a float64 tensor that requires a gradient (integer arrays are
    passed through unchanged, as constants). The output is contracted with a random weight so
    that all of its elements are checked, not only their sum.

    Parameters
    ----------
    fn : callable
        ``fn(*tensors) -> Tensor``.
    *inputs : array-like or Tensor
    eps, atol, rtol : float
        Finite-difference step and tolerances.

    Returns
    -------
    bool
        True when every gradient matches; otherwise raises ``AssertionError`` naming the input
        and the worst element (or returns False when ``raise_exception=False``).

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond.testing import gradcheck
    >>> gradcheck(lambda a, b: (a * b).sum(axis=0), np.random.rand(3, 2), np.random.rand(2))
    True
    """
    with backend.floatx_scope("float64"), enable_grad():
        tensors = []
        for x in inputs:
            arr = backend.to_numpy(x.data if isinstance(x, Tensor) else np.asarray(x))
            if arr.dtype.kind == "f":
                tensors.append(Tensor(arr.astype(np.float64), requires_grad=True))
            else:
                tensors.append(Tensor(arr))
        out = fn(*tensors)
        if not isinstance(out, Tensor):
            raise TypeError(f"The 'fn' parameter of gradcheck must return a Tensor. Got a "
                            f"{type(out).__name__} instead.")
        rng = np.random.default_rng(seed)
        seed_grad = rng.standard_normal(out.shape)
        out.backward(backend.asarray(seed_grad, dtype="float64"))
        for i, t in enumerate(tensors):
            if not t.requires_grad:
                continue
            analytic = np.zeros(t.shape) if t.grad is None else backend.to_numpy(t.grad)
            detached = [Tensor(u.data) for u in tensors]
            numeric = numerical_gradient(fn, detached, i, seed_grad, eps=eps)
            if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
                err = np.abs(analytic - numeric)
                worst = np.unravel_index(np.argmax(err), err.shape) if err.ndim else ()
                msg = (f"gradcheck failed for input {i} (shape {t.shape}): max abs error "
                       f"{err.max():.3e} at {worst}; analytic {analytic[worst]!r}, numeric "
                       f"{numeric[worst]!r}")
                if raise_exception:
                    raise AssertionError(msg)
                return False
    return True
