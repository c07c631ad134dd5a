"""Lab ``regularization``: dropout, L1 and L2 against overfitting; pruning's size, speed and
accuracy.

1. **Against overfitting.** A network far too large for its data (two hidden layers of 256 ReLU
   units, about 85,000 weights) is trained on only ``N_TRAIN`` digits (standardised pixels,
   SGD with momentum, batches of 16) until it has long memorised them. Three regularisers are
   compared with no regularisation: ``Dropout`` after each hidden layer, an L2 and an L1
   penalty on every kernel (:mod:`profond.regularizers`). So that the comparison is between the
   regularisers and not between lucky strengths, each one's strength is chosen from a small grid
   (``GRID``) by the accuracy on ``N_VAL`` *validation* digits (ties: lower validation
   cross-entropy); the chosen models, and the unregularised one, are then scored on the held-out
   quarter of the digits (*test*), which played no part in any choice. The figures: training
   and test accuracy and their gap, test cross-entropy, the size of the weights, and every grid
   point's validation scores.
2. **Pruning.** A network with two hidden layers of ``PRUNE_WIDTH`` units trained on the whole
   training split; :func:`profond.pruning.prune_neurons` removes the units with the smallest
   weights (several fractions), each smaller model is fine-tuned for one epoch, and
   :func:`profond.pruning.report` measures parameters, FLOPs, file size, ``predict`` time and
   accuracy against the full model. "Runs faster" is checked on the FLOPs per sample, a count
   that does not depend on the machine; the measured ``predict`` time is shown beside it and
   never checked (it depends on the machine and on its load).

The experiment runs on one BLAS thread (when ``threadpoolctl`` is installed, as it is with
scikit-learn): the matrices are small, and several threads on a busy machine make them many
times slower without changing a number.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from profond import backend
from profond.labs._common import (Stopwatch, above, accuracy_of, all_ok, bears_out, fmt,
                                  load_digits_split, make_result, over_seeds, pyplot, save,
                                  seed_everything)

NAME = "regularization"
TITLE = "Dropout, L1 and L2 regularisation, pruning"
CLAIM = ("Dropout switches neurons off at random during training, so the network does not rely "
         "too much on any one; L1 and L2 regularisation limit the size of the weights (weights "
         "too large reflect a model too complex): both fight overfitting. Pruning removes the "
         "neurons whose weights are near 0, giving a lighter model that runs faster.")

N_TRAIN = 100
N_VAL = 300
HIDDEN = (256, 256)
LEARNING_RATE = 0.01
# regulariser -> strengths tried (dropout: the rate; L1/L2: the penalty factor)
GRID = {"dropout": (0.2, 0.35, 0.5), "L2": (3e-3, 1e-2, 3e-2), "L1": (3e-4, 1e-3, 3e-3)}
PRUNE_WIDTH = 512
AMOUNTS = (0.5, 0.75, 0.9)
# A regulariser "costs" accuracy if its test accuracy falls more than this below the baseline's.
TOLERANCE = 0.02


def _cross_entropy(y_true, y_pred):
    """Per-sample cross-entropy of probabilities ``y_pred`` for integer labels ``y_true`` (a
    metric: unlike ``loss``, it leaves out the weight penalty)."""
    y_pred = np.asarray(y_pred, dtype=np.float64)
    y_true = np.asarray(y_true).reshape(len(y_pred)).astype(np.int64)
    p = y_pred[np.arange(len(y_pred)), y_true]
    return -np.log(np.clip(np.nan_to_num(p, nan=0.0), 1e-12, 1.0))


def _model(kind, strength, n_in):
    from profond import Input, Sequential, regularizers
    from profond.layers import Dense, Dropout

    reg = {"L2": regularizers.L2, "L1": regularizers.L1}[kind](strength) \
        if kind in ("L1", "L2") else None
    layers = [Input((n_in,))]
    for units in HIDDEN:
        layers.append(Dense(units, activation="relu", kernel_initializer="he_normal",
                            kernel_regularizer=reg))
        if kind == "dropout":
            layers.append(Dropout(strength))
    layers.append(Dense(10, activation="softmax", kernel_regularizer=reg))
    return Sequential(layers)


def _scores(model, x, y):
    """``(accuracy, cross-entropy)`` of ``model`` on ``(x, y)``; a diverged model scores
    ``(chance or less, inf)``."""
    prob = np.asarray(model.predict(x, verbose=0), dtype=np.float64)
    if not np.all(np.isfinite(prob)):
        return 0.0, math.inf
    return float((prob.argmax(axis=-1) == y).mean()), float(_cross_entropy(y, prob).mean())


def _train(kind, strength, seed, data, epochs):
    """Train one setting; its scores on the training, validation and test digits."""
    import profond
    from profond import metrics, optimizers

    x_tr, x_val, x_te, y_tr, y_val, y_te = data
    profond.random.seed(seed)
    model = _model(kind, strength, x_tr.shape[1])
    model.compile(optimizer=optimizers.SGD(learning_rate=LEARNING_RATE, momentum=0.9),
                  loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", metrics.MeanMetricWrapper(_cross_entropy, "ce")])
    with np.errstate(all="ignore"):
        h = model.fit(x_tr, y_tr, epochs=epochs, batch_size=16, verbose=0,
                      validation_data=(x_val, y_val),
                      validation_batch_size=len(x_val)).history
        train_acc, train_ce = _scores(model, x_tr, y_tr)   # without dropout, as the others
        val_acc, val_ce = _scores(model, x_val, y_val)
        test_acc, test_ce = _scores(model, x_te, y_te)
    weights = np.concatenate([w.ravel() for w in model.get_weights() if w.ndim == 2])
    curve = [float(v) if math.isfinite(v) else None for v in h["val_ce"]]
    finite = [v for v in curve if v is not None]
    return {"kind": kind, "strength": strength, "diverged": not math.isfinite(val_ce),
            "train_accuracy": train_acc, "train_ce": train_ce,
            "val_accuracy": val_acc, "val_ce": val_ce,
            "test_accuracy": test_acc, "test_ce": test_ce, "gap": train_acc - test_acc,
            "val_ce_curve": curve,
            "best_val_ce": min(finite) if finite else math.inf,
            "best_val_epoch": int(np.nanargmin([math.inf if v is None else v
                                                for v in curve])) + 1,
            "mean_abs_weight": float(np.abs(weights).mean()),
            "near_zero_share": float(np.mean(np.abs(weights) < 1e-3))}


def _choose(runs):
    """The grid point with the best validation accuracy (ties: lowest validation
    cross-entropy)."""
    return max(runs, key=lambda r: (r["val_accuracy"], -r["val_ce"]))


def _pruning(seed, data, epochs, amounts):
    import profond
    from profond import optimizers, pruning
    from profond.labs._common import mlp

    x_tr, x_te, y_tr, y_te = data
    profond.random.seed(seed)
    model = mlp(x_tr.shape[1], (PRUNE_WIDTH, PRUNE_WIDTH), 10, activation="relu",
                output_activation="softmax", kernel_initializer="he_normal")
    model.compile(optimizer=optimizers.SGD(learning_rate=0.02, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_tr, y_tr, epochs=epochs, batch_size=32, verbose=0)
    # predict over many samples with large batches, so the time is the layers' arithmetic
    x_time = np.concatenate([x_te] * 8)
    y_time = np.concatenate([y_te] * 8)
    out = {}
    for amount in amounts:
        small = pruning.prune_neurons(model, amount=amount)
        pruned_acc = accuracy_of(small, x_te, y_te)
        small.fit(x_tr, y_tr, epochs=1, batch_size=32, verbose=0)   # fine-tune
        r = pruning.report(model, small, x_time, y_time, batch_size=512, repeats=5).to_dict()
        out[f"{int(round(100 * amount))} %"] = {
            "amount": amount, "units": [layer.units for layer in small.layers],
            "parameters": r["parameters"], "flops": r["FLOPs per sample"],
            "file_kib": r["weights file (KiB)"],
            "predict_ms": next(v for k, v in r.items() if k.startswith("predict")),
            "accuracy": r["accuracy"], "accuracy_before_fine_tuning": pruned_acc}
    return out


def _strength(kind, value) -> str:
    return f"rate {value:g}" if kind == "dropout" else f"{kind}({value:g})"


@over_seeds
def run(quick: bool = False, seed: int = 0, epochs: int | None = None,
        prune_epochs: int | None = None, amounts=AMOUNTS, grid=None):
    """Train the unregularised network and each regulariser over its grid, then prune a
    trained network.

    Parameters
    ----------
    quick : bool
        60 epochs on the small training set and 4 for the network to prune, instead of 150
        and 15.
    seed : int
        Seeds the splits, the initial weights and the dropout masks.
    epochs : int, optional
        Epochs on the small training set (every setting gets the same).
    prune_epochs : int, optional
        Epochs of the network that is then pruned.
    amounts : sequence of float
        Fractions of each hidden layer's units removed.
    grid : dict, optional
        Strengths tried per regulariser (default ``GRID``).

    Returns
    -------
    dict
        The lab's result (see :mod:`profond.labs._common`); ``data["cases"]`` holds the
        unregularised run and each regulariser's chosen run, ``data["grid"]`` every run.
    """
    from profond import data as pdata

    seed_everything(seed)
    epochs = epochs or (60 if quick else 150)
    prune_epochs = prune_epochs or (4 if quick else 15)
    grid = {k: tuple(v) for k, v in (grid or GRID).items()}
    with Stopwatch() as sw, backend.blas_threads(1):
        x_tr, x_te, y_tr, y_te = load_digits_split(seed)
        xs, rest, ys, y_rest = pdata.train_test_split(x_tr, y_tr, train_size=N_TRAIN,
                                                      stratify=y_tr, seed=seed)
        xv, _, yv, _ = pdata.train_test_split(rest, y_rest, train_size=N_VAL, stratify=y_rest,
                                              seed=seed)
        split = (xs, xv, x_te, ys, yv, y_te)
        base = _train("none", None, seed, split, epochs)
        runs = {k: [_train(k, s, seed, split, epochs) for s in values]
                for k, values in grid.items()}
        pruned = _pruning(seed, (x_tr, x_te, y_tr, y_te), prune_epochs, amounts)
    cases = {"none": base, **{k: _choose(r) for k, r in runs.items()}}
    regs = list(runs)
    rows = [[k if k == "none" else f"{k}: {_strength(k, r['strength'])}",
             round(r["train_accuracy"], 4), round(r["val_accuracy"], 4),
             round(r["test_accuracy"], 4), round(r["gap"], 4), fmt(r["test_ce"]),
             fmt(r["best_val_ce"]), r["best_val_epoch"], fmt(r["mean_abs_weight"]),
             round(r["near_zero_share"], 3)] for k, r in cases.items()]
    grid_rows = [[k, _strength(k, r["strength"]), round(r["val_accuracy"], 4), fmt(r["val_ce"]),
                  "diverged" if r["diverged"] else
                  ("chosen" if r is cases[k] else "")] for k in regs for r in runs[k]]
    full = next(iter(pruned.values()))
    prow_cols = ["case", "parameters", "FLOPs per sample", "weights file (KiB)",
                 "predict (ms)", "accuracy", "accuracy before fine-tuning"]
    prow = [["full model", full["parameters"]["before"], full["flops"]["before"],
             round(full["file_kib"]["before"], 1), round(full["predict_ms"]["before"], 2),
             round(full["accuracy"]["before"], 4), "-"]]
    prow += [[f"pruned {k}", r["parameters"]["after"], r["flops"]["after"],
              round(r["file_kib"]["after"], 1), round(r["predict_ms"]["after"], 2),
              round(r["accuracy"]["after"], 4), round(r["accuracy_before_fine_tuning"], 4)]
             for k, r in pruned.items()]

    narrow = [k for k in regs if cases[k]["gap"] < base["gap"]]
    costly = [k for k in regs if cases[k]["test_accuracy"] < base["test_accuracy"] - TOLERANCE]
    lower_ce = [k for k in regs if cases[k]["test_ce"] < base["test_ce"]]
    most = pruned[list(pruned)[-1]]
    first = pruned[next(iter(pruned))]
    checks = {
        "the_unregularised_model_overfits": base["train_accuracy"] >= 0.99
        and base["gap"] >= 0.05,
        "at_least_two_regularisers_narrow_the_gap": above(len(narrow), min(2, len(regs)),
                                                          "regularisers narrowing the gap",
                                                          strict=False),
        f"no_regulariser_costs_over_{int(100 * TOLERANCE)}_points_of_test_accuracy":
            not costly,
        "l1_l2_shrink_the_weights": all(cases[k]["mean_abs_weight"] < base["mean_abs_weight"]
                                        for k in ("L1", "L2") if k in cases),
        "pruning_shrinks_the_model": all(r["parameters"]["after"] < r["parameters"]["before"]
                                         and r["file_kib"]["after"] < r["file_kib"]["before"]
                                         for r in pruned.values()),
        "the_most_pruned_model_needs_fewer_flops": most["flops"]["after"]
        < most["flops"]["before"],
        "half_pruned_keeps_accuracy_after_fine_tuning": above(
            first["accuracy"]["after"] - full["accuracy"]["before"], -0.02,
            "accuracy, half-pruned minus full", strict=False),
    }
    holds = all_ok(checks)

    def describe(k):
        r = cases[k]
        return (f"{k} ({_strength(k, r['strength'])}, chosen on validation) "
                f"{fmt(r['train_accuracy'])} / {fmt(r['test_accuracy'])}, gap {fmt(r['gap'])} "
                f"({'narrower' if k in narrow else 'NOT narrower'}), test cross-entropy "
                f"{fmt(r['test_ce'])}")

    verdict = (bears_out(holds) + f"on {N_TRAIN} training digits and {epochs} epochs, the "
               f"unregularised {HIDDEN[0]}-{HIDDEN[1]} network reaches "
               f"{fmt(base['train_accuracy'])} on its training digits and "
               f"{fmt(base['test_accuracy'])} on the test quarter (gap {fmt(base['gap'])}, test "
               f"cross-entropy {fmt(base['test_ce'])}); train / test accuracy: "
               + "; ".join(describe(k) for k in regs)
               + f". {len(narrow)} of {len(regs)} regularisers narrow the gap"
               + (f" ({', '.join(narrow)})" if narrow else "")
               + (f"; {', '.join(costly)} cost(s) more than {fmt(TOLERANCE)} of test accuracy"
                  if costly else f"; none costs more than {fmt(TOLERANCE)} of test accuracy")
               + (f"; the test cross-entropy is lower with {', '.join(lower_ce)}"
                  if lower_ce else "; none lowers the test cross-entropy")
               + (f" and higher with {', '.join(k for k in regs if k not in lower_ce)}"
                  if lower_ce and len(lower_ce) < len(regs) else "")
               + ". With L1 the mean |weight| is "
               + (f"{fmt(cases['L1']['mean_abs_weight'])}" if "L1" in cases else "-")
               + ", with L2 " + (f"{fmt(cases['L2']['mean_abs_weight'])}" if "L2" in cases
                                 else "-")
               + f", without {fmt(base['mean_abs_weight'])}. "
               + f"Pruning the {PRUNE_WIDTH}-{PRUNE_WIDTH} network: "
               + "; ".join(f"{k} of the units removed: {r['parameters']['after']:,} parameters "
                           f"instead of {r['parameters']['before']:,}, "
                           f"{fmt(r['flops']['before'] / r['flops']['after'])} times fewer "
                           f"FLOPs per sample (predict measured "
                           f"{fmt(r['predict_ms']['before'] / r['predict_ms']['after'])}x "
                           f"faster here), accuracy {fmt(r['accuracy_before_fine_tuning'])} right "
                           f"after pruning and {fmt(r['accuracy']['after'])} after one epoch "
                           f"of fine-tuning (full model {fmt(r['accuracy']['before'])})"
                           for k, r in pruned.items()) + ".")
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["case", "train acc", "val acc", "test acc", "gap (train - test)",
                                "test cross-entropy", "best val cross-entropy",
                                "best val epoch", "mean |w|", "share |w| < 1e-3"],
                       rows=rows,
                       data={"cases": cases, "grid": runs,
                             "grid_table": {"columns": ["regulariser", "strength", "val acc",
                                                        "val cross-entropy", ""],
                                            "rows": grid_rows},
                             "pruning": pruned,
                             "pruning_table": {"columns": prow_cols, "rows": prow},
                             "n_train": N_TRAIN, "n_val": N_VAL, "epochs": epochs,
                             "narrower": narrow, "costly": costly},
                       checks=checks, verdict=verdict)


def plot(result, out_dir) -> list:
    """``regularization.png``: validation cross-entropy curves and train/test accuracy of each
    chosen setting; pruned models' parameters, predict time and accuracy against the fraction
    removed."""
    plt = pyplot()
    d = result["data"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    ax = axes[0]
    for k, r in d["cases"].items():
        curve = [np.nan if v is None else v for v in r["val_ce_curve"]]
        label = k if k == "none" else f"{k}: {_strength(k, r['strength'])}"
        ax.plot(range(1, len(curve) + 1), curve, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation cross-entropy")
    ax.set_title(f"Overfitting {d['n_train']} digits")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    ax = axes[1]
    names = list(d["cases"])
    pos = np.arange(len(names))
    ax.bar(pos - 0.2, [d["cases"][k]["train_accuracy"] for k in names], 0.4, label="train")
    ax.bar(pos + 0.2, [d["cases"][k]["test_accuracy"] for k in names], 0.4, label="test")
    for p, k in zip(pos, names):
        ax.annotate(f"gap {d['cases'][k]['gap']:.3f}", (p, 1.0), ha="center", va="bottom",
                    fontsize=8)
    ax.set_xticks(pos)
    ax.set_xticklabels(names)
    ax.set_ylim(0.5, 1.06)
    ax.set_ylabel("accuracy")
    ax.set_title("Train / test gap (strengths chosen on validation)")
    ax.legend(loc="lower right")
    ax = axes[2]
    p = d["pruning"]
    first = next(iter(p.values()))
    frac = [0.0] + [r["amount"] for r in p.values()]
    params = [first["parameters"]["before"]] + [r["parameters"]["after"] for r in p.values()]
    flops = [first["flops"]["before"]] + [r["flops"]["after"] for r in p.values()]
    times = [first["predict_ms"]["before"]] + [r["predict_ms"]["after"] for r in p.values()]
    acc = [first["accuracy"]["before"]] + [r["accuracy"]["after"] for r in p.values()]
    ax.plot(frac, np.asarray(params) / params[0], marker="o", label="parameters (relative)")
    ax.plot(frac, np.asarray(flops) / flops[0], marker="D", label="FLOPs per sample (relative)")
    ax.plot(frac, np.asarray(times) / times[0], marker="s", ls=":",
            label="predict time, measured (relative)")
    ax.plot(frac, acc, marker="^", label="accuracy (fine-tuned)")
    ax.set_xlabel("fraction of hidden units removed")
    ax.set_title("Pruning")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return [save(fig, out_dir, "regularization.png")]
