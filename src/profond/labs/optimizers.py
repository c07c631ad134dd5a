"""Lab ``optimizers``: SGD, Momentum, Adagrad, RMSprop and Adam on three problems — the best one
depends on the problem.

Each optimizer is given its best learning rate from the same grid, on each problem, so that the
comparison is between the update rules and not between lucky learning rates:

1. **Rosenbrock's valley** ``f(x, y) = (1 - x)^2 + 100 (y - x^2)^2`` from ``(-1.5, 2)``: a curved,
   narrow valley with its minimum at ``(1, 1)``;
2. **an elongated bowl** ``f(x, y) = (x^2 + 100 y^2) / 2`` from ``(-1.5, 1)`` (condition number 100,
   axes aligned with the parameters);
3. **the bundled digits**, an MLP (one hidden layer of 64 ReLU units) trained by mini-batches.

On the surfaces the parameters are a :class:`profond.Variable` of two numbers: the loss is
written with tensors, ``loss.backward()`` gives the gradient and ``optimizer.apply`` takes one
step. An optimizer's score on a surface is the number of steps after which ``f`` stays below
``TOL`` (its final value breaks ties between those that never do); on the digits, its training
loss after the last epoch. The figures: the trajectories, the loss curves, and each problem's
ranking.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from profond.labs._common import (Stopwatch, above, all_ok, bears_out, fmt, load_digits_split,
                                  make_result, mlp, over_seeds, pyplot, save, seed_everything)

NAME = "optimizers"
TITLE = "Optimizers: SGD, Momentum, Adagrad, RMSprop, Adam"
CLAIM = ("SGD updates the weights at each batch; Momentum keeps a running sum of past gradients "
         "(a velocity); Adagrad adapts the learning rate of each weight to its past gradients; "
         "Adam mixes Momentum and that adaptation. The best optimizer depends on the problem.")

OPTIMIZERS = ("SGD", "Momentum", "Adagrad", "RMSprop", "Adam")
LR_GRID = (1e-3, 3e-3, 1e-2, 3e-2, 1e-1, 3e-1)
TOL = 1e-6
SURFACES = {"Rosenbrock valley": (-1.5, 2.0), "elongated bowl": (-1.5, 1.0)}
DIGITS = "digits MLP"


def make_optimizer(name: str, learning_rate: float):
    """The optimizer called ``name`` in this lab (``"Momentum"`` is SGD with momentum 0.9)."""
    from profond import optimizers

    if name == "Momentum":
        return optimizers.SGD(learning_rate=learning_rate, momentum=0.9)
    return getattr(optimizers, name)(learning_rate=learning_rate)


def surface(name: str, p):
    """The value of the surface ``name`` at ``p`` (a tensor of two numbers)."""
    x, y = p[0], p[1]
    if name == "Rosenbrock valley":
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2
    return 0.5 * (x * x + 100 * y * y)


def descend(name: str, optimizer, start, steps: int):
    """``steps`` steps of ``optimizer`` on the surface ``name`` from ``start``.

    Returns
    -------
    path : ndarray, shape (k + 1, 2)
        The points visited (``k <= steps``: a run that leaves the plot's region stops).
    values : ndarray, shape (k + 1,)
        ``f`` at those points.
    """
    import profond

    p = profond.Variable(np.asarray(start, dtype=np.float64), dtype="float64")
    path, values = [p.numpy().copy()], []
    for _ in range(steps):
        p.grad = None
        loss = surface(name, p)
        values.append(float(loss.data))
        loss.backward()
        optimizer.apply([p.grad], [p])
        point = p.numpy().copy()
        path.append(point)
        if not np.all(np.isfinite(point)) or np.abs(point).max() > 1e3:
            break
    values.append(float(surface(name, profond.tensor(path[-1], dtype="float64")).data)
                  if np.all(np.isfinite(path[-1])) else math.inf)
    return np.asarray(path), np.asarray(values)


def _surface_score(values):
    """``(steps after which f stays below TOL, or inf; final value)``: lower is better."""
    above = np.flatnonzero(~(values < TOL))
    final = float(values[-1]) if np.isfinite(values[-1]) else math.inf
    settled = 0 if len(above) == 0 else int(above[-1]) + 1
    return (settled if settled < len(values) else math.inf, final)


def _digits_run(name, lr, seed, data, epochs):
    import profond

    x_tr, x_te, y_tr, y_te = data
    profond.random.seed(seed)
    model = mlp(x_tr.shape[1], (64,), 10, activation="relu", output_activation="softmax",
                kernel_initializer="he_normal")
    model.compile(optimizer=make_optimizer(name, lr), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    h = model.fit(x_tr, y_tr, epochs=epochs, batch_size=32, verbose=0,
                  validation_data=(x_te, y_te)).history
    loss = [float(v) if math.isfinite(v) else math.inf for v in h["loss"]]
    return {"loss": loss, "val_accuracy": [float(v) for v in h["val_accuracy"]]}


def _ranking(scores: dict) -> list:
    return sorted(scores, key=lambda k: scores[k])


@over_seeds
def run(quick: bool = False, seed: int = 0, steps: int | None = None,
        epochs: int | None = None, lr_grid=None):
    """Tune each optimizer's learning rate on each problem, then rank them.

    Parameters
    ----------
    quick : bool
        5 epochs on the digits instead of 20. The surfaces get 2,000 steps either way: from
        ``(-1.5, 2)`` no optimizer of the grid settles in Rosenbrock's valley within 500 steps
        (Adam needs about 940, Momentum about 1,480), and a step there costs little.
    seed : int
    steps : int, optional
        Steps on each surface.
    epochs : int, optional
        Epochs on the digits.
    lr_grid : sequence of float, optional
        The learning rates tried (default ``LR_GRID``).
    """
    seed_everything(seed)
    steps = steps or 2000
    epochs = epochs or (5 if quick else 20)
    grid = tuple(float(v) for v in (lr_grid or LR_GRID))
    problems = {}
    with Stopwatch() as sw, np.errstate(over="ignore", invalid="ignore"):
        for sname, start in SURFACES.items():
            best = {}
            for opt in OPTIMIZERS:
                for lr in grid:
                    path, values = descend(sname, make_optimizer(opt, lr), start, steps)
                    score = _surface_score(values)
                    if opt not in best or score < best[opt]["score"]:
                        best[opt] = {"score": score, "learning_rate": lr, "path": path,
                                     "values": values}
            problems[sname] = {
                "kind": "surface", "start": list(start),
                "runs": {opt: {"learning_rate": b["learning_rate"],
                               "steps_to_tol": None if math.isinf(b["score"][0])
                               else b["score"][0],
                               "final": b["score"][1], "path": b["path"][::max(1, steps // 250)],
                               "curve": b["values"]} for opt, b in best.items()},
                "scores": {opt: list(b["score"]) for opt, b in best.items()}}
        data = load_digits_split(seed)
        best = {}
        for opt in OPTIMIZERS:
            for lr in grid:
                r = _digits_run(opt, lr, seed, data, epochs)
                if opt not in best or r["loss"][-1] < best[opt]["loss"][-1]:
                    best[opt] = dict(r, learning_rate=lr)
        problems[DIGITS] = {"kind": "dataset",
                            "runs": {opt: {"learning_rate": b["learning_rate"],
                                           "final": b["loss"][-1], "curve": b["loss"],
                                           "val_accuracy": b["val_accuracy"][-1]}
                                     for opt, b in best.items()},
                            "scores": {opt: [b["loss"][-1]] for opt, b in best.items()}}
    rankings = {p: _ranking({o: tuple(s) for o, s in d["scores"].items()})
                for p, d in problems.items()}
    winners = {p: r[0] for p, r in rankings.items()}
    rows = []
    for p, d in problems.items():
        for opt in OPTIMIZERS:
            r = d["runs"][opt]
            reached = r.get("steps_to_tol")
            rows.append([f"{p}: {opt}", opt, p, r["learning_rate"], fmt(r["final"]),
                         "-" if d["kind"] == "dataset" else
                         ("never" if reached is None else reached),
                         rankings[p].index(opt) + 1])
    checks = {
        "the_winner_depends_on_the_problem": len(set(winners.values())) > 1,
        "no_ranking_is_shared_by_all_problems": len({tuple(r) for r in rankings.values()}) > 1,
        "every_optimizer_learns_the_digits": above(
            min(problems[DIGITS]["runs"][o]["val_accuracy"] for o in OPTIMIZERS), 0.8,
            "worst optimizer's digits val accuracy"),
        "the_winner_reaches_the_tolerance_on_each_surface": all(
            problems[s]["runs"][winners[s]]["steps_to_tol"] is not None for s in SURFACES),
    }
    holds = all_ok(checks)
    parts = []
    for p, rank in rankings.items():
        lead = problems[p]["runs"][rank[0]]
        how = (f"f stays below {TOL:g} after {lead['steps_to_tol']} steps"
               if problems[p]["kind"] == "surface"
               else f"training loss {fmt(lead['final'])} after {epochs} epochs")
        parts.append(f"on the {p}, {rank[0]} wins ({how}, learning rate "
                     f"{lead['learning_rate']:g}), then " + ", ".join(rank[1:]))
    verdict = (bears_out(holds) + "each optimizer at its best learning rate of the grid "
               f"{list(grid)}: " + "; ".join(parts) + ". "
               + (f"{len(set(winners.values()))} different winners on {len(winners)} problems."
                  if checks["the_winner_depends_on_the_problem"]
                  else f"{next(iter(winners.values()))} wins on every problem here."))
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["case", "optimizer", "problem", "best learning rate",
                                "final loss", f"steps until f stays < {TOL:g}", "rank"],
                       rows=rows, data={"problems": problems, "rankings": rankings,
                                        "winners": winners, "steps": steps, "epochs": epochs,
                                        "lr_grid": list(grid)},
                       checks=checks, verdict=verdict)


def plot(result, out_dir) -> list:
    """``optimizers.png``: the trajectories on both surfaces (over their contours) and every
    optimizer's loss curve on each of the three problems (log scale)."""
    plt = pyplot()
    d = result["data"]
    fig, axes = plt.subplots(2, 3, figsize=(16, 9))
    colors = {opt: f"C{i}" for i, opt in enumerate(OPTIMIZERS)}
    for j, sname in enumerate(SURFACES):
        ax = axes[0, j]
        xs, ys = (np.linspace(-2, 2, 200), np.linspace(-1, 3, 200)) if j == 0 else \
            (np.linspace(-2, 2, 200), np.linspace(-1.2, 1.2, 200))
        gx, gy = np.meshgrid(xs, ys)
        gz = (1 - gx) ** 2 + 100 * (gy - gx ** 2) ** 2 if j == 0 else 0.5 * (gx ** 2
                                                                                + 100 * gy ** 2)
        ax.contour(gx, gy, np.log10(gz + 1e-3), levels=20, cmap="Greys", linewidths=0.6)
        for opt, r in d["problems"][sname]["runs"].items():
            path = np.asarray(r["path"], dtype=float)
            ax.plot(path[:, 0], path[:, 1], color=colors[opt], lw=1.2, marker=".", ms=2,
                    label=f"{opt} (lr {r['learning_rate']:g})")
        ax.plot(*(1, 1) if j == 0 else (0, 0), marker="*", color="gold", ms=14, mec="k")
        ax.set_xlim(xs[0], xs[-1])
        ax.set_ylim(ys[0], ys[-1])
        ax.set_title(f"{sname}: trajectories")
        ax.legend(fontsize=7)
    axes[0, 2].axis("off")
    axes[0, 2].text(0, 0.95, "Ranking per problem\n(best learning rate each)\n\n" + "\n\n".join(
        f"{p}:\n  " + " > ".join(r) for p, r in d["rankings"].items()), va="top", fontsize=10,
        family="monospace")
    for j, (p, prob) in enumerate(d["problems"].items()):
        ax = axes[1, j]
        for opt, r in prob["runs"].items():
            curve = np.asarray(r["curve"], dtype=float)
            x = np.arange(1, len(curve) + 1) if prob["kind"] == "dataset" else np.arange(
                len(curve))
            ax.plot(x, np.maximum(curve, 1e-16), color=colors[opt], label=opt)
        ax.set_yscale("log")
        ax.set_xlabel("epoch" if prob["kind"] == "dataset" else "step")
        ax.set_ylabel("training loss" if prob["kind"] == "dataset" else "f")
        ax.set_title(f"{p}: loss")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return [save(fig, out_dir, "optimizers.png")]
