"""Adagrad: per-parameter rates that shrink with the sum of past squared gradients."""

from __future__ import annotations

from profond import backend
from profond._validation import check_float
from profond.optimizers.base import Optimizer

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """Adagrad (Duchi, Hazan & Singer, 2011): parameters that have received large gradients
    get smaller steps.

    The update, as Keras writes it (``epsilon`` inside the square root)::

        accumulator += g ** 2                          # slot "accumulator", starts at
        w -= lr * g / sqrt(accumulator + epsilon)      # initial_accumulator_value

    PyTorch's ``Adagrad`` puts its ``eps`` outside the root (``sqrt(accumulator) + eps``) and
    starts the accumulator at 0.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
        Adagrad usually wants a larger rate than this Keras default (the paper's form is 1.0).
    initial_accumulator_value : float >= 0, default 0.1
    epsilon : float >= 0, default 1e-7
    **kwargs
        ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond import Variable
    >>> from profond.optimizers import Adagrad
    >>> w = Variable(np.array([1.0]))
    >>> Adagrad(learning_rate=0.5, initial_accumulator_value=0.0, epsilon=0.0).apply(
    ...     [np.array([2.0])], [w])
    >>> w.numpy()                                      # 1 - 0.5 * 2 / sqrt(4)
    array([0.5], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.initial_accumulator_value = check_float(
            initial_accumulator_value, "initial_accumulator_value", "Adagrad", low=0)
        self.epsilon = check_float(epsilon, "epsilon", "Adagrad", low=0)

    def build_state(self, var):
        return {"accumulator": var.xp.full_like(var.data, self.initial_accumulator_value)}

    def update_step(self, grad, var, lr, slots):
        xp = backend.get_array_module(var)
        acc = slots["accumulator"]
        tmp = xp.multiply(grad, grad, out=self._buffer(var))
        acc += tmp                                           # accumulator += g ** 2
        xp.add(acc, self.epsilon, out=tmp)
        xp.sqrt(tmp, out=tmp)
        xp.divide(grad, tmp, out=tmp)
        tmp *= lr
        var -= tmp                                           # w -= lr * g / sqrt(acc + eps)

    def get_config(self):
        return {**super().get_config(), "initial_accumulator_value":
                self.initial_accumulator_value, "epsilon": self.epsilon}
