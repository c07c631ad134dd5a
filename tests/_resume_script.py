"""A training run that checkpoints every epoch and resumes from its newest checkpoint.

Run as ``python _resume_script.py FOLDER EPOCHS SLEEP``: test_resume.py kills it (SIGKILL) at
random moments and starts it again, then compares its final weights with an uninterrupted run.
"""

import os
import sys
import time

import numpy as np

import profond
from profond import layers
from profond.callbacks import LambdaCallback, ModelCheckpoint, latest_checkpoint, load_checkpoint


def data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(160, 6)).astype("float32")
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0).astype("int64") + (x[:, 3] > 1).astype("int64")
    return x, y


def build():
    model = profond.Sequential([
        layers.Input((6,)), layers.Dense(16, activation="relu"), layers.Dropout(0.3),
        layers.Dense(12, activation="tanh"), layers.Dropout(0.2, seed=5),
        layers.Dense(3, activation="softmax")])
    model.compile(optimizer=profond.optimizers.Adam(0.01),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def run(folder, epochs, sleep=0.0):
    """Train to ``epochs``, resuming from the newest checkpoint in ``folder`` if any."""
    profond.random.seed(7)
    x, y = data()
    path = latest_checkpoint(folder)
    if path is not None:
        model, initial_epoch, _ = load_checkpoint(path)
    else:
        model, initial_epoch = build(), 0
    callbacks = [ModelCheckpoint(os.path.join(folder, "ckpt-{epoch:03d}.safetensors"))]
    if sleep:
        callbacks.append(LambdaCallback(on_train_batch_end=lambda b, logs: time.sleep(sleep)))
    history = model.fit(x, y, epochs=epochs, initial_epoch=initial_epoch, batch_size=16,
                        validation_split=0.25, verbose=0, callbacks=callbacks)
    return model, history


if __name__ == "__main__":
    folder, epochs, sleep = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
    model, _ = run(folder, epochs, sleep)
    model.save_weights(os.path.join(folder, "final.safetensors"))
