"""The activations that ``Tensor`` has as methods, each a single fused node.

``relu``, ``sigmoid``, ``tanh``, ``softmax`` and ``log_softmax`` live here, on the floor under
:mod:`profond.ops`, because ``t.relu()``, ``t.sigmoid()`` ... are Tensor methods (see
:mod:`profond.autograd.operators`); :mod:`profond.ops.activation` holds the rest of the
catalogue and re-exports these.

``softmax`` and ``sigmoid`` record their input on their output (``out._activation_input``) so
that a following cross-entropy can work on the logits directly: stable, and one node instead of
two (Keras does the same).
"""

from __future__ import annotations

import operator
from typing import NamedTuple

from profond.autograd.function import as_tensor, make, relu_
from profond.autograd.tensor import Tensor

__all__ = ["ActivationInput", "relu", "sigmoid", "sigmoid_", "tanh", "softmax", "log_softmax"]


class ActivationInput(NamedTuple):
    """What ``Tensor._activation_input`` holds on the output of ``softmax`` or ``sigmoid``.

    Attributes
    ----------
    kind : str
        ``"softmax"`` or ``"sigmoid"``.
    logits : Tensor
        The activation's input.
    axis : int, tuple or None
        The softmax axis as the reduction took it (None for sigmoid).
    """

    kind: str
    logits: Tensor
    axis: object = None


def relu(x) -> Tensor:
    """Rectified linear unit, ``max(x, 0)``; the gradient at 0 is 0 (as in PyTorch and Keras)."""
    x = as_tensor(x)
    xp = x.xp
    out = relu_(x.data, xp, out=xp.empty_like(x.data, order="C")) if x.data.ndim else \
        xp.maximum(x.data, 0)
    return make(out, (x,), lambda g: (g * (out > 0),))


def sigmoid_(a, xp, out=None):
    """``1 / (1 + exp(-a))`` into ``out`` (default: ``a`` itself, in place); returns it.

    The engine's one sigmoid formula: the ``sigmoid`` op and the recurrent kernels' gates both
    run it. Computed as ``(1 + tanh(a/2)) / 2``: no overflow for any ``a``, and four in-place
    passes, which measured faster in NumPy than ``1 / (1 + exp(-a))`` with the clip that keeps
    its exp finite.
    """
    if out is None:
        out = a
    xp.multiply(a, 0.5, out=out)
    xp.tanh(out, out=out)
    out += 1
    out *= 0.5
    return out


def sigmoid(x) -> Tensor:
    """Logistic function ``1 / (1 + exp(-x))``, computed as ``(1 + tanh(x/2)) / 2`` (stable)."""
    x = as_tensor(x)
    d = x.data if x.data.dtype.kind == "f" else x.data.astype("float64")  # as NumPy's exp does
    out = sigmoid_(d, x.xp, out=x.xp.empty_like(d))
    res = make(out, (x,), lambda g: (g * out * (1 - out),))
    res._activation_input = ActivationInput("sigmoid", x)
    return res


def tanh(x) -> Tensor:
    """Hyperbolic tangent."""
    x = as_tensor(x)
    out = x.xp.tanh(x.data)
    return make(out, (x,), lambda g: (g * (1 - out * out),))


def _softmax_axis(x, axis, name):
    """``axis`` checked against the rank of ``x``, in the form NumPy's reductions take.

    As in PyTorch, a 0-d tensor has one axis of one element (``axis`` -1 or 0), so its softmax
    is 1 and its log-softmax 0; NumPy has no axis there, so it reduces over all (None).
    """
    if axis is None:
        return None
    axes = tuple(axis) if isinstance(axis, (tuple, list)) else (axis,)
    rank = max(x.ndim, 1)
    for a in axes:
        try:
            ok = not isinstance(a, bool) and -rank <= operator.index(a) < rank
        except TypeError:
            ok = False
        if not ok:
            raise ValueError(f"The 'axis' parameter of {name} must be an int in [{-rank}, "
                             f"{rank - 1}] (or a tuple of them) for an input of shape "
                             f"{tuple(x.shape)}. Got {axis!r} instead.")
    if x.ndim == 0:
        return None
    return axes if isinstance(axis, (tuple, list)) else axis


def softmax(x, axis: int = -1) -> Tensor:
    """``exp(x) / sum(exp(x))`` along ``axis`` (shifted by the max: no overflow).

    Examples
    --------
    >>> import profond
    >>> from profond.ops import softmax
    >>> softmax(profond.tensor([0.0, 0.0]))
    tensor([0.5, 0.5], dtype=float32)
    >>> softmax(profond.tensor(3.0))  # a 0-d tensor is a single category, as in PyTorch
    tensor(1., dtype=float32)
    """
    x = as_tensor(x)
    axis = _softmax_axis(x, axis, "softmax")
    e = x.xp.exp(x.data - x.data.max(axis=axis, keepdims=True))
    out = e / e.sum(axis=axis, keepdims=True)

    def backward(g):
        return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)

    res = make(out, (x,), backward)
    res._activation_input = ActivationInput("softmax", x, axis)
    return res


def log_softmax(x, axis: int = -1) -> Tensor:
    """``x - logsumexp(x)`` along ``axis`` (0 for a 0-d tensor, as in PyTorch)."""
    x = as_tensor(x)
    axis = _softmax_axis(x, axis, "log_softmax")
    xp = x.xp
    shifted = x.data - x.data.max(axis=axis, keepdims=True)
    out = shifted - xp.log(xp.exp(shifted).sum(axis=axis, keepdims=True))

    def backward(g):
        return (g - xp.exp(out) * g.sum(axis=axis, keepdims=True),)

    return make(out, (x,), backward)
