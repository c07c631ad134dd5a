"""The compiled kernels themselves (numba); imported by :mod:`profond.ops.kernels` on first use,
so that importing profond never pays numba's import. Every array argument is a NumPy array;
the loops run in memory order of the arrays they write.
"""

from __future__ import annotations

try:
    import numba
except ImportError:  # doctests import every module: plain functions then, which ops.kernels
    numba = None     # never hands out (it checks COMPILED)

COMPILED = numba is not None
# One thread: numba's worker threads and OpenBLAS's, which keep spinning after each GEMM,
# fight over the two cores (bench/cnn.py's step: 22 -> 50 ms with parallel=True).
_jit = numba.njit(cache=True) if COMPILED else (lambda fn: fn)


@_jit
def _relu_rows(o):
    """``max(o, 0)`` in place over a 2-D array; NaN kept, as with ``numpy.maximum``."""
    for j in range(o.shape[0]):
        for ch in range(o.shape[1]):
            m = o[j, ch]
            o[j, ch] = m if not m < 0 else 0


@_jit
def max_pool_disjoint(x, ph, pw, relu, out):
    """``out`` (n, oh, ow, c) = the maximum of each ``ph x pw`` window of ``x`` (n, h, w, c)
    with strides ``(ph, pw)``; NaN wins, as with ``numpy.maximum``. With ``relu``, then
    ``max(., 0)`` (NaN kept), on the output while it is in cache.

    A row of windows at a time, running maxima over whole input rows, with selects rather than
    conditional stores: loops that vectorise. (4, 26, 26, 32) -> (4, 13, 13, 32): 23 -> 16 us,
    against a loop per window."""
    n, oh, ow, c = out.shape
    for b in range(n):
        for i in range(oh):
            o = out[b, i]
            first = x[b, i * ph]
            for j in range(ow):
                for ch in range(c):
                    o[j, ch] = first[j * pw, ch]
            for di in range(ph):
                row = x[b, i * ph + di]
                for j in range(ow):
                    for dj in range(pw):
                        for ch in range(c):
                            v = row[j * pw + dj, ch]
                            m = o[j, ch]
                            o[j, ch] = v if v > m or v != v else m
            if relu:
                _relu_rows(o)


@_jit
def max_pool_disjoint_argmax(x, ph, pw, relu, masked, out, arg):
    """:func:`max_pool_disjoint`, and in ``arg`` (n, oh, ow, c) the offset ``di * pw + dj`` of
    each window's first maximum (row-major), or -1 where no element gets the gradient: a NaN
    maximum (``x == out`` holds nowhere) or, with ``masked``, a maximum <= 0 (a ReLU's zero).
    The backward pass (:func:`max_pool_disjoint_scatter`) then never reads ``x`` again: bench/
    cnn.py's first pooling, forward and backward, batch 64 / 256, 1.23 / 8.6 -> 0.85 / 6.4 ms
    against a backward that found the maxima again."""
    n, oh, ow, c = out.shape
    for b in range(n):
        for i in range(oh):
            o = out[b, i]
            a = arg[b, i]
            first = x[b, i * ph]
            for j in range(ow):
                for ch in range(c):
                    v = first[j * pw, ch]
                    o[j, ch] = v
                    a[j, ch] = 0 if v == v else -1
            for di in range(ph):
                row = x[b, i * ph + di]
                for j in range(ow):
                    for dj in range(pw):
                        if di == 0 and dj == 0:
                            continue
                        k = di * pw + dj
                        for ch in range(c):
                            v = row[j * pw + dj, ch]
                            m = o[j, ch]
                            nan = v != v
                            take = v > m or nan
                            o[j, ch] = v if take else m
                            a[j, ch] = (-1 if nan else k) if take else a[j, ch]
            if masked:
                for j in range(ow):
                    for ch in range(c):
                        a[j, ch] = a[j, ch] if o[j, ch] > 0 else -1
            if relu:
                _relu_rows(o)


@_jit
def max_pool_disjoint_scatter(g, arg, ph, pw, gx):
    """``gx`` (n, h, w, c): each window's gradient ``g`` (n, oh, ow, c) at the offset ``arg``
    holds (see :func:`max_pool_disjoint_argmax`), zero elsewhere, in memory order."""
    n, oh, ow, c = g.shape
    h, w = gx.shape[1], gx.shape[2]
    for b in range(n):
        for i in range(oh):
            gi = g[b, i]
            a = arg[b, i]
            for di in range(ph):
                grow = gx[b, i * ph + di]
                for j in range(ow):
                    for dj in range(pw):
                        k = di * pw + dj
                        for ch in range(c):
                            grow[j * pw + dj, ch] = gi[j, ch] if a[j, ch] == k else 0
                for s in range(ow * pw, w):  # columns past the last whole window
                    for ch in range(c):
                        grow[s, ch] = 0
        for r in range(oh * ph, h):  # rows past the last whole window
            for s in range(w):
                for ch in range(c):
                    gx[b, r, s, ch] = 0


@_jit
def col2im_add(shares, sh, sw, dh, dw, out):
    """``out`` (n, hp, wp, c) += every kernel offset's share of each output position:
    ``shares`` (n, oh, ow, kh, kw, c), offset ``(u, v)`` of position ``(i, j)`` landing on
    ``(i * sh + u * dh, j * sw + v * dw)``. One pass over the shares, image by image (an
    image's gradient stays in cache)."""
    n, oh, ow, kh, kw, c = shares.shape
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for u in range(kh):
                    r = i * sh + u * dh
                    for v in range(kw):
                        s = j * sw + v * dw
                        for ch in range(c):
                            out[b, r, s, ch] += shares[b, i, j, u, v, ch]
