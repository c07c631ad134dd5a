"""Elementwise arithmetic, comparisons and unary math, each with its hand-written backward."""

from __future__ import annotations

from profond.autograd.tensor import Tensor
from profond.autograd.function import as_tensor, make, pair, unbroadcast

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "maximum", "minimum", "where",
    "exp", "log", "sqrt", "square", "abs", "sign", "clip", "cast",
    "equal", "not_equal", "less", "less_equal", "greater", "greater_equal",
]


def _scalar_operand(a, b) -> bool:
    """True for ``float_tensor (op) python_number``: the fast path without a constant node."""
    # type(), not isinstance: np.float64 subclasses float but would promote float32 to float64
    return type(b) in (int, float) and isinstance(a, Tensor) and a.data.dtype.kind == "f"


def add(a, b) -> Tensor:
    """``a + b`` with broadcasting."""
    if _scalar_operand(a, b):
        return make(a.data + b, (a,), lambda g: (g,))
    a, b = pair(a, b)
    sa, sb = a.data.shape, b.data.shape

    def backward(g):
        return unbroadcast(g, sa), unbroadcast(g, sb)

    return make(a.data + b.data, (a, b), backward)


def sub(a, b) -> Tensor:
    """``a - b`` with broadcasting."""
    if _scalar_operand(a, b):
        return make(a.data - b, (a,), lambda g: (g,))
    a, b = pair(a, b)
    sa, sb = a.data.shape, b.data.shape

    def backward(g):
        return unbroadcast(g, sa), unbroadcast(-g, sb)

    return make(a.data - b.data, (a, b), backward)


def mul(a, b) -> Tensor:
    """``a * b`` with broadcasting."""
    if _scalar_operand(a, b):
        return make(a.data * b, (a,), lambda g: (g * b,))
    a, b = pair(a, b)

    def backward(g):
        ga = unbroadcast(g * b.data, a.data.shape) if a.requires_grad else None
        gb = unbroadcast(g * a.data, b.data.shape) if b.requires_grad else None
        return ga, gb

    return make(a.data * b.data, (a, b), backward)


def div(a, b) -> Tensor:
    """``a / b`` with broadcasting."""
    if _scalar_operand(a, b):
        return make(a.data / b, (a,), lambda g: (g / b,))
    a, b = pair(a, b)
    out = a.data / b.data

    def backward(g):
        gq = g / b.data
        ga = unbroadcast(gq, a.data.shape) if a.requires_grad else None
        gb = unbroadcast(-gq * out, b.data.shape) if b.requires_grad else None
        return ga, gb

    return make(out, (a, b), backward)


def neg(a) -> Tensor:
    """``-a``."""
    return make(-a.data, (a,), lambda g: (-g,))


def pow(a, exponent) -> Tensor:  # noqa: A001 - mirrors the operator's name
    """``a ** exponent``; the exponent may be a number or a tensor."""
    if not isinstance(exponent, Tensor) and not hasattr(exponent, "dtype"):
        p = exponent
        a = as_tensor(a)
        out = a.data ** p

        def backward_const(g):
            return (g * p * a.data ** (p - 1),)

        return make(out, (a,), backward_const)
    a, e = pair(a, exponent)
    xp = a.xp
    out = a.data ** e.data

    def backward(g):
        ga = unbroadcast(g * e.data * a.data ** (e.data - 1), a.data.shape) \
            if a.requires_grad else None
        gb = None
        if e.requires_grad:
            safe = xp.where(a.data > 0, a.data, 1)
            gb = unbroadcast(g * out * xp.log(safe), e.data.shape)
        return ga, gb

    return make(out, (a, e), backward)


def _select(a, b, take_a) -> Tensor:
    xp = a.xp
    out = xp.where(take_a, a.data, b.data)

    def backward(g):
        ga = unbroadcast(xp.where(take_a, g, 0), a.data.shape) if a.requires_grad else None
        gb = unbroadcast(xp.where(take_a, 0, g), b.data.shape) if b.requires_grad else None
        return ga, gb

    return make(out, (a, b), backward)


def maximum(a, b) -> Tensor:
    """Elementwise maximum; at ties the gradient goes to ``a``."""
    a, b = pair(a, b)
    return _select(a, b, a.data >= b.data)


def minimum(a, b) -> Tensor:
    """Elementwise minimum; at ties the gradient goes to ``a``."""
    a, b = pair(a, b)
    return _select(a, b, a.data <= b.data)


def where(condition, a, b) -> Tensor:
    """``a`` where ``condition`` holds, else ``b`` (all broadcast together)."""
    cond = condition.data if isinstance(condition, Tensor) else condition
    a, b = pair(a, b)
    xp = a.xp
    cond = xp.asarray(cond, dtype=bool)
    cond = xp.broadcast_to(cond, xp.broadcast_shapes(cond.shape, a.data.shape, b.data.shape))
    return _select(a, b, cond)


def exp(a) -> Tensor:
    """``e ** a``."""
    a = as_tensor(a)
    out = a.xp.exp(a.data)
    return make(out, (a,), lambda g: (g * out,))


def log(a) -> Tensor:
    """Natural logarithm."""
    a = as_tensor(a)
    return make(a.xp.log(a.data), (a,), lambda g: (g / a.data,))


def sqrt(a) -> Tensor:
    """Square root."""
    a = as_tensor(a)
    out = a.xp.sqrt(a.data)
    return make(out, (a,), lambda g: (g * 0.5 / out,))


def square(a) -> Tensor:
    """``a * a``."""
    a = as_tensor(a)
    return make(a.data * a.data, (a,), lambda g: (2 * g * a.data,))


def abs(a) -> Tensor:  # noqa: A001
    """Absolute value; the gradient at 0 is 0 (the subgradient NumPy's ``sign`` gives)."""
    a = as_tensor(a)
    xp = a.xp
    return make(xp.abs(a.data), (a,), lambda g: (g * xp.sign(a.data),))


def sign(a) -> Tensor:
    """Sign of each element (no gradient: it is zero almost everywhere)."""
    a = as_tensor(a)
    return make(a.xp.sign(a.data))


def clip(a, min_value=None, max_value=None) -> Tensor:
    """Clamp to ``[min_value, max_value]``; the gradient is zero where a bound is active."""
    a = as_tensor(a)
    xp = a.xp
    lo = -xp.inf if min_value is None else min_value
    hi = xp.inf if max_value is None else max_value
    out = xp.clip(a.data, lo, hi)
    inside = (a.data >= lo) & (a.data <= hi)
    return make(out, (a,), lambda g: (g * inside,))


def cast(a, dtype) -> Tensor:
    """Convert to ``dtype``; the gradient is cast back to the input's dtype."""
    a = as_tensor(a)
    src = a.data.dtype
    out = a.data.astype(dtype, copy=False)
    differentiable = out.dtype.kind == "f" and src.kind == "f"
    return make(out, (a,), (lambda g: (g.astype(src, copy=False),)) if differentiable else None)


def _comparison(fn_name):
    def compare(a, b) -> Tensor:
        a, b = pair(a, b)
        return make(getattr(a.xp, fn_name)(a.data, b.data))

    compare.__name__ = fn_name
    compare.__doc__ = f"Elementwise ``{fn_name}`` as a boolean tensor (not differentiable)."
    return compare


equal = _comparison("equal")
not_equal = _comparison("not_equal")
less = _comparison("less")
less_equal = _comparison("less_equal")
greater = _comparison("greater")
greater_equal = _comparison("greater_equal")
