"""Optimizers with Keras's names, defaults and update rules; ``get("adam")`` resolves names.

================  ====================================================  ======================
name              class                                                 paper
================  ====================================================  ======================
``"sgd"``         :class:`SGD` (momentum, Nesterov)                     Polyak 1964, Sutskever 2013
``"adagrad"``     :class:`Adagrad`                                      Duchi et al. 2011
``"rmsprop"``     :class:`RMSprop` (momentum, centered)                 Hinton 2012
``"adam"``        :class:`Adam` (amsgrad)                               Kingma & Ba 2015
``"adamw"``       :class:`AdamW`                                        Loshchilov & Hutter 2019
``"nadam"``       :class:`Nadam`                                        Dozat 2016
``"adadelta"``    :class:`Adadelta`                                     Zeiler 2012
================  ====================================================  ======================

Examples
--------
>>> from profond import optimizers
>>> optimizers.get("adam")
Adam(learning_rate=0.001)
"""

from profond._validation import lookup
from profond.optimizers.adadelta import Adadelta
from profond.optimizers.adagrad import Adagrad
from profond.optimizers.adam import Adam
from profond.optimizers.adamw import AdamW
from profond.optimizers.base import Optimizer
from profond.optimizers.nadam import Nadam
from profond.optimizers.rmsprop import RMSprop
from profond.optimizers.sgd import SGD

_TABLE = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW,
          "nadam": Nadam, "adadelta": Adadelta}


def register(name: str, cls) -> None:
    """Make an optimizer class available by name to ``get`` and ``compile``."""
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
        raise TypeError(f"register: cls must be an Optimizer subclass. Got {cls!r}.")
    _TABLE[name.lower()] = cls


def get(identifier) -> Optimizer:
    """Resolve a name (``"sgd"``, ``"adam"`` ...), a config dict, a class or an instance.

    Parameters
    ----------
    identifier : str, dict, Optimizer subclass or Optimizer
        A dict is ``{"class_name": "Adam", "config": {...}}`` (:func:`serialize`'s output).
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return lookup(identifier, _TABLE, "optimizer")()
    if isinstance(identifier, dict) and "class_name" in identifier:
        table = {**_TABLE, **{c.__name__.lower(): c for c in _TABLE.values()}}
        return lookup(identifier["class_name"], table, "optimizer").from_config(
            identifier.get("config", {}))
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer {identifier!r}: expected a name "
                     f"({sorted(_TABLE)}), a config dict or an Optimizer.")


def serialize(opt: Optimizer) -> dict:
    """``{"class_name": ..., "config": ...}``, which :func:`get` turns back into an optimizer."""
    return {"class_name": type(opt).__name__, "config": opt.get_config()}


__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Nadam", "Adadelta",
           "get", "register", "serialize"]
