"""Plots with matplotlib (an optional dependency: ``pip install 'profond[plot]'``)."""

from __future__ import annotations

import os

import numpy as np

from profond._files import atomic_path

__all__ = ["plot_history", "plot_schedule", "save_figure"]


def _pyplot():
    try:
        import matplotlib

        if os.environ.get("MPLBACKEND") is None:
            matplotlib.use("Agg", force=False)
        import matplotlib.pyplot as plt
    except ImportError as err:  # pragma: no cover - depends on the install
        raise ImportError("Plotting needs matplotlib: pip install 'profond[plot]'.") from err
    return plt


def save_figure(fig, path) -> None:
    """Save ``fig`` to ``path`` atomically (the format follows the extension)."""
    path = os.fspath(path)
    ext = os.path.splitext(path)[1].lstrip(".") or "png"
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format=ext, dpi=120, bbox_inches="tight")


def plot_history(history, path=None, title=None):
    """Learning curves: one panel per quantity (loss, each metric, learning rate), train
    and validation together; per-layer gradient norms (``"grad_norm/<layer>"`` keys, from
    :class:`~profond.callbacks.GradientHealth`) share one log-scale panel.

    Parameters
    ----------
    history : History or dict
        ``model.fit``'s return value, or its ``.history`` dict.
    path : str, optional
        Where to save the PNG (atomically).

    Returns
    -------
    matplotlib.figure.Figure
    """
    plt = _pyplot()
    logs = history.history if hasattr(history, "history") else dict(history)
    epochs_axis = getattr(history, "epoch", None)
    keys = [k for k in logs if not k.startswith("val_") and "/" not in k]
    grad_keys = [k for k in logs if k.startswith("grad_norm/")]
    n = max(len(keys) + bool(grad_keys), 1)
    fig, axes = plt.subplots(1, n, figsize=(4.2 * n, 3.4), squeeze=False)
    if grad_keys:
        ax = axes[0][-1]
        for key in grad_keys:
            values = logs[key]
            xs = [e + 1 for e in epochs_axis][:len(values)] if epochs_axis else \
                list(range(1, len(values) + 1))
            ax.plot(xs, values, marker="o", ms=3, label=key.split("/", 1)[1])
        ax.set_yscale("log")
        ax.set_title("gradient norm per layer")
        ax.set_xlabel("epoch")
        ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    for ax, key in zip(axes[0], keys):
        xs = [e + 1 for e in epochs_axis] if epochs_axis else list(range(1, len(logs[key]) + 1))
        ax.plot(xs[:len(logs[key])], logs[key], marker="o", ms=3, label="train")
        if f"val_{key}" in logs:
            val = logs[f"val_{key}"]
            ax.plot(xs[:len(val)], val, marker="o", ms=3, label="validation")
            ax.legend()
        ax.set_title(key)
        ax.set_xlabel("epoch")
        if key == "learning_rate" or (key == "loss" and min(logs[key]) > 0
                                      and max(logs[key]) / max(min(logs[key]), 1e-12) > 50):
            ax.set_yscale("log")
        ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    return fig


def plot_schedule(schedule, epochs: int, steps_per_epoch: int = 1, path=None):
    """A learning-rate schedule drawn over a run: the rate of every update, and one marker per
    epoch for the rate that ``fit`` logs (:meth:`~profond.schedules.LearningRateSchedule.preview`).

    Parameters
    ----------
    schedule : LearningRateSchedule
    epochs : int
    steps_per_epoch : int, default 1
        Updates per epoch: ``ceil(n_samples / batch_size)``.
    path : str, optional
        Where to save the figure (atomically); the figure is then closed.

    Returns
    -------
    matplotlib.figure.Figure
    """
    rates = schedule.preview(epochs, steps_per_epoch)  # checks epochs and steps_per_epoch
    plt = _pyplot()
    steps = np.arange(epochs * steps_per_epoch)
    per_step = [schedule.value_at(int(i), steps_per_epoch) for i in steps]
    fig, ax = plt.subplots(figsize=(6, 3.4))
    ax.plot(steps / steps_per_epoch, per_step, lw=1.2, label="per update")
    ax.plot(np.arange(1, epochs + 1), rates, "o", ms=3, label="logged per epoch")
    ax.set_xlabel("epoch")
    ax.set_ylabel("learning rate")
    ax.set_title(repr(schedule), fontsize=8)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
        plt.close(fig)
    return fig
