"""AdamW: Adam with weight decay decoupled from the gradient."""

from __future__ import annotations

from profond._validation import check_float
from profond.optimizers.adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019): Adam whose weight decay shrinks the weights
    directly instead of being added to the gradient (where Adam's scaling would weaken it).

    The update, as Keras writes it, at step ``t = iterations + 1``::

        w -= lr * weight_decay * w                     # decoupled decay, before the step
        m += (g - m) * (1 - beta_1)
        v += (g ** 2 - v) * (1 - beta_2)
        alpha = lr * sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
        w -= alpha * m / (sqrt(v) + epsilon)

    Same as PyTorch's ``AdamW`` up to the placement of ``epsilon`` (see :class:`Adam`);
    note the defaults differ (Keras ``weight_decay=0.004``, PyTorch ``0.01``).

    Parameters
    ----------
    learning_rate : float or schedule, default 0.001
    weight_decay : float >= 0, default 0.004
    beta_1, beta_2, epsilon, amsgrad
        As for :class:`Adam`.
    **kwargs
        ``clipnorm``, ``clipvalue``, ``global_clipnorm``, ``name``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond import Variable
    >>> from profond.optimizers import AdamW
    >>> w = Variable(np.array([2.0]))
    >>> AdamW(learning_rate=0.1, weight_decay=0.5).apply([np.array([0.0])], [w])
    >>> w.numpy()                                      # 2 - 0.1 * 0.5 * 2, no gradient step
    array([1.9], dtype=float32)
    """

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, **kwargs):
        weight_decay = check_float(weight_decay, "weight_decay", "AdamW", low=0)
        super().__init__(learning_rate=learning_rate, beta_1=beta_1, beta_2=beta_2,
                         epsilon=epsilon, amsgrad=amsgrad, weight_decay=weight_decay, **kwargs)
