"""Optimizers with Keras's names, defaults and update rules; ``get("sgd")`` resolves names."""

from profond._validation import lookup
from profond.optimizers.base import Optimizer
from profond.optimizers.sgd import SGD

_TABLE = {"sgd": SGD}


def register(name: str, cls) -> None:
    """Make an optimizer class available by name to ``get`` and ``compile``."""
    _TABLE[name.lower()] = cls


def get(identifier) -> Optimizer:
    """Resolve a name (``"sgd"``, ``"adam"`` ...), a config dict, a class or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return lookup(identifier, _TABLE, "optimizer")()
    if isinstance(identifier, dict) and "class_name" in identifier:
        return lookup(identifier["class_name"], {**_TABLE, **{c.__name__.lower(): c for c in
                                                              _TABLE.values()}},
                      "optimizer").from_config(identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer {identifier!r}: expected a name "
                     f"({sorted(_TABLE)}), a config dict or an Optimizer.")


def serialize(opt: Optimizer) -> dict:
    return {"class_name": type(opt).__name__, "config": opt.get_config()}


__all__ = ["Optimizer", "SGD", "get", "register", "serialize"]
