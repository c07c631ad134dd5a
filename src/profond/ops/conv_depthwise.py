"""Depthwise convolutions of channels-last data (spatial rank 1 or 2), each one fused node.

A depthwise convolution filters each input channel on its own with ``depth_multiplier``
kernels: output channel ``c * m + j`` is channel ``c`` convolved with ``kernel[..., c, j]``
(Keras's and TensorFlow's order). It is the grouped convolution with ``groups = channels``,
but as im2col + GEMM it would be ``channels`` tiny GEMMs; here the work is instead one
broadcast multiply-add per kernel offset over the whole batch:

    out[n, p, c, j] += x[n, p * stride + offset * dilation, c] * kernel[offset, c, j]

so a 3 x 3 kernel costs nine whole-array passes, whatever the batch size and the channels.
The backward pass walks the same offsets: the input's gradient adds ``g * kernel[offset]``
(summed over ``j``) into a strided slice, and the kernel's gradient at each offset is the sum
over the batch and positions of ``x_slice * g``.

References
----------
L. Sifre, "Rigid-motion scattering for image classification", PhD thesis, 2014;
F. Chollet, "Xception: Deep Learning with Depthwise Separable Convolutions", CVPR 2017.
"""

from __future__ import annotations

import itertools

from profond.autograd.function import make, relu_
from profond.autograd.tensor import Tensor
from profond.ops import _depthwise_numba
from profond.ops.conv import normalize_tuple, same_padding
from profond.ops.conv_nd import _offset_slices, check_conv_inputs

__all__ = ["depthwise_conv1d", "depthwise_conv2d"]


def _pads(sizes, ksize, strides, dilation, padding, owner, causal_ok):
    if padding == "valid":
        return tuple((0, 0) for _ in sizes)
    if padding == "same":
        return tuple(same_padding(s, k, st, d)
                     for s, k, st, d in zip(sizes, ksize, strides, dilation))
    if padding == "causal" and causal_ok:
        return (((ksize[0] - 1) * dilation[0], 0),)
    choices = ["valid", "same", "causal"] if causal_ok else ["valid", "same"]
    raise ValueError(f"The 'padding' parameter of {owner} must be one of {choices}. "
                     f"Got {padding!r} instead.")


def _depthwise(x, kernel, bias, rank, strides, padding, dilation_rate, relu, owner):
    layout = "(kernel_size, in, depth_multiplier)" if rank == 1 else \
        "(kh, kw, in, depth_multiplier)"
    x, kernel, bias = check_conv_inputs(x, kernel, bias, rank, owner, layout, -2, None)
    c, m = kernel.shape[-2], kernel.shape[-1]
    if bias is not None and tuple(bias.shape) != (c * m,):
        raise ValueError(f"The 'bias' parameter of {owner} must have shape ({c * m},) "
                         f"(in * depth_multiplier) to match the kernel of shape "
                         f"{tuple(kernel.shape)}. Got shape {tuple(bias.shape)} instead.")
    strides = normalize_tuple(strides, rank, "strides", owner)
    dilation = normalize_tuple(dilation_rate, rank, "dilation_rate", owner)
    xp = x.xp
    ksize, n, sizes = tuple(kernel.shape[:rank]), x.shape[0], tuple(x.shape[1:-1])
    pads = _pads(sizes, ksize, strides, dilation, padding, owner, rank == 1)
    padded = tuple(s + a + b for s, (a, b) in zip(sizes, pads))
    out_sizes = tuple((p - (k - 1) * d - 1) // s + 1
                      for p, k, s, d in zip(padded, ksize, strides, dilation))
    if min(out_sizes) < 1:
        raise ValueError(f"{owner}: the kernel of shape {tuple(kernel.shape)} (dilation "
                         f"{dilation}) is larger than the padded input of shape "
                         f"{tuple(x.shape)} (padding {pads}).")
    inner = tuple(slice(a, a + s) for (a, _), s in zip(pads, sizes))
    kd, dtype = kernel.data, x.data.dtype
    compiled = None
    if kd.dtype == dtype and dtype.char in "fd" and (bias is None or bias.data.dtype == dtype):
        compiled = _depthwise_numba.kernel("forward", xp)
    if compiled is not None:  # one pass over the output, no padded copy (ops._depthwise_numba)
        xd = xp.ascontiguousarray(x.data)
        out = xp.empty((n,) + out_sizes + (c * m,), dtype=dtype)
        compiled(*_four_d(xd, kd, strides, dilation, pads), xp.empty(0, dtype) if bias is None
                 else bias.data, relu, dtype.type(0), _rows(out))
    else:
        if any(a or b for a, b in pads):
            xpad = xp.zeros((n,) + padded + (c,), dtype=dtype)
            xpad[(slice(None),) + inner] = x.data
        else:
            xpad = x.data
        offsets = [(o, (slice(None),) + _offset_slices(o, out_sizes, strides, dilation))
                   for o in itertools.product(*map(range, ksize))]
        # (n, *out, c, m); with m == 1 the trailing axis is dropped so each pass is a plain
        # elementwise product against a row of c weights
        shape = (n,) + out_sizes + ((c,) if m == 1 else (c, m))
        out = _numpy_forward(xp, xpad, kd, offsets, shape, m)
        out = out.reshape((n,) + out_sizes + (c * m,))
        if bias is not None:
            out += bias.data
        if relu:
            relu_(out, xp)
    parents = (x, kernel) if bias is None else (x, kernel, bias)

    def backward(g):
        gb_wanted = bias is not None and bias.requires_grad
        if compiled is not None:  # one pass (ops._depthwise_numba)
            wide = xp.float64
            gk = xp.zeros(kd.shape, wide) if kernel.requires_grad else xp.empty((0,) * 3, wide)
            gb = xp.zeros(c * m, wide) if gb_wanted else xp.empty(0, wide)
            gx = xp.zeros(x.shape, dtype) if x.requires_grad else None
            xd4, kd3, sh, sw, dh, dw, pt, pl = _four_d(xd, kd, strides, dilation, pads)
            _depthwise_numba.kernel("backward", xp)(
                xd4, kd3, _rows(xp.ascontiguousarray(g, dtype=dtype)), _rows(out), relu, sh, sw, dh, dw, pt,
                pl, dtype.type(0), gk.reshape(kd3.shape) if gk.size else gk, gb,
                xp.empty((0,) * 4, dtype) if gx is None else gx.reshape(xd4.shape))
            gk = gk.astype(dtype) if kernel.requires_grad else None
            gb = gb.astype(dtype) if gb_wanted else None
        else:
            gk, gb, gx = _numpy_backward(xp, xpad, kd, g * (out > 0) if relu else g, offsets,
                                         shape, rank, m, kernel.requires_grad, x.requires_grad,
                                         gb_wanted)
            if gx is not None and gx.shape != x.shape:
                gx = gx[(slice(None),) + inner]
        if bias is None:
            return gx, gk
        return gx, gk, gb

    return make(out, parents, backward)


def _four_d(x, kd, strides, dilation, pads):
    """The compiled kernels' views (ops._depthwise_numba), 2-D steps and leading pads: the
    input 4-D, the kernel (kh, kw, c * m); rank 1 as images of height one."""
    k3 = kd.reshape(kd.shape[:-2] + (-1,))
    if x.ndim == 4:
        return (x, k3) + tuple(strides) + tuple(dilation) + (pads[0][0], pads[1][0])
    return (x[:, None], k3[None], 1, strides[0], 1, dilation[0], 0, pads[0][0])


def _rows(a):
    """``a`` (n, *out, c * m) as (n, oh, ow, c * m), a view (rank 1: oh = 1)."""
    return a.reshape(a.shape[:1] + (1,) * (a.ndim == 3) + a.shape[1:])


def _numpy_forward(xp, xpad, kd, offsets, shape, m):
    """The NumPy path: one broadcast product and one addition per kernel offset."""
    out = xp.empty(shape, dtype=xpad.dtype)
    tmp = xp.empty(shape, dtype=xpad.dtype) if len(offsets) > 1 else None
    for index, (o, window) in enumerate(offsets):
        target = out if index == 0 else tmp  # the first offset writes the output itself
        if m == 1:
            xp.multiply(xpad[window], kd[o][:, 0], out=target)
        else:
            xp.multiply(xpad[window][..., None], kd[o], out=target)
        if index:
            out += tmp
    return out


def _numpy_backward(xp, xpad, kd, g, offsets, shape, rank, m, want_k, want_x, want_b):
    """The NumPy path's gradients ``(kernel, bias, padded input)``, None where not wanted."""
    g = g.reshape(shape)
    gk = gb = gxpad = None
    axes = tuple(range(rank + 1))
    if want_k:
        gk = xp.empty(kd.shape, dtype=g.dtype)
        for o, window in offsets:
            if m == 1:
                gk[o][:, 0] = (xpad[window] * g).sum(axis=axes)
            else:
                gk[o] = (xpad[window][..., None] * g).sum(axis=axes)
    if want_x:
        gxpad = xp.zeros(xpad.shape, dtype=g.dtype)
        for o, window in offsets:
            gxpad[window] += g * kd[o][:, 0] if m == 1 else (g * kd[o]).sum(axis=-1)
    if want_b:
        gb = g.reshape(-1, kd.shape[-2] * m).sum(axis=0)
    return gk, gb, gxpad


def depthwise_conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
                     relu: bool = False) -> Tensor:
    """Depthwise 2-D convolution of channels-last images: each channel on its own.

    Parameters
    ----------
    x : Tensor, shape (batch, height, width, in_channels)
    kernel : Tensor, shape (kh, kw, in_channels, depth_multiplier)
        Keras's layout.
    bias : Tensor, shape (in_channels * depth_multiplier,), optional
    strides, dilation_rate : int or (int, int), default 1
    padding : {"valid", "same"}, default "valid"
    relu : bool, default False
        Apply ``max(., 0)`` inside the node.

    Returns
    -------
    Tensor, shape (batch, out_height, out_width, in_channels * depth_multiplier)
        Output channel ``c * depth_multiplier + j`` is channel ``c`` filtered by
        ``kernel[:, :, c, j]``.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> x = profond.tensor(np.ones((1, 3, 3, 2)))
    >>> k = profond.tensor(np.stack([np.ones((2, 2)), 2 * np.ones((2, 2))], -1)[..., None])
    >>> ops.depthwise_conv2d(x, k).numpy()[0, 0, 0]
    array([4., 8.], dtype=float32)
    """
    return _depthwise(x, kernel, bias, 2, strides, padding, dilation_rate, relu,
                      "depthwise_conv2d")


def depthwise_conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
                     relu: bool = False) -> Tensor:
    """Depthwise 1-D convolution of channels-last sequences (see :func:`depthwise_conv2d`).

    ``x`` (batch, steps, in), ``kernel`` (kernel_size, in, depth_multiplier); ``padding`` may
    also be ``"causal"``.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> ops.depthwise_conv1d(np.ones((2, 8, 3)), np.ones((3, 3, 2)), padding="same").shape
    (2, 8, 6)
    """
    return _depthwise(x, kernel, bias, 1, strides, padding, dilation_rate, relu,
                      "depthwise_conv1d")
