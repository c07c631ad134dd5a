"""A run with every stateful callback, which kills itself (SIGKILL) at a chosen point and
resumes from its checkpoint (``checkpoint`` mode: ModelCheckpoint + load_checkpoint) or its
backup (``backup`` mode: BackupAndRestore) when run again.

Run as ``python _resume_callbacks_script.py FOLDER MODE [KILL]``, KILL one of
``epoch_end:K`` (after the callbacks' epoch-end hooks of epoch K, before its checkpoint is
written), ``epoch_begin:K`` (right after the checkpoint of epoch K - 1), ``batch:K:B`` (in the
middle of epoch K) or ``train_end`` (after the last checkpoint, before the run ends).
test_resume_callbacks.py compares what the killed-and-resumed runs leave with an unbroken run.
"""

import json
import os
import signal
import sys

import numpy as np

import profond
from profond import layers
from profond.callbacks import (BackupAndRestore, CSVLogger, EarlyStopping, GradientHealth,
                               LambdaCallback, LearningRateScheduler, ModelCheckpoint,
                               ReduceLROnPlateau, load_checkpoint)

EPOCHS = 30


def data():
    x, y = profond.datasets.load_digits()
    x = (np.asarray(x) / 16.0).astype("float32")
    return x[:500], y[:500], x[500:800], y[500:800], x[800:1100], y[800:1100]


def build():
    model = profond.Sequential([layers.Input((64,)), layers.Dense(24, activation="relu"),
                                layers.Dropout(0.2), layers.Dense(10, activation="softmax")])
    model.compile(optimizer=profond.optimizers.Adam(0.02),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _die(*_):
    os.kill(os.getpid(), signal.SIGKILL)


def killer(point):
    """A callback that SIGKILLs this process at ``point``."""
    kind, *where = point.split(":")
    where = [int(w) for w in where]
    if kind == "epoch_end":
        return LambdaCallback(on_epoch_end=lambda e, logs: e == where[0] and _die())
    if kind == "epoch_begin":
        return LambdaCallback(on_epoch_begin=lambda e, logs: e == where[0] and _die())
    if kind == "batch":
        state = {}
        return LambdaCallback(
            on_epoch_begin=lambda e, logs: state.update(epoch=e),
            on_train_batch_end=lambda b, logs: (state["epoch"], b) == tuple(where) and _die())
    if kind == "train_end":
        return LambdaCallback(on_train_end=lambda logs: _die())
    raise ValueError(point)


def _note_start(folder, starts, epoch):
    starts.append(epoch)
    with open(os.path.join(folder, "starts.txt"), "a", encoding="utf-8") as fh:
        fh.write(f"{epoch}\n")


def callbacks(folder):
    return [EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True),
            ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1),
            LearningRateScheduler(lambda epoch, lr: lr * 0.9 if epoch >= 2 else lr),
            ModelCheckpoint(os.path.join(folder, "best.safetensors"), monitor="val_accuracy",
                            save_best_only=True),
            CSVLogger(os.path.join(folder, "log.csv")),
            GradientHealth()]


def run(folder, mode, kill=None):
    profond.random.seed(0)
    x, y, xv, yv, xt, yt = data()
    starts = []  # the first epoch this run trains (where it resumed), or None: no epoch
    note = LambdaCallback(
        on_epoch_begin=lambda epoch, logs: starts or _note_start(folder, starts, epoch),
        on_train_end=lambda logs: starts or _note_start(folder, starts, None))
    cbs = ([killer(kill)] if kill else []) + callbacks(folder) + [note]
    past, initial_epoch = {}, 0
    if mode == "checkpoint":
        path = os.path.join(folder, "checkpoint.safetensors")
        cbs.append(ModelCheckpoint(path))
        if os.path.exists(path):
            model, initial_epoch, past = load_checkpoint(path)
        else:
            model = build()
    else:
        # After the killer, whose on_train_end must come before the backup is deleted.
        cbs.insert(1 if kill else 0, BackupAndRestore(os.path.join(folder, "backup")))
        model = build()
    history = model.fit(x, y, epochs=EPOCHS, initial_epoch=initial_epoch, batch_size=32,
                        validation_data=(xv, yv), verbose=0, callbacks=cbs,
                        divergence_guard={"verbose": 0})
    stop = next(cb for cb in cbs if isinstance(cb, EarlyStopping))
    results = {"test": model.evaluate(xt, yt, verbose=0, return_dict=True),
               "stopped_epoch": stop.stopped_epoch, "best_epoch": stop.best_epoch,
               "learning_rate": float(model.optimizer.learning_rate)}
    if mode == "checkpoint":  # the whole run's record: the epochs before the kill first
        keys = dict.fromkeys([k for k in past if k != "epoch"] + list(history.history))
        results["history"] = {k: list(past.get(k, [])) + [float(v) for v in
                                                          history.history.get(k, [])]
                              for k in keys}
    model.save_weights(os.path.join(folder, "final.safetensors"))
    with open(os.path.join(folder, "results.json"), "w", encoding="utf-8") as fh:
        json.dump(results, fh, indent=1)


if __name__ == "__main__":
    run(sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else None)
