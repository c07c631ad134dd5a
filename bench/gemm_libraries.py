"""The same matrix products in NumPy's BLAS (OpenBLAS) and in PyTorch's (MKL / oneDNN): the
hot GEMMs of bench/mlp.py, cnn.py and rnn.py, each timed in both libraries on the same arrays.

profond computes with NumPy, so whatever PyTorch's BLAS does faster on these shapes is a gap
that no change to profond's own code can close. Each row gives both times (microseconds per
product, best of ``--repeats`` alternating rounds of many calls, each round after a rest) and
what the difference adds up to over the benchmark's epoch (``calls`` products): compare it with
the gap between the two frameworks in that benchmark. The rounds are short (~20 ms) and alternate,
and the best is kept: this machine's speed drifts by tens of percent from second to second.

Shapes, as profond runs them:

- MLP 784-256-128-10, predict: ``x @ W`` of each Dense layer, one call per batch.
- CNN conv32-conv64, predict: each convolution as one im2col GEMM (the bias rides in the GEMM:
  a column of ones, and conv2's columns padded to 296), one call per batch (profond splits conv2's
  into blocks of a few images; one GEMM is its floor).
- LSTM(128) on 28 steps of 28 features: each step's ``W^T @ [h; x; 1]``, (512, 157) @ (157, B),
  28 calls per batch (predict and training).

And the training steps' largest others (``.T``: the operand is a transposed view, as in the
framework):

- MLP: the first layer's kernel gradient ``x.T @ g``, (784, B) @ (B, 256), one call per batch.
- LSTM: each step's ``dh = R @ dZ``, (128, 512) @ (512, B), 28 calls per batch; the weight
  gradient of a chunk of ``c = 128 // B`` steps side by side, ``dZ @ XH.T``,
  (512, c B) @ (c B, 157), 28 / c calls per batch.

Run: python bench/gemm_libraries.py [--repeats 7] [--batch 32 64 256]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import SETTLE, setup_torch, threads


def shapes(batch):
    """``(label, (m, k, n), calls, transposed)``: the GEMMs of one batch size, their calls per
    epoch, and which operands are transposed views ("a", "b" or "")."""
    mlp, cnn, rnn = 60_000 // batch, 12_800 // batch, 19_200 // batch * 28
    chunk = max(1, min(28, 128 // batch))  # profond.ops._recurrent_numba.chunk
    return [
        (f"MLP b{batch} dense1", (batch, 784, 256), mlp, ""),
        (f"MLP b{batch} dense2", (batch, 256, 128), mlp, ""),
        (f"MLP b{batch} dense3", (batch, 128, 10), mlp, ""),
        (f"MLP b{batch} dense1 dW", (784, batch, 256), mlp, "a"),
        (f"CNN b{batch} conv1", (batch * 26 * 26, 10, 32), cnn, ""),
        (f"CNN b{batch} conv2", (batch * 11 * 11, 296, 64), cnn, ""),
        (f"LSTM b{batch} step", (512, 157, batch), rnn, ""),
        (f"LSTM b{batch} step dh", (128, 512, batch), rnn, ""),
        (f"LSTM b{batch} dW", (512, chunk * batch, 157), -(-rnn // chunk), "b"),
    ]


def per_call(fn, calls: int) -> float:
    """Seconds per call over ``calls`` calls, after a rest (see _common.SETTLE: the other
    library's threads spin for a while after its last product) and as many untimed calls (a
    thread pool wakes up slowly from the rest: PyTorch's first products after it took
    milliseconds)."""
    time.sleep(SETTLE)
    for _ in range(calls):
        fn()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - t0) / calls


def both(torch, rng, m, k, n, transposed, repeats):
    """Seconds per ``(m, k) @ (k, n)`` product in NumPy and in PyTorch: the best of ``repeats``
    alternating rounds of ~20 ms."""
    a = rng.random((k, m), dtype=np.float32).T if "a" in transposed else \
        rng.random((m, k), dtype=np.float32)
    b = rng.random((n, k), dtype=np.float32).T if "b" in transposed else \
        rng.random((k, n), dtype=np.float32)
    out_np, out_t = np.empty((m, n), np.float32), np.empty((m, n), np.float32)
    ta, tb, tout = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(out_t)

    def with_numpy():
        np.matmul(a, b, out=out_np)

    def with_torch():
        torch.mm(ta, tb, out=tout)

    with_numpy(), with_torch()
    np.testing.assert_allclose(out_np, out_t, rtol=1e-4)  # the same product
    runs = max(5, int(4e7 / (2 * m * n * k)))
    t_np = t_torch = float("inf")
    for _ in range(repeats):
        t_np = min(t_np, per_call(with_numpy, runs))
        t_torch = min(t_torch, per_call(with_torch, runs))
    return t_np, t_torch


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--batch", type=int, nargs="+", default=[32, 64, 256])
    args = parser.parse_args(argv)
    torch = setup_torch()
    rng = np.random.default_rng(0)
    print(f"GEMMs of the benchmarks, float32, {threads()} threads: NumPy {np.__version__} "
          f"(its BLAS) vs PyTorch {torch.__version__.split('+')[0]} (torch.mm)")
    print(f"\n{'':<24}{'m, k, n':>18}{'NumPy us':>10}{'torch us':>10}{'ratio':>7}"
          f"{'calls':>8}{'epoch gap s':>13}")
    for batch in args.batch:
        for label, (m, k, n), calls, transposed in shapes(batch):
            t_np, t_torch = both(torch, rng, m, k, n, transposed, args.repeats)
            print(f"{label:<24}{f'{m}, {k}, {n}':>18}{t_np * 1e6:>10.1f}{t_torch * 1e6:>10.1f}"
                  f"{t_np / t_torch:>7.2f}{calls:>8}{(t_np - t_torch) * calls:>13.3f}")


if __name__ == "__main__":
    main()
