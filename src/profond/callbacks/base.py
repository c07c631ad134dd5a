"""The ``Callback`` contract (Keras's) and the list that dispatches to several callbacks."""

from __future__ import annotations

__all__ = ["Callback", "CallbackList"]

_HOOKS = [f"on_{phase}_{edge}" for phase in ("train", "epoch", "train_batch", "test",
                                              "test_batch", "predict", "predict_batch")
          for edge in ("begin", "end")] + ["on_train_batch_gradients"]


class Callback:
    """Base class: override any ``on_{train,epoch,batch,test,predict}_{begin,end}`` hook, or
    :meth:`on_train_batch_gradients` to see each batch's gradients.

    ``self.model`` is set by ``fit``/``evaluate``/``predict``; setting
    ``self.model.stop_training = True`` ends training after the current batch. A hook that a
    callback does not override costs nothing: ``fit`` calls only the overridden ones.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import layers
    >>> class LargestGradient(profond.callbacks.Callback):
    ...     def on_train_batch_gradients(self, batch, gradients, variables):
    ...         self.largest = max(float(abs(g).max()) for g in gradients)
    >>> model = profond.Sequential([layers.Input((2,)), layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> watch = LargestGradient()
    >>> _ = model.fit(np.ones((4, 2)), np.zeros(4), verbose=0, callbacks=[watch])
    >>> watch.largest > 0
    True
    """

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_train_batch_gradients(self, batch, gradients, variables):
        """Called in training after each backward pass, before the optimizer's update.

        Parameters
        ----------
        batch : int
            Index of the batch within the epoch (0 for the batches the divergence guard's
            probe trains on before the first epoch).
        gradients : list of arrays or None
            The gradient of the loss with respect to each variable (None for a variable the
            loss does not depend on), as backend arrays. Read them; the optimizer applies
            them next, so changing them in place changes the update.
        variables : list of Variable
            The trainable variables, in the order of ``gradients`` (``v.path`` names each as
            ``"layer/weight"``).
        """

    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_test_batch_begin(self, batch, logs=None): pass
    def on_test_batch_end(self, batch, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass
    def on_predict_batch_begin(self, batch, logs=None): pass
    def on_predict_batch_end(self, batch, logs=None): pass

    # Keras's older names for the training-batch hooks.
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass


def _overrides(cb, hook):
    """Whether ``cb`` does something in ``hook``: a method overridden in its class, or a
    function set on the instance (as :class:`~profond.callbacks.LambdaCallback` does)."""
    names = (hook, hook.replace("train_", "")) if hook in ("on_train_batch_begin",
                                                           "on_train_batch_end") else (hook,)
    return any(getattr(type(cb), n) is not getattr(Callback, n) or n in vars(cb)
               for n in names)


class CallbackList:
    """Calls each hook on every callback, skipping those that do not override it."""

    def __init__(self, callbacks=None, model=None, params=None):
        self.callbacks = list(callbacks or [])
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback instances. Got {cb!r}.")
            if model is not None:
                cb.set_model(model)
            if params is not None:
                cb.set_params(params)
        # Only callbacks that override a batch hook are called per batch: it keeps the hot
        # loop free of no-op calls.
        self._active = {hook: [getattr(cb, hook) for cb in self.callbacks
                               if _overrides(cb, hook)] for hook in _HOOKS}

    def has(self, hook: str) -> bool:
        return bool(self._active[hook])

    def __iter__(self):
        return iter(self.callbacks)

    def _call(self, hook, *args):
        for fn in self._active[hook]:
            fn(*args)

    def on_train_begin(self, logs=None): self._call("on_train_begin", logs)
    def on_train_end(self, logs=None): self._call("on_train_end", logs)
    def on_epoch_begin(self, epoch, logs=None): self._call("on_epoch_begin", epoch, logs)
    def on_epoch_end(self, epoch, logs=None): self._call("on_epoch_end", epoch, logs)
    def on_train_batch_begin(self, b, logs=None): self._call("on_train_batch_begin", b, logs)
    def on_train_batch_end(self, b, logs=None): self._call("on_train_batch_end", b, logs)

    def on_train_batch_gradients(self, batch, gradients, variables):
        self._call("on_train_batch_gradients", batch, gradients, variables)

    def on_test_begin(self, logs=None): self._call("on_test_begin", logs)
    def on_test_end(self, logs=None): self._call("on_test_end", logs)
    def on_test_batch_begin(self, b, logs=None): self._call("on_test_batch_begin", b, logs)
    def on_test_batch_end(self, b, logs=None): self._call("on_test_batch_end", b, logs)
    def on_predict_begin(self, logs=None): self._call("on_predict_begin", logs)
    def on_predict_end(self, logs=None): self._call("on_predict_end", logs)
    def on_predict_batch_begin(self, b, logs=None): self._call("on_predict_batch_begin", b, logs)
    def on_predict_batch_end(self, b, logs=None): self._call("on_predict_batch_end", b, logs)
