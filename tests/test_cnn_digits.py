"""End to end: a small CNN learns the 8 x 8 digit images (>= 0.97 test accuracy)."""


import numpy as np

import profond
from profond import layers
from profond.datasets import load_digits


def test_cnn_reaches_097_on_digit_images():
    x, y = load_digits(images=True)
    assert x.shape == (1797, 8, 8, 1)
    x = (x / 16.0).astype(np.float32)
    rng = np.random.default_rng(0)
    order = rng.permutation(len(x))
    train, test = order[:1400], order[1400:]
    profond.random.seed(0)
    model = profond.Sequential([
        layers.Input((8, 8, 1)),
        layers.Conv2D(16, 3, padding="same", activation="relu"),
        layers.MaxPooling2D(),
        layers.Conv2D(32, 3, activation="relu"),
        layers.Flatten(),
        layers.Dropout(0.2),
        layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer=profond.optimizers.Adam(0.005),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with profond.backend.blas_threads(1):
        model.fit(x[train], y[train], epochs=8, batch_size=32, verbose=0)
        _, accuracy = model.evaluate(x[test], y[test], verbose=0)
    assert accuracy >= 0.97
