"""Lab ``fitting``: an underfitting, a balanced and an overfitting model on the same data, with
their learning curves and ``history.diagnose()``'s verdicts.

All three classify the bundled digits and are validated on the same held-out quarter:

- **underfitting**: a network with a 2-unit hidden layer, too simple for ten classes;
- **balanced**: one hidden layer of 64 units trained on the whole training split, with a
  moderate learning rate and number of epochs;
- **overfitting**: 128 hidden units trained for many epochs on only 60 training images.

The figures: final training and validation accuracy and loss, the epoch of the lowest
validation loss, and the verdict of :func:`profond.diagnosis.diagnose` on each run's curves.
"""

from __future__ import annotations

import sys

import numpy as np

from profond.labs._common import (Stopwatch, above, all_ok, bears_out, below, fmt,
                                  load_digits_split, make_result, mlp, over_seeds, pyplot, save,
                                  seed_everything)

NAME = "fitting"
TITLE = "Underfitting, balance, overfitting"
CLAIM = ("Underfitting: the model is too simple for the problem (or saw too little data). "
         "Balance: it describes the problem well. Overfitting: it is too complex for the data, "
         "or trained too many times on the same samples: training keeps improving while "
         "validation gets worse.")

# case -> (hidden layers, training samples (None: all), learning rate, epochs full, quick)
CASES = {"underfitting": ((2,), None, 0.05, 60, 30),
         "balanced": ((64,), None, 0.02, 20, 15),
         "overfitting": ((128,), 60, 0.05, 250, 100)}
EXPECTED = {"underfitting": "underfitting", "balanced": "balanced", "overfitting": "overfitting"}


@over_seeds
def run(quick: bool = False, seed: int = 0):
    """Train the three models and diagnose their curves.

    Parameters
    ----------
    quick : bool
        Fewer epochs (see ``CASES``).
    seed : int
    """
    import profond
    from profond import optimizers

    seed_everything(seed)
    runs = {}
    with Stopwatch() as sw:
        x_tr, x_te, y_tr, y_te = load_digits_split(seed)
        for case, (hidden, n, lr, epochs_full, epochs_quick) in CASES.items():
            profond.random.seed(seed)
            xs, ys = (x_tr[:n], y_tr[:n]) if n else (x_tr, y_tr)
            model = mlp(x_tr.shape[1], hidden, 10, activation="relu",
                        output_activation="softmax", kernel_initializer="he_normal")
            model.compile(optimizer=optimizers.SGD(learning_rate=lr, momentum=0.9),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            history = model.fit(xs, ys, epochs=epochs_quick if quick else epochs_full,
                                batch_size=32, verbose=0, validation_data=(x_te, y_te))
            diagnosis = history.diagnose()
            h = history.history
            runs[case] = {"hidden": list(hidden), "n_train": int(len(xs)),
                          "history": {k: [float(v) for v in h[k]] for k in
                                      ("loss", "val_loss", "accuracy", "val_accuracy")},
                          "verdict": diagnosis.verdict, "verdict_epoch": diagnosis.epoch,
                          "reason": diagnosis.reason,
                          "best_val_epoch": int(np.argmin(h["val_loss"])) + 1}
    rows = []
    for case, r in runs.items():
        h = r["history"]
        rows.append([case, f"{r['hidden']} on {r['n_train']}", round(h["accuracy"][-1], 4),
                     round(h["val_accuracy"][-1], 4), fmt(h["loss"][-1]),
                     fmt(h["val_loss"][-1]), r["best_val_epoch"], len(h["loss"]),
                     r["verdict"]])
    under, bal, over = runs["underfitting"], runs["balanced"], runs["overfitting"]
    gap = {c: r["history"]["accuracy"][-1] - r["history"]["val_accuracy"][-1]
           for c, r in runs.items()}
    checks = {
        "underfit_is_poor_on_its_own_training_data":
            below(under["history"]["accuracy"][-1] - bal["history"]["accuracy"][-1], -0.1,
                  "training accuracy, underfit minus balanced"),
        "overfit_memorises_training_data": above(over["history"]["accuracy"][-1], 0.99,
                                                 "overfit training accuracy", strict=False),
        "overfit_validation_gap_largest": above(
            gap["overfitting"] - max(gap["balanced"], gap["underfitting"]), 0.05,
            "overfit gap minus the larger other gap"),
        "balanced_best_on_validation": above(bal["history"]["val_accuracy"][-1] - max(
            under["history"]["val_accuracy"][-1], over["history"]["val_accuracy"][-1]), 0.0,
            "validation accuracy, balanced minus the better other", strict=False),
        "diagnose_names_each_case": all(runs[c]["verdict"] == EXPECTED[c] for c in runs),
    }
    holds = all_ok(checks)
    verdict = (bears_out(holds) + "the underfitting model reaches only "
               f"{fmt(under['history']['accuracy'][-1])} on its own training data (and "
               f"{fmt(under['history']['val_accuracy'][-1])} on validation); the balanced one "
               f"{fmt(bal['history']['accuracy'][-1])} / "
               f"{fmt(bal['history']['val_accuracy'][-1])}; the overfitting one "
               f"{fmt(over['history']['accuracy'][-1])} / "
               f"{fmt(over['history']['val_accuracy'][-1])}, its validation loss lowest at epoch "
               f"{over['best_val_epoch']} of {len(over['history']['loss'])}. diagnose() says: "
               + "; ".join(f"{c}: {r['verdict']}" for c, r in runs.items()) + ".")
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["case", "model", "train acc", "val acc", "train loss",
                                "val loss", "best val epoch", "epochs", "diagnose()"],
                       rows=rows, data={"runs": runs}, checks=checks, verdict=verdict)


def plot(result, out_dir) -> list:
    """``fitting.png``: loss and accuracy curves (train and validation) of the three cases."""
    plt = pyplot()
    runs = result["data"]["runs"]
    fig, axes = plt.subplots(2, 3, figsize=(14, 6.5), sharex="col")
    for j, (case, r) in enumerate(runs.items()):
        h = r["history"]
        epochs = range(1, len(h["loss"]) + 1)
        for i, key in enumerate(("loss", "accuracy")):
            ax = axes[i, j]
            ax.plot(epochs, h[key], label="train")
            ax.plot(epochs, h[f"val_{key}"], label="validation")
            if key == "loss":
                ax.set_yscale("log")
                ax.axvline(r["best_val_epoch"], color="grey", ls="--", lw=1)
                ax.set_title(f"{case}: diagnose() -> {r['verdict']}", fontsize=10)
            ax.set_ylabel(key)
            ax.grid(alpha=0.3)
            ax.legend(fontsize=8)
        axes[1, j].set_xlabel("epoch")
    fig.tight_layout()
    return [save(fig, out_dir, "fitting.png")]
