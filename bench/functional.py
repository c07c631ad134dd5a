"""Functional vs Sequential: the cost of running a recorded graph.

The MLP of bench/mlp.py (784-256-128-10, ReLU, softmax cross-entropy on logits, SGD lr 0.01,
batch 128) built twice with the same weights: as ``Sequential`` and as
``Model(inputs, outputs)``. Each contender trains one shuffled epoch on the first 20,000
samples, then predicts them. Contenders alternate within each round; medians and the ratio
functional / sequential are printed (1.00 means no overhead).

Run: python bench/functional.py [--repeats 7]
"""

from __future__ import annotations

import argparse
import sys

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from _common import compare, profond_contender, threads
from mlp import BATCH, H1, H2, LR, C, D, data

N = 20_000


def models():
    import profond
    from profond import layers

    profond.random.seed(0)
    sequential = profond.Sequential([layers.Input((D,)), layers.Dense(H1, activation="relu"),
                                     layers.Dense(H2, activation="relu"), layers.Dense(C)])
    inputs = layers.Input((D,))
    h = layers.Dense(H1, activation="relu")(inputs)
    h = layers.Dense(H2, activation="relu")(h)
    functional = profond.Model(inputs, layers.Dense(C)(h))
    functional.set_weights(sequential.get_weights())
    return sequential, functional


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    import profond

    x, y = data()
    x, y = x[:N], y[:N]
    sequential, functional = models()
    contenders = {"sequential": profond_contender(sequential, profond.optimizers.SGD(LR), x, y,
                                                  BATCH),
                  "functional": profond_contender(functional, profond.optimizers.SGD(LR), x, y,
                                                  BATCH)}
    print(f"MLP {D}-{H1}-{H2}-{C}, batch {BATCH}, {N} samples, {threads()} threads, "
          f"{args.repeats} alternating repeats")
    compare(contenders, args.repeats, "sequential", (f"train one epoch ({N:,})",
                                                     f"predict {N:,}"), warm_up=2_000)


if __name__ == "__main__":
    main()
