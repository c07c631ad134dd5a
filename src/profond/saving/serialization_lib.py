"""Keras 3's serialization dicts: ``serialize_keras_object`` and ``deserialize_keras_object``.

An object is written as in a ``.keras`` file's ``config.json``::

    {"module": "keras.layers", "class_name": "Dense", "config": {...},
     "registered_name": None, "build_config": {"input_shape": [None, 3]}}

A built-in gets Keras's public module and no registered name; a registered custom class its
own module and ``"package>name"``; a function ``"class_name": "function"`` with its name as
``config``. Reading accepts ``"keras.*"`` and ``"profond.*"`` modules, and the dicts of earlier
profond files, ``{"class_name", "config"}`` without a module.

An object that can be named neither way is handled as follows: a function is returned as it is
(an in-memory ``get_config``/``from_config`` still round-trips, and a file writer refuses it);
an instance gets Keras's dict with its own module and class name, which
:func:`retrieve_class_or_fn` cannot find (so a writer can refuse it too).

Loading never runs code from a config: no lambdas, no imports by name; classes and functions
are found among the registered objects and the kinds' built-in tables only.
"""

from __future__ import annotations

import numpy as np

from profond.saving import object_registration as reg

__all__ = ["serialize_keras_object", "deserialize_keras_object", "retrieve_class_or_fn",
           "UnknownObjectError",
           "serialize_if_named", "resolve_identifier"]

PLAIN_TYPES = (str, int, float, bool)


class UnknownObjectError(ValueError):
    """A serialized dict names a class or function that is neither built in nor registered."""

    def __init__(self, message, name):
        super().__init__(message)
        self.name = name


def _is_function(obj) -> bool:
    return callable(obj) and not isinstance(obj, type) and not hasattr(obj, "get_config") \
        and hasattr(obj, "__name__")


def _function_dict(module, name):
    return {"module": module, "class_name": "function", "config": name, "registered_name": name}


def serialize_keras_object(obj):
    """The Keras 3 dict of ``obj`` (plain values, lists and dicts are mapped item by item).

    Parameters
    ----------
    obj : object
        A layer, model, loss, metric, optimizer, schedule, initializer, regularizer,
        constraint, a function, or plain data holding them.

    Returns
    -------
    dict, list or plain value
        JSON-friendly, except functions that have no name (returned as they are).

    Raises
    ------
    TypeError
        An object with neither ``get_config`` nor a name.

    Examples
    --------
    >>> from profond import layers, saving
    >>> config = saving.serialize_keras_object(layers.Dense(2, name="d"))
    >>> config["module"], config["class_name"], config["registered_name"]
    ('keras.layers', 'Dense', None)
    >>> saving.serialize_keras_object(layers.Dense(2).kernel_initializer)
    {'module': 'keras.initializers', 'class_name': 'GlorotUniform', 'config': {'seed': None, \
'input_axes': None, 'output_axes': None}, 'registered_name': None}
    """
    if obj is None or isinstance(obj, PLAIN_TYPES):
        return obj
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(x) for x in obj]
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if isinstance(obj, np.ndarray):
        if obj.ndim == 0:
            return obj.item()
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(),
                                                      "dtype": str(obj.dtype)}}
    if isinstance(obj, np.generic):
        return obj.item()
    if _is_function(obj):
        if reg.is_registered(obj):
            name = reg.get_registered_name(obj)
            return _function_dict(obj.__module__, name)
        public = reg.public_module_of(obj)
        return obj if public is None else _function_dict(*public)
    if not hasattr(obj, "get_config"):
        raise TypeError(f"Cannot serialize {obj!r} of type {type(obj).__name__}: a serializable "
                        "object needs a get_config() method.")
    config = obj.get_config()
    if not isinstance(config, dict):
        raise TypeError(f"The get_config() of {obj!r} must return a dict. Got {config!r}.")
    cls = type(obj)
    public = None if reg.is_registered(cls) else reg.public_module_of(cls)
    if public is not None:
        module, class_name, registered = public[0], cls.__name__, None
    else:
        module, class_name = cls.__module__, cls.__name__
        registered = reg.get_registered_name(cls)
    out = {"module": module, "class_name": class_name,
           "config": serialize_keras_object(config), "registered_name": registered}
    build = obj.get_build_config() if hasattr(obj, "get_build_config") else None
    if build is not None:
        out["build_config"] = serialize_keras_object(build)
    return out


def serialize_if_named(obj):
    """:func:`serialize_keras_object` of ``obj`` when a loader can find its class or function
    by name (built in or registered); ``obj`` as it is otherwise (a name, None, a plain
    function, an instance of an unregistered class), for the kinds' ``serialize``: an in-memory
    ``get_config``/``from_config`` still round-trips, and a file writer refuses it.

    Examples
    --------
    >>> from profond import saving
    >>> def mine(x):
    ...     return x
    >>> saving.serialize_if_named(mine) is mine
    True
    """
    if obj is None or isinstance(obj, PLAIN_TYPES):
        return obj
    target = obj if _is_function(obj) else type(obj)
    if reg.is_registered(target) or reg.public_module_of(target) is not None:
        return serialize_keras_object(obj)
    return obj


def _object_dict(config) -> bool:
    return isinstance(config, dict) and isinstance(config.get("class_name"), str)


def retrieve_class_or_fn(config, custom_objects=None, module_objects=None):
    """The class or function a serialized dict names, without creating anything.

    Looked up, in order: by registered name among the custom objects (``custom_objects``, the
    current :func:`custom_object_scope`, the registered ones); in the built-in table of the
    dict's ``"module"``; in ``module_objects`` (a kind's table, given by the kind); and, for a
    dict without a module (earlier profond files), by ``"package>name"`` suffix among the
    registered objects, then in the one built-in table that has the name.

    Raises
    ------
    ValueError
        Nothing has that name; the message says how to register it.
    """
    custom = reg.scope_and_custom_objects(custom_objects)
    class_name, module = config["class_name"], config.get("module")
    is_function = class_name == "function"
    name = config.get("config") if is_function else class_name
    if not isinstance(name, str):
        raise ValueError(f"A serialized function needs its name as 'config'. Got {config!r}.")
    for key in (config.get("registered_name"), name):
        if isinstance(key, str) and key in custom:
            return custom[key]
    if module is not None:
        found = reg.find_by_name(reg.builtin_objects(module) or {}, name)
        if found is not None:
            return found
    if module_objects is not None:
        found = reg.find_by_name(module_objects, name)
        if found is not None:
            return found
    if module is None or is_function:
        found = reg.find_by_short_name(custom, name)
        if found is not None:
            return found
    if module is None:
        tables = [reg.builtin_objects(m) for m in reg.builtin_modules()]
        matches = {id(v): v for v in (reg.find_by_name(t, name) for t in tables) if v is not None}
        if len(matches) == 1:
            return next(iter(matches.values()))
    what = "function" if is_function else "class"
    raise UnknownObjectError(f"Unknown {what} {name!r} (module {module!r}): it is neither built "
                             "in nor registered. Register custom classes and functions with "
                             "@profond.saving.register_keras_serializable() (run before loading "
                             "too), or pass them in custom_objects / custom_object_scope.", name)


def _arrays_back(value):
    """``value`` with the arrays held by value (``"__numpy__"`` dicts) turned back into arrays;
    named objects are left for their owner's ``from_config`` to resolve."""
    if isinstance(value, list):
        return [_arrays_back(v) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("class_name") == "__numpy__":
        return np.array(value["config"]["value"], dtype=value["config"]["dtype"])
    return {k: _arrays_back(v) for k, v in value.items()}


def deserialize_keras_object(config, custom_objects=None, module_objects=None, safe_mode=True):
    """Re-create what :func:`serialize_keras_object` wrote.

    Parameters
    ----------
    config : dict, list, str or plain value
        A Keras 3 dict (``{"module", "class_name", "config", "registered_name"}``, with
        ``"build_config"`` for a built layer), an earlier profond ``{"class_name", "config"}``
        dict, a name, or plain data holding them.
    custom_objects : dict, optional
        ``{name: class or function}`` to find besides the registered ones.
    module_objects : dict, optional
        A kind's own table (``{name: class or function}``); a bare name is looked up there.
    safe_mode : bool, default True
        Kept for Keras's signature: profond never loads code (lambdas) from a config.

    Returns
    -------
    object

    Examples
    --------
    >>> from profond import saving, optimizers
    >>> adam = saving.deserialize_keras_object({"module": "keras.optimizers",
    ...     "class_name": "Adam", "config": {"learning_rate": 0.01}, "registered_name": None})
    >>> adam
    Adam(learning_rate=0.01)
    """
    if config is None:
        return None
    if isinstance(config, str):
        custom = reg.scope_and_custom_objects(custom_objects)
        if config in custom:
            return custom[config]
        if module_objects is None:
            return config
        found = reg.find_by_name(module_objects, config)
        if found is None:
            return config
        return found.from_config({}) if isinstance(found, type) else found
    if isinstance(config, PLAIN_TYPES):
        return config
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(c, custom_objects, module_objects, safe_mode)
                for c in config]
    if not isinstance(config, dict):
        return config  # an object kept as it is in an in-memory config
    if not _object_dict(config):
        return {k: deserialize_keras_object(v, custom_objects, None, safe_mode)
                for k, v in config.items()}
    class_name = config["class_name"]
    inner = config.get("config")
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "__lambda__":
        raise ValueError("A config holds a lambda: profond never loads code from a file. "
                         "Use a named function registered with "
                         "@profond.saving.register_keras_serializable().")
    found = retrieve_class_or_fn(config, custom_objects, module_objects)
    if not isinstance(found, type):
        return found  # a function (or a registered instance)
    if not hasattr(found, "from_config"):
        raise ValueError(f"Cannot re-create {class_name!r}: the class has no from_config().")
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        raise ValueError(f"The 'config' of {class_name!r} must be a dict. Got {inner!r}.")
    with reg.CustomObjectScope(custom_objects):
        instance = found.from_config(_arrays_back(inner))
        build = config.get("build_config")
        if build and not getattr(instance, "built", True) and hasattr(instance,
                                                                       "build_from_config"):
            instance.build_from_config(build)
    return instance


def resolve_identifier(identifier, module_objects, kind, base, allow_none=True):
    """A kind's ``get``: None (when ``allow_none``), an instance of ``base`` as it is, a
    subclass or a name of a class (called with no arguments), a name of a function, a
    serialized dict, or any other callable (returned as it is).

    Parameters
    ----------
    identifier : object
    module_objects : dict
        The kind's table of built-in names.
    kind : str
        For messages (``"initializer"``).
    base : type
        The kind's base class.
    allow_none : bool, default True

    Raises
    ------
    ValueError
        An unknown name (the message lists the valid ones) or something that is none of these.

    Examples
    --------
    >>> from profond import initializers, saving
    >>> saving.resolve_identifier("ones", {"ones": initializers.Ones}, "initializer",
    ...                           initializers.Initializer)
    Ones()
    """
    if (identifier is None and allow_none) or isinstance(identifier, base):
        return identifier
    if isinstance(identifier, str):
        identifier = reg.lookup_name(identifier, module_objects, kind)
    elif isinstance(identifier, dict) and "class_name" in identifier:
        try:
            identifier = deserialize_keras_object(identifier, module_objects=module_objects)
        except UnknownObjectError as err:
            raise ValueError(f"Unknown {kind} {err.name!r}. Valid names: "
                             f"{sorted(module_objects)}, or one registered with "
                             "@profond.saving.register_keras_serializable().") from None
        if isinstance(identifier, base) or not isinstance(identifier, type):
            return identifier
    if isinstance(identifier, type) and issubclass(identifier, base):
        return identifier()
    if callable(identifier) and not isinstance(identifier, type):
        return identifier
    a_base = ("an " if base.__name__[0] in "AEIOU" else "a ") + base.__name__
    raise ValueError(f"Could not interpret {kind} {identifier!r}: expected "
                     f"{'None, ' if allow_none else ''}a name ({sorted(module_objects)}), a "
                     f"config dict, {a_base} or a callable.")
