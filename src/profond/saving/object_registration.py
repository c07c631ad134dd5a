"""The one registry of named objects: custom classes and functions under ``"package>name"``,
and each kind's built-in table under its Keras module name.

Custom objects follow Keras 3 (``register_keras_serializable``, ``get_custom_objects``,
``custom_object_scope``, ``get_registered_name``, ``get_registered_object``). Built-in objects
are not registered one by one: each kind (activations, layers, losses ...) hands this module
its own table once, under Keras's public module (``"keras.layers"``) and its profond package
(``"profond.layers"``), with :func:`register_builtin_objects`. This floor therefore never
imports a kind: the kinds sit above it and call down.

Examples
--------
>>> from profond import saving
>>> @saving.register_keras_serializable(package="Demo")
... def double(x):
...     return 2 * x
>>> saving.get_registered_name(double)
'Demo>double'
>>> saving.get_registered_object("Demo>double") is double
True
"""

from __future__ import annotations

import inspect
import threading

__all__ = ["register_keras_serializable", "get_registered_name", "get_registered_object",
           "get_custom_objects", "custom_object_scope", "CustomObjectScope",
           "register_builtin_objects", "builtin_objects", "public_module_of", "find_by_name",
           "lookup_name"]

_GLOBAL_CUSTOM_OBJECTS: dict = {}  # "package>name" -> class or function
_GLOBAL_CUSTOM_NAMES: dict = {}  # class or function -> "package>name"
_SCOPE = threading.local()  # the custom_object_scope dict of this thread
_BUILTINS: dict = {}  # Keras module -> (profond package, table or function giving it)
_PACKAGES: dict = {}  # profond package -> Keras module


def _check_name(value, param):
    if not isinstance(value, str) or not value or ">" in value:
        raise ValueError(f"The '{param}' parameter of register_keras_serializable must be a "
                         f"non-empty str without '>'. Got {value!r} instead.")


def _same_definition(a, b) -> bool:
    """The same source defined twice (a module or notebook cell run again)."""
    return (getattr(a, "__module__", None), getattr(a, "__qualname__", None)) == \
        (getattr(b, "__module__", None), getattr(b, "__qualname__", None))


def register_keras_serializable(package="Custom", name=None):
    """Register a class or a function under ``"package>name"`` so that configs and saved
    models can name it (a decorator, as Keras's).

    Parameters
    ----------
    package : str, default "Custom"
    name : str, optional
        Defaults to the object's ``__name__``.

    Returns
    -------
    callable
        The decorator; it returns the object unchanged.

    Raises
    ------
    ValueError
        A class without ``get_config``, or a name already taken by a different object (the same
        definition run again, as in a notebook, replaces the old one).

    Examples
    --------
    >>> from profond import layers, saving
    >>> @saving.register_keras_serializable(package="Demo")
    ... class Twice(layers.Layer):
    ...     def call(self, x):
    ...         return 2 * x
    >>> saving.serialize_keras_object(Twice(name="t"))["registered_name"]
    'Demo>Twice'
    """
    _check_name(package, "package")
    if name is not None:
        _check_name(name, "name")

    def decorator(obj):
        if not callable(obj):
            raise ValueError("The object given to register_keras_serializable must be a class "
                             f"or a function. Got {obj!r} instead.")
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(f"Cannot register the class {obj.__name__}: it has no get_config() "
                             "method, so a config could not re-create it.")
        key = f"{package}>{name if name is not None else obj.__name__}"
        taken = _GLOBAL_CUSTOM_OBJECTS.get(key)
        if taken is not None and taken is not obj and not _same_definition(taken, obj):
            raise ValueError(f"Cannot register {obj!r} as {key!r}: that name already belongs to "
                             f"{taken!r}. Give another name or package.")
        if taken is not None:
            _GLOBAL_CUSTOM_NAMES.pop(taken, None)
        _GLOBAL_CUSTOM_OBJECTS[key] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = key
        return obj

    return decorator


def get_registered_name(obj) -> str:
    """The name ``obj`` was registered under (or is known by in the current
    :func:`custom_object_scope`, or was put in :func:`get_custom_objects` under), else its
    ``__name__`` (as Keras).

    Examples
    --------
    >>> from profond import saving
    >>> saving.get_registered_name(len)
    'len'
    """
    try:
        return _GLOBAL_CUSTOM_NAMES[obj]
    except (KeyError, TypeError):  # not registered, or not hashable
        pass
    for table in (_scope_objects(), _GLOBAL_CUSTOM_OBJECTS):
        name = next((k for k, v in table.items() if v is obj), None)
        if name is not None:
            return name
    return obj.__name__


def is_registered(obj) -> bool:
    """Whether ``obj`` has a registered name (globally or in the current scope)."""
    try:
        if obj in _GLOBAL_CUSTOM_NAMES:
            return True
    except TypeError:
        return False
    return any(v is obj for v in _scope_objects().values()) or \
        any(v is obj for v in _GLOBAL_CUSTOM_OBJECTS.values())


def _scope_objects() -> dict:
    return getattr(_SCOPE, "objects", {})


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The class or function known as ``name``: in the current :func:`custom_object_scope`,
    then among the registered objects, then in ``custom_objects``, then in ``module_objects``;
    None when none has it.

    Examples
    --------
    >>> from profond import saving
    >>> with saving.custom_object_scope({"mine": abs}):
    ...     saving.get_registered_object("mine") is abs
    True
    >>> saving.get_registered_object("mine") is None
    True
    """
    for table in (_scope_objects(), _GLOBAL_CUSTOM_OBJECTS, custom_objects or {},
                  module_objects or {}):
        if name in table:
            return table[name]
    return None


def get_custom_objects() -> dict:
    """The live global dict of registered objects (``"package>name"`` -> object), as Keras's.

    Objects added to it directly are found by that key; :func:`custom_object_scope` adds
    nothing to it.
    """
    return _GLOBAL_CUSTOM_OBJECTS


class CustomObjectScope:
    """Make ``custom_objects`` (``{name: class or function}``) known to deserialization inside
    a ``with`` block, for this thread.

    Parameters
    ----------
    custom_objects : dict, optional

    Examples
    --------
    >>> from profond import saving
    >>> def halve(x):
    ...     return x / 2
    >>> with saving.custom_object_scope({"halve": halve}):
    ...     saving.deserialize_keras_object("halve") is halve
    True
    """

    def __init__(self, custom_objects=None):
        if custom_objects is not None and not isinstance(custom_objects, dict):
            raise ValueError("The 'custom_objects' parameter of custom_object_scope must be a "
                             f"dict or None. Got {custom_objects!r} instead.")
        self.custom_objects = dict(custom_objects or {})
        self._backup = None

    def __enter__(self):
        self._backup = _scope_objects()
        _SCOPE.objects = {**self._backup, **self.custom_objects}
        return self

    def __exit__(self, *exc):
        _SCOPE.objects = self._backup


custom_object_scope = CustomObjectScope


def scope_and_custom_objects(custom_objects=None) -> dict:
    """All custom objects visible now: ``custom_objects``, the scope's, the registered ones."""
    return {**(custom_objects or {}), **_scope_objects(), **_GLOBAL_CUSTOM_OBJECTS}


# --- built-in tables -----------------------------------------------------------------------------
def register_builtin_objects(module, package, objects) -> None:
    """Make a kind's built-in table known under Keras's ``module`` and profond's ``package``.

    Parameters
    ----------
    module : str
        Keras's public module (``"keras.layers"``), written in serialized dicts.
    package : str
        The profond package that defines the objects (``"profond.layers"``), also accepted
        when reading; an object defined under it is serialized with ``module`` first.
    objects : dict or callable
        ``{name: class or function}`` (aliases included), or a function returning it (for
        tables that grow, such as all ``Layer`` subclasses).
    """
    _BUILTINS[module] = (package, objects)
    _PACKAGES[package] = module


def builtin_objects(module):
    """The table registered under ``module`` (a Keras module or a profond package), or None."""
    entry = _BUILTINS.get(module) or _BUILTINS.get(_PACKAGES.get(module, ""))
    if entry is None:
        return None
    objects = entry[1]
    return objects() if callable(objects) else objects


def builtin_modules() -> list:
    """The Keras modules whose built-in tables are registered, in registration order."""
    return list(_BUILTINS)


def find_by_short_name(custom, name):
    """The custom object registered as ``"package>name"`` (case ignored): the only one, else
    the one in the ``"Custom"`` package (where the kinds' ``register(name, obj)`` put theirs),
    else None.

    Raises
    ------
    ValueError
        Several packages have ``name`` and none is ``"Custom"``.
    """
    suffix = f">{name}".lower()
    matches = {k: v for k, v in custom.items() if k.lower().endswith(suffix)}
    if len({id(v) for v in matches.values()}) == 1:
        return next(iter(matches.values()))
    default = find_by_name({k: v for k, v in matches.items() if k.lower().startswith("custom>")},
                           f"Custom>{name}")
    if default is not None or not matches:
        return default
    raise ValueError(f"The name {name!r} is ambiguous: it may be any of {sorted(matches)}. "
                     "Give the full registered name.")


def find_by_name(table, name):
    """``table[name]``, else the entry whose key equals ``name`` ignoring case, else None."""
    if not isinstance(name, str):
        return None
    if name in table:
        return table[name]
    lower = name.lower()
    return next((v for k, v in table.items() if isinstance(k, str) and k.lower() == lower), None)


def _name_in(table, obj):
    """The key under which ``table`` holds ``obj`` (its ``__name__`` first), or None."""
    name = getattr(obj, "__name__", None)
    if name is not None and table.get(name) is obj:
        return name
    return next((k for k, v in table.items() if v is obj), None)


def public_module_of(obj):
    """``(module, name)`` of a built-in class or function, or None.

    Among the tables holding ``obj``, the one whose profond package defines it wins (``Sequential``
    is a layer, but its module is the models'); otherwise the first registered.
    """
    found = []
    for module, (package, _) in _BUILTINS.items():
        name = _name_in(builtin_objects(module), obj)
        if name is not None:
            defined_here = getattr(obj, "__module__", "").startswith(package)
            found.append((not defined_here, -len(package) if defined_here else 0, module, name))
    if not found:
        return None
    found.sort(key=lambda entry: entry[:2])
    return found[0][2], found[0][3]


def lookup_name(name, module_objects, kind):
    """What a kind's ``get(name)`` finds: a custom object registered under exactly ``name``,
    else ``module_objects``'s entry (case ignored), else the one custom object registered as
    ``"package>name"`` (case ignored).

    Raises
    ------
    ValueError
        Unknown ``name``; the message lists the valid names.

    Examples
    --------
    >>> from profond.saving import lookup_name
    >>> lookup_name("Relu", {"relu": abs}, "activation") is abs
    True
    """
    custom = scope_and_custom_objects()
    if name in custom:
        return custom[name]
    found = find_by_name(module_objects, name)
    if found is not None:
        return found
    found = find_by_short_name(custom, name)
    if found is not None:
        return found
    raise ValueError(f"Unknown {kind} {name!r}. Valid names: "
                     f"{sorted(k for k in module_objects if isinstance(k, str))}, or one "
                     "registered with @profond.saving.register_keras_serializable().")
