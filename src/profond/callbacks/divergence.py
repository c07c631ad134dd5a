"""The divergence guard: the deck's recipe for models that will not converge, built in.

    "To force convergence, start training on a small part of the data (or one epoch), and
    re-create the model if it diverges."

``fit(..., divergence_guard=True)`` does exactly that, and keeps guarding the full run:

1. **Probe.** Before the first epoch, train a copy of the run on a small random part of the
   training data (``probe_fraction``, at least a few batches) for ``probe_epochs`` epochs.
2. **Detect.** A probe (or an epoch of the full run) diverges when the loss or a weight
   becomes NaN or infinite, when the loss climbs above ``loss_factor`` times its starting
   value, or when the global gradient norm grows above ``grad_factor`` times its starting
   value (or becomes non-finite).
3. **Learn.** Not diverging is not enough: a learning rate too large often leaves the loss
   finite but jumping about, or the network dead at chance. A probe *learns* when the loss on
   its own samples (the whole probe subset, measured without training, before the probe and
   after each of its epochs) falls at every epoch, and ends at least ``min_improvement``
   (default 5 %) below where it started. On digits with SGD and momentum 0.9, a learning
   rate of 0.5 lowers that loss in its first epoch and sends it far above its start in the
   second (the full run then ends at chance); 0.05 lowers it at both, to a tenth.
4. **Re-create.** A probe that does not learn re-creates the model's weights with a new seed
   (each layer re-initialised from its own config), multiplies the learning rate by
   ``retry_lr_factor`` and probes again, up to ``max_retries`` times. The first probe that
   learns is undone: the full run starts from the weights, optimizer state and random stream
   that attempt started from, so a guarded run whose first probe learns is identical to an
   unguarded one. When no probe learns, the guard gives up: if every probe diverged,
   :class:`DivergenceError` says what was tried; otherwise it warns (``warnings.warn``, and
   the log) and the full run starts from the attempt whose probe lowered its loss most.
5. **Roll back.** During the full run, an epoch that diverges is undone: the weights and the
   optimizer state go back to the end of the last good epoch, the learning rate is multiplied
   by ``rollback_lr_factor``, and training goes on (at most ``max_rollbacks`` times; then the
   guard gives up with a warning and stops on the best weights it saw). The best weights seen
   are kept in ``best_weights``.

Every probe attempt and every rollback is logged in ``history.events``.

Defaults are chosen to be turned on blindly: a run that trains normally is never touched (its
loss never goes 10 times above where it started, its gradient norm never 1000 times above).
"""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np

from profond import backend
from profond import random as prandom
from profond._validation import check_float, check_int
from profond.callbacks.base import Callback

__all__ = ["DivergenceGuard", "DivergenceError", "attach_guard", "recreate_weights"]


class DivergenceError(RuntimeError):
    """Every probe of the divergence guard diverged."""


def _learns(curve, min_improvement) -> bool:
    """Whether a probe's subset losses (before, then after each epoch) fell at every epoch and
    by ``min_improvement`` of the start in all."""
    if not all(math.isfinite(v) for v in curve):
        return False
    first, last = curve[0], curve[-1]
    if first == 0:
        return last == 0
    falls = all(b < a for a, b in zip(curve, curve[1:]))
    return falls and last <= first - min_improvement * abs(first)


def _curve_text(curve) -> str:
    return " -> ".join(f"{v:.4g}" for v in curve)


def _own_weights(layer):
    """The weights ``layer`` holds itself, not through a sub-layer, in ``weights`` order."""
    nested = {id(v) for sub in layer.layers for v in sub.weights}
    return [v for v in layer.weights if id(v) not in nested]


def recreate_weights(model, seed: int) -> None:
    """Re-initialise every weight of ``model`` as a fresh model would be, drawing with ``seed``.

    Each layer that owns weights is re-created from its config (``type(layer).from_config(
    layer.get_config())``) and built as it was (``build_from_config(layer.get_build_config())``);
    its fresh weights are copied into the existing variables, so optimizers and callbacks
    holding them keep working.

    Raises
    ------
    RuntimeError
        When a layer cannot be re-created from its config.
    """
    with prandom.seeded(seed):
        for layer in model.flatten_layers():
            own = _own_weights(layer)
            if not own:
                continue
            try:
                build_config = layer.get_build_config()
                if build_config is None:
                    raise ValueError("it was built without being called, so its input shape "
                                     "is unknown")
                fresh = type(layer).from_config(layer.get_config())
                fresh.build_from_config(build_config)
            except Exception as err:
                raise RuntimeError(f"The divergence guard cannot re-create layer "
                                   f"'{layer.name}' ({type(layer).__name__}) from its config "
                                   f"({type(err).__name__}: {err}). Give it a get_config() "
                                   "that its __init__ accepts.") from err
            new = _own_weights(fresh)
            if [tuple(v.shape) for v in new] != [tuple(v.shape) for v in own]:
                raise RuntimeError(f"The divergence guard re-created layer '{layer.name}' with "
                                   "different weight shapes; it cannot re-initialise it.")
            for var, value in zip(own, new):
                var.assign(value.numpy())


def _finite(value) -> bool:
    return value is not None and math.isfinite(float(value))


def _weights_finite(model) -> bool:
    for v in model.weights:
        xp = backend.get_array_module(v.data)
        if not bool(xp.isfinite(v.data).all()):
            return False
    return True


def _fresh_state(state, lr):
    return {"iterations": 0, "learning_rate": lr,
            "slots": [{k: np.zeros_like(v) for k, v in s.items()} for s in state["slots"]]}


class DivergenceGuard(Callback):
    """Probe, detect divergence, re-create the model or roll back (see the module docstring).

    Parameters
    ----------
    probe_fraction : float in (0, 1], default 0.1
        Part of the training data the probe trains on (at least ``8 * batch_size`` samples,
        when there are that many).
    probe_epochs : int, default 2
        Epochs over that part (two, so that a loss that falls and then climbs back shows).
    min_improvement : float in [0, 1), default 0.05
        A probe learns when the loss on its samples falls at every epoch and ends at least
        this fraction below its start.
    max_retries : int, default 3
        Re-creations of the model after a probe that does not learn, before giving up.
    retry_lr_factor : float in (0, 1], default 0.1
        Learning-rate factor at each re-creation (1.0 re-seeds only).
    loss_factor : float > 1, default 10
        The loss diverges when it climbs above this many times its starting value.
    grad_factor : float > 1, default 1000
        The gradients explode when their global norm exceeds this many times its starting
        value.
    rollback_lr_factor : float in (0, 1], default 0.5
        Learning-rate factor at each rollback of the full run.
    max_rollbacks : int, default 5
        Rollbacks before training stops (on the last good weights).
    monitor : str, default "val_loss"
        The quantity whose best epoch ``best_weights`` keeps (``"loss"`` when absent).
    restore_best_weights : bool, default False
        Put the best weights back at the end of training.
    seed : int, optional
        Seeds the probe's subset and the re-creations (drawn from profond's generator when
        None, so ``profond.random.seed`` makes guarded runs reproducible).
    verbose : int, default 1
        1 prints a line for each failed probe and each rollback.

    Attributes
    ----------
    events : list of dict
        The probe attempts and rollbacks of the last run (also in ``history.events``).
    best_weights : list of ndarray or None
    best : float
        The best value of ``monitor``.
    rollbacks : int

    Examples
    --------
    A learning rate far too large: the guard re-creates the model with a smaller one.

    >>> import numpy as np, profond
    >>> from profond import layers
    >>> profond.random.seed(0)
    >>> x = np.random.default_rng(0).normal(size=(256, 4)).astype("float32")
    >>> y = x @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32")
    >>> model = profond.Sequential([layers.Input((4,)), layers.Dense(16, activation="relu"),
    ...                             layers.Dense(1)])
    >>> model.compile(optimizer=profond.optimizers.SGD(learning_rate=1.0), loss="mse")
    >>> history = model.fit(x, y, epochs=3, verbose=0, divergence_guard={"verbose": 0})
    >>> [e["ok"] for e in history.events if e["kind"] == "probe"][-1]
    True
    >>> bool(np.isfinite(history.history["loss"]).all())
    True
    """

    def __init__(self, probe_fraction=0.1, probe_epochs=2, max_retries=3, retry_lr_factor=0.1,
                 loss_factor=10.0, grad_factor=1e3, rollback_lr_factor=0.5, max_rollbacks=5,
                 monitor="val_loss", restore_best_weights=False, seed=None, verbose=1,
                 min_improvement=0.05):
        super().__init__()
        owner = "DivergenceGuard"
        self.probe_fraction = check_float(probe_fraction, "probe_fraction", owner, low=0,
                                          high=1, low_open=True)
        self.probe_epochs = check_int(probe_epochs, "probe_epochs", owner, low=1)
        self.min_improvement = check_float(min_improvement, "min_improvement", owner, low=0,
                                           high=1, high_open=True)
        self.max_retries = check_int(max_retries, "max_retries", owner, low=0)
        self.retry_lr_factor = check_float(retry_lr_factor, "retry_lr_factor", owner, low=0,
                                           high=1, low_open=True)
        self.loss_factor = check_float(loss_factor, "loss_factor", owner, low=1, low_open=True)
        self.grad_factor = check_float(grad_factor, "grad_factor", owner, low=1, low_open=True)
        self.rollback_lr_factor = check_float(rollback_lr_factor, "rollback_lr_factor", owner,
                                              low=0, high=1, low_open=True)
        self.max_rollbacks = check_int(max_rollbacks, "max_rollbacks", owner, low=0)
        self.monitor = monitor
        self.restore_best_weights = bool(restore_best_weights)
        self.seed = check_int(seed, "seed", owner, low=0, allow_none=True)
        self.verbose = verbose
        self.events: list = []
        self.best_weights = None
        self.best = math.inf
        self.rollbacks = 0
        self._reset_run()

    def _reset_run(self):
        self.reference_loss = None
        self.reference_grad_norm = None
        self._grad_problem = None
        self._good = None

    # --- resumption ------------------------------------------------------------------------
    def get_state(self):
        """The events, best value and weights, rollbacks, the loss and gradient-norm
        references, and the learning rate of the last good epoch (its weights and optimizer
        state are those the checkpoint holds)."""
        good_lr = None if self._good is None else self._good[1].get("learning_rate")
        return {"events": list(self.events), "best": self.best,
                "best_weights": None if self.best_weights is None else list(self.best_weights),
                "rollbacks": self.rollbacks, "reference_loss": self.reference_loss,
                "reference_grad_norm": self.reference_grad_norm,
                "good_learning_rate": good_lr}

    def set_state(self, state):
        self.events = list(state.get("events") or [])
        self.best = float(state["best"])
        weights = state.get("best_weights")
        self.best_weights = None if weights is None else [w.copy() for w in weights]
        self.rollbacks = int(state["rollbacks"])
        self.reference_loss = state.get("reference_loss")
        self.reference_grad_norm = state.get("reference_grad_norm")
        self._grad_problem = None
        weights, opt_state = self._snapshot()
        if state.get("good_learning_rate") is not None:
            opt_state["learning_rate"] = float(state["good_learning_rate"])
        self._good = (weights, opt_state)

    # --- gradient watch --------------------------------------------------------------------
    def on_train_batch_gradients(self, batch, gradients, variables):
        if self._grad_problem is not None:
            return
        total = sum(backend.sum_of_squares(g) for g in gradients if g is not None)
        norm = math.sqrt(total) if math.isfinite(total) else math.inf
        if not math.isfinite(norm):
            self._grad_problem = "the gradient norm is not finite"
        elif self.reference_grad_norm is None:
            self.reference_grad_norm = max(norm, 1e-12)
        elif norm > self.grad_factor * self.reference_grad_norm:
            self._grad_problem = (f"the gradient norm {norm:.3g} exploded to more than "
                                  f"{self.grad_factor:g} times its starting value "
                                  f"{self.reference_grad_norm:.3g}")

    def _log(self, event):
        self.events.append(event)
        history = getattr(self.model, "history", None)
        if history is not None and hasattr(history, "events") and history.events is not \
                self.events:
            history.events.append(event)
        if self.verbose and not event.get("ok", False):
            print(f"DivergenceGuard: {event['message']}", file=sys.stderr)

    def _snapshot(self):
        return self.model.get_weights(), self.model.optimizer.get_state()

    def _restore(self, snapshot):
        weights, state = snapshot
        self.model.set_weights(weights)
        self.model.optimizer.set_state(state, self.model.trainable_weights)

    def _scale_lr(self, base: float, factor: float) -> float | None:
        """Set the learning rate to ``base * factor``; None when it is a schedule (which
        cannot be set to a number: the re-creation or rollback alone must do)."""
        opt = self.model.optimizer
        try:
            opt.learning_rate = base * factor
        except TypeError:
            return None
        return float(opt.learning_rate)

    # --- hooks -----------------------------------------------------------------------------
    def on_train_begin(self, logs=None):
        self.events = []
        self.best_weights = None
        self.best = math.inf
        self.rollbacks = 0
        self._reset_run()
        self._good = self._snapshot()

    def on_train_end(self, logs=None):
        if self.restore_best_weights and self.best_weights is not None:
            self.model.set_weights(self.best_weights)

    def probe(self, data, batch_size: int) -> None:
        """Run the probe (``fit`` calls it before the first epoch).

        Parameters
        ----------
        data : tuple
            ``(x, y, sample_weight)`` as ``fit`` prepared them.
        batch_size : int

        Raises
        ------
        DivergenceError
            When every attempt diverged.
        """
        from profond.training.batching import ArrayBatches, num_samples
        from profond.training.structure import map_structure

        model, opt = self.model, self.model.optimizer
        n = num_samples(*[(f"data[{i}]", d) for i, d in enumerate(data)])
        size = min(n, max(math.ceil(self.probe_fraction * n), 8 * batch_size))
        attempts = []  # (start snapshot, subset losses, problem, reference loss and grad norm)
        with prandom.preserved():
            private = np.random.default_rng(prandom.draw_seed() if self.seed is None
                                            else self.seed)
            idx = np.sort(private.permutation(n)[:size])
            subset = tuple(map_structure(lambda a, idx=idx: a[idx], d) for d in data)
            start = self._snapshot()
            for attempt in range(self.max_retries + 1):
                seed = None
                if attempt:
                    seed = int(private.integers(0, 2**31 - 1))
                    recreate_weights(model, seed)
                    lr = self._scale_lr(float(opt.learning_rate), self.retry_lr_factor)
                    opt.set_state(_fresh_state(start[1], lr), model.trainable_weights)
                begin = self._snapshot()
                problem, losses, curve = self._run_probe(
                    ArrayBatches(subset, batch_size=batch_size, shuffle=True, seed=private),
                    subset, batch_size)
                learned = problem is None and _learns(curve, self.min_improvement)
                lr = float(opt.learning_rate)
                attempts.append((begin, curve, problem, self.reference_loss,
                                 self.reference_grad_norm, lr))
                outcome = ("learned" if learned else f"diverged: {problem}" if problem else
                           f"did not learn: the loss on its samples went {_curve_text(curve)} "
                           f"(it must fall at every epoch, by {self.min_improvement:.0%} in all)")
                message = (f"probe {attempt + 1}/{self.max_retries + 1} (learning rate "
                           f"{lr:.3g}{'' if seed is None else f', new seed {seed}'}) {outcome}")
                self._log({"kind": "probe", "attempt": attempt + 1, "seed": seed,
                           "learning_rate": lr, "ok": learned, "diverged": problem is not None,
                           "reason": problem if problem else None if learned else "no learning",
                           "losses": losses, "subset_losses": curve, "message": message})
                if learned:
                    break
            else:
                self._give_up_probing(attempts, problem, lr)
        begin, _, _, self.reference_loss, self.reference_grad_norm, _ = attempts[-1]
        self._restore(begin)
        self._good = begin

    def _give_up_probing(self, attempts, problem, lr):
        """No probe learned: raise when they all diverged, else keep the attempt whose loss fell
        most (moved last in ``attempts``) and warn."""
        finite = [a for a in attempts if a[2] is None]
        if not finite:
            raise DivergenceError(
                f"Every probe of the divergence guard diverged ({self.max_retries + 1} "
                f"attempts, learning rate down to {lr:.3g}); last: {problem}. Try a much "
                "lower learning rate, inputs scaled to about [-1, 1] (standardise them), an "
                "initialisation suited to the activations (He for ReLU, Glorot for tanh), "
                "or gradient clipping (clipnorm=1.0).")
        best = min(finite, key=lambda a: a[1][-1] / a[1][0] if a[1][0] else a[1][-1])
        attempts.remove(best)
        attempts.append(best)
        message = (f"no probe learned in {len(attempts)} attempts (learning rate down to "
                   f"{lr:.3g}); the run goes on from the attempt at learning rate {best[5]:.3g}, "
                   f"whose loss went {_curve_text(best[1])}. A loss that falls and climbs "
                   "back means a learning rate still too large; one that hardly moves, too "
                   "small (or inputs that need scaling).")
        self._log({"kind": "give_up", "learning_rate": best[5], "ok": False,
                   "reason": "no probe learned", "message": message})
        warnings.warn(f"DivergenceGuard: {message}", UserWarning, stacklevel=4)  # fit's caller

    def _subset_loss(self, subset, batch_size) -> float:
        x, y, sw = subset
        with np.errstate(all="ignore"):
            value = self.model.evaluate(x, y, sample_weight=sw, batch_size=batch_size,
                                        verbose=0, return_dict=True)["loss"]
        return float(value)

    def _run_probe(self, batches, subset, batch_size):
        """``(problem, batch losses, subset losses)``: problem is None unless the probe
        diverged; the subset losses are measured before training and after each epoch."""
        model = self.model
        losses = []
        curve = [self._subset_loss(subset, batch_size)]
        self._grad_problem = None
        self.reference_grad_norm = None
        for _ in range(self.probe_epochs):
            for xb, yb, swb in batches:
                loss, _ = model.train_step(xb, yb, swb)
                value = float(loss.data)
                losses.append(value)
                if not math.isfinite(value):
                    return f"the loss became {value}", losses, curve
                if self._grad_problem is not None:
                    return self._grad_problem, losses, curve
                if len(losses) == 1:
                    self.reference_loss = abs(value)
                elif value > self.loss_factor * max(self.reference_loss, 1e-12):
                    return (f"the loss {value:.4g} climbed above {self.loss_factor:g} times its "
                            f"starting value {self.reference_loss:.4g}"), losses, curve
            curve.append(self._subset_loss(subset, batch_size))
        if not _weights_finite(model):
            return "some weights are not finite", losses, curve
        return None, losses, curve

    def _epoch_problem(self, logs):
        loss = logs.get("loss")
        if loss is not None and not _finite(loss):
            return f"the loss is {loss}"
        val = logs.get("val_loss")
        if val is not None and not _finite(val):
            return f"the validation loss is {val}"
        if self._grad_problem is not None:
            return self._grad_problem
        if loss is not None and self.reference_loss is not None and \
                loss > self.loss_factor * max(self.reference_loss, 1e-12):
            return (f"the loss {loss:.4g} climbed above {self.loss_factor:g} times its "
                    f"starting value {self.reference_loss:.4g}")
        if not _weights_finite(self.model):
            return "some weights are not finite"
        return None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        problem = self._epoch_problem(logs)
        self._grad_problem = None
        if problem is None:
            if self.reference_loss is None and _finite(logs.get("loss")):
                self.reference_loss = abs(float(logs["loss"]))
            self._good = self._snapshot()
            key = self.monitor if self.monitor in logs else "loss"
            value = logs.get(key)
            if _finite(value) and float(value) < self.best:
                self.best = float(value)
                self.best_weights = self._good[0]
            return
        lr_before = float(self.model.optimizer.learning_rate)
        self._restore(self._good)
        self.rollbacks += 1
        if self.rollbacks > self.max_rollbacks:
            self.model.stop_training = True
            if self.best_weights is not None:
                self.model.set_weights(self.best_weights)
            message = (f"epoch {epoch + 1} diverged ({problem}); gave up after "
                       f"{self.max_rollbacks} rollbacks: training stops on the best weights "
                       "seen.")
            lr = float(self.model.optimizer.learning_rate)
            warnings.warn(f"DivergenceGuard: {message}", UserWarning, stacklevel=6)  # fit's caller
        else:
            lr = self._scale_lr(lr_before, self.rollback_lr_factor)
            message = (f"epoch {epoch + 1} diverged ({problem}); rolled back to the last good "
                       f"weights and optimizer state, learning rate "
                       + (f"lowered to {lr:.3g}." if lr is not None
                          else "left to its schedule."))
        self._log({"kind": "rollback", "epoch": epoch, "reason": problem, "learning_rate": lr,
                   "ok": False, "message": message})


def attach_guard(divergence_guard, callbacks: list):
    """Resolve ``fit``'s ``divergence_guard`` argument and put the guard first in
    ``callbacks`` (so it undoes a diverged epoch before any other callback sees it).

    Parameters
    ----------
    divergence_guard : None, bool, dict or DivergenceGuard
        ``True`` for the defaults, a dict of :class:`DivergenceGuard` arguments, or a guard.
    callbacks : list
        ``fit``'s callbacks, modified in place; a guard already there is used.

    Returns
    -------
    DivergenceGuard or None
    """
    present = [cb for cb in callbacks if isinstance(cb, DivergenceGuard)]
    if divergence_guard is None or divergence_guard is False:
        guard = present[0] if present else None
    elif divergence_guard is True:
        guard = present[0] if present else DivergenceGuard()
    elif isinstance(divergence_guard, dict):
        guard = DivergenceGuard(**divergence_guard)
    elif isinstance(divergence_guard, DivergenceGuard):
        guard = divergence_guard
    else:
        raise ValueError("The 'divergence_guard' parameter of fit must be a bool, a dict of "
                         f"DivergenceGuard arguments or a DivergenceGuard. Got "
                         f"{divergence_guard!r} instead.")
    if guard is not None:
        for cb in present:
            callbacks.remove(cb)
        callbacks.insert(0, guard)
    return guard
