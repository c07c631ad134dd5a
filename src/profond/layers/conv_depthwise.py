"""Depthwise and depthwise-separable convolution layers (channels-last, Keras's layouts):
``DepthwiseConv1D``, ``DepthwiseConv2D``, ``SeparableConv1D``, ``SeparableConv2D`` and Keras's
``SeparableConvolution1D/2D`` aliases (the same classes).

A separable convolution is a depthwise convolution (each channel filtered on its own) followed
by a pointwise one (a 1 x 1 convolution mixing the channels): far fewer weights than a full
convolution of the same window (Chollet, "Xception", CVPR 2017).
"""

from __future__ import annotations

from profond import activations, ops
from profond._validation import check_int
from profond.layers._weight_arguments import (add_configured_weight, store_weight_arguments,
                                              weight_arguments_config)
from profond.layers.conv import _WindowLayer
from profond.ops.conv import conv_output_length

__all__ = ["DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D",
           "SeparableConvolution1D", "SeparableConvolution2D"]

_RELU = activations.get("relu")


class _DepthwiseBase(_WindowLayer):
    """Shared arguments, checks and shapes of the depthwise and separable layers."""

    separable = False

    def _init_common(self, kernel_size, strides, padding, data_format, dilation_rate,
                     depth_multiplier, activation, use_bias):
        owner = type(self).__name__
        self.depth_multiplier = check_int(depth_multiplier, "depth_multiplier", owner, low=1)
        self._window_arguments(kernel_size, strides, padding, data_format, dilation_rate)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)

    def _depthwise(self, inputs, kernel, bias, relu):
        fn = ops.depthwise_conv2d if self.rank == 2 else ops.depthwise_conv1d
        return fn(inputs, kernel, bias, self.strides, self.padding, self.dilation_rate,
                  relu=relu)

    def _out_channels(self, channels):
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        self._check_shape(input_shape)
        spatial = tuple(
            None if size is None else conv_output_length(size, k, s, self.padding, d)
            for size, k, s, d in zip(input_shape[1:-1], self.kernel_size, self.strides,
                                     self.dilation_rate))
        return (input_shape[0],) + spatial + (self._out_channels(input_shape[-1]),)

    def _common_config(self):
        return {"depth_multiplier": self.depth_multiplier,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate),
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias}


class _DepthwiseConv(_DepthwiseBase):
    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate,
                          depth_multiplier, activation, use_bias)
        store_weight_arguments(
            self, depthwise=(depthwise_initializer, depthwise_regularizer, depthwise_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
            activity_regularizer=activity_regularizer)

    def _out_channels(self, channels):
        return None if channels is None else channels * self.depth_multiplier

    def build(self, input_shape):
        c = self._build_channels(input_shape)
        # Keras names this weight "kernel" (its arguments are depthwise_*)
        self.kernel = add_configured_weight(
            self, "depthwise", self.kernel_size + (c, self.depth_multiplier), name="kernel")
        self.bias = add_configured_weight(self, "bias", (c * self.depth_multiplier,)) \
            if self.use_bias else None
        self.built = True

    def call(self, inputs):
        self._check_call(inputs)
        relu = self.activation is _RELU
        out = self._depthwise(inputs, self.kernel, self.bias, relu)
        return out if relu else self.activation(out)

    def get_config(self):
        return {**super().get_config(), **self._common_config(),
                **weight_arguments_config(self)}


class DepthwiseConv2D(_DepthwiseConv):
    """Depthwise 2-D convolution: each input channel filtered on its own by
    ``depth_multiplier`` kernels (output channel ``c * depth_multiplier + j``).

    One fused node per call (see :func:`profond.ops.depthwise_conv2d`). Weights in Keras
    order: ``[kernel (kh, kw, in, depth_multiplier), bias (in * depth_multiplier,)]``.

    Parameters
    ----------
    kernel_size : int or (int, int)
    strides : int or (int, int), default 1
    padding : {"valid", "same"}, default "valid"
    depth_multiplier : int, default 1
    data_format : None or "channels_last"
    dilation_rate : int or (int, int), default 1
    activation : str or callable, optional
    use_bias : bool, default True
    depthwise_initializer, bias_initializer : str or Initializer
    depthwise_regularizer, bias_regularizer, activity_regularizer : optional
    depthwise_constraint, bias_constraint : optional

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import DepthwiseConv2D
    >>> layer = DepthwiseConv2D(3, depth_multiplier=2, padding="same")
    >>> layer(np.zeros((2, 8, 8, 3))).shape
    (2, 8, 8, 6)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 3, 3, 2), (6,)]
    """

    rank = 2


class DepthwiseConv1D(_DepthwiseConv):
    """Depthwise 1-D convolution of channels-last sequences (arguments as
    :class:`DepthwiseConv2D`, single ints). Weights
    ``[kernel (k, in, depth_multiplier), bias (in * depth_multiplier,)]``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import DepthwiseConv1D
    >>> DepthwiseConv1D(3)(np.zeros((2, 10, 4))).shape
    (2, 8, 4)
    """

    rank = 1


class _SeparableConv(_DepthwiseBase):
    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.filters = check_int(filters, "filters", type(self).__name__, low=1)
        self._init_common(kernel_size, strides, padding, data_format, dilation_rate,
                          depth_multiplier, activation, use_bias)
        store_weight_arguments(
            self, depthwise=(depthwise_initializer, depthwise_regularizer, depthwise_constraint),
            pointwise=(pointwise_initializer, pointwise_regularizer, pointwise_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
            activity_regularizer=activity_regularizer)

    def _out_channels(self, channels):
        return self.filters

    def build(self, input_shape):
        c = self._build_channels(input_shape)
        m = self.depth_multiplier
        self.depthwise_kernel = add_configured_weight(
            self, "depthwise", self.kernel_size + (c, m), name="depthwise_kernel")
        self.pointwise_kernel = add_configured_weight(
            self, "pointwise", (1,) * self.rank + (c * m, self.filters), name="pointwise_kernel")
        self.bias = add_configured_weight(self, "bias", (self.filters,)) \
            if self.use_bias else None
        self.built = True

    def call(self, inputs):
        self._check_call(inputs)
        mid = self._depthwise(inputs, self.depthwise_kernel, None, False)
        relu = self.activation is _RELU
        pointwise = ops.conv2d if self.rank == 2 else ops.conv1d
        out = pointwise(mid, self.pointwise_kernel, self.bias, relu=relu)
        return out if relu else self.activation(out)

    def get_config(self):
        config = {**super().get_config(), **self._common_config(),
                  **weight_arguments_config(self)}
        return {**config, "filters": self.filters}


class SeparableConv2D(_SeparableConv):
    """Depthwise-separable 2-D convolution: a depthwise convolution then a 1 x 1 one.

    Weights in Keras order: ``[depthwise_kernel (kh, kw, in, depth_multiplier),
    pointwise_kernel (1, 1, in * depth_multiplier, filters), bias (filters,)]``. Two fused
    nodes per call (:func:`profond.ops.depthwise_conv2d`, then :func:`profond.ops.conv2d`
    with the bias and a ReLU inside).

    Parameters
    ----------
    filters : int
    kernel_size : int or (int, int)
    strides, padding, data_format, dilation_rate, depth_multiplier, activation, use_bias
        As :class:`DepthwiseConv2D`.
    depthwise_initializer, pointwise_initializer, bias_initializer : str or Initializer
    depthwise_regularizer, pointwise_regularizer, bias_regularizer, activity_regularizer
    depthwise_constraint, pointwise_constraint, bias_constraint

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import SeparableConv2D
    >>> layer = SeparableConv2D(8, 3, padding="same")
    >>> layer(np.zeros((2, 6, 6, 3))).shape
    (2, 6, 6, 8)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 3, 3, 1), (1, 1, 3, 8), (8,)]
    """

    rank = 2


class SeparableConv1D(_SeparableConv):
    """Depthwise-separable 1-D convolution (arguments as :class:`SeparableConv2D`, single
    ints). Weights ``[depthwise_kernel (k, in, m), pointwise_kernel (1, in * m, filters),
    bias]``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import SeparableConv1D
    >>> SeparableConv1D(5, 3, depth_multiplier=2)(np.zeros((2, 9, 4))).shape
    (2, 7, 5)
    """

    rank = 1


SeparableConvolution1D, SeparableConvolution2D = SeparableConv1D, SeparableConv2D
