"""The ``Optimizer`` base class (Keras's contract).

The base owns what every optimizer shares: the learning rate (a number or a schedule of the
step), gradient clipping (``clipvalue``, ``clipnorm``, ``global_clipnorm``), decoupled weight
decay, the step counter and the per-parameter state. A subclass writes only ``build_state`` (its
slots for one variable) and ``update_step`` (the in-place update of one variable).
"""

from __future__ import annotations

import math

from profond import backend
from profond._validation import check_float
from profond.autograd.engine import no_grad
from profond.autograd.tensor import Tensor

__all__ = ["Optimizer"]


class Optimizer:
    """Base class of optimizers.

    Parameters
    ----------
    learning_rate : float or LearningRateSchedule or callable
        A number, or a function of the step count.
    weight_decay : float, optional
        Decoupled weight decay (Loshchilov & Hutter, 2019): ``w -= lr * weight_decay * w``
        before each update.
    clipnorm : float, optional
        Clip each variable's gradient to this L2 norm.
    clipvalue : float, optional
        Clip each gradient element to ``[-clipvalue, clipvalue]``.
    global_clipnorm : float, optional
        Clip all gradients together to this global L2 norm.
    name : str, optional
    """

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None):
        owner = type(self).__name__
        if callable(learning_rate):
            self._learning_rate = learning_rate
        else:
            self._learning_rate = check_float(learning_rate, "learning_rate", owner, low=0)
        self.weight_decay = check_float(weight_decay, "weight_decay", owner, low=0,
                                        allow_none=True)
        self.clipnorm = check_float(clipnorm, "clipnorm", owner, low=0, low_open=True,
                                    allow_none=True)
        self.clipvalue = check_float(clipvalue, "clipvalue", owner, low=0, low_open=True,
                                     allow_none=True)
        self.global_clipnorm = check_float(global_clipnorm, "global_clipnorm", owner, low=0,
                                           low_open=True, allow_none=True)
        if sum(x is not None for x in (self.clipnorm, self.clipvalue, self.global_clipnorm)) > 1:
            raise ValueError(f"{owner}: give at most one of clipnorm, clipvalue and "
                             "global_clipnorm.")
        self.name = name or owner.lower()
        self.iterations = 0
        self._variables: list = []
        self._index: dict[int, int] = {}
        self._slots: list[dict] = []
        self._exclude_from_weight_decay: set = set()

    # --- learning rate -----------------------------------------------------------------------
    @property
    def learning_rate(self) -> float:
        """The learning rate for the next update (a schedule is evaluated at ``iterations``)."""
        lr = self._learning_rate
        return float(lr(self.iterations)) if callable(lr) else lr

    @learning_rate.setter
    def learning_rate(self, value):
        if callable(value):
            self._learning_rate = value
        else:
            self._learning_rate = check_float(value, "learning_rate", type(self).__name__, low=0)

    # --- state -------------------------------------------------------------------------------
    def build(self, variables) -> None:
        """Create the per-variable state for ``variables`` (called once, on first update)."""
        for var in variables:
            if id(var) in self._index:
                continue
            self._index[id(var)] = len(self._variables)
            self._variables.append(var)
            self._slots.append(self.build_state(var))

    def build_state(self, var) -> dict:
        """Slots for one variable (e.g. ``{"momentum": zeros}``); none by default."""
        return {}

    def get_state(self) -> dict:
        """``{"iterations": int, "slots": [ {name: ndarray} per variable ]}`` (NumPy copies)."""
        return {"iterations": self.iterations,
                "slots": [{k: backend.to_numpy(v).copy() for k, v in s.items()}
                          for s in self._slots]}

    def set_state(self, state: dict, variables) -> None:
        """Restore :meth:`get_state`'s output for ``variables`` (same order and shapes)."""
        self.build(variables)
        slots = state["slots"]
        if len(slots) != len(self._slots):
            raise ValueError(f"Optimizer state has {len(slots)} variables; this optimizer "
                             f"tracks {len(self._slots)}.")
        for mine, theirs in zip(self._slots, slots):
            if set(mine) != set(theirs):
                raise ValueError(f"Optimizer state slots {sorted(theirs)} do not match "
                                 f"{sorted(mine)}.")
            for k in mine:
                if mine[k].shape != tuple(theirs[k].shape):
                    raise ValueError(f"Optimizer slot '{k}' has shape {mine[k].shape}; the "
                                     f"saved state has {tuple(theirs[k].shape)}.")
                mine[k][...] = backend.get_array_module(mine[k]).asarray(theirs[k])
        self.iterations = int(state["iterations"])

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Exempt variables (or variables whose name contains a given string) from decay."""
        for v in var_list or []:
            self._exclude_from_weight_decay.add(id(v))
        self._exclude_names = tuple(var_names or ())

    # --- updates -----------------------------------------------------------------------------
    def _clip(self, grads):
        if self.clipvalue is not None:
            return [None if g is None else g.clip(-self.clipvalue, self.clipvalue)
                    for g in grads]
        if self.clipnorm is not None:
            out = []
            for g in grads:
                if g is None:
                    out.append(None)
                    continue
                norm = math.sqrt(float((g * g).sum()))
                out.append(g * (self.clipnorm / norm) if norm > self.clipnorm else g)
            return out
        if self.global_clipnorm is not None:
            total = math.sqrt(sum(float((g * g).sum()) for g in grads if g is not None))
            if total > self.global_clipnorm:
                scale = self.global_clipnorm / total
                return [None if g is None else g * scale for g in grads]
        return grads

    def apply(self, grads, variables) -> None:
        """Update ``variables`` in place from ``grads`` (arrays or tensors, same order)."""
        grads = [g.data if isinstance(g, Tensor) else g for g in grads]
        if len(grads) != len(variables):
            raise ValueError(f"apply: got {len(grads)} gradients for {len(variables)} "
                             "variables.")
        if len(self._index) < len(variables) or any(id(v) not in self._index
                                                    for v in variables):
            self.build(variables)
        grads = self._clip(grads)
        lr = self.learning_rate
        with no_grad():
            for g, var in zip(grads, variables):
                if g is None:
                    continue
                if self.weight_decay and id(var) not in self._exclude_from_weight_decay and \
                        not any(n in getattr(var, "name", "")
                                for n in getattr(self, "_exclude_names", ())):
                    var.data -= (lr * self.weight_decay) * var.data
                self.update_step(g, var.data, lr, self._slots[self._index[id(var)]])
                constraint = getattr(var, "constraint", None)
                if constraint is not None:
                    var.data[...] = constraint(var.data)
        self.iterations += 1

    def apply_gradients(self, grads_and_vars) -> None:
        """Keras's form: ``apply_gradients(zip(grads, vars))``."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def update_step(self, grad, var, lr: float, slots: dict) -> None:  # pragma: no cover
        """Update the array ``var`` in place; ``slots`` is this variable's state."""
        raise NotImplementedError

    # --- configuration -----------------------------------------------------------------------
    def get_config(self) -> dict:
        lr = self._learning_rate
        if hasattr(lr, "get_config"):
            lr = {"class_name": type(lr).__name__, "config": lr.get_config()}
        return {"name": self.name, "learning_rate": lr, "weight_decay": self.weight_decay,
                "clipnorm": self.clipnorm, "clipvalue": self.clipvalue,
                "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            from profond import schedules

            config["learning_rate"] = getattr(schedules, lr["class_name"]).from_config(
                lr["config"])
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(learning_rate={self._learning_rate!r})"
