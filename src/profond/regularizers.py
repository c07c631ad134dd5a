"""Weight penalties added to the training loss: ``L1``, ``L2``, ``L1L2`` (Keras names).

``L1`` pushes weights to exactly zero (sparse models); ``L2`` shrinks them all (weight decay).
The penalty is computed with differentiable ops, so its gradient is exact.

Examples
--------
>>> import profond
>>> from profond import regularizers
>>> float(regularizers.L2(0.5)(profond.tensor([1.0, 2.0])))
2.5
"""

from __future__ import annotations

from profond import ops
from profond._validation import check_float, lookup

__all__ = ["Regularizer", "L1", "L2", "L1L2", "get", "serialize"]


class Regularizer:
    """Base class: ``penalty = regularizer(weight_tensor)`` (a scalar tensor)."""

    def __call__(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v}' for k, v in self.get_config().items())})"


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w ** 2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = check_float(l1, "l1", type(self).__name__, low=0)
        self.l2 = check_float(l2, "l2", type(self).__name__, low=0)

    def __call__(self, x):
        total = None
        if self.l1:
            total = self.l1 * ops.sum(ops.abs(x))
        if self.l2:
            term = self.l2 * ops.sum(ops.square(x))
            total = term if total is None else total + term
        if total is None:
            total = ops.sum(x) * 0.0
        return total

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """``l1 * sum(|w|)`` (Keras default ``l1=0.01``)."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """``l2 * sum(w ** 2)`` (Keras default ``l2=0.01``)."""

    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


_TABLE = {"l1": L1, "l2": L2, "l1l2": L1L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def get(identifier):
    """Resolve None, a name (``"l2"``), a config dict, an instance or a callable."""
    if identifier is None or isinstance(identifier, Regularizer) or callable(identifier):
        return identifier
    if isinstance(identifier, str):
        return lookup(identifier, _TABLE, "regularizer")()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return lookup(identifier["class_name"], _TABLE, "regularizer").from_config(
            identifier.get("config", {}))
    raise ValueError(f"Could not interpret regularizer {identifier!r}: expected None, a name "
                     "('l1', 'l2', 'l1l2'), a config dict or a callable.")


def serialize(reg):
    if reg is None:
        return None
    return {"class_name": type(reg).__name__, "config": reg.get_config()}
