"""Lab ``batch-epochs``: batch size and number of epochs vs the loss curve's shape and the cost.

The same MLP (one hidden layer of 64) on the bundled digits, trained for the same number of
epochs with batch sizes from 8 to the whole training set. The weights change once per batch, so
small batches make many small noisy steps per epoch and large ones a few smooth steps. The
figures: the weight updates per epoch (counted by the optimizer), the parameter values they
write, the loss after the first and the last epoch, and the noise of the per-update loss (the
standard deviation of its relative changes from one update to the next). The validation loss
per epoch shows where more epochs stop helping.

An epoch's forward and backward arithmetic is the same whatever the batch size (every sample
passes once); what small batches add is updates, each one writing every parameter. That count
is the claim's evidence: it does not depend on the machine. The CPU time per epoch is measured
and shown beside it, never checked, since it depends on the machine and on its load.
"""

from __future__ import annotations

import sys

import numpy as np

from profond.labs._common import (Stopwatch, above, all_ok, bears_out, below, fmt,
                                  load_digits_split, make_result, mlp, over_seeds, pyplot, save,
                                  seed_everything)

NAME = "batch-epochs"
TITLE = "Batches and epochs"
CLAIM = ("The weights are updated at each batch, and batching keeps single samples (outliers) "
         "from weighing too much; an epoch is one pass over the data, and more epochs refine "
         "the model little by little. Tuning the number of epochs and the batch size shapes the "
         "loss curve.")


def _batch_loss_recorder():
    """A callback that recovers each batch's own loss from fit's running mean."""
    from profond.callbacks import Callback

    class BatchLosses(Callback):
        def on_train_begin(self, logs=None):
            self.losses = []

        def on_epoch_begin(self, epoch, logs=None):
            self._prev_sum, self._prev_seen = 0.0, 0

        def on_train_batch_end(self, batch, logs=None):
            seen = min((batch + 1) * self.params["batch_size"], self.params["samples"])
            total = float(logs["loss"]) * seen
            self.losses.append((total - self._prev_sum) / max(seen - self._prev_seen, 1))
            self._prev_sum, self._prev_seen = total, seen

    return BatchLosses()


@over_seeds
def run(quick: bool = False, seed: int = 0, epochs: int | None = None, batch_sizes=None):
    """Train once per batch size.

    Parameters
    ----------
    quick : bool
        8 epochs and batch sizes (8, 32, 128, all) instead of 30 epochs and (4, 8, 32, 128,
        all).
    seed : int
    epochs : int, optional
    batch_sizes : sequence of int, optional (0 means the whole training set)
    """
    import profond
    from profond import optimizers

    seed_everything(seed)
    epochs = epochs or (8 if quick else 30)
    batch_sizes = list(batch_sizes or ((8, 32, 128, 0) if quick else (4, 8, 32, 128, 0)))
    runs = {}
    with Stopwatch() as sw:
        x_tr, x_te, y_tr, y_te = load_digits_split(seed)
        for bs in batch_sizes:
            bs = bs or len(x_tr)
            profond.random.seed(seed)
            model = mlp(x_tr.shape[1], (64,), 10, activation="relu", output_activation="softmax",
                        kernel_initializer="he_normal")
            model.compile(optimizer=optimizers.SGD(learning_rate=0.02, momentum=0.9),
                          loss="sparse_categorical_crossentropy", metrics=["accuracy"])
            recorder = _batch_loss_recorder()
            with Stopwatch(cpu=True) as t:  # shown beside the count, never checked
                history = model.fit(x_tr, y_tr, epochs=epochs, batch_size=bs, verbose=0,
                                    validation_data=(x_te, y_te), callbacks=[recorder])
            updates = int(model.optimizer.iterations)
            per_update = np.asarray(recorder.losses)
            rel = np.diff(np.log(np.maximum(per_update, 1e-12)))
            h = history.history
            runs[str(bs)] = {"batch_size": bs, "updates": updates,
                             "updates_per_epoch": updates // epochs,
                             "batches_per_epoch": -(-len(x_tr) // bs),
                             "values_written_per_epoch": updates // epochs
                             * model.count_params(),
                             "seconds_per_epoch": t.seconds / epochs,
                             "loss_epoch1": float(h["loss"][0]), "loss_last": float(h["loss"][-1]),
                             "val_loss": [float(v) for v in h["val_loss"]],
                             "val_accuracy_last": float(h["val_accuracy"][-1]),
                             "update_noise": float(rel.std()) if len(rel) > 1 else 0.0,
                             "per_update_loss": per_update[:4000]}
    rows = [[r["batch_size"], r["updates_per_epoch"], r["values_written_per_epoch"],
             round(r["seconds_per_epoch"], 4),
             fmt(r["loss_epoch1"]), fmt(r["loss_last"]), fmt(min(r["val_loss"])),
             int(np.argmin(r["val_loss"])) + 1, round(r["val_accuracy_last"], 4),
             fmt(r["update_noise"])] for r in runs.values()]
    small, large = runs[str(min(r["batch_size"] for r in runs.values()))], \
        runs[str(max(r["batch_size"] for r in runs.values()))]
    checks = {
        "small_batches_learn_more_per_epoch": below(
            small["loss_epoch1"] - large["loss_epoch1"], 0.0,
            "epoch-1 loss, small minus large batches"),
        "the_weights_change_once_per_batch": all(
            r["updates"] == epochs * r["batches_per_epoch"] for r in runs.values()),
        "small_batches_cost_more_updates_per_epoch":
            small["values_written_per_epoch"] > large["values_written_per_epoch"],
        "small_batches_give_a_noisier_curve": above(
            small["update_noise"] - large["update_noise"], 0.0,
            "update noise, small minus large batches"),
        "more_epochs_lower_the_training_loss": all(r["loss_last"] < r["loss_epoch1"]
                                                   for r in runs.values()),
    }
    holds = all_ok(checks)
    verdict = (bears_out(holds) + f"after one epoch, batches of {small['batch_size']} "
               f"({small['updates_per_epoch']} updates) bring the loss to "
               f"{fmt(small['loss_epoch1'])}, the whole set in one batch (1 update) to "
               f"{fmt(large['loss_epoch1'])}; an epoch writes every parameter "
               f"{small['updates_per_epoch']} times against "
               f"{large['updates_per_epoch']} (measured here: "
               f"{fmt(small['seconds_per_epoch'])} s of CPU against "
               f"{fmt(large['seconds_per_epoch'])} s); the per-update loss jitters by "
               f"{fmt(small['update_noise'])} against {fmt(large['update_noise'])}. After "
               f"{epochs} epochs the losses are " + ", ".join(
                   f"{fmt(r['loss_last'])} (batch {r['batch_size']})" for r in runs.values())
               + ".")
    return make_result(sys.modules[__name__], quick=quick, seed=seed, seconds=sw.seconds,
                       columns=["batch size", "updates/epoch", "values written/epoch",
                                "CPU s/epoch (measured)", "loss epoch 1",
                                "loss last epoch", "best val loss", "best val epoch",
                                "val accuracy", "per-update noise"],
                       rows=rows, data={"runs": runs, "epochs": epochs}, checks=checks,
                       verdict=verdict)


def plot(result, out_dir) -> list:
    """``batch_epochs.png``: the per-update loss (first epochs), the validation loss per epoch
    and the updates per epoch (their measured CPU time written on each bar), for each batch
    size."""
    plt = pyplot()
    runs = result["data"]["runs"]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.2))
    for key, r in runs.items():
        pu = np.asarray(r["per_update_loss"])
        x = np.arange(1, len(pu) + 1) / r["updates_per_epoch"]
        axes[0].plot(x, pu, lw=0.8, label=f"batch {r['batch_size']}")
        axes[1].plot(range(1, len(r["val_loss"]) + 1), r["val_loss"], marker="o", ms=3,
                     label=f"batch {r['batch_size']}")
    axes[0].set_yscale("log")
    axes[0].set_xlabel("epoch (each point: one weight update)")
    axes[0].set_ylabel("batch loss")
    axes[0].set_title("Loss at every update")
    axes[1].set_yscale("log")
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("validation loss")
    axes[1].set_title("Validation loss per epoch")
    for ax in axes[:2]:
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    sizes = [str(r["batch_size"]) for r in runs.values()]
    bars = axes[2].bar(sizes, [r["updates_per_epoch"] for r in runs.values()])
    for bar, r in zip(bars, runs.values()):
        axes[2].annotate(f"{r['seconds_per_epoch'] * 1000:.0f} ms CPU",
                         (bar.get_x() + bar.get_width() / 2, bar.get_height()),
                         ha="center", va="bottom", fontsize=8)
    axes[2].set_yscale("log")
    axes[2].set_xlabel("batch size")
    axes[2].set_ylabel("weight updates per epoch")
    axes[2].set_title("Cost of an epoch (updates; measured CPU time)")
    fig.tight_layout()
    return [save(fig, out_dir, "batch_epochs.png")]
