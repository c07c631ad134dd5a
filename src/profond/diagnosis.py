"""Diagnosis of a training run from its learning curves (the deck's underfitting, balance and
overfitting, plus divergence and runs stopped too early).

The rules, in the order they are tried (epochs are 1-based, as ``fit`` prints them):

1. **diverged** — a loss (training or validation) is NaN or infinite at any epoch (at the
   last one only when a divergence guard rolled the bad epochs back), a loss exploded to more
   than ``explode_factor`` times the run's median loss, or than ``explode_factor`` itself when
   that median is below 1 (a first epoch at 3e27 that then sits at 2.3 is an explosion, not a
   lesson; a first epoch at 1.0 followed by 1e-9 is a lesson), or the training loss gave back more than
   ``diverge_rise`` of the progress it had made (training loss should not climb).
2. **overfitting from epoch k** — the validation loss ended more than ``overfit_rise`` above
   its minimum, reached at epoch k, while the training loss went on falling; or, once the
   validation loss no longer improves, the training accuracy exceeds the validation accuracy
   by more than ``acc_gap_tol`` (when accuracies are logged), or the gap between validation and
   training losses is above ``gap_tol`` times the training loss of the first epoch.
3. **still improving** — over the last ``window`` epochs, the training loss (and the
   validation loss, if any) still fell each epoch by more than ``improve_tol`` of all it had
   fallen since the first epoch: train longer before judging.
4. **underfitting** — the curves have flattened but the model is poor on its own training
   data: train accuracy below ``min_accuracy`` when an accuracy is logged, else a training
   loss still above ``underfit_ratio`` times its starting value (or ``baseline_loss``, the loss
   of a trivial predictor, when given).
5. **balanced** — otherwise: low, flat losses, validation close to training.

Every threshold is an argument of :func:`diagnose` (and of ``history.diagnose``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from profond._validation import check_float, check_int

__all__ = ["diagnose", "Diagnosis"]


@dataclass
class Diagnosis:
    """The verdict on a run.

    Attributes
    ----------
    verdict : str
        One of ``"diverged"``, ``"overfitting"``, ``"still improving"``, ``"underfitting"``,
        ``"balanced"``.
    epoch : int or None
        For overfitting, the (1-based) epoch k of the lowest validation loss: stop there.
    evidence : dict
        The figures the verdict rests on.
    advice : list of str
    reason : str
        One sentence saying why.
    """

    verdict: str
    epoch: int | None
    evidence: dict
    advice: list = field(default_factory=list)
    reason: str = ""
    _history: object = field(default=None, repr=False)

    def __str__(self) -> str:
        head = self.verdict + (f" from epoch {self.epoch}" if self.epoch else "")
        lines = [f"Verdict: {head}. {self.reason}", "Evidence:"]
        for k, v in self.evidence.items():
            lines.append(f"  {k}: {v:.4g}" if isinstance(v, float) else f"  {k}: {v}")
        lines.append("Advice:")
        lines.extend(f"  - {a}" for a in self.advice)
        return "\n".join(lines)

    def plot(self, path=None):
        """The learning curves with the verdict as title and epoch k marked (matplotlib)."""
        from profond.plotting import plot_history, save_figure

        fig = plot_history(self._history, title=f"{self.verdict}"
                           + (f" from epoch {self.epoch}" if self.epoch else ""))
        if self.epoch:
            for ax in fig.axes:
                ax.axvline(self.epoch, color="grey", linestyle="--", linewidth=1)
        if path is not None:
            save_figure(fig, path)
        return fig


def _finite(v) -> bool:
    return v is not None and math.isfinite(float(v))


def _trend(values, window) -> float:
    """Mean decrease per epoch over the last ``window`` epochs, as a fraction of the curve's
    whole fall so far (its first value minus its minimum): 0.1 means the curve still falls
    by a tenth of all it has fallen each epoch; near 0, it has flattened. Measuring against
    the fall rather than the level keeps losses close to zero from looking busy."""
    if len(values) < 2:
        return math.inf
    w = min(window, len(values) - 1)
    fall = values[0] - min(values)
    if fall <= 0:
        return 0.0
    return (values[-1 - w] - values[-1]) / (w * fall)


def _accuracy_key(logs):
    for k in logs:
        if not k.startswith("val_") and ("acc" in k) and "/" not in k:
            return k
    return None


def diagnose(history, window=None, improve_tol=0.02, overfit_rise=0.1, gap_tol=0.25,
             acc_gap_tol=0.1, underfit_ratio=0.5, min_accuracy=0.9, baseline_loss=None,
             diverge_rise=0.5, explode_factor=1e8):
    """Judge a run from its curves.

    Parameters
    ----------
    history : History or dict
        ``fit``'s return value, or its ``.history`` dict (``"loss"`` required).
    window : int, optional
        Epochs over which the trend at the end is measured (a fifth of the run, at least 2).
    improve_tol : float, default 0.02
        Decrease per epoch, as a fraction of the curve's whole fall since the first epoch,
        above which a curve is still improving.
    overfit_rise : float, default 0.1
        Rise of the validation loss above its minimum (relative) that means overfitting.
    gap_tol : float, default 0.25
        Validation-minus-training gap, relative to the first epoch's training loss, that means
        overfitting once the validation loss has stopped improving.
    acc_gap_tol : float, default 0.1
        Training-minus-validation accuracy that means overfitting once the validation loss
        has stopped improving.
    underfit_ratio : float, default 0.5
        A flat training loss above this fraction of its starting value (or of
        ``baseline_loss``) means underfitting.
    min_accuracy : float, default 0.9
        A flat training accuracy below this means underfitting (used when logged).
    baseline_loss : float, optional
        Loss of a trivial predictor (the mean for regression, ``log(n_classes)`` for balanced
        classification), the reference of ``underfit_ratio``.
    diverge_rise : float, default 0.5
        Share of its progress the training loss must give back to count as diverged.
    explode_factor : float, default 1e8
        A loss above this many times the run's median loss (training and validation; a
        median below 1 counts as 1) means it exploded. The median is where the run spends
        most epochs; eight orders of
        magnitude above it is more than a sane first epoch stands (a mean squared error that
        high means errors 10,000 times the typical ones), and far less than an explosion's
        usual 1e20 and beyond.

    Returns
    -------
    Diagnosis

    Examples
    --------
    >>> from profond.diagnosis import diagnose
    >>> curves = {"loss": [1.0, 0.5, 0.3, 0.2, 0.1, 0.05, 0.02, 0.01],
    ...           "val_loss": [1.0, 0.6, 0.45, 0.4, 0.45, 0.55, 0.7, 0.9]}
    >>> d = diagnose(curves)
    >>> d.verdict, d.epoch
    ('overfitting', 4)
    """
    owner = "diagnose"
    improve_tol = check_float(improve_tol, "improve_tol", owner, low=0)
    overfit_rise = check_float(overfit_rise, "overfit_rise", owner, low=0, low_open=True)
    gap_tol = check_float(gap_tol, "gap_tol", owner, low=0, low_open=True)
    acc_gap_tol = check_float(acc_gap_tol, "acc_gap_tol", owner, low=0, low_open=True)
    underfit_ratio = check_float(underfit_ratio, "underfit_ratio", owner, low=0, high=1,
                                 low_open=True)
    min_accuracy = check_float(min_accuracy, "min_accuracy", owner, low=0, high=1)
    baseline_loss = check_float(baseline_loss, "baseline_loss", owner, low=0, low_open=True,
                                allow_none=True)
    diverge_rise = check_float(diverge_rise, "diverge_rise", owner, low=0, low_open=True)
    explode_factor = check_float(explode_factor, "explode_factor", owner, low=1, low_open=True)
    logs = history.history if hasattr(history, "history") else dict(history)
    if not logs.get("loss"):
        raise ValueError("The 'history' parameter of diagnose must hold a 'loss' curve of at "
                         f"least one epoch. Got the curves {sorted(logs)} instead.")
    first_epoch = (getattr(history, "epoch", None) or [0])[0]
    loss = [float(v) for v in logs["loss"]]
    val = [float(v) for v in logs["val_loss"]] if logs.get("val_loss") else None
    n = len(loss)
    window = check_int(window, "window", owner, low=1, allow_none=True) or \
        max(2, math.ceil(n / 5))

    def epoch_no(i):
        return first_epoch + i + 1

    finite = [v for v in loss if _finite(v)]
    ev = {"epochs": n, "first_loss": loss[0], "final_loss": loss[-1]}
    if finite:
        i_min = min(range(n), key=lambda i: loss[i] if _finite(loss[i]) else math.inf)
        ev.update(min_loss=loss[i_min], min_loss_epoch=epoch_no(i_min))
    if val is not None:
        finite_val = [i for i in range(len(val)) if _finite(val[i])]
        if finite_val:
            j = min(finite_val, key=lambda i: val[i])
            ev.update(final_val_loss=val[-1], min_val_loss=val[j], best_val_epoch=epoch_no(j))
    acc_key = _accuracy_key(logs)
    if acc_key:
        ev[f"final_{acc_key}"] = float(logs[acc_key][-1])
        if logs.get(f"val_{acc_key}"):
            ev[f"final_val_{acc_key}"] = float(logs[f"val_{acc_key}"][-1])
    events = [e for e in getattr(history, "events", []) if e.get("kind") == "rollback"]
    if events:
        ev["rollbacks"] = len(events)

    def verdict(name, reason, advice, epoch=None):
        return Diagnosis(name, epoch, ev, advice, reason, history)

    # 1. diverged
    last_bad = not _finite(loss[-1]) or (val is not None and not _finite(val[-1]))
    # A guard's rollbacks undo the bad epochs that the curves still show.
    curves = [] if events else [loss] + ([val] if val is not None else [])
    bad_epoch = next((epoch_no(i) for c in curves for i, v in enumerate(c) if not _finite(v)),
                     None)
    exploded = None
    if finite and not events:
        values = sorted(abs(v) for c in curves for v in c if _finite(v))
        typical = values[len(values) // 2]
        big = max(range(n), key=lambda i: abs(loss[i]) if _finite(loss[i]) else -1.0)
        if abs(loss[big]) > explode_factor * max(typical, 1.0):
            exploded = big
            ev["max_loss"] = loss[big]
    gave_back = False
    if finite and _finite(loss[-1]) and _finite(loss[0]) and loss[0] > ev["min_loss"]:
        progress = loss[0] - ev["min_loss"]
        gave_back = loss[-1] - ev["min_loss"] > diverge_rise * progress
    if last_bad or gave_back or not finite or bad_epoch is not None or exploded is not None:
        if last_bad or not finite:
            reason = "the last loss is not finite."
        elif bad_epoch is not None:
            reason = f"the loss was not finite at epoch {bad_epoch}."
        elif exploded is not None:
            reason = (f"the loss exploded to {loss[exploded]:.3g} at epoch "
                      f"{epoch_no(exploded)}, more than {explode_factor:.0e} times the "
                      f"run's median loss {typical:.4g}.")
        else:
            reason = (f"the training loss climbed back from {ev['min_loss']:.4g} (epoch "
                      f"{ev['min_loss_epoch']}) to {loss[-1]:.4g}, giving back more than "
                      f"{diverge_rise:.0%} of its progress.")
        return verdict("diverged", "The run diverged: " + reason, [
            "Lower the learning rate (by 10x to start with).",
            "Scale the inputs (standardise them) and use an initialisation suited to the "
            "activations (He for ReLU, Glorot for tanh/sigmoid).",
            "Clip gradients (clipnorm=1.0) or turn on fit(..., divergence_guard=True), which "
            "re-creates the model and rolls back diverged epochs."])

    train_trend = _trend(loss, window)
    ev["train_trend"] = train_trend
    # 2. overfitting
    if val is not None and "min_val_loss" in ev:
        val_trend = _trend(val, window)
        ev["val_trend"] = val_trend
        rise = (val[-1] - ev["min_val_loss"]) / max(abs(ev["min_val_loss"]), 1e-12)
        gap = (val[-1] - loss[-1]) / max(abs(loss[0]), 1e-12)
        ev.update(val_rise=rise, generalization_gap=gap)
        k = ev["best_val_epoch"]
        j = k - first_epoch - 1
        train_fell = loss[-1] < loss[j]
        acc_gap = None
        if acc_key and f"final_val_{acc_key}" in ev:
            acc_gap = ev[f"final_{acc_key}"] - ev[f"final_val_{acc_key}"]
            ev["accuracy_gap"] = acc_gap
        flat = val_trend <= improve_tol
        if rise > overfit_rise and train_fell:
            reason = (f"the validation loss was lowest at epoch {k} ({ev['min_val_loss']:.4g}) "
                      f"and ended {rise:.0%} higher ({val[-1]:.4g}) while the training loss "
                      f"kept falling to {loss[-1]:.4g}.")
        elif flat and acc_gap is not None and acc_gap > acc_gap_tol:
            reason = (f"the validation loss no longer improves and the training {acc_key} "
                      f"({ev[f'final_{acc_key}']:.3g}) is {acc_gap:.3g} above the validation "
                      f"one ({ev[f'final_val_{acc_key}']:.3g}).")
        elif flat and gap > gap_tol:
            reason = (f"the validation loss ({val[-1]:.4g}) has stopped improving far above "
                      f"the training loss ({loss[-1]:.4g}).")
        else:
            reason = None
        if reason is not None:
            return verdict("overfitting", "The model learns its training set by heart: "
                           + reason, [
                               f"Stop at epoch {k}: EarlyStopping(monitor='val_loss', "
                               "patience=..., restore_best_weights=True).",
                               "More training data (or data augmentation).",
                               "Regularise: Dropout layers, L2 weight penalties "
                               "(kernel_regularizer=L2(1e-4)).",
                               "A smaller model (fewer units or layers)."], epoch=k)
    else:
        val_trend = None
    # 3. still improving
    improving = train_trend > improve_tol and (val_trend is None or val_trend > improve_tol)
    if improving:
        return verdict("still improving", f"Over the last {min(window, n - 1)} epochs the "
                       f"loss still fell by {train_trend:.1%} of its whole fall each epoch: "
                       "the run stopped before its curves flattened.", [
                           "Train for more epochs (with EarlyStopping to stop at the right "
                           "time), then diagnose again.",
                           "If it is slow, a larger learning rate or an adaptive optimizer "
                           "(Adam) gets there sooner."])
    # 4. underfitting
    if acc_key:
        acc = ev[f"final_{acc_key}"]
        under = acc < min_accuracy
        why = (f"its training {acc_key} is only {acc:.3g} (below {min_accuracy:g}) and no "
               "longer improves.")
    else:
        reference = baseline_loss if baseline_loss is not None else loss[0]
        ratio = loss[-1] / max(abs(reference), 1e-12)
        ev["final_to_reference_loss"] = ratio
        under = ratio > underfit_ratio
        why = (f"its training loss flattened at {loss[-1]:.4g}, still {ratio:.0%} of "
               f"{'the baseline' if baseline_loss is not None else 'its starting value'} "
               f"{reference:.4g}.")
    if under:
        return verdict("underfitting", "The model is too weak for its own training data: "
                       + why, [
                           "More capacity: more units per layer, or more layers.",
                           "Train longer, or with a better-tuned learning rate/optimizer.",
                           "Less regularisation (lower dropout or L2), better-scaled inputs "
                           "or more informative features."])
    # 5. balanced
    return verdict("balanced", "Training and validation losses are low, flat and close: the "
                   "model fits without memorising." if val is not None else
                   "The training loss is low and flat (no validation curve: overfitting cannot "
                   "be judged; pass validation_split or validation_data).", [
                       "Keep this setting; evaluate once on the held-out test set.",
                       "For more, try a slightly larger model with regularisation, or more "
                       "data."])
