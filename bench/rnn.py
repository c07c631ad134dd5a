"""Recurrent benchmark: profond vs PyTorch (CPU) on the same work, in one process.

LSTM(128) then Dense(10), and GRU(128) then Dense(10), reading 28 x 28 images row by row
(input (64, 28, 28): 28 steps of 28 features), softmax cross-entropy on the logits, Adam
(lr 1e-3), batch 64 (``--batch``), one epoch over 60,000 sequences (Fashion-MNIST's training
set when installed, else random images), shuffled each epoch; then ``predict`` over the same
60,000.
The contenders alternate within each round; medians and ratios are printed. Both use the same
number of threads (``BENCH_THREADS``, default: every core), as NumPy's BLAS does.

PyTorch's GRU is Keras's ``reset_after=True`` GRU (profond's default), so both do the same
arithmetic.

Run: python bench/rnn.py [--repeats 3] [--samples 60000] [--batch 64] [--cells lstm gru]
[--numpy]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import compare, profond_contender, setup_torch, threads, torch_contender

LR, UNITS, C = 1e-3, 128, 10


def data(n):
    try:
        from profond.datasets import load_fashion_mnist

        (x, y), _ = load_fashion_mnist()
        source = "Fashion-MNIST"
    except (ImportError, FileNotFoundError, ValueError):
        rng = np.random.default_rng(0)
        x = rng.integers(0, 256, (60_000, 28, 28), dtype=np.uint8)
        y = rng.integers(0, C, 60_000)
        source = "random images"
    x = (x[:n] / 255.0).astype(np.float32)
    return x, y[:n].astype(np.int64), source


def profond_rnn(cell, x, y, batch):
    import profond
    from profond import layers

    profond.random.seed(0)
    rnn = {"lstm": layers.LSTM, "gru": layers.GRU}[cell](UNITS)
    model = profond.Sequential([layers.Input((28, 28)), rnn, layers.Dense(C)])
    return profond_contender(model, profond.optimizers.Adam(LR), x, y, batch)


def torch_rnn(cell, x, y, batch):
    torch = setup_torch()
    torch.manual_seed(0)
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = {"lstm": nn.LSTM, "gru": nn.GRU}[cell](28, UNITS, batch_first=True)
            self.out = nn.Linear(UNITS, C)

        def forward(self, xb):
            seq, _ = self.rnn(xb)
            return self.out(seq[:, -1])

    net = Net()
    opt = torch.optim.Adam(net.parameters(), lr=LR)
    return torch_contender(torch, net, opt, torch.from_numpy(x), torch.from_numpy(y), batch)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=60_000,
                        help="sequences per epoch (fewer for a quick look)")
    parser.add_argument("--batch", type=int, default=64, help="batch size (default 64)")
    parser.add_argument("--numpy", action="store_true",
                        help="profond without its optional numba kernels")
    parser.add_argument("--cells", nargs="+", default=["lstm", "gru"], choices=["lstm", "gru"])
    args = parser.parse_args(argv)
    x, y, source = data(args.samples)
    if args.numpy:
        from profond.ops import kernels

        kernels.ENABLED = False
    for cell in args.cells:
        contenders = {"profond": profond_rnn(cell, x, y, args.batch),
                       "torch": torch_rnn(cell, x, y, args.batch)}
        print(f"\n{cell.upper()}({UNITS}) - Dense({C}), input ({args.batch}, 28, 28), Adam, "
              f"{len(x)} sequences of {source}, {threads()} threads, {args.repeats} "
              "alternating repeats")
        compare(contenders, args.repeats, "torch",
                (f"{cell}: train one epoch", f"{cell}: predict {len(x):,}"), warm_up=2048)


if __name__ == "__main__":
    main()
