"""The initializer, regularizer and constraint arguments of the layers that own weights.

``Dense``, ``Conv1D``/``Conv2D`` and the recurrent layers take, for each weight ``w`` they
create ("kernel", "bias", and "recurrent" for the recurrent kernel, as in Keras),
``w_initializer``, ``w_regularizer`` and ``w_constraint``, and an ``activity_regularizer``.
These functions resolve the arguments, create a weight with them and serialize them, the same
way for every layer.

Constraints resolve through :func:`profond.constraints.get` (``"max_norm"``, a config dict, a
``Constraint``, or any callable ``fn(w) -> w``) and serialize through
:func:`profond.constraints.serialize`. A callable that has no registered name stays in
``get_config`` as it is: ``from_config`` takes it back in memory, and ``model.save`` refuses it.
"""

from __future__ import annotations

from profond import constraints, initializers, regularizers

__all__ = ["add_configured_weight", "store_weight_arguments", "weight_arguments_config"]


def _resolve_constraint(constraint, argument, owner):
    try:
        return constraints.get(constraint)
    except (ValueError, TypeError) as err:
        if isinstance(constraint, (str, dict)):  # the error says which name or config is wrong
            raise ValueError(f"The '{argument}' parameter of {owner}: {err}") from None
        raise ValueError(f"The '{argument}' parameter of {owner} must be a constraint name, a "
                         "config dict, a Constraint or a callable (taking and returning the "
                         f"weight's array), or None. Got {constraint!r} instead.") from None


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
                _resolve_constraint(constraint, f"{prefix}_constraint", owner))
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
    config.update({f"{p}_constraint": constraints.serialize(getattr(layer, f"{p}_constraint"))
                   for p in prefixes})
    return config
