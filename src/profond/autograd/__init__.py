"""Tensors and reverse-mode automatic differentiation."""

from profond.autograd.engine import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from profond.autograd.tensor import Tensor, Variable, tensor
from profond.autograd import operators  # noqa: F401 - binds Tensor's operators and methods

__all__ = ["Tensor", "Variable", "tensor", "no_grad", "enable_grad", "is_grad_enabled",
           "set_grad_enabled"]
