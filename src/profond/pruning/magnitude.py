"""Unstructured magnitude pruning: zero the smallest weights during training, keep them zero.

``prune_low_magnitude(model, sparsity)`` gives every kernel of the model (every weight array of
two or more axes: Dense, convolution and recurrent kernels, not biases nor normalisation
vectors) a binary mask. The :class:`PruningCallback` passed to ``fit`` follows a sparsity
schedule of the training step: at each pruning step it recomputes every mask so that the
fraction of zeros in each kernel equals the scheduled sparsity, zeroing the weights of
smallest magnitude. Between pruning steps the mask is the kernel's constraint, applied by the
optimizer after each update, so pruned weights stay exactly zero through further training
(whatever the optimizer's momentum). ``strip_pruning(model)`` removes the masks and leaves a
plain model with zeros in its kernels.

Masking keeps every matrix at full size: the file is as large and ``predict`` as slow as
before. To make a model smaller and faster, remove whole units with
:func:`~profond.pruning.prune_neurons`.

Reference: Zhu & Gupta, "To prune, or not to prune: exploring the efficacy of pruning for model
compression" (2017), for the polynomial schedule; TensorFlow Model Optimization's
``prune_low_magnitude`` for the API.
"""

from __future__ import annotations

from profond import backend
from profond._validation import check_choice, check_float, check_int
from profond.callbacks.base import Callback

__all__ = ["PruningSchedule", "ConstantSparsity", "PolynomialSparsity", "prune_low_magnitude",
           "strip_pruning", "PruningCallback", "UpdatePruningStep", "get_sparsity",
           "prunable_weights"]


# --- schedules ------------------------------------------------------------------------------
class PruningSchedule:
    """A sparsity schedule: a pure function of the training step.

    ``schedule(step)`` returns the sparsity to prune to at ``step``, or None when the masks are
    left as they are at that step.
    """

    def __init__(self, begin_step=0, end_step=None, frequency=100):
        owner = type(self).__name__
        self.begin_step = check_int(begin_step, "begin_step", owner, low=0)
        self.end_step = check_int(end_step, "end_step", owner, low=self.begin_step,
                                  allow_none=True)
        self.frequency = check_int(frequency, "frequency", owner, low=1)

    def sparsity_at(self, step: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def __call__(self, step: int, end_step=None):
        """The sparsity to prune to at ``step`` (None: no pruning at this step).

        ``end_step`` stands for the schedule's own when that is None (``fit``'s last step).
        """
        end = self.end_step if self.end_step is not None else end_step
        if step < self.begin_step or (end is not None and step > end):
            return None
        if (step - self.begin_step) % self.frequency == 0 or step == end:
            return self.sparsity_at(step, end)
        return None

    def get_config(self) -> dict:
        return {"begin_step": self.begin_step, "end_step": self.end_step,
                "frequency": self.frequency}


class ConstantSparsity(PruningSchedule):
    """The same sparsity at every pruning step from ``begin_step``.

    Parameters
    ----------
    target_sparsity : float in [0, 1)
        Fraction of each kernel's weights set to zero.
    begin_step : int, default 0
    end_step : int, optional
        Last step at which masks are updated (default: never stop).
    frequency : int, default 100
        Masks are updated every ``frequency`` steps.

    Examples
    --------
    >>> from profond.pruning import ConstantSparsity
    >>> schedule = ConstantSparsity(0.8, begin_step=10, frequency=5)
    >>> [schedule(step) for step in (0, 10, 12, 15)]
    [None, 0.8, None, 0.8]
    """

    def __init__(self, target_sparsity, begin_step=0, end_step=None, frequency=100):
        super().__init__(begin_step, end_step, frequency)
        self.target_sparsity = check_float(target_sparsity, "target_sparsity",
                                           "ConstantSparsity", low=0, high=1, high_open=True)

    def sparsity_at(self, step, end=None):
        return self.target_sparsity

    def get_config(self):
        return {"target_sparsity": self.target_sparsity, **super().get_config()}


class PolynomialSparsity(PruningSchedule):
    """Sparsity rising from ``initial_sparsity`` to ``final_sparsity`` (Zhu & Gupta, 2017).

    ``s(t) = final + (initial - final) * (1 - (t - begin) / (end - begin)) ** power``: prunes
    fast at first, while there are many redundant weights, and slowly near the end.

    Parameters
    ----------
    initial_sparsity, final_sparsity : float in [0, 1)
    begin_step : int, default 0
    end_step : int, optional
        Step at which ``final_sparsity`` is reached; by default the last step of ``fit``.
    power : float, default 3
    frequency : int, default 100

    Examples
    --------
    >>> from profond.pruning import PolynomialSparsity
    >>> schedule = PolynomialSparsity(0.0, 0.9, begin_step=0, end_step=100, frequency=50)
    >>> [round(schedule(step), 4) for step in (0, 50, 100)]
    [0.0, 0.7875, 0.9]
    """

    def __init__(self, initial_sparsity=0.0, final_sparsity=0.5, begin_step=0, end_step=None,
                 power=3.0, frequency=100):
        super().__init__(begin_step, end_step, frequency)
        self.initial_sparsity = check_float(initial_sparsity, "initial_sparsity",
                                            "PolynomialSparsity", low=0, high=1, high_open=True)
        self.final_sparsity = check_float(final_sparsity, "final_sparsity", "PolynomialSparsity",
                                          low=0, high=1, high_open=True)
        self.power = check_float(power, "power", "PolynomialSparsity", low=0, low_open=True)

    def sparsity_at(self, step, end=None):
        end = self.end_step if self.end_step is not None else end
        if end is None:
            raise ValueError("PolynomialSparsity needs an end_step (or to run inside fit with a "
                             "PruningCallback, which uses fit's last step).")
        span = max(end - self.begin_step, 1)
        progress = min(max((step - self.begin_step) / span, 0.0), 1.0)
        return self.final_sparsity + (self.initial_sparsity - self.final_sparsity) * \
            (1.0 - progress) ** self.power

    def get_config(self):
        return {"initial_sparsity": self.initial_sparsity,
                "final_sparsity": self.final_sparsity, "power": self.power,
                **super().get_config()}


# --- masks ------------------------------------------------------------------------------------
class _MaskConstraint:
    """A weight's constraint while pruning: the layer's own constraint, then the mask."""

    def __init__(self, mask, inner):
        self.mask = mask
        self.inner = inner

    def __call__(self, w):
        if self.inner is not None:
            w = self.inner(w)
        return backend.get_array_module(w).multiply(w, self.mask, out=w)


class _PruningState:
    """What ``prune_low_magnitude`` attaches to a model: the schedule, the step, the masks."""

    def __init__(self, schedule, variables):
        self.schedule = schedule
        self.step = 0
        self.variables = variables
        self.constraints = []
        for v in variables:
            xp = backend.get_array_module(v.data)
            c = _MaskConstraint(xp.ones_like(v.data), v.constraint)
            v.constraint = c
            self.constraints.append(c)

    def update_masks(self, sparsity: float) -> None:
        """Zero the ``round(sparsity * size)`` smallest weights of each kernel, on device."""
        for v, c in zip(self.variables, self.constraints):
            xp = backend.get_array_module(v.data)
            flat = v.data.reshape(-1)
            k = round(sparsity * flat.size)
            mask = xp.ones(flat.size, dtype=v.data.dtype)
            if k > 0:
                smallest = xp.argpartition(xp.abs(flat), k - 1)[:k]
                mask[smallest] = 0
            c.mask = mask.reshape(v.data.shape)
            v.data *= c.mask


def prunable_weights(model) -> list:
    """The variables magnitude pruning masks: trainable weights with two or more axes, except
    biases (Dense, convolution, recurrent kernels, embeddings)."""
    return [v for v in model.trainable_weights if v.data.ndim >= 2 and "bias" not in v.name]


def _make_schedule(sparsity, schedule, begin_step, end_step, frequency, initial_sparsity,
                   power):
    if isinstance(schedule, PruningSchedule):
        if sparsity is not None:
            raise ValueError("The 'sparsity' parameter of prune_low_magnitude must be None when "
                             "'schedule' is a PruningSchedule (which carries its own sparsity). "
                             f"Got {sparsity!r} instead.")
        return schedule
    check_choice(schedule, "schedule", "prune_low_magnitude", ["constant", "polynomial"])
    if sparsity is None:
        raise ValueError("The 'sparsity' parameter of prune_low_magnitude must be a target "
                         "sparsity (fraction of each kernel's weights set to zero, in [0, 1)). "
                         "Got None instead.")
    if schedule == "constant":
        return ConstantSparsity(sparsity, begin_step, end_step, frequency)
    return PolynomialSparsity(initial_sparsity, sparsity, begin_step, end_step, power, frequency)


def prune_low_magnitude(model, sparsity=None, schedule="constant", begin_step=0, end_step=None,
                        frequency=100, initial_sparsity=0.0, power=3.0, layers=None):
    """Prepare ``model`` for magnitude pruning during training (in place).

    Each kernel receives a mask; train with ``fit(..., callbacks=[PruningCallback()])`` so that
    the masks follow the schedule. Pruned weights stay zero through any further training until
    :func:`strip_pruning`.

    Parameters
    ----------
    model : Model
        A built model (any model: Sequential or subclassed).
    sparsity : float in [0, 1)
        Target fraction of zeros in each kernel (the final one for ``"polynomial"``).
    schedule : {"constant", "polynomial"} or PruningSchedule, default "constant"
        ``"constant"``: prune to ``sparsity`` from ``begin_step``, every ``frequency`` steps;
        ``"polynomial"``: rise from ``initial_sparsity`` to ``sparsity`` between ``begin_step``
        and ``end_step`` (default: the end of ``fit``) with the cubic schedule of Zhu & Gupta.
    begin_step, end_step, frequency : int
        Steps (training batches) at which masks are recomputed.
    initial_sparsity, power : float
        For ``"polynomial"``.
    layers : list of str, optional
        Names of the layers whose kernels are pruned (default: all).

    Returns
    -------
    Model
        ``model`` itself, ready to be trained with a :class:`PruningCallback`.

    Examples
    --------
    >>> import numpy as np, profond
    >>> from profond import layers
    >>> from profond.pruning import PruningCallback, get_sparsity, prune_low_magnitude
    >>> model = profond.Sequential([layers.Input((8,)),
    ...                             layers.Dense(16, activation="relu", name="hidden"),
    ...                             layers.Dense(1, name="out")])
    >>> model.compile(optimizer="adam", loss="mse")
    >>> model = prune_low_magnitude(model, sparsity=0.75, frequency=10)
    >>> x = np.random.default_rng(0).normal(size=(64, 8))
    >>> _ = model.fit(x, x.sum(axis=1), epochs=2, verbose=0, callbacks=[PruningCallback()])
    >>> get_sparsity(model)
    {'hidden/kernel': 0.75, 'out/kernel': 0.75}
    """
    if not model.built:
        raise ValueError(f"Model '{model.name}' is not built: build it (model.build(shape), an "
                         "Input layer, or a first call on data) before pruning it.")
    if getattr(model, "_pruning", None) is not None:
        raise ValueError(f"Model '{model.name}' is already prepared for pruning; call "
                         "strip_pruning(model) first to start again.")
    sched = _make_schedule(sparsity, schedule, begin_step, end_step, frequency,
                           initial_sparsity, power)
    variables = prunable_weights(model)
    if layers is not None:
        if isinstance(layers, str):
            layers = [layers]
        owners = {v.path.rsplit("/", 1)[0] for v in variables}
        unknown = sorted(set(layers) - owners)
        if unknown:
            raise ValueError(f"The 'layers' parameter of prune_low_magnitude names {unknown}, "
                             f"which have no prunable kernel. Layers with one: {sorted(owners)}.")
        variables = [v for v in variables if v.path.rsplit("/", 1)[0] in set(layers)]
    if not variables:
        raise ValueError(f"Model '{model.name}' has no kernel to prune (no trainable weight "
                         "with two or more axes).")
    model._pruning = _PruningState(sched, variables)
    return model


def strip_pruning(model):
    """Remove the pruning masks: ``model`` becomes a plain model (in place) and is returned.

    The pruned weights are zero; they may become non-zero again if the model is trained
    further. Layers' own constraints are restored.

    Examples
    --------
    >>> import profond
    >>> from profond import layers
    >>> from profond.pruning import prune_low_magnitude, strip_pruning
    >>> model = profond.Sequential([layers.Input((4,)), layers.Dense(2)])
    >>> model = strip_pruning(prune_low_magnitude(model, sparsity=0.5))
    >>> model.layers[0].kernel.constraint is None
    True
    """
    state = getattr(model, "_pruning", None)
    if state is None:
        raise ValueError(f"Model '{model.name}' is not prepared for pruning: nothing to strip "
                         "(see prune_low_magnitude).")
    for v, c in zip(state.variables, state.constraints):
        v.data *= c.mask
        v.constraint = c.inner
    model._pruning = None
    return model


def get_sparsity(model) -> dict:
    """Fraction of exact zeros in each prunable kernel: ``{"layer/kernel": fraction}``.

    Examples
    --------
    >>> import profond
    >>> from profond import layers
    >>> from profond.pruning import get_sparsity
    >>> get_sparsity(profond.Sequential([layers.Input((4,)), layers.Dense(2, name="d")]))
    {'d/kernel': 0.0}
    """
    out = {}
    for v in prunable_weights(model):
        xp = backend.get_array_module(v.data)
        out[v.path] = round(float(xp.count_nonzero(v.data == 0)) / v.data.size, 6)
    return out


class PruningCallback(Callback):
    """Advance the pruning schedule during ``fit`` (TF-MOT's ``UpdatePruningStep``).

    Before each training batch, recomputes the masks when the schedule says so, and counts the
    step. Needed for a model prepared with :func:`prune_low_magnitude`; the step carries over
    from one ``fit`` to the next.

    Examples
    --------
    See :func:`prune_low_magnitude`.
    """

    def on_train_begin(self, logs=None):
        state = getattr(self.model, "_pruning", None)
        if state is None:
            raise ValueError(f"PruningCallback: model '{self.model.name}' is not prepared for "
                             "pruning; call prune_low_magnitude(model, sparsity=...) first.")
        epochs, steps = self.params.get("epochs"), self.params.get("steps")
        self._end = state.step + epochs * steps - 1 if epochs and steps else None

    def on_train_batch_begin(self, batch, logs=None):
        state = self.model._pruning
        sparsity = state.schedule(state.step, self._end)
        if sparsity is not None:
            state.update_masks(sparsity)
        state.step += 1


UpdatePruningStep = PruningCallback
