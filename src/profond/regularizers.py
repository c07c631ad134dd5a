"""Weight penalties added to the training loss: ``L1``, ``L2``, ``L1L2`` (Keras names).

``L1`` pushes weights to exactly zero (sparse models); ``L2`` shrinks them all (weight decay).
A layer's ``kernel_regularizer``/``bias_regularizer`` penalise its weights and its
``activity_regularizer`` its output; ``fit`` adds every penalty to the loss it minimises and
reports, as Keras does (the sum, not divided by the batch size). The penalty is built from
differentiable ops, so its gradient is exact.

Examples
--------
>>> import profond
>>> from profond import regularizers
>>> float(regularizers.L2(0.5)(profond.tensor([1.0, 2.0])))
2.5
>>> regularizers.get("l1")
L1(l1=0.01)
"""

from __future__ import annotations

import math

from profond import ops, saving
from profond._validation import check_choice, check_float

__all__ = ["Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "get", "register",
           "serialize", "deserialize", "l1", "l2", "l1_l2", "orthogonal_regularizer"]


def _factor(value, param, owner):
    """A penalty factor: a finite float >= 0 (None means 0, as in Keras)."""
    value = 0.0 if value is None else check_float(value, param, owner, low=0)
    if not math.isfinite(value):
        raise ValueError(f"The '{param}' parameter of {owner} must be a finite float in "
                         f"[0, inf). Got {value!r} instead.")
    return value


class Regularizer:
    """Base class: ``penalty = regularizer(weight_tensor)`` (a scalar tensor)."""

    def __call__(self, x):  # pragma: no cover - abstract
        raise NotImplementedError

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """Both penalties::

        penalty = l1 * sum(abs(w)) + l2 * sum(w ** 2)

    Its gradient is ``l1 * sign(w) + 2 * l2 * w`` (with ``sign(0) = 0``).

    Parameters
    ----------
    l1 : float >= 0, default 0.0
    l2 : float >= 0, default 0.0

    Examples
    --------
    >>> import profond
    >>> from profond.regularizers import L1L2
    >>> round(float(L1L2(l1=0.1, l2=0.5)(profond.tensor([-1.0, 2.0]))), 6)
    2.8
    """

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _factor(l1, "l1", type(self).__name__)
        self.l2 = _factor(l2, "l2", type(self).__name__)

    def __call__(self, x):
        total = None
        if self.l1:
            total = self.l1 * ops.sum(ops.abs(x))
        if self.l2:
            term = self.l2 * ops.sum(ops.square(x))
            total = term if total is None else total + term
        if total is None:
            total = ops.sum(x) * 0.0
        return total

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """Lasso penalty ``l1 * sum(abs(w))``: drives weights to exactly zero.

    Parameters
    ----------
    l1 : float >= 0, default 0.01

    Examples
    --------
    >>> import profond
    >>> from profond.regularizers import L1
    >>> float(L1(0.5)(profond.tensor([-1.0, 2.0])))
    1.5
    """

    def __init__(self, l1=0.01):
        super().__init__(l1=0.01 if l1 is None else l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """Ridge penalty ``l2 * sum(w ** 2)``: shrinks all weights (weight decay).

    Parameters
    ----------
    l2 : float >= 0, default 0.01

    Examples
    --------
    >>> import profond
    >>> from profond.regularizers import L2
    >>> float(L2(0.5)(profond.tensor([-1.0, 2.0])))
    2.5
    """

    def __init__(self, l2=0.01):
        super().__init__(l2=0.01 if l2 is None else l2)

    def get_config(self):
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Push the rows (or columns) of a 2-D kernel towards orthogonality (Keras's)::

        u = w / norm(w, axis=1 if mode == "rows" else 0)        # unit rows (or columns)
        p = u @ u.T  (rows)  or  u.T @ u  (columns)              # their cosines, n x n
        penalty = factor * 0.5 * sum(abs(p - diag(p))) / (n * (n - 1) / 2)

    Parameters
    ----------
    factor : float >= 0, default 0.01
    mode : {"rows", "columns"}, default "rows"

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond.regularizers import OrthogonalRegularizer
    >>> float(OrthogonalRegularizer(1.0)(profond.tensor(np.eye(3))))
    0.0
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _factor(factor, "factor", "OrthogonalRegularizer")
        self.mode = check_choice(mode, "mode", "OrthogonalRegularizer", ("rows", "columns"))

    def __call__(self, x):
        if x.ndim != 2:
            raise ValueError("The 'x' parameter of OrthogonalRegularizer must be a 2-D kernel. "
                             f"Got a weight of shape {tuple(x.shape)} instead.")
        axis = 1 if self.mode == "rows" else 0
        norm = ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=axis, keepdims=True), 1e-12))
        unit = x / norm
        product = unit @ ops.transpose(unit) if axis == 1 else ops.transpose(unit) @ unit
        n = x.shape[1 - axis]
        off_diagonal = product * (1.0 - x.xp.eye(n, dtype=x.data.dtype))
        pairs = max(n * (n - 1) / 2.0, 1.0)
        return self.factor * 0.5 * ops.sum(ops.abs(off_diagonal)) / pairs

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


# Keras's lower-case names are the classes themselves (keras.regularizers.l2 is L2), so
# ``regularizers.l2(0.01)`` is an ``L2``.
l1, l2, l1_l2, orthogonal_regularizer = L1, L2, L1L2, OrthogonalRegularizer

# Keras's snake-case names beside the class names (look-ups ignore case).
_MODULE_OBJECTS = {c.__name__: c for c in (L1, L2, L1L2, OrthogonalRegularizer, Regularizer)}
_MODULE_OBJECTS.update({"l1": L1, "l2": L2, "l1_l2": L1L2,
                        "orthogonal_regularizer": OrthogonalRegularizer})
saving.register_builtin_objects("keras.regularizers", "profond.regularizers", _MODULE_OBJECTS)


def register(name: str, fn) -> None:
    """Convenience: ``saving.register_keras_serializable(name=name)(fn)`` for a custom
    regularizer (a ``Regularizer`` subclass or a function), found by :func:`get` as ``name`` (case
    ignored), so layer configs and saved models can name it.

    Examples
    --------
    >>> import profond
    >>> from profond import regularizers
    >>> class Sum(regularizers.Regularizer):
    ...     def __init__(self, factor=0.01):
    ...         self.factor = factor
    ...     def __call__(self, w):
    ...         return self.factor * profond.ops.sum(w)
    ...     def get_config(self):
    ...         return {"factor": self.factor}
    >>> regularizers.register("Sum", Sum)
    >>> regularizers.serialize(Sum(0.5))["config"]
    {'factor': 0.5}
    >>> regularizers.get({"class_name": "Sum", "config": {"factor": 0.5}})
    Sum(factor=0.5)
    """
    saving.register_keras_serializable(name=name)(fn)


def get(identifier):
    """Resolve None, a name, a serialized dict, a ``Regularizer`` (instance or
    class) or any callable.

    Raises
    ------
    ValueError
        An unknown name (the message lists the valid ones) or something that is none of these.
    """
    return saving.resolve_identifier(identifier, _MODULE_OBJECTS, "regularizer", Regularizer,
                                     allow_none=True)


def serialize(regularizer):
    """What :func:`get` turns back into ``regularizer``: Keras's dict for a built-in or registered
    ``Regularizer`` or a registered function; a name or None as it is.

    Anything else (a plain function, an unregistered ``Regularizer`` subclass) cannot be named and
    is returned as it is: an in-memory ``get_config``/``from_config`` still round-trips, and
    ``model.save`` refuses it with the way out.

    Examples
    --------
    >>> from profond import regularizers
    >>> regularizers.serialize(regularizers.L2(0.5))["config"]
    {'l2': 0.5}
    >>> def penalty(w):
    ...     return 0.0 * w.sum()
    >>> regularizers.serialize(penalty) is penalty
    True
    """
    return saving.serialize_if_named(regularizer)


def deserialize(config, custom_objects=None):
    """The regularizer :func:`serialize` described (earlier profond dicts too)."""
    return saving.deserialize_keras_object(config, custom_objects=custom_objects,
                                           module_objects=_MODULE_OBJECTS)
