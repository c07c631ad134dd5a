"""Lab ``width-vs-depth``: learn x·y, and a smooth additive function, with wide-shallow and
narrow-deep networks of (nearly) equal parameter count; then a width × depth grid.

Inputs are uniform on [-1, 1]²; targets are ``x·y`` (a product of the variables) and
``sin(2x) + y²/2`` (smooth, a sum of one-variable functions). The wide network has one hidden
layer of 37 ReLU units (149 parameters), the deep one four hidden layers of 6 (151 parameters);
both are trained identically (SGD with momentum, MSE), over several seeds. The figure is the
test MSE. The grid trains every (width, depth) pair on x·y and shows the test MSE as a heat map,
with each cell's parameter count.
"""

from __future__ import annotations

import sys

import numpy as np

from profond import distribution
from profond.labs._common import (Stopwatch, above, all_ok, bears_out, fmt, make_result, mlp,
                                  over_seeds, pyplot, save, seed_everything)

NAME = "width-vs-depth"
TITLE = "Width vs depth at equal parameter count"
CLAIM = ("Width gives more parallel computation, depth more complex computation; a balance is "
         "needed. To multiply variables, build on depth.")

FUNCTIONS = {"x·y": lambda x: x[:, 0] * x[:, 1],
             "sin(2x) + y²/2": lambda x: np.sin(2 * x[:, 0]) + 0.5 * x[:, 1] ** 2}
WIDE, DEEP = (37,), (6, 6, 6, 6)


def train_mse(hidden, x, y, x_te, y_te, epochs, batch_size, seed):
    """Test MSE and parameter count of a ReLU MLP with ``hidden`` units, trained on (x, y)."""
    import profond
    from profond import optimizers

    profond.random.seed(seed)
    model = mlp(2, hidden, 1, activation="relu", kernel_initializer="he_normal")
    model.compile(optimizer=optimizers.SGD(learning_rate=0.02, momentum=0.9), loss="mse")
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0)
    pred = np.asarray(model.predict(x_te, verbose=0))
    return float(((pred - y_te) ** 2).mean()), int(model.count_params())


@over_seeds
def run(quick: bool = False, seed: int = 0, n: int | None = None, epochs: int | None = None,
        repeats: int | None = None, widths=None, depths=None):
    """Train the wide/deep pair on both functions, and the grid on x·y.

    Parameters
    ----------
    quick : bool
        1,000 training points, 40 epochs, 2 runs per pair and a 3 × 3 grid, instead of 4,000
        points, 80 epochs, 3 runs and a 4 × 4 grid.
    seed : int
    n, epochs, repeats : int, optional
    widths, depths : sequences of int, optional
        The grid's axes.
    """
    rng = seed_everything(seed)
    n = n or (1000 if quick else 4000)
    epochs = epochs or (40 if quick else 80)
    repeats = repeats or (2 if quick else 3)
    batch_size = 64 if quick else 32
    widths = list(widths or ((4, 8, 16) if quick else (4, 8, 16, 32)))
    depths = list(depths or ((1, 2, 3) if quick else (1, 2, 3, 4)))
    with Stopwatch() as sw:
        x = rng.uniform(-1, 1, (n, 2)).astype(np.float32)
        x_te = rng.uniform(-1, 1, (2000, 2)).astype(np.float32)
        pair = {}
        for fname, f in FUNCTIONS.items():
            y, y_te = f(x)[:, None].astype(np.float32), f(x_te)[:, None].astype(np.float32)
            entry = {}
            # Every (network, seed) run at once: under mpiexec, spread over the ranks.
            pairs = [(label, hidden, s) for label, hidden in (("wide", WIDE), ("deep", DEEP))
                     for s in range(repeats)]
            done = distribution.map(lambda p, y=y, y_te=y_te: train_mse(
                p[1], x, y, x_te, y_te, epochs, batch_size, 1000 * seed + p[2]), pairs)
            for label, hidden in (("wide", WIDE), ("deep", DEEP)):
                runs = [r for p, r in zip(pairs, done) if p[0] == label]
                entry[label] = {"hidden": list(hidden), "params": runs[0][1],
                                "mse": float(np.mean([r[0] for r in runs])),
                                "mse_per_seed": [r[0] for r in runs]}
            pair[fname] = entry
        y, y_te = (FUNCTIONS["x·y"](x)[:, None].astype(np.float32),
                   FUNCTIONS["x·y"](x_te)[:, None].astype(np.float32))
        cells = [(d, w) for d in depths for w in widths]
        done = distribution.map(lambda c: train_mse([c[1]] * c[0], x, y, x_te, y_te, epochs,
                                                    batch_size, seed), cells)
        grid = np.array([r[0] for r in done]).reshape(len(depths), len(widths))
        grid_params = np.array([r[1] for r in done], dtype=int).reshape(grid.shape)
    rows = []
    for fname, entry in pair.items():
        for label in ("wide", "deep"):
            e = entry[label]
            rows.append([fname, f"{label} {e['hidden']}", e["params"], fmt(e["mse"])])
    prod, smooth = pair["x·y"], pair["sin(2x) + y²/2"]
    prod_gain = prod["wide"]["mse"] / prod["deep"]["mse"]
    smooth_gain = smooth["wide"]["mse"] / smooth["deep"]["mse"]
    checks = {
        "deep_beats_wide_on_product": above(prod_gain, 1.0, "x·y: wide MSE / deep MSE"),
        "depth_helps_product_more_than_smooth": above(prod_gain - smooth_gain, 0.0,
                                                      "gain of depth, x·y minus smooth"),
        "equal_parameter_budget": abs(prod["wide"]["params"] - prod["deep"]["params"]) <= 5,
    }
    holds = all_ok(checks)
    verdict = (bears_out(holds) + f"on x·y, the deep network's test MSE is "
               f"{fmt(prod['deep']['mse'])} against {fmt(prod['wide']['mse'])} for the wide "
               f"one ({fmt(prod_gain, 2)} times lower) at {prod['deep']['params']} vs "
               f"{prod['wide']['params']} parameters; on the smooth additive function the ratio "
               f"wide/deep is {fmt(smooth_gain, 2)}")
    verdict += (", so depth helps the product more than the smooth function." if
                prod_gain > smooth_gain else
                ", so here depth helps the smooth function as much or more: the advantage of "
                "depth is not specific to the product in this run.")
    best = np.unravel_index(np.argmin(grid), grid.shape)
    verdict += (f" In the grid, the lowest MSE ({fmt(grid[best])}) is at width "
                f"{widths[best[1]]}, depth {depths[best[0]]}.")
    data = {"pair": pair, "grid": grid, "grid_params": grid_params, "widths": widths,
            "depths": depths, "epochs": epochs, "n": n}
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["function", "network", "parameters", "test MSE"], rows=rows,
                       data=data, checks=checks, verdict=verdict)


def plot(result, out_dir) -> list:
    """``width_vs_depth.png``: the pair's test MSE per function, and the grid's heat map."""
    plt = pyplot()
    d = result["data"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.3))
    names = list(d["pair"])
    idx = np.arange(len(names))
    for k, label in enumerate(("wide", "deep")):
        values = [d["pair"][f][label]["mse"] for f in names]
        e = d["pair"][names[0]][label]
        ax.bar(idx + (k - 0.5) * 0.38, values, 0.38,
               label=f"{label} {e['hidden']} ({e['params']} params)")
    ax.set_xticks(idx, names)
    ax.set_yscale("log")
    ax.set_ylabel("test MSE")
    ax.set_title("Equal parameters: wide-shallow vs narrow-deep")
    ax.legend(fontsize=8)
    grid = np.array(d["grid"])
    im = bx.imshow(np.log10(grid), cmap="viridis_r", origin="lower", aspect="auto")
    for i in range(grid.shape[0]):
        for j in range(grid.shape[1]):
            bx.text(j, i, f"{grid[i, j]:.1e}\n{d['grid_params'][i][j]} p", ha="center",
                    va="center", fontsize=7, color="w")
    bx.set_xticks(range(len(d["widths"])), d["widths"])
    bx.set_yticks(range(len(d["depths"])), d["depths"])
    bx.set_xlabel("width (units per hidden layer)")
    bx.set_ylabel("depth (hidden layers)")
    bx.set_title("x·y: log10 test MSE")
    fig.colorbar(im, ax=bx)
    fig.tight_layout()
    return [save(fig, out_dir, "width_vs_depth.png")]
