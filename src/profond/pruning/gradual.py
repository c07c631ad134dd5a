"""Gradual structured pruning during ``fit``: remove units, fine-tune, repeat.

Removing half of a layer's units at once costs accuracy that fine-tuning must win back;
removing them a few at a time, with training in between, lets the remaining units take over
the work of the removed ones as it goes (Zhu & Gupta, 2017; Han et al., 2015, "Learning both
weights and connections"). :class:`NeuronPruning` does this inside ``fit``: at the end of
chosen epochs it removes the lowest-scoring units (:func:`~profond.pruning.prune_neurons`),
swaps the smaller layers into the model being trained, and slices the optimizer's state
(momentum, Adam's moments) the same way, so training continues on a model that is smaller,
and faster to train, after each step.
"""

from __future__ import annotations

from profond._validation import check_float, check_int
from profond.callbacks.base import Callback
from profond.pruning.structured import _apply_ops, _prune, _units, prunable_layers

__all__ = ["NeuronPruning", "adopt_layers"]


def adopt_layers(model, new, ops=None) -> None:
    """Make ``model`` (a Sequential) use ``new``'s layers, in place, during training.

    The optimizer's per-weight state is sliced by ``ops`` (from structured pruning) so that
    momentum and moments of the kept units carry over; ``iterations`` is kept.
    """
    opt = getattr(model, "optimizer", None)
    state = slots_by_path = None
    if opt is not None and opt.variables:
        state = opt.get_state()
        slots_by_path = {v.path: s for v, s in zip(opt.variables, state["slots"])}
    model.replace_layers(new.layers)
    if state is None:
        return
    new_vars = model.trainable_weights
    opt.reset()
    opt.build(new_vars)
    fresh = opt.get_state()["slots"]
    slots = []
    for var, empty in zip(new_vars, fresh):
        old = slots_by_path.get(var.path)
        layer, weight = var.path.rsplit("/", 1)
        seq = (ops or {}).get(layer, {}).get(weight, ())
        if old is None or set(old) != set(empty):
            slots.append(empty)
        else:
            slots.append({k: _apply_ops(a, seq, adds=False) for k, a in old.items()})
    opt.set_state({"iterations": state["iterations"], "learning_rate": state["learning_rate"],
                   "slots": slots}, new_vars)


class NeuronPruning(Callback):
    """Remove units gradually while training: prune, fine-tune, repeat (structured).

    At the end of epochs ``start_epoch``, ``start_epoch + frequency``, ... (``steps`` times),
    each pruned layer loses units so that after step ``i`` it has lost
    ``round(final_amount * units * i / steps)`` of its original units, those scoring lowest
    under ``criterion``. The model being trained is changed in place (its layers are replaced
    by smaller ones) and keeps training; its optimizer state is sliced to match.

    Parameters
    ----------
    final_amount : float in [0, 1), default 0.5
        Fraction of each layer's units removed in the end.
    steps : int, default 3
        Number of pruning steps.
    start_epoch : int, default 0
        Epoch (0-based) at whose end the first step happens.
    frequency : int, default 1
        Epochs between steps (the fine-tuning in between).
    criterion : str or callable, default "l2"
        As in :func:`~profond.pruning.prune_neurons`.
    layers : list of str, optional
        Layers to prune (default: every prunable layer).
    verbose : int, default 0
        1: print one line per step.

    Attributes
    ----------
    events : list of dict
        One per step: ``{"epoch", "units": {layer: units}, "params"}``.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import layers
    >>> from profond.pruning import NeuronPruning
    >>> model = profond.Sequential([layers.Input((8,)),
    ...                             layers.Dense(32, activation="relu", name="hidden"),
    ...                             layers.Dense(1, name="out")])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> x = np.random.default_rng(0).normal(size=(64, 8))
    >>> pruner = NeuronPruning(final_amount=0.5, steps=2)
    >>> _ = model.fit(x, x.sum(axis=1), epochs=3, verbose=0, callbacks=[pruner])
    >>> [e["units"]["hidden"] for e in pruner.events], model.layers[0].units
    ([24, 16], 16)
    """

    def __init__(self, final_amount=0.5, steps=3, start_epoch=0, frequency=1, criterion="l2",
                 layers=None, verbose=0):
        super().__init__()
        owner = "NeuronPruning"
        self.final_amount = check_float(final_amount, "final_amount", owner, low=0, high=1,
                                        high_open=True)
        self.steps = check_int(steps, "steps", owner, low=1)
        self.start_epoch = check_int(start_epoch, "start_epoch", owner, low=0)
        self.frequency = check_int(frequency, "frequency", owner, low=1)
        self.criterion = criterion
        self.layers = [layers] if isinstance(layers, str) else layers
        self.verbose = int(verbose)
        self.events: list = []
        self._original = None
        self._done = 0

    def on_train_begin(self, logs=None):
        if self._original is None:
            names = list(self.layers) if self.layers is not None else \
                prunable_layers(self.model)
            by_name = {layer.name: layer for layer in self.model.layers}
            self._original = {n: _units(by_name[n]) for n in names if n in by_name}

    def get_state(self):
        """The steps done, the original unit counts and the events (the pruned layers
        themselves are in the checkpoint's model)."""
        return {"done": self._done, "original": self._original, "events": list(self.events)}

    def set_state(self, state):
        self._done = int(state["done"])
        self._original = None if state.get("original") is None else \
            {k: int(v) for k, v in state["original"].items()}
        self.events = list(state.get("events") or [])

    def on_epoch_end(self, epoch, logs=None):
        if self._done >= self.steps or epoch < self.start_epoch or \
                (epoch - self.start_epoch) % self.frequency:
            return
        self._done += 1
        by_name = {layer.name: layer for layer in self.model.layers}
        amounts = {}
        for name, units in self._original.items():
            target = units - round(self.final_amount * units * self._done / self.steps)
            amounts[name] = max(_units(by_name[name]) - max(target, 1), 0)
        if any(amounts.values()):
            new, _, ops = _prune(self.model, None, amounts, self.criterion, list(amounts),
                                 fold_bias=True)
            adopt_layers(self.model, new, ops)
        units = {layer.name: _units(layer) for layer in self.model.layers
                 if layer.name in self._original}
        event = {"epoch": epoch, "units": units, "params": self.model.count_params()}
        self.events.append(event)
        if self.verbose:
            shown = ", ".join(f"{n} {self._original[n]}->{u}" for n, u in units.items())
            print(f"NeuronPruning: epoch {epoch + 1}: {shown} ({event['params']:,} parameters)")
