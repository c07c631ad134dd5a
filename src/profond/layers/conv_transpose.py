"""Transposed convolution layers: ``Conv1DTranspose``, ``Conv2DTranspose``, ``Conv3DTranspose``
(channels-last, Keras's kernel layout ``(*kernel_size, filters, in)``), and Keras's
``Convolution*Transpose`` aliases (the same classes)."""

from __future__ import annotations

from profond import activations, ops
from profond._validation import check_int
from profond.layers._weight_arguments import (
    add_configured_weight,
    store_affine_arguments,
    weight_arguments_config,
)
from profond.layers.conv import _WindowLayer
from profond.ops.conv_nd import conv_transpose_output_length, normalize_output_padding

__all__ = ["Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Convolution1DTranspose",
           "Convolution2DTranspose", "Convolution3DTranspose"]

_RELU = activations.get("relu")


class _ConvTranspose(_WindowLayer):
    """Shared code of the transposed convolution layers."""

    checks_span = False

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.filters = check_int(filters, "filters", owner, low=1)
        self._window_arguments(kernel_size, strides, padding, data_format, dilation_rate)
        self.output_padding = None if output_padding is None else normalize_output_padding(
            output_padding, self.rank, self.strides, owner)
        store_affine_arguments(
            self, activation, use_bias,
            kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
            activity_regularizer=activity_regularizer)

    def build(self, input_shape):
        self._build_channels(input_shape)
        self.kernel = add_configured_weight(
            self, "kernel", self.kernel_size + (self.filters, self.input_channels))
        self.bias = add_configured_weight(self, "bias", (self.filters,)) \
            if self.use_bias else None
        self.built = True

    def call(self, inputs):
        self._check_call(inputs)
        fn = {1: ops.conv1d_transpose, 2: ops.conv2d_transpose, 3: ops.conv3d_transpose}
        relu = self.activation is _RELU
        out = fn[self.rank](inputs, self.kernel, self.bias, self.strides, self.padding,
                            self.output_padding, self.dilation_rate, relu=relu)
        return out if relu else self.activation(out)

    def compute_output_shape(self, input_shape):
        self._check_shape(input_shape)
        ops_ = self.output_padding or (None,) * self.rank
        spatial = tuple(conv_transpose_output_length(size, k, s, self.padding, op, d)
                        for size, k, s, op, d in zip(input_shape[1:-1], self.kernel_size,
                                                     self.strides, ops_, self.dilation_rate))
        return (input_shape[0],) + spatial + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding,
                "output_padding": None if self.output_padding is None
                else list(self.output_padding),
                "data_format": self.data_format, "dilation_rate": list(self.dilation_rate),
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **weight_arguments_config(self)}


class Conv2DTranspose(_ConvTranspose):
    """2-D transposed convolution ("deconvolution"): upsamples channels-last images.

    The adjoint of :class:`Conv2D`: each input position spreads its values over a
    ``kernel_size`` window of the output, windows ``strides`` apart. One fused node per call
    (see :func:`profond.ops.conv_transpose`). Weights in Keras order:
    ``[kernel (kh, kw, filters, in), bias (filters,)]``.

    Parameters
    ----------
    filters : int
        Number of output channels (>= 1).
    kernel_size : int or (int, int)
    strides : int or (int, int), default 1
    padding : {"valid", "same"}, default "valid"
        "same" with ``output_padding=None`` gives ``input * strides`` positions per axis;
        "valid" gives ``(input - 1) * strides + max(kernel, strides)``.
    output_padding : int or (int, int), optional
        Extra positions after the output (each less than its stride), as in Keras.
    data_format : None or "channels_last"
    dilation_rate : int or (int, int), default 1
    activation : str or callable, optional
    use_bias : bool, default True
    kernel_initializer, bias_initializer : str or Initializer
    kernel_regularizer, bias_regularizer, activity_regularizer : str or Regularizer, optional
    kernel_constraint, bias_constraint : str or Constraint, optional

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Conv2DTranspose
    >>> layer = Conv2DTranspose(4, 3, strides=2, padding="same")
    >>> layer(np.zeros((2, 7, 7, 8))).shape
    (2, 14, 14, 4)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 3, 4, 8), (4,)]
    """

    rank = 2


class Conv1DTranspose(_ConvTranspose):
    """1-D transposed convolution of channels-last sequences (arguments as
    :class:`Conv2DTranspose`, single ints). Weights ``[kernel (k, filters, in), bias]``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Conv1DTranspose
    >>> Conv1DTranspose(3, 4, strides=2)(np.zeros((2, 5, 6))).shape
    (2, 12, 3)
    """

    rank = 1


class Conv3DTranspose(_ConvTranspose):
    """3-D transposed convolution of channels-last volumes (arguments as
    :class:`Conv2DTranspose`, triples of ints). Weights
    ``[kernel (kd, kh, kw, filters, in), bias]``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Conv3DTranspose
    >>> Conv3DTranspose(2, 2, strides=2)(np.zeros((1, 3, 3, 3, 4))).shape
    (1, 6, 6, 6, 2)
    """

    rank = 3


Convolution1DTranspose, Convolution2DTranspose, Convolution3DTranspose = (
    Conv1DTranspose, Conv2DTranspose, Conv3DTranspose)
