"""``LambdaCallback``: a callback made of plain functions."""

from __future__ import annotations

from profond.callbacks.base import _HOOKS, Callback

__all__ = ["LambdaCallback"]

_NAMES = set(_HOOKS) | {"on_batch_begin", "on_batch_end"}


class LambdaCallback(Callback):
    """Build a callback from functions, one per hook (Keras's arguments).

    Parameters
    ----------
    on_epoch_begin, on_epoch_end : callable, optional
        ``fn(epoch, logs)``.
    on_train_begin, on_train_end : callable, optional
        ``fn(logs)``.
    on_train_batch_begin, on_train_batch_end : callable, optional
        ``fn(batch, logs)`` (``on_batch_begin``/``on_batch_end`` are Keras's older names).
    **kwargs
        Any other hook: ``on_test_begin=fn``, ``on_predict_batch_end=fn`` ...

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import layers
    >>> from profond.callbacks import LambdaCallback
    >>> model = profond.Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> seen = []
    >>> cb = LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    >>> _ = model.fit(np.ones((4, 2)), np.ones(4), epochs=3, verbose=0, callbacks=[cb])
    >>> seen
    [0, 1, 2]
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        hooks = {"on_epoch_begin": on_epoch_begin, "on_epoch_end": on_epoch_end,
                 "on_train_begin": on_train_begin, "on_train_end": on_train_end,
                 "on_train_batch_begin": on_train_batch_begin,
                 "on_train_batch_end": on_train_batch_end, **kwargs}
        for name, fn in hooks.items():
            if name not in _NAMES:
                raise TypeError(f"LambdaCallback got an unknown hook {name!r}. Hooks: "
                                f"{sorted(_NAMES)}.")
            if fn is None:
                continue
            if not callable(fn):
                raise ValueError(f"The '{name}' parameter of LambdaCallback must be a callable "
                                 f"or None. Got {fn!r} instead.")
            setattr(self, name, fn)
