"""Weight constraints: ``MaxNorm``, ``NonNeg``, ``UnitNorm``, ``MinMaxNorm`` (Keras names).

A constraint is a projection applied to a weight after every optimizer update
(``w <- constraint(w)``), so the weight never leaves the allowed set; a layer takes one per
weight (``kernel_constraint``, ``bias_constraint``, ``recurrent_constraint``). It works on the
raw backend array the optimizer holds (NumPy or CuPy), not on a ``Tensor``: no gradient flows
through it. Max-norm is the companion of dropout in Srivastava et al., "Dropout: A Simple Way to
Prevent Neural Networks from Overfitting", JMLR 2014.

The norms are taken over ``axis`` and kept per remaining index: for a ``Dense`` kernel
``(in, out)``, ``axis=0`` gives one norm per unit (the weights coming into it); for a
``Conv2D`` kernel ``(kh, kw, in, out)``, ``axis=[0, 1, 2]`` gives one per filter.

Examples
--------
>>> import numpy as np
>>> from profond import constraints
>>> constraints.MaxNorm(1.0)(np.array([[3.0], [4.0]])).round(6)    # the column's norm 5 becomes 1
array([[0.6],
       [0.8]])
>>> constraints.get("non_neg")
NonNeg()
>>> constraints.serialize(constraints.MaxNorm(2.0))["config"]
{'max_value': 2.0, 'axis': 0}
"""

from __future__ import annotations

import numbers

from profond import saving
from profond._validation import check_float
from profond.backend import get_array_module

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "get", "register",
           "serialize", "deserialize"]

# Keras's backend.epsilon(): keeps a zero column at zero instead of dividing 0 by 0.
EPSILON = 1e-7


def _check_axis(axis, owner):
    """An int, or a list/tuple of ints (kept as a tuple)."""
    if isinstance(axis, numbers.Integral) and not isinstance(axis, bool):
        return int(axis)
    if (isinstance(axis, (list, tuple)) and axis
            and all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in axis)):
        return tuple(int(a) for a in axis)
    raise ValueError(f"The 'axis' parameter of {owner} must be an int or a non-empty list of "
                     f"ints. Got {axis!r} instead.")


def _norms(w, axis, owner):
    """The L2 norms of ``w`` over ``axis``, with ``axis`` kept (size 1) so they broadcast."""
    axes = axis if isinstance(axis, tuple) else (axis,)
    if any(not -w.ndim <= a < w.ndim for a in axes):
        raise ValueError(f"The 'axis' parameter of {owner} must be in range for a weight of shape "
                         f"{tuple(w.shape)}. Got {axis!r} instead.")
    xp = get_array_module(w)
    return xp.sqrt(xp.sum(xp.square(w), axis=axis, keepdims=True))


class Constraint:
    """Base class: ``constrained = constraint(w)`` on a weight's array (identity here).

    Subclasses write ``__call__`` and, when they have arguments, ``get_config``. Two
    constraints are equal when they have the same class and configuration.
    """

    def __call__(self, w):
        return w

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __eq__(self, other):
        return type(other) is type(self) and other.get_config() == self.get_config()

    def __hash__(self):
        return hash(type(self).__name__)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class MaxNorm(Constraint):
    """Rescale each slice whose norm exceeds ``max_value`` down to it (Keras's)::

        norms = sqrt(sum(w ** 2, axis, keepdims=True))
        w = w * clip(norms, 0, max_value) / (1e-7 + norms)

    Parameters
    ----------
    max_value : float >= 0, default 2
        The largest norm allowed.
    axis : int or list of int, default 0
        The axes the norm is taken over (``0``: each unit's incoming weights in ``Dense``).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.constraints import MaxNorm
    >>> MaxNorm(2.0, axis=1)(np.array([[3.0, 4.0], [0.3, 0.4]])).round(6)   # the long row shrinks
    array([[1.2, 1.6],
           [0.3, 0.4]])
    """

    def __init__(self, max_value=2, axis=0):
        self.max_value = check_float(max_value, "max_value", "MaxNorm", low=0)
        self.axis = _check_axis(axis, "MaxNorm")

    def __call__(self, w):
        norms = _norms(w, self.axis, "MaxNorm")
        xp = get_array_module(w)
        return w * (xp.clip(norms, 0, self.max_value) / (EPSILON + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": _axis_config(self.axis)}


class NonNeg(Constraint):
    """Set the negative weights to zero: ``w * (w >= 0)`` (Keras's).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.constraints import NonNeg
    >>> NonNeg()(np.array([-1.0, 0.0, 2.0])).tolist()
    [-0.0, 0.0, 2.0]
    """

    def __call__(self, w):
        # A product, not maximum(w, 0), as in Keras: a NaN weight stays NaN and shows.
        return w * (w >= 0)


class UnitNorm(Constraint):
    """Rescale each slice to norm 1 (Keras's)::

        w = w / (1e-7 + sqrt(sum(w ** 2, axis, keepdims=True)))

    Parameters
    ----------
    axis : int or list of int, default 0

    Examples
    --------
    >>> import numpy as np
    >>> from profond.constraints import UnitNorm
    >>> UnitNorm()(np.array([[3.0], [4.0]])).round(6)
    array([[0.6],
           [0.8]])
    """

    def __init__(self, axis=0):
        self.axis = _check_axis(axis, "UnitNorm")

    def __call__(self, w):
        return w / (EPSILON + _norms(w, self.axis, "UnitNorm"))

    def get_config(self):
        return {"axis": _axis_config(self.axis)}


class MinMaxNorm(Constraint):
    """Move each slice's norm into ``[min_value, max_value]``, by a fraction ``rate`` (Keras's)::

        norms = sqrt(sum(w ** 2, axis, keepdims=True))
        desired = rate * clip(norms, min_value, max_value) + (1 - rate) * norms
        w = w * desired / (1e-7 + norms)

    Parameters
    ----------
    min_value : float >= 0, default 0.0
    max_value : float >= min_value, default 1.0
    rate : float in [0, 1], default 1.0
        1 enforces the bounds at once; less moves the norms there a step at a time.
    axis : int or list of int, default 0

    Examples
    --------
    >>> import numpy as np
    >>> from profond.constraints import MinMaxNorm
    >>> MinMaxNorm(1.0, 2.0)(np.array([[0.3, 6.0], [0.4, 8.0]])).round(6)
    array([[0.6, 1.2],
           [0.8, 1.6]])
    """

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = check_float(min_value, "min_value", "MinMaxNorm", low=0)
        self.max_value = check_float(max_value, "max_value", "MinMaxNorm", low=self.min_value)
        self.rate = check_float(rate, "rate", "MinMaxNorm", low=0, high=1)
        self.axis = _check_axis(axis, "MinMaxNorm")

    def __call__(self, w):
        norms = _norms(w, self.axis, "MinMaxNorm")
        xp = get_array_module(w)
        desired = (self.rate * xp.clip(norms, self.min_value, self.max_value)
                   + (1 - self.rate) * norms)
        return w * (desired / (EPSILON + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": _axis_config(self.axis)}


def _axis_config(axis):
    return list(axis) if isinstance(axis, tuple) else axis


# Keras's snake-case names beside the class names (look-ups ignore case).
_MODULE_OBJECTS = {c.__name__: c for c in (Constraint, MaxNorm, NonNeg, UnitNorm, MinMaxNorm)}
_MODULE_OBJECTS.update({"max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
                        "min_max_norm": MinMaxNorm})
saving.register_builtin_objects("keras.constraints", "profond.constraints", _MODULE_OBJECTS)


def register(name: str, fn) -> None:
    """Convenience: ``saving.register_keras_serializable(name=name)(fn)`` for a custom
    constraint (a ``Constraint`` subclass or a function), found by :func:`get` as ``name`` (case
    ignored), so layer configs and saved models can name it.

    Examples
    --------
    >>> from profond import constraints
    >>> class Clip(constraints.Constraint):
    ...     def __init__(self, limit=1.0):
    ...         self.limit = limit
    ...     def __call__(self, w):
    ...         return w.clip(-self.limit, self.limit)
    ...     def get_config(self):
    ...         return {"limit": self.limit}
    >>> constraints.register("Clip", Clip)
    >>> constraints.get({"class_name": "Clip", "config": {"limit": 0.5}})
    Clip(limit=0.5)
    """
    saving.register_keras_serializable(name=name)(fn)


def get(identifier):
    """Resolve None, a name, a serialized dict, a ``Constraint`` (instance or
    class) or any callable.

    Raises
    ------
    ValueError
        An unknown name (the message lists the valid ones) or something that is none of these.
    """
    return saving.resolve_identifier(identifier, _MODULE_OBJECTS, "constraint", Constraint,
                                     allow_none=True)


def serialize(constraint):
    """What :func:`get` turns back into ``constraint``: Keras's dict for a built-in or registered
    ``Constraint`` or a registered function; a name or None as it is.

    Anything else (a plain function, an unregistered ``Constraint`` subclass) cannot be named and
    is returned as it is: an in-memory ``get_config``/``from_config`` still round-trips, and
    ``model.save`` refuses it with the way out.
    """
    return saving.serialize_if_named(constraint)


def deserialize(config, custom_objects=None):
    """The constraint :func:`serialize` described (earlier profond dicts too)."""
    return saving.deserialize_keras_object(config, custom_objects=custom_objects,
                                           module_objects=_MODULE_OBJECTS)
