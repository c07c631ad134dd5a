"""Convolutions of any spatial rank and their adjoints, the transposed convolutions.

A convolution is ``out = im2col(x) @ K`` (see :mod:`profond.ops.conv`): the columns gather each
output position's receptive field, the kernel is seen as a ``(prod(kernel_size) * in, out)``
matrix. Its two gradients are ``im2col(x).T @ g`` (the kernel) and ``col2im(g @ K.T)`` (the
input: each kernel offset's share added back onto the input with one strided slice).

A *transposed* convolution (Dumoulin and Visin, 2016) is that convolution's input gradient used
as a forward pass: it maps the convolution's output shape back to its input shape. So its
forward is the col2im above, and its gradients are the convolution's forward pieces:
``d x = im2col(g) @ K`` and ``d K = im2col(g).T @ x``. Keras's transposed kernel
``(*kernel_size, filters, in)`` is exactly the kernel of the convolution it is the adjoint of
(that convolution maps ``filters`` channels to ``in``), so no weight is flipped or transposed.

The helpers below work for 1, 2 or 3 spatial axes. Rank 1 runs as a height-one image and rank
2 through the tuned 2-D helpers of :mod:`profond.ops.conv`; rank 3 gathers its columns from the
same strided windows, one kernel offset at a time for narrow rows, in one copy otherwise.

References
----------
V. Dumoulin, F. Visin, "A guide to convolution arithmetic for deep learning", 2016.
"""

from __future__ import annotations

import itertools
import math

from profond.autograd.function import as_tensor, make, relu_
from profond.autograd.tensor import Tensor
from profond.ops.conv import (_ROW_COPY_THRESHOLD, _check_inputs, _grouped, _im2col,
                              normalize_tuple, same_padding)

__all__ = ["conv3d", "conv_transpose", "conv1d_transpose", "conv2d_transpose",
           "conv3d_transpose", "conv_transpose_crop", "conv_transpose_output_length"]

_LAYOUTS = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
            3: "(batch, depth, height, width, channels)"}


def _offset_slices(offset, out_sizes, strides, dilation):
    """The strided slice, along each spatial axis, that kernel ``offset`` reads."""
    return tuple(slice(o * d, o * d + s * (n - 1) + 1, s)
                 for o, n, s, d in zip(offset, out_sizes, strides, dilation))


def im2col(xp, x, ksize, out_sizes, strides, dilation):
    """Columns ``(n * prod(out_sizes), prod(ksize) * c)`` of the windows of ``x`` (n, *, c).

    Rank 1 and 2 use :mod:`profond.ops.conv`'s tuned 2-D gathering (whose narrow columns come
    back as the transpose of a C-contiguous array); rank 3 copies one kernel offset at a time
    when a window's rows are short, else all windows at once from a strided view.
    """
    if len(ksize) == 1:
        n, steps, c = x.shape
        return _im2col(xp, x.reshape(n, 1, steps, c), 1, ksize[0], 1, out_sizes[0], 1,
                       strides[0], 1, dilation[0])
    if len(ksize) == 2:
        return _im2col(xp, x, *ksize, *out_sizes, *strides, *dilation)
    n, c = x.shape[0], x.shape[-1]
    rows = n * math.prod(out_sizes)
    cols = xp.empty((rows, math.prod(ksize) * c), dtype=x.dtype)
    windows = cols.reshape((n,) + tuple(out_sizes) + tuple(ksize) + (c,))
    rank = len(ksize)
    if ksize[-1] * c >= _ROW_COPY_THRESHOLD:
        st = x.strides
        windows[...] = xp.lib.stride_tricks.as_strided(
            x, shape=windows.shape,
            strides=(st[0],) + tuple(st[1 + a] * strides[a] for a in range(rank))
            + tuple(st[1 + a] * dilation[a] for a in range(rank)) + (st[-1],))
        return cols
    lead = (slice(None),) * (rank + 1)
    for offset in itertools.product(*map(range, ksize)):
        windows[lead + offset] = x[(slice(None),)
                                   + _offset_slices(offset, out_sizes, strides, dilation)]
    return cols


def col2im(xp, g2, kd, shape, out_sizes, strides, dilation):
    """The adjoint of :func:`im2col` followed by the GEMM with ``kd`` (*ksize, c, f):
    ``(n * prod(out_sizes), f)`` rows back onto an array of ``shape`` (n, *, c).

    For each kernel offset, one GEMM ``g2 @ kd[offset].T`` gives that offset's share
    ``(rows, c)``, added onto one strided slice; one buffer serves every offset. (One big GEMM
    for all offsets, then strided additions of its blocks, was 1.3-1.8x slower on a quiet
    2-core machine: its ``(rows, prod(ksize) * c)`` result leaves the cache before it is added;
    under load the order can flip, so measure on a quiet machine.)
    """
    ksize, c = kd.shape[:-2], kd.shape[-2]
    out = xp.zeros(shape, dtype=g2.dtype)
    part = xp.empty((g2.shape[0], c), dtype=g2.dtype)
    part_nd = part.reshape((shape[0],) + tuple(out_sizes) + (c,))
    for offset in itertools.product(*map(range, ksize)):
        xp.matmul(g2, kd[offset].T, out=part)
        out[(slice(None),) + _offset_slices(offset, out_sizes, strides, dilation)] += part_nd
    return out


def check_conv_inputs(x, kernel, bias, rank, owner, kernel_layout, in_axis, out_axis):
    """Tensors of ``x``, ``kernel`` and ``bias``, or ``ValueError`` naming the mismatch.

    ``in_axis`` is the kernel axis that must match the input's channels, ``out_axis`` the one
    the bias must match.
    """
    x = as_tensor(x)
    kernel = as_tensor(kernel, x)
    bias = None if bias is None else as_tensor(bias, x)
    if x.ndim != rank + 2:
        raise ValueError(f"The 'x' parameter of {owner} must have rank {rank + 2} "
                         f"{_LAYOUTS[rank]}. Got shape {tuple(x.shape)} instead.")
    if kernel.ndim != rank + 2 or kernel.shape[in_axis] != x.shape[-1]:
        raise ValueError(f"The 'kernel' parameter of {owner} must have shape {kernel_layout} "
                         f"with in = {x.shape[-1]} to match the input of shape "
                         f"{tuple(x.shape)}. Got shape {tuple(kernel.shape)} instead.")
    if bias is not None and out_axis is not None and \
            tuple(bias.shape) != (kernel.shape[out_axis],):
        raise ValueError(f"The 'bias' parameter of {owner} must have shape "
                         f"({kernel.shape[out_axis]},) to match the kernel of shape "
                         f"{tuple(kernel.shape)}. Got shape {tuple(bias.shape)} instead.")
    if x.data.dtype.kind != "f":
        x = make(x.data.astype(kernel.data.dtype))
    return x, kernel, bias


def _add_bias_relu(xp, out, bias, relu):
    if bias is not None:
        out += bias.data
    if relu:
        relu_(out, xp)


def _bias_grad(bias, g2):
    return None if bias is None or not bias.requires_grad else g2.sum(axis=0)


# --- the convolution of rank 3 -------------------------------------------------------------------
def conv3d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
           relu: bool = False, groups: int = 1) -> Tensor:
    """3-D convolution of channels-last volumes, one fused node (im2col into one GEMM).

    Parameters
    ----------
    x : Tensor, shape (batch, depth, height, width, in_channels)
    kernel : Tensor, shape (kd, kh, kw, in_channels, filters)
        Keras's layout.
    bias : Tensor, shape (filters,), optional
    strides, dilation_rate : int or (int, int, int), default 1
    padding : {"valid", "same"}, default "valid"
    relu : bool, default False
        Apply ``max(., 0)`` inside the node.
    groups : int, default 1
        Grouped convolution (see :func:`profond.ops.conv2d`); the kernel is then
        ``(kd, kh, kw, in_channels / groups, filters)``.

    Returns
    -------
    Tensor, shape (batch, out_depth, out_height, out_width, filters)

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> x = profond.tensor(np.ones((1, 3, 3, 3, 1)))
    >>> ops.conv3d(x, profond.tensor(np.ones((2, 2, 2, 1, 1)))).numpy().ravel()
    array([8., 8., 8., 8., 8., 8., 8., 8.], dtype=float32)
    """
    owner = "conv3d"
    if groups != 1:
        x, kernel, bias = _check_inputs(x, kernel, bias, 3, owner, groups)
        return _grouped(conv3d, x, kernel, bias, groups, relu, strides=strides,
                        padding=padding, dilation_rate=dilation_rate)
    x, kernel, bias = check_conv_inputs(x, kernel, bias, 3, owner, "(kd, kh, kw, in, out)",
                                        -2, -1)
    strides = normalize_tuple(strides, 3, "strides", owner)
    dilation = normalize_tuple(dilation_rate, 3, "dilation_rate", owner)
    xp = x.xp
    ksize, filters = tuple(kernel.shape[:3]), kernel.shape[-1]
    sizes = tuple(x.shape[1:4])
    pads = _conv_pads(sizes, ksize, strides, dilation, padding, owner)
    padded = tuple(s + a + b for s, (a, b) in zip(sizes, pads))
    out_sizes = tuple((p - (k - 1) * d - 1) // s + 1
                      for p, k, s, d in zip(padded, ksize, strides, dilation))
    if min(out_sizes) < 1:
        raise ValueError(f"{owner}: the kernel of shape {tuple(kernel.shape)} (dilation "
                         f"{dilation}) is larger than the padded input of shape "
                         f"{tuple(x.shape)} (padding {pads}).")
    n, c = x.shape[0], x.shape[-1]
    if any(a or b for a, b in pads):
        xpad = xp.zeros((n,) + padded + (c,), dtype=x.data.dtype)
        xpad[(slice(None),) + tuple(slice(a, a + s) for (a, _), s in zip(pads, sizes))] = x.data
    else:
        xpad = x.data
    cols = im2col(xp, xpad, ksize, out_sizes, strides, dilation)
    k2 = kernel.data.reshape(-1, filters)
    out = cols @ k2
    _add_bias_relu(xp, out, bias, relu)
    parents = (x, kernel) if bias is None else (x, kernel, bias)

    def backward(g):
        g2 = g.reshape(-1, filters)
        if relu:
            g2 = g2 * (out > 0)
        gk = (cols.T @ g2).reshape(kernel.shape) if kernel.requires_grad else None
        gx = None
        if x.requires_grad:
            gx = col2im(xp, g2, kernel.data, xpad.shape, out_sizes, strides, dilation)
            gx = gx[(slice(None),) + tuple(slice(a, a + s) for (a, _), s in zip(pads, sizes))]
        return (gx, gk) if bias is None else (gx, gk, _bias_grad(bias, g2))

    return make(out.reshape((n,) + out_sizes + (filters,)), parents, backward)


def _conv_pads(sizes, ksize, strides, dilation, padding, owner):
    if padding == "valid":
        return tuple((0, 0) for _ in sizes)
    if padding == "same":
        return tuple(same_padding(s, k, st, d)
                     for s, k, st, d in zip(sizes, ksize, strides, dilation))
    raise ValueError(f"The 'padding' parameter of {owner} must be one of ['valid', 'same']. "
                     f"Got {padding!r} instead.")


# --- transposed convolutions ---------------------------------------------------------------------
def conv_transpose_crop(length, kernel, stride, padding, output_padding=None, dilation=1):
    """``(start, size)`` of a transposed convolution's output within its full output.

    The full output of ``length`` inputs has ``(length - 1) * stride + span`` positions
    (``span = (kernel - 1) * dilation + 1``). Keras's rule (TensorFlow's, the adjoint of a
    "same" or "valid" convolution): "valid" keeps all of it, plus ``output_padding`` zeros
    after (default ``max(span, stride) - span``); "same" gives ``length * stride`` positions
    when ``output_padding`` is None, else ``(length - 1) * stride + span % 2 +
    output_padding``, cropping ``span - 1 - left`` before with TensorFlow's left padding.
    ``start`` may be negative and ``start + size`` may pass the full output: zeros fill there.

    Examples
    --------
    >>> conv_transpose_crop(4, 3, 2, "same"), conv_transpose_crop(4, 3, 2, "valid")
    ((0, 8), (0, 9))
    """
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        return 0, (length - 1) * stride + span + extra
    pad_len = (stride + span - 2 if output_padding is None
               else span + span % 2 - 2 + output_padding)
    left = min(pad_len // 2 + pad_len % 2, span - 1)
    return span - 1 - left, (length - 1) * stride + 2 + pad_len - span


def conv_transpose_output_length(length, kernel, stride, padding, output_padding=None,
                                 dilation=1):
    """Output length of a transposed convolution along one axis (Keras's), or None.

    Examples
    --------
    >>> length = conv_transpose_output_length
    >>> length(5, 3, 2, "same"), length(5, 3, 1, "valid")
    (10, 7)
    """
    if length is None:
        return None
    return conv_transpose_crop(length, kernel, stride, padding, output_padding, dilation)[1]


def _window(starts, sizes, full):
    """Slices into the full output and into the cropped one where both overlap."""
    src = tuple(slice(max(a, 0), min(a + n, f)) for a, n, f in zip(starts, sizes, full))
    dst = tuple(slice(s.start - a, s.stop - a) for s, a in zip(src, starts))
    return src, dst


def conv_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                   dilation_rate=1, relu: bool = False) -> Tensor:
    """Transposed convolution of channels-last data of spatial rank 1, 2 or 3.

    The adjoint of the convolution with the same kernel: each input position spreads its
    values, weighted by the kernel, over a window of the output (a "deconvolution" that
    upsamples by ``strides``). One fused node: ``prod(kernel_size)`` GEMMs and strided
    additions forward, one im2col and two GEMMs backward.

    Parameters
    ----------
    x : Tensor, shape (batch, *spatial, in_channels)
    kernel : Tensor, shape (*kernel_size, filters, in_channels)
        Keras's layout for transposed convolutions.
    bias : Tensor, shape (filters,), optional
    strides, dilation_rate : int or tuple of ints, default 1
    padding : {"valid", "same"}, default "valid"
    output_padding : int or tuple of ints, optional
        Extra positions after the output along each axis (see
        :func:`conv_transpose_crop`); each must be less than its stride.
    relu : bool, default False
        Apply ``max(., 0)`` inside the node.

    Returns
    -------
    Tensor, shape (batch, *out_spatial, filters)

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> x = profond.tensor(np.array([[[1.0], [2.0]]]))
    >>> ops.conv_transpose(x, profond.tensor(np.ones((3, 1, 1))), strides=2).numpy().ravel()
    array([1., 1., 3., 2., 2.], dtype=float32)
    """
    x = as_tensor(x)
    rank = x.ndim - 2
    if rank not in (1, 2, 3):
        raise ValueError(f"The 'x' parameter of conv_transpose must have rank 3, 4 or 5 (batch, "
                         f"*spatial, channels). Got shape {tuple(x.shape)} instead.")
    owner = f"conv{rank}d_transpose"
    return _conv_transpose(x, kernel, bias, rank, strides, padding, output_padding,
                           dilation_rate, relu, owner)


def _conv_transpose(x, kernel, bias, rank, strides, padding, output_padding, dilation_rate,
                    relu, owner):
    layout = "(" + ", ".join(("kernel_size",) if rank == 1 else ("kd", "kh", "kw")[-rank:]) \
        + ", out, in)"
    x, kernel, bias = check_conv_inputs(x, kernel, bias, rank, owner, layout, -1, -2)
    strides = normalize_tuple(strides, rank, "strides", owner)
    dilation = normalize_tuple(dilation_rate, rank, "dilation_rate", owner)
    if padding not in ("valid", "same"):
        raise ValueError(f"The 'padding' parameter of {owner} must be one of ['valid', 'same']. "
                         f"Got {padding!r} instead.")
    if output_padding is not None:
        output_padding = normalize_output_padding(output_padding, rank, strides, owner)
    xp = x.xp
    ksize, filters, c = tuple(kernel.shape[:rank]), kernel.shape[-2], kernel.shape[-1]
    n, sizes = x.shape[0], tuple(x.shape[1:-1])
    full = tuple((s - 1) * st + (k - 1) * d + 1
                 for s, k, st, d in zip(sizes, ksize, strides, dilation))
    crops = [conv_transpose_crop(s, k, st, padding,
                                 None if output_padding is None else output_padding[a], d)
             for a, (s, k, st, d) in enumerate(zip(sizes, ksize, strides, dilation))]
    starts, out_sizes = tuple(a for a, _ in crops), tuple(b for _, b in crops)
    if min(out_sizes) < 1:
        raise ValueError(f"{owner}: the input of shape {tuple(x.shape)} gives an empty output "
                         f"{out_sizes} with kernel {tuple(kernel.shape)}, strides {strides} "
                         f"and padding {padding!r}.")
    x2 = x.data.reshape(-1, c)
    y_full = col2im(xp, x2, kernel.data, (n,) + full + (filters,), sizes, strides, dilation)
    src, dst = _window(starts, out_sizes, full)
    exact = all(s.start == 0 and s.stop == o for s, o in zip(dst, out_sizes))
    lead = (slice(None),)
    if exact and all(o == f for o, f in zip(out_sizes, full)):
        out = y_full
    else:
        out = (xp.empty if exact else xp.zeros)((n,) + out_sizes + (filters,),
                                                dtype=y_full.dtype)
        out[lead + dst] = y_full[lead + src]
    _add_bias_relu(xp, out, bias, relu)
    parents = (x, kernel) if bias is None else (x, kernel, bias)

    def backward(g):
        if relu:
            g = g * (out > 0)
        if out is y_full:
            g_full = g
        else:
            g_full = xp.zeros((n,) + full + (filters,), dtype=g.dtype)
            g_full[lead + src] = g[lead + dst]
        cols = im2col(xp, g_full, ksize, sizes, strides, dilation)
        gx = gk = None
        if x.requires_grad:
            gx = (cols @ kernel.data.reshape(-1, c)).reshape(x.shape)
        if kernel.requires_grad:
            gk = (cols.T @ x2).reshape(kernel.shape)
        if bias is None:
            return gx, gk
        return gx, gk, _bias_grad(bias, g.reshape(-1, filters))

    return make(out, parents, backward)


def normalize_output_padding(output_padding, rank, strides, owner):
    """``output_padding`` as ``rank`` ints in ``[0, stride)``, or ``ValueError``."""
    given = output_padding
    values = (output_padding,) * rank if isinstance(output_padding, int) else output_padding
    try:
        values = tuple(values)
    except TypeError:
        values = (values,)
    if len(values) != rank or any(isinstance(v, bool) or not isinstance(v, int) or v < 0
                                  for v in values):
        raise ValueError(f"The 'output_padding' parameter of {owner} must be None, an int or "
                         f"a tuple of {rank} ints >= 0. Got {given!r} instead.")
    if any(v >= s for v, s in zip(values, strides)):
        raise ValueError(f"The 'output_padding' parameter of {owner} must be less than the "
                         f"strides {tuple(strides)} along each axis. Got {given!r} instead.")
    return values


def conv1d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1, relu: bool = False) -> Tensor:
    """1-D transposed convolution: ``x`` (batch, steps, in), ``kernel`` (k, filters, in).

    See :func:`conv_transpose`.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> ops.conv1d_transpose(np.ones((2, 5, 3)), np.ones((3, 4, 3)), strides=2,
    ...                      padding="same").shape
    (2, 10, 4)
    """
    return _conv_transpose(x, kernel, bias, 1, strides, padding, output_padding, dilation_rate,
                           relu, "conv1d_transpose")


def conv2d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1, relu: bool = False) -> Tensor:
    """2-D transposed convolution: ``x`` (batch, h, w, in), ``kernel`` (kh, kw, filters, in).

    See :func:`conv_transpose`.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> ops.conv2d_transpose(np.ones((2, 7, 7, 3)), np.ones((3, 3, 4, 3)), strides=2).shape
    (2, 15, 15, 4)
    """
    return _conv_transpose(x, kernel, bias, 2, strides, padding, output_padding, dilation_rate,
                           relu, "conv2d_transpose")


def conv3d_transpose(x, kernel, bias=None, strides=1, padding="valid", output_padding=None,
                     dilation_rate=1, relu: bool = False) -> Tensor:
    """3-D transposed convolution: ``x`` (batch, d, h, w, in), ``kernel``
    (kd, kh, kw, filters, in). See :func:`conv_transpose`.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> ops.conv3d_transpose(np.ones((1, 2, 3, 4, 2)), np.ones((2, 2, 2, 5, 2)), strides=2,
    ...                      padding="same").shape
    (1, 4, 6, 8, 5)
    """
    return _conv_transpose(x, kernel, bias, 3, strides, padding, output_padding, dilation_rate,
                           relu, "conv3d_transpose")
