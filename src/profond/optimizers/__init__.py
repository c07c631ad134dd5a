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

from profond import saving
from profond.optimizers.adadelta import Adadelta
from profond.optimizers.adagrad import Adagrad
from profond.optimizers.adam import Adam
from profond.optimizers.adamw import AdamW
from profond.optimizers.base import Optimizer
from profond.optimizers.nadam import Nadam
from profond.optimizers.rmsprop import RMSprop
from profond.optimizers.sgd import SGD
from profond.optimizers import schedules  # Keras's keras.optimizers.schedules

_TABLE = {"sgd": SGD, "adagrad": Adagrad, "rmsprop": RMSprop, "adam": Adam, "adamw": AdamW,
          "nadam": Nadam, "adadelta": Adadelta}
_MODULE_OBJECTS = {**{c.__name__: c for c in _TABLE.values()}, "Optimizer": Optimizer, **_TABLE}
saving.register_builtin_objects("keras.optimizers", "profond.optimizers", _MODULE_OBJECTS)


def register(name: str, cls) -> None:
    """Convenience: ``saving.register_keras_serializable(name=name)(cls)`` for an optimizer
    class, found by :func:`get` and ``compile`` as ``name``."""
    if not (isinstance(cls, type) and issubclass(cls, Optimizer)):
        raise TypeError(f"register: cls must be an Optimizer subclass. Got {cls!r}.")
    saving.register_keras_serializable(name=name)(cls)


def get(identifier) -> Optimizer:
    """Resolve a name (``"sgd"``, ``"adam"`` ...), a serialized dict, a class or an instance.

    Parameters
    ----------
    identifier : str, dict, Optimizer subclass or Optimizer
        A dict is :func:`serialize`'s output (earlier ``{"class_name", "config"}`` dicts too).

    Raises
    ------
    ValueError
        An unknown name (the message lists the valid ones) or something that is none of these.
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        return get(saving.lookup_name(identifier, _TABLE, "optimizer"))
    if isinstance(identifier, dict) and "class_name" in identifier:
        found = deserialize(identifier)
        if isinstance(found, Optimizer):
            return found
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer {identifier!r}: expected a name "
                     f"({sorted(_TABLE)}), a config dict or an Optimizer.")


def serialize(opt: Optimizer) -> dict:
    """Keras's dict (``{"module", "class_name", "config", "registered_name"}``), which
    :func:`get` turns back into an optimizer.

    Examples
    --------
    >>> from profond import optimizers
    >>> optimizers.serialize(optimizers.SGD())["module"]
    'keras.optimizers'
    """
    return saving.serialize_if_named(opt)


def deserialize(config, custom_objects=None):
    """The optimizer :func:`serialize` described."""
    return saving.deserialize_keras_object(config, custom_objects=custom_objects,
                                           module_objects=_MODULE_OBJECTS)


__all__ = ["Optimizer", "SGD", "Adagrad", "RMSprop", "Adam", "AdamW", "Nadam", "Adadelta",
           "get", "register", "serialize", "deserialize", "schedules"]
