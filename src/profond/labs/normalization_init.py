"""Lab ``normalization-init``: scaling the inputs, initialising the weights, and the divergence
guard that re-creates a model which diverged.

1. **Normalisation.** The bundled wine data (13 features, from about 0.1 to over 1,000): the same
   network trained on raw inputs, on min-max scaled inputs (``MinMaxScaler``) and on
   standardised inputs (``StandardScaler``), the scalers fitted on the training split only.
2. **Initialisation.** A deep network (``DEPTH`` hidden layers of ``WIDTH`` units) under tanh and
   under ReLU, initialised with Glorot (``glorot_normal``) or He (``he_normal``): the spread of
   each hidden layer's outputs on the digits at initialisation (it should neither die out nor
   blow up), the share of saturated tanh units (``|h| > 0.99``), and the test accuracy after the
   same short training.
3. **The divergence guard.** A network trained with a learning rate far too large diverges; the
   same run with ``fit(divergence_guard=...)`` probes on a small part of the data, sees the
   divergence, re-creates the model with a smaller learning rate and trains. Its attempts are
   read from ``history.events``.
"""

from __future__ import annotations

import math
import sys

import numpy as np

from profond.labs._common import (Stopwatch, above, accuracy_of, all_ok, bears_out, below, fmt,
                                  load_digits_split, make_result, mlp, over_seeds, pyplot, save,
                                  seed_everything)

NAME = "normalization-init"
TITLE = "Normalisation, initialisation, and re-creating a diverged model"
CLAIM = ("Normalise the inputs (min-max, standardisation, division by a number) to bring them "
         "near the activations' working ranges. Initialise with Xavier/Glorot for symmetric "
         "activations (tanh, sigmoid) and He for ReLU, so the model converges more often. To "
         "force convergence, start training on a small part of the data and re-create the "
         "model if it diverges.")

DEPTH, WIDTH = 12, 64
INITS = {"Glorot": "glorot_normal", "He": "he_normal"}
GUARD_LR = 3.0

#: The lab's reading of a check that fails over the seeds (quoted in the verdict).
WHY = {
    "glorot_trains_tanh_at_least_as_well":
        "at this depth and budget a tanh network trains well from either initialisation: He's "
        "larger weights saturate only a few more tanh units (a few in ten thousand), so "
        "Glorot's advantage shows in the saturation figure, not in the accuracy, where the "
        "two differ by about a point either way, within a seed's noise; for ReLU the choice "
        "matters far more.",
    "he_trains_relu_at_least_as_well":
        "with only a few epochs, the shrunken signal of ReLU + Glorot sometimes recovers.",
}


def _scaling_case(kind, seed, epochs):
    import profond
    from profond import data, datasets, optimizers

    x, y = datasets.load_wine()
    x_tr, x_te, y_tr, y_te = data.train_test_split(x, y, test_size=0.3, stratify=y, seed=seed)
    if kind != "raw":
        scaler = data.MinMaxScaler() if kind == "min-max" else data.StandardScaler()
        x_tr = scaler.fit_transform(x_tr)       # fitted on the training split only
        x_te = scaler.transform(x_te)
    x_tr, x_te = np.asarray(x_tr, np.float32), np.asarray(x_te, np.float32)
    profond.random.seed(seed)
    model = mlp(x.shape[1], (32,), 3, activation="tanh", output_activation="softmax")
    model.compile(optimizer=optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    h = model.fit(x_tr, y_tr, epochs=epochs, batch_size=16, verbose=0,
                  validation_data=(x_te, y_te)).history
    finite = [float(v) if math.isfinite(v) else None for v in h["loss"]]
    return {"loss": finite, "val_accuracy": [float(v) for v in h["val_accuracy"]],
            "accuracy": float(h["val_accuracy"][-1]),
            "feature_range": [float(np.min(x_tr.std(0))), float(np.max(x_tr.std(0)))]}


def _hidden_spreads(model, x):
    """Standard deviation of each hidden layer's output, and the share of |h| > 0.99."""
    from profond import no_grad, tensor

    h = tensor(x)
    spreads, saturated = [], []
    with no_grad():
        for layer in model.layers[:-1]:
            h = layer(h)
            a = h.numpy()
            spreads.append(float(a.std()))
            saturated.append(float(np.mean(np.abs(a) > 0.99)))
    return spreads, saturated


def _init_case(activation, init, seed, data, epochs):
    import profond
    from profond import optimizers

    x_tr, x_te, y_tr, y_te = data
    profond.random.seed(seed)
    model = mlp(x_tr.shape[1], [WIDTH] * DEPTH, 10, activation=activation,
                output_activation="softmax", kernel_initializer=init)
    model.build((None, x_tr.shape[1]))
    spreads, saturated = _hidden_spreads(model, x_tr[:256])
    model.compile(optimizer=optimizers.SGD(learning_rate=0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    with np.errstate(over="ignore", invalid="ignore"):
        h = model.fit(x_tr, y_tr, epochs=epochs, batch_size=32, verbose=0).history
    acc = accuracy_of(model, x_te, y_te) if math.isfinite(h["loss"][-1]) else 0.0
    return {"spreads": spreads, "saturated": saturated, "accuracy": acc,
            "last_to_first": spreads[-1] / spreads[0]}


def _guard_case(seed, data, epochs, guard):
    import profond
    from profond import optimizers

    x_tr, x_te, y_tr, y_te = data
    profond.random.seed(seed)
    model = mlp(x_tr.shape[1], (64, 64), 10, activation="relu", output_activation="softmax",
                kernel_initializer="he_normal")
    model.compile(optimizer=optimizers.SGD(learning_rate=GUARD_LR),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    kwargs = {"divergence_guard": {"verbose": 0, "seed": seed}} if guard else {}
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        history = model.fit(x_tr, y_tr, epochs=epochs, batch_size=32, verbose=0, **kwargs)
        finite = bool(np.isfinite(history.history["loss"]).all())
        acc = accuracy_of(model, x_te, y_te) if finite and all(
            np.isfinite(w).all() for w in model.get_weights()) else float("nan")
    events = [{k: e.get(k) for k in ("kind", "attempt", "learning_rate", "ok", "message")}
              for e in getattr(history, "events", [])]
    return {"loss": [float(v) if math.isfinite(v) else None for v in history.history["loss"]],
            "finite": finite, "accuracy": acc, "events": events,
            "final_learning_rate": float(model.optimizer.learning_rate)}


@over_seeds
def run(quick: bool = False, seed: int = 0, epochs: int | None = None,
        init_epochs: int | None = None):
    """Train with each scaling, each initialisation, and without and with the guard.

    Parameters
    ----------
    quick : bool
        Fewer epochs: 30 on the wine data, 5 for each initialisation and the guard (against 60,
        15 and 15).
    seed : int
    epochs : int, optional
        Epochs on the wine data.
    init_epochs : int, optional
        Epochs of each initialisation run and of the guard runs.
    """
    seed_everything(seed)
    epochs = epochs or (30 if quick else 60)
    init_epochs = init_epochs or (5 if quick else 15)
    with Stopwatch() as sw:
        scaling = {k: _scaling_case(k, seed, epochs) for k in ("raw", "min-max", "standardised")}
        digits = load_digits_split(seed)
        inits = {f"{act} + {label}": dict(_init_case(act, init, seed, digits, init_epochs),
                                          activation=act, init=label)
                 for act in ("tanh", "relu") for label, init in INITS.items()}
        guard = {"without guard": _guard_case(seed, digits, init_epochs, False),
                 "divergence_guard": _guard_case(seed, digits, init_epochs, True)}
    rows = [[f"inputs: {k}", "wine, tanh MLP", round(r["accuracy"], 4),
             f"feature std {fmt(r['feature_range'][0])}..{fmt(r['feature_range'][1])}"]
            for k, r in scaling.items()]
    rows += [[f"init: {k}", f"{DEPTH} x {WIDTH} {r['activation']}, digits",
              round(r["accuracy"], 4),
              f"std layer 1 {fmt(r['spreads'][0])}, layer {DEPTH} {fmt(r['spreads'][-1])}; "
              f"saturated {fmt(r['saturated'][-1])}"] for k, r in inits.items()]
    rows += [[f"lr {GUARD_LR:g}: {k}", "64-64 ReLU, digits",
              round(r["accuracy"], 4) if math.isfinite(r["accuracy"]) else "diverged",
              f"{sum(e['kind'] == 'probe' for e in r['events'])} probes, final lr "
              f"{fmt(r['final_learning_rate'])}"] for k, r in guard.items()]
    raw, mm, st = (scaling[k]["accuracy"] for k in ("raw", "min-max", "standardised"))
    tg, th, rg, rh = (inits[k] for k in ("tanh + Glorot", "tanh + He", "relu + Glorot",
                                         "relu + He"))
    unguarded, guarded = guard["without guard"], guard["divergence_guard"]
    probes = [e for e in guarded["events"] if e["kind"] == "probe"]
    checks = {
        "scaled_inputs_beat_raw_ones": above(min(mm, st) - raw, 0.1,
                                             "accuracy, worse scaling minus raw"),
        "he_keeps_relu_signal_glorot_shrinks_it": below(
            abs(math.log(rh["last_to_first"])) - abs(math.log(rg["last_to_first"])), 0.0,
            "ReLU |log spread ratio|, He minus Glorot"),
        "glorot_saturates_tanh_less_than_he": below(tg["saturated"][-1] - th["saturated"][-1], 0.0,
                                                    "tanh saturation, Glorot minus He"),
        "glorot_trains_tanh_at_least_as_well": above(tg["accuracy"] - th["accuracy"], 0.0,
                                                     "tanh accuracy, Glorot minus He",
                                                     strict=False),
        "he_trains_relu_at_least_as_well": above(rh["accuracy"] - rg["accuracy"], 0.0,
                                                 "ReLU accuracy, He minus Glorot", strict=False),
        "the_large_learning_rate_diverges": not unguarded["finite"]
        or not math.isfinite(unguarded["accuracy"]) or unguarded["accuracy"] < 0.5,
        "the_guard_recreates_and_recovers": len(probes) >= 2 and not probes[0]["ok"]
        and probes[-1]["ok"] and guarded["finite"] and guarded["accuracy"] > 0.9,
    }
    holds = all_ok(checks)
    verdict = (bears_out(holds) + f"on the wine data, raw inputs give {fmt(raw)} test accuracy, "
               f"min-max {fmt(mm)} and standardised {fmt(st)}. In a {DEPTH}-layer network at "
               f"initialisation, ReLU's output spread goes from layer 1 to layer {DEPTH} by a "
               f"factor {fmt(rg['last_to_first'])} with Glorot and {fmt(rh['last_to_first'])} "
               f"with He; tanh's last layer has {fmt(tg['saturated'][-1])} of its units "
               f"saturated with Glorot and {fmt(th['saturated'][-1])} with He. After "
               f"{init_epochs} epochs: tanh {fmt(tg['accuracy'])} (Glorot) vs "
               f"{fmt(th['accuracy'])} (He), ReLU {fmt(rg['accuracy'])} (Glorot) vs "
               f"{fmt(rh['accuracy'])} (He)"
               + (" (under tanh the two end within 2 points of each other: at this depth the "
                  "choice matters far more for ReLU)" if abs(tg["accuracy"] - th["accuracy"])
                  < 0.02 else "") + f". At learning rate {GUARD_LR:g}, the plain run "
               + ("diverges" if checks["the_large_learning_rate_diverges"] else "trains")
               + f" (accuracy {fmt(unguarded['accuracy'])}); with the guard, "
               + "; ".join(e["message"] for e in probes)
               + f"; it ends at {fmt(guarded['accuracy'])} test accuracy.")
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["case", "model", "test accuracy", "details"], rows=rows,
                       data={"scaling": scaling, "inits": inits, "guard": guard,
                             "depth": DEPTH, "guard_lr": GUARD_LR},
                       checks=checks, verdict=verdict)


def plot(result, out_dir) -> list:
    """``normalization_init.png``: accuracy per input scaling, hidden-layer spread per depth for
    each initialisation, and the loss of the runs without and with the divergence guard."""
    plt = pyplot()
    d = result["data"]
    fig, axes = plt.subplots(1, 4, figsize=(19, 4.2))
    ax = axes[0]
    for k, r in d["scaling"].items():
        ax.plot(range(1, len(r["val_accuracy"]) + 1), r["val_accuracy"], label=k)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (wine)")
    ax.set_title("Input scaling")
    ax.legend()
    for ax, act in zip(axes[1:3], ("tanh", "relu")):
        for k, r in d["inits"].items():
            if r["activation"] == act:
                ax.plot(range(1, len(r["spreads"]) + 1), r["spreads"], marker="o", ms=3,
                        label=f"{r['init']} (acc {r['accuracy']:.2f})")
        ax.set_yscale("log")
        ax.set_xlabel("hidden layer")
        ax.set_ylabel("std of its outputs at init")
        ax.set_title(f"{act}: Glorot vs He")
        ax.legend()
    ax = axes[3]
    for k, r in d["guard"].items():
        loss = [np.nan if v is None else v for v in r["loss"]]
        ax.plot(range(1, len(loss) + 1), loss, marker="o", ms=3, label=k)
    ax.set_yscale("log")
    ax.set_xlabel("epoch")
    ax.set_ylabel("training loss")
    ax.set_title(f"Learning rate {d['guard_lr']:g}: the divergence guard")
    ax.legend()
    fig.tight_layout()
    return [save(fig, out_dir, "normalization_init.png")]
