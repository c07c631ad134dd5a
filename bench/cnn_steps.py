"""bench/cnn.py's profond model alone: milliseconds per training step and per predict step, and
the page faults per step, for before/after comparisons of the convolution and pooling ops.

Best of ``--repeats`` epochs of ``--steps`` steps (after one warm-up epoch). Two checkouts
compare best alternated on the same machine, e.g.

    for i in 1 2 3; do for t in OLD NEW; do PYTHONPATH=$t/src python bench/cnn_steps.py; done; done

Run: python bench/cnn_steps.py [--batch 64] [--steps 100] [--repeats 3] [--numpy]
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from cnn import data


def faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--numpy", action="store_true",
                        help="NumPy paths only (no compiled kernels, see profond.ops.kernels)")
    args = parser.parse_args(argv)
    import profond
    from profond import layers
    from profond.ops import kernels

    kernels.ENABLED = not args.numpy

    x, y, _ = data(args.batch * args.steps)
    profond.random.seed(0)
    model = profond.Sequential([
        layers.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu"), layers.MaxPooling2D(2),
        layers.Flatten(), layers.Dense(128, activation="relu"), layers.Dense(10)])
    model.compile(optimizer=profond.optimizers.SGD(0.01),
                  loss=profond.losses.SparseCategoricalCrossentropy(from_logits=True))
    runs = {"train": lambda: model.fit(x, y, batch_size=args.batch, verbose=0),
            "predict": lambda: model.predict(x, batch_size=args.batch, verbose=0)}
    for run in runs.values():  # warm-up
        run()
    line = [f"batch {args.batch}{' (NumPy)' if args.numpy else ''}:"]
    for name, run in runs.items():
        times, counts = [], []
        for _ in range(args.repeats):
            f0, t0 = faults(), time.perf_counter()
            run()
            times.append(time.perf_counter() - t0)
            counts.append(faults() - f0)
        line.append(f"{name} {min(times) / args.steps * 1e3:6.2f} ms/step "
                    f"({statistics.median(counts) / args.steps:6.0f} faults/step)")
    print("  ".join(line))


if __name__ == "__main__":
    main()
