"""Convolutions over channels-last data, each one fused node: im2col into a single GEMM.

The forward pass gathers every receptive field of the (padded) input into one matrix of
"columns" -- one row per output position, ``kh * kw * in_channels`` values per row, copied from
sliding windows of the input -- and multiplies it by the kernel seen as a
``(kh * kw * in_channels, filters)`` matrix. Data are channels-last, so each window row is made
of contiguous runs of ``kw * in_channels`` values and the kernel of Keras's layout
``(kh, kw, in, out)`` needs no transposition at all. With a bias, each row of columns ends with
a 1 and the kernel matrix with the bias as one more row: the GEMM adds the bias, and the fused
ReLU is the only other pass over the output.

The backward pass is two GEMMs and a "col2im":

- ``d kernel = columns.T @ d out`` (its row for the column of ones is ``d bias = sum(d out)``);
- ``d columns = d out @ kernel.T``, folded back onto the input by adding, for each of the
  ``kh * kw`` kernel offsets, one strided slice of ``d columns`` into the input's gradient.
  A slice addition per offset touches every element once and never needs ``np.add.at``.

The columns are kept from call to call (:data:`SPARES`, a lease per graph), so a step neither
pays page faults for a fresh multi-megabyte array nor rewrites the ones and padding columns.

``conv1d`` runs the same kernel on a height-one image. ``padding="same"`` pads as TensorFlow and
Keras do (the extra row or column, when the total is odd, goes after).

References
----------
K. Chellapilla, S. Puri, P. Simard, "High Performance Convolutional Neural Networks for Document
Processing", 2006 (the im2col + GEMM formulation).
"""

from __future__ import annotations

import math
import weakref

from profond.autograd.tensor import Tensor
from profond.autograd.engine import is_grad_enabled
from profond.autograd.function import as_tensor, make, relu_
from profond.autograd.shape import concatenate, getitem
from profond.ops import kernels

__all__ = ["conv1d", "conv2d", "conv_output_length", "same_padding", "normalize_tuple"]

# Below this many contiguous values per window row, the columns are gathered one kernel offset
# at a time (long contiguous copies); above it, in one copy from the strided window view.
_ROW_COPY_THRESHOLD = 32
# From this many columns on, im2col pads its rows to a multiple of 8 (see _im2col); narrower
# GEMMs (the first layer's 3 x 3 x 1) are bound by memory, where padding only adds traffic, and
# their kernel gradient is summed over one GEMM per image (see the backward pass).
_ALIGN_FROM = 64
# Columns that need not be kept are gathered and multiplied in blocks of about this many bytes
# (see _conv_gemm).
_BLOCK_BYTES = 2 << 20
# A block whose output goes to a ``sink`` (see _conv_gemm) makes at most this many bytes of it.
_SINK_BYTES = 384 << 10


def conv_output_length(length: int, kernel: int, stride: int, padding: str,
                       dilation: int = 1) -> int:
    """Output length of a convolution or pooling along one axis (Keras's formula).

    Parameters
    ----------
    length : int
        Input length along the axis.
    kernel, stride, dilation : int
    padding : {"valid", "same", "causal"}

    Returns
    -------
    int
        ``ceil(length / stride)`` for "same" and "causal", ``floor((length - span) / stride) + 1``
        for "valid" (``span = (kernel - 1) * dilation + 1``); may be <= 0 when the window does
        not fit.

    Examples
    --------
    >>> conv_output_length(28, 3, 1, "valid"), conv_output_length(28, 3, 2, "same")
    (26, 14)
    """
    span = (kernel - 1) * dilation + 1
    if padding in ("same", "causal"):
        return -(-length // stride)
    return (length - span) // stride + 1


def same_padding(length: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """``(before, after)`` zeros that "same" padding adds along one axis (TensorFlow's rule).

    Examples
    --------
    >>> same_padding(28, 3, 1), same_padding(28, 4, 2)
    ((1, 1), (1, 1))
    """
    span = (kernel - 1) * dilation + 1
    out = -(-length // stride)
    total = max((out - 1) * stride + span - length, 0)
    return total // 2, total - total // 2


def normalize_tuple(value, n: int, name: str, owner: str) -> tuple:
    """``value`` (an int or ``n`` ints, each >= 1) as a tuple of ``n`` ints, or ``ValueError``.

    Examples
    --------
    >>> normalize_tuple(3, 2, "kernel_size", "Conv2D"), normalize_tuple((3,), 1, "strides", "x")
    ((3, 3), (3,))
    """
    given = value
    if isinstance(value, int) and not isinstance(value, bool):
        value = (value,) * n
    try:
        value = tuple(value)
    except TypeError:
        value = (value,)
    if len(value) != n or any(not isinstance(v, int) or isinstance(v, bool) or v < 1
                              for v in value):
        ints = "an int" if n == 1 else f"an int or a tuple of {n} ints"
        raise ValueError(f"The '{name}' parameter of {owner} must be {ints} in [1, inf). "
                         f"Got {given!r} instead.")
    return value


class _Lease:
    """Hands ``array`` back to :data:`SPARES` under ``key`` when the lease is collected."""

    __slots__ = ("key", "array")

    def __init__(self, key, array):
        self.key, self.array = key, array

    def __del__(self):
        SPARES.give(self.key, self.array)


class Spares:
    """Large scratch arrays kept from one call to the next, by shape, dtype and purpose.

    A fresh multi-megabyte array costs a page fault per 4 KiB on first touch (glibc hands big
    blocks back to the system and maps them again at the next step): ~5,000 faults per step of
    bench/cnn.py, 20-40% of the step. An op takes an array here and holds a :class:`_Lease` on
    it in its backward closure; when the closure is collected (after the backward pass, or when
    the graph is dropped) the array returns, so two live graphs never share one. Only the
    ``keys`` most recent kinds are kept (a last, smaller batch adds a kind), one array each.
    """

    def __init__(self, keys: int = 16):
        self.keys = keys
        self.free: dict = {}

    def take(self, key):
        """A kept array for ``key`` (its contents as the last user left them), or None."""
        return self.free.pop(key, None)

    def give(self, key, array) -> None:
        free = self.free
        free.pop(key, None)
        free[key] = array  # most recent last: the oldest kind goes first
        while len(free) > self.keys:
            del free[next(iter(free))]

    def lend(self, xp, key, shape, dtype):
        """A NumPy array whose memory returns here under ``key`` once it and all its views are
        gone (outputs, gradients: lifetimes an op cannot see). The memory is a ``bytearray``,
        so views keep the array itself alive (their ``base``) until ``weakref.finalize`` gives
        it back. bench/cnn.py, training at batch 256: 2,526 -> 11 page faults per step."""
        if xp.__name__ != "numpy":  # their own memory pools
            return xp.empty(shape, dtype=dtype)
        dtype = xp.dtype(dtype)
        nbytes = dtype.itemsize * math.prod(shape)
        buf = self.take(key)
        if buf is None or len(buf) != nbytes:
            buf = bytearray(nbytes)
        arr = xp.ndarray(shape, dtype=dtype, buffer=buf)
        weakref.finalize(arr, self.give, key, buf).atexit = False
        return arr

    def clear(self) -> None:
        self.free.clear()


SPARES = Spares()


def _conv_gemm(xp, x, k2, kh, kw, oh, ow, sh, sw, dh, dw, ones, keep, sink=None):
    """``im2col(x) @ k2`` and, when ``keep``, a lease on the columns (``.array``) for the
    kernel's gradient; else None.

    With ``sink`` (and no ``keep``), each block's ``((stop - start) * oh * ow, f)`` output goes
    to ``sink(start, stop, rows)`` in a buffer the next block overwrites, and None is returned:
    a pooling then reads each block in cache (ops.pooling.conv2d_relu_max_pool).

    The columns go into a kept array when one of the right kind is free (see :class:`Spares`):
    its extra columns (the ones, the zero padding) are as the last call wrote them, so only the
    windows are copied again. Without ``keep`` (predict, a frozen kernel), wide columns are
    gathered and multiplied a few images at a time (~2 MB of columns) in one small array that
    stays in cache: the second convolution of bench/cnn.py, batch 64 / 256, 2.9 / 12.2 -> 2.8 /
    10.2 ms. (Blocks of the whole kept array gain nothing: 3.1 / 12.2 -> 3.0 / 12.5 ms.)
    """
    n, _, _, c = x.shape
    k = kh * kw * c
    width = k + 1 if ones else k
    narrow = width < _ALIGN_FROM
    per_image, f, dtype = oh * ow, k2.shape[1], xp.result_type(x.dtype, k2.dtype)
    if narrow and sink is None:  # narrow: one gather (see _im2col), cheap next to its GEMM
        key = ("cols", xp.__name__, n, oh, ow, kh, kw, c, x.dtype.str, ones)
        lease = _Lease(key, _im2col(xp, x, kh, kw, oh, ow, sh, sw, dh, dw, ones,
                                    SPARES.take(key)))
        out = SPARES.lend(xp, ("out", n * per_image, f, dtype.str), (n * per_image, f), dtype)
        return xp.matmul(lease.array, k2, out=out), (lease if keep else None)
    if ones and not narrow:
        width = -(-width // 8) * 8
    block = n if keep else max(1, _BLOCK_BYTES // (per_image * width * x.dtype.itemsize))
    if sink is not None:
        block = min(block, max(1, _SINK_BYTES // (per_image * f * x.dtype.itemsize)))
    rows = min(n, block)
    key = ("cols", xp.__name__, rows, oh, ow, kh, kw, c, x.dtype.str, ones)
    cols = SPARES.take(key)
    if cols is None:
        if narrow:
            cols = _im2col(xp, x[:rows], kh, kw, oh, ow, sh, sw, dh, dw, ones)
        else:
            cols = xp.empty((rows * per_image, width), dtype=x.dtype)
            if ones:
                cols[:, k] = 1
                cols[:, k + 1:] = 0
    if sink is None:
        out = SPARES.lend(xp, ("out", n * per_image, f, dtype.str), (n * per_image, f), dtype)
    else:
        out = xp.empty((rows * per_image, f), dtype=dtype)
    for start in range(0, n, block):
        stop = min(start + block, n)
        m = (stop - start) * per_image
        if narrow and stop - start < rows:  # a narrow buffer's rows are columns: not sliceable
            part = _im2col(xp, x[start:stop], kh, kw, oh, ow, sh, sw, dh, dw, ones)
        else:
            part = cols[:m]
            _im2col(xp, x[start:stop], kh, kw, oh, ow, sh, sw, dh, dw, ones, part)
        if sink is None:
            xp.matmul(part, k2, out=out[start * per_image:stop * per_image])
        else:
            sink(start, stop, xp.matmul(part, k2, out=out[:m]))
    lease = _Lease(key, cols)
    if sink is not None:
        return None
    return out, (lease if keep else None)


def _im2col(xp, x, kh, kw, oh, ow, sh, sw, dh, dw, ones=False, buf=None):
    """Columns ``(n * oh * ow, kh * kw * c [+ extra])`` of the windows of ``x`` (n, h, w, c).

    With ``ones``, a column of ones follows the ``kh * kw * c`` window values: the bias then
    rides in the GEMM as one more row of the kernel (and its gradient comes out of the kernel's
    GEMM), saving a pass over the output in each direction. Wide rows are then padded with zero
    columns to a multiple of 8 values (32 bytes in float32): BLAS's ``cols.T @ g`` runs ~15%
    slower on rows of an odd length such as 289 than on 288 or 296.

    Narrow columns (fewer than ``_ALIGN_FROM``, the first layers) are returned as the transpose
    of a C-contiguous ``(width, n * oh * ow)`` array: each kernel offset then fills one
    contiguous row from runs of ``ow`` input values, instead of scattering single values
    ``width`` apart (a 3 x 3 x 1 kernel: ~30% faster forward, im2col and GEMM together).

    ``buf``, when given, is the array an earlier call with the same arguments returned (see
    :func:`_conv_gemm`), or rows of it: its extra columns are already written.
    """
    n, _, _, c = x.shape
    k = kh * kw * c
    width = k + 1 if ones else k
    narrow = width < _ALIGN_FROM
    if ones and not narrow:
        width = -(-width // 8) * 8
    if narrow:
        cols_t = buf.T if buf is not None else xp.empty((width, n * oh * ow), dtype=x.dtype)
        if ones and buf is None:
            cols_t[k] = 1
        windows = cols_t[:k].reshape(kh, kw, c, n, oh, ow)
        x_t = x.transpose(3, 0, 1, 2)  # (c, n, h, w), a view
        for i in range(kh):
            rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
            for j in range(kw):
                windows[i, j] = x_t[:, :, rows, j * dw:j * dw + sw * (ow - 1) + 1:sw]
        return cols_t.T
    if buf is None:
        cols = xp.empty((n * oh * ow, width), dtype=x.dtype)
        if ones:
            cols[:, k] = 1
            cols[:, k + 1:] = 0
    else:
        cols = buf
    # a view: only the two axes of cols are split
    windows = cols[:, :k].reshape(n, oh, ow, kh, kw, c)
    if kw * c >= _ROW_COPY_THRESHOLD:
        s0, s1, s2, s3 = x.strides
        windows[...] = xp.lib.stride_tricks.as_strided(
            x, shape=(n, oh, ow, kh, kw, c),
            strides=(s0, s1 * sh, s2 * sw, s1 * dh, s2 * dw, s3))
        return cols
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            windows[:, :, :, i, j, :] = x[:, rows, j * dw:j * dw + sw * (ow - 1) + 1:sw, :]
    return cols


def _col2im_gemm(xp, g2, kd, shape, oh, ow, sh, sw, dh, dw):
    """Gradient of the input: for each kernel offset, one GEMM ``g2 @ kernel[i, j].T`` gives
    that offset's contribution (n * oh * ow, c), added onto ``shape`` with one strided slice.

    The adjoint of :func:`_im2col` followed by the forward GEMM. One GEMM per offset, rather
    than one big GEMM and a gather of its (n, oh, ow, kh, kw, c) result, keeps each addition's
    source contiguous and in cache: about twice as fast on a two-core CPU. With the compiled
    kernels (ops.kernels), one GEMM for all offsets and one compiled pass of additions.
    """
    kh, kw, c, f = kd.shape
    n = shape[0]
    out = SPARES.lend(xp, ("col2im", shape, g2.dtype.str), shape, g2.dtype)
    out.fill(0)
    compiled = kernels.get(xp) if g2.dtype == kd.dtype and g2.dtype.char in "fd" else None
    if compiled is not None:
        # One GEMM for every offset, its shares added by a compiled loop in one pass
        # (ops.kernels): NumPy's nine strided additions cost twice the GEMM.
        key = ("shares", g2.shape[0], kh * kw * c, g2.dtype.str)
        shares = SPARES.take(key)
        if shares is None:
            shares = xp.empty((g2.shape[0], kh * kw * c), dtype=g2.dtype)
        xp.matmul(g2, kd.reshape(kh * kw * c, f).T, out=shares)
        compiled.col2im_add(shares.reshape(n, oh, ow, kh, kw, c), sh, sw, dh, dw, out)
        SPARES.give(key, shares)
        return out
    part = xp.empty((g2.shape[0], c), dtype=g2.dtype)  # one buffer for every offset's GEMM
    part4 = part.reshape(n, oh, ow, c)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (oh - 1) + 1, sh)
        for j in range(kw):
            xp.matmul(g2, kd[i, j].T, out=part)
            out[:, rows, j * dw:j * dw + sw * (ow - 1) + 1:sw, :] += part4
    return out


def _kernel_matrix(xp, kd, bias):
    """``kd`` (kh, kw, c, f) as the GEMM's matrix, with the bias row and padding rows."""
    kh, kw, c, filters = kd.shape
    k2 = kd.reshape(kh * kw * c, filters)
    if bias is None:
        return k2
    k = kh * kw * c
    width = k + 1 if k + 1 < _ALIGN_FROM else -(-(k + 1) // 8) * 8
    kb = xp.zeros((width, filters), dtype=k2.dtype)
    kb[:k] = k2
    kb[k] = bias.data
    return kb


def _conv2d_node(x, kernel, bias, xd, kd, strides, dilation, pads, out_shape=None,
                 owner="conv2d", relu=False, crop=None):
    """The fused convolution node.

    ``xd`` (n, h, w, c) and ``kd`` (kh, kw, c, filters) are the 4-D views of ``x``'s and
    ``kernel``'s data (the data themselves for 2-D; height-one views for 1-D); the gradients are
    reshaped back to the tensors' own shapes, and ``out_shape`` reshapes the output. ``crop``,
    ``(rows, columns)`` of the padded input, leaves out the outputs past them (see
    layers.conv._Conv._pool_crop); their input gradient is zero, with no slicing node.
    """
    xp = x.xp
    n, h, w, c = xd.shape
    kh, kw, kc, filters = kd.shape
    (sh, sw), (dh, dw), ((pt, pb), (pl, pr)) = strides, dilation, pads
    hp, wp = h + pt + pb, w + pl + pr
    hu, wu = (hp, wp) if crop is None else crop
    oh = (hu - (kh - 1) * dh - 1) // sh + 1
    ow = (wu - (kw - 1) * dw - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"{owner}: the kernel of shape {tuple(kd.shape)} (dilation "
                         f"{(dh, dw) if owner == 'conv2d' else dw}) is larger than the padded "
                         f"input of shape {tuple(x.shape)} (padding adds {pt + pb} x {pl + pr}).")
    if pt or pb or pl or pr:
        xpad = xp.zeros((n, hp, wp, c), dtype=xd.dtype)
        xpad[:, pt:pt + h, pl:pl + w, :] = xd
    else:
        xpad = xd
    k2 = _kernel_matrix(xp, kd, bias)
    # the columns are kept for the kernel's gradient only
    keep = kernel.requires_grad and is_grad_enabled()
    out, lease = _conv_gemm(xp, xpad if crop is None else xpad[:, :hu, :wu], k2, kh, kw, oh, ow,
                            sh, sw, dh, dw, bias is not None, keep)
    if relu:  # in place: no second full-size array, no second node
        relu_(out, xp)
    out2 = out
    out = out.reshape((n, oh, ow, filters) if out_shape is None else out_shape)
    parents = (x, kernel) if bias is None else (x, kernel, bias)
    relu_masked = [None]

    def backward(g):
        g2 = g.reshape(n * oh * ow, filters)
        if relu and g is not relu_masked[0]:
            g2 = g2 * (out2 > 0)
        relu_masked[0] = None
        gx = gk = gb = None
        if lease is not None:  # the kernel required a gradient when the columns were made
            cols = lease.array  # the lease lives as long as this closure: the columns stay ours
            # with a bias, its gradient is the row of the ones column
            if cols.shape[1] < _ALIGN_FROM:
                # Narrow columns (first layers): a (k, n * oh * ow) @ (n * oh * ow, f) GEMM is a
                # long reduction that multithreaded BLAS splits into ~100 synchronised panels,
                # each a stall when a core is busy elsewhere (10-100x slower on a loaded 2-core
                # machine). One small GEMM per image, summed, runs on one core at full speed.
                # (narrow columns are the transpose of a C-contiguous array: see _im2col)
                gkb = xp.matmul(cols.T.reshape(cols.shape[1], n, oh * ow).transpose(1, 0, 2),
                                g2.reshape(n, oh * ow, filters)).sum(axis=0)
            else:  # as (g2.T @ cols).T: 8-12% faster in OpenBLAS than cols.T @ g2 (batch 32-256)
                gkb = (g2.T @ cols).T
            gk = gkb[:kh * kw * c].reshape(kernel.data.shape)
            if bias is not None:
                gb = gkb[kh * kw * c]
        if x.requires_grad:
            gx = _col2im_gemm(xp, g2, kd, (n, hp, wp, c), oh, ow, sh, sw, dh, dw)
            if xpad is not xd:
                gx = gx[:, pt:pt + h, pl:pl + w, :]
            gx = gx.reshape(x.data.shape)
        if bias is None:
            return gx, gk
        if not bias.requires_grad:
            gb = None
        elif gb is None:
            gb = g2.sum(axis=0)
        return gx, gk, gb

    if relu:
        # A consumer whose gradient is zero wherever this output is (max pooling: see
        # pooling._pool2d_node) leaves that gradient in relu_masked; received unchanged (the
        # only contribution), it needs no ReLU mask. Saves a full-size comparison and product.
        # (A list, not an attribute the closure reads off itself: that would be a reference
        # cycle, and the closure and its columns would wait for the garbage collector.)
        backward.relu_masked = relu_masked
    return make(out, parents, backward)


def _check_inputs(x, kernel, bias, rank, owner, groups=1):
    x = as_tensor(x)
    kernel = as_tensor(kernel, x)
    bias = None if bias is None else as_tensor(bias, x)
    layout = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
              3: "(batch, depth, height, width, channels)"}[rank]
    klayout = {1: "(kernel_size, in, out)", 2: "(kh, kw, in, out)",
               3: "(kd, kh, kw, in, out)"}[rank]
    if x.ndim != rank + 2:
        raise ValueError(f"The 'x' parameter of {owner} must have rank {rank + 2} {layout}. Got "
                         f"shape {tuple(x.shape)} instead.")
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1 or \
            x.shape[-1] % groups:
        raise ValueError(f"The 'groups' parameter of {owner} must be an int >= 1 dividing the "
                         f"{x.shape[-1]} input channels. Got {groups!r} instead.")
    if kernel.ndim != rank + 2 or kernel.shape[-2] * groups != x.shape[-1] or \
            kernel.shape[-1] % groups:
        per_group = "" if groups == 1 else f"/groups (groups={groups}) and out a multiple of it"
        raise ValueError(f"The 'kernel' parameter of {owner} must have shape {klayout} with "
                         f"in = {x.shape[-1] // groups} = {x.shape[-1]}{per_group} to match the "
                         f"input of shape {tuple(x.shape)}. Got shape {tuple(kernel.shape)} "
                         "instead.")
    if bias is not None and tuple(bias.shape) != (kernel.shape[-1],):
        raise ValueError(f"The 'bias' parameter of {owner} must have shape ({kernel.shape[-1]},) "
                         f"to match the kernel of shape {tuple(kernel.shape)}. Got shape "
                         f"{tuple(bias.shape)} instead.")
    if x.data.dtype.kind != "f":
        x = make(x.data.astype(kernel.data.dtype))
    return x, kernel, bias


def _grouped(fn, x, kernel, bias, groups, relu, **kwargs):
    """A grouped convolution: input channels and filters split into ``groups`` equal parts,
    each part of the filters seeing its part of the channels (Krizhevsky et al., 2012), as one
    convolution node per group and a concatenation of their outputs."""
    cg, fg = x.shape[-1] // groups, kernel.shape[-1] // groups
    outs = []
    for g in range(groups):
        xg = getitem(x, (Ellipsis, slice(g * cg, (g + 1) * cg)))
        kg = getitem(kernel, (Ellipsis, slice(g * fg, (g + 1) * fg)))
        bg = None if bias is None else getitem(bias, slice(g * fg, (g + 1) * fg))
        outs.append(fn(xg, kg, bg, relu=relu, **kwargs))
    return concatenate(outs, axis=-1)


def conv2d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
           relu: bool = False, groups: int = 1) -> Tensor:
    """2-D convolution (cross-correlation, as in every framework) of channels-last images.

    Parameters
    ----------
    x : Tensor, shape (batch, height, width, in_channels)
    kernel : Tensor, shape (kh, kw, in_channels / groups, filters)
        Keras's layout.
    bias : Tensor, shape (filters,), optional
    strides : int or (int, int), default 1
    padding : {"valid", "same"}, default "valid"
        "valid": no padding; "same": zeros around the input so that the output has
        ``ceil(size / stride)`` positions along each axis.
    dilation_rate : int or (int, int), default 1
        Spacing between the kernel's taps (atrous convolution).
    relu : bool, default False
        Apply ``max(., 0)`` inside the node (what ``Conv2D(..., activation="relu")`` uses):
        the same result as ``ops.relu(conv2d(...))``, in place and with one node.
    groups : int, default 1
        Split the input channels and the filters into this many groups; filter group ``g``
        sees channel group ``g`` only (``groups = in_channels``: a depthwise convolution).

    Returns
    -------
    Tensor, shape (batch, out_height, out_width, filters)

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> x = profond.tensor(np.arange(16.0).reshape(1, 4, 4, 1))
    >>> k = profond.tensor(np.ones((2, 2, 1, 1)))
    >>> ops.conv2d(x, k).numpy()[0, :, :, 0]
    array([[10., 14., 18.],
           [26., 30., 34.],
           [42., 46., 50.]], dtype=float32)
    >>> ops.conv2d(x, k, strides=2, padding="same").shape
    (1, 2, 2, 1)
    """
    x, kernel, bias = _check_inputs(x, kernel, bias, 2, "conv2d", groups)
    if groups > 1:
        return _grouped(conv2d, x, kernel, bias, groups, relu, strides=strides,
                        padding=padding, dilation_rate=dilation_rate)
    strides = normalize_tuple(strides, 2, "strides", "conv2d")
    dilation = normalize_tuple(dilation_rate, 2, "dilation_rate", "conv2d")
    if padding == "same":
        pads = tuple(same_padding(x.shape[1 + a], kernel.shape[a], strides[a], dilation[a])
                     for a in range(2))
    elif padding == "valid":
        pads = ((0, 0), (0, 0))
    else:
        raise ValueError(f"The 'padding' parameter of conv2d must be one of ['valid', 'same']. "
                         f"Got {padding!r} instead.")
    return _conv2d_node(x, kernel, bias, x.data, kernel.data, strides, dilation, pads,
                        relu=relu)


def conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1,
           relu: bool = False, groups: int = 1) -> Tensor:
    """1-D convolution of channels-last sequences.

    Parameters
    ----------
    x : Tensor, shape (batch, steps, in_channels)
    kernel : Tensor, shape (kernel_size, in_channels / groups, filters)
        Keras's layout.
    bias : Tensor, shape (filters,), optional
    strides : int, default 1
    padding : {"valid", "same", "causal"}, default "valid"
        "causal" pads ``(kernel_size - 1) * dilation_rate`` zeros before the sequence only, so
        that output ``t`` never sees inputs after ``t`` (WaveNet, van den Oord et al., 2016).
    dilation_rate : int, default 1
    relu : bool, default False
        Apply ``max(., 0)`` inside the node (see :func:`conv2d`).
    groups : int, default 1
        Grouped convolution (see :func:`conv2d`).

    Returns
    -------
    Tensor, shape (batch, out_steps, filters)

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> x = profond.tensor(np.arange(5.0).reshape(1, 5, 1))
    >>> k = profond.tensor(np.ones((2, 1, 1)))
    >>> ops.conv1d(x, k).numpy().ravel()
    array([1., 3., 5., 7.], dtype=float32)
    >>> ops.conv1d(x, k, padding="causal").numpy().ravel()
    array([0., 1., 3., 5., 7.], dtype=float32)
    """
    x, kernel, bias = _check_inputs(x, kernel, bias, 1, "conv1d", groups)
    if groups > 1:
        return _grouped(conv1d, x, kernel, bias, groups, relu, strides=strides,
                        padding=padding, dilation_rate=dilation_rate)
    (stride,) = normalize_tuple(strides, 1, "strides", "conv1d")
    (dilation,) = normalize_tuple(dilation_rate, 1, "dilation_rate", "conv1d")
    k = kernel.shape[0]
    if padding == "same":
        pad = same_padding(x.shape[1], k, stride, dilation)
    elif padding == "causal":
        pad = ((k - 1) * dilation, 0)
    elif padding == "valid":
        pad = (0, 0)
    else:
        raise ValueError(f"The 'padding' parameter of conv1d must be one of ['valid', 'same', "
                         f"'causal']. Got {padding!r} instead.")
    n, steps, c = x.shape
    out_steps = (steps + pad[0] + pad[1] - (k - 1) * dilation - 1) // stride + 1
    # The same node on a height-one image: one node in the graph, reshapes of views only.
    return _conv2d_node(x, kernel, bias, x.data.reshape(n, 1, steps, c),
                        kernel.data.reshape((1,) + tuple(kernel.shape)), (1, stride),
                        (1, dilation), ((0, 0), pad),
                        out_shape=(n, max(out_steps, 0), kernel.shape[-1]), owner="conv1d",
                        relu=relu)

