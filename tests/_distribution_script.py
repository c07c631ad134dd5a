"""Data-parallel runs that test_distribution.py launches with ``mpiexec -n 2`` (and runs in
one process to compare): ``python _distribution_script.py MODE FOLDER EPOCHS``.

Modes: ``train`` (to EPOCHS, checkpointing into FOLDER; ``train-dropout`` adds a Dropout
layer), ``resume`` (from FOLDER's newest checkpoint to EPOCHS), ``die`` (rank 1 raises in its
third epoch), ``leave`` (rank 1 exits quietly in its third epoch: the timeout, 5 s, stops rank
0), ``map`` (a sweep spread over the ranks, a small width-vs-depth lab, then a fit on each
rank's own half of the data). Rank 0 writes ``FOLDER/../result-MODE.npz``: every rank's final
weights, and what each rank wrote in FOLDER (recorded with an audit hook).
"""

import os
import sys

import numpy as np

import profond
from profond import distribution, layers
from profond.callbacks import (CSVLogger, LambdaCallback, ModelCheckpoint, latest_checkpoint,
                               load_checkpoint)


def data():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 6)).astype("float32")
    y = (x[:, :1] * x[:, 1:2] + np.sin(x[:, 2:3])).astype("float32")
    return x[:168], y[:168], x[168:], y[168:]


def build(dropout=False):
    # No bias before BatchNormalization: its true gradient is 0, and Adam would turn the
    # rounding noise of that 0 into steps of the learning rate's size.
    model = profond.Sequential(
        [layers.Input((6,)), layers.Dense(16, use_bias=False), layers.BatchNormalization(),
         layers.Activation("relu")] + ([layers.Dropout(0.3)] if dropout else []) +
        [layers.Dense(1)])
    model.compile(optimizer=profond.optimizers.Adam(0.01), loss="mse", metrics=["mae"])
    return model


def callbacks(folder, extra=()):
    return [ModelCheckpoint(os.path.join(folder, "ckpt-{epoch:02d}.safetensors")),
            CSVLogger(os.path.join(folder, "history.csv"), append=True), *extra]


def train(folder, epochs, dropout=False, extra=()):
    """A fresh run to ``epochs``; returns the final weights."""
    profond.random.seed(11)
    x, y, xv, yv = data()
    model = build(dropout)
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, validation_data=(xv, yv),
              callbacks=callbacks(folder, extra))
    return model.get_weights()


def resume(folder, epochs):
    x, y, xv, yv = data()
    model, initial_epoch, _ = load_checkpoint(latest_checkpoint(folder))
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, validation_data=(xv, yv),
              callbacks=callbacks(folder), initial_epoch=initial_epoch)
    return model.get_weights()


def sweep_point(width):
    profond.random.seed(width)
    x, y, _, _ = data()
    model = profond.Sequential([layers.Input((6,)), layers.Dense(width, activation="tanh"),
                                layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model.fit(x, y, batch_size=16, epochs=2, verbose=0).history["loss"][-1]


def small_lab():
    """The width-vs-depth lab on a small grid (its runs spread with distribution.map)."""
    from profond.labs import width_vs_depth

    return width_vs_depth.run(quick=True, seeds=1, n=200, epochs=2, repeats=1, widths=(4, 8),
                              depths=(1, 2))


def _record_writes(folder):
    """Every write-mode open, rename, removal or new folder under ``folder``."""
    folder = os.path.abspath(folder)
    writes = []

    def hook(event, args):
        if event == "open":
            path, mode, flags = args
            writing = (isinstance(mode, str) and any(c in mode for c in "wax+")) or (
                mode is None and isinstance(flags, int) and
                flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
        else:
            path, writing = args[0], event in ("os.rename", "os.remove", "os.mkdir",
                                               "os.truncate", "os.rmdir")
        if writing and isinstance(path, (str, bytes, os.PathLike)) and \
                os.path.abspath(os.fsdecode(path)).startswith(folder):
            writes.append(f"{event} {os.fsdecode(path)}")

    sys.addaudithook(hook)
    return writes


def main(mode, folder, epochs):
    from mpi4py import MPI

    distribution.set_distribution(distribution.DataParallel(timeout=5 if mode == "leave" else 60))
    comm = MPI.COMM_WORLD
    writes = _record_writes(folder)
    if mode == "map":
        widths = [2, 3, 5, 8, 13]
        result = {"losses": np.array(distribution.map(sweep_point, widths)),
                  "grid": np.asarray(small_lab()["data"]["grid"])}
        # Each rank's own half of the data (auto_shard_dataset=False), 16 rows a step each.
        distribution.set_distribution(distribution.DataParallel(auto_shard_dataset=False))
        profond.random.seed(11)
        x, y, _, _ = data()
        half = slice(comm.Get_rank() * 84, (comm.Get_rank() + 1) * 84)
        model = build()
        model.fit(x[half], y[half], batch_size=16, epochs=2, verbose=0)
        every = comm.gather(model.get_weights(), root=0)
        result.update({f"w{r}_{i}": w for r, ws in enumerate(every or [])
                       for i, w in enumerate(ws)})
    else:
        if mode in ("die", "leave"):
            def fail(epoch, logs):
                if epoch == 2 and comm.Get_rank() == 1:
                    if mode == "leave":  # no error: the others wait for it, up to the timeout
                        sys.exit(0)
                    raise RuntimeError("rank 1 fails on purpose")
            weights = train(folder, epochs, extra=[LambdaCallback(on_epoch_begin=fail)])
        elif mode == "resume":
            weights = resume(folder, epochs)
        else:
            weights = train(folder, epochs, dropout=mode == "train-dropout")
        every = comm.gather(weights, root=0)
        result = {f"w{r}_{i}": w for r, ws in enumerate(every or []) for i, w in enumerate(ws)}
    all_writes = comm.gather(writes, root=0)
    if comm.Get_rank() == 0:
        for r, ws in enumerate(all_writes):
            result[f"writes{r}"] = np.array(ws, dtype=str)
        np.savez(os.path.join(os.path.dirname(os.path.abspath(folder)),
                              f"result-{mode}.npz"), **result)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
