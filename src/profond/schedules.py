"""Learning-rate schedules: pure functions of the step, or of the epoch.

A schedule is called as ``schedule(t) -> learning rate``, where ``t`` counts the schedule's
``unit``: optimizer updates (``unit="step"``, Keras's convention and the default of the Keras
classes) or epochs (``unit="epoch"``). Users think in epochs and Keras counts steps; saying the
unit explicitly removes the usual mistake of a decay that ends after the first epoch. An optimizer
evaluates its schedule before each update with :meth:`LearningRateSchedule.value_at`, which turns
the optimizer's ``iterations`` into epochs (``iterations // steps_per_epoch``, ``fit`` supplies
``steps_per_epoch``) for per-epoch schedules.

The deck's schedulers: constant (a number), gradual decay per epoch (:class:`InverseTimeDecay`),
step (:class:`StepDecay`), exponential (:class:`ExponentialDecay`), linear
(:class:`PolynomialDecay` with ``power=1``); plus :class:`PiecewiseConstantDecay` and
:class:`CosineDecay` with warm-up.

Every schedule also accepts a NumPy array of counts and returns the array of rates.

Examples
--------
>>> from profond import schedules
>>> s = schedules.ExponentialDecay(0.1, decay_steps=2, decay_rate=0.5, unit="epoch")
>>> s(4)
0.025
>>> s.preview(epochs=3, steps_per_epoch=10).tolist()
[0.1, 0.07071067811865477, 0.05]
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from profond import saving
from profond._validation import check_choice, check_float, check_int

__all__ = ["LearningRateSchedule", "ExponentialDecay", "InverseTimeDecay",
           "PiecewiseConstantDecay", "PolynomialDecay", "CosineDecay", "StepDecay", "get",
           "serialize", "deserialize", "register"]

_UNITS = ("step", "epoch")


def _out(values, t):
    """Return a Python float for a scalar count, the array otherwise."""
    return float(values) if np.ndim(t) == 0 else values


def _count(t, owner):
    arr = np.asarray(t, dtype=np.float64)
    if np.any(arr < 0):
        raise ValueError(f"The 'step' parameter of {owner} must be a count >= 0 (steps and "
                         f"epochs count from 0). Got {t!r} instead.")
    return arr


class LearningRateSchedule:
    """Base class: subclasses implement :meth:`__call__` (``t -> rate``) and ``get_config``.

    Parameters
    ----------
    unit : {"step", "epoch"}
        What the count ``t`` given to the schedule counts.
    name : str, optional
    """

    def __init__(self, unit="step", name=None):
        self.unit = check_choice(unit, "unit", type(self).__name__, _UNITS)
        self.name = name or type(self).__name__

    def __call__(self, t):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} must implement __call__(t).")

    def value_at(self, iterations: int, steps_per_epoch: int | None = None) -> float:
        """The rate for the update that follows ``iterations`` updates.

        Parameters
        ----------
        iterations : int
            Updates applied so far (the optimizer's ``iterations``).
        steps_per_epoch : int, optional
            Needed by ``unit="epoch"`` schedules: the epoch is ``iterations //
            steps_per_epoch``.
        """
        if self.unit == "step":
            return self(iterations)
        if not steps_per_epoch:
            raise ValueError(f"{self!r} counts epochs, so the optimizer needs steps_per_epoch "
                             "to know the epoch: fit() sets it; outside fit set "
                             "optimizer.steps_per_epoch = <updates per epoch>.")
        return self(iterations // steps_per_epoch)

    def preview(self, epochs: int, steps_per_epoch: int = 1):
        """The learning rate of each epoch, as ``fit`` logs it in ``History``.

        The value for epoch ``e`` is the rate of that epoch's last update (for a per-epoch
        schedule, the rate of the whole epoch). :func:`profond.plotting.plot_schedule` draws
        it with the rate of every update.

        Parameters
        ----------
        epochs : int
        steps_per_epoch : int, default 1
            Updates per epoch: ``ceil(n_samples / batch_size)``.

        Returns
        -------
        ndarray, shape (epochs,)
        """
        epochs = check_int(epochs, "epochs", "preview", low=1)
        steps_per_epoch = check_int(steps_per_epoch, "steps_per_epoch", "preview", low=1)
        last = np.arange(1, epochs + 1) * steps_per_epoch - 1
        return np.array([self.value_at(int(i), steps_per_epoch) for i in last])

    def get_config(self) -> dict:
        return {"unit": self.unit, "name": self.name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items() if k != "name")
        return f"{type(self).__name__}({args})"


def _rate(value, param, owner):
    return check_float(value, param, owner, low=0)


def _positive_count(value, param, owner):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value > 0 or \
            not math.isfinite(value):
        raise ValueError(f"The '{param}' parameter of {owner} must be a number in (0, inf). "
                         f"Got {value!r} instead.")
    return value


class _RateDecay(LearningRateSchedule):
    """What exponential and inverse-time decay share: ``p = t / decay_steps``, floored when
    ``staircase``, and their four arguments."""

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 unit="step", name=None):
        super().__init__(unit, name)
        owner = type(self).__name__
        self.initial_learning_rate = _rate(initial_learning_rate, "initial_learning_rate", owner)
        self.decay_steps = _positive_count(decay_steps, "decay_steps", owner)
        self.decay_rate = check_float(decay_rate, "decay_rate", owner, low=0)
        self.staircase = bool(staircase)

    def _progress(self, t):
        p = _count(t, self.name) / self.decay_steps
        return np.floor(p) if self.staircase else p

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, **super().get_config()}


class ExponentialDecay(_RateDecay):
    """Exponential decay (Keras's ``ExponentialDecay``)::

        def rate(t):
            p = t / decay_steps
            if staircase:
                p = floor(p)
            return initial_learning_rate * decay_rate ** p

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : number > 0
        Counts of ``unit`` over which the rate is multiplied by ``decay_rate``.
    decay_rate : float >= 0
    staircase : bool, default False
        Decay in steps at multiples of ``decay_steps`` instead of continuously.
    unit : {"step", "epoch"}, default "step"

    Examples
    --------
    >>> from profond.schedules import ExponentialDecay
    >>> ExponentialDecay(1.0, decay_steps=10, decay_rate=0.5, staircase=True)(25)
    0.25
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 unit="step", name="ExponentialDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, unit, name)

    def __call__(self, t):
        return _out(self.initial_learning_rate * self.decay_rate ** self._progress(t), t)



class InverseTimeDecay(_RateDecay):
    """Inverse-time decay, the deck's "gradual decay" (Keras's ``InverseTimeDecay``)::

        def rate(t):
            p = t / decay_steps
            if staircase:
                p = floor(p)
            return initial_learning_rate / (1 + decay_rate * p)

    With ``unit="epoch"`` and ``decay_steps=1`` it is the classic per-epoch decay
    ``lr0 / (1 + k * epoch)``.

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : number > 0
    decay_rate : float >= 0
    staircase : bool, default False
    unit : {"step", "epoch"}, default "step"

    Examples
    --------
    >>> from profond.schedules import InverseTimeDecay
    >>> InverseTimeDecay(0.1, decay_steps=1, decay_rate=0.5, unit="epoch")(2)
    0.05
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 unit="step", name="InverseTimeDecay"):
        super().__init__(initial_learning_rate, decay_steps, decay_rate, staircase, unit, name)

    def __call__(self, t):
        return _out(self.initial_learning_rate / (1.0 + self.decay_rate * self._progress(t)), t)



class PiecewiseConstantDecay(LearningRateSchedule):
    """Constant rates between boundaries (Keras's ``PiecewiseConstantDecay``)::

        def rate(t):
            # values[0] for t <= boundaries[0], values[i] for boundaries[i-1] < t <= boundaries[i],
            # values[-1] for t > boundaries[-1]
            return values[searchsorted(boundaries, t, side="left")]

    Parameters
    ----------
    boundaries : list of numbers, strictly increasing
    values : list of floats >= 0, one more than ``boundaries``
    unit : {"step", "epoch"}, default "step"

    Examples
    --------
    >>> from profond.schedules import PiecewiseConstantDecay
    >>> s = PiecewiseConstantDecay([10, 20], [1.0, 0.5, 0.1])
    >>> [s(10), s(11), s(21)]
    [1.0, 0.5, 0.1]
    """

    def __init__(self, boundaries, values, unit="step", name="PiecewiseConstant"):
        super().__init__(unit, name)
        owner = type(self).__name__
        boundaries = [float(b) for b in boundaries]
        values = [_rate(v, "values", owner) for v in values]
        if len(values) != len(boundaries) + 1:
            raise ValueError(f"The 'values' parameter of {owner} must have one more element "
                             f"than boundaries ({len(boundaries)}). Got {len(values)} "
                             "instead.")
        if any(b >= c for b, c in zip(boundaries, boundaries[1:])):
            raise ValueError(f"The 'boundaries' parameter of {owner} must be strictly "
                             f"increasing. Got {boundaries!r} instead.")
        self.boundaries = boundaries
        self.values = values

    def __call__(self, t):
        i = np.searchsorted(np.asarray(self.boundaries), _count(t, self.name), side="left")
        return _out(np.asarray(self.values)[i], t)

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, **super().get_config()}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial decay to ``end_learning_rate``; ``power=1`` is the deck's linear decay
    (Keras's ``PolynomialDecay``)::

        def rate(t):
            if cycle:
                steps = decay_steps * max(1, ceil(t / decay_steps))
            else:
                steps, t = decay_steps, min(t, decay_steps)
            return (initial_learning_rate - end_learning_rate) * (1 - t / steps) ** power \\
                + end_learning_rate

    Parameters
    ----------
    initial_learning_rate : float
    decay_steps : number > 0
    end_learning_rate : float, default 0.0001
    power : float >= 0, default 1.0
    cycle : bool, default False
        Restart the decay at every multiple of ``decay_steps``.
    unit : {"step", "epoch"}, default "step"

    Examples
    --------
    >>> from profond.schedules import PolynomialDecay
    >>> s = PolynomialDecay(1.0, decay_steps=4, end_learning_rate=0.0, unit="epoch")
    >>> [s(e) for e in range(6)]
    [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, unit="step", name="PolynomialDecay"):
        super().__init__(unit, name)
        owner = type(self).__name__
        self.initial_learning_rate = _rate(initial_learning_rate, "initial_learning_rate", owner)
        self.decay_steps = _positive_count(decay_steps, "decay_steps", owner)
        self.end_learning_rate = _rate(end_learning_rate, "end_learning_rate", owner)
        self.power = check_float(power, "power", owner, low=0)
        self.cycle = bool(cycle)

    def __call__(self, t):
        step = _count(t, self.name)
        if self.cycle:
            steps = self.decay_steps * np.maximum(1.0, np.ceil(step / self.decay_steps))
        else:
            steps = self.decay_steps
            step = np.minimum(step, steps)
        decayed = (self.initial_learning_rate - self.end_learning_rate) * \
            (1.0 - step / steps) ** self.power + self.end_learning_rate
        return _out(decayed, t)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, **super().get_config()}


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov & Hutter, 2017, SGDR) after an optional linear warm-up
    (Goyal et al., 2017) — Keras's ``CosineDecay``::

        def rate(t):
            if warmup_target is None:            # no warm-up
                peak, t = initial_learning_rate, min(t, decay_steps)
            else:
                t = min(t, warmup_steps + decay_steps)
                if t < warmup_steps:
                    return initial_learning_rate + (warmup_target - initial_learning_rate) \\
                        * t / warmup_steps
                peak, t = warmup_target, t - warmup_steps
            cosine = 0.5 * (1 + cos(pi * t / decay_steps))
            return peak * ((1 - alpha) * cosine + alpha)

    Parameters
    ----------
    initial_learning_rate : float
        The rate at ``t = 0`` (the start of the warm-up when there is one).
    decay_steps : number > 0
    alpha : float in [0, 1], default 0.0
        Final rate as a fraction of the peak.
    warmup_target : float, optional
        Peak rate reached after ``warmup_steps``; None for no warm-up.
    warmup_steps : number >= 0, default 0
    unit : {"step", "epoch"}, default "step"

    Examples
    --------
    >>> from profond.schedules import CosineDecay
    >>> s = CosineDecay(0.0, decay_steps=10, warmup_target=1.0, warmup_steps=5)
    >>> [s(0), s(5), s(10), s(15)]
    [0.0, 1.0, 0.5, 0.0]
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0, unit="step"):
        super().__init__(unit, name)
        owner = type(self).__name__
        self.initial_learning_rate = _rate(initial_learning_rate, "initial_learning_rate", owner)
        self.decay_steps = _positive_count(decay_steps, "decay_steps", owner)
        self.alpha = check_float(alpha, "alpha", owner, low=0, high=1)
        self.warmup_target = check_float(warmup_target, "warmup_target", owner, low=0,
                                         allow_none=True)
        self.warmup_steps = check_float(warmup_steps, "warmup_steps", owner, low=0)
        if self.warmup_target is not None and self.warmup_steps == 0:
            raise ValueError(f"The 'warmup_steps' parameter of {owner} must be > 0 when "
                             f"warmup_target is given. Got {warmup_steps!r} instead.")

    def _decay(self, t, peak):
        cosine = 0.5 * (1.0 + np.cos(np.pi * t / self.decay_steps))
        return peak * ((1.0 - self.alpha) * cosine + self.alpha)

    def __call__(self, t):
        step = _count(t, self.name)
        if self.warmup_target is None:
            out = self._decay(np.minimum(step, self.decay_steps), self.initial_learning_rate)
            return _out(out, t)
        step = np.minimum(step, self.warmup_steps + self.decay_steps)
        warm = self.initial_learning_rate + (self.warmup_target - self.initial_learning_rate) \
            * step / self.warmup_steps
        decayed = self._decay(np.maximum(step - self.warmup_steps, 0.0), self.warmup_target)
        return _out(np.where(step < self.warmup_steps, warm, decayed), t)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps,
                **super().get_config()}


class StepDecay(LearningRateSchedule):
    """Step decay, the deck's "step" scheduler: multiply the rate by ``drop`` every ``every``
    epochs (or steps)::

        def rate(t):
            return initial_learning_rate * drop ** floor(t / every)

    Not a Keras class. Unlike the Keras classes it counts **epochs** by default, the unit in
    which step decay is usually stated ("halve the rate every 10 epochs").

    Parameters
    ----------
    initial_learning_rate : float
    drop : float in (0, 1]
        Factor applied at each drop.
    every : number > 0
        Counts of ``unit`` between drops.
    unit : {"epoch", "step"}, default "epoch"

    Examples
    --------
    >>> from profond.schedules import StepDecay
    >>> s = StepDecay(0.1, drop=0.5, every=10)
    >>> [s(9), s(10), s(25)]
    [0.1, 0.05, 0.025]
    """

    def __init__(self, initial_learning_rate, drop=0.5, every=10, unit="epoch",
                 name="StepDecay"):
        super().__init__(unit, name)
        owner = type(self).__name__
        self.initial_learning_rate = _rate(initial_learning_rate, "initial_learning_rate", owner)
        self.drop = check_float(drop, "drop", owner, low=0, high=1, low_open=True)
        self.every = _positive_count(every, "every", owner)

    def __call__(self, t):
        p = np.floor(_count(t, self.name) / self.every)
        return _out(self.initial_learning_rate * self.drop ** p, t)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate, "drop": self.drop,
                "every": self.every, **super().get_config()}


_CLASSES = {cls.__name__: cls for cls in (ExponentialDecay, InverseTimeDecay,
                                          PiecewiseConstantDecay, PolynomialDecay, CosineDecay,
                                          StepDecay)}
_TABLE = {**{k.lower(): v for k, v in _CLASSES.items()},
          "exponential_decay": ExponentialDecay, "inverse_time_decay": InverseTimeDecay,
          "piecewise_constant_decay": PiecewiseConstantDecay,
          "polynomial_decay": PolynomialDecay, "cosine_decay": CosineDecay,
          "step_decay": StepDecay}


_MODULE_OBJECTS = {**_CLASSES, "LearningRateSchedule": LearningRateSchedule, **_TABLE}
saving.register_builtin_objects("keras.optimizers.schedules", "profond.schedules",
                                _MODULE_OBJECTS)


def register(cls) -> None:
    """Convenience: ``saving.register_keras_serializable()(cls)`` for a custom schedule class
    (for configs and saved models)."""
    saving.register_keras_serializable()(cls)


def get(identifier):
    """Resolve a schedule instance or a serialized dict.

    Raises
    ------
    ValueError
        An unknown name (the message lists the valid ones) or something that is none of these.
    """
    if isinstance(identifier, LearningRateSchedule):
        return identifier
    if isinstance(identifier, dict) and "class_name" in identifier:
        try:
            found = saving.deserialize_keras_object(identifier, module_objects=_MODULE_OBJECTS)
        except saving.UnknownObjectError as err:
            raise ValueError(f"Unknown learning-rate schedule {err.name!r}. Valid names: "
                             f"{sorted(_CLASSES)}, or one registered with "
                             "@profond.saving.register_keras_serializable().") from None
        if isinstance(found, LearningRateSchedule):
            return found
    raise ValueError(f"Could not interpret learning-rate schedule {identifier!r}: expected a "
                     "LearningRateSchedule or a config dict with 'class_name' (one of "
                     f"{sorted(_CLASSES)}).")


def serialize(schedule):
    """Keras's dict (``{"module", "class_name", "config", "registered_name"}``) for
    :func:`get` to re-create ``schedule``; an unregistered custom schedule is returned as it
    is (``model.save`` refuses it).

    Examples
    --------
    >>> from profond import schedules
    >>> schedules.serialize(schedules.StepDecay(0.1))["module"]
    'keras.optimizers.schedules'
    """
    return saving.serialize_if_named(schedule)


def deserialize(config, custom_objects=None):
    """The schedule :func:`serialize` described (earlier profond dicts too)."""
    return saving.deserialize_keras_object(config, custom_objects=custom_objects,
                                           module_objects=_MODULE_OBJECTS)
