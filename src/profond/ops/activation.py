"""Activation functions as single fused nodes (one forward, one hand-written backward).

Each function takes and returns a :class:`~profond.Tensor`. ``softmax`` and ``sigmoid`` keep a
reference to their input (``out._logits``) so that a following cross-entropy can work on the
logits directly: stable, and one node instead of two (Keras does the same).
"""

from __future__ import annotations

import math
import operator

from profond import backend
from profond.autograd.tensor import Tensor
from profond.ops._util import as_tensor, make, relu_

__all__ = [
    "linear_activation", "relu", "leaky_relu", "elu", "selu", "gelu", "sigmoid", "hard_sigmoid",
    "tanh", "softmax", "log_softmax", "softplus", "softsign", "silu", "step",
]

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def linear_activation(x) -> Tensor:
    """Identity: ``f(x) = x``."""
    return as_tensor(x)


def relu(x) -> Tensor:
    """Rectified linear unit, ``max(x, 0)``; the gradient at 0 is 0 (as in PyTorch and Keras)."""
    x = as_tensor(x)
    xp = x.xp
    out = relu_(x.data, xp, out=xp.empty_like(x.data, order="C")) if x.data.ndim else \
        xp.maximum(x.data, 0)
    return make(out, (x,), lambda g: (g * (out > 0),))


def leaky_relu(x, negative_slope: float = 0.2) -> Tensor:
    """``x`` if ``x > 0`` else ``negative_slope * x`` (Keras 3's default slope is 0.2)."""
    x = as_tensor(x)
    xp = x.xp
    pos = x.data > 0
    out = xp.where(pos, x.data, x.data * negative_slope)
    return make(out, (x,), lambda g: (xp.where(pos, g, g * negative_slope),))


def elu(x, alpha: float = 1.0) -> Tensor:
    """``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)`` (Clevert et al., 2015)."""
    x = as_tensor(x)
    xp = x.xp
    pos = x.data > 0
    neg = alpha * xp.expm1(xp.minimum(x.data, 0))
    out = xp.where(pos, x.data, neg)
    return make(out, (x,), lambda g: (xp.where(pos, g, g * (neg + alpha)),))


def selu(x) -> Tensor:
    """Scaled ELU with the self-normalising constants of Klambauer et al. (2017)."""
    x = as_tensor(x)
    xp = x.xp
    pos = x.data > 0
    neg = SELU_ALPHA * xp.expm1(xp.minimum(x.data, 0))
    out = SELU_SCALE * xp.where(pos, x.data, neg)
    return make(out, (x,), lambda g: (SELU_SCALE * xp.where(pos, g, g * (neg + SELU_ALPHA)),))


def gelu(x, approximate: bool = False) -> Tensor:
    """Gaussian error linear unit ``x * Phi(x)`` (Hendrycks & Gimpel, 2016).

    ``approximate=True`` uses the tanh form; the default is the exact erf form (Keras 3).
    """
    x = as_tensor(x)
    xp = x.xp
    d = x.data
    if approximate:
        c = math.sqrt(2.0 / math.pi)
        inner = c * (d + 0.044715 * d ** 3)
        t = xp.tanh(inner)
        out = 0.5 * d * (1 + t)

        def backward(g):
            dinner = c * (1 + 3 * 0.044715 * d * d)
            return (g * (0.5 * (1 + t) + 0.5 * d * (1 - t * t) * dinner),)
    else:
        cdf = 0.5 * (1 + backend.erf(d * (1 / math.sqrt(2.0))))
        out = d * cdf

        def backward(g):
            pdf = xp.exp(-0.5 * d * d) * (1 / math.sqrt(2 * math.pi))
            return (g * (cdf + d * pdf),)

    return make(out.astype(d.dtype, copy=False), (x,), backward)


def sigmoid(x) -> Tensor:
    """Logistic function ``1 / (1 + exp(-x))``, computed as ``(1 + tanh(x/2)) / 2`` (stable)."""
    x = as_tensor(x)
    out = 0.5 * (1 + x.xp.tanh(0.5 * x.data))
    res = make(out, (x,), lambda g: (g * out * (1 - out),))
    res._logits = x
    return res


def hard_sigmoid(x) -> Tensor:
    """Piecewise-linear sigmoid ``relu6(x + 3) / 6`` (Keras 3's definition)."""
    x = as_tensor(x)
    xp = x.xp
    out = xp.clip(x.data / 6 + 0.5, 0, 1)
    inside = (x.data > -3) & (x.data < 3)
    return make(out, (x,), lambda g: (g * inside / 6,))


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
    res._logits = x
    res._aux = ("softmax", axis)
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


def softplus(x) -> Tensor:
    """``log(1 + exp(x))``, stable for large ``|x|``."""
    x = as_tensor(x)
    xp = x.xp
    out = xp.logaddexp(0, x.data).astype(x.data.dtype, copy=False)
    return make(out, (x,), lambda g: (g * 0.5 * (1 + xp.tanh(0.5 * x.data)),))


def softsign(x) -> Tensor:
    """``x / (1 + |x|)``."""
    x = as_tensor(x)
    denom = 1 + x.xp.abs(x.data)
    return make(x.data / denom, (x,), lambda g: (g / (denom * denom),))


def silu(x) -> Tensor:
    """Sigmoid-weighted linear unit ``x * sigmoid(x)`` (a.k.a. swish; Elfwing et al., 2017)."""
    x = as_tensor(x)
    s = 0.5 * (1 + x.xp.tanh(0.5 * x.data))
    return make(x.data * s, (x,), lambda g: (g * s * (1 + x.data * (1 - s)),))


def step(x, straight_through: bool = False) -> Tensor:
    """Heaviside step ``1 if x > 0 else 0``.

    Its exact derivative is zero almost everywhere, so by default no gradient flows through it
    and a network built on it hardly learns: the deck's point. ``straight_through=True`` uses
    the straight-through estimator of Bengio et al. (2013) in its clipped form (Hubara et al.,
    2016): the backward pass lets ``g`` through where ``|x| <= 1`` as if the step were the
    identity there.
    """
    x = as_tensor(x)
    out = (x.data > 0).astype(x.data.dtype)
    if straight_through:
        return make(out, (x,), lambda g: (g * (x.xp.abs(x.data) <= 1),))
    return make(out, (x,), lambda g: (g * 0,))
