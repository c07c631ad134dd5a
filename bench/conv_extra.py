"""Transposed and depthwise convolution benchmark: profond vs PyTorch (CPU), training steps.

Two small models, each built around the layer measured, trained one epoch (forward, backward
and an SGD step per batch of 32, softmax cross-entropy on 10 classes):

- ``Conv2DTranspose(32, 3, strides=2, padding="same")`` on 14 x 14 x 64 inputs (to
  28 x 28 x 32), then global average pooling and ``Dense(10)``;
- ``DepthwiseConv2D(3, padding="same")`` on 28 x 28 x 64 inputs, then global average pooling
  and ``Dense(10)``.

PyTorch runs ``ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1)`` and
``Conv2d(64, 64, 3, padding=1, groups=64)``, the same computations in its own NCHW layout. The
contenders alternate within each round; medians and ratios are printed. Both use the same
number of threads (``BENCH_THREADS``, default: every core).

Run: python bench/conv_extra.py [--repeats 3] [--samples 1024]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import compare, profond_contender, setup_torch, threads, torch_contender

BATCH, LR, C = 32, 0.01, 10
SHAPES = {"Conv2DTranspose": (14, 14, 64), "DepthwiseConv2D": (28, 28, 64)}


def profond_model(kind, x, y):
    import profond
    from profond import layers

    profond.random.seed(0)
    core = (layers.Conv2DTranspose(32, 3, strides=2, padding="same")
            if kind == "Conv2DTranspose" else layers.DepthwiseConv2D(3, padding="same"))
    model = profond.Sequential([layers.Input(SHAPES[kind]), core,
                                layers.GlobalAveragePooling2D(), layers.Dense(C)])
    return profond_contender(model, profond.optimizers.SGD(LR), x, y, BATCH)


def torch_model(kind, x, y):
    torch = setup_torch()
    torch.manual_seed(0)
    nn = torch.nn
    if kind == "Conv2DTranspose":
        core, width = nn.ConvTranspose2d(64, 32, 3, stride=2, padding=1, output_padding=1), 32
    else:
        core, width = nn.Conv2d(64, 64, 3, padding=1, groups=64), 64
    net = nn.Sequential(core, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(width, C))
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()  # PyTorch's own layout, NCHW
    return torch_contender(torch, net, opt, xt, torch.from_numpy(y), BATCH)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=1024)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    y = rng.integers(0, C, args.samples).astype(np.int64)
    for kind, shape in SHAPES.items():
        x = rng.standard_normal((args.samples,) + shape).astype(np.float32)
        contenders = {"profond": profond_model(kind, x, y), "torch": torch_model(kind, x, y)}
        print(f"\n== {kind}, input {shape}, batch {BATCH}, {args.samples} samples, "
              f"{threads()} threads, {args.repeats} alternating repeats")
        compare(contenders, args.repeats, "torch",
                (f"{kind}: train one epoch", f"{kind}: predict {args.samples:,}"),
                warm_up=2 * BATCH)


if __name__ == "__main__":
    main()
