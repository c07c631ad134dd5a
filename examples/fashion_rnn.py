"""Fashion-MNIST read row by row by a recurrent network.

Each 28 x 28 image becomes a sequence of 28 steps of 28 pixels (top row first). An LSTM (or a
GRU) reads the rows one at a time, keeps what matters in its state, and a Dense layer
classifies the final state into the ten kinds of clothing. No convolution: the network only
sees one row at a time and must remember the rest.

Run: python examples/fashion_rnn.py [--cell lstm|gru] [--epochs 12] [--units 128]

Needs the Fashion-MNIST files (``apt-get install dataset-fashion-mnist``, or
``profond.datasets.load_fashion_mnist(path=...)``).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import profond
from profond import layers
from profond.datasets import load_fashion_mnist


def build(cell: str, units: int) -> profond.Sequential:
    rnn = {"lstm": layers.LSTM, "gru": layers.GRU}[cell](units)
    model = profond.Sequential([layers.Input((28, 28)), rnn, layers.Dense(10)])
    model.compile(optimizer=profond.optimizers.Adam(1e-3),
                  loss=profond.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cell", choices=["lstm", "gru"], default="lstm")
    parser.add_argument("--units", type=int, default=128)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    profond.random.seed(args.seed)
    (x_train, y_train), (x_test, y_test) = load_fashion_mnist()
    # (60000, 28, 28): 28 steps of 28 pixels, scaled in float32 (no float64 copy on the way)
    x_train = np.divide(x_train, 255, dtype=np.float32)
    x_test = np.divide(x_test, 255, dtype=np.float32)

    model = build(args.cell, args.units)
    model.summary()
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=args.batch_size, epochs=args.epochs,
              validation_split=0.1, verbose=2)
    seconds = time.perf_counter() - start
    results = model.evaluate(x_test, y_test, batch_size=256, verbose=0, return_dict=True)
    print(f"{args.cell.upper()}({args.units}) after {args.epochs} epochs "
          f"({seconds:.0f} s of training): test accuracy {results['accuracy']:.4f}, "
          f"test loss {results['loss']:.4f}")
    return results


if __name__ == "__main__":
    main()
