"""Pooling layers: local max/average pooling and global pooling, 1-D, 2-D and 3-D
(channels-last), and Keras's short aliases (``MaxPool2D``, ``GlobalAvgPool1D``, ...: the same
classes)."""

from __future__ import annotations

from profond import ops
from profond._validation import check_choice
from profond.autograd.engine import is_grad_enabled
from profond.layers.base import Layer
from profond.layers.conv import _RELU, INPUT_LAYOUTS, _Conv, check_data_format
from profond.layers.masks import get_mask
from profond.ops.conv import conv_output_length, normalize_tuple

__all__ = ["MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D",
           "AveragePooling2D", "AveragePooling3D", "GlobalAveragePooling1D",
           "GlobalAveragePooling2D", "GlobalAveragePooling3D", "GlobalMaxPooling1D",
           "GlobalMaxPooling2D", "GlobalMaxPooling3D",
           "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D", "AvgPool3D",
           "GlobalMaxPool1D", "GlobalMaxPool2D", "GlobalMaxPool3D", "GlobalAvgPool1D",
           "GlobalAvgPool2D", "GlobalAvgPool3D"]


def _check_rank(layer, input_shape, rank):
    if len(input_shape) != rank + 2:
        raise ValueError(f"Input of layer '{layer.name}' ({type(layer).__name__}) must have rank "
                         f"{rank + 2} {INPUT_LAYOUTS[rank]}. Got input shape "
                         f"{tuple(input_shape)}.")


def relu_pool_fusable(first, second) -> bool:
    """Whether ``first`` is a ReLU convolution whose ReLU ``second``, a max pooling of the same
    rank (1 or 2), may apply to its pooled output instead: max and ReLU commute, so the values
    and gradients are the same, and the ReLU's pass is over a quarter of the data (2 x 2
    windows). bench/cnn.py's model, batch 64: predict 6.4 -> 5.3, training 17.1 -> 15.5 ms per
    batch (in-process A/B, best of 8).

    Only a model's call loop may use it (``Sequential``, functional models), and only when
    nothing else reads ``first``'s output: that output is not ReLU'd then. Layers whose ``call``
    is overridden, and a convolution with an activity regularizer (it reads the ReLU'd output),
    are left alone.
    """
    return (type(second).call is _Pooling.call and second.kind == "max" and
            type(first).call is _Conv.call and first.activation is _RELU and
            first.rank == second.rank and first.rank in (1, 2) and
            first.activity_regularizer is None)


def call_relu_pool(conv, pool, x, training=None, mask=None):
    """``pool(conv(x))`` for a pair that :func:`relu_pool_fusable` accepts, in a model's call
    loop, when nothing else reads ``conv``'s output: ``conv`` skips its ReLU and ``pool``
    applies it to its output. With no gradient to compute (predict), the two run as one op
    (``ops.pooling.conv2d_relu_max_pool``) and ``pool``'s own call is skipped: that needs it
    built, without a dtype policy of its own (it would cast) or an activity regularizer, and
    no mask.
    """
    if mask is None and conv.built and pool.built and pool._dtype_policy is None and \
            pool.activity_regularizer is None and not (is_grad_enabled() and (
                x.requires_grad or any(w.requires_grad for w in conv.weights))):
        return conv(x, training=training, _relu_by_pool=pool, _pool_too=True)
    y = conv(x, training=training, mask=mask, _relu_by_pool=pool)
    return pool(y, training=training, mask=get_mask(y), _relu=True)


class _Pooling(Layer):
    """Shared code of the local pooling layers."""

    rank = 2
    kind = "max"

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = type(self).__name__
        self.pool_size = normalize_tuple(pool_size, self.rank, "pool_size", owner)
        self.strides = self.pool_size if strides is None else normalize_tuple(
            strides, self.rank, "strides", owner)
        self.padding = check_choice(padding.lower() if isinstance(padding, str) else padding,
                                    "padding", owner, ("valid", "same"))
        self.data_format = check_data_format(data_format, owner)

    def _check(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        if self.padding == "valid":
            for size, p in zip(input_shape[1:-1], self.pool_size):
                if size is not None and size < p:
                    raise ValueError(
                        f"Layer '{self.name}' ({type(self).__name__}): the pool window "
                        f"{self.pool_size} is larger than the input of shape "
                        f"{tuple(input_shape)} with padding='valid'.")

    def build(self, input_shape):
        self._check(input_shape)
        self.built = True

    def call(self, inputs, _relu=False):
        # _relu: the ReLU of the convolution before this layer (see relu_pool_fusable)
        self._check(tuple(inputs.shape))
        fn = {(1, "max"): ops.max_pool1d, (2, "max"): ops.max_pool2d,
              (3, "max"): ops.max_pool3d, (1, "avg"): ops.avg_pool1d,
              (2, "avg"): ops.avg_pool2d, (3, "avg"): ops.avg_pool3d}[self.rank, self.kind]
        if _relu:
            return fn(inputs, self.pool_size, self.strides, self.padding, relu=True)
        return fn(inputs, self.pool_size, self.strides, self.padding)

    def compute_output_shape(self, input_shape):
        self._check(input_shape)
        spatial = tuple(None if size is None else conv_output_length(size, p, s, self.padding)
                        for size, p, s in zip(input_shape[1:-1], self.pool_size, self.strides))
        return (input_shape[0],) + spatial + (input_shape[-1],)

    def get_config(self):
        return {**super().get_config(), "pool_size": list(self.pool_size),
                "strides": list(self.strides), "padding": self.padding,
                "data_format": self.data_format}


class MaxPooling2D(_Pooling):
    """Maximum over ``pool_size`` windows of channels-last images.

    Parameters
    ----------
    pool_size : int or (int, int), default 2
    strides : int or (int, int), optional
        Defaults to ``pool_size`` (non-overlapping windows, the fast path).
    padding : {"valid", "same"}, default "valid"
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import MaxPooling2D
    >>> MaxPooling2D()(np.zeros((2, 11, 11, 3))).shape
    (2, 5, 5, 3)
    """

    rank, kind = 2, "max"


class AveragePooling2D(_Pooling):
    """Mean over ``pool_size`` windows of channels-last images (arguments as MaxPooling2D).

    With ``padding="same"``, border windows average their real elements only (Keras's rule).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import AveragePooling2D
    >>> AveragePooling2D(3, strides=1, padding="same")(np.ones((1, 4, 4, 2))).shape
    (1, 4, 4, 2)
    """

    rank, kind = 2, "avg"


class MaxPooling1D(_Pooling):
    """Maximum over windows of ``pool_size`` steps of channels-last sequences.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import MaxPooling1D
    >>> MaxPooling1D(3)(np.zeros((2, 10, 4))).shape
    (2, 3, 4)
    """

    rank, kind = 1, "max"


class AveragePooling1D(_Pooling):
    """Mean over windows of ``pool_size`` steps of channels-last sequences.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import AveragePooling1D
    >>> AveragePooling1D(2, padding="same")(np.zeros((2, 5, 4))).shape
    (2, 3, 4)
    """

    rank, kind = 1, "avg"


class MaxPooling3D(_Pooling):
    """Maximum over ``pool_size`` windows of channels-last volumes (arguments as
    :class:`MaxPooling2D`, triples of ints).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import MaxPooling3D
    >>> MaxPooling3D()(np.zeros((2, 4, 5, 6, 3))).shape
    (2, 2, 2, 3, 3)
    """

    rank, kind = 3, "max"


class AveragePooling3D(_Pooling):
    """Mean over ``pool_size`` windows of channels-last volumes (arguments as
    :class:`MaxPooling2D`, triples of ints).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import AveragePooling3D
    >>> AveragePooling3D(3, strides=1, padding="same")(np.ones((1, 4, 4, 4, 2))).shape
    (1, 4, 4, 4, 2)
    """

    rank, kind = 3, "avg"


class _GlobalPooling(Layer):
    """Shared code of the global pooling layers."""

    rank = 2
    kind = "avg"

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, type(self).__name__)
        self.keepdims = bool(keepdims)

    def build(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        self.built = True

    def call(self, inputs):
        _check_rank(self, tuple(inputs.shape), self.rank)
        axes = tuple(range(1, self.rank + 1))
        fn = ops.mean if self.kind == "avg" else ops.max
        return fn(inputs, axis=axes, keepdims=self.keepdims)

    def compute_output_shape(self, input_shape):
        _check_rank(self, input_shape, self.rank)
        if self.keepdims:
            return (input_shape[0],) + (1,) * self.rank + (input_shape[-1],)
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format,
                "keepdims": self.keepdims}


class GlobalAveragePooling2D(_GlobalPooling):
    """Mean over height and width: ``(batch, h, w, c)`` to ``(batch, c)``.

    Parameters
    ----------
    data_format : None or "channels_last"
    keepdims : bool, default False
        Keep the pooled axes with length 1: ``(batch, 1, 1, c)``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import GlobalAveragePooling2D
    >>> GlobalAveragePooling2D()(np.ones((2, 5, 5, 3))).shape
    (2, 3)
    """

    rank, kind = 2, "avg"


class GlobalMaxPooling2D(_GlobalPooling):
    """Maximum over height and width: ``(batch, h, w, c)`` to ``(batch, c)``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import GlobalMaxPooling2D
    >>> GlobalMaxPooling2D(keepdims=True)(np.ones((2, 5, 5, 3))).shape
    (2, 1, 1, 3)
    """

    rank, kind = 2, "max"


class GlobalAveragePooling1D(_GlobalPooling):
    """Mean over the steps: ``(batch, steps, c)`` to ``(batch, c)``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import GlobalAveragePooling1D
    >>> GlobalAveragePooling1D()(np.ones((2, 7, 3))).shape
    (2, 3)

    With a mask (``call(inputs, mask=)``, or the one an ``Embedding(mask_zero=True)`` leaves),
    the mean is over the unmasked steps, as in Keras.
    """

    rank, kind = 1, "avg"

    def call(self, inputs, mask=None):
        if mask is None:
            return super().call(inputs)
        _check_rank(self, tuple(inputs.shape), self.rank)
        weights = inputs.xp.asarray(mask, dtype=inputs.dtype)[:, :, None]
        total = ops.sum(inputs * weights, axis=1, keepdims=self.keepdims)
        return total / weights.sum(axis=1, keepdims=self.keepdims)


class GlobalMaxPooling1D(_GlobalPooling):
    """Maximum over the steps: ``(batch, steps, c)`` to ``(batch, c)``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import GlobalMaxPooling1D
    >>> GlobalMaxPooling1D()(np.ones((2, 7, 3))).shape
    (2, 3)
    """

    rank, kind = 1, "max"


class GlobalAveragePooling3D(_GlobalPooling):
    """Mean over depth, height and width: ``(batch, d, h, w, c)`` to ``(batch, c)``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import GlobalAveragePooling3D
    >>> GlobalAveragePooling3D()(np.ones((2, 3, 4, 5, 3))).shape
    (2, 3)
    """

    rank, kind = 3, "avg"


class GlobalMaxPooling3D(_GlobalPooling):
    """Maximum over depth, height and width: ``(batch, d, h, w, c)`` to ``(batch, c)``.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import GlobalMaxPooling3D
    >>> GlobalMaxPooling3D(keepdims=True)(np.ones((2, 3, 4, 5, 3))).shape
    (2, 1, 1, 1, 3)
    """

    rank, kind = 3, "max"


# Keras's short names (the same classes)
MaxPool1D, MaxPool2D, MaxPool3D = MaxPooling1D, MaxPooling2D, MaxPooling3D
AvgPool1D, AvgPool2D, AvgPool3D = AveragePooling1D, AveragePooling2D, AveragePooling3D
GlobalMaxPool1D, GlobalMaxPool2D, GlobalMaxPool3D = (GlobalMaxPooling1D, GlobalMaxPooling2D,
                                                     GlobalMaxPooling3D)
GlobalAvgPool1D, GlobalAvgPool2D, GlobalAvgPool3D = (
    GlobalAveragePooling1D, GlobalAveragePooling2D, GlobalAveragePooling3D)
