"""Lab ``regularization``: dropout, L1 and L2 against overfitting; pruning's size, speed and
accuracy.

1. **Against overfitting.** A network far too large for its data (two hidden layers of 256 ReLU
   units) trained for many epochs on only ``N_SMALL`` digits, validated on the held-out quarter:
   without regularisation, with ``Dropout(0.5)`` after each hidden layer, with an L2 penalty and
   with an L1 penalty on the kernels (:mod:`profond.regularizers`). The figures: training and
   validation accuracy and loss, the gap between them, and the size of the weights.
2. **Pruning.** A network with two hidden layers of ``PRUNE_WIDTH`` units trained on the whole
   training split; :func:`profond.pruning.prune_neurons` removes the units with the smallest
   weights (several fractions), each smaller model is fine-tuned for one epoch, and
   :func:`profond.pruning.report` measures parameters, FLOPs, file size, ``predict`` time and
   accuracy against the full model.
"""

from __future__ import annotations

import sys

import numpy as np

from profond.labs._common import Stopwatch, accuracy_of, bears_out, fmt, load_digits_split, \
    make_result, pyplot, save, seed_everything

NAME = "regularization"
TITLE = "Dropout, L1 and L2 regularisation, pruning"
CLAIM = ("Dropout switches neurons off at random during training, so the network does not rely "
         "too much on any one; L1 and L2 regularisation limit the size of the weights (weights "
         "too large reflect a model too complex): both fight overfitting. Pruning removes the "
         "neurons whose weights are near 0, giving a lighter model that runs faster.")

N_SMALL = 100
HIDDEN = (128, 128)
PRUNE_WIDTH = 512
AMOUNTS = (0.5, 0.75, 0.9)


def _model(kind, n_in, seed):
    import profond
    from profond import Input, Sequential, regularizers
    from profond.layers import Dense, Dropout

    profond.random.seed(seed)
    reg = {"L2": regularizers.L2(1e-2), "L1": regularizers.L1(1e-3)}.get(kind)
    layers = [Input((n_in,))]
    for units in HIDDEN:
        layers.append(Dense(units, activation="relu", kernel_initializer="he_normal",
                            kernel_regularizer=reg))
        if kind == "dropout":
            layers.append(Dropout(0.5))
    layers.append(Dense(10, activation="softmax", kernel_regularizer=reg))
    return Sequential(layers)


def _overfit_case(kind, seed, data, epochs):
    from profond import optimizers

    x_tr, x_te, y_tr, y_te = data
    model = _model(kind, x_tr.shape[1], seed)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x_tr, y_tr, epochs=epochs, batch_size=16, verbose=0,
                  validation_data=(x_te, y_te)).history
    train_acc = accuracy_of(model, x_tr, y_tr)   # without dropout, as validation is measured
    val_acc = accuracy_of(model, x_te, y_te)
    prob = np.asarray(model.predict(x_te, verbose=0), dtype=np.float64)
    val_ce = float(-np.mean(np.log(np.maximum(prob[np.arange(len(y_te)), y_te], 1e-12))))
    kernels = [w for w in model.get_weights() if w.ndim == 2]
    weights = np.concatenate([k.ravel() for k in kernels])
    return {"train_accuracy": train_acc, "val_accuracy": val_acc, "gap": train_acc - val_acc,
            "val_loss_curve": [float(v) for v in h["val_loss"]],
            "val_accuracy_curve": [float(v) for v in h["val_accuracy"]],
            "accuracy_curve": [float(v) for v in h["accuracy"]],
            "best_val_loss": float(min(h["val_loss"])), "final_val_loss": val_ce,
            "mean_abs_weight": float(np.abs(weights).mean()),
            "near_zero_share": float(np.mean(np.abs(weights) < 1e-3))}


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


def run(quick: bool = False, seed: int = 0, epochs: int | None = None,
        prune_epochs: int | None = None, amounts=AMOUNTS):
    """Train the four regularisation settings, then prune a trained network.

    Parameters
    ----------
    quick : bool
        60 epochs on the small training set and 4 for the network to prune, instead of 200
        and 15.
    seed : int
    epochs : int, optional
        Epochs on the small training set.
    prune_epochs : int, optional
        Epochs of the network that is then pruned.
    amounts : sequence of float
        Fractions of each hidden layer's units removed.
    """
    from profond import data as pdata

    seed_everything(seed)
    epochs = epochs or (60 if quick else 200)
    prune_epochs = prune_epochs or (4 if quick else 15)
    with Stopwatch() as sw:
        x_tr, x_te, y_tr, y_te = load_digits_split(seed)
        xs, _, ys, _ = pdata.train_test_split(x_tr, y_tr, train_size=N_SMALL, stratify=y_tr,
                                              seed=seed)
        cases = {k: _overfit_case(k, seed, (xs, x_te, ys, y_te), epochs)
                 for k in ("none", "dropout", "L2", "L1")}
        pruned = _pruning(seed, (x_tr, x_te, y_tr, y_te), prune_epochs, amounts)
    full = next(iter(pruned.values()))
    rows = [[f"overfit: {k}", round(r["train_accuracy"], 4), round(r["val_accuracy"], 4),
             round(r["gap"], 4), fmt(r["best_val_loss"]), fmt(r["final_val_loss"]),
             fmt(r["mean_abs_weight"]), round(r["near_zero_share"], 3)]
            for k, r in cases.items()]
    prow_cols = ["case", "parameters", "FLOPs per sample", "weights file (KiB)",
                 "predict (ms)", "accuracy", "accuracy before fine-tuning"]
    prow = [["full model", full["parameters"]["before"], full["flops"]["before"],
             round(full["file_kib"]["before"], 1), round(full["predict_ms"]["before"], 2),
             round(full["accuracy"]["before"], 4), "-"]]
    prow += [[f"pruned {k}", r["parameters"]["after"], r["flops"]["after"],
              round(r["file_kib"]["after"], 1), round(r["predict_ms"]["after"], 2),
              round(r["accuracy"]["after"], 4), round(r["accuracy_before_fine_tuning"], 4)]
             for k, r in pruned.items()]
    base = cases["none"]
    most = pruned[list(pruned)[-1]]
    checks = {
        "the_unregularised_model_overfits": base["train_accuracy"] >= 0.99
        and base["gap"] > 0.05,
        "each_regulariser_narrows_the_gap": all(cases[k]["gap"] < base["gap"]
                                                for k in ("dropout", "L2", "L1")),
        "no_regulariser_hurts_validation_loss": all(
            cases[k]["final_val_loss"] < base["final_val_loss"] for k in ("dropout", "L2", "L1")),
        "l1_l2_shrink_the_weights": all(cases[k]["mean_abs_weight"] < base["mean_abs_weight"]
                                        for k in ("L2", "L1")),
        "pruning_shrinks_the_model": all(r["parameters"]["after"] < r["parameters"]["before"]
                                         and r["file_kib"]["after"] < r["file_kib"]["before"]
                                         for r in pruned.values()),
        "the_most_pruned_model_predicts_faster": most["predict_ms"]["after"]
        < most["predict_ms"]["before"],
        "half_pruned_keeps_accuracy_after_fine_tuning": pruned[list(pruned)[0]]["accuracy"][
            "after"] >= full["accuracy"]["before"] - 0.02,
    }
    holds = all(checks.values())
    verdict = (bears_out(holds) + f"on {N_SMALL} training digits, the unregularised network "
               f"reaches {fmt(base['train_accuracy'])} on its training data and "
               f"{fmt(base['val_accuracy'])} on validation (gap {fmt(base['gap'])}); "
               + ", ".join(f"{k} {fmt(cases[k]['train_accuracy'])} / "
                           f"{fmt(cases[k]['val_accuracy'])} (gap {fmt(cases[k]['gap'])}, final "
                           f"val cross-entropy {fmt(cases[k]['final_val_loss'])} vs "
                           f"{fmt(base['final_val_loss'])})" for k in ("dropout", "L2", "L1"))
               + f". Pruning the {PRUNE_WIDTH}-{PRUNE_WIDTH} network: "
               + "; ".join(f"{k} of the units removed: {r['parameters']['after']:,} parameters "
                           f"instead of {r['parameters']['before']:,}, predict "
                           f"{fmt(r['predict_ms']['before'] / r['predict_ms']['after'])}x "
                           f"faster, accuracy {fmt(r['accuracy_before_fine_tuning'])} right "
                           f"after pruning and {fmt(r['accuracy']['after'])} after one epoch "
                           f"of fine-tuning (full model {fmt(r['accuracy']['before'])})"
                           for k, r in pruned.items()) + ".")
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["case", "train acc", "val acc", "gap", "best val loss",
                                "final val cross-entropy", "mean |w|", "share |w| < 1e-3"],
                       rows=rows, data={"cases": cases, "pruning": pruned,
                                        "pruning_table": {"columns": prow_cols, "rows": prow},
                                        "n_small": N_SMALL, "epochs": epochs},
                       checks=checks, verdict=verdict)


def plot(result, out_dir) -> list:
    """``regularization.png``: validation loss curves and train/validation accuracy per setting;
    pruned models' parameters, predict time and accuracy against the fraction removed."""
    plt = pyplot()
    d = result["data"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    ax = axes[0]
    for k, r in d["cases"].items():
        ax.plot(range(1, len(r["val_loss_curve"]) + 1), r["val_loss_curve"], label=k)
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation loss")
    ax.set_title(f"Overfitting {d['n_small']} digits")
    ax.legend()
    ax = axes[1]
    names = list(d["cases"])
    pos = np.arange(len(names))
    ax.bar(pos - 0.2, [d["cases"][k]["train_accuracy"] for k in names], 0.4, label="train")
    ax.bar(pos + 0.2, [d["cases"][k]["val_accuracy"] for k in names], 0.4, label="validation")
    ax.set_xticks(pos)
    ax.set_xticklabels(names)
    ax.set_ylim(0.5, 1.02)
    ax.set_ylabel("accuracy")
    ax.set_title("Train / validation gap")
    ax.legend()
    ax = axes[2]
    p = d["pruning"]
    first = next(iter(p.values()))
    frac = [0.0] + [r["amount"] for r in p.values()]
    params = [first["parameters"]["before"]] + [r["parameters"]["after"] for r in p.values()]
    times = [first["predict_ms"]["before"]] + [r["predict_ms"]["after"] for r in p.values()]
    acc = [first["accuracy"]["before"]] + [r["accuracy"]["after"] for r in p.values()]
    ax.plot(frac, np.asarray(params) / params[0], marker="o", label="parameters (relative)")
    ax.plot(frac, np.asarray(times) / times[0], marker="s", label="predict time (relative)")
    ax.plot(frac, acc, marker="^", label="accuracy (fine-tuned)")
    ax.set_xlabel("fraction of hidden units removed")
    ax.set_title("Pruning")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return [save(fig, out_dir, "regularization.png")]
