"""Activation functions as single fused nodes (one forward, one hand-written backward).

Each function takes and returns a :class:`~profond.Tensor`. ``relu``, ``sigmoid``, ``tanh``,
``softmax`` and ``log_softmax`` are Tensor methods too, so they are defined under this floor, in
:mod:`profond.autograd.activation`, and re-exported here.
"""

from __future__ import annotations

import math

from profond import backend
from profond.autograd.tensor import Tensor
from profond._validation import lookup
from profond.autograd.activation import log_softmax, relu, sigmoid, sigmoid_, softmax, tanh
from profond.autograd.function import as_tensor, make

__all__ = [
    "BY_NAME", "get", "name_of", "linear_activation", "relu", "leaky_relu", "elu", "selu", "gelu",
    "sigmoid", "hard_sigmoid", "tanh", "softmax", "log_softmax", "softplus", "softsign", "silu",
    "step",
]

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def linear_activation(x) -> Tensor:
    """Identity: ``f(x) = x``."""
    return as_tensor(x)


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


def hard_sigmoid(x) -> Tensor:
    """Piecewise-linear sigmoid ``relu6(x + 3) / 6`` (Keras 3's definition)."""
    x = as_tensor(x)
    xp = x.xp
    out = xp.clip(x.data / 6 + 0.5, 0, 1)
    inside = (x.data > -3) & (x.data < 3)
    return make(out, (x,), lambda g: (g * inside / 6,))


def softplus(x) -> Tensor:
    """``log(1 + exp(x))``, stable for large ``|x|``."""
    x = as_tensor(x)
    xp = x.xp
    out = xp.logaddexp(0, x.data).astype(x.data.dtype, copy=False)
    # only float tensors carry gradients, so x.data is float whenever this runs
    return make(out, (x,), lambda g: (g * sigmoid_(x.data, xp, out=xp.empty_like(x.data)),))


def softsign(x) -> Tensor:
    """``x / (1 + |x|)``."""
    x = as_tensor(x)
    denom = 1 + x.xp.abs(x.data)
    return make(x.data / denom, (x,), lambda g: (g / (denom * denom),))


def silu(x) -> Tensor:
    """Sigmoid-weighted linear unit ``x * sigmoid(x)`` (a.k.a. swish; Elfwing et al., 2017)."""
    x = as_tensor(x)
    d = x.data if x.data.dtype.kind == "f" else x.data.astype("float64")
    s = sigmoid_(d, x.xp, out=x.xp.empty_like(d))
    return make(d * s, (x,), lambda g: (g * s * (1 + d * (1 - s)),))


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


# The built-in activations by name, for the ops that take an activation (the recurrent kernels).
# profond.activations adds the names that layers know (aliases, registered custom functions).
BY_NAME = {
    "linear": linear_activation, "relu": relu, "leaky_relu": leaky_relu, "elu": elu,
    "selu": selu, "gelu": gelu, "sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid, "tanh": tanh,
    "softmax": softmax, "log_softmax": log_softmax, "softplus": softplus, "softsign": softsign,
    "silu": silu, "step": step,
}


def get(identifier):
    """The activation op for a built-in name or a callable (None is the identity).

    Parameters
    ----------
    identifier : str, callable or None

    Returns
    -------
    callable

    Examples
    --------
    >>> from profond.ops import activation
    >>> activation.get("tanh") is activation.tanh
    True
    """
    if identifier is None:
        return linear_activation
    if isinstance(identifier, str):
        return lookup(identifier, BY_NAME, "activation")
    if callable(identifier):
        return identifier
    raise ValueError(f"The 'activation' parameter must be a name ({sorted(BY_NAME)}) or a "
                     f"callable. Got {identifier!r} instead.")


def name_of(fn):
    """The built-in name of ``fn``, or ``fn`` itself when it has none."""
    return next((name for name, f in BY_NAME.items() if f is fn), fn)
