"""``BatchNormalization`` (Ioffe & Szegedy, 2015) with Keras's semantics."""

from __future__ import annotations

from profond import ops
from profond._validation import check_float
from profond.autograd.engine import no_grad
from profond.layers._weight_arguments import (
    add_configured_weight,
    store_weight_arguments,
    weight_arguments_config,
)
from profond.layers.base import Layer

__all__ = ["BatchNormalization"]


class BatchNormalization(Layer):
    """Normalise each feature over the batch, then scale by ``gamma`` and shift by ``beta``.

    In training (``training=True``, as ``fit`` calls it) the layer normalises with the mean and
    variance of the current batch and moves its running statistics towards them, in place::

        moving_mean     = momentum * moving_mean     + (1 - momentum) * batch_mean
        moving_variance = momentum * moving_variance + (1 - momentum) * batch_variance

    In inference (``predict``, ``evaluate``, ``training`` False or None) it normalises with the
    moving statistics. As in Keras, a layer with ``trainable = False`` always runs in inference
    mode (fine-tuning keeps the frozen statistics). The batch variance is the biased one, as in
    Keras (PyTorch's running variance uses the unbiased one).

    Weights in Keras order: ``[gamma, beta, moving_mean, moving_variance]``, the last two
    non-trainable.

    Parameters
    ----------
    axis : int, default -1
        The feature axis (channels-last); statistics are taken over all the other axes.
    momentum : float in [0, 1], default 0.99
    epsilon : float > 0, default 1e-3
        Added to the variance before the square root.
    center, scale : bool, default True
        Learn ``beta`` and ``gamma`` (without them, 0 and 1).
    beta_initializer, gamma_initializer : default "zeros", "ones"
    moving_mean_initializer, moving_variance_initializer : default "zeros", "ones"
    beta_regularizer, gamma_regularizer : str or Regularizer, optional
    beta_constraint, gamma_constraint : str, dict, Constraint or callable, optional
        Applied after every update, e.g. ``gamma_constraint="non_neg"`` keeps the scales
        non-negative (see :mod:`profond.constraints`).
    synchronized : bool, default False
        Keras's flag for multi-device training; profond runs on one device, so it only
        round-trips through the config.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import BatchNormalization
    >>> layer = BatchNormalization()
    >>> x = np.array([[0.0, 10.0], [2.0, 30.0]])
    >>> layer(x, training=True).numpy().round(2)
    array([[-1., -1.],
           [ 1.,  1.]], dtype=float32)
    >>> [w.round(2) for w in layer.get_weights()[2:]]  # moved 1% towards the batch statistics
    [array([0.01, 0.2 ], dtype=float32), array([1.  , 1.99], dtype=float32)]
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"The 'axis' parameter of BatchNormalization must be an int. Got "
                             f"{axis!r} instead.")
        self.axis = axis
        self.momentum = check_float(momentum, "momentum", "BatchNormalization", low=0, high=1)
        self.epsilon = check_float(epsilon, "epsilon", "BatchNormalization", low=0,
                                   low_open=True)
        self.center = bool(center)
        self.scale = bool(scale)
        store_weight_arguments(
            self, beta=(beta_initializer, beta_regularizer, beta_constraint),
            gamma=(gamma_initializer, gamma_regularizer, gamma_constraint),
            moving_mean=(moving_mean_initializer,),
            moving_variance=(moving_variance_initializer,))
        self.synchronized = bool(synchronized)
        self.supports_masking = True

    def _feature_axis(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank or rank < 2:
            raise ValueError(f"The 'axis' parameter of layer '{self.name}' (BatchNormalization) "
                             f"must be in range for its inputs (of rank >= 2). Got axis "
                             f"{self.axis} for inputs of shape {tuple(input_shape)} instead.")
        return self.axis % rank

    def build(self, input_shape):
        axis = self._feature_axis(input_shape)
        size = input_shape[axis]
        if size is None:
            raise ValueError(f"Input of layer '{self.name}' (BatchNormalization) must have a "
                             f"known size on axis {self.axis}. Got input shape "
                             f"{tuple(input_shape)} instead.")
        shape = (int(size),)
        self.gamma = add_configured_weight(self, "gamma", shape) if self.scale else None
        self.beta = add_configured_weight(self, "beta", shape) if self.center else None
        self.moving_mean = add_configured_weight(self, "moving_mean", shape, trainable=False)
        self.moving_variance = add_configured_weight(self, "moving_variance", shape,
                                                     trainable=False)
        self.built = True

    def call(self, inputs, training=None):
        axis = self._feature_axis(tuple(inputs.shape))
        if inputs.shape[axis] != self.moving_mean.shape[0]:
            raise ValueError(f"Input of layer '{self.name}' (BatchNormalization) must have "
                             f"{self.moving_mean.shape[0]} features on axis {self.axis}, as "
                             f"when it was built. Got input shape {tuple(inputs.shape)} instead.")
        if training and self.trainable:
            out, mean, variance = ops.batch_norm_train(inputs, self.gamma, self.beta, axis,
                                                       self.epsilon)
            with no_grad():
                m = self.momentum
                for var, stat in ((self.moving_mean, mean), (self.moving_variance, variance)):
                    var.data *= m
                    var.data += (1.0 - m) * stat.astype(var.data.dtype, copy=False)
            return out
        return ops.batch_norm_inference(inputs, self.moving_mean.data, self.moving_variance.data,
                                        self.gamma, self.beta, axis, self.epsilon)

    def compute_output_shape(self, input_shape):
        self._feature_axis(input_shape)
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis, "momentum": self.momentum,
                "epsilon": self.epsilon, "center": self.center, "scale": self.scale,
                **weight_arguments_config(self), "synchronized": self.synchronized}
