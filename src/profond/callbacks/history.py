"""``History``: the per-epoch record that ``fit`` returns."""

from __future__ import annotations

from profond import distribution
from profond._files import atomic_write_text
from profond.callbacks.base import Callback

__all__ = ["History"]


class History(Callback):
    """Records every epoch's logs: ``history.history == {"loss": [...], "val_loss": [...]}``.

    Attributes
    ----------
    history : dict[str, list[float]]
    epoch : list[int]
        The epoch indices recorded (they start at ``initial_epoch``).
    events : list[dict]
        What happened besides the epochs: each probe attempt and rollback of the divergence
        guard (``{"kind": "probe" | "rollback", "message": ..., ...}``).
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []
        self.events: list[dict] = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}
        self.events = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def to_csv(self, path) -> None:
        """Write the history as CSV (one row per epoch), atomically (on rank 0 alone when
        several MPI processes run: see :func:`profond.distribution.is_primary`)."""
        if not distribution.is_primary():
            return
        keys = list(self.history)
        lines = [",".join(["epoch"] + keys)]
        for i, e in enumerate(self.epoch):
            lines.append(",".join([str(e)] + [repr(float(self.history[k][i]))
                                              if i < len(self.history[k]) else ""
                                              for k in keys]))
        atomic_write_text(path, "\n".join(lines) + "\n")

    def plot(self, path=None, title=None):
        """Plot loss and metrics, train vs validation, and the learning rate (matplotlib);
        save to ``path`` if given.

        Returns the matplotlib ``Figure``.
        """
        from profond.plotting import plot_history

        # Under mpiexec, rank 0 alone saves the file (every rank gets the figure).
        return plot_history(self, path=path if distribution.is_primary() else None,
                            title=title)

    def diagnose(self, **thresholds):
        """Read the learning curves: underfitting, overfitting from epoch k, balanced,
        diverged or still improving, with the figures behind the verdict and advice.

        Parameters
        ----------
        **thresholds
            Overrides of :func:`profond.diagnosis.diagnose`'s thresholds.

        Returns
        -------
        profond.diagnosis.Diagnosis
        """
        from profond.diagnosis import diagnose

        return diagnose(self, **thresholds)
