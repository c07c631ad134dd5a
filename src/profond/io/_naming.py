"""What a model file can name: serialized configs refused, before anything is written, when
a loader could not find a class or function of them again (shared by profond's
``.safetensors`` model files and Keras's ``.keras`` files)."""

from __future__ import annotations

import inspect

from profond import saving

__all__ = ["serialized", "check_config_round_trips"]


_WAY_OUT = ("Register it with @profond.saving.register_keras_serializable() (run before saving "
            "and before loading), use a built-in, or save the weights alone with "
            "model.save_weights(path).")
_JSON_LEAVES = (str, int, float, bool, type(None))


def _owner_of(config, owner):
    """A layer's dict renames the owner of what it holds (layers carry a name and trainable)."""
    inner = config.get("config")
    if isinstance(inner, dict) and "name" in inner and "trainable" in inner:
        return f"layer '{inner['name']}'"
    return owner


def _refuse_unnamed(value, owner, key):
    """Raise, naming ``owner`` and ``key``, on anything in a serialized ``value`` that a loader
    could not find again: a value JSON cannot hold (a plain function kept as it is), or a
    ``{"class_name", ...}`` dict whose class or function is neither built in nor registered."""
    if isinstance(value, _JSON_LEAVES):
        return
    if isinstance(value, list):
        for item in value:
            _refuse_unnamed(item, owner, key)
        return
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise ValueError(f"Cannot save {owner}: its '{key}' is {value!r}, which a model file "
                         f"cannot name. {_WAY_OUT}")
    if value.get("class_name") in ("__numpy__", "__keras_tensor__"):
        return  # an array held by value, a functional model's link (Keras's forms): no name
    if isinstance(value.get("class_name"), str) and "config" in value:
        inner_owner = _owner_of(value, owner)
        try:
            saving.retrieve_class_or_fn(value)
        except ValueError:
            shown = (f"the function {value['config']!r}" if value["class_name"] == "function"
                     else f"{value['class_name']} (module {value.get('module')!r})")
            if inner_owner != owner:
                raise ValueError(f"Cannot save {inner_owner}: its class is {shown}, which a "
                                 f"model file cannot name. {_WAY_OUT}") from None
            raise ValueError(f"Cannot save {owner}: its '{key}' is {shown}, which a model "
                             f"file cannot name. {_WAY_OUT}") from None
        owner = inner_owner
    for k, v in value.items():
        _refuse_unnamed(v, owner, k)


def serialized(obj, owner, key):
    """``saving.serialize_keras_object(obj)``, refused as a whole if a loader could not name
    a part of it."""
    try:
        spec = saving.serialize_keras_object(obj)
    except TypeError as err:
        raise ValueError(f"Cannot save {owner}: {err} {_WAY_OUT}") from None
    _refuse_unnamed(spec, owner, key)
    return spec


def check_config_round_trips(model, spec):
    """A subclassed model must have a ``get_config`` whose output its ``__init__`` accepts."""
    cls = type(model)
    definers = [c for c in cls.__mro__ if "from_config" in vars(c)]
    if len(definers) > 1 and definers[0] is not definers[-1]:
        return  # a class between rebuilds the model from its config its own way
    try:
        inspect.signature(cls).bind(**spec["config"])
    except TypeError:
        raise ValueError(f"Cannot save model '{model.name}': {cls.__name__}.__init__ does not "
                         f"accept its get_config() {sorted(spec['config'])}. Implement "
                         "get_config (and from_config) so the model can be rebuilt, or save "
                         "the weights alone with model.save_weights(path).") from None


