"""scikit-learn estimators: profond's ``ProfondClassifier`` vs scikit-learn's ``MLPClassifier``,
the same network on the same data, fit time and test accuracy side by side.

The network is ``MLPClassifier``'s default: one hidden layer of 100 ReLU units, Adam
(learning rate 0.001, betas 0.9/0.999, epsilon 1e-8), L2 alpha 1e-4, batches of 200, shuffled
each epoch. Both train exactly ``--epochs`` epochs (scikit-learn's convergence test is kept from
stopping it early, profond gets ``epochs=``), so the times compare the same work. Data: the
digits (1,797 8x8 images scaled to [0, 1], 75/25 split) and a Fashion-MNIST subset (10,000
training images drawn at random, scored on the 10,000 test images; random images when the
dataset is not installed). The contenders alternate within each round, each round with its own
seed; medians are printed, with the ratio of fit times (profond / scikit-learn).

Run: python bench/sklearn.py [--repeats 3] [--epochs 20]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings

import numpy as np

_HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, _HERE)
from _common import threads

# This file is bench/sklearn.py: without its folder on the path, "import sklearn" finds
# scikit-learn rather than this script.
sys.path[:] = [p for p in sys.path if os.path.realpath(p or os.getcwd()) != _HERE]

HIDDEN, LR, ALPHA, BATCH = (100,), 0.001, 1e-4, 200


def digits():
    from sklearn.model_selection import train_test_split

    from profond.datasets import load_digits

    x, y = load_digits()
    x_train, x_test, y_train, y_test = train_test_split(x / 16.0, y, test_size=0.25,
                                                        random_state=0, stratify=y)
    return "digits", x_train, y_train, x_test, y_test


def fashion(n=10_000):
    try:
        from profond.datasets import load_fashion_mnist

        (x, y), (x_test, y_test) = load_fashion_mnist()
        name = "Fashion-MNIST"
    except (FileNotFoundError, ValueError):
        rng = np.random.default_rng(0)
        x, x_test = (rng.integers(0, 256, (m, 28, 28), dtype=np.uint8) for m in (60_000, 10_000))
        y, y_test = rng.integers(0, 10, 60_000), rng.integers(0, 10, 10_000)
        name = "random images"
    pick = np.random.default_rng(0).choice(len(x), n, replace=False)
    def flat(a):
        return a.reshape(len(a), -1).astype(np.float32) / 255.0

    return f"{name} {n:,}", flat(x[pick]), y[pick], flat(x_test), y_test


def contenders(epochs):
    from sklearn.neural_network import MLPClassifier

    from profond.sklearn import ProfondClassifier

    common = {"hidden_layer_sizes": HIDDEN, "alpha": ALPHA, "batch_size": BATCH,
              "learning_rate_init": LR}
    return {
        "profond": lambda seed: ProfondClassifier(epochs=epochs, random_state=seed, **common),
        # n_iter_no_change above max_iter: the convergence test never stops it early
        "scikit-learn": lambda seed: MLPClassifier(max_iter=epochs, n_iter_no_change=epochs + 1,
                                                   random_state=seed, **common),
    }


def run(dataset, makers, repeats):
    name, x, y, x_test, y_test = dataset
    times = {k: [] for k in makers}
    scores = {k: [] for k in makers}
    for k, make in makers.items():  # warm-up: caches, allocator, BLAS
        make(0).set_params(**({"epochs": 1} if k == "profond" else {"max_iter": 1})).fit(
            x[:400], y[:400])
    for seed in range(repeats):
        for k, make in makers.items():
            est = make(seed)
            t0 = time.perf_counter()
            est.fit(x, y)
            times[k].append(time.perf_counter() - t0)
            scores[k].append(est.score(x_test, y_test))
    med = {k: statistics.median(v) for k, v in times.items()}
    print(f"\n{name}: {len(x):,} training x {x.shape[1]} features, {len(x_test):,} test")
    print(f"{'':<14}{'fit median s':>14}{'fit min s':>11}{'test acc':>10}{'fit ratio':>11}")
    for k in makers:
        print(f"{k:<14}{med[k]:>14.3f}{min(times[k]):>11.3f}"
              f"{statistics.median(scores[k]):>10.4f}{med[k] / med['scikit-learn']:>11.2f}")
    print(f"  scikit-learn / profond = {med['scikit-learn'] / med['profond']:.2f}x")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message=".*Maximum iterations.*")
    print(f"MLP {HIDDEN[0]} ReLU, Adam lr {LR}, alpha {ALPHA}, batch {BATCH}, {args.epochs} "
          f"epochs, {threads()} cores, {args.repeats} alternating repeats")
    makers = contenders(args.epochs)
    for dataset in (digits(), fashion()):
        run(dataset, makers, args.repeats)


if __name__ == "__main__":
    main()
