"""The activation layers of Keras 3: ``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU`` and ``Softmax``.

Each holds its activation's arguments and runs the op of :mod:`profond.ops.activation`, with
Keras's names, defaults and configs: ``layers.ReLU(max_value=6.0)`` is
``Activation(lambda x: relu(x, max_value=6.0))`` that can be saved. ``PReLU`` learns its slope
``alpha`` (Keras's weight and shape); ``Softmax`` takes a mask, as in Keras.
"""

from __future__ import annotations

import numbers

from profond import activations, ops
from profond._validation import check_float
from profond.autograd.tensor import Tensor
from profond.layers._weight_arguments import (
    add_configured_weight,
    store_weight_arguments,
    weight_arguments_config,
)
from profond.layers.base import Layer

__all__ = ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"]


class _Elementwise(Layer):
    """An activation layer that has no weight and keeps its input's shape and mask."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)


class ReLU(_Elementwise):
    """Rectified linear unit with Keras's options (see :func:`profond.activations.relu`).

    Parameters
    ----------
    max_value : float, optional
        The output's upper bound (None: none).
    negative_slope : float, default 0.0
        The slope below ``threshold``.
    threshold : float, default 0.0
        Inputs at or below it give 0 (plus the negative slope's part).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import ReLU
    >>> ReLU(max_value=6.0)(np.array([[-1.0, 3.0, 9.0]]))
    tensor([[0., 3., 6.]], dtype=float32)
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        self.max_value = check_float(max_value, "max_value", "ReLU", low=0.0, allow_none=True)
        self.negative_slope = check_float(negative_slope, "negative_slope", "ReLU", low=0.0)
        self.threshold = check_float(threshold, "threshold", "ReLU", low=0.0)

    def call(self, inputs):
        return activations.relu(inputs, negative_slope=self.negative_slope,
                                max_value=self.max_value, threshold=self.threshold)

    def get_config(self):
        return {**super().get_config(), "max_value": self.max_value,
                "negative_slope": self.negative_slope, "threshold": self.threshold}


class LeakyReLU(_Elementwise):
    """``x`` if ``x > 0`` else ``negative_slope * x`` (Maas et al., 2013).

    Parameters
    ----------
    negative_slope : float, default 0.3
        Keras's layer default (the function's is 0.2).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import LeakyReLU
    >>> LeakyReLU()(np.array([[-1.0, 2.0]]))
    tensor([[-0.3,  2. ]], dtype=float32)
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = check_float(negative_slope, "negative_slope", "LeakyReLU", low=0.0)

    def call(self, inputs):
        return activations.leaky_relu(inputs, negative_slope=self.negative_slope)

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


class ELU(_Elementwise):
    """``x`` if ``x > 0`` else ``alpha * (exp(x) - 1)`` (Clevert et al., 2015).

    Keras 3.15's ELU leaves ``alpha`` out of its config (so a reloaded one has 1.0); profond
    writes it.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import ELU
    >>> ELU(alpha=2.0)(np.array([[0.0, 1.0]]))
    tensor([[0., 1.]], dtype=float32)
    """

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = check_float(alpha, "alpha", "ELU")

    def call(self, inputs):
        return activations.elu(inputs, alpha=self.alpha)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha}


class PReLU(Layer):
    """Parametric ReLU ``x if x > 0 else alpha * x`` with a learned ``alpha`` (He et al., 2015).

    Parameters
    ----------
    alpha_initializer, alpha_regularizer, alpha_constraint
        The weight's initializer (default zeros: a ReLU to start with), regularizer and
        constraint.
    shared_axes : int or list of int, optional
        Axes (counted with the batch as 0) along which one slope is shared: ``[1, 2]`` for one
        slope per channel of ``(batch, height, width, channels)`` images.

    Attributes
    ----------
    alpha : Variable, shape input_shape[1:] (1 on the shared axes)
        Keras's weight and layout.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import PReLU
    >>> layer = PReLU(shared_axes=[1])
    >>> layer(np.ones((2, 5, 3))).shape, layer.alpha.shape
    ((2, 5, 3), (1, 3))
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None, alpha_constraint=None,
                 shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        store_weight_arguments(self, alpha=(alpha_initializer, alpha_regularizer,
                                            alpha_constraint))
        if shared_axes is None:
            self.shared_axes = None
        else:
            axes = list(shared_axes) if isinstance(shared_axes, (list, tuple)) else [shared_axes]
            if not all(isinstance(a, numbers.Integral) and not isinstance(a, bool) and a >= 1
                       for a in axes):
                raise ValueError("The 'shared_axes' parameter of PReLU must be an int >= 1 or a "
                                 f"list of them (the batch axis is 0). Got {shared_axes!r} "
                                 "instead.")
            self.shared_axes = [int(a) for a in axes]

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if axis > len(shape):
                raise ValueError(f"The 'shared_axes' parameter of PReLU must name axes of its "
                                 f"input of shape {tuple(input_shape)}. Got {self.shared_axes} "
                                 "instead.")
            shape[axis - 1] = 1
        if any(s is None for s in shape):
            raise ValueError(f"PReLU needs a known size on every axis it does not share. Got "
                             f"an input of shape {tuple(input_shape)} with shared_axes="
                             f"{self.shared_axes}.")
        self.alpha = add_configured_weight(self, "alpha", shape)
        super().build(input_shape)

    def call(self, inputs):
        return ops.prelu(inputs, self.alpha)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), **weight_arguments_config(self),
                "shared_axes": self.shared_axes}


def _large_negative(dtype) -> float:
    # what a masked position gets before the softmax: about exp(-1e9) = 0, and still finite in
    # float16 (as Keras's)
    return -3e4 if str(dtype) == "float16" else -1e9


class Softmax(Layer):
    """``exp(x) / sum(exp(x))`` along ``axis``; masked positions get 0.

    Parameters
    ----------
    axis : int or tuple of int, default -1

    Notes
    -----
    A mask (from a ``Masking``/``Embedding`` layer or passed as ``mask=``) broadcasts against
    the input from the right, as Keras's: the kept positions share the whole probability, the
    others get exactly 0.

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Softmax
    >>> Softmax()(np.array([[1.0, 1.0, 5.0]]), mask=np.array([[True, True, False]]))
    tensor([[0.5, 0.5, 0. ]], dtype=float32)
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        ok = isinstance(axis, numbers.Integral) or (
            isinstance(axis, (list, tuple)) and axis and
            all(isinstance(a, numbers.Integral) for a in axis))
        if not ok or isinstance(axis, bool):
            raise ValueError("The 'axis' parameter of Softmax must be an int or a tuple of "
                             f"ints. Got {axis!r} instead.")
        self.axis = axis
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = self._boolean_mask(inputs, mask)
            inputs = ops.where(mask, inputs, _large_negative(inputs.dtype))
        axes = tuple(self.axis) if isinstance(self.axis, (list, tuple)) else (self.axis,)
        if len(axes) > 1:
            outputs = ops.exp(inputs - ops.logsumexp(inputs, axis=axes, keepdims=True))
        else:
            outputs = activations.softmax(inputs, axis=axes[0])
        if mask is not None:
            outputs = ops.where(mask, outputs, 0.0)
        return outputs

    def _boolean_mask(self, inputs, mask):
        xp = inputs.xp
        mask = mask.data if isinstance(mask, Tensor) else xp.asarray(mask)
        shape, target = tuple(mask.shape), tuple(inputs.shape)
        fits = len(shape) <= len(target) and all(
            m in (1, i) for m, i in zip(shape[::-1], target[::-1]))
        if not fits:
            raise ValueError(f"The 'mask' parameter of Softmax must broadcast against the input "
                             f"of shape {target} (each axis 1 or the input's, from the right). "
                             f"Got shape {shape} instead.")
        return mask if mask.dtype == bool else mask > 0.5

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}
