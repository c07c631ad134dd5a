"""What every lab shares: seeding, timing, small model builders, the result record, plotting.

A lab's result is plain data (dicts, lists, numbers, strings), so it can be written as JSON,
compared between runs and rendered in the HTML report without the objects that produced it::

    {"lab": "losses", "title": ..., "claim": ..., "quick": True, "seed": 0, "seconds": 3.2,
     "table": {"columns": [...], "rows": [[...], ...]},   # the figures, one row per case
     "data": {...},                                       # what the plots draw
     "checks": {"mae_beats_mse": True, ...},              # the claim, tested on the numbers
     "holds": True,                                       # all checks passed
     "verdict": "MAE's slope error (0.03) is ..."}        # written from the numbers
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

__all__ = ["seed_everything", "Stopwatch", "mlp", "make_result", "pyplot", "save", "fmt",
           "load_digits_split", "accuracy_of"]


def seed_everything(seed: int) -> np.random.Generator:
    """Seed profond's global generator and return a NumPy generator for the lab's own draws."""
    import profond

    profond.random.seed(int(seed))
    return np.random.default_rng(int(seed))


class Stopwatch:
    """``with Stopwatch() as sw: ...`` then ``sw.seconds``.

    ``cpu=True`` counts the CPU time of the process (all its threads) instead of the wall
    clock: what a computation costs, unmoved by other programs competing for the cores.
    """

    def __init__(self, cpu: bool = False):
        self._clock = time.process_time if cpu else time.perf_counter

    def __enter__(self):
        self._t0 = self._clock()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc):
        self.seconds = self._clock() - self._t0
        return False


def mlp(input_dim, hidden, outputs, activation="relu", output_activation=None,
        kernel_initializer="glorot_uniform", **dense_kwargs):
    """A ``Sequential`` multilayer perceptron: ``Input(input_dim)``, one ``Dense`` per entry of
    ``hidden`` with ``activation``, then ``Dense(outputs, output_activation)``."""
    from profond import Input, Sequential
    from profond.layers import Dense

    layers = [Input((int(input_dim),))]
    for units in hidden:
        layers.append(Dense(int(units), activation=activation,
                            kernel_initializer=kernel_initializer, **dense_kwargs))
    layers.append(Dense(int(outputs), activation=output_activation))
    return Sequential(layers)


def load_digits_split(seed: int, test_size: float = 0.25, n: int | None = None):
    """Digits (8x8, flattened), standardised on the training split: ``x_tr, x_te, y_tr, y_te``.

    ``n`` keeps a stratified subset of that many samples first (quick modes).
    """
    from profond import data, datasets

    x, y = datasets.load_digits()
    if n is not None and n < len(x):
        x, _, y, _ = data.train_test_split(x, y, train_size=int(n), stratify=y, seed=seed)
    x_tr, x_te, y_tr, y_te = data.train_test_split(x, y, test_size=test_size, stratify=y,
                                                   seed=seed)
    scaler = data.StandardScaler()
    x_tr = scaler.fit_transform(x_tr).astype(np.float32)
    x_te = scaler.transform(x_te).astype(np.float32)
    return x_tr, x_te, np.asarray(y_tr), np.asarray(y_te)


def accuracy_of(model, x, y) -> float:
    """Fraction of samples whose arg-max prediction equals the integer label."""
    pred = np.asarray(model.predict(x, verbose=0)).argmax(axis=-1)
    return float((pred == np.asarray(y)).mean())


def _plain(value):
    """``value`` with NumPy scalars and arrays turned into Python numbers and lists."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return _plain(value.tolist())
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (np.floating, float)):
        return float(value)
    return value


def make_result(module, *, quick, seed, seconds, columns, rows, data, checks, verdict):
    """The plain-data record of one lab run (see the module docstring)."""
    checks = {k: bool(v) for k, v in checks.items()}
    return _plain({
        "lab": module.NAME, "title": module.TITLE, "claim": module.CLAIM,
        "quick": bool(quick), "seed": int(seed), "seconds": round(float(seconds), 3),
        "table": {"columns": list(columns), "rows": [list(r) for r in rows]},
        "data": data, "checks": checks, "holds": all(checks.values()),
        "verdict": verdict,
    })


def bears_out(holds: bool) -> str:
    """The opening of a verdict."""
    return ("The figures bear the claim out: " if holds
            else "The figures do NOT fully bear the claim out: ")


def fmt(x, digits: int = 3) -> str:
    """A number for a sentence: ``0.0123``, ``1.23e-07``, ``12.3``."""
    x = float(x)
    if x == 0 or not math.isfinite(x):
        return str(x)
    if abs(x) < 10 ** -(digits - 1) or abs(x) >= 1e6:
        return f"{x:.{max(digits - 1, 1)}e}"
    return f"{x:.{digits}g}" if abs(x) >= 1 else f"{x:.{digits}f}"


def pyplot():
    """matplotlib's pyplot, on the non-interactive Agg backend unless MPLBACKEND says else."""
    import matplotlib

    if os.environ.get("MPLBACKEND") is None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def save(fig, out_dir, filename) -> str:
    """Save ``fig`` as ``out_dir/filename`` (atomically), close it, and return the path."""
    from profond.plotting import save_figure

    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(os.fspath(out_dir), filename)
    save_figure(fig, path)
    pyplot().close(fig)
    return path
