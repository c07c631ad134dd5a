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

from profond._validation import lookup
from profond.ops.activation import (elu, gelu, hard_sigmoid, leaky_relu, log_softmax, relu, selu,
                                    sigmoid, silu, softmax, softplus, softsign, step, tanh)
from profond.ops.activation import linear_activation as linear

swish = silu


def step_ste(x):
    """Heaviside step with the clipped straight-through gradient (see :func:`step`)."""
    return step(x, straight_through=True)


__all__ = ["get", "serialize", "linear", "relu", "leaky_relu", "elu", "selu", "gelu", "sigmoid",
           "hard_sigmoid", "tanh", "softmax", "log_softmax", "softplus", "softsign", "silu",
           "swish", "step", "step_ste", "register"]

_ACTIVATIONS = {
    "linear": linear, "relu": relu, "leaky_relu": leaky_relu, "elu": elu, "selu": selu,
    "gelu": gelu, "sigmoid": sigmoid, "hard_sigmoid": hard_sigmoid, "tanh": tanh,
    "softmax": softmax, "log_softmax": log_softmax, "softplus": softplus, "softsign": softsign,
    "silu": silu, "swish": silu, "step": step, "step_ste": step_ste,
}


def register(name: str, fn) -> None:
    """Make a custom activation known as ``name`` (case-insensitive), so layer configs and
    saved models can name it.

    Examples
    --------
    >>> import profond
    >>> from profond import activations
    >>> def cube(x):
    ...     return x * x * x
    >>> activations.register("cube", cube)
    >>> activations.get("cube") is cube, activations.serialize(cube)
    (True, 'cube')
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"The 'name' parameter of register must be a non-empty str. "
                         f"Got {name!r} instead.")
    if isinstance(fn, type) or not callable(fn):
        raise ValueError(f"The 'fn' parameter of register must be a function. "
                         f"Got {fn!r} instead.")
    _ACTIVATIONS[name.lower()] = fn


def get(identifier):
    """Return the activation function for a name, a callable, or None (linear)."""
    if identifier is None:
        return linear
    if isinstance(identifier, str):
        return lookup(identifier, _ACTIVATIONS, "activation")
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret activation {identifier!r}: expected a name "
                     f"({sorted(_ACTIVATIONS)}) or a callable.")


def serialize(fn):
    """The name under which :func:`get` finds ``fn`` (for ``get_config``): a built-in's name,
    or the name it was registered under.

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
    return next((name for name, f in _ACTIVATIONS.items() if f is fn), fn)
