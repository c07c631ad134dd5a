"""What every lab shares: seeding, timing, small model builders, the result record, plotting.

A lab's result is plain data (dicts, lists, numbers, strings), so it can be written as JSON,
compared between runs and rendered in the HTML report without the objects that produced it::

    {"lab": "losses", "title": ..., "claim": ..., "quick": True, "seed": 0, "seconds": 3.2,
     "table": {"columns": [...], "rows": [[...], ...]},   # the figures, one row per case
     "data": {...},                                       # what the plots draw
     "checks": {"mae_beats_mse": True, ...},              # the claim, tested on the numbers
     "holds": True,                                       # all checks passed
     "verdict": "MAE's slope error (0.03) is ..."}        # written from the numbers

A claim proved on one seed is an anecdote, so every lab's ``run`` is wrapped by
:func:`over_seeds`: it runs the lab on several seeds (3 in quick mode, 5 in full mode), keeps
the first seed's run as the one shown (table, data, plots), and adds ``"seeds"`` and
``"claims"``: for each check, the figure behind it on every seed, its mean, standard deviation,
minimum and maximum, and whether it holds. The rule (:func:`claim_holds`): a check holds when
it holds on the mean of its figure AND on a clear majority of the seeds, at least
``ceil(2n/3)`` of ``n`` (2 of 3, 4 of 5). A check written as a plain bool has the figure 1.0 or
0.0 per seed (its mean is the fraction of seeds where it held, compared with 0.5).
"""

from __future__ import annotations

import math
import os
import time

import numpy as np

__all__ = ["seed_everything", "Stopwatch", "mlp", "make_result", "pyplot", "save", "fmt",
           "load_digits_split", "accuracy_of", "above", "below", "seeds_needed", "claim_holds",
           "over_seeds", "ok", "all_ok", "QUICK_SEEDS", "FULL_SEEDS"]

#: How many seeds a lab states its claims on, in quick and in full mode.
QUICK_SEEDS = 3
FULL_SEEDS = 5


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


_OPS = {">": lambda a, b: a > b, ">=": lambda a, b: a >= b,
        "<": lambda a, b: a < b, "<=": lambda a, b: a <= b}


def _figure(value, op, threshold, what):
    value, threshold = float(value), float(threshold)
    return {"value": value, "op": op, "threshold": threshold, "what": str(what),
            "ok": bool(math.isfinite(value) and _OPS[op](value, threshold))}


def above(value, threshold, what="", strict=True) -> dict:
    """A check that holds when the figure ``value`` is above ``threshold`` (``>=`` unless
    ``strict``); ``what`` names the figure in the verdict."""
    return _figure(value, ">" if strict else ">=", threshold, what)


def below(value, threshold, what="", strict=True) -> dict:
    """A check that holds when the figure ``value`` is below ``threshold`` (``<=`` unless
    ``strict``); ``what`` names the figure in the verdict."""
    return _figure(value, "<" if strict else "<=", threshold, what)


def seeds_needed(n: int) -> int:
    """The clear majority of ``n`` seeds a check must hold on: ``ceil(2n/3)``.

    Examples
    --------
    >>> [seeds_needed(n) for n in (1, 2, 3, 4, 5)]
    [1, 2, 2, 3, 4]
    """
    return math.ceil(2 * int(n) / 3)


def claim_holds(values, op, threshold) -> dict:
    """The verdict on one check over several seeds: its figure's per-seed ``values``, compared
    with ``threshold`` by ``op`` (``">"``, ``">="``, ``"<"``, ``"<="``).

    Holds when the comparison holds on the mean AND on at least :func:`seeds_needed` seeds.

    Examples
    --------
    >>> claim_holds([0.2, 0.15, 0.05], ">", 0.1)["holds"]
    True
    >>> claim_holds([0.3, 0.02, 0.05], ">", 0.1)["holds"]  # mean 0.123, but 1 of 3 seeds
    False
    """
    if op not in _OPS:
        raise ValueError(f"The 'op' parameter of claim_holds must be one of {sorted(_OPS)}. "
                         f"Got {op!r} instead.")
    values = np.asarray([float(v) for v in values], dtype=float)
    if values.size == 0:
        raise ValueError("The 'values' parameter of claim_holds must be a non-empty sequence "
                         "of numbers. Got an empty sequence instead.")
    compare = _OPS[op]
    per_seed = [bool(math.isfinite(v) and compare(v, threshold)) for v in values]
    mean = float(values.mean())
    on_mean = bool(math.isfinite(mean) and compare(mean, threshold))
    needed = seeds_needed(values.size)
    return {"values": values.tolist(), "op": op, "threshold": float(threshold),
            "mean": mean, "std": float(values.std()), "min": float(values.min()),
            "max": float(values.max()), "per_seed": per_seed, "seeds_held": sum(per_seed),
            "seeds_needed": needed, "holds_on_mean": on_mean,
            "holds": on_mean and sum(per_seed) >= needed}


def make_result(module, *, quick, seed, seconds, columns, rows, data, checks, verdict):
    """The plain-data record of one lab run on one seed (see the module docstring).

    A value of ``checks`` is a bool or a figure made by :func:`above` / :func:`below`; the
    figures are kept under ``"figures"`` so :func:`over_seeds` can average them.
    """
    figures = {}
    for k, v in checks.items():
        figures[k] = (v if isinstance(v, dict)
                      else _figure(1.0 if v else 0.0, ">", 0.5, "held (1) or not (0)"))
    checks = {k: f["ok"] for k, f in figures.items()}
    return _plain({
        "lab": module.NAME, "title": module.TITLE, "claim": module.CLAIM,
        "quick": bool(quick), "seed": int(seed), "seconds": round(float(seconds), 3),
        "table": {"columns": list(columns), "rows": [list(r) for r in rows]},
        "data": data, "checks": checks, "figures": figures, "holds": all(checks.values()),
        "verdict": verdict,
    })


def _seed_list(quick, seed, seeds):
    if seeds is None:
        return [int(seed) + k for k in range(QUICK_SEEDS if quick else FULL_SEEDS)]
    if isinstance(seeds, (int, np.integer)) and not isinstance(seeds, bool):
        if seeds < 1:
            raise ValueError(f"The 'seeds' parameter of run must be a positive int or a "
                             f"sequence of ints. Got {seeds!r} instead.")
        return [int(seed) + k for k in range(int(seeds))]
    try:
        out = [int(s) for s in seeds]
    except (TypeError, ValueError):
        out = []
    if not out or len(set(out)) != len(out):
        raise ValueError(f"The 'seeds' parameter of run must be a positive int or a sequence "
                         f"of distinct ints. Got {seeds!r} instead.")
    return out


def _claim_line(name, c):
    what = f" ({c['what']})" if c["what"] else ""
    state = "holds" if c["holds"] else "FAILS"
    why = ("" if c["holds"] else " (not on the mean)" if not c["holds_on_mean"]
           else f" (needs {c['seeds_needed']} seeds)")
    return (f"{name}{what}: mean {fmt(c['mean'])} {c['op']} {fmt(c['threshold'])}, "
            f"std {fmt(c['std'])}, range {fmt(c['min'])} to {fmt(c['max'])}, on "
            f"{c['seeds_held']} of {len(c['values'])} seeds: {state}{why}.")


def over_seeds(run_one):
    """Wrap a lab's one-seed ``run(quick, seed, **kwargs)`` so it states its claims over seeds.

    The wrapped ``run`` takes ``seeds``: ``None`` (``QUICK_SEEDS`` or ``FULL_SEEDS`` seeds from
    ``seed`` on), a count, or a sequence of seeds. It returns the first seed's result (shown in
    the table and the plots) with ``"seeds"``, ``"per_seed"`` (each seed's checks, figures and
    seconds), ``"claims"`` (see :func:`claim_holds`, plus ``"what"``), and ``"checks"``,
    ``"holds"`` and ``"verdict"`` restated over the seeds. A failing check's reading comes from
    the lab module's ``WHY`` dict when it has one.
    """
    import functools
    import sys

    @functools.wraps(run_one)
    def run(quick: bool = False, seed: int = 0, seeds=None, **kwargs):
        seed_list = _seed_list(quick, seed, seeds)
        results = [run_one(quick=quick, seed=s, **kwargs) for s in seed_list]
        first = results[0]
        module = sys.modules[run_one.__module__]
        claims = {}
        for name, f0 in first["figures"].items():
            c = claim_holds([r["figures"][name]["value"] for r in results], f0["op"],
                            f0["threshold"])
            claims[name] = {"what": f0["what"], **c}
        holds = all(c["holds"] for c in claims.values())
        lines = [_claim_line(k, c) for k, c in claims.items()]
        why = getattr(module, "WHY", {})
        readings = [f"Why {k} fails: {why[k]}" for k, c in claims.items()
                    if not c["holds"] and k in why]
        shown = first["verdict"].split(": ", 1)[-1]
        verdict = (bears_out(holds)[:-2] + f" over {len(seed_list)} seeds "
                   f"({', '.join(map(str, seed_list))}; a check holds on its mean and on at "
                   f"least {seeds_needed(len(seed_list))} of them): " + " ".join(lines)
                   + (" " + " ".join(readings) if readings else "")
                   + f" On seed {seed_list[0]}, shown in the table and plots: {shown}")
        out = dict(first)
        out.update({
            "seeds": seed_list,
            "seconds": round(sum(r["seconds"] for r in results), 3),
            "per_seed": [{"seed": s, "seconds": r["seconds"], "checks": r["checks"],
                          "figures": r["figures"]} for s, r in zip(seed_list, results)],
            "claims": claims, "checks": {k: c["holds"] for k, c in claims.items()},
            "holds": holds, "verdict": verdict,
        })
        return out

    run.__doc__ = (run_one.__doc__ or "") + (
        "\n    The run is repeated on several seeds (``seeds``: None for 3 in quick mode and 5 "
        "in full\n    mode from ``seed`` on, a count, or a sequence); see "
        "``profond.labs._common.over_seeds``.\n")
    return run


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


def ok(check) -> bool:
    """Whether one check (a bool, or a figure from :func:`above` / :func:`below`) holds."""
    return bool(check["ok"]) if isinstance(check, dict) else bool(check)


def all_ok(checks: dict) -> bool:
    """Whether every check of one seed's ``checks`` holds."""
    return all(ok(c) for c in checks.values())
