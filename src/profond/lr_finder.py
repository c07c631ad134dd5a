"""The learning-rate range test (Smith, 2017): find a good learning rate before training.

Train for a few hundred batches while the rate grows exponentially from tiny to huge, and
record the loss. At first the rate is too small to change anything and the loss stays flat;
then it falls, fastest around a good rate; then the rate is too large and the loss explodes.
A rate where the smoothed loss falls fastest is a good starting point (the deck's lesson:
large rates learn fast but may settle badly, small ones are slow or get stuck).

The test changes nothing: the model's weights, the optimizer's state and learning rate, and
profond's random generator are restored afterwards, so ``fit`` then runs exactly as if the
test had not been made.

References
----------
L. N. Smith, "Cyclical Learning Rates for Training Neural Networks", WACV 2017 (section 3.3,
the range test); the exponential sweep and the smoothed loss follow the form the fast.ai course
made common.

Examples
--------
>>> import numpy as np, profond
>>> from profond import layers
>>> rng = np.random.default_rng(0)
>>> x = rng.normal(size=(256, 4)); y = x @ np.array([1.0, -2.0, 0.5, 3.0])
>>> model = profond.Sequential([layers.Dense(16, activation="relu"), layers.Dense(1)])
>>> model.compile(optimizer="sgd", loss="mse")
>>> result = profond.find_learning_rate(model, x, y, num_steps=100)
>>> bool(1e-5 < result.suggested_learning_rate < 1.0)
True
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from profond import random as prandom
from profond._validation import check_float, check_int
from profond.training.data_adapter import fit_data

__all__ = ["find_learning_rate", "LRFinderResult"]


@dataclass
class LRFinderResult:
    """The curve of a learning-rate range test.

    Attributes
    ----------
    learning_rates : ndarray, shape (n_steps,)
        The rate of each update, increasing exponentially.
    losses : ndarray, shape (n_steps,)
        The training loss of each batch (before its update).
    smoothed_losses : ndarray, shape (n_steps,)
        Bias-corrected exponential moving average of ``losses``.
    suggested_learning_rate : float or None
        Where the smoothed loss falls fastest against ``log(rate)``, before its minimum (None
        when the curve is too short to tell).
    min_loss_learning_rate : float
        The rate at the lowest smoothed loss; a tenth of it is another common choice.
    diverged : bool
        Whether the test stopped early because the loss exploded.
    """

    learning_rates: np.ndarray
    losses: np.ndarray
    smoothed_losses: np.ndarray
    suggested_learning_rate: float | None
    min_loss_learning_rate: float
    diverged: bool
    skip_start: int = field(default=10, repr=False)

    def plot(self, path=None, ax=None):
        """Loss against learning rate (log scale), the suggestion marked.

        Parameters
        ----------
        path : str, optional
            Save the figure there (atomically; format from the extension).
        ax : matplotlib Axes, optional
            Draw into it instead of a new figure.

        Returns
        -------
        matplotlib.figure.Figure
        """
        from profond.plotting import _pyplot, save_figure

        plt = _pyplot()
        if ax is None:
            fig, ax = plt.subplots(figsize=(6, 3.8))
        else:
            fig = ax.figure
        ax.plot(self.learning_rates, self.losses, color="0.75", lw=0.8, label="loss")
        ax.plot(self.learning_rates, self.smoothed_losses, lw=1.6, label="smoothed loss")
        if self.suggested_learning_rate is not None:
            i = int(np.argmin(np.abs(self.learning_rates - self.suggested_learning_rate)))
            ax.plot([self.suggested_learning_rate], [self.smoothed_losses[i]], "o", color="red",
                    label=f"suggested {self.suggested_learning_rate:.2e}")
        ax.set_xscale("log")
        # Plain-text tick labels: the default "10^k" ones go through mathtext, which is slow.
        from matplotlib.ticker import FuncFormatter, NullFormatter

        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:.0e}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        finite = self.smoothed_losses[np.isfinite(self.smoothed_losses)]
        if finite.size:  # keep the explosion from flattening the interesting part
            low, high = finite.min(), finite[: max(self.skip_start, 1)].max()
            ax.set_ylim(low - 0.05 * (high - low + 1e-12), high + 0.25 * (high - low + 1e-12))
        ax.set_xlabel("learning rate")
        ax.set_ylabel("loss")
        ax.set_title("Learning-rate range test" + (" (stopped: loss exploded)"
                                                   if self.diverged else ""))
        ax.grid(alpha=0.3)
        ax.legend()
        fig.tight_layout()
        if path is not None:
            save_figure(fig, path)
        return fig


def _suggest(lrs, smoothed, skip_start, skip_end):
    """The rate where the smoothed loss falls fastest against log10(rate), before its minimum.

    The slope is a central difference over a window of about a twentieth of the sweep: a
    one-step difference would measure the batch-to-batch noise, not the descent. Returns None
    when the curve is too short.
    """
    end = min(len(lrs) - skip_end, int(np.argmin(smoothed)) + 1)
    if end - skip_start < 3:
        return None
    log_lr = np.log10(lrs)
    w = max(1, len(lrs) // 20)
    idx = np.arange(skip_start, end)
    lo, hi = np.maximum(idx - w, 0), np.minimum(idx + w, len(lrs) - 1)
    slope = (smoothed[hi] - smoothed[lo]) / (log_lr[hi] - log_lr[lo])
    return float(lrs[idx[int(np.argmin(slope))]])


def find_learning_rate(model, x, y, *, batch_size=32, start_lr=1e-7, end_lr=10.0,
                       num_steps=200, smoothing=0.98, divergence_threshold=4.0,
                       sample_weight=None, shuffle=True, skip_start=10, skip_end=5):
    """Run the learning-rate range test on a compiled model and restore it afterwards.

    The rate of update ``i`` is ``start_lr * (end_lr / start_lr) ** (i / (num_steps - 1))``.
    The batches cycle through ``(x, y)`` (reshuffled at each pass) for as long as needed. The
    test stops early when the smoothed loss exceeds ``divergence_threshold`` times its minimum,
    or when the loss is not finite.

    Parameters
    ----------
    model : Model
        Compiled (its optimizer is the one tested).
    x, y : array-like
        Training data, as for ``fit``.
    batch_size : int, default 32
    start_lr, end_lr : float, default 1e-7 and 10.0
    num_steps : int, default 200
        Updates over the whole sweep (Smith: a few hundred).
    smoothing : float in [0, 1), default 0.98
        Factor of the exponential moving average of the loss.
    divergence_threshold : float > 1, default 4.0
    sample_weight : array-like, shape (n_samples,), optional
    shuffle : bool, default True
    skip_start, skip_end : int, default 10 and 5
        Points left out at both ends when looking for the steepest descent.

    Returns
    -------
    LRFinderResult
        The curve, ``suggested_learning_rate`` and ``plot(path)``.
    """
    owner = "find_learning_rate"
    model._check_compiled("running a learning-rate range test on it")
    batch_size = check_int(batch_size, "batch_size", owner, low=1)
    start_lr = check_float(start_lr, "start_lr", owner, low=0, low_open=True)
    end_lr = check_float(end_lr, "end_lr", owner, low=start_lr, low_open=True)
    num_steps = check_int(num_steps, "num_steps", owner, low=2)
    smoothing = check_float(smoothing, "smoothing", owner, low=0, high=1, high_open=True)
    divergence_threshold = check_float(divergence_threshold, "divergence_threshold", owner,
                                       low=1, low_open=True)
    skip_start = check_int(skip_start, "skip_start", owner, low=0)
    skip_end = check_int(skip_end, "skip_end", owner, low=0)
    if y is None:
        raise ValueError("The 'y' parameter of find_learning_rate must be the targets. "
                         "Got None instead.")

    batches = fit_data(x, y, sample_weight, batch_size=batch_size, shuffle=shuffle).batches
    model._ensure_built(batches.first()[0])
    model._cache_step_state()
    opt = model.optimizer

    saved_weights = model.get_weights()
    saved_opt = (opt._learning_rate, opt.get_state(), opt.variables, opt._last_learning_rate,
                 opt.steps_per_epoch)
    rate = [start_lr]
    ratio = end_lr / start_lr
    lrs, losses, smoothed = [], [], []
    avg, best, diverged = 0.0, math.inf, False
    with prandom.preserved():
        try:
            opt.learning_rate = lambda: rate[0]
            step = 0
            while step < num_steps and not diverged:
                for xb, yb, swb in batches:
                    rate[0] = start_lr * ratio ** (step / (num_steps - 1))
                    loss, _ = model.train_step(xb, yb, swb)
                    value = float(loss.data)
                    lrs.append(rate[0])
                    losses.append(value)
                    avg = smoothing * avg + (1.0 - smoothing) * value
                    smooth = avg / (1.0 - smoothing ** (step + 1))
                    smoothed.append(smooth)
                    step += 1
                    if not math.isfinite(smooth) or (step > 1 and smooth > divergence_threshold
                                                     * best):
                        diverged = True
                        break
                    best = min(best, smooth)
                    if step >= num_steps:
                        break
        finally:
            model.set_weights(saved_weights)
            lr_object, state, variables, last_lr, spe = saved_opt
            opt.learning_rate = lr_object
            opt.reset()
            if variables:
                opt.set_state(state, variables)
            opt.iterations = state["iterations"]
            opt._last_learning_rate = last_lr
            opt.steps_per_epoch = spe

    lrs, losses, smoothed = np.array(lrs), np.array(losses), np.array(smoothed)
    finite = np.where(np.isfinite(smoothed), smoothed, np.inf)
    # Leave out the points after the explosion when suggesting.
    tail = skip_end if not diverged else max(skip_end, 1)
    return LRFinderResult(learning_rates=lrs, losses=losses, smoothed_losses=smoothed,
                          suggested_learning_rate=_suggest(lrs, finite, skip_start, tail),
                          min_loss_learning_rate=float(lrs[int(np.argmin(finite))]),
                          diverged=diverged, skip_start=skip_start)
