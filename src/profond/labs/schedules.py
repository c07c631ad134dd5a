"""Lab ``schedules``: the deck's learning-rate schedules (and cosine) — their shapes and their
effect.

Each schedule is a pure function of the epoch (``unit="epoch"``): constant, gradual decay per
epoch (:class:`~profond.schedules.InverseTimeDecay`), step (:class:`~profond.schedules.StepDecay`),
exponential (:class:`~profond.schedules.ExponentialDecay`), linear
(:class:`~profond.schedules.PolynomialDecay` with ``power=1``) and cosine
(:class:`~profond.schedules.CosineDecay`). Their shapes are read from the schedules themselves;
their effect is measured by training the same MLP on the bundled digits with SGD and each one.
"""

from __future__ import annotations

import sys

import numpy as np

from profond.labs._common import (Stopwatch, all_ok, bears_out, fmt, load_digits_split, make_result,
                                  mlp, over_seeds, pyplot, save, seed_everything)

NAME = "schedules"
TITLE = "Learning-rate schedules"
CLAIM = ("Constant (the default): simple, but may converge too fast or too slowly. Gradual "
         "decay per epoch: continuous, its rate is delicate to choose. Step: changes at regular "
         "intervals, perhaps too abruptly. Exponential: fast at first then stable, but the rate "
         "may become too small too soon. Linear: smooth and general, but not flexible.")

LR0 = 0.1


def make_schedules(epochs):
    """The schedules, by name, all starting at ``LR0`` and counted in epochs."""
    from profond import schedules as S

    return {
        "constant": None,
        "gradual (inverse time)": S.InverseTimeDecay(LR0, decay_steps=1, decay_rate=0.5,
                                                     unit="epoch"),
        "step": S.StepDecay(LR0, drop=0.5, every=max(epochs // 4, 1), unit="epoch"),
        "exponential": S.ExponentialDecay(LR0, decay_steps=1, decay_rate=0.6, unit="epoch"),
        "linear": S.PolynomialDecay(LR0, decay_steps=epochs, end_learning_rate=LR0 / 100,
                                    power=1.0, unit="epoch"),
        "cosine": S.CosineDecay(LR0, decay_steps=epochs, alpha=0.01, unit="epoch"),
    }


@over_seeds
def run(quick: bool = False, seed: int = 0, epochs: int | None = None):
    """Read each schedule's shape, then train with each.

    Parameters
    ----------
    quick : bool
        12 epochs instead of 30.
    seed : int
    epochs : int, optional
    """
    import profond
    from profond import callbacks, optimizers

    seed_everything(seed)
    epochs = epochs or (12 if quick else 30)
    scheds = make_schedules(epochs)
    t = np.arange(epochs)
    shapes = {k: (np.full(epochs, LR0) if s is None else np.asarray(s(t), dtype=float))
              for k, s in scheds.items()}
    runs = {}
    with Stopwatch() as sw:
        x_tr, x_te, y_tr, y_te = load_digits_split(seed)
        for name, s in scheds.items():
            profond.random.seed(seed)
            model = mlp(x_tr.shape[1], (64,), 10, activation="relu",
                        output_activation="softmax", kernel_initializer="he_normal")
            model.compile(optimizer=optimizers.SGD(learning_rate=LR0 if s is None else s),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            # fit logs no rate (as Keras's): this callback logs the one each epoch ran with.
            log_rate = callbacks.LambdaCallback(on_epoch_end=lambda e, logs, m=model: logs.update(
                learning_rate=float(m.optimizer.last_learning_rate)))
            h = model.fit(x_tr, y_tr, epochs=epochs, batch_size=32, verbose=0,
                          validation_data=(x_te, y_te), callbacks=[log_rate]).history
            runs[name] = {"loss": h["loss"], "val_loss": h["val_loss"],
                          "val_accuracy": float(h["val_accuracy"][-1]),
                          "logged_lr": h["learning_rate"]}
    rows = [[k, fmt(shapes[k][0]), fmt(shapes[k][len(t) // 2]), fmt(shapes[k][-1]),
             fmt(runs[k]["loss"][-1]), fmt(min(runs[k]["val_loss"])),
             round(runs[k]["val_accuracy"], 4)] for k in scheds]
    half = epochs // 2
    expo, lin, step = shapes["exponential"], shapes["linear"], shapes["step"]
    steps = np.diff(lin)
    checks = {
        "constant_is_constant": np.ptp(shapes["constant"]) == 0,
        "every_decay_decreases": all(np.all(np.diff(shapes[k]) <= 1e-12) and
                                     shapes[k][-1] < shapes[k][0]
                                     for k in scheds if k != "constant"),
        "step_changes_at_regular_intervals": len(np.unique(step)) <= 5 and
        np.count_nonzero(np.diff(step)) == len(np.unique(step)) - 1,
        "exponential_fast_then_stable": (expo[0] - expo[half]) > 5 * (expo[half] - expo[-1]),
        "linear_is_linear": np.allclose(steps, steps[0], rtol=1e-4, atol=1e-9),
        "fit_follows_the_schedule": np.allclose(runs["exponential"]["logged_lr"][:3], expo[:3],
                                                rtol=1e-5) or
        np.allclose(runs["exponential"]["logged_lr"][1:4], expo[:3], rtol=1e-5),
    }
    holds = all_ok(checks)
    best = min(runs, key=lambda k: min(runs[k]["val_loss"]))
    verdict = (bears_out(holds) + f"starting from {LR0}, after {epochs} epochs the rate is "
               + ", ".join(f"{fmt(shapes[k][-1])} ({k})" for k in scheds)
               + f". Exponential decay loses {fmt(expo[0] - expo[half])} in the first half and "
               f"{fmt(expo[half] - expo[-1])} in the second. Trained with each, the lowest "
               f"validation loss is reached with {best} ({fmt(min(runs[best]['val_loss']))}); "
               f"with the constant rate it is {fmt(min(runs['constant']['val_loss']))}; the "
               "effect on this easy problem is " +
               ("small" if max(r["val_accuracy"] for r in runs.values()) -
                min(r["val_accuracy"] for r in runs.values()) < 0.02 else "visible") + ".")
    worst = max(runs, key=lambda k: runs[k]["loss"][-1])
    if worst == "exponential":
        verdict += (" The exponential run ends with the highest training loss: its rate became "
                    "too small too soon, as the deck warns.")
    else:
        verdict += f" The highest final training loss is {worst}'s."
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["schedule", "lr epoch 1", f"lr epoch {half + 1}",
                                f"lr epoch {epochs}", "final train loss", "best val loss",
                                "val accuracy"],
                       rows=rows, data={"shapes": shapes, "runs": runs, "epochs": epochs},
                       checks=checks, verdict=verdict)


def plot(result, out_dir) -> list:
    """``schedules.png``: each schedule's rate per epoch, and the training loss with each."""
    plt = pyplot()
    d = result["data"]
    fig, (ax, bx) = plt.subplots(1, 2, figsize=(12, 4.2))
    for name, values in d["shapes"].items():
        ax.plot(range(1, len(values) + 1), values, marker="o", ms=3, label=name)
        bx.plot(range(1, len(values) + 1), d["runs"][name]["loss"], label=name)
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.set_title("Schedules")
    bx.set_yscale("log")
    bx.set_xlabel("epoch")
    bx.set_ylabel("training loss")
    bx.set_title("Training with each schedule (SGD, digits)")
    for axis in (ax, bx):
        axis.legend(fontsize=8)
        axis.grid(alpha=0.3)
    fig.tight_layout()
    return [save(fig, out_dir, "schedules.png")]
