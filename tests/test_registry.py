"""Custom initializers and regularizers by name (the shared ``profond._registry``): what
``register`` accepts, what ``serialize`` names, and what it gives back as it is."""

import numpy as np
import pytest

import profond
from profond import initializers, regularizers


class _Fill(initializers.Constant):
    """A custom initializer class (Constant's arguments under another name)."""


class _Squares(regularizers.L2):
    """A custom regularizer class (L2's arguments under another name)."""


def _twos(shape, dtype=None):
    return np.full(shape, 2.0, dtype=dtype)


def _penalty(w):
    return 0.1 * profond.ops.sum(w * w)


# module, "a Base" in messages, custom class, its config, custom function, a built-in class.
CASES = [(initializers, "an Initializer", _Fill, {"value": 3.0}, _twos, initializers.Zeros),
         (regularizers, "a Regularizer", _Squares, {"l2": 0.5}, _penalty, regularizers.L1)]


@pytest.fixture(params=CASES, ids=["initializers", "regularizers"])
def case(request, monkeypatch):
    """One module's case, with a registry private to the test."""
    monkeypatch.setattr(request.param[0]._NAMES, "custom", {})
    return request.param


def test_serialize_returns_what_it_cannot_name(case):
    module, _, cls, config, fn, _ = case
    for obj in (fn, cls(**config), lambda *args: None):
        assert module.serialize(obj) is obj  # model.save refuses it; get_config keeps it
        assert module.get(module.serialize(obj)) is obj


def test_registered_objects_serialize_to_their_name(case):
    module, _, cls, config, fn, _ = case
    module.register("Custom", cls)
    module.register("custom_fn", fn)
    named = module.serialize(cls(**config))
    assert named == {"class_name": "Custom", "config": config}
    clone = module.get(named)
    assert type(clone) is cls and clone.get_config() == config
    assert type(module.get("CUSTOM")) is cls  # case-insensitive, like the built-ins
    assert module.serialize(fn) == "custom_fn" and module.get("custom_fn") is fn
    with pytest.raises(ValueError, match="'custom_fn' is a function: name it by its string"):
        module.get({"class_name": "custom_fn", "config": {}})


def test_a_registered_name_that_hides_a_built_in_leaves_the_built_in_unnamed(case):
    module, _, cls, config, fn, builtin = case
    module.register(builtin.__name__, fn)
    hidden = builtin()
    assert module.get(builtin.__name__) is fn
    assert module.serialize(hidden) is hidden  # its name would find fn now
    kept = cls.__mro__[1]()  # another built-in keeps its name
    assert module.serialize(kept)["class_name"] == cls.__mro__[1].__name__


@pytest.mark.parametrize("name, fn, message", [
    ("", _twos, "'name' parameter of register must be a non-empty str. Got '' instead"),
    (3, _twos, "'name' parameter of register must be a non-empty str. Got 3 instead"),
    ("x", 3, "'fn' parameter of register must be {base} subclass or a function. Got 3"),
    ("x", int, "'fn' parameter of register must be {base} subclass or a function. Got <class"),
])
def test_register_checks_its_arguments(case, name, fn, message):
    module, base = case[:2]
    with pytest.raises(ValueError, match=message.format(base=base)):
        module.register(name, fn)
    assert module._NAMES.custom == {}


def test_get_says_what_it_expected():
    with pytest.raises(ValueError, match=r"Could not interpret initializer 0.5: expected a "
                                         r"name \(\[.*\]\), a config dict, an Initializer"):
        initializers.get(0.5)
    with pytest.raises(ValueError, match=r"Could not interpret regularizer 0.5: expected None, "
                                         r"a name \(\[.*\]\), a config dict, a Regularizer"):
        regularizers.get(0.5)
