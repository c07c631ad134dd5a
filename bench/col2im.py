"""Two ways to write col2im (a convolution's input gradient, and a transposed convolution's
forward) side by side on the shapes of bench/cnn.py's second convolution and a wider one:
one GEMM per kernel offset into a reused buffer (``ops.conv._col2im_gemm``,
``ops.conv_nd.col2im``), against one big GEMM for every offset followed by strided additions
(the form ``conv_nd.col2im`` had before). Medians of alternating repeats; ratios above 1 mean
the big GEMM is slower. With numba installed, a third figure: one GEMM and the compiled
additions (``ops.kernels``, what ``_col2im_gemm`` then runs). Run it on an idle machine: under
load the order can flip.

    python bench/col2im.py
"""

from __future__ import annotations

import itertools
import math
import time

import numpy as np

from profond.ops import kernels
from profond.ops.conv import _col2im_gemm
from profond.ops.conv_nd import _offset_slices


def one_big_gemm(g2, kd, shape, out_sizes, strides, dilation):
    ksize, (c, f) = kd.shape[:-2], kd.shape[-2:]
    kvol = math.prod(ksize)
    weights = kd.reshape(kvol, c, f).transpose(2, 0, 1).reshape(f, kvol * c)
    shares = (g2 @ weights).reshape((shape[0],) + tuple(out_sizes) + (kvol, c))
    out = np.zeros(shape, dtype=g2.dtype)
    for index, offset in enumerate(itertools.product(*map(range, ksize))):
        out[(slice(None),) + _offset_slices(offset, out_sizes, strides, dilation)] += \
            shares[..., index, :]
    return out


def main():
    rng = np.random.default_rng(0)
    print("col2im, 3x3 kernel, stride 1: per-offset GEMMs against one big GEMM")
    for n in (32, 64, 256):
        for h, c, f in ((13, 32, 64), (28, 16, 32)):
            oh = h - 2
            g2 = rng.normal(size=(n * oh * oh, f)).astype("float32")
            kd = rng.normal(size=(3, 3, c, f)).astype("float32")
            shape = (n, h, h, c)
            def ours(compiled):
                kernels.ENABLED = compiled
                return _col2im_gemm(np, g2, kd, shape, oh, oh, 1, 1, 1, 1)

            runs = {"per offset": lambda: ours(False),
                    "one GEMM": lambda: one_big_gemm(g2, kd, shape, (oh, oh), (1, 1), (1, 1))}
            if kernels.available():
                runs["compiled"] = lambda: ours(True)
            np.testing.assert_allclose(runs["per offset"](), runs["one GEMM"](), rtol=1e-3,
                                       atol=1e-3)
            times = {k: [] for k in runs}
            for _ in range(7):
                for name, fn in runs.items():
                    start = time.perf_counter()
                    fn()
                    times[name].append(time.perf_counter() - start)
            per, big = (np.median(times[k]) * 1e3 for k in ("per offset", "one GEMM"))
            compiled = (f", compiled {np.median(times['compiled']) * 1e3:6.2f} ms"
                        if "compiled" in times else "")
            print(f"  batch {n:3d}, input {h}x{h}x{c}, {f} filters: per offset {per:6.2f} ms, "
                  f"one GEMM {big:6.2f} ms, ratio {big / per:.2f}{compiled}")


if __name__ == "__main__":
    main()
