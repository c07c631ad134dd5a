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
from _common import alternate, report, setup_torch, threads  # noqa: E402

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


def profond_contender(x, y):
    import profond
    from profond import layers

    profond.random.seed(0)
    model = profond.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(C)])
    model.compile(optimizer=profond.optimizers.SGD(LR),
                  loss=profond.losses.SparseCategoricalCrossentropy(from_logits=True))

    def train():
        model.fit(x, y, batch_size=BATCH, epochs=1, shuffle=True, verbose=0)

    def predict():
        model.predict(x, batch_size=BATCH)

    return train, predict


def torch_contender(x, y):
    torch = setup_torch()
    torch.manual_seed(0)
    nn = torch.nn
    net = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),
                        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                        nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, C))
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    loss_fn = nn.CrossEntropyLoss()
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()  # PyTorch's own layout, NCHW
    yt = torch.from_numpy(y)
    n = len(x)

    def train():
        perm = torch.randperm(n)
        for i in range(0, n, BATCH):
            idx = perm[i:i + BATCH]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()

    def predict():
        with torch.inference_mode():
            for i in range(0, n, BATCH):
                net(xt[i:i + BATCH])

    return train, predict


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--samples", type=int, default=60_000,
                        help="samples per epoch (fewer for a quick look)")
    args = parser.parse_args(argv)
    x, y, source = data(args.samples)
    contenders = {"profond": profond_contender(x, y), "torch": torch_contender(x, y)}
    print(f"CNN conv32-pool-conv64-pool-dense128-dense10, batch {BATCH}, {len(x)} samples of "
          f"{source}, {threads()} threads, {args.repeats} alternating repeats")
    for _, (train, predict) in contenders.items():  # warm-up: caches, allocator, BLAS
        train()
        predict()
    report("train one epoch", alternate({k: v[0] for k, v in contenders.items()},
                                        args.repeats), "torch")
    report(f"predict {len(x):,}", alternate({k: v[1] for k, v in contenders.items()},
                                            args.repeats), "torch")


if __name__ == "__main__":
    main()
