"""Lab ``losses``: MSE, MAE, Huber and log-cosh fit the same line through data with outliers.

Data: ``y = 2 x + 1`` plus small Gaussian noise, and a fraction of outliers placed at the right
end of the range, far above the line. A single ``Dense(1)`` (a line) is fitted with each loss;
the figure is the error of the fitted slope. The least-squares solution (closed form) is the
reference for MSE: gradient descent on MSE must land on it.
"""

from __future__ import annotations

import sys

import numpy as np

from profond.labs._common import (Stopwatch, all_ok, bears_out, below, fmt, make_result, ok,
                                  over_seeds, pyplot, save, seed_everything)

NAME = "losses"
TITLE = "Losses: MSE vs MAE vs Huber under outliers"
CLAIM = ("MSE squares the errors, so it punishes big errors most and is sensitive to outliers; "
         "MAE grows linearly and is not (Huber sits in between).")

TRUE_SLOPE, TRUE_INTERCEPT = 2.0, 1.0
LOSSES = ("mse", "mae", "huber", "log_cosh")


def make_data(rng, n, outlier_fraction=0.1):
    """``x (n, 1)``, ``y (n, 1)`` and the boolean outlier mask."""
    x = rng.uniform(-2.0, 2.0, size=n)
    y = TRUE_SLOPE * x + TRUE_INTERCEPT + rng.normal(0.0, 0.3, size=n)
    k = int(round(outlier_fraction * n))
    out = np.zeros(n, dtype=bool)
    out[np.argsort(x)[-3 * k:][rng.permutation(3 * k)[:k]]] = True  # among the largest x
    y[out] += rng.uniform(8.0, 14.0, size=k)
    return x[:, None].astype(np.float32), y[:, None].astype(np.float32), out


def fit_line(x, y, loss, epochs, seed):
    """Slope and intercept of a ``Dense(1)`` fitted with ``loss`` by full-batch gradient descent
    with momentum (full batches: the last iterate is the optimum, not a noisy neighbour)."""
    import profond
    from profond import Input, Sequential, layers, optimizers

    profond.random.seed(seed)
    model = Sequential([Input((1,)), layers.Dense(1, kernel_initializer="zeros")])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.05, momentum=0.9), loss=loss)
    history = model.fit(x, y, epochs=epochs, batch_size=len(x), verbose=0)
    kernel, bias = model.get_weights()
    return float(kernel.ravel()[0]), float(bias.ravel()[0]), history.history["loss"]


@over_seeds
def run(quick: bool = False, seed: int = 0, n: int | None = None, epochs: int | None = None):
    """Fit the line with each loss.

    Parameters
    ----------
    quick : bool
        200 points and 300 full-batch epochs instead of 1,000 points and 500.
    seed : int
    n, epochs : int, optional
        Override the data size and the number of epochs.
    """
    rng = seed_everything(seed)
    n = n or (200 if quick else 1000)
    epochs = epochs or (300 if quick else 500)
    with Stopwatch() as sw:
        x, y, out = make_data(rng, n)
        design = np.hstack([x, np.ones_like(x)]).astype(np.float64)
        lstsq_slope, lstsq_icpt = np.linalg.lstsq(design, y.astype(np.float64), rcond=None)[0][:, 0]
        fits = {}
        for loss in LOSSES:
            slope, icpt, curve = fit_line(x, y, loss, epochs, seed)
            fits[loss] = {"slope": slope, "intercept": icpt, "curve": curve}
    errs = {k: abs(v["slope"] - TRUE_SLOPE) for k, v in fits.items()}
    rows = [[k, round(v["slope"], 4), round(errs[k], 4), round(v["intercept"], 4)]
            for k, v in fits.items()]
    rows.append(["least squares (closed form)", round(float(lstsq_slope), 4),
                 round(abs(float(lstsq_slope) - TRUE_SLOPE), 4), round(float(lstsq_icpt), 4)])
    checks = {
        "mae_slope_error_below_mse": below(errs["mae"] - errs["mse"], 0.0,
                                           "slope error, MAE minus MSE"),
        "huber_slope_error_below_mse": below(errs["huber"] - errs["mse"], 0.0,
                                             "slope error, Huber minus MSE"),
        "mse_reaches_least_squares": below(abs(fits["mse"]["slope"] - lstsq_slope), 0.05,
                                           "|MSE slope - least-squares slope|"),
    }
    holds = all_ok(checks)
    verdict = (bears_out(holds) + f"with {out.sum()} outliers among {n} points, the slope "
               f"fitted with MSE is off by {fmt(errs['mse'])} (the closed-form least squares by "
               f"{fmt(abs(lstsq_slope - TRUE_SLOPE))}), with MAE by {fmt(errs['mae'])}, with "
               f"Huber by {fmt(errs['huber'])} and with log-cosh by {fmt(errs['log_cosh'])}.")
    if not ok(checks["mse_reaches_least_squares"]):
        verdict += " Gradient descent on MSE did not reach the least-squares line."
    data = {"x": x[:, 0], "y": y[:, 0], "outlier": out, "fits": fits,
            "lstsq": [float(lstsq_slope), float(lstsq_icpt)], "true": [TRUE_SLOPE, TRUE_INTERCEPT]}
    return make_result(sys.modules[__name__], quick=quick, seed=seed,
                       seconds=sw.seconds,
                       columns=["loss", "fitted slope", "slope error", "intercept"],
                       rows=rows, data=data, checks=checks, verdict=verdict)


def plot(result, out_dir) -> list:
    """``losses_fits.png`` (data and fitted lines) and ``losses_shapes.png`` (each loss as a
    function of the residual)."""
    from profond import losses

    plt = pyplot()
    d = result["data"]
    x, y, out = np.array(d["x"]), np.array(d["y"]), np.array(d["outlier"], dtype=bool)
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(11, 4))
    ax.scatter(x[~out], y[~out], s=8, alpha=0.5, label="data")
    ax.scatter(x[out], y[out], s=12, color="crimson", label="outliers")
    grid = np.linspace(x.min(), x.max(), 2)
    ax.plot(grid, d["true"][0] * grid + d["true"][1], "k--", lw=1.5, label="true line")
    for name, fit in d["fits"].items():
        ax.plot(grid, fit["slope"] * grid + fit["intercept"], lw=1.5, label=name)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title("Lines fitted with each loss")
    ax.legend(fontsize=8)
    names = list(d["fits"])
    errors = [abs(d["fits"][k]["slope"] - d["true"][0]) for k in names]
    bx.bar(names, errors, color=["C0", "C1", "C2", "C3"][:len(names)])
    bx.set_ylabel("|fitted slope - true slope|")
    bx.set_title("Slope error")
    fig.tight_layout()
    paths = [save(fig, out_dir, "losses_fits.png")]

    r = np.linspace(-4, 4, 201).astype(np.float32)
    zeros = np.zeros_like(r)
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for name, fn in (("mse", losses.mean_squared_error), ("mae", losses.mean_absolute_error),
                     ("huber", losses.huber), ("log_cosh", losses.log_cosh)):
        values = [float(np.asarray(fn(zeros[i:i + 1, None], r[i:i + 1, None]).data).ravel()[0])
                  for i in range(len(r))]
        ax.plot(r, values, label=name)
    ax.set_ylim(0, 8)
    ax.set_xlabel("residual y_pred - y_true")
    ax.set_ylabel("loss")
    ax.set_title("Each loss as a function of the error")
    ax.legend()
    paths.append(save(fig, out_dir, "losses_shapes.png"))
    return paths
