"""CNN benchmark: profond vs PyTorch (CPU) on the same work, in one process, against the GEMM
floor.

Conv2D(32, 3, relu) - MaxPooling2D(2) - Conv2D(64, 3, relu) - MaxPooling2D(2) - Flatten -
Dense(128, relu) - Dense(10), softmax cross-entropy on the logits, plain SGD (lr 0.01),
batch 64 (``--batch``), one epoch over 60,000 x 28 x 28 x 1 float32 images (Fashion-MNIST's
training set when installed, else random images), shuffled each epoch; then ``predict`` over
the same 60,000. The contenders alternate within each round; medians and ratios are printed.
Both use the same number of threads (``BENCH_THREADS``, default: every core), as NumPy's BLAS
does.

The third row, "GEMM floor", is the matrix products of the same epoch timed alone with NumPy's
BLAS: per step, the products profond's im2col formulation makes, with its shapes (a
convolution's columns carry the bias as one more column; the second one's are padded to a
multiple of 8) --

- training: for each convolution the forward product and the kernel-gradient product (the
  first one's as one small product per image, summed, as profond computes it), the second
  convolution's input-gradient products (one per kernel offset; the first convolution's input
  needs no gradient, in either framework), and for each Dense layer its forward,
  kernel-gradient and input-gradient products;
- predict: the four forward products. (With numba, predict's convolutions run as a direct
  convolution (the first) and Winograd's F(2 x 2, 3 x 3) (the second) instead, which make fewer
  products than these: profond's predict can then come under this floor.)

Everything else a step does (gathering the columns, col2im's additions, pooling, activations,
the loss, the update, the framework itself) is above the floor, so ``profond / floor`` says how
much of profond's time is not matrix products.

Run: python bench/cnn.py [--repeats 3] [--samples 60000] [--batch 64] [--numpy]
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

LR, C = 0.01, 10


def data(n):
    try:
        from profond.datasets import load_fashion_mnist

        (x, y), _ = load_fashion_mnist()
        source = "Fashion-MNIST"
    except (FileNotFoundError, ValueError):
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (60_000, 28, 28), dtype=np.uint8)
        y = rng.integers(0, C, 60_000)
        source = "random images"
    x = (x[:n, :, :, None] / 255.0).astype(np.float32)
    return x, y[:n].astype(np.int64), source


def profond_cnn(x, y, batch, numpy_only=False):
    import profond
    from profond import layers
    from profond.ops import kernels

    kernels.ENABLED = not numpy_only  # the compiled kernels are used when numba is installed

    profond.random.seed(0)
    model = profond.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(C)])
    return profond_contender(model, profond.optimizers.SGD(LR), x, y, batch)


def torch_cnn(x, y, batch):
    torch = setup_torch()
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, C))
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()  # PyTorch's own layout, NCHW
    return torch_contender(torch, net, opt, xt, torch.from_numpy(y), batch)


def gemm_floor(samples, batch):
    """``(train, predict)``: the products of an epoch's steps (see the module's docstring)."""
    rng = np.random.default_rng(0)

    def mat(*shape):
        return rng.random(shape, dtype=np.float32)

    def products(n):
        p1, p2 = n * 26 * 26, n * 11 * 11  # output positions of the two convolutions
        cols1_t, k1, g1 = mat(10, p1), mat(10, 32), mat(p1, 32)  # 3 x 3 x 1 + bias
        cols2, k2, g2 = mat(p2, 296), mat(296, 64), mat(p2, 64)  # 3 x 3 x 32 + bias, padded
        offset_k2, part = mat(3, 3, 32, 64), np.empty((p2, 32), np.float32)
        h1, w1, gd1 = mat(n, 1600), mat(1600, 128), mat(n, 128)
        h2, w2, gd2 = mat(n, 128), mat(128, C), mat(n, C)

        def forward():
            cols1_t.T @ k1
            cols2 @ k2
            h1 @ w1
            h2 @ w2

        def step():
            forward()
            np.matmul(cols1_t.reshape(10, n, p1 // n).transpose(1, 0, 2),
                      g1.reshape(n, p1 // n, 32)).sum(axis=0)
            cols2.T @ g2
            for i in range(3):
                for j in range(3):
                    np.matmul(g2, offset_k2[i, j].T, out=part)
            h1.T @ gd1
            gd1 @ w1.T
            h2.T @ gd2
            gd2 @ w2.T

        return step, forward

    return per_batch(products, samples, batch)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=60_000,
                        help="samples per epoch (fewer for a quick look)")
    parser.add_argument("--batch", type=int, default=64, help="samples per step")
    parser.add_argument("--numpy", action="store_true",
                        help="profond on its NumPy paths only (no numba kernels)")
    args = parser.parse_args(argv)
    x, y, source = data(args.samples)
    contenders = {"profond": profond_cnn(x, y, args.batch, args.numpy),
                  "torch": torch_cnn(x, y, args.batch),
                  "GEMM floor": gemm_floor(len(x), args.batch)}
    from profond.ops import kernels

    path = "NumPy only" if kernels.get(np) is None else "numba kernels"
    print(f"CNN conv32-pool-conv64-pool-dense128-dense10, batch {args.batch}, {len(x)} samples "
          f"of {source}, {threads()} threads, {args.repeats} alternating repeats, profond: "
          f"{path}")
    compare_with_floor(contenders, args.repeats, ("train one epoch", f"predict {len(x):,}"))


if __name__ == "__main__":
    main()
