"""Optional compiled kernel (numba) for :func:`profond.ops.pooling.conv2d_relu_max_pool`: a
direct convolution of inputs with few channels, fused with its bias, the max pooling and the
ReLU.

A first convolution (one to a few input channels) through im2col is a GEMM with a handful of
columns: the columns, and then a full-size output that the pooling reads back, cost more than
the products. Here each pooled output computes the ``ph * pw`` convolution outputs of its window
and keeps their maximum, and only the pooled quarter is written. The kernel is compiled for one
``(kh, kw, c, f, ph, pw, strides, dilation)``: the loops over the window, the kernel's offsets
and the channels have constant trip counts, so LLVM unrolls them and vectorises the loop over
the ``f`` filters, whose accumulators stay in registers. bench/cnn.py's first convolution,
batch 64, predict: 1.18 -> 0.59 ms (the GEMM path on both cores against this one on one).

The sums add the bias, then the offsets in row-major ``(u, v, channel)`` order: the GEMM path's
values to float rounding. NaN wins the maximum and the ReLU keeps it, as in the pooling kernels.
"""

from __future__ import annotations

import functools

from profond.ops import kernels


def _build():
    import numba  # here, not at import: numba's own import costs ~0.25 s

    @functools.cache
    def conv_relu_max_pool(kh, kw, c, f, ph, pw, sh, sw, dh, dw):
        """The kernel for one shape: ``kernel(x, k, b, zero, out)``, ``x`` (n, h, w, c),
        ``k`` (kh, kw, c, f), ``b`` (f,), ``out`` (n, oh // ph, ow // pw, f); ``zero`` is 0
        in the arrays' dtype (a float literal would make numba compute float32 in float64)."""

        # cache=True: the closure's constants are part of numba's cache key (one entry a shape)
        @numba.njit(cache=True, nogil=True, error_model="numpy")
        def kernel(x, k, b, zero, out):
            n, oph, opw, _ = out.shape
            for bb in range(n):
                xb = x[bb]
                for i in range(oph):
                    for j in range(opw):
                        o = out[bb, i, j]
                        for q in range(f):
                            m = zero
                            for di in range(ph):
                                r = (i * ph + di) * sh
                                for dj in range(pw):
                                    s = (j * pw + dj) * sw
                                    a = b[q]
                                    for u in range(kh):
                                        for v in range(kw):
                                            for ch in range(c):
                                                a += xb[r + u * dh, s + v * dw, ch] * k[u, v, ch, q]
                                    if di == 0 and dj == 0:
                                        m = a
                                    elif a > m or a != a:
                                        m = a
                            o[q] = m if not m < zero else zero

        return kernel

    return {"conv_relu_max_pool": conv_relu_max_pool}


kernel = kernels.lazy(_build)
