"""Optional compiled kernels (numba) for :mod:`profond.ops.conv_depthwise`.

NumPy computes a depthwise convolution as one broadcast product and one addition per kernel
offset, each over the whole output (nine pairs of passes for a 3 x 3 kernel, and as many
products and sums over the batch backward); these loops visit each output position once and
keep its channels in cache while the offsets are added. Their data are 4-D: (n, h, w, c)
inputs, (n, oh, ow, c * m) outputs, and 3-D (kh, kw, c * m) kernels (rank 1 passes height-one
views).

The zero padding is not materialised: the loops skip the offsets that fall in it. The forward
sum adds the other offsets in the NumPy path's order (the same bits: adding the padding's zero
products changes nothing); the bias and the ReLU follow, as there. Backward, the kernel's and the bias's gradients
are sums over the batch and positions accumulated in float64, and the input's gradient adds
the offsets' shares position by position: both agree with the NumPy path to float rounding.
``zero`` is the number 0 of the arrays' dtype (a float literal would make numba compute float32
data in float64).
"""

from __future__ import annotations

from profond.ops import kernels


def _build():
    import numba  # here, not at import: numba's own import costs ~0.25 s

    jit = numba.njit(cache=True, nogil=True, error_model="numpy")

    # Position by position: the c * m contiguous channels of one output position take each
    # kernel offset in turn; with m == 1 (the usual depthwise convolution) the channel loop is
    # written apart, so that LLVM vectorises it. (Row by row, with 2-D indexing, measured
    # 3.5 ms against 2.2 ms for bench/conv_extra.py's batch.)

    @jit
    def forward(x, kd, sh, sw, dh, dw, pt, pl, bias, relu, zero, out):
        # x (n, h, w, c), padded by pt rows above and pl columns left; kd (kh, kw, c * m);
        # out (n, oh, ow, c * m)
        n, oh, ow, cm = out.shape
        h, w = x.shape[1], x.shape[2]
        kh, kw, m = kd.shape[0], kd.shape[1], cm // x.shape[3]
        for b in range(n):
            for i in range(oh):
                for j in range(ow):
                    o = out[b, i, j]
                    o[:] = zero
                    for a in range(kh):
                        r = i * sh + a * dh - pt
                        if r < 0 or r >= h:  # the zero padding adds nothing
                            continue
                        for e in range(kw):
                            s = j * sw + e * dw - pl
                            if s < 0 or s >= w:
                                continue
                            xr, kr = x[b, r, s], kd[a, e]
                            if m == 1:
                                for t in range(cm):
                                    o[t] = o[t] + xr[t] * kr[t]
                            else:
                                for t in range(cm):
                                    o[t] = o[t] + xr[t // m] * kr[t]
                    if bias.size:
                        for t in range(cm):
                            o[t] = o[t] + bias[t]
                    if relu:
                        for t in range(cm):
                            if o[t] < zero:  # noqa: PLR1730 (a NaN stays, as in NumPy's maximum)
                                o[t] = zero

    @jit
    def backward(x, kd, g, out, relu, sh, sw, dh, dw, pt, pl, zero, gk, gb, gx):
        # g and out (n, oh, ow, c * m); gk (kh, kw, c * m) and gb (c * m) float64 accumulators,
        # zero on entry, or empty when that gradient is not wanted; gx (n, h, w, c) zeros, or
        # empty
        n, oh, ow, cm = g.shape
        h, w = x.shape[1], x.shape[2]
        kh, kw, m = kd.shape[0], kd.shape[1], cm // x.shape[3]
        want_k, want_x = gk.size > 0, gx.size > 0
        d = g[0, 0, 0].copy()  # one position's gradient, masked by the ReLU
        for b in range(n):
            for i in range(oh):
                for j in range(ow):
                    gr = g[b, i, j]
                    if relu:
                        orow = out[b, i, j]
                        for t in range(cm):  # g * (out > 0), NaN as NumPy's
                            d[t] = gr[t] if orow[t] > zero else gr[t] * zero
                    else:
                        d[:] = gr
                    if gb.size:
                        for t in range(cm):
                            gb[t] += d[t]
                    for a in range(kh):
                        r = i * sh + a * dh - pt
                        if r < 0 or r >= h:
                            continue
                        for e in range(kw):
                            s = j * sw + e * dw - pl
                            if s < 0 or s >= w:
                                continue
                            xr, kr = x[b, r, s], kd[a, e]
                            if want_k:
                                acc = gk[a, e]
                                if m == 1:
                                    for t in range(cm):
                                        acc[t] += xr[t] * d[t]
                                else:
                                    for t in range(cm):
                                        acc[t] += xr[t // m] * d[t]
                            if want_x:
                                gxr = gx[b, r, s]
                                if m == 1:
                                    for t in range(cm):
                                        gxr[t] += d[t] * kr[t]
                                else:
                                    for ch in range(cm // m):
                                        share = zero
                                        for q in range(m):
                                            share += d[ch * m + q] * kr[ch * m + q]
                                        gxr[ch] += share

    return {"forward": forward, "backward": backward}


kernel = kernels.lazy(_build)
