"""``Lambda``: a function of tensors used as a layer.

A model file holds no code: a ``Lambda`` is saved only when its function (and its
``output_shape`` or ``mask`` function) is registered with
:func:`profond.saving.register_keras_serializable`, and then by name, like any custom object.
An anonymous ``lambda`` works in memory and is refused, with its name, by the file writer.
"""

from __future__ import annotations

import inspect

from profond import saving
from profond.layers.base import Layer

__all__ = ["Lambda"]


class Lambda(Layer):
    """Call ``function(inputs, **arguments)`` as a layer (no weights: a layer that learns
    should subclass :class:`~profond.layers.Layer`).

    Parameters
    ----------
    function : callable
        Takes the inputs (and ``mask=``/``training=`` if it names them).
    output_shape : tuple, callable or None
        The output's shape without the batch axis, or ``fn(input_shape) -> shape``; by
        default found by running ``function`` on zeros.
    mask : callable or None
        ``fn(inputs, mask) -> mask``, or a fixed mask.
    arguments : dict, optional
        Keyword arguments passed to ``function``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond import layers, ops
    >>> double = layers.Lambda(lambda x: x * 2.0)
    >>> double(np.array([[1.0, 2.0]]))
    tensor([[2., 4.]], dtype=float32)
    >>> inputs = layers.Input((3, 4))
    >>> layers.Lambda(lambda x: ops.sum(x, axis=1))(inputs).shape
    (None, 4)
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError(f"The 'function' parameter of Lambda must be callable. Got "
                            f"{function!r} instead.")
        if arguments is not None and not isinstance(arguments, dict):
            raise TypeError(f"The 'arguments' parameter of Lambda must be a dict or None. Got "
                            f"{arguments!r} instead.")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = (tuple(output_shape) if output_shape is not None
                              and not callable(output_shape) else output_shape)
        try:
            names = inspect.signature(function).parameters
        except (TypeError, ValueError):  # builtins without a signature
            names = {}
        self._wants_mask, self._wants_training = "mask" in names, "training" in names

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._wants_mask:
            kwargs["mask"] = mask
        if self._wants_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        batch = input_shape[0] if isinstance(input_shape[0], (int, type(None))) \
            else input_shape[0][0]
        return (batch,) + self._output_shape

    def get_config(self):
        config = {**super().get_config(),
                  "function": saving.serialize_keras_object(self.function)}
        if self._output_shape is not None:
            config["output_shape"] = (saving.serialize_keras_object(self._output_shape)
                                      if callable(self._output_shape)
                                      else list(self._output_shape))
        if self.mask is not None:
            config["mask"] = saving.serialize_keras_object(self.mask)
        config["arguments"] = saving.serialize_keras_object(self.arguments)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("function", "output_shape", "mask"):
            if isinstance(config.get(key), dict):
                config[key] = saving.deserialize_keras_object(config[key])
        if config.get("arguments"):
            config["arguments"] = saving.deserialize_keras_object(config["arguments"])
        return cls(**config)
