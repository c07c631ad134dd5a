"""Tensor's operators and methods, bound in one table onto the class.

``a + b``, ``a @ b``, ``t.sum()``, ``t.reshape(...)``, ``t.relu()`` ... are the differentiable
functions of this package (:mod:`~profond.autograd.elementwise`, :mod:`~profond.autograd.shape`
...). Those modules build ``Tensor`` objects, so ``tensor.py`` cannot import them; this table
binds them once, and ``profond.autograd`` imports it, so a ``Tensor`` always has them.
"""

from __future__ import annotations

from profond.autograd.activation import log_softmax, relu, sigmoid, softmax, tanh
from profond.autograd.elementwise import (abs, add, cast, clip, div, equal, exp, greater,
                                          greater_equal, less, less_equal, log, mul, neg,
                                          not_equal, pow, sqrt, square, sub)
from profond.autograd.linalg import matmul
from profond.autograd.reduction import argmax, argmin, logsumexp, max, mean, min, std, sum, var
from profond.autograd.shape import (expand_dims, flatten, getitem, permute, reshape, squeeze,
                                    swapaxes, transpose)
from profond.autograd.tensor import Tensor

__all__ = ["OPERATORS", "METHODS"]


def _reflect(fn):
    return lambda self, other: fn(other, self)


OPERATORS = {
    "__add__": add, "__radd__": _reflect(add),
    "__sub__": sub, "__rsub__": _reflect(sub),
    "__mul__": mul, "__rmul__": _reflect(mul),
    "__truediv__": div, "__rtruediv__": _reflect(div),
    "__neg__": neg, "__abs__": abs,
    "__pow__": pow, "__rpow__": _reflect(pow),
    "__matmul__": matmul, "__rmatmul__": _reflect(matmul),
    "__getitem__": getitem,
    "__eq__": equal, "__ne__": not_equal,
    "__lt__": less, "__le__": less_equal, "__gt__": greater, "__ge__": greater_equal,
}

METHODS = {
    "sum": sum, "mean": mean, "max": max, "min": min, "var": var, "std": std,
    "logsumexp": logsumexp, "argmax": argmax, "argmin": argmin,
    "exp": exp, "log": log, "sqrt": sqrt, "square": square, "abs": abs, "clip": clip,
    "astype": cast,
    "reshape": reshape, "transpose": transpose, "permute": permute, "swapaxes": swapaxes,
    "flatten": flatten, "squeeze": squeeze, "expand_dims": expand_dims, "matmul": matmul,
    "relu": relu, "sigmoid": sigmoid, "tanh": tanh, "softmax": softmax,
    "log_softmax": log_softmax,
}

for _name, _fn in {**OPERATORS, **METHODS}.items():
    setattr(Tensor, _name, _fn)
Tensor.T = property(lambda self: transpose(self))
del _name, _fn
