"""MLP benchmark: profond vs PyTorch (CPU) vs a hand-written NumPy loop, on the same work.

784-256-128-10, ReLU, softmax cross-entropy, plain SGD (lr 0.01), batch 128 (``--batch``), one
epoch over 60,000 x 784 float32 samples (``--samples``), shuffled each epoch; then ``predict``
over the same samples. Contenders alternate within each round; medians and ratios to PyTorch
are printed.

The fourth row, "GEMM floor", is the matrix products of the same epoch timed alone with NumPy's
BLAS: per step, the three forward products, the three kernel-gradient products and the two
input-gradient products (the first layer's input needs no gradient, in any contender); for
predict, the three forward products. ``profond / floor`` says how much of profond's time is not
matrix products (the gather of the batch, bias, ReLU and its mask, the loss, the update, the
framework itself).

Run: python bench/mlp.py [--repeats 5] [--batch 128] [--samples 60000] [--numpy]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import (
    compare_with_floor,
    per_batch,
    profond_contender,
    setup_torch,
    threads,
    torch_contender,
)

D, H1, H2, C, LR = 784, 256, 128, 10, 0.01


def data(n):
    rng = np.random.default_rng(0)
    x = rng.random((n, D), dtype=np.float32)
    w = rng.standard_normal((D, C)).astype(np.float32)
    y = (x @ w).argmax(axis=1).astype(np.int64)
    return x, y


def profond_mlp(x, y, batch, numpy_only=False):
    import profond
    from profond import layers
    from profond.ops import kernels

    kernels.ENABLED = not numpy_only  # the compiled kernels are used when numba is installed

    profond.random.seed(0)
    model = profond.Sequential([layers.Input((D,)), layers.Dense(H1, activation="relu"),
                                layers.Dense(H2, activation="relu"), layers.Dense(C)])
    return profond_contender(model, profond.optimizers.SGD(LR), x, y, batch)


def torch_mlp(x, y, batch):
    torch = setup_torch()
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(D, H1), torch.nn.ReLU(), torch.nn.Linear(H1, H2),
                              torch.nn.ReLU(), torch.nn.Linear(H2, C))
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    return torch_contender(torch, net, opt, torch.from_numpy(x), torch.from_numpy(y), batch)


def numpy_contender(x, y, batch):
    n_samples = len(x)
    rng = np.random.default_rng(0)

    def glorot(i, o):
        lim = np.sqrt(6 / (i + o))
        return rng.uniform(-lim, lim, (i, o)).astype(np.float32)

    w1, w2, w3 = glorot(D, H1), glorot(H1, H2), glorot(H2, C)
    b1, b2, b3 = (np.zeros(n, np.float32) for n in (H1, H2, C))

    def train():
        perm = rng.permutation(n_samples)
        for i in range(0, n_samples, batch):
            idx = perm[i:i + batch]
            xb, yb = x[idx], y[idx]
            n = len(idx)
            a1 = np.maximum(xb @ w1 + b1, 0)
            a2 = np.maximum(a1 @ w2 + b2, 0)
            z = a2 @ w3 + b3
            z -= z.max(axis=1, keepdims=True)
            p = np.exp(z)
            p /= p.sum(axis=1, keepdims=True)
            p[np.arange(n), yb] -= 1
            g3 = p / n
            g2 = (g3 @ w3.T) * (a2 > 0)
            g1 = (g2 @ w2.T) * (a1 > 0)
            for w, b, a, g in ((w3, b3, a2, g3), (w2, b2, a1, g2), (w1, b1, xb, g1)):
                w -= LR * (a.T @ g)
                b -= LR * g.sum(axis=0)

    def predict():
        for i in range(0, n_samples, batch):
            xb = x[i:i + batch]
            np.maximum(np.maximum(xb @ w1 + b1, 0) @ w2 + b2, 0) @ w3 + b3

    return train, predict


def gemm_floor(n_samples, batch):
    """``(train, predict)``: the products of an epoch's steps (see the module's docstring)."""
    rng = np.random.default_rng(0)

    def mat(*shape):
        return rng.random(shape, dtype=np.float32)

    def products(n):
        x, a1, a2 = mat(n, D), mat(n, H1), mat(n, H2)
        w1, w2, w3 = mat(D, H1), mat(H1, H2), mat(H2, C)
        g1, g2, g3 = mat(n, H1), mat(n, H2), mat(n, C)

        def forward():
            x @ w1
            a1 @ w2
            a2 @ w3

        def step():
            forward()
            a2.T @ g3
            g3 @ w3.T
            a1.T @ g2
            g2 @ w2.T
            x.T @ g1

        return step, forward

    return per_batch(products, n_samples, batch)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--samples", type=int, default=60_000)
    parser.add_argument("--numpy", action="store_true",
                        help="profond on its NumPy paths only (no numba kernels)")
    args = parser.parse_args(argv)
    x, y = data(args.samples)
    b = args.batch
    contenders = {"profond": profond_mlp(x, y, b, args.numpy), "torch": torch_mlp(x, y, b),
                  "numpy loop": numpy_contender(x, y, b), "GEMM floor": gemm_floor(len(x), b)}
    from profond.ops import kernels

    path = "NumPy only" if kernels.get(np) is None else "numba kernels"
    print(f"MLP {D}-{H1}-{H2}-{C}, batch {b}, {len(x)} samples, {threads()} threads, "
          f"{args.repeats} alternating repeats, profond: {path}")
    compare_with_floor(contenders, args.repeats, ("train one epoch", f"predict {len(x):,}"))


if __name__ == "__main__":
    main()
