"""``tensordot``: the sum of products over chosen axes of two tensors, as one GEMM node."""

from __future__ import annotations

import math
import numbers

from profond.autograd.function import make, pair
from profond.autograd.tensor import Tensor

__all__ = ["tensordot"]


def _axes_lists(axes, a, b):
    """``axes`` as two lists of non-negative axes of ``a`` and ``b``, checked."""
    if isinstance(axes, numbers.Integral) and not isinstance(axes, bool):
        if not 0 <= axes <= min(a.ndim, b.ndim):
            raise ValueError(f"The 'axes' parameter of tensordot must be an int in [0, "
                             f"{min(a.ndim, b.ndim)}] for inputs of shapes {tuple(a.shape)} and "
                             f"{tuple(b.shape)}. Got {axes} instead.")
        return list(range(a.ndim - axes, a.ndim)), list(range(axes))
    try:
        left, right = axes
        left = [left] if isinstance(left, numbers.Integral) else list(left)
        right = [right] if isinstance(right, numbers.Integral) else list(right)
        left = [int(i) % a.ndim if -a.ndim <= i < a.ndim else None for i in left]
        right = [int(i) % b.ndim if -b.ndim <= i < b.ndim else None for i in right]
        ok = len(left) == len(right) and None not in left + right and \
            len(set(left)) == len(left) and len(set(right)) == len(right)
    except (TypeError, ValueError, ZeroDivisionError):
        ok = False
    if not ok:
        raise ValueError("The 'axes' parameter of tensordot must be an int or a pair of axis "
                         "lists of one length (distinct axes of each input). Got "
                         f"{axes!r} instead.")
    for i, j in zip(left, right):
        if a.shape[i] != b.shape[j]:
            raise ValueError(f"The 'axes' parameter of tensordot must pair axes of one size. Got "
                             f"axis {i} of {tuple(a.shape)} paired with axis {j} of "
                             f"{tuple(b.shape)} instead.")
    return left, right


def tensordot(a, b, axes=2) -> Tensor:
    """Contract ``a`` and ``b`` over ``axes``, as :func:`numpy.tensordot` and Keras's
    ``keras.ops.tensordot``.

    Parameters
    ----------
    a, b : Tensor or array-like
    axes : int or (sequence, sequence), default 2
        An int ``N``: the last ``N`` axes of ``a`` with the first ``N`` of ``b``. A pair: the
        axes of ``a`` and of ``b`` to contract, in matching order.

    Returns
    -------
    Tensor, shape a's free axes + b's free axes

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond.ops import tensordot
    >>> a = profond.tensor(np.ones((2, 3, 4)))
    >>> tensordot(a, np.ones((4, 3)), axes=([1, 2], [1, 0])).shape
    (2,)
    """
    a, b = pair(a, b)
    left, right = _axes_lists(axes, a, b)
    free_a = [i for i in range(a.ndim) if i not in left]
    free_b = [j for j in range(b.ndim) if j not in right]
    shape_a, shape_b = [a.shape[i] for i in free_a], [b.shape[j] for j in free_b]
    m, k, n = math.prod(shape_a), math.prod(a.shape[i] for i in left), math.prod(shape_b)
    # the contraction as one (m, k) @ (k, n) product, as NumPy's tensordot runs it
    perm_a, perm_b = free_a + left, right + free_b
    a2 = a.data.transpose(perm_a).reshape(m, k)
    b2 = b.data.transpose(perm_b).reshape(k, n)
    out = (a2 @ b2).reshape(shape_a + shape_b)

    def backward(g):
        g2 = g.reshape(m, n)
        ga = (g2 @ b2.T).reshape([a.shape[i] for i in perm_a])
        gb = (a2.T @ g2).reshape([b.shape[j] for j in perm_b])
        return (ga.transpose(_inverse(perm_a)), gb.transpose(_inverse(perm_b)))

    return make(out, (a, b), backward)


def _inverse(perm):
    inverse = [0] * len(perm)
    for position, axis in enumerate(perm):
        inverse[axis] = position
    return inverse
