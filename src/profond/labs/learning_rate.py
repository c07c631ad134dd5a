"""Lab ``learning-rate``: too large, too small, and right — and the learning-rate finder's curve.

An MLP (one hidden layer of 64) on the bundled digits, trained with plain SGD (no momentum) at
three learning rates: one far too small, one chosen by :func:`profond.find_learning_rate` (the
range test of Smith, 2017: the loss while the rate grows exponentially, the suggestion where it
falls fastest), and one far too large. The figures: the loss after each epoch, and where each
run ends.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from profond import distribution
from profond.labs._common import (Stopwatch, above, all_ok, bears_out, fmt, load_digits_split,
                                  make_result, mlp, over_seeds, pyplot, save, seed_everything)

NAME = "learning-rate"
TITLE = "Learning rate: too large, too small, right"
CLAIM = ("A large learning rate goes fast and jumps over local minima but settles badly (or "
         "not at all); a small one converges slowly and can get stuck. The finder's curve shows "
         "where the loss falls fastest.")

SMALL_LR, LARGE_LR = 1e-4, 3.0
GOOD = "finder's choice"


def _model(seed, n_in, lr):
    import profond
    from profond import optimizers

    profond.random.seed(seed)
    model = mlp(n_in, (64,), 10, activation="relu", output_activation="softmax",
                kernel_initializer="he_normal")
    model.compile(optimizer=optimizers.SGD(learning_rate=lr),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@over_seeds
def run(quick: bool = False, seed: int = 0, epochs: int | None = None):
    """Run the range test, then train at the three rates.

    Parameters
    ----------
    quick : bool
        10 epochs instead of 30.
    seed : int
    epochs : int, optional
    """
    from profond import find_learning_rate

    seed_everything(seed)
    epochs = epochs or (10 if quick else 30)
    # The too-large rate overflows on purpose: silence NumPy's warnings about it.
    with Stopwatch() as sw, np.errstate(over="ignore", invalid="ignore"):
        x_tr, x_te, y_tr, y_te = load_digits_split(seed)
        finder = find_learning_rate(_model(seed, x_tr.shape[1], 0.01), x_tr, y_tr,
                                    start_lr=1e-5, end_lr=10.0, num_steps=150)
        right = float(finder.suggested_learning_rate or finder.min_loss_learning_rate / 10)
        rates = (("too small", SMALL_LR), ("finder's choice", right), ("too large", LARGE_LR))

        def train(lr):  # seeded by _model: the same run wherever it runs
            h = _model(seed, x_tr.shape[1], lr).fit(x_tr, y_tr, epochs=epochs, batch_size=32,
                                                    verbose=0,
                                                    validation_data=(x_te, y_te)).history
            return {"learning_rate": lr, "loss": [float(v) for v in h["loss"]],
                    "val_accuracy": float(h["val_accuracy"][-1])
                    if math.isfinite(h["loss"][-1]) else 0.1}

        # The three rates at once: under mpiexec, spread over the ranks.
        runs = dict(zip([label for label, _ in rates],
                        distribution.map(train, [lr for _, lr in rates])))
    final = {k: r["loss"][-1] for k, r in runs.items()}
    rows = [[k, fmt(r["learning_rate"]), fmt(r["loss"][0]), fmt(r["loss"][-1]),
             round(r["val_accuracy"], 4)] for k, r in runs.items()]
    small, good, large = runs["too small"], runs["finder's choice"], runs["too large"]
    large_bad = not math.isfinite(final["too large"]) or final["too large"] > 2 * final[
        "finder's choice"]
    checks = {
        "finder_choice_ends_lowest": final["finder's choice"] < final["too small"] and
        (not math.isfinite(final["too large"]) or final["finder's choice"] < final["too large"]),
        "small_rate_is_slow": above(final["too small"] / small["loss"][0], 0.5,
                                    "too small a rate: final / first loss"),
        "large_rate_settles_badly": large_bad,
    }
    holds = all_ok(checks)
    verdict = (bears_out(holds) + f"the finder suggests {fmt(right)}; after {epochs} epochs the "
               f"training loss is {fmt(final['too small'])} at {fmt(SMALL_LR)} (it started at "
               f"{fmt(small['loss'][0])}: slow), {fmt(final[GOOD])} "
               f"at the finder's rate and {fmt(final['too large'])} at {fmt(LARGE_LR)}; "
               f"validation accuracies {fmt(small['val_accuracy'])}, {fmt(good['val_accuracy'])} "
               f"and {fmt(large['val_accuracy'])}.")
    data = {"runs": runs, "finder": {"learning_rates": finder.learning_rates,
                                     "losses": finder.smoothed_losses,
                                     "suggested": right, "diverged": bool(finder.diverged)}}
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["run", "learning rate", "loss epoch 1", "loss last epoch",
                                "val accuracy"], rows=rows, data=data, checks=checks,
                       verdict=verdict)


def plot(result, out_dir) -> list:
    """``learning_rate.png``: the finder's curve with its suggestion, and the three runs'
    training losses."""
    plt = pyplot()
    d = result["data"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.2))
    f = d["finder"]
    ax.plot(f["learning_rates"], f["losses"])
    ax.axvline(f["suggested"], color="crimson", ls="--", label=f"suggested {f['suggested']:.3g}")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("smoothed training loss")
    ax.set_title("Learning-rate range test")
    ax.legend()
    for label, r in d["runs"].items():
        losses = np.asarray(r["loss"], dtype=float)
        bx.plot(range(1, len(losses) + 1), np.where(np.isfinite(losses), losses, np.nan),
                marker="o", ms=3, label=f"{label} ({r['learning_rate']:.3g})")
    bx.set_yscale("log")
    bx.set_xlabel("epoch")
    bx.set_ylabel("training loss")
    bx.set_title("Plain SGD at three learning rates")
    bx.legend()
    fig.tight_layout()
    return [save(fig, out_dir, "learning_rate.png")]
