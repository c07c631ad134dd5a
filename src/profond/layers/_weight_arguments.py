"""The initializer, regularizer and constraint arguments of the layers that own weights.

``Dense``, ``Conv1D``/``Conv2D``, the recurrent layers, ``Embedding`` and
``BatchNormalization`` take, for each weight ``w`` they create ("kernel", "bias", "recurrent"
for the recurrent kernel, "embeddings", "gamma", "beta", as in Keras), ``w_initializer``,
``w_regularizer`` and ``w_constraint``, and most take an ``activity_regularizer``.
These functions resolve the arguments, create a weight with them and serialize them, the same
way for every layer.

Each argument resolves through its kind's ``get`` and serializes through its kind's
``serialize`` (Keras's dicts, :mod:`profond.saving`). A callable that has no name (a plain
function, an unregistered subclass) stays in ``get_config`` as it is: ``from_config`` takes it
back in memory, and ``model.save`` refuses it with the way out.
"""

from __future__ import annotations

from profond import activations, constraints, initializers, regularizers

__all__ = ["add_configured_weight", "resolve_constraint", "store_affine_arguments",
           "store_weight_arguments", "weight_arguments_config"]

# The default of ``activity_regularizer`` below: the layer takes none (BatchNormalization), so
# none is stored and its config has no such key. None means "takes one, none given".
_NOT_TAKEN = object()


def resolve_constraint(constraint, argument, owner):
    """:func:`profond.constraints.get`, with an error naming ``argument`` of ``owner``."""
    try:
        return constraints.get(constraint)
    except (ValueError, TypeError) as err:
        if isinstance(constraint, (str, dict)):  # the error says which name or config is wrong
            raise ValueError(f"The '{argument}' parameter of {owner}: {err}") from None
        raise ValueError(f"The '{argument}' parameter of {owner} must be a constraint name, a "
                         "config dict, a Constraint or a callable (taking and returning the "
                         f"weight's array), or None. Got {constraint!r} instead.") from None


def store_affine_arguments(layer, activation, use_bias, kernel, bias, activity_regularizer):
    """The arguments of a layer computing ``activation(x (*) kernel + bias)`` (``Dense``, the
    convolutions): ``activation`` and ``use_bias`` resolved and stored, then the kernel's and the
    bias's ``(initializer, regularizer, constraint)`` and the activity regularizer as
    :func:`store_weight_arguments` stores them."""
    layer.activation = activations.get(activation)
    layer.use_bias = bool(use_bias)
    store_weight_arguments(layer, kernel=kernel, bias=bias,
                           activity_regularizer=activity_regularizer)


def store_weight_arguments(layer, activity_regularizer=_NOT_TAKEN, **weights):
    """Resolve and store the arguments of each weight, and the activity regularizer.

    Parameters
    ----------
    layer : Layer
        Receives ``{w}_initializer``, ``{w}_regularizer``, ``{w}_constraint`` for each ``w``
        and ``activity_regularizer``.
    activity_regularizer : str or Regularizer, optional
        Left out by a layer that takes none: it then stays out of the config.
    **weights : tuple
        ``w=(initializer, regularizer, constraint)`` per weight, in Keras's order
        (``kernel``, ``recurrent``, ``bias``); ``w=(initializer,)`` for a weight that takes no
        regularizer or constraint (BatchNormalization's moving statistics).
    """
    owner = type(layer).__name__
    for prefix, (initializer, *others) in weights.items():
        setattr(layer, f"{prefix}_initializer", initializers.get(initializer))
        if not others:
            continue
        regularizer, constraint = others
        setattr(layer, f"{prefix}_regularizer", regularizers.get(regularizer))
        setattr(layer, f"{prefix}_constraint",
                resolve_constraint(constraint, f"{prefix}_constraint", owner))
    layer._weight_prefixes = tuple(p for p, arguments in weights.items() if len(arguments) > 1)
    layer._initializer_only_prefixes = tuple(p for p, arguments in weights.items()
                                             if len(arguments) == 1)
    layer._takes_activity_regularizer = activity_regularizer is not _NOT_TAKEN
    if layer._takes_activity_regularizer:
        layer.activity_regularizer = regularizers.get(activity_regularizer)


def add_configured_weight(layer, prefix, shape, name=None, initializer=None, trainable=True):
    """``layer.add_weight`` with the initializer, regularizer and constraint stored for ``prefix``.

    ``name`` defaults to ``prefix``; ``initializer`` overrides the stored one (LSTM's unit
    forget bias is built from it).
    """
    if initializer is None:
        initializer = getattr(layer, f"{prefix}_initializer")
    return layer.add_weight(shape, initializer,
                            regularizer=getattr(layer, f"{prefix}_regularizer", None),
                            constraint=getattr(layer, f"{prefix}_constraint", None),
                            trainable=trainable, name=name or prefix)


def weight_arguments_config(layer):
    """The stored arguments, serialized for ``get_config`` in Keras's order."""
    prefixes = layer._weight_prefixes
    config = {f"{p}_initializer": initializers.serialize(getattr(layer, f"{p}_initializer"))
              for p in prefixes + layer._initializer_only_prefixes}
    config.update({f"{p}_regularizer": regularizers.serialize(getattr(layer, f"{p}_regularizer"))
                   for p in prefixes})
    if layer._takes_activity_regularizer:
        config["activity_regularizer"] = regularizers.serialize(layer.activity_regularizer)
    config.update({f"{p}_constraint": constraints.serialize(getattr(layer, f"{p}_constraint"))
                   for p in prefixes})
    return config
