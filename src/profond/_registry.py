"""Names for the objects a layer config holds by reference (initializers, regularizers): the
built-in classes under their class names and Keras's aliases, plus what users ``register``.

A name is looked up as given among the registered names first, then case-insensitively among
all. An object gets a name only if looking that name up finds the object again, so a
registered name that hides a built-in leaves the built-in unnamed rather than misnamed.

Examples
--------
>>> from profond._registry import Registry
>>> class Init:
...     def get_config(self):
...         return {}
...     @classmethod
...     def from_config(cls, config):
...         return cls(**config)
>>> class Ones(Init):
...     pass
>>> names = Registry("initializer", Init, [Ones], {"one": Ones})
>>> type(names.get("ONE")).__name__, names.serialize(Ones())
('Ones', {'class_name': 'Ones', 'config': {}})
"""

from __future__ import annotations

from profond._validation import lookup


class Registry:
    """Look-up and naming for one kind of object.

    Parameters
    ----------
    kind : str
        What the objects are, for messages (``"regularizer"``).
    base : type
        Their base class; its subclasses are named by ``{"class_name", "config"}`` dicts.
    classes : iterable of type
        The built-in classes, found under their class names.
    aliases : dict
        Further built-in names (Keras's snake-case ones).
    """

    def __init__(self, kind: str, base: type, classes, aliases: dict):
        self.kind, self.base = kind, base
        self.classes = {cls.__name__: cls for cls in classes}
        self.table = {k.lower(): v for k, v in {**self.classes, **aliases}.items()}
        self.custom: dict = {}
        self._a_base = ("an " if base.__name__[0] in "AEIOU" else "a ") + base.__name__

    def register(self, name: str, fn) -> None:
        """Make ``fn`` (a subclass of the base or a function) known as ``name``."""
        if not isinstance(name, str) or not name:
            raise ValueError(f"The 'name' parameter of register must be a non-empty str. "
                             f"Got {name!r} instead.")
        is_class = isinstance(fn, type) and issubclass(fn, self.base)
        if not is_class and (isinstance(fn, type) or not callable(fn)):
            raise ValueError(f"The 'fn' parameter of register must be {self._a_base} "
                             f"subclass or a function. Got {fn!r} instead.")
        self.custom[name] = fn

    def resolve(self, name: str):
        """The class or function known as ``name``; ``ValueError`` listing the valid names."""
        if name in self.custom:
            return self.custom[name]
        table = {**self.table, **{k.lower(): v for k, v in self.custom.items()}}
        return lookup(name, table, self.kind)

    def name_of(self, obj):
        """The name under which :meth:`resolve` finds ``obj`` (a class or function), or None."""
        names = [n for n, f in self.custom.items() if f is obj]
        if self.classes.get(getattr(obj, "__name__", None)) is obj:
            names.insert(0, obj.__name__)  # a built-in keeps its own name first
        for name in names:
            try:
                if self.resolve(name) is obj:
                    return name
            except ValueError:
                pass
        return None

    def get(self, identifier, allow_none=True):
        """Resolve None (when ``allow_none``), a name (a class is called with no arguments), a
        ``{"class_name", "config"}`` dict, an instance or subclass of the base, or any other
        callable (returned as it is)."""
        if (identifier is None and allow_none) or isinstance(identifier, self.base):
            return identifier
        if isinstance(identifier, type) and issubclass(identifier, self.base):
            return identifier()
        if isinstance(identifier, str):
            found = self.resolve(identifier)
            return found() if isinstance(found, type) else found
        if isinstance(identifier, dict) and "class_name" in identifier:
            cls = self.resolve(identifier["class_name"])
            if not isinstance(cls, type):
                raise ValueError(f"The {self.kind} {identifier['class_name']!r} is a function: "
                                 "name it by its string, not by a config dict.")
            return cls.from_config(dict(identifier.get("config") or {}))
        if callable(identifier) and not isinstance(identifier, type):
            return identifier
        raise ValueError(f"Could not interpret {self.kind} {identifier!r}: expected "
                         f"{'None, ' if allow_none else ''}a name ({sorted(self.table)}), a "
                         f"config dict, {self._a_base} or a callable.")

    def serialize(self, obj):
        """``{"class_name", "config"}`` for an instance of a named class, the name of a named
        function, and ``obj`` itself when it has no name (for ``model.save`` to refuse)."""
        if isinstance(obj, self.base):
            name = self.name_of(type(obj))
            return obj if name is None else {"class_name": name, "config": obj.get_config()}
        name = self.name_of(obj)
        return obj if name is None else name
