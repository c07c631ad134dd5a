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
                for j in range(ow):
                    for ch in range(c):
                        m = o[j, ch]
                        o[j, ch] = m if not m < 0 else 0


@_jit
def max_pool_disjoint_backward(x, out, g, ph, pw, relu_mask, first, gx):
    """``gx`` (n, h, w, c): each window's gradient ``g`` at its first maximal element
    (row-major), zero elsewhere; with ``relu_mask``, zero too where the maximum is <= 0.

    Per row of windows, one pass finds each window's first maximum (its offset into ``first``,
    (ow, c) ints holding up to ``ph * pw``: -1 for none yet, ``ph * pw`` for a masked window),
    a second writes ``gx`` in memory order. Two branch-free loops that vectorise: 1.6 -> 0.84
    ms for the (64, 26, 26, 32) input of bench/cnn.py's first pooling, against one loop that
    claimed and wrote in the same pass."""
    n, oh, ow, c = out.shape
    h, w = x.shape[1], x.shape[2]
    none = ph * pw
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    first[j, ch] = none if relu_mask and not out[b, i, j, ch] > 0 else -1
            for di in range(ph):
                r = i * ph + di
                for j in range(ow):
                    for dj in range(pw):
                        k = di * pw + dj
                        for ch in range(c):
                            if x[b, r, j * pw + dj, ch] == out[b, i, j, ch] and first[j, ch] == -1:
                                first[j, ch] = k
            for di in range(ph):
                r = i * ph + di
                for j in range(ow):
                    for dj in range(pw):
                        k = di * pw + dj
                        for ch in range(c):
                            gx[b, r, j * pw + dj, ch] = g[b, i, j, ch] if first[j, ch] == k else 0
                for s in range(ow * pw, w):  # columns past the last whole window
                    for ch in range(c):
                        gx[b, r, s, ch] = 0
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
