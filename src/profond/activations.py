"""Activation functions and their look-up by name (``activations.get("relu")``).

The functions are the fused ops of :mod:`profond.ops.activation`; layers accept them as
``activation="relu"``, as callables, or through the :class:`~profond.layers.Activation` layer.

Examples
--------
>>> import profond
>>> from profond import activations
>>> activations.get("relu")(profond.tensor([-1.0, 2.0]))
tensor([0., 2.], dtype=float32)
"""

from __future__ import annotations

from profond import saving
from profond.ops.activation import (celu, elu, exponential, gelu, glu, hard_shrink, hard_sigmoid,
                                    hard_silu, hard_swish, hard_tanh, leaky_relu, log_sigmoid,
                                    log_softmax, mish, relu, relu6, selu, sigmoid, silu,
                                    soft_shrink, softmax, softplus, softsign, sparse_plus,
                                    sparse_sigmoid, sparsemax, squareplus, step, tanh, tanh_shrink,
                                    threshold)
from profond.ops.activation import linear_activation as linear

swish = silu


def step_ste(x):
    """Heaviside step with the clipped straight-through gradient (see :func:`step`)."""
    return step(x, straight_through=True)


__all__ = ["get", "serialize", "deserialize", "linear", "relu", "leaky_relu", "elu", "selu",
           "gelu", "sigmoid", "hard_sigmoid", "tanh", "softmax", "log_softmax", "softplus",
           "softsign", "silu", "swish", "step", "step_ste", "register", "celu", "exponential",
           "glu", "hard_shrink", "hard_silu", "hard_swish", "hard_tanh", "log_sigmoid", "mish",
           "relu6", "soft_shrink", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus",
           "tanh_shrink", "threshold"]

_ACTIVATIONS = {
    "linear": linear, "relu": relu, "leaky_relu": leaky_relu, "elu": elu, "selu": selu,
    "gelu": gelu, "sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid, "tanh": tanh,
    "softmax": softmax, "log_softmax": log_softmax, "softplus": softplus, "softsign": softsign,
    "silu": silu, "swish": silu, "step": step, "step_ste": step_ste, "celu": celu,
    "exponential": exponential, "glu": glu, "hard_shrink": hard_shrink, "hard_silu": hard_silu,
    "hard_swish": hard_swish, "hard_tanh": hard_tanh, "log_sigmoid": log_sigmoid, "mish": mish,
    "relu6": relu6, "soft_shrink": soft_shrink, "sparse_plus": sparse_plus,
    "sparse_sigmoid": sparse_sigmoid, "sparsemax": sparsemax, "squareplus": squareplus,
    "tanh_shrink": tanh_shrink, "threshold": threshold,
}


saving.register_builtin_objects("keras.activations", "profond.activations", _ACTIVATIONS)


def register(name: str, fn) -> None:
    """Convenience: ``saving.register_keras_serializable(name=name)(fn)``, so layer configs
    and saved models can name ``fn`` (found by :func:`get` as ``name``, case ignored).

    Examples
    --------
    >>> import profond
    >>> from profond import activations
    >>> def cube(x):
    ...     return x * x * x
    >>> activations.register("cube", cube)
    >>> activations.get("cube") is cube, activations.serialize(cube)["registered_name"]
    (True, 'Custom>cube')
    """
    if isinstance(fn, type) or not callable(fn):
        raise ValueError(f"The 'fn' parameter of register must be a function. "
                         f"Got {fn!r} instead.")
    saving.register_keras_serializable(name=name)(fn)


def get(identifier):
    """Return the activation function for a name, a serialized dict, a callable, or None
    (linear).

    Raises
    ------
    ValueError
        An unknown name (the message lists the valid ones) or something that is none of these.
    """
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return saving.lookup_name(identifier, _ACTIVATIONS, "activation")
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation {identifier!r}: expected a name "
                     f"({sorted(_ACTIVATIONS)}) or a callable.")


def serialize(fn):
    """What :func:`get` turns back into ``fn`` (for ``get_config``), as Keras writes it: a
    built-in's name, the function dict of a registered function.

    Anything else (a function that was not registered, whatever its ``__name__``, or a
    ``functools.partial``) cannot be named and is returned as it is: an in-memory
    ``get_config``/``from_config`` still round-trips, and ``model.save`` refuses it with the
    way out, instead of writing a name that finds nothing, or finds another function.

    Examples
    --------
    >>> from profond import activations
    >>> activations.serialize(activations.relu)
    'relu'
    >>> def relu(x):  # not the built-in relu, whatever its name
    ...     return x
    >>> activations.serialize(relu) is relu
    True
    """
    config = saving.serialize_if_named(fn)
    if isinstance(config, dict) and config.get("module") == "keras.activations":
        return config["config"]
    return config


def deserialize(config, custom_objects=None):
    """The activation :func:`serialize` described (a name or a Keras dict)."""
    fn = saving.deserialize_keras_object(config, custom_objects=custom_objects,
                                         module_objects=_ACTIVATIONS)
    if isinstance(fn, str):
        return saving.lookup_name(fn, _ACTIVATIONS, "activation")
    return fn
