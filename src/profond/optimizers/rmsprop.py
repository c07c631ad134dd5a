"""RMSprop: divide the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from profond import backend
from profond._validation import check_float
from profond.optimizers.base import Optimizer

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """RMSprop (Hinton, 2012, lecture 6e of "Neural Networks for Machine Learning"); the
    default optimizer of ``Model.compile``.

    The update, as Keras writes it (``epsilon`` inside the square root)::

        velocity = rho * velocity + (1 - rho) * g ** 2          # slot "velocity"
        if centered:                                            # Graves, 2013
            average = rho * average + (1 - rho) * g             # slot "average_gradient"
            increment = lr * g / sqrt(velocity - average ** 2 + epsilon)
        else:
            increment = lr * g / sqrt(velocity + epsilon)
        if momentum > 0:
            buffer = momentum * buffer + increment              # slot "momentum"
            w -= buffer
        else:
            w -= increment

    PyTorch's ``RMSprop`` (``alpha`` for ``rho``) puts its ``eps`` outside the root.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    rho : float in [0, 1), default 0.9
        Discount of the running average of squared gradients.
    momentum : float in [0, 1), default 0.0
    epsilon : float >= 0, default 1e-7
    centered : bool, default False
        Normalise by the estimated variance of the gradient instead of its second moment.
    **kwargs
        ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond import Variable
    >>> from profond.optimizers import RMSprop
    >>> w = Variable(np.array([10.0]))
    >>> RMSprop(learning_rate=0.1).apply([np.array([10.0])], [w])   # Keras's example
    >>> w.numpy()
    array([9.683772], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.rho = check_float(rho, "rho", "RMSprop", low=0, high=1, high_open=True)
        self.momentum = check_float(momentum, "momentum", "RMSprop", low=0, high=1,
                                    high_open=True)
        self.epsilon = check_float(epsilon, "epsilon", "RMSprop", low=0)
        self.centered = bool(centered)

    def build_state(self, var):
        zeros = var.xp.zeros_like
        slots = {"velocity": zeros(var.data)}
        if self.momentum > 0:
            slots["momentum"] = zeros(var.data)
        if self.centered:
            slots["average_gradient"] = zeros(var.data)
        return slots

    def update_step(self, grad, var, lr, slots):
        xp = backend.get_array_module(var)
        rho = self.rho
        velocity = slots["velocity"]
        tmp = xp.multiply(grad, grad, out=self._buffer(var))
        tmp *= 1.0 - rho
        velocity *= rho
        velocity += tmp                                      # rho * v + (1 - rho) * g ** 2
        if self.centered:
            average = slots["average_gradient"]
            average *= rho
            average += xp.multiply(grad, 1.0 - rho, out=tmp)
            xp.multiply(average, average, out=tmp)
            xp.subtract(velocity, tmp, out=tmp)
            tmp += self.epsilon                              # v - average ** 2 + eps
        else:
            xp.add(velocity, self.epsilon, out=tmp)          # v + eps
        xp.sqrt(tmp, out=tmp)
        xp.divide(grad, tmp, out=tmp)
        tmp *= lr                                            # increment
        if self.momentum > 0:
            buffer = slots["momentum"]
            buffer *= self.momentum
            buffer += tmp
            var -= buffer
        else:
            var -= tmp

    def get_config(self):
        return {**super().get_config(), "rho": self.rho, "momentum": self.momentum,
                "epsilon": self.epsilon, "centered": self.centered}
