"""The initializer, regularizer and constraint arguments of the layers that own weights.

``Dense``, ``Conv1D``/``Conv2D`` and the recurrent layers take, for each weight ``w`` they
create ("kernel", "bias", and "recurrent" for the recurrent kernel, as in Keras),
``w_initializer``, ``w_regularizer`` and ``w_constraint``, and an ``activity_regularizer``.
These functions resolve the arguments, create a weight with them and serialize them, the same
way for every layer.

Constraints are plain callables in profond (``kernel_constraint=lambda w: w.clip(-1, 1)``):
there is no registry of them to look a name up in, so ``get_config`` holds the callable itself,
which ``from_config`` takes back as it is.
"""

from __future__ import annotations

from profond import initializers, regularizers

__all__ = ["add_configured_weight", "store_weight_arguments", "weight_arguments_config"]


def _check_constraint(constraint, argument, owner):
    if constraint is not None and not callable(constraint):
        raise ValueError(f"The '{argument}' parameter of {owner} must be a callable (taking and "
                         f"returning the weight's array) or None. Got {constraint!r} instead.")
    return constraint


def store_weight_arguments(layer, activity_regularizer=None, **weights):
    """Resolve and store the arguments of each weight, and the activity regularizer.

    Parameters
    ----------
    layer : Layer
        Receives ``{w}_initializer``, ``{w}_regularizer``, ``{w}_constraint`` for each ``w``
        and ``activity_regularizer``.
    activity_regularizer : str or Regularizer, optional
    **weights : tuple
        ``w=(initializer, regularizer, constraint)`` per weight, in Keras's order
        (``kernel``, ``recurrent``, ``bias``).
    """
    owner = type(layer).__name__
    for prefix, (initializer, regularizer, constraint) in weights.items():
        setattr(layer, f"{prefix}_initializer", initializers.get(initializer))
        setattr(layer, f"{prefix}_regularizer", regularizers.get(regularizer))
        setattr(layer, f"{prefix}_constraint",
                _check_constraint(constraint, f"{prefix}_constraint", owner))
    layer.activity_regularizer = regularizers.get(activity_regularizer)
    layer._weight_prefixes = tuple(weights)


def add_configured_weight(layer, prefix, shape, name=None, initializer=None):
    """``layer.add_weight`` with the initializer, regularizer and constraint stored for ``prefix``.

    ``name`` defaults to ``prefix``; ``initializer`` overrides the stored one (LSTM's unit
    forget bias is built from it).
    """
    if initializer is None:
        initializer = getattr(layer, f"{prefix}_initializer")
    return layer.add_weight(shape, initializer,
                            regularizer=getattr(layer, f"{prefix}_regularizer"),
                            constraint=getattr(layer, f"{prefix}_constraint"),
                            name=name or prefix)


def weight_arguments_config(layer):
    """The stored arguments, serialized for ``get_config`` in Keras's order."""
    prefixes = layer._weight_prefixes
    config = {f"{p}_initializer": initializers.serialize(getattr(layer, f"{p}_initializer"))
              for p in prefixes}
    config.update({f"{p}_regularizer": regularizers.serialize(getattr(layer, f"{p}_regularizer"))
                   for p in prefixes})
    config["activity_regularizer"] = regularizers.serialize(layer.activity_regularizer)
    config.update({f"{p}_constraint": getattr(layer, f"{p}_constraint") for p in prefixes})
    return config
