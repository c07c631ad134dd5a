"""Keras's ``keras.ops.nn``: the neural-network ops under Keras's names, arguments and defaults.

The activations are profond's fused ops themselves (``gelu`` takes Keras's op default,
``approximate=True``). ``conv``, ``max_pool`` and ``average_pool`` choose the 1-D or 2-D op by
the input's rank (channels-last only, as everywhere in profond); the rest are written here from
the differentiable primitives. Keras's ``keras.ops.nn`` names that profond lacks (transposed,
depthwise and separable convolutions, adaptive pooling, CTC, attention, fold/unfold, layer and
RMS normalization, ``depth_to_space``, ``psnr``, ``polar``) are not here.

Examples
--------
>>> import numpy as np
>>> from profond.ops import nn
>>> nn.one_hot(np.array([2, 0]), 3)
tensor([[0., 0., 1.],
       [1., 0., 0.]], dtype=float32)
"""

from __future__ import annotations

import numbers

from profond import backend
from profond.autograd.activation import log_softmax, relu, sigmoid, softmax
from profond.autograd.elementwise import abs, clip, log, maximum, pow, sqrt, square
from profond.autograd.function import as_tensor, make
from profond.autograd.reduction import mean as _mean
from profond.autograd.reduction import sum
from profond.autograd.shape import reshape
from profond.autograd.tensor import Tensor
from profond.ops import activation as _activation
from profond.ops.activation import (
    celu,
    elu,
    glu,
    hard_shrink,
    hard_sigmoid,
    hard_silu,
    hard_swish,
    hard_tanh,
    leaky_relu,
    log_sigmoid,
    relu6,
    selu,
    silu,
    soft_shrink,
    softplus,
    softsign,
    sparse_plus,
    sparse_sigmoid,
    sparsemax,
    squareplus,
    tanh_shrink,
    threshold,
)
from profond.ops.conv import conv1d, conv2d
from profond.ops.crossentropy import sigmoid_cross_entropy, softmax_cross_entropy
from profond.ops.pooling import avg_pool1d, avg_pool2d, max_pool1d, max_pool2d

__all__ = [
    "average_pool", "batch_normalization", "binary_crossentropy", "categorical_crossentropy",
    "celu", "conv", "elu", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "log_sigmoid", "log_softmax", "max_pool", "moments",
    "multi_hot", "normalize", "one_hot", "relu", "relu6", "selu", "sigmoid", "silu",
    "soft_shrink", "softmax", "softplus", "softsign", "sparse_categorical_crossentropy",
    "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh_shrink",
    "threshold",
]

swish = silu
_EPSILON = 1e-7  # Keras's backend.epsilon(), which its crossentropies and normalize use


def gelu(x, approximate: bool = True) -> Tensor:
    """Keras's ``ops.gelu``: the tanh approximation by default (``activations.gelu`` and
    :func:`profond.ops.gelu` default to the exact form, as Keras's activation does)."""
    return _activation.gelu(x, approximate=approximate)


def _channels_last(data_format, owner):
    if data_format not in (None, "channels_last"):
        raise ValueError(f"The 'data_format' parameter of {owner} must be None or "
                         f"'channels_last' (profond's layout). Got {data_format!r} instead.")


def _by_rank(inputs, ops_by_rank, owner):
    x = as_tensor(inputs)
    if x.ndim not in ops_by_rank:
        raise ValueError(f"The 'inputs' parameter of {owner} must have rank 3 (batch, steps, "
                         f"channels) or 4 (batch, height, width, channels). Got shape "
                         f"{tuple(x.shape)} instead.")
    return x, ops_by_rank[x.ndim]


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """1-D or 2-D convolution by the rank of ``inputs`` (:func:`~profond.ops.conv1d`,
    :func:`~profond.ops.conv2d`); ``kernel`` in Keras's layout ``(*window, in, out)``."""
    _channels_last(data_format, "conv")
    x, fn = _by_rank(inputs, {3: conv1d, 4: conv2d}, "conv")
    return fn(x, as_tensor(kernel, x), strides=strides, padding=padding,
              dilation_rate=dilation_rate)


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Maximum over windows, 1-D or 2-D by the rank of ``inputs``."""
    _channels_last(data_format, "max_pool")
    x, fn = _by_rank(inputs, {3: max_pool1d, 4: max_pool2d}, "max_pool")
    return fn(x, pool_size, strides=strides, padding=padding)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """Mean over windows, 1-D or 2-D by the rank of ``inputs``."""
    _channels_last(data_format, "average_pool")
    x, fn = _by_rank(inputs, {3: avg_pool1d, 4: avg_pool2d}, "average_pool")
    return fn(x, pool_size, strides=strides, padding=padding)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False) -> Tensor:
    """One-hot encoding of integer ``x`` along a new axis ``axis`` (a negative index gives a
    row of zeros, as Keras's). Not differentiable.

    Parameters
    ----------
    x : array-like of int
    num_classes : int
    axis : int, default -1
    dtype : str, optional
        Default float32.
    sparse : bool, default False
        profond has no sparse tensors: True is refused.
    """
    if sparse:
        raise ValueError("The 'sparse' parameter of one_hot must be False (profond has no "
                         "sparse tensors). Got True instead.")
    labels = x.data if isinstance(x, Tensor) else backend.asarray(x)
    xp = backend.get_array_module(labels)
    if labels.dtype.kind not in "biu":
        labels = labels.astype("int64")
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or \
            num_classes < 1:
        raise ValueError(f"The 'num_classes' parameter of one_hot must be an int >= 1. Got "
                         f"{num_classes!r} instead.")
    out = (labels[..., None] == xp.arange(num_classes)).astype(dtype or "float32")
    if axis != -1:
        out = xp.moveaxis(out, -1, axis)
    return make(out)


def multi_hot(inputs, num_classes=None, axis=-1, dtype=None, sparse=False) -> Tensor:
    """Which classes each sample holds: the one-hot rows of ``inputs`` (shape ``(batch, k)``,
    or ``(k,)`` for one sample) merged by their maximum."""
    if num_classes is None:
        raise ValueError("The 'num_classes' parameter of multi_hot must be an int >= 1. Got "
                         "None instead.")
    hot = one_hot(inputs, num_classes, axis=axis, dtype=dtype, sparse=sparse)
    return make(hot.data.max(axis=1 if hot.ndim > 2 else 0))


def moments(x, axes, keepdims=False, synchronized=False):
    """Mean and (biased) variance of ``x`` over ``axes``, as a pair of tensors."""
    if synchronized:
        raise ValueError("The 'synchronized' parameter of moments must be False (no "
                         "distribution strategy here). Got True instead.")
    axes = tuple(axes) if isinstance(axes, (list, tuple)) else axes
    m = _mean(x, axis=axes, keepdims=True)
    variance = _mean(square(x - m), axis=axes, keepdims=keepdims)
    return (m if keepdims else _mean(x, axis=axes)), variance


def batch_normalization(x, mean, variance, axis, offset=None, scale=None, epsilon=1e-3):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset``, the statistics of shape
    ``(x.shape[axis],)`` (Keras's argument order; every argument gets a gradient)."""
    x = as_tensor(x)
    shape = [1] * x.ndim
    shape[axis] = x.shape[axis]

    def along(t):
        return reshape(as_tensor(t, x), shape)

    inv = 1.0 / sqrt(along(variance) + epsilon)
    if scale is not None:
        inv = inv * along(scale)
    out = (x - along(mean)) * inv
    return out if offset is None else out + along(offset)


def normalize(x, axis=-1, order=2, epsilon=None) -> Tensor:
    """``x`` divided by its ``order``-norm along ``axis``, the norm kept at least ``epsilon``
    (default 1e-7, Keras's), so a zero vector stays zero, with a finite gradient."""
    if isinstance(order, bool) or not isinstance(order, numbers.Integral) or order < 1:
        raise ValueError(f"The 'order' parameter of normalize must be an int >= 1. Got "
                         f"{order!r} instead.")
    x = as_tensor(x)
    epsilon = _EPSILON if epsilon is None else epsilon
    # the floor is taken on the sum, before the root: at a zero vector the root's gradient
    # would be infinite, and 0 * inf is nan
    if order == 2:
        norm = sqrt(maximum(sum(square(x), axis=axis, keepdims=True), epsilon ** 2))
    elif order == 1:
        norm = maximum(sum(abs(x), axis=axis, keepdims=True), epsilon)
    else:
        total = sum(pow(abs(x), float(order)), axis=axis, keepdims=True)
        norm = pow(maximum(total, epsilon ** order), 1.0 / order)
    return x / norm


def categorical_crossentropy(target, output, from_logits=False, axis=-1) -> Tensor:
    """Per-sample cross-entropy ``-sum(target * log(p))`` along ``axis`` (no reduction).

    ``from_logits=False``: ``output`` holds probabilities, renormalised and clipped to
    ``[1e-7, 1 - 1e-7]`` as Keras does; ``from_logits=True``: logits, through the fused
    softmax cross-entropy.
    """
    output = as_tensor(output)
    if from_logits:
        return softmax_cross_entropy(output, target, axis=axis)
    target = as_tensor(target, output)
    if tuple(target.shape) != tuple(output.shape):
        raise ValueError(f"The 'target' parameter of categorical_crossentropy must have the "
                         f"shape of 'output' {tuple(output.shape)}. Got shape "
                         f"{tuple(target.shape)} instead.")
    p = clip(output / sum(output, axis=axis, keepdims=True), _EPSILON, 1.0 - _EPSILON)
    return -sum(target * log(p), axis=axis)


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1) -> Tensor:
    """:func:`categorical_crossentropy` with integer class indices as ``target`` (a last axis
    of length 1 is dropped, as Keras's)."""
    output = as_tensor(output)
    labels = target.data if isinstance(target, Tensor) else backend.asarray(target)
    if labels.ndim == output.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    hot = one_hot(labels, output.shape[axis], axis=axis, dtype=output.dtype)
    if tuple(hot.shape) != tuple(output.shape):
        raise ValueError(f"The 'target' parameter of sparse_categorical_crossentropy must have "
                         f"the shape of 'output' {tuple(output.shape)} without axis {axis}. "
                         f"Got shape {tuple(labels.shape)} instead.")
    return categorical_crossentropy(hot, output, from_logits=from_logits, axis=axis)


def binary_crossentropy(target, output, from_logits=False) -> Tensor:
    """Elementwise ``-(t log p + (1 - t) log(1 - p))`` (no reduction); ``output`` clipped to
    ``[1e-7, 1 - 1e-7]`` when it holds probabilities, through the stable fused form when it
    holds logits."""
    output = as_tensor(output)
    target = as_tensor(target, output)
    if tuple(target.shape) != tuple(output.shape):
        raise ValueError(f"The 'target' parameter of binary_crossentropy must have the shape "
                         f"of 'output' {tuple(output.shape)}. Got shape {tuple(target.shape)} "
                         "instead.")
    if from_logits:
        return sigmoid_cross_entropy(output, target)
    p = clip(output, _EPSILON, 1.0 - _EPSILON)
    return -(target * log(p) + (1.0 - target) * log(1.0 - p))
