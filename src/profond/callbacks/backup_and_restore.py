"""``BackupAndRestore``: a script killed in the middle of ``fit``, run again, continues where
it stopped (Keras's callback, made exact).

At each epoch end the callback writes a full checkpoint to ``backup_dir`` (weights,
optimizer state, random generators, every callback's state: see
:mod:`profond.callbacks.checkpoint`). When ``fit`` starts and finds one, it puts all of it
back into the model being trained and ``fit`` goes on from the epoch after it, so that the
rerun ends exactly where the uninterrupted run would have (same weights, bit for bit). At the
end of training the backup is deleted (``delete_checkpoint=True``), so the next run of the
script starts afresh.
"""

from __future__ import annotations

import os

from profond import distribution
from profond._files import remove_stale_temporaries
from profond._validation import check_choice
from profond.callbacks.checkpoint import CheckpointWriter, read_checkpoint_state, \
    restore_rng_states

__all__ = ["BackupAndRestore"]

BACKUP_NAME = "backup.safetensors"


class BackupAndRestore(CheckpointWriter):
    """Back up the training state at each epoch end; restore it when ``fit`` runs again.

    Parameters
    ----------
    backup_dir : str or path-like
        Folder of the backup (created when needed). Use one folder per training run.
    save_freq : "epoch", default "epoch"
        A backup at the end of every epoch: the points profond resumes a run from (Keras's
        per-batch ``save_freq=int`` is refused: a run cannot resume in the middle of an
        epoch's shuffled batches).
    delete_checkpoint : bool, default True
        Delete the backup when training ends (not when it is interrupted). Keras deletes the
        whole ``backup_dir``; profond deletes its backup file, and the folder if that leaves
        it empty.

    Notes
    -----
    The model given to ``fit`` must be the one that was backed up (same architecture,
    compiled the same way); its weights, optimizer state, random generators and callbacks'
    states are replaced by the backup's. It must be savable with ``model.save`` (built-in or
    registered layers). ``fit`` must be called with the same data and arguments.

    Examples
    --------
    >>> import os, tempfile, numpy as np, profond
    >>> from profond import layers
    >>> from profond.callbacks import BackupAndRestore, Callback
    >>> folder = tempfile.mkdtemp()
    >>> x, y = np.ones((16, 2)), np.ones(16)
    >>> class Crash(Callback):
    ...     def on_epoch_begin(self, epoch, logs=None):
    ...         if epoch == 2:
    ...             raise RuntimeError("killed")
    >>> def script(callbacks):
    ...     profond.random.seed(0)
    ...     model = profond.Sequential([layers.Input((2,)), layers.Dense(1)])
    ...     model.compile(optimizer="sgd", loss="mse")
    ...     return model.fit(x, y, epochs=4, verbose=0,
    ...                      callbacks=[BackupAndRestore(folder)] + callbacks)
    >>> try:
    ...     script([Crash()])
    ... except RuntimeError:
    ...     pass
    >>> script([]).epoch  # the rerun goes on after the last backed-up epoch
    [2, 3]
    >>> os.path.exists(folder)  # the backup (and its emptied folder) is deleted at the end
    False
    """

    def __init__(self, backup_dir, save_freq="epoch", delete_checkpoint=True):
        super().__init__()
        if not isinstance(backup_dir, (str, os.PathLike)) or not os.fspath(backup_dir):
            raise ValueError("The 'backup_dir' parameter of BackupAndRestore must be a "
                             f"non-empty path. Got {backup_dir!r} instead.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = check_choice(save_freq, "save_freq", "BackupAndRestore", ("epoch",))
        self.delete_checkpoint = bool(delete_checkpoint)
        self._restored = None

    @property
    def backup_path(self) -> str:
        """The backup file: ``backup_dir/backup.safetensors``."""
        return os.path.join(self.backup_dir, BACKUP_NAME)

    def on_train_begin(self, logs=None):
        self._restored = None
        if distribution.is_primary():  # the only writer (every rank reads the backup)
            remove_stale_temporaries(self.backup_path)
        if not os.path.exists(self.backup_path):
            return
        from profond.io.model_file import load_model

        state = read_checkpoint_state(self.backup_path)
        saved = load_model(self.backup_path)
        model = self.model
        weights = saved.get_weights()
        shapes = [tuple(w.shape) for w in model.get_weights()]
        if [tuple(w.shape) for w in weights] != shapes:
            raise ValueError(f"The backup {self.backup_path!r} is not of this model: its "
                             f"weights have shapes {[tuple(w.shape) for w in weights]}, the "
                             f"model's {shapes}. Delete it to start afresh.")
        model.set_weights(weights)
        if getattr(saved, "optimizer", None) is not None and saved.optimizer.variables:
            model.optimizer.set_state(saved.optimizer.get_state(), model.trainable_weights)
        self._restored = state

    def take_restored_state(self):
        """The backup's training state, once; its random generators are put back now, after
        every callback's ``on_train_begin``, the last moment before the first epoch."""
        state, self._restored = self._restored, None
        if state is not None:
            restore_rng_states(state.get("rng"), self.model)
        return state

    def on_epoch_end(self, epoch, logs=None):
        self.defer_write(epoch, logs)

    def _write(self, epoch, logs):
        from profond.io.model_file import save_model

        os.makedirs(self.backup_dir, exist_ok=True)
        save_model(self.model, self.backup_path,
                   training_state=self.checkpoint_state(epoch, logs))

    def on_train_end(self, logs=None):
        if not self.delete_checkpoint or not distribution.is_primary():
            return
        if os.path.exists(self.backup_path):
            os.remove(self.backup_path)
        try:
            os.rmdir(self.backup_dir)
        except OSError:  # absent, or holding other files: leave it
            pass
