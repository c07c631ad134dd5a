"""Convolution layers: ``Conv1D``, ``Conv2D`` and ``Conv3D`` (channels-last, Keras's kernel
layout), and Keras's ``Convolution1D/2D/3D`` aliases (the same classes)."""

from __future__ import annotations

from profond import activations, ops
from profond._validation import check_choice, check_int
from profond.layers._weight_arguments import (
    add_configured_weight,
    store_affine_arguments,
    weight_arguments_config,
)
from profond.layers.base import Layer
from profond.ops.conv import _check_inputs, _conv2d_node, conv_output_length, normalize_tuple

__all__ = ["Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D"]

_RELU = activations.get("relu")

INPUT_LAYOUTS = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
                 3: "(batch, depth, height, width, channels)"}


def check_data_format(data_format, owner):
    """Only channels-last data exist in profond; say so clearly for "channels_first"."""
    if data_format not in (None, "channels_last"):
        raise ValueError(f"The 'data_format' parameter of {owner} must be 'channels_last' or "
                         f"None (profond's data are channels-last). Got {data_format!r} instead.")
    return "channels_last"


class _WindowLayer(Layer):
    """What every sliding-window layer (convolutions, transposed and depthwise ones) shares: its
    window arguments, the check of its input's rank (and, with ``checks_span``, that the window
    fits a "valid" input), and the input's channel count at build time."""

    rank = 2
    _paddings = ("valid", "same")
    checks_span = True  # a transposed convolution's window grows its input: nothing to fit

    def _window_arguments(self, kernel_size, strides, padding, data_format, dilation_rate):
        owner = type(self).__name__
        self.kernel_size = normalize_tuple(kernel_size, self.rank, "kernel_size", owner)
        self.strides = normalize_tuple(strides, self.rank, "strides", owner)
        self.padding = check_choice(padding.lower() if isinstance(padding, str) else padding,
                                    "padding", owner, self._paddings)
        self.data_format = check_data_format(data_format, owner)
        self.dilation_rate = normalize_tuple(dilation_rate, self.rank, "dilation_rate", owner)
        self.input_channels = None

    def _check_shape(self, input_shape):
        owner = type(self).__name__
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Input of layer '{self.name}' ({owner}) must have rank "
                             f"{self.rank + 2} {INPUT_LAYOUTS[self.rank]}. Got input shape "
                             f"{tuple(input_shape)}.")
        if self.checks_span and self.padding == "valid":
            for size, k, d in zip(input_shape[1:-1], self.kernel_size, self.dilation_rate):
                span = (k - 1) * d + 1
                if size is not None and size < span:
                    raise ValueError(
                        f"Layer '{self.name}' ({owner}): the kernel {self.kernel_size} (dilation "
                        f"{self.dilation_rate}, span {span}) is larger than the input of shape "
                        f"{tuple(input_shape)} with padding='valid'. Use a smaller kernel, "
                        "padding='same', or larger inputs.")

    def _build_channels(self, input_shape) -> int:
        """Check ``input_shape`` and record (and return) its number of channels."""
        self._check_shape(input_shape)
        if input_shape[-1] is None:
            raise ValueError(f"Input of layer '{self.name}' ({type(self).__name__}) must have a "
                             f"known number of channels. Got input shape {tuple(input_shape)} "
                             "instead.")
        self.input_channels = int(input_shape[-1])
        return self.input_channels

    def _check_call(self, inputs):
        shape = tuple(inputs.shape)
        self._check_shape(shape)
        if shape[-1] != self.input_channels:
            raise ValueError(f"Input of layer '{self.name}' ({type(self).__name__}) must have "
                             f"{self.input_channels} channels. Got shape {shape} instead.")


class _Conv(_WindowLayer):
    """Shared code of the convolution layers of rank 1, 2 and 3."""

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.filters = check_int(filters, "filters", owner, low=1)
        self._window_arguments(kernel_size, strides, padding, data_format, dilation_rate)
        self.groups = check_int(groups, "groups", owner, low=1)
        if self.filters % self.groups:
            raise ValueError(f"The 'filters' parameter of {owner} must be a multiple of groups "
                             f"({self.groups}). Got {self.filters} instead.")
        store_affine_arguments(
            self, activation, use_bias,
            kernel=(kernel_initializer, kernel_regularizer, kernel_constraint),
            bias=(bias_initializer, bias_regularizer, bias_constraint),
            activity_regularizer=activity_regularizer)

    def build(self, input_shape):
        self._build_channels(input_shape)
        if self.input_channels % self.groups:
            raise ValueError(f"Input of layer '{self.name}' ({type(self).__name__}) must have a "
                             f"number of channels divisible by groups={self.groups}. Got input "
                             f"shape {tuple(input_shape)} instead.")
        self.kernel = add_configured_weight(
            self, "kernel",
            self.kernel_size + (self.input_channels // self.groups, self.filters))
        self.bias = add_configured_weight(self, "bias", (self.filters,)) \
            if self.use_bias else None
        self.built = True

    def call(self, inputs, _relu_by_pool=None, _pool_too=False):
        # _relu_by_pool: the max pooling layer that alone reads this output and applies the ReLU
        # (see layers.pooling.call_relu_pool); the output is then the convolution's, un-ReLU'd,
        # and only as far as that pooling reads it (see _pool_crop). With _pool_too, the
        # pooled, ReLU'd output, the pooling layer's call skipped.
        shape = tuple(inputs.shape)
        if len(shape) != self.rank + 2 or shape[-1] != self.input_channels:
            raise ValueError(f"Input of layer '{self.name}' ({type(self).__name__}) must have "
                             f"shape {self._expected()}. Got shape {shape} instead.")
        self._check_shape(shape)
        fn = {1: ops.conv1d, 2: ops.conv2d, 3: ops.conv3d}[self.rank]
        strides = self.strides if self.rank > 1 else self.strides[0]
        dilation = self.dilation_rate if self.rank > 1 else self.dilation_rate[0]
        if _relu_by_pool is not None:
            pool = _relu_by_pool
            if _pool_too and self.rank == 2 and self.groups == 1 and \
                    self.padding == pool.padding == "valid" and pool.strides == pool.pool_size \
                    and inputs.data.dtype == self.kernel.data.dtype:
                # (the op leaves out the outputs the pooling does not read, as crop does)
                return ops.pooling.conv2d_relu_max_pool(inputs, self.kernel, self.bias,
                                                        self.strides, self.dilation_rate,
                                                        pool.pool_size)
            crop = self._pool_crop(shape, pool)
            if crop is None:
                out = fn(inputs, self.kernel, self.bias, strides, self.padding, dilation,
                         groups=self.groups)
            elif self.rank == 2 and self.groups == 1:  # the node leaves the outputs out
                x, kernel, bias = _check_inputs(inputs, self.kernel, self.bias, 2, "conv2d")
                out = _conv2d_node(x, kernel, bias, x.data, kernel.data, self.strides,
                                   self.dilation_rate, ((0, 0), (0, 0)), crop=crop)
            else:
                out = fn(inputs[(slice(None),) + tuple(slice(0, c) for c in crop)], self.kernel,
                         self.bias, strides, self.padding, dilation, groups=self.groups)
            # the pooling layer's own call (its __call__ skipped, see call_relu_pool)
            return pool.call(out, _relu=True) if _pool_too else out
        if self.activation is _RELU:  # fused into the convolution node
            return fn(inputs, self.kernel, self.bias, strides, self.padding, dilation, relu=True,
                      groups=self.groups)
        return self.activation(fn(inputs, self.kernel, self.bias, strides, self.padding,
                                  dilation, groups=self.groups))

    def _pool_crop(self, shape, pool):
        """The input's leading extent (one size per spatial axis) that the outputs ``pool``, a
        "valid" pooling, reads depend on, or None when that is the whole input: the trailing
        rows (columns) that only feed an odd-sized output's last row under 2 x 2 windows are
        left out. Exact, also for the gradients (those outputs would get zero gradient).
        bench/cnn.py's second convolution: 11 x 11 -> 10 x 10 outputs; its model, batch 64,
        in-process A/B: predict 7.41 -> 6.76, training 20.6 -> 19.6 ms per batch."""
        if self.padding != "valid" or pool.padding != "valid":
            return None
        sizes, cropped = [], False
        for axis, (k, s, d, p, ps) in enumerate(zip(self.kernel_size, self.strides,
                                                     self.dilation_rate, pool.pool_size,
                                                     pool.strides)):
            size = shape[1 + axis]
            out = conv_output_length(size, k, s, "valid", d)
            used = (conv_output_length(out, p, ps, "valid") - 1) * ps + p
            need = (used - 1) * s + (k - 1) * d + 1
            cropped |= 0 < need < size
            sizes.append(need if 0 < need < size else size)
        return tuple(sizes) if cropped else None

    def _expected(self):
        return "(None, " + "None, " * self.rank + f"{self.input_channels})"

    def compute_output_shape(self, input_shape):
        self._check_shape(input_shape)
        spatial = tuple(
            None if size is None else conv_output_length(size, k, s, self.padding, d)
            for size, k, s, d in zip(input_shape[1:-1], self.kernel_size, self.strides,
                                     self.dilation_rate))
        return (input_shape[0],) + spatial + (self.filters,)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": list(self.kernel_size), "strides": list(self.strides),
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": list(self.dilation_rate), "groups": self.groups,
                "activation": activations.serialize(self.activation), "use_bias": self.use_bias,
                **weight_arguments_config(self)}


class Conv2D(_Conv):
    """2-D convolution over channels-last images: ``activation(conv(inputs, kernel) + bias)``.

    One fused node per call (im2col into a single GEMM, see :func:`profond.ops.conv2d`).
    Weights in Keras order: ``[kernel (kh, kw, in, filters), bias (filters,)]``.

    Input shape ``(batch, height, width, channels)``; output shape
    ``(batch, new_height, new_width, filters)``.

    Parameters
    ----------
    filters : int
        Number of output channels (>= 1).
    kernel_size : int or (int, int)
    strides : int or (int, int), default 1
    padding : {"valid", "same"}, default "valid"
    data_format : None or "channels_last"
        profond's data are channels-last; "channels_first" is refused.
    dilation_rate : int or (int, int), default 1
    groups : int, default 1
        Split the input channels and the filters into this many groups (both must be multiples
        of it); filter group ``g`` sees channel group ``g`` only. The kernel is then
        ``(kh, kw, in / groups, filters)``, Keras's layout.
    activation : str or callable, optional
    use_bias : bool, default True
    kernel_initializer, bias_initializer : str or Initializer
        Default ``"glorot_uniform"`` and ``"zeros"`` (Keras's); ``"he_normal"`` suits ReLU.
    kernel_regularizer, bias_regularizer, activity_regularizer : str or Regularizer, optional

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Conv2D
    >>> layer = Conv2D(8, 3, activation="relu")
    >>> layer(np.zeros((2, 28, 28, 1))).shape
    (2, 26, 26, 8)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 3, 1, 8), (8,)]
    >>> Conv2D(8, 3, strides=2, padding="same").compute_output_shape((None, 28, 28, 1))
    (None, 14, 14, 8)
    """

    rank = 2


class Conv1D(_Conv):
    """1-D convolution over channels-last sequences (temporal convolution).

    Weights in Keras order: ``[kernel (kernel_size, in, filters), bias (filters,)]``. The
    arguments are :class:`Conv2D`'s, with single ints, and ``padding`` may also be
    ``"causal"`` (output ``t`` depends only on inputs up to ``t``).

    Input shape ``(batch, steps, channels)``; output shape ``(batch, new_steps, filters)``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Conv1D
    >>> Conv1D(4, 3, padding="causal")(np.zeros((2, 10, 6))).shape
    (2, 10, 4)
    """

    rank = 1
    _paddings = ("valid", "same", "causal")


class Conv3D(_Conv):
    """3-D convolution over channels-last volumes (video, medical scans).

    Weights in Keras order: ``[kernel (kd, kh, kw, in / groups, filters), bias (filters,)]``.
    The arguments are :class:`Conv2D`'s, with triples of ints; one fused node per call (see
    :func:`profond.ops.conv3d`).

    Input shape ``(batch, depth, height, width, channels)``; output shape
    ``(batch, new_depth, new_height, new_width, filters)``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Conv3D
    >>> layer = Conv3D(4, 3, padding="same")
    >>> layer(np.zeros((2, 6, 6, 6, 1))).shape
    (2, 6, 6, 6, 4)
    >>> [w.shape for w in layer.get_weights()]
    [(3, 3, 3, 1, 4), (4,)]
    """

    rank = 3


Convolution1D, Convolution2D, Convolution3D = Conv1D, Conv2D, Conv3D
