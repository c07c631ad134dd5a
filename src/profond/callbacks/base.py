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

    A callback that keeps something from epoch to epoch (a counter, a best value, best
    weights) takes part in exact resumption by implementing :meth:`get_state` and
    :meth:`set_state`: checkpoints (:class:`~profond.callbacks.ModelCheckpoint`,
    :class:`~profond.callbacks.BackupAndRestore`) store that state at each epoch end, and a
    resumed ``fit`` gives it back after ``on_train_begin``.

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

    def get_state(self):
        """What this callback must carry over when a run is resumed (default: nothing).

        Called at the end of an epoch, after every callback's ``on_epoch_end``, by the
        callbacks that write checkpoints.

        Returns
        -------
        dict or None
            None when the callback holds no state. Otherwise a dict of JSON-able values
            (str, int, float, bool, None, lists and dicts of them) and NumPy arrays, lists of
            arrays included (they are stored as the checkpoint's tensors, exactly).

        Examples
        --------
        >>> import profond
        >>> class CountEpochs(profond.callbacks.Callback):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.count = 0
        ...     def on_epoch_end(self, epoch, logs=None):
        ...         self.count += 1
        ...     def get_state(self):
        ...         return {"count": self.count}
        ...     def set_state(self, state):
        ...         self.count = state["count"]
        >>> counter = CountEpochs()
        >>> counter.set_state({"count": 3})
        >>> counter.get_state()
        {'count': 3}
        """
        return None

    def set_state(self, state) -> None:
        """Take back what :meth:`get_state` returned (arrays come back as NumPy arrays).

        A resumed ``fit`` calls it after every callback's ``on_train_begin`` (which resets a
        callback for a new run) and before the first epoch.
        """

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


def _logs(logs):
    # Keras hands every hook a dict, never None: user callbacks call logs.keys() or logs.get().
    return {} if logs is None else logs


def _keys(callbacks):
    """``"ClassName:k"`` for the k-th callback of its class: a key that survives callbacks of
    other classes being added or removed between a run and its resumption."""
    seen, keys = {}, []
    for cb in callbacks:
        name = type(cb).__name__
        keys.append(f"{name}:{seen.get(name, 0)}")
        seen[name] = seen.get(name, 0) + 1
    return keys


class CallbackList:
    """Calls each hook on every callback, skipping those that do not override it.

    Callbacks that write checkpoints (``writes_checkpoints = True``: ModelCheckpoint,
    BackupAndRestore) decide in ``on_epoch_end`` and write in ``write_checkpoint()``, which
    the list calls once every callback's ``on_epoch_end`` has run: what they save holds every
    callback's state at the end of the epoch (and whether training stops there), whatever
    the order of the list.
    """

    def __init__(self, callbacks=None, model=None, params=None):
        self.callbacks = list(callbacks or [])
        self.model = model
        self.params = params or {}
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(f"callbacks must be Callback instances. Got {cb!r}.")
            if model is not None:
                cb.set_model(model)
            if params is not None:
                cb.set_params(params)
            if getattr(cb, "writes_checkpoints", False):
                cb.set_callback_list(self)
        # Only callbacks that override a batch hook are called per batch: it keeps the hot
        # loop free of no-op calls.
        self._active = {hook: [getattr(cb, hook) for cb in self.callbacks
                               if _overrides(cb, hook)] for hook in _HOOKS}
        self._writers = [cb for cb in self.callbacks if getattr(cb, "writes_checkpoints", False)]
        self.start_epoch = None
        self.past_history = None

    # --- resumption ------------------------------------------------------------------------
    def get_state(self) -> list:
        """Every callback's :meth:`Callback.get_state` that is not None, as
        ``[{"key": "EarlyStopping:0", "state": {...}}, ...]`` (key: class and position among
        the callbacks of that class)."""
        out = []
        for key, cb in zip(_keys(self.callbacks), self.callbacks):
            state = cb.get_state()
            if state is not None:
                out.append({"key": key, "state": state})
        return out

    def set_state(self, states) -> None:
        """Give each callback its state from :meth:`get_state`'s output, matched by key.

        A saved state whose callback is absent now is reported with a warning: the resumed
        run goes on, but cannot be the exact continuation of the saved one.
        """
        import warnings

        by_key = dict(zip(_keys(self.callbacks), self.callbacks))
        missing = []
        for entry in states or []:
            cb = by_key.get(entry["key"])
            if cb is None:
                missing.append(entry["key"])
                continue
            cb.set_state(entry["state"])
        if missing:
            warnings.warn(f"The checkpoint holds the state of callbacks that this fit does not "
                          f"have: {missing}. Resuming without them, the run is not the exact "
                          "continuation of the saved one.", RuntimeWarning, stacklevel=3)

    def resume(self, training_state) -> None:
        """Restore a checkpoint's training state (see
        :func:`profond.callbacks.load_checkpoint`): the callbacks' states, and the epoch
        ``fit`` starts from (:attr:`start_epoch`: after the saved epoch, or the last epoch
        when the saved run had stopped, so that no epoch runs)."""
        self.set_state(training_state.get("callbacks"))
        self.past_history = training_state.get("history")
        start = int(training_state["epoch"]) + 1
        if training_state.get("stopped"):
            start = max(start, int(self.params.get("epochs", start)))
        self.start_epoch = start

    def has(self, hook: str) -> bool:
        return bool(self._active[hook])

    def __iter__(self):
        return iter(self.callbacks)

    def _call(self, hook, *args):
        for fn in self._active[hook]:
            fn(*args)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", _logs(logs))
        # A run being resumed gets its callbacks' states back now: after on_train_begin,
        # which resets them, and before anything of the first epoch.
        pending = None
        if self.model is not None:
            pending = getattr(self.model, "_resume_training_state", None)
            if pending is not None:
                del self.model._resume_training_state
                # A fit that does not start where the checkpoint ended is not its resumption.
                if self.params.get("initial_epoch", pending["epoch"] + 1) != \
                        pending["epoch"] + 1:
                    pending = None
        for cb in self.callbacks:
            if getattr(cb, "writes_checkpoints", False):
                pending = cb.take_restored_state() or pending
        if pending is not None:
            self.resume(pending)

    def on_train_end(self, logs=None):
        self._call("on_train_end", _logs(logs))

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, _logs(logs))

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, _logs(logs))
        for cb in self._writers:
            cb.write_checkpoint()

    def on_train_batch_begin(self, b, logs=None):
        self._call("on_train_batch_begin", b, _logs(logs))

    def on_train_batch_end(self, b, logs=None):
        self._call("on_train_batch_end", b, _logs(logs))

    def on_train_batch_gradients(self, batch, gradients, variables):
        self._call("on_train_batch_gradients", batch, gradients, variables)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", _logs(logs))

    def on_test_end(self, logs=None):
        self._call("on_test_end", _logs(logs))

    def on_test_batch_begin(self, b, logs=None):
        self._call("on_test_batch_begin", b, _logs(logs))

    def on_test_batch_end(self, b, logs=None):
        self._call("on_test_batch_end", b, _logs(logs))

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", _logs(logs))

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", _logs(logs))

    def on_predict_batch_begin(self, b, logs=None):
        self._call("on_predict_batch_begin", b, _logs(logs))

    def on_predict_batch_end(self, b, logs=None):
        self._call("on_predict_batch_end", b, _logs(logs))
