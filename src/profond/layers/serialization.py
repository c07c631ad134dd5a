"""Layer classes by name: look-up for configs, recipes and saved models, through
:mod:`profond.saving` (every ``Layer`` subclass is found by its class name; profond's own are
written as Keras's ``"keras.layers"``; a user's is saved once registered)."""

from __future__ import annotations

from profond import saving
from profond.layers.base import Layer

__all__ = ["get", "register", "serialize", "deserialize"]


def _all_classes() -> dict:
    """Every public ``Layer`` subclass by class name (profond's first, then users')."""
    found, stack = {}, list(Layer.__subclasses__())
    while stack:
        cls = stack.pop()
        if not cls.__name__.startswith("_"):
            if cls.__module__.startswith("profond.") or cls.__name__ not in found:
                found[cls.__name__] = cls
        stack.extend(cls.__subclasses__())
    return found


def _builtin_classes() -> dict:
    return {n: c for n, c in _all_classes().items() if c.__module__.startswith("profond.")}


saving.register_builtin_objects("keras.layers", "profond.layers", _builtin_classes)


def register(cls=None, name=None):
    """Convenience: ``saving.register_keras_serializable(name=name)`` for a layer class
    (usable as a decorator, with or without arguments)."""
    deco = saving.register_keras_serializable(name=name)
    return deco(cls) if cls is not None else deco


def get(name: str) -> type:
    """The layer class named ``name`` (any ``Layer`` subclass, or a registered one).

    Raises
    ------
    ValueError
        An unknown name; the message lists the valid ones.

    Examples
    --------
    >>> from profond import layers
    >>> layers.get("Dense") is layers.Dense
    True
    """
    found = saving.lookup_name(name, _all_classes(), "layer")
    if not (isinstance(found, type) and issubclass(found, Layer)):
        raise ValueError(f"Unknown layer {name!r}: it names {found!r}, which is not a Layer.")
    return found


def serialize(layer) -> dict:
    """Keras's dict of ``layer`` (``{"module", "class_name", "config", "registered_name"}``,
    with ``"build_config"`` once built).

    Examples
    --------
    >>> from profond import layers
    >>> layers.serialize(layers.Flatten(name="f"))["class_name"]
    'Flatten'
    """
    return saving.serialize_keras_object(layer)


def deserialize(config, custom_objects=None):
    """The layer :func:`serialize` described (earlier ``{"class_name", "config"}`` dicts
    too); a class is found among all ``Layer`` subclasses and the registered objects.

    Raises
    ------
    ValueError
        A config that is not a dict naming a known layer class.
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A layer config must be a dict with 'class_name' and 'config'. "
                         f"Got {config!r}.")
    try:
        return saving.deserialize_keras_object(config, custom_objects=custom_objects,
                                               module_objects=_all_classes())
    except saving.UnknownObjectError as err:
        raise ValueError(f"Unknown layer {config['class_name']!r}: {err}") from None
