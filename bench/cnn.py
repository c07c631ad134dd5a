"""CNN benchmark: profond vs PyTorch (CPU) on the same work, in one process.

Conv2D(32, 3, relu) - MaxPooling2D(2) - Conv2D(64, 3, relu) - MaxPooling2D(2) - Flatten -
Dense(128, relu) - Dense(10), softmax cross-entropy on the logits, plain SGD (lr 0.01),
batch 64, one epoch over 60,000 x 28 x 28 x 1 float32 images (Fashion-MNIST's training set
when installed, else random images), shuffled each epoch; then ``predict`` over the same
60,000. The contenders alternate within each round; medians and ratios are printed.
Both use the same number of threads (``BENCH_THREADS``, default: every core), as NumPy's BLAS
does.

Run: python bench/cnn.py [--repeats 3] [--samples 60000]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import compare, profond_contender, setup_torch, threads, torch_contender

BATCH, LR, C = 64, 0.01, 10


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


def profond_cnn(x, y):
    import profond
    from profond import layers

    profond.random.seed(0)
    model = profond.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(C)])
    return profond_contender(model, profond.optimizers.SGD(LR), x, y, BATCH)


def torch_cnn(x, y):
    torch = setup_torch()
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, C))
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()  # PyTorch's own layout, NCHW
    return torch_contender(torch, net, opt, xt, torch.from_numpy(y), BATCH)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=60_000,
                        help="samples per epoch (fewer for a quick look)")
    args = parser.parse_args(argv)
    x, y, source = data(args.samples)
    contenders = {"profond": profond_cnn(x, y), "torch": torch_cnn(x, y)}
    print(f"CNN conv32-pool-conv64-pool-dense128-dense10, batch {BATCH}, {len(x)} samples of "
          f"{source}, {threads()} threads, {args.repeats} alternating repeats")
    compare(contenders, args.repeats, "torch", ("train one epoch", f"predict {len(x):,}"))


if __name__ == "__main__":
    main()
