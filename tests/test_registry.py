"""The one registry (``profond.saving.object_registration``): what each kind's ``register``
delegate and ``register_keras_serializable`` accept, what ``serialize`` names, and what it
gives back as it is."""

import numpy as np
import pytest

import profond
from profond import (activations, constraints, initializers, losses, metrics, optimizers,
                     regularizers, saving)


class _Fill(initializers.Constant):
    """A custom initializer class (Constant's arguments under another name)."""


class _Squares(regularizers.L2):
    """A custom regularizer class (L2's arguments under another name)."""


def _twos(shape, dtype=None):
    return np.full(shape, 2.0, dtype=dtype)


def _penalty(w):
    return 0.1 * profond.ops.sum(w * w)


# module, custom class, its config, custom function.
CASES = [(initializers, _Fill, {"value": 3.0}, _twos),
         (regularizers, _Squares, {"l2": 0.5}, _penalty)]


@pytest.fixture(params=CASES, ids=["initializers", "regularizers"])
def case(request, fresh_registry):
    return request.param


def test_serialize_returns_what_it_cannot_name(case):
    module, cls, config, fn = case
    for obj in (fn, cls(**config), lambda *args: None):
        assert module.serialize(obj) is obj  # model.save refuses it; get_config keeps it
        assert module.get(module.serialize(obj)) is obj


def test_registered_objects_serialize_to_keras_dicts(case):
    module, cls, config, fn = case
    module.register("Custom", cls)
    module.register("custom_fn", fn)
    assert module.serialize(cls(**config)) == {"module": __name__, "class_name": cls.__name__,
                                               "config": config,
                                               "registered_name": "Custom>Custom"}
    assert module.serialize(fn) == {"module": __name__, "class_name": "function",
                                    "config": "Custom>custom_fn",
                                    "registered_name": "Custom>custom_fn"}
    assert type(module.get(module.serialize(cls(**config)))) is cls
    assert module.get(module.serialize(fn)) is fn
    assert type(module.get("custom")) is cls  # by name, case ignored, package left out
    assert module.get("Custom>custom_fn") is fn


def test_register_keras_serializable_names_and_refuses_a_second_object(fresh_registry):
    @saving.register_keras_serializable(package="Mine")
    def scale(x):
        return 3 * x

    assert saving.get_registered_name(scale) == "Mine>scale"
    assert saving.get_registered_object("Mine>scale") is scale
    assert saving.get_custom_objects()["Mine>scale"] is scale

    def other(x):
        return x

    with pytest.raises(ValueError, match="'Mine>scale': that name already belongs to"):
        saving.register_keras_serializable(package="Mine", name="scale")(other)
    with pytest.raises(ValueError, match="has no get_config"):
        saving.register_keras_serializable()(type("Bare", (), {}))
    with pytest.raises(ValueError, match="'package' parameter of register_keras_serializable "
                                         "must be a non-empty str without '>'. Got 'a>b'"):
        saving.register_keras_serializable(package="a>b")


def test_the_same_definition_run_again_replaces_the_old_one(fresh_registry):
    classes = []
    for _ in range(2):  # a notebook cell run twice defines the class twice
        @saving.register_keras_serializable(package="Nb")
        class Gain(regularizers.L2):
            pass

        classes.append(Gain)
    assert saving.get_registered_object("Nb>Gain") is classes[1]
    assert saving.get_registered_name(classes[1]) == "Nb>Gain"


def test_custom_object_scope_is_seen_only_inside():
    def halve(x):
        return x / 2

    config = {"module": __name__, "class_name": "function", "config": "halve",
              "registered_name": "halve"}
    with saving.custom_object_scope({"halve": halve}):
        assert activations.get(config) is halve
        assert saving.get_registered_object("halve") is halve
    assert saving.get_registered_object("halve") is None
    with pytest.raises(ValueError, match="neither built in nor registered"):
        activations.get(config)
    assert saving.CustomObjectScope is saving.custom_object_scope


def test_every_kind_registers_in_the_one_registry(fresh_registry):
    def my_loss(y_true, y_pred):
        return (y_pred - y_true) ** 2

    def my_metric(y_true, y_pred):
        return abs(y_pred - y_true)

    def my_activation(x):
        return x

    class MyOpt(optimizers.SGD):
        pass

    class MyClip(constraints.NonNeg):
        pass

    losses.register("my_loss", my_loss)
    metrics.register("my_metric", my_metric)
    activations.register("my_activation", my_activation)
    optimizers.register("my_opt", MyOpt)
    constraints.register("my_clip", MyClip)
    assert set(saving.get_custom_objects()) >= {
        "Custom>my_loss", "Custom>my_metric", "Custom>my_activation", "Custom>my_opt",
        "Custom>my_clip"}
    assert losses.get("my_loss").fn is my_loss
    assert metrics.get("my_metric").fn is my_metric
    assert activations.get("my_activation") is my_activation
    assert type(optimizers.get("my_opt")) is MyOpt
    assert type(constraints.get("my_clip")) is MyClip


def test_get_says_what_it_expected():
    with pytest.raises(ValueError, match=r"Could not interpret initializer 0.5: expected a "
                                         r"name \(\[.*\]\), a config dict, an Initializer"):
        initializers.get(0.5)
    with pytest.raises(ValueError, match=r"Could not interpret regularizer 0.5: expected None, "
                                         r"a name \(\[.*\]\), a config dict, a Regularizer"):
        regularizers.get(0.5)


def test_a_short_name_in_several_packages_prefers_the_kinds_register(fresh_registry):
    def wobble(x):
        return x

    def other_wobble(x):
        return -x

    saving.register_keras_serializable(package="A", name="wobble")(other_wobble)
    assert activations.get("wobble") is other_wobble  # the only one
    activations.register("wobble", wobble)  # "Custom>wobble"
    assert activations.get("wobble") is wobble
    saving.get_custom_objects().pop("Custom>wobble")
    saving.register_keras_serializable(package="B", name="wobble")(wobble)
    with pytest.raises(ValueError, match=r"'wobble' is ambiguous: .*\['A>wobble', 'B>wobble'\]"):
        activations.get("wobble")
    assert activations.get("B>wobble") is wobble
