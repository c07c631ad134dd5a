"""Nadam: Adam with Nesterov momentum."""

from __future__ import annotations

from profond import backend
from profond._validation import check_float
from profond.optimizers.base import Optimizer

__all__ = ["Nadam"]

_DECAY = 0.96  # Dozat's momentum schedule: mu_t = beta_1 * (1 - 0.5 * 0.96 ** t)


class Nadam(Optimizer):
    """Nadam (Dozat, 2016, "Incorporating Nesterov Momentum into Adam").

    The update, as Keras writes it, at step ``t = iterations + 1``::

        u_t = beta_1 * (1 - 0.5 * 0.96 ** t)           # momentum schedule
        u_next = beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
        u_product = u_1 * u_2 * ... * u_t              # a function of t alone
        m += (g - m) * (1 - beta_1)                    # slot "momentum"
        v += (g ** 2 - v) * (1 - beta_2)               # slot "velocity"
        m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
        v_hat = v / (1 - beta_2 ** t)
        w -= lr * m_hat / (sqrt(v_hat) + epsilon)

    PyTorch's ``NAdam`` uses ``0.96 ** (0.004 * t)`` in its schedule, so the two differ.

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    beta_1 : float in [0, 1), default 0.9
    beta_2 : float in [0, 1), default 0.999
    epsilon : float >= 0, default 1e-7
    **kwargs
        ``weight_decay``, ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond import Variable
    >>> from profond.optimizers import Nadam
    >>> w = Variable(np.array([1.0]))
    >>> opt = Nadam(learning_rate=0.1)
    >>> for _ in range(3):
    ...     opt.apply([2 * w.numpy()], [w])            # minimise w ** 2
    >>> bool(0 < w.numpy()[0] < 1)
    True
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1 = check_float(beta_1, "beta_1", "Nadam", low=0, high=1, high_open=True)
        self.beta_2 = check_float(beta_2, "beta_2", "Nadam", low=0, high=1, high_open=True)
        self.epsilon = check_float(epsilon, "epsilon", "Nadam", low=0)
        self._product = (0, 1.0)  # (t, u_1 * ... * u_t), advanced one step at a time
        self._coefs = (0.0, 0.0, 0.0)

    def build_state(self, var):
        zeros = var.xp.zeros_like
        return {"momentum": zeros(var.data), "velocity": zeros(var.data)}

    def _u(self, t):
        return self.beta_1 * (1.0 - 0.5 * _DECAY ** t)

    def _u_product(self, t):
        done, product = self._product
        if done > t:  # the step count went back (set_state): start over
            done, product = 0, 1.0
        for s in range(done + 1, t + 1):
            product *= self._u(s)
        self._product = (t, product)
        return product

    def _begin_step(self, lr):
        t = self.iterations + 1
        u_t, u_next = self._u(t), self._u(t + 1)
        product = self._u_product(t)
        self._coefs = (u_next / (1.0 - product * u_next), (1.0 - u_t) / (1.0 - product),
                       1.0 / (1.0 - self.beta_2 ** t))

    def update_step(self, grad, var, lr, slots):
        xp = backend.get_array_module(var)
        c_m, c_g, c_v = self._coefs
        m, v = slots["momentum"], slots["velocity"]
        tmp = xp.subtract(grad, m, out=self._buffer(var))
        tmp *= 1.0 - self.beta_1
        m += tmp
        xp.multiply(grad, grad, out=tmp)
        tmp -= v
        tmp *= 1.0 - self.beta_2
        v += tmp
        m_hat = xp.multiply(m, c_m, out=tmp)
        m_hat += xp.multiply(grad, c_g, out=self._buffer(var, 1))
        denom = xp.multiply(v, c_v, out=self._buffer(var, 1))
        xp.sqrt(denom, out=denom)
        denom += self.epsilon
        m_hat /= denom
        m_hat *= lr
        var -= m_hat

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}
