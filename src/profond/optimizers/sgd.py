"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from profond import backend
from profond._validation import check_float
from profond.optimizers import _compiled
from profond.optimizers.base import Optimizer

__all__ = ["SGD"]


class SGD(Optimizer):
    """Gradient descent with momentum (Polyak, 1964) and Nesterov momentum (Sutskever et al.,
    2013), updating the weights after every batch.

    The update, as Keras writes it, for each variable ``w`` with gradient ``g``::

        if momentum == 0:
            w -= lr * g
        else:
            v = momentum * v - lr * g          # velocity, kept per variable (slot "momentum")
            w += momentum * v - lr * g if nesterov else v

    With a constant rate this is PyTorch's ``SGD`` (whose buffer is ``-v / lr``).

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
        xp = backend.get_array_module(var)
        fused = _compiled.kernel("sgd_momentum" if self.momentum else "sgd", xp)
        flat = None if fused is None else _compiled.flat(grad, var, *slots.values())
        if flat is not None:  # one pass instead of two to five (138 -> 90 us, bench/mlp.py)
            kind = var.dtype.type
            if self.momentum:
                fused(*flat, kind(lr), kind(self.momentum), self.nesterov)
            else:
                fused(*flat, kind(lr))
            return
        step = xp.multiply(grad, lr, out=self._buffer(var))  # step = lr * g
        if not self.momentum:
            var -= step
            return
        v = slots["momentum"]
        v *= self.momentum
        v -= step                                            # v = momentum * v - lr * g
        if self.nesterov:
            var -= step
            var += xp.multiply(v, self.momentum, out=step)   # w += momentum * v - lr * g
        else:
            var += v

    def get_config(self):
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
