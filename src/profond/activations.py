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

import functools

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
    """Register a custom activation under ``name`` (so configs and saved models resolve it)."""
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


def serialize(fn) -> str:
    """Name under which ``fn`` is registered (for ``get_config``)."""
    for name, f in _ACTIVATIONS.items():
        if f is fn:
            return name
    if isinstance(fn, functools.partial):
        return serialize(fn.func)
    name = getattr(fn, "__name__", None)
    if name is None:
        raise ValueError(f"Cannot serialize activation {fn!r}: register it with "
                         "profond.activations.register(name, fn).")
    return name
