"""Core layers: ``Dense`` (a fully connected layer), ``Activation`` and ``Identity``."""

from __future__ import annotations

from profond import activations, ops
from profond._validation import check_int
from profond.layers._weight_arguments import (
    add_configured_weight,
    store_affine_arguments,
    weight_arguments_config,
)
from profond.layers.base import Layer

__all__ = ["Dense", "Activation", "Identity"]

_RELU = activations.get("relu")



class Dense(Layer):
    """Fully connected layer: ``output = activation(inputs @ kernel + bias)``.

    Applies to the last axis, so inputs of shape ``(batch, ..., in)`` give
    ``(batch, ..., units)``. Weights in Keras order: ``[kernel (in, units), bias (units,)]``.

    Parameters
    ----------
    units : int
        Number of output units (>= 1).
    activation : str or callable, optional
        Applied to the output (``None``: linear).
    use_bias : bool, default True
    kernel_initializer, bias_initializer : str or Initializer
        Default ``"glorot_uniform"`` and ``"zeros"`` (Keras's). Prefer ``"he_normal"`` for ReLU.
    kernel_regularizer, bias_regularizer, activity_regularizer : str or Regularizer, optional
    kernel_constraint, bias_constraint : callable, optional
        Applied to the weight after each optimizer update (e.g. ``lambda w: w.clip(-1, 1)``).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Dense
    >>> layer = Dense(4, activation="relu")
    >>> layer(np.ones((2, 3))).shape
    (2, 4)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 4), (4,)]
    """

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self.units = check_int(units, "units", "Dense", low=1)
        store_affine_arguments(
            self, activation, use_bias,
            kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
            activity_regularizer=activity_regularizer)
        self.supports_masking = True
        self.input_dim = None

    def build(self, input_shape):
        if len(input_shape) < 2 or input_shape[-1] is None:
            raise ValueError(f"Input of layer '{self.name}' (Dense) must have rank >= 2 and a "
                             f"known last axis. Got input shape {input_shape} instead.")
        self.input_dim = int(input_shape[-1])
        self.kernel = add_configured_weight(self, "kernel", (self.input_dim, self.units))
        self.bias = add_configured_weight(self, "bias", (self.units,)) if self.use_bias else None
        self.built = True

    def call(self, inputs):
        if inputs.ndim < 2 or inputs.shape[-1] != self.input_dim:
            raise ValueError(f"Input of layer '{self.name}' (Dense) must have shape "
                             f"(None, ..., {self.input_dim}). Got shape {tuple(inputs.shape)} "
                             "instead.")
        if self.activation is _RELU:  # fused: one node, in place
            return ops.linear(inputs, self.kernel, self.bias, relu=True)
        return self.activation(ops.linear(inputs, self.kernel, self.bias))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **weight_arguments_config(self)}


class Activation(Layer):
    """Applies an activation function: ``Activation("relu")``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Activation
    >>> Activation("relu")(np.array([[-1.0, 1.0]]))
    tensor([[0., 1.]], dtype=float32)
    """

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self.supports_masking = True

    def call(self, inputs):
        return self.activation(inputs)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "activation": activations.serialize(self.activation)}


class Identity(Layer):
    """Return the inputs unchanged (a placeholder where a model's structure wants a layer).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Identity
    >>> Identity()(np.array([[1.0, 2.0]]))
    tensor([[1., 2.]], dtype=float32)
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        return inputs

    def compute_output_shape(self, input_shape):
        return input_shape
