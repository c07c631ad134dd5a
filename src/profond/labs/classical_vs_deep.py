"""Lab ``classical-vs-deep``: a classical model against a network, on a problem whose form the
classical model assumes and on one whose form it does not.

1. Diabetes progression (scikit-learn's bundled diabetes data, 442 patients, 10 features): the
   target is close to a linear function of the features, the form least squares assumes.
   Closed-form least squares (scikit-learn's ``LinearRegression``) against an MLP.
2. Two concentric rings (scikit-learn's ``make_circles``): the class depends on the distance to
   the centre, which no linear boundary can express. Logistic regression against an MLP.

Figures: the test score (R² for the regression, accuracy for the classification) and the
training cost of each model, counted in floating-point operations (a multiply-add is 2), which
do not depend on the machine:

- least squares: ``2 n p²`` for ``n`` samples and ``p`` coefficients (the leading term of a QR
  or normal-equations solve);
- logistic regression: ``4 n p`` per L-BFGS iteration (one product with the data for the
  scores, one for the gradient), times the iterations scikit-learn reports;
- the network: ``3 F n`` per epoch, with ``F`` the forward FLOPs of one sample
  (:func:`profond.pruning.count_flops`): the forward pass, then the backward pass's two matrix
  products per layer (gradients of the inputs and of the weights).

The training time is measured and shown beside the counts; it is never checked, since it
depends on the machine and on its load.
"""

from __future__ import annotations

import sys

import numpy as np

from profond.labs._common import (Stopwatch, above, all_ok, bears_out, fmt, make_result, mlp, ok,
                                  over_seeds, pyplot, save, seed_everything)

NAME = "classical-vs-deep"
TITLE = "Classical algorithms vs deep learning"
CLAIM = ("A classical algorithm assumes the form of the function and computes its weights and "
         "bias; a network learns the input-output link. When the assumed form holds, the "
         "classical model wins, in a fraction of the time; when it does not, the network wins.")


def _least_squares_flops(n, p):
    return 2 * int(n) * int(p) ** 2


def _network_flops(net, n, epochs):
    from profond.pruning import count_flops

    return 3 * count_flops(net) * int(n) * int(epochs)


def _r2(y, pred):
    y, pred = np.asarray(y, np.float64).ravel(), np.asarray(pred, np.float64).ravel()
    return float(1.0 - ((y - pred) ** 2).sum() / ((y - y.mean()) ** 2).sum())


def linear_problem(seed, epochs):
    """Least squares vs an MLP on the diabetes data; returns the figures of both."""
    from sklearn.linear_model import LinearRegression

    import profond
    from profond import data, datasets, optimizers

    x, y = datasets.load_diabetes()
    x_tr, x_te, y_tr, y_te = data.train_test_split(x, y, test_size=0.25, seed=seed)
    sx, sy = data.StandardScaler(), data.StandardScaler()
    x_tr, x_te = sx.fit_transform(x_tr), sx.transform(x_te)
    t_tr = sy.fit_transform(np.asarray(y_tr, np.float64)[:, None])
    with Stopwatch() as classical_time:
        classical = LinearRegression().fit(x_tr, t_tr)
    classical_r2 = _r2(y_te, sy.inverse_transform(classical.predict(x_te)))

    profond.random.seed(seed)
    net = mlp(x_tr.shape[1], (64, 64), 1, activation="relu", kernel_initializer="he_normal")
    net.compile(optimizer=optimizers.SGD(learning_rate=0.01, momentum=0.9), loss="mse")
    with Stopwatch() as net_time:
        net.fit(x_tr.astype(np.float32), t_tr.astype(np.float32), epochs=epochs, batch_size=32,
                verbose=0)
    net_r2 = _r2(y_te, sy.inverse_transform(np.asarray(net.predict(x_te.astype(np.float32),
                                                                   verbose=0))))
    n, d = x_tr.shape
    return {"classical": {"name": "least squares", "score": classical_r2,
                          "seconds": classical_time.seconds,
                          "flops": _least_squares_flops(n, d + 1)},
            "network": {"name": "MLP 64-64", "score": net_r2, "seconds": net_time.seconds,
                        "flops": _network_flops(net, n, epochs)},
            "metric": "test R²", "n_train": int(len(x_tr))}


def nonlinear_problem(seed, epochs, n):
    """Logistic regression vs an MLP on two concentric rings."""
    from sklearn.datasets import make_circles
    from sklearn.linear_model import LogisticRegression

    import profond
    from profond import data, optimizers

    x, y = make_circles(n_samples=n, noise=0.08, factor=0.5, random_state=seed)
    x = x.astype(np.float32)
    x_tr, x_te, y_tr, y_te = data.train_test_split(x, y, test_size=0.25, stratify=y, seed=seed)
    with Stopwatch() as classical_time:
        classical = LogisticRegression().fit(x_tr, y_tr)
    classical_acc = float((classical.predict(x_te) == y_te).mean())

    profond.random.seed(seed)
    net = mlp(2, (32, 32), 2, activation="relu", output_activation="softmax",
              kernel_initializer="he_normal")
    net.compile(optimizer=optimizers.SGD(learning_rate=0.05, momentum=0.9),
                loss="sparse_categorical_crossentropy")
    with Stopwatch() as net_time:
        net.fit(x_tr, y_tr, epochs=epochs, batch_size=32, verbose=0)
    net_acc = float((np.asarray(net.predict(x_te, verbose=0)).argmax(-1) == y_te).mean())

    # Decision maps for the figure.
    g = np.linspace(-1.5, 1.5, 80, dtype=np.float32)
    gx, gy = np.meshgrid(g, g)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    maps = {"classical": classical.predict_proba(grid)[:, 1].reshape(gx.shape),
            "network": np.asarray(net.predict(grid, verbose=0))[:, 1].reshape(gx.shape)}
    n, d = x_tr.shape
    return {"classical": {"name": "logistic regression", "score": classical_acc,
                          "seconds": classical_time.seconds,
                          "flops": 4 * n * (d + 1) * int(np.max(classical.n_iter_))},
            "network": {"name": "MLP 32-32", "score": net_acc, "seconds": net_time.seconds,
                        "flops": _network_flops(net, n, epochs)},
            "metric": "test accuracy", "n_train": int(len(x_tr)),
            "points": {"x": x_te[:, 0], "y": x_te[:, 1], "label": y_te},
            "grid": g, "maps": maps}


@over_seeds
def run(quick: bool = False, seed: int = 0):
    """Both comparisons.

    Parameters
    ----------
    quick : bool
        Fewer epochs (60 and 40 instead of 200 and 100) and 600 ring points instead of 2,000.
    seed : int
    """
    seed_everything(seed)
    with Stopwatch() as sw:
        lin = linear_problem(seed, 60 if quick else 200)
        nonlin = nonlinear_problem(seed, 40 if quick else 100, 600 if quick else 2000)
    rows = []
    for problem, p in (("diabetes (linear form holds)", lin),
                       ("rings (linear form fails)", nonlin)):
        for who in ("classical", "network"):
            rows.append([problem, p[who]["name"], p["metric"], round(p[who]["score"], 4),
                         p[who]["flops"], round(p[who]["seconds"], 4)])
    cost_ratio = lin["network"]["flops"] / lin["classical"]["flops"]
    speedup = lin["network"]["seconds"] / max(lin["classical"]["seconds"], 1e-9)
    checks = {
        "classical_at_least_as_good_when_form_holds":
            above(lin["classical"]["score"] - lin["network"]["score"], -0.02,
                  "linear data: classical minus network score", strict=False),
        "classical_costs_a_fraction_of_the_arithmetic": above(cost_ratio, 5, "arithmetic ratio",
                                                              strict=False),
        "network_wins_when_form_fails":
            above(nonlin["network"]["score"] - nonlin["classical"]["score"], 0.2,
                  "non-linear data: network minus classical score", strict=False),
    }
    holds = all_ok(checks)
    verdict = (bears_out(holds) + f"on diabetes, least squares scores R² = "
               f"{fmt(lin['classical']['score'])} with {lin['classical']['flops']:,} floating-point "
               f"operations against the MLP's {fmt(lin['network']['score'])} with "
               f"{lin['network']['flops']:,} ({fmt(cost_ratio, 2)} times the arithmetic; "
               f"measured here: {fmt(lin['classical']['seconds'] * 1000)} ms against "
               f"{fmt(lin['network']['seconds'])} s, {fmt(speedup, 2)} times the time); on the "
               f"rings, logistic regression is at {fmt(nonlin['classical']['score'])} accuracy "
               f"(a straight boundary cannot separate rings) and the MLP at "
               f"{fmt(nonlin['network']['score'])}.")
    if not ok(checks["classical_at_least_as_good_when_form_holds"]):
        verdict += " Here the network beat least squares even where the linear form holds."
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["problem", "model", "metric", "score", "training FLOPs",
                                "train seconds (measured)"],
                       rows=rows, data={"linear": lin, "nonlinear": nonlin}, checks=checks,
                       verdict=verdict)


def plot(result, out_dir) -> list:
    """``classical_vs_deep.png``: scores with training FLOPs and times, and both decision maps
    on the rings."""
    plt = pyplot()
    lin, non = result["data"]["linear"], result["data"]["nonlinear"]
    fig, axes = plt.subplots(1, 4, figsize=(17, 4))
    for ax, p, title in ((axes[0], lin, "diabetes: R² (linear form holds)"),
                         (axes[1], non, "rings: accuracy (linear form fails)")):
        names = [p["classical"]["name"], p["network"]["name"]]
        bars = ax.bar(names, [p["classical"]["score"], p["network"]["score"]],
                      color=["C1", "C0"])
        for bar, who in zip(bars, ("classical", "network")):
            ax.annotate(f"{p[who]['flops']:.2g} FLOPs\n{p[who]['seconds'] * 1000:.1f} ms",
                        (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                        ha="center", va="bottom", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(p["metric"] + " (label: training cost)")
    pts = non["points"]
    g = np.array(non["grid"])
    for ax, who in ((axes[2], "classical"), (axes[3], "network")):
        ax.contourf(g, g, np.array(non["maps"][who]), levels=20, cmap="RdBu", alpha=0.6)
        ax.scatter(pts["x"], pts["y"], c=pts["label"], cmap="RdBu", s=6, edgecolors="k",
                   linewidths=0.2)
        ax.set_title(f"{non[who]['name']}: {non[who]['score']:.3f}", fontsize=10)
        ax.set_aspect("equal")
    fig.tight_layout()
    return [save(fig, out_dir, "classical_vs_deep.png")]
