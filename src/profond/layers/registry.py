"""Layer classes by name, for configs, saved models and recipes."""

from __future__ import annotations

_REGISTRY: dict[str, type] = {}


def register(cls=None, name: str | None = None):
    """Register a layer class (usable as a decorator) so configs can name it."""

    def deco(c):
        _REGISTRY[name or c.__name__] = c
        return c

    return deco(cls) if cls is not None else deco


def _all_classes():
    from profond.layers.base import Layer

    found = {}
    stack = list(Layer.__subclasses__())
    while stack:
        c = stack.pop()
        if not c.__name__.startswith("_"):
            found.setdefault(c.__name__, c)
        stack.extend(c.__subclasses__())
    found.update(_REGISTRY)
    return found


def get(name: str) -> type:
    """The layer class named ``name`` (built-in or registered)."""
    classes = _all_classes()
    if name not in classes:
        raise ValueError(f"Unknown layer {name!r}. Known layers: {sorted(classes)}.")
    return classes[name]


def serialize(layer) -> dict:
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(config: dict):
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"A layer config must be a dict with 'class_name' and 'config'. "
                         f"Got {config!r}.")
    cls = get(config["class_name"])
    return cls.from_config(dict(config.get("config", {})))
