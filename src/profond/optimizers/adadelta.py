"""Adadelta: step sizes from running averages of squared gradients and squared updates."""

from __future__ import annotations

from profond import backend
from profond._validation import check_float
from profond.optimizers.base import Optimizer

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    """Adadelta (Zeiler, 2012): the ratio of two running root mean squares sets each
    parameter's step, so the units of the update match those of the weight.

    The update, as Keras (and PyTorch) write it::

        acc_grad = rho * acc_grad + (1 - rho) * g ** 2              # slot "accumulated_grad"
        delta = sqrt(acc_delta + epsilon) / sqrt(acc_grad + epsilon) * g
        acc_delta = rho * acc_delta + (1 - rho) * delta ** 2        # "accumulated_delta_var"
        w -= lr * delta

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
        The paper's form is 1.0 (PyTorch's default).
    rho : float in [0, 1), default 0.95
    epsilon : float >= 0, default 1e-7
    **kwargs
        ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond import Variable
    >>> from profond.optimizers import Adadelta
    >>> w = Variable(np.array([1.0]))
    >>> Adadelta(learning_rate=1.0, rho=0.0, epsilon=1e-4).apply([np.array([1.0])], [w])
    >>> w.numpy()                                      # 1 - sqrt(1e-4) / sqrt(1 + 1e-4)
    array([0.9900005], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = check_float(rho, "rho", "Adadelta", low=0, high=1, high_open=True)
        self.epsilon = check_float(epsilon, "epsilon", "Adadelta", low=0)

    def build_state(self, var):
        zeros = var.xp.zeros_like
        return {"accumulated_grad": zeros(var.data), "accumulated_delta_var": zeros(var.data)}

    def update_step(self, grad, var, lr, slots):
        xp = backend.get_array_module(var)
        rho, eps = self.rho, self.epsilon
        acc_grad, acc_delta = slots["accumulated_grad"], slots["accumulated_delta_var"]
        delta, tmp = self._buffer(var), self._buffer(var, 1)
        xp.multiply(grad, grad, out=tmp)
        tmp *= 1.0 - rho
        acc_grad *= rho
        acc_grad += tmp                                      # rho * acc + (1 - rho) * g^2
        xp.add(acc_delta, eps, out=delta)
        xp.sqrt(delta, out=delta)
        delta *= grad
        xp.add(acc_grad, eps, out=tmp)
        xp.sqrt(tmp, out=tmp)
        delta /= tmp                                         # rms(acc_delta) / rms(acc) * g
        xp.multiply(delta, delta, out=tmp)
        tmp *= 1.0 - rho
        acc_delta *= rho
        acc_delta += tmp
        delta *= lr
        var -= delta

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
