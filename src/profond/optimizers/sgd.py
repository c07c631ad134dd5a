"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from profond._validation import check_float
from profond.optimizers.base import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Gradient descent with momentum (Polyak, 1964) and Nesterov momentum (Sutskever, 2013).

    The update, as Keras writes it, for each variable ``w`` with gradient ``g``::

        if momentum == 0:
            w -= lr * g
        else:
            v = momentum * v - lr * g          # velocity, kept per variable
            w += momentum * v - lr * g if nesterov else v

    Parameters
    ----------
    learning_rate : float or schedule, default 0.01
    momentum : float in [0, 1), default 0.0
    nesterov : bool, default False
    **kwargs
        ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.optimizers import SGD
    >>> from profond import Variable
    >>> w = Variable(np.array([1.0, 2.0]))
    >>> SGD(learning_rate=0.1).apply([np.array([1.0, 1.0])], [w])
    >>> w.numpy()
    array([0.9, 1.9], dtype=float32)
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.momentum = check_float(momentum, "momentum", "SGD", low=0, high=1, high_open=True)
        self.nesterov = bool(nesterov)

    def build_state(self, var):
        if self.momentum:
            return {"momentum": var.xp.zeros_like(var.data)}
        return {}

    def update_step(self, grad, var, lr, slots):
        if not self.momentum:
            if lr == 1.0:
                var -= grad
            else:
                var -= lr * grad
            return
        v = slots["momentum"]
        v *= self.momentum
        v -= lr * grad
        if self.nesterov:
            var += self.momentum * v - lr * grad
        else:
            var += v

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
