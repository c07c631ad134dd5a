"""A fixed amount of profond work, for instruction counts that a loaded machine cannot blur.

Trains a tiny MLP, CNN or LSTM for a fixed number of steps (``fit`` on 8 batches of 16) and
predicts once: small enough that the engine's own per-step work (graph, bookkeeping, data
path, callbacks) weighs as much as the arithmetic. Compare two checkouts by instruction counts:

    valgrind --tool=callgrind --callgrind-out-file=/dev/null python bench/steps.py mlp 1
    valgrind --tool=callgrind --callgrind-out-file=/dev/null python bench/steps.py mlp 5

(the "Collected" line is the total; the difference of the two runs, divided by 4, is one
epoch of 8 steps without the imports and set-up). Timing it with the wall clock tells little:
use bench/mlp.py, cnn.py and rnn.py for that.

Run: python bench/steps.py {mlp,cnn,lstm} [EPOCHS]
"""

from __future__ import annotations

import sys

import numpy as np

import profond
from profond import layers

MODELS = {
    "mlp": lambda: [layers.Input((64,)), layers.Dense(32, activation="relu"),
                    layers.Dense(10, activation="softmax")],
    "cnn": lambda: [layers.Input((8, 8, 1)), layers.Conv2D(4, 3, activation="relu"),
                    layers.MaxPooling2D(), layers.Flatten(),
                    layers.Dense(10, activation="softmax")],
    "lstm": lambda: [layers.Input((8, 8)), layers.LSTM(16),
                     layers.Dense(10, activation="softmax")],
}
SHAPES = {"mlp": (64,), "cnn": (8, 8, 1), "lstm": (8, 8)}


def main(kind: str, epochs: int) -> None:
    rng = np.random.default_rng(0)
    x = rng.random((128,) + SHAPES[kind], dtype=np.float32)
    y = rng.integers(0, 10, 128)
    profond.random.seed(0)
    model = profond.Sequential(MODELS[kind]())
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=16, epochs=epochs, verbose=0)
    model.predict(x, batch_size=64, verbose=0)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "mlp", int(sys.argv[2]) if len(sys.argv) > 2 else 1)
