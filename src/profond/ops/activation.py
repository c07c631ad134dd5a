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
from profond.autograd.activation import _softmax_axis, log_softmax, sigmoid, sigmoid_, softmax, tanh
from profond.autograd.activation import relu as _relu
from profond.autograd.function import as_tensor, make, unbroadcast

__all__ = [
    "BY_NAME", "get", "name_of", "linear_activation", "relu", "leaky_relu", "elu", "selu", "gelu",
    "sigmoid", "hard_sigmoid", "tanh", "softmax", "log_softmax", "softplus", "softsign", "silu",
    "step", "prelu", "celu", "exponential", "glu", "hard_shrink", "hard_silu", "hard_swish",
    "hard_tanh", "log_sigmoid", "mish", "relu6", "soft_shrink", "sparse_plus", "sparse_sigmoid",
    "sparsemax", "squareplus", "tanh_shrink", "threshold",
]

SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def linear_activation(x) -> Tensor:
    """Identity: ``f(x) = x``."""
    return as_tensor(x)


def relu(x, negative_slope: float = 0.0, max_value=None, threshold: float = 0.0) -> Tensor:
    """Rectified linear unit with Keras 3's options; ``max(x, 0)`` by default.

    ``x`` where ``x > threshold`` (else 0), clipped to ``max_value`` when given, minus
    ``negative_slope * max(threshold - x, 0)``. With the defaults it is the engine's fused
    ``relu`` (:func:`profond.autograd.activation.relu`); the gradient at a kink is 0.

    Examples
    --------
    >>> import profond
    >>> from profond.ops.activation import relu
    >>> relu(profond.tensor([-2.0, 1.0, 8.0]), negative_slope=0.5, max_value=6.0)
    tensor([-1.,  1.,  6.], dtype=float32)
    """
    if negative_slope == 0.0 and max_value is None and threshold == 0.0:
        return _relu(x)
    x = as_tensor(x)
    xp, d = x.xp, x.data
    kept = d > threshold
    out = xp.where(kept, d, 0).astype(d.dtype, copy=False)
    if max_value is not None:
        kept &= d >= 0  # a negative threshold lets negatives through, which the clip zeroes
        kept &= d < max_value
        out = xp.clip(out, 0, max_value).astype(d.dtype, copy=False)
    below = d < threshold
    if negative_slope != 0.0:
        out = out - negative_slope * xp.where(below, threshold - d, 0).astype(d.dtype, copy=False)
    return make(out, (x,), lambda g: (g * kept + g * below * negative_slope,))


def prelu(x, alpha) -> Tensor:
    """Parametric ReLU ``x if x > 0 else alpha * x``, ``alpha`` learned and broadcast against
    ``x`` (He et al., 2015); both get a gradient. What the ``PReLU`` layer runs.

    Examples
    --------
    >>> import profond
    >>> from profond.ops.activation import prelu
    >>> prelu(profond.tensor([[-2.0, 3.0]]), profond.tensor([0.5, 0.1]))
    tensor([[-1.,  3.]], dtype=float32)
    """
    x = as_tensor(x)
    alpha = as_tensor(alpha, x)
    xp = x.xp
    pos = x.data > 0
    out = xp.where(pos, x.data, alpha.data * x.data)

    def backward(g):
        return (xp.where(pos, g, g * alpha.data),
                unbroadcast(xp.where(pos, 0, g * x.data).astype(g.dtype, copy=False),
                            alpha.data.shape))

    return make(out, (x, alpha), backward)


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


# --- Keras 3's other activations ----------------------------------------------------------------
def relu6(x) -> Tensor:
    """``min(max(x, 0), 6)`` (Krizhevsky, 2010; MobileNets)."""
    x = as_tensor(x)
    inside = (x.data > 0) & (x.data < 6)
    return make(x.xp.clip(x.data, 0, 6), (x,), lambda g: (g * inside,))


def celu(x, alpha: float = 1.0) -> Tensor:
    """Continuously differentiable ELU ``max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1)``
    (Barron, 2017)."""
    x = as_tensor(x)
    xp = x.xp
    pos = x.data > 0
    neg = alpha * xp.expm1(xp.minimum(x.data, 0) / alpha)
    out = xp.where(pos, x.data, neg)
    # d/dx of alpha * (exp(x / alpha) - 1) is exp(x / alpha) = neg / alpha + 1
    return make(out, (x,), lambda g: (xp.where(pos, g, g * (neg / alpha + 1)),))


def exponential(x) -> Tensor:
    """``exp(x)``, as an activation."""
    x = as_tensor(x)
    out = x.xp.exp(x.data)
    return make(out, (x,), lambda g: (g * out,))


def glu(x, axis: int = -1) -> Tensor:
    """Gated linear unit ``a * sigmoid(b)``, ``a`` and ``b`` the two halves of ``x`` along
    ``axis`` (Dauphin et al., 2017): the output is half as long there.

    Examples
    --------
    >>> import profond
    >>> from profond.ops.activation import glu
    >>> glu(profond.tensor([2.0, 0.0])).numpy()
    array([1.], dtype=float32)
    """
    x = as_tensor(x)
    xp = x.xp
    axis = _softmax_axis(x, axis, "glu")
    if x.ndim == 0 or x.shape[axis] % 2:
        raise ValueError(f"The 'x' parameter of glu must have an even size along axis {axis}. "
                         f"Got shape {tuple(x.shape)} instead.")
    a, b = xp.split(x.data, 2, axis=axis)
    s = sigmoid_(b, xp, out=xp.empty_like(b))

    def backward(g):
        ga = g * s
        return (xp.concatenate([ga, ga * a * (1 - s)], axis=axis),)

    return make(a * s, (x,), backward)


def hard_tanh(x) -> Tensor:
    """``clip(x, -1, 1)``."""
    x = as_tensor(x)
    inside = x.xp.abs(x.data) < 1
    return make(x.xp.clip(x.data, -1, 1), (x,), lambda g: (g * inside,))


def hard_silu(x) -> Tensor:
    """``x * hard_sigmoid(x)`` (Howard et al., 2019, "hard swish"): 0 below -3, ``x`` above 3."""
    x = as_tensor(x)
    d = x.data
    hs = x.xp.clip(d / 6 + 0.5, 0, 1)
    inside = (d > -3) & (d < 3)
    return make(d * hs, (x,), lambda g: (g * (hs + d * inside / 6),))


hard_swish = hard_silu


def hard_shrink(x, threshold: float = 0.5) -> Tensor:
    """``x`` where ``|x| > threshold``, else 0."""
    x = as_tensor(x)
    kept = x.xp.abs(x.data) > threshold
    return make(x.data * kept, (x,), lambda g: (g * kept,))


def soft_shrink(x, threshold: float = 0.5) -> Tensor:
    """``x`` moved ``threshold`` towards 0, and 0 where ``|x| <= threshold``."""
    x = as_tensor(x)
    xp = x.xp
    kept = xp.abs(x.data) > threshold
    out = (x.data - xp.sign(x.data) * threshold) * kept
    return make(out.astype(x.data.dtype, copy=False), (x,), lambda g: (g * kept,))


def tanh_shrink(x) -> Tensor:
    """``x - tanh(x)``."""
    x = as_tensor(x)
    t = x.xp.tanh(x.data)
    return make(x.data - t, (x,), lambda g: (g * t * t,))


def log_sigmoid(x) -> Tensor:
    """``log(sigmoid(x)) = -softplus(-x)``, stable for large ``|x|``."""
    x = as_tensor(x)
    xp = x.xp
    out = -xp.logaddexp(0, -x.data).astype(x.data.dtype, copy=False)
    return make(out, (x,), lambda g: (g * sigmoid_(-x.data, xp, out=xp.empty_like(x.data)),))


def mish(x) -> Tensor:
    """``x * tanh(softplus(x))`` (Misra, 2019)."""
    x = as_tensor(x)
    xp = x.xp
    d = x.data
    t = xp.tanh(xp.logaddexp(0, d)).astype(d.dtype, copy=False)

    def backward(g):
        return (g * (t + d * (1 - t * t) * sigmoid_(d, xp, out=xp.empty_like(d))),)

    return make(d * t, (x,), backward)


def sparse_plus(x) -> Tensor:
    """0 below -1, ``(x + 1)**2 / 4`` on [-1, 1], ``x`` above 1: a softplus with a compact
    curved part."""
    x = as_tensor(x)
    xp = x.xp
    d = x.data
    inside = (d > -1) & (d < 1)
    out = xp.where(d >= 1, d, xp.where(inside, 0.25 * (d + 1) ** 2, 0)).astype(d.dtype, copy=False)
    return make(out, (x,), lambda g: (g * xp.where(inside, 0.5 * (d + 1), d >= 1),))


def sparse_sigmoid(x) -> Tensor:
    """0 below -1, ``(x + 1) / 2`` on [-1, 1], 1 above: a sigmoid with exact 0 and 1."""
    x = as_tensor(x)
    inside = x.xp.abs(x.data) < 1
    out = x.xp.clip(0.5 * (x.data + 1), 0, 1).astype(x.data.dtype, copy=False)
    return make(out, (x,), lambda g: (g * inside * 0.5,))


def squareplus(x, b: float = 4) -> Tensor:
    """``(x + sqrt(x**2 + b)) / 2`` (So, 2021), a smooth ReLU made of a square root."""
    x = as_tensor(x)
    root = x.xp.sqrt(x.data * x.data + b).astype(x.data.dtype, copy=False)
    return make((x.data + root) / 2, (x,), lambda g: (g * 0.5 * (1 + x.data / root),))


def threshold(x, threshold, default_value) -> Tensor:
    """``x`` where ``x > threshold``, else ``default_value`` (Keras's signature: both
    required)."""
    x = as_tensor(x)
    kept = x.data > threshold
    out = x.xp.where(kept, x.data, default_value).astype(x.data.dtype, copy=False)
    return make(out, (x,), lambda g: (g * kept,))


def sparsemax(x, axis: int = -1) -> Tensor:
    """The Euclidean projection of ``x`` onto the probability simplex along ``axis``
    (Martins & Astudillo, 2016): like softmax it sums to 1, but small inputs get exactly 0.

    ``max(x - tau, 0)`` where ``tau`` is ``(sum of the k largest - 1) / k`` and ``k`` the
    number of inputs that stay positive. Keras 3.15's own sparsemax takes ``tau`` from the sum
    of the cumulative sums instead, so its output does not sum to 1 whenever two or more
    inputs stay (keras-team/keras#23425); profond follows the paper.

    Examples
    --------
    >>> import profond
    >>> from profond.ops.activation import sparsemax
    >>> sparsemax(profond.tensor([0.0, 0.5, 1.0]))
    tensor([0.  , 0.25, 0.75], dtype=float32)
    """
    x = as_tensor(x)
    xp = x.xp
    axis = _softmax_axis(x, axis, "sparsemax")
    d = x.data
    if d.ndim == 0:
        out = xp.ones_like(d)
        return make(out, (x,), lambda g: (g * 0,))
    z = -xp.sort(-d, axis=axis)
    cumsum = xp.cumsum(z, axis=axis)
    shape = [1] * d.ndim
    shape[axis] = -1
    rank = xp.arange(1, d.shape[axis] + 1, dtype=d.dtype).reshape(shape)
    k = (1 + rank * z > cumsum).sum(axis=axis, keepdims=True)
    tau = (xp.take_along_axis(cumsum, k - 1, axis=axis) - 1) / k
    out = xp.maximum(d - tau, 0).astype(d.dtype, copy=False)
    support = out > 0

    def backward(g):
        # the Jacobian is diag(s) - s s^T / |s| on the support s
        mean = (g * support).sum(axis=axis, keepdims=True) / support.sum(axis=axis, keepdims=True)
        return (support * (g - mean),)

    return make(out, (x,), backward)


# The built-in activations by name, for the ops that take an activation (the recurrent kernels).
# profond.activations adds the names that layers know (aliases, registered custom functions).
BY_NAME = {
    "linear": linear_activation, "relu": relu, "leaky_relu": leaky_relu, "elu": elu,
    "selu": selu, "gelu": gelu, "sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid, "tanh": tanh,
    "softmax": softmax, "log_softmax": log_softmax, "softplus": softplus, "softsign": softsign,
    "silu": silu, "step": step, "celu": celu, "exponential": exponential, "glu": glu,
    "hard_shrink": hard_shrink, "hard_silu": hard_silu, "hard_swish": hard_swish,
    "hard_tanh": hard_tanh, "log_sigmoid": log_sigmoid, "mish": mish, "relu6": relu6,
    "soft_shrink": soft_shrink, "sparse_plus": sparse_plus, "sparse_sigmoid": sparse_sigmoid,
    "sparsemax": sparsemax, "squareplus": squareplus, "tanh_shrink": tanh_shrink,
    "threshold": threshold,
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
