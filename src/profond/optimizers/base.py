"""The ``Optimizer`` base class (Keras's contract).

The base owns what every optimizer shares: the learning rate (a number or a schedule of the
step), gradient clipping (``clipvalue``, ``clipnorm``, ``global_clipnorm``), decoupled weight
decay, the step counter and the per-parameter state. A subclass writes only ``build_state`` (its
slots for one variable) and ``update_step`` (the in-place update of one variable).

The state of an optimizer is ``iterations`` (the number of updates applied so far), the
current learning rate when it is a number, and one dict of arrays ("slots") per variable.
:meth:`Optimizer.get_state` and :meth:`Optimizer.set_state` copy it out and back, so a saved
model resumes training exactly where it stopped.
"""

from __future__ import annotations

import inspect
import math
import re

from profond import backend, saving, schedules
from profond._validation import check_float, check_int
from profond.autograd import engine
from profond.autograd.tensor import Tensor
from profond.schedules import LearningRateSchedule

__all__ = ["Optimizer"]


def _takes_no_argument(fn) -> bool:
    """Whether ``fn`` is a zero-argument callable (Keras's form of a dynamic learning rate)."""
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return not any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
                   for p in params)


class Optimizer:
    """Base class of optimizers.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule or callable
        A non-negative number; a :class:`~profond.schedules.LearningRateSchedule` (evaluated
        at the step count, or at the epoch count for ``unit="epoch"`` schedules); or a callable
        ``fn(step) -> float`` (or ``fn() -> float``, Keras's form).
    weight_decay : float, optional
        Decoupled weight decay (Loshchilov & Hutter, 2019): ``w -= lr * weight_decay * w``
        before each update.
    clipnorm : float, optional
        Clip each variable's gradient to this L2 norm.
    clipvalue : float, optional
        Clip each gradient element to ``[-clipvalue, clipvalue]``.
    global_clipnorm : float, optional
        Clip all gradients together to this global L2 norm (Pascanu et al., 2013).
    name : str, optional

    Attributes
    ----------
    iterations : int
        Number of updates applied so far (Keras's ``optimizer.iterations``).
    steps_per_epoch : int or None
        Updates per epoch; ``fit`` sets it, and ``unit="epoch"`` schedules need it to turn
        ``iterations`` into an epoch count (``epoch = iterations // steps_per_epoch``).
    """

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None):
        owner = type(self).__name__
        self._learning_rate = None
        self._lr_fn = None
        self.learning_rate = learning_rate
        self.weight_decay = check_float(weight_decay, "weight_decay", owner, low=0,
                                        allow_none=True)
        self.clipnorm = check_float(clipnorm, "clipnorm", owner, low=0, low_open=True,
                                    allow_none=True)
        self.clipvalue = check_float(clipvalue, "clipvalue", owner, low=0, low_open=True,
                                     allow_none=True)
        self.global_clipnorm = check_float(global_clipnorm, "global_clipnorm", owner, low=0,
                                           low_open=True, allow_none=True)
        if sum(x is not None for x in (self.clipnorm, self.clipvalue, self.global_clipnorm)) > 1:
            raise ValueError(f"The 'clipnorm', 'clipvalue' and 'global_clipnorm' parameters of "
                             f"{owner} must be given one at most. Got clipnorm={clipnorm!r}, "
                             f"clipvalue={clipvalue!r} and global_clipnorm={global_clipnorm!r} "
                             "instead.")
        self.name = name or owner.lower()
        self.iterations = 0
        self.steps_per_epoch = None
        self._last_learning_rate = None
        self._variables: list = []
        self._index: dict[int, int] = {}
        self._slots: list[dict] = []
        self._decays: list[bool] = []
        self._exclude_ids: set = set()
        self._exclude_pattern = None
        self._buffers: dict = {}

    # --- learning rate -----------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The learning rate of the next update.

        A schedule is evaluated at ``iterations`` (or at the epoch ``iterations //
        steps_per_epoch`` for a per-epoch schedule). Setting a number replaces a number;
        setting a schedule or callable replaces anything; setting a number over a schedule
        raises ``TypeError``, as in Keras (give the optimizer a number if it must be settable).
        """
        fn = self._lr_fn
        return self._learning_rate if fn is None else float(fn())

    @learning_rate.setter
    def learning_rate(self, value):
        owner = type(self).__name__
        if isinstance(value, LearningRateSchedule):
            self._learning_rate = value
            self._lr_fn = lambda: value.value_at(self.iterations, self.steps_per_epoch)
        elif callable(value):
            self._learning_rate = value
            self._lr_fn = value if _takes_no_argument(value) else \
                (lambda: value(self.iterations))
        else:
            if self._lr_fn is not None and isinstance(self._learning_rate,
                                                      LearningRateSchedule):
                raise TypeError(f"This {owner} was created with a LearningRateSchedule as its "
                                "learning_rate, so its learning rate cannot be set to a "
                                "number. Create the optimizer with a number (or assign a new "
                                "schedule) if it must change.")
            self._learning_rate = check_float(value, "learning_rate", owner, low=0)
            self._lr_fn = None

    @property
    def last_learning_rate(self) -> float:
        """The learning rate used by the most recent update (the next one before any)."""
        return self.learning_rate if self._last_learning_rate is None else \
            self._last_learning_rate

    # --- state -------------------------------------------------------------------------------
    @property
    def variables(self) -> list:
        """The variables this optimizer holds state for, in the order of :meth:`get_state`."""
        return list(self._variables)

    def build(self, variables) -> None:
        """Create the per-variable state for ``variables`` (done on first update if needed)."""
        for var in variables:
            if id(var) in self._index:
                continue
            self._index[id(var)] = len(self._variables)
            self._variables.append(var)
            self._slots.append(self.build_state(var))
            self._decays.append(self._decays_variable(var))

    def build_state(self, var) -> dict:
        """Slots for one variable (e.g. ``{"momentum": zeros}``); none by default."""
        return {}

    def reset(self) -> None:
        """Forget every variable's state and set ``iterations`` back to 0."""
        self.iterations = 0
        self._last_learning_rate = None
        self._variables, self._index, self._slots, self._decays = [], {}, [], []
        self._buffers = {}

    def get_state(self) -> dict:
        """The state as NumPy copies.

        Returns
        -------
        dict
            ``{"iterations": int, "learning_rate": float or None, "slots": [{name: ndarray}
            per variable]}``; ``learning_rate`` is the current number (it may have been changed
            by a callback such as ``ReduceLROnPlateau``), None when it is a schedule.
        """
        return {"iterations": self.iterations,
                "learning_rate": None if self._lr_fn is not None else self._learning_rate,
                "slots": [{k: backend.to_numpy(v).copy() for k, v in s.items()}
                          for s in self._slots]}

    def set_state(self, state: dict, variables) -> None:
        """Restore :meth:`get_state`'s output for ``variables`` (same order and shapes)."""
        self.build(variables)
        slots = state["slots"]
        if len(slots) != len(self._slots):
            raise ValueError(f"The 'state' parameter of {type(self).__name__}.set_state must "
                             f"hold the slots of {len(self._slots)} variables. Got {len(slots)} "
                             "instead.")
        for mine, theirs in zip(self._slots, slots):
            if set(mine) != set(theirs):
                raise ValueError(f"The 'state' parameter of {type(self).__name__}.set_state "
                                 f"must hold the slots {sorted(mine)} per variable. Got slots "
                                 f"{sorted(theirs)} instead.")
            for k in mine:
                if mine[k].shape != tuple(theirs[k].shape):
                    raise ValueError(f"The 'state' parameter of {type(self).__name__}."
                                     f"set_state must give slot '{k}' the shape "
                                     f"{mine[k].shape}. Got {tuple(theirs[k].shape)} instead.")
                mine[k][...] = backend.get_array_module(mine[k]).asarray(theirs[k])
        self.iterations = check_int(int(state["iterations"]), "iterations", "set_state", low=0)
        lr = state.get("learning_rate")
        if lr is not None and self._lr_fn is None:
            self.learning_rate = float(lr)

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Exempt variables from weight decay: those in ``var_list``, and those whose name
        (or ``path``) matches one of the regular expressions ``var_names`` (Keras's rule).

        Examples
        --------
        >>> from profond.optimizers import AdamW
        >>> opt = AdamW()
        >>> opt.exclude_from_weight_decay(var_names=["bias", "gamma"])
        """
        self._exclude_ids.update(id(v) for v in var_list or [])
        names = list(var_names or [])
        self._exclude_pattern = re.compile("|".join(names)) if names else None
        self._decays = [self._decays_variable(v) for v in self._variables]

    def _decays_variable(self, var) -> bool:
        if id(var) in self._exclude_ids:
            return False
        if self._exclude_pattern is not None:
            for name in (getattr(var, "name", ""), getattr(var, "path", "")):
                if name and self._exclude_pattern.search(name):
                    return False
        return True

    # --- updates -----------------------------------------------------------------------------
    def _buffer(self, var, k: int = 0):
        """A scratch array shaped like ``var`` (shared by variables of one shape and dtype).

        ``update_step`` writes its intermediate results here with ``out=`` instead of
        allocating temporaries at every step; its content does not survive the call.
        """
        key = (var.shape, var.dtype, type(var), k)
        buf = self._buffers.get(key)
        if buf is None:
            buf = self._buffers[key] = backend.get_array_module(var).empty_like(var)
        return buf

    def _clip(self, grads):
        if self.clipvalue is not None:
            c = self.clipvalue
            return [None if g is None else g.clip(-c, c) for g in grads]
        if self.clipnorm is not None:
            out = []
            for g in grads:
                norm = None if g is None else math.sqrt(backend.sum_of_squares(g))
                out.append(g * (self.clipnorm / norm) if norm is not None and
                           norm > self.clipnorm else g)
            return out
        if self.global_clipnorm is not None:
            total = math.sqrt(sum(backend.sum_of_squares(g) for g in grads if g is not None))
            if total > self.global_clipnorm:
                scale = self.global_clipnorm / total
                return [None if g is None else g * scale for g in grads]
        return grads

    def apply(self, grads, variables) -> None:
        """Update ``variables`` in place from ``grads`` (arrays or tensors, same order).

        A ``None`` gradient leaves its variable untouched. ``iterations`` grows by one.
        """
        if len(grads) != len(variables):
            raise ValueError(f"The 'grads' parameter of {type(self).__name__}.apply must hold one "
                             f"gradient per variable. Got {len(grads)} gradients for "
                             f"{len(variables)} variables instead.")
        if self.clipvalue is not None or self.clipnorm is not None or \
                self.global_clipnorm is not None:
            grads = self._clip([g.data if isinstance(g, Tensor) else g for g in grads])
        lr = self.learning_rate
        self._begin_step(lr)
        decay = 1.0 - lr * self.weight_decay if self.weight_decay else None
        # This loop runs once per variable per training step: locals instead of attributes.
        index, slots, decays, update = self._index, self._slots, self._decays, self.update_step
        mode = engine.grad_mode
        recording, mode.enabled = mode.enabled, False  # no_grad without a context manager
        try:
            for g, var in zip(grads, variables):
                if g is None:
                    continue
                if isinstance(g, Tensor):
                    g = g.data
                i = index.get(id(var))
                if i is None:
                    self.build([var])
                    i = index[id(var)]
                data = var.data
                if decay is not None and decays[i]:
                    data *= decay
                update(g, data, lr, slots[i])
                constraint = getattr(var, "constraint", None)
                if constraint is not None:
                    data[...] = constraint(data)
        finally:
            mode.enabled = recording
        self._last_learning_rate = lr
        self.iterations += 1

    def apply_gradients(self, grads_and_vars) -> None:
        """Keras's form: ``apply_gradients(zip(grads, vars))``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def _begin_step(self, lr: float) -> None:
        """Hook run once per :meth:`apply`, before the variables are updated (e.g. to compute
        the bias corrections shared by all variables)."""

    def update_step(self, grad, var, lr: float, slots: dict) -> None:  # pragma: no cover
        """Update the array ``var`` in place; ``slots`` is this variable's state."""
        raise NotImplementedError

    # --- configuration -----------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self._learning_rate
        if isinstance(lr, LearningRateSchedule):
            lr = saving.serialize_if_named(lr)
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        """Re-create an optimizer from :meth:`get_config` (a schedule from its dict)."""
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = schedules.get(lr)
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self._learning_rate!r})"
