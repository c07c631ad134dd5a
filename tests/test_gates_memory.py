"""What the gates do: LSTM and GRU keep a value for 30+ steps; SimpleRNN, same budget, does not.

The task: a sequence of 40 steps of random signs (channel 0); one step, at a random place, is
marked (channel 1). The label is the sign at the marked step. Training sequences have the mark
anywhere, so short gaps teach the networks what to remember; the test sequences have it in the
first 10 steps, so the value must be kept for 30 to 40 steps while 30+ new signs arrive through
the same input. A gated cell learns to open its input gate at the mark and to stop overwriting
its memory afterwards; a SimpleRNN has no such switch and its memory of the mark is
overwritten by the following signs.
"""


import numpy as np
import pytest

import profond
from profond import layers

T, N, UNITS, EPOCHS = 40, 1024, 16, 10


def _task(n, rng, first, last):
    x = np.zeros((n, T, 2), np.float32)
    x[:, :, 0] = rng.choice([-1.0, 1.0], (n, T))
    pos = rng.integers(first, last, n)
    x[np.arange(n), pos, 1] = 1.0
    return x, (x[np.arange(n), pos, 0] > 0).astype(np.int64)


def _long_gap_accuracy(cls):
    profond.random.seed(1)
    rng = np.random.default_rng(1)
    x, y = _task(N, rng, 0, T)
    x_test, y_test = _task(256, rng, 0, 10)
    model = profond.Sequential([layers.Input((T, 2)), cls(UNITS), layers.Dense(2)])
    model.compile(optimizer=profond.optimizers.Adam(0.01),
                  loss=profond.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=EPOCHS, verbose=0)
    return model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]


@pytest.fixture(scope="module")
def accuracies():
    with profond.backend.blas_threads(1):
        return {cls.__name__: _long_gap_accuracy(cls)
                for cls in (layers.LSTM, layers.GRU, layers.SimpleRNN)}


def test_gated_cells_remember_over_30_steps(accuracies):
    assert accuracies["LSTM"] >= 0.9, accuracies
    assert accuracies["GRU"] >= 0.9, accuracies


def test_simple_rnn_forgets_with_the_same_budget(accuracies):
    assert accuracies["SimpleRNN"] <= 0.75, accuracies  # chance is 0.5
