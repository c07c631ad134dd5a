"""Max and average pooling over channels-last data, each one fused node.

A pooling window of ``ph x pw`` positions is visited one offset at a time: for the offset
``(i, j)`` the strided slice ``x[:, i::sh, j::sw]`` holds, for every output position, the input
element at that offset of its window. The output is the running maximum (or sum) of those
``ph * pw`` slices -- a handful of whole-array operations, whatever the batch size.

The backward pass walks the same slices. For the maximum, the gradient goes to the *first*
maximal element of each window (row-major order), as in PyTorch and TensorFlow, so that tied
inputs (zeros after a ReLU, saturated pixels) never receive it twice. For the average, each
slice receives ``g / count``, where ``count`` is the number of real (not padded) elements in
the window, as Keras's "same" padding does.

Non-overlapping windows (``strides == pool_size``, unpadded: the usual case) take a fast path.
The windows then tile the input's leading ``(oh * ph, ow * pw)`` corner, which is seen without a
copy as ``(n, oh, ph, ow, pw, c)``: the backward pass is one broadcast comparison against the
output and one broadcast product with the gradient over that view, each reading or writing the
input-sized arrays once, instead of ``ph * pw`` strided passes that each drag all of the input
through the cache. Only the input beyond the last whole window (odd sizes) is zero-filled.
With numba installed, that case runs compiled loops instead, one pass each way
(:mod:`profond.ops.kernels`).

Max pooling of a ReLU-fused convolution's output (``Conv2D(..., activation="relu")`` then
``MaxPooling2D``) hands the convolution a gradient already masked where the maximum is 0 --
max and ReLU commute, and the mask costs a quarter of the input's size here -- so that the
convolution skips its own full-size mask (see :func:`profond.ops.conv.conv2d`). A model whose
convolution's output only the pooling reads goes further: the convolution skips its ReLU and the
pooling applies it to its output (``relu=True``; see ``layers.pooling.relu_pool_fusable``).
"""

from __future__ import annotations

from profond.autograd.tensor import Tensor
from profond.autograd.engine import is_grad_enabled
from profond.autograd.function import as_tensor, make, relu_
from profond.ops import _conv_numba, kernels
from profond.ops.conv import SPARES, _conv_gemm, _kernel_matrix, normalize_tuple, same_padding

__all__ = ["max_pool1d", "max_pool2d", "avg_pool1d", "avg_pool2d"]

# Up to this many products per pooled output (ph * pw * kh * kw * input channels), the fused
# predict of a convolution and its pooling runs the compiled direct convolution
# (ops._conv_numba), whose unrolled body holds them all. Batch 64, 2 x 2 pooling, against the
# GEMM path: 3 x 3 x 1 -> 32 filters 1.2 -> 0.6 ms, 3 x 3 x 2 2.0 -> 1.4 ms; past it LLVM stops
# unrolling and it loses (5 x 5 x 1: 2.0 -> 16 ms; 3 x 3 x 3 on 32 x 32: 3.3 -> 29 ms).
_DIRECT_PRODUCTS = 72
# From this many input channels, a 3 x 3 convolution then 2 x 2 pooling in predict takes
# Winograd's F(2 x 2, 3 x 3) (ops._conv_numba). Batch 64, against the GEMM path: 8 -> 32
# filters on 16 x 16 1.6 -> 1.1 ms, 32 -> 64 on 12 x 12 2.3 -> 1.75, 64 -> 128 on 16 x 16
# 12.8 -> 8.2, 128 -> 128 on 8 x 8 4.6 -> 3.3; but 3 -> 32 on 30 x 30 3.0 -> 3.7.
_WINOGRAD_CHANNELS = 8
# Winograd's GEMMs take the tiles of a block of images, at least this many rows (128 to 512
# measured: 256 is within 2% of the best on each shape above).
_WINOGRAD_TILES = 256


def _offsets(ph, pw, oh, ow, sh, sw):
    """(row slice, column slice) of every window offset, in row-major order."""
    for i in range(ph):
        rows = slice(i, i + sh * (oh - 1) + 1, sh)
        for j in range(pw):
            yield rows, slice(j, j + sw * (ow - 1) + 1, sw)


def _window_counts(xp, size, pool, stride, out, pad_before, dtype):
    """Number of real (unpadded) input positions in each window along one axis."""
    starts = xp.arange(out) * stride - pad_before
    lo = xp.maximum(starts, 0)
    hi = xp.minimum(starts + pool, size)
    return (hi - lo).astype(dtype)


def _pool2d_node(x, xd, pool, strides, pads, kind, out_shape, owner, relu=False):
    xp = x.xp
    n, h, w, c = xd.shape
    (ph, pw), (sh, sw), ((pt, pb), (pl, pr)) = pool, strides, pads
    hp, wp = h + pt + pb, w + pl + pr
    oh = (hp - ph) // sh + 1
    ow = (wp - pw) // sw + 1
    if oh < 1 or ow < 1:
        raise ValueError(f"{owner}: the pool window {pool if owner.endswith('2d') else pool[1:]} "
                         f"is larger than the input of shape {tuple(x.shape)}.")
    padded = bool(pt or pb or pl or pr)
    if padded:
        fill = -xp.inf if kind == "max" else 0
        xpad = xp.full((n, hp, wp, c), fill, dtype=xd.dtype)
        xpad[:, pt:pt + h, pl:pl + w, :] = xd
    else:
        xpad = xd
    offsets = list(_offsets(ph, pw, oh, ow, sh, sw))
    disjoint = (sh, sw) == (ph, pw) and not padded
    compiled = (kernels.get(xp) if kind == "max" and disjoint and xd.dtype.char in "fd"
                else None)
    # The input is a convolution's output with its ReLU fused (ops.conv): max(ReLU) = ReLU(max),
    # so masking this output's gradient (a quarter of the input's size for 2 x 2 windows) where
    # the maximum is 0 gives the convolution a gradient that needs no ReLU mask of its own.
    relu_source = getattr(x._backward, "relu_masked", None) if kind == "max" else None
    masked = relu or relu_source is not None  # the gradient is zero where the maximum is <= 0
    arg = None  # compiled path: each window's first maximum, for the backward pass
    if compiled is not None:  # one pass over the input (see ops.kernels)
        xpad = xp.ascontiguousarray(xpad)
        out = xp.empty((n, oh, ow, c), dtype=xd.dtype)
        if x.requires_grad and is_grad_enabled():
            arg = xp.empty((n, oh, ow, c), dtype="int8" if ph * pw < 127 else "int32")
            compiled.max_pool_disjoint_argmax(xpad, ph, pw, relu, masked, out, arg)
        else:
            compiled.max_pool_disjoint(xpad, ph, pw, relu, out)
    else:
        out = _reduce_windows(xp, [xpad[:, rows, cols, :] for rows, cols in offsets], kind)
        if relu:  # max(ReLU(x)) = ReLU(max(x)): a pass over the pooled output only
            relu_(out, xp)
    counts = None
    if kind == "avg":
        if padded:
            counts = (_window_counts(xp, h, ph, sh, oh, pt, xd.dtype)[:, None] *
                      _window_counts(xp, w, pw, sw, ow, pl, xd.dtype)[None, :])[:, :, None]
            out /= counts
        else:
            out *= 1.0 / (ph * pw)
    result = out if out_shape is None else out.reshape(out_shape)

    def backward(g):
        gx = grad(g.reshape(n, oh, ow, c)).reshape(x.data.shape)
        if relu_source is not None:  # the convolution's gradient is masked: see above
            relu_source[0] = gx
        return (gx,)

    def grad(g):
        if arg is not None:
            gx = SPARES.lend(xp, ("pool gx", xpad.shape, g.dtype.str), xpad.shape, g.dtype)
            compiled.max_pool_disjoint_scatter(xp.ascontiguousarray(g), arg, ph, pw, gx)
            return gx
        if masked:
            g = g * (out > 0)
        if disjoint:
            return _disjoint_backward(xp, xpad, out, g, pool, kind)
        gx = xp.zeros((n, hp, wp, c), dtype=g.dtype)
        if kind == "avg":
            share = g / counts if counts is not None else g * (1.0 / (ph * pw))
            for rows, cols in offsets:
                gx[:, rows, cols, :] += share
        else:
            free = None  # windows whose maximum has not been claimed yet
            for rows, cols in offsets:
                hit = xpad[:, rows, cols, :] == out
                if free is None:
                    free = ~hit
                else:
                    hit &= free
                    free &= ~hit
                gx[:, rows, cols, :] += g * hit
        return gx[:, pt:pt + h, pl:pl + w, :] if padded else gx

    return make(result, (x,), backward)


def _reduce_windows(xp, windows, kind, out=None):
    """The maximum (``kind`` "max", NaN wins) or the sum of the window offsets' slices, into
    ``out`` (a new array by default): the first two combined straight into it, no copy of the
    first."""
    if len(windows) == 1:
        if out is None:
            return windows[0].copy()
        out[...] = windows[0]
        return out
    op = xp.maximum if kind == "max" else xp.add
    out = op(windows[0], windows[1], out=out)
    for window in windows[2:]:
        op(out, window, out=out)
    return out


def _disjoint_backward(xp, x, out, g, pool, kind):
    """Gradient of the input for non-overlapping, unpadded windows (``strides == pool``).

    ``x`` (n, h, w, c) is the input, ``out`` and ``g`` (n, oh, ow, c) the output and its gradient,
    ``pool`` the window ``(ph, pw)``.
    The windows tile ``x[:, :oh * ph, :ow * pw]``, viewed as ``(n, oh, ph, ow, pw, c)`` so that
    ``out`` and ``g`` broadcast over the window axes.
    """
    n, _, _, c = x.shape
    _, oh, ow, _ = out.shape
    ph, pw = pool
    gx = xp.empty(x.shape, dtype=g.dtype)
    gx[:, oh * ph:] = 0  # rows and columns past the last whole window
    gx[:, :oh * ph, ow * pw:] = 0
    tiles = (n, oh, ph, ow, pw, c)
    gx6 = gx[:, :oh * ph, :ow * pw].reshape(tiles)  # splitting axes: always a view
    if kind == "avg":
        gx6[...] = (g * (1.0 / (ph * pw)))[:, :, None, :, None, :]
        return gx
    # The maxima of each window, laid out offset-major (ph, pw, n, oh, ow, c) so that the
    # "first maximum only" pass below works on contiguous (n, oh, ow, c) masks, one per offset.
    hit = xp.empty((ph, pw, n, oh, ow, c), dtype=bool)
    hit6 = hit.transpose(2, 3, 0, 4, 1, 5)
    xp.equal(x[:, :oh * ph, :ow * pw].reshape(tiles), out[:, :, None, :, None, :], out=hit6)
    per_offset = hit.reshape(ph * pw, n, oh, ow, c)
    taken = per_offset[0].copy()  # windows whose maximum has been claimed
    for k in range(1, ph * pw):
        per_offset[k] &= ~taken
        if k < ph * pw - 1:
            taken |= per_offset[k]
    xp.multiply(g[:, :, None, :, None, :], hit6, out=gx6)
    return gx


def conv2d_relu_max_pool(x, kernel, bias, strides, dilation, pool) -> Tensor:
    """``max_pool2d(conv2d(x, kernel, bias, strides, "valid", dilation), pool, relu=True)``
    for inference: no gradient, a "valid" convolution and non-overlapping, unpadded pooling
    (``strides == pool``), all tuples. The convolution runs a few images at a time and each
    block's output is pooled while it is in cache, instead of whole-batch outputs written out
    and read back (bench/cnn.py's model, batch 64, predict: 4.68 -> 4.18 ms per batch). With
    numba, a compiled direct convolution for few input channels, Winograd's F(2 x 2, 3 x 3)
    for wider 3 x 3 ones (ops._conv_numba). Only the outputs the pooling reads are computed. What
    ``Sequential`` and functional models run for ``Conv2D(..., activation="relu")`` then
    ``MaxPooling2D`` when no gradient is needed (see ``layers.pooling.call_relu_pool``).
    """
    xp, xd, kd = x.xp, x.data, kernel.data
    n, h, w, _ = xd.shape
    kh, kw, _, f = kd.shape
    (sh, sw), (dh, dw), (ph, pw) = strides, dilation, pool
    oh, ow = (h - (kh - 1) * dh - 1) // sh + 1, (w - (kw - 1) * dw - 1) // sw + 1
    out = xp.empty((n, oh // ph, ow // pw, f), dtype=xp.result_type(xd.dtype, kd.dtype))
    if not out.size:  # (no window: nothing to compute)
        return make(out)
    compiled = kernels.get(xp) if out.dtype.char in "fd" else None
    direct = _conv_numba.kernel("conv_relu_max_pool", xp) if compiled is not None and \
        ph * pw * kh * kw * xd.shape[3] <= _DIRECT_PRODUCTS else None
    if direct is not None:  # few input channels: a direct convolution (ops._conv_numba)
        dtype = out.dtype
        b = xp.zeros(f, dtype) if bias is None else xp.asarray(bias.data, dtype=dtype)
        direct(kh, kw, xd.shape[3], f, ph, pw, sh, sw, dh, dw)(
            xp.ascontiguousarray(xd, dtype=dtype), xp.ascontiguousarray(kd, dtype=dtype), b,
            dtype.type(0), out)
        return make(out)
    if compiled is not None and (kh, kw, sh, sw, dh, dw, ph, pw) == (3, 3, 1, 1, 1, 1, 2, 2) \
            and xd.shape[3] >= _WINOGRAD_CHANNELS:
        _winograd_relu_max_pool(xp, xd, kd, bias, out)
        return make(out)
    read_h, read_w = oh // ph * ph, ow // pw * pw  # the convolution outputs the pooling reads
    # and the input rows and columns they read (the kernels above read only those, from the
    # whole contiguous input: no strided copy)
    need_h, need_w = (read_h - 1) * sh + (kh - 1) * dh + 1, (read_w - 1) * sw + (kw - 1) * dw + 1
    if need_h < h or need_w < w:
        xd, oh, ow = xd[:, :need_h, :need_w], read_h, read_w

    def sink(start, stop, block):
        conv = block.reshape(stop - start, oh, ow, f)
        if compiled is not None:
            compiled.max_pool_disjoint(conv, ph, pw, True, out[start:stop])
            return
        relu_(_reduce_windows(xp, [conv[:, i:read_h:ph, j:read_w:pw] for i in range(ph)
                                   for j in range(pw)], "max", out[start:stop]), xp)

    _conv_gemm(xp, xd, _kernel_matrix(xp, kd, bias), kh, kw, oh, ow, sh, sw, dh, dw,
               bias is not None, False, sink)
    return make(out)


def _winograd_relu_max_pool(xp, xd, kd, bias, out):
    """``out`` = ReLU(max pool 2 x 2 (3 x 3 convolution of ``xd`` by ``kd`` + ``bias``)) by
    Winograd's F(2 x 2, 3 x 3), a few images at a time (see ops._conv_numba). bench/cnn.py's
    second convolution alone, batch 64: 2.35 -> 1.75 ms."""
    n, _, _, c = xd.shape
    oph, opw, f = out.shape[1:]
    dtype = out.dtype
    g = xp.asarray(_conv_numba.WINOGRAD_G, dtype=dtype)
    # the transformed kernel G k G^T of every (channel, filter) pair, as (16, c, f); G's
    # Kronecker product by itself as a broadcast product (numpy.kron takes ~90 us)
    gg = (g[:, None, :, None] * g[None, :, None, :]).reshape(16, 9)
    u = xp.matmul(gg, kd.reshape(9, c * f).astype(dtype, copy=False)).reshape(16, c, f)
    b = xp.zeros(f, dtype) if bias is None else xp.asarray(bias.data, dtype=dtype)
    xd = xp.ascontiguousarray(xd, dtype=dtype)
    tiles = oph * opw
    block = min(n, -(-_WINOGRAD_TILES // tiles))
    v_all = xp.empty(16 * block * tiles * c, dtype)
    m_all = xp.empty(16 * block * tiles * f, dtype)
    into, back = _conv_numba.kernel("winograd_input", xp), _conv_numba.kernel("winograd_output", xp)
    zero = dtype.type(0)
    for start in range(0, n, block):
        stop = min(n, start + block)
        rows = (stop - start) * tiles
        # contiguous also for a shorter last block: numba's loops over strided arrays are slower
        v = v_all[:16 * rows * c].reshape(16, rows, c)
        m = m_all[:16 * rows * f].reshape(16, rows, f)
        into(xd[start:stop], oph, opw, v)
        xp.matmul(v, u, out=m)
        back(m, b, zero, out[start:stop])


def _pool2d(x, pool_size, strides, padding, kind, owner, relu=False):
    x = as_tensor(x)
    if x.ndim != 4:
        raise ValueError(f"The 'x' parameter of {owner} must have rank 4 (batch, height, width, "
                         f"channels). Got shape {tuple(x.shape)} instead.")
    pool = normalize_tuple(pool_size, 2, "pool_size", owner)
    strides = pool if strides is None else normalize_tuple(strides, 2, "strides", owner)
    pads = _pads(x.shape[1:3], pool, strides, padding, owner)
    return _pool2d_node(x, x.data, pool, strides, pads, kind, None, owner, relu)


def _pool1d(x, pool_size, strides, padding, kind, owner, relu=False):
    x = as_tensor(x)
    if x.ndim != 3:
        raise ValueError(f"The 'x' parameter of {owner} must have rank 3 (batch, steps, "
                         f"channels). Got shape {tuple(x.shape)} instead.")
    (pool,) = normalize_tuple(pool_size, 1, "pool_size", owner)
    (stride,) = (pool,) if strides is None else normalize_tuple(strides, 1, "strides", owner)
    n, steps, c = x.shape
    pads = _pads((1, steps), (1, pool), (1, stride), padding, owner)
    out_steps = (steps + sum(pads[1]) - pool) // stride + 1
    return _pool2d_node(x, x.data.reshape(n, 1, steps, c), (1, pool), (1, stride), pads, kind,
                        (n, max(out_steps, 0), c), owner, relu)


def _pads(sizes, pool, strides, padding, owner):
    if padding == "valid":
        return tuple((0, 0) for _ in sizes)
    if padding == "same":
        return tuple(same_padding(s, p, st) for s, p, st in zip(sizes, pool, strides))
    raise ValueError(f"The 'padding' parameter of {owner} must be one of ['valid', 'same']. "
                     f"Got {padding!r} instead.")


def max_pool2d(x, pool_size=2, strides=None, padding="valid", relu: bool = False) -> Tensor:
    """Maximum over ``pool_size`` windows of channels-last images.

    Parameters
    ----------
    x : Tensor, shape (batch, height, width, channels)
    pool_size : int or (int, int), default 2
    strides : int or (int, int), optional
        Defaults to ``pool_size`` (non-overlapping windows).
    padding : {"valid", "same"}, default "valid"
        "same" pads with -inf so that padding never wins a maximum.
    relu : bool, default False
        Apply ``max(., 0)`` to the pooled output inside the node: the same values and gradients
        as ``max_pool2d(relu(x))`` (max and ReLU commute), with the ReLU's pass over a quarter
        of the data for 2 x 2 windows. ``Sequential`` and functional models use it for
        ``Conv2D(..., activation="relu")`` followed by ``MaxPooling2D`` when nothing else
        reads the convolution's output.

    Returns
    -------
    Tensor, shape (batch, out_height, out_width, channels)

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> x = profond.tensor(np.arange(16.0).reshape(1, 4, 4, 1))
    >>> ops.max_pool2d(x).numpy()[0, :, :, 0]
    array([[ 5.,  7.],
           [13., 15.]], dtype=float32)
    """
    return _pool2d(x, pool_size, strides, padding, "max", "max_pool2d", relu)


def avg_pool2d(x, pool_size=2, strides=None, padding="valid") -> Tensor:
    """Mean over ``pool_size`` windows of channels-last images.

    With ``padding="same"`` each window is averaged over its real elements only (Keras's and
    TensorFlow's rule; PyTorch's default counts the padding).

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> x = profond.tensor(np.arange(16.0).reshape(1, 4, 4, 1))
    >>> ops.avg_pool2d(x).numpy()[0, :, :, 0]
    array([[ 2.5,  4.5],
           [10.5, 12.5]], dtype=float32)
    """
    return _pool2d(x, pool_size, strides, padding, "avg", "avg_pool2d")


def max_pool1d(x, pool_size=2, strides=None, padding="valid", relu: bool = False) -> Tensor:
    """Maximum over windows of ``pool_size`` steps of channels-last sequences; ``relu`` as
    :func:`max_pool2d`'s.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> ops.max_pool1d(profond.tensor([[[1.0], [3.0], [2.0], [0.0], [5.0]]])).numpy().ravel()
    array([3., 2.], dtype=float32)
    """
    return _pool1d(x, pool_size, strides, padding, "max", "max_pool1d", relu)


def avg_pool1d(x, pool_size=2, strides=None, padding="valid") -> Tensor:
    """Mean over windows of ``pool_size`` steps of channels-last sequences.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import ops
    >>> ops.avg_pool1d(profond.tensor([[[1.0], [3.0], [2.0], [0.0]]]), padding="same").numpy().ravel()
    array([2., 1.], dtype=float32)
    """
    return _pool1d(x, pool_size, strides, padding, "avg", "avg_pool1d")
