"""Optional compiled kernels (numba) for :func:`profond.ops.pooling.conv2d_relu_max_pool`
(predict's convolution, bias, max pooling and ReLU in one op): a direct convolution of inputs
with few channels, and the transforms of Winograd's F(2 x 2, 3 x 3) for wider ones.

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

Wider inputs under a 3 x 3 kernel, stride 1 and 2 x 2 pooling take Winograd's F(2 x 2, 3 x 3)
(Lavin & Gray, 2015), whose 2 x 2 output tiles are exactly the pooling windows: each 4 x 4 input
tile is transformed (``winograd_input``), the 16 transformed positions are 16 GEMMs of the
tiles' channels by the transformed kernel (``ops.pooling``, in NumPy's BLAS), and the inverse
transform gives each tile's four outputs, pooled, biased and ReLU'd in one pass
(``winograd_output``): 16 products a tile and channel pair where the GEMM path makes 36. The
bias is added after the maximum (the same value: rounding is monotonic). The values are the
GEMM path's to float rounding; an infinite input may give NaN where the GEMM gives an infinity
(the transforms subtract inputs from each other).
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
                                    if (di == 0 and dj == 0) or a > m or a != a:
                                        m = a
                            o[q] = m if not m < zero else zero

        return kernel

    jit = numba.njit(cache=True, nogil=True, error_model="numpy")

    @jit
    def winograd_input(x, oph, opw, v):
        """``v`` (16, n * oph * opw, c): ``B^T d B`` of each tile ``d`` = ``x[b, 2i:2i + 4,
        2j:2j + 4]`` of ``x`` (n, h, w, c), tiles in (b, i, j) order. Each transformed position
        is one loop over the channels reading four input runs: loops that vectorise (a tile's
        16 positions in one loop do not: 23 -> 15 us for (4, 12, 12, 32))."""
        n, c = x.shape[0], x.shape[3]
        p = 0
        for b in range(n):
            for i in range(oph):
                for j in range(opw):
                    for kr in range(4):
                        # B^T's row kr: d[first] + sign * d[second], along rows then columns
                        xa = x[b, 2 * i + _FIRST[kr]]
                        xb = x[b, 2 * i + _SECOND[kr]]
                        sr = _SIGN[kr]
                        for kc in range(4):
                            ca = 2 * j + _FIRST[kc]
                            cb = 2 * j + _SECOND[kc]
                            sc = _SIGN[kc]
                            o = v[kr * 4 + kc, p]
                            a0 = xa[ca]
                            a1 = xa[cb]
                            b0 = xb[ca]
                            b1 = xb[cb]
                            if sc > 0:
                                if sr > 0:
                                    for ch in range(c):
                                        o[ch] = (a0[ch] + a1[ch]) + (b0[ch] + b1[ch])
                                else:
                                    for ch in range(c):
                                        o[ch] = (a0[ch] + a1[ch]) - (b0[ch] + b1[ch])
                            else:
                                if sr > 0:
                                    for ch in range(c):
                                        o[ch] = (a0[ch] - a1[ch]) + (b0[ch] - b1[ch])
                                else:
                                    for ch in range(c):
                                        o[ch] = (a0[ch] - a1[ch]) - (b0[ch] - b1[ch])
                    p += 1

    @jit
    def winograd_output(m, bias, zero, out):
        """``out`` (n, oph, opw, f): ReLU(the maximum of each tile's four outputs ``A^T M A``
        + ``bias``), ``m`` (16, n * oph * opw, f) the products of the transformed tiles."""
        n, oph, opw, f = out.shape
        p = 0
        for b in range(n):
            for i in range(oph):
                for j in range(opw):
                    o = out[b, i, j]
                    for q in range(f):
                        u0 = m[0, p, q] + m[4, p, q] + m[8, p, q]
                        u1 = m[1, p, q] + m[5, p, q] + m[9, p, q]
                        u2 = m[2, p, q] + m[6, p, q] + m[10, p, q]
                        u3 = m[3, p, q] + m[7, p, q] + m[11, p, q]
                        w0 = m[4, p, q] - m[8, p, q] - m[12, p, q]
                        w1 = m[5, p, q] - m[9, p, q] - m[13, p, q]
                        w2 = m[6, p, q] - m[10, p, q] - m[14, p, q]
                        w3 = m[7, p, q] - m[11, p, q] - m[15, p, q]
                        a = u0 + u1 + u2
                        y = u1 - u2 - u3
                        a = y if y > a or y != y else a
                        y = w0 + w1 + w2
                        a = y if y > a or y != y else a
                        y = w1 - w2 - w3
                        a = y if y > a or y != y else a
                        a = a + bias[q]
                        o[q] = a if not a < zero else zero
                    p += 1

    return {"conv_relu_max_pool": conv_relu_max_pool, "winograd_input": winograd_input,
            "winograd_output": winograd_output}


# F(2 x 2, 3 x 3)'s input transform B^T: row k is d[_FIRST[k]] + _SIGN[k] * d[_SECOND[k]]
_FIRST = (0, 1, 2, 1)
_SECOND = (2, 2, 1, 3)
_SIGN = (-1.0, 1.0, -1.0, -1.0)
# and its kernel transform G (4 x 3), for ops.pooling
WINOGRAD_G = ((1.0, 0.0, 0.0), (0.5, 0.5, 0.5), (0.5, -0.5, 0.5), (0.0, 0.0, 1.0))


kernel = kernels.lazy(_build)
