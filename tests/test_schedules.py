"""Learning-rate schedules: closed forms per step and per epoch, fit, preview, configs, errors."""

import math
import os

import numpy as np
import pytest

import profond
from profond import callbacks, layers, plotting, schedules
from profond.optimizers import SGD, Adam
from profond.schedules import (CosineDecay, ExponentialDecay, InverseTimeDecay,
                               PiecewiseConstantDecay, PolynomialDecay, StepDecay)

T = np.arange(0, 60)


def _cosine(t, lr0, decay, alpha=0.0, target=None, warm=0):
    if target is None:
        t = min(t, decay)
        return lr0 * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * t / decay)) + alpha)
    t = min(t, warm + decay)
    if t < warm:
        return lr0 + (target - lr0) * t / warm
    t -= warm
    return target * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * t / decay)) + alpha)


def _piecewise(t, boundaries, values):
    for b, v in zip(boundaries, values):
        if t <= b:
            return v
    return values[-1]


def _poly(t, lr0, decay, end, power, cycle):
    if cycle:
        decay = decay * max(1, math.ceil(t / decay))
    else:
        t = min(t, decay)
    return (lr0 - end) * (1 - t / decay) ** power + end


CLOSED_FORMS = [
    (ExponentialDecay(0.1, 7, 0.5), lambda t: 0.1 * 0.5 ** (t / 7)),
    (ExponentialDecay(0.1, 7, 0.5, staircase=True), lambda t: 0.1 * 0.5 ** (t // 7)),
    (InverseTimeDecay(0.1, 5, 0.5), lambda t: 0.1 / (1 + 0.5 * t / 5)),
    (InverseTimeDecay(0.1, 5, 0.5, staircase=True), lambda t: 0.1 / (1 + 0.5 * (t // 5))),
    (PiecewiseConstantDecay([10, 25], [1.0, 0.5, 0.1]),
     lambda t: _piecewise(t, [10, 25], [1.0, 0.5, 0.1])),
    (PolynomialDecay(0.1, 20), lambda t: _poly(t, 0.1, 20, 1e-4, 1.0, False)),
    (PolynomialDecay(0.1, 20, end_learning_rate=0.01, power=2.0),
     lambda t: _poly(t, 0.1, 20, 0.01, 2.0, False)),
    (PolynomialDecay(0.1, 20, power=0.5, cycle=True), lambda t: _poly(t, 0.1, 20, 1e-4, 0.5, True)),
    (CosineDecay(0.1, 30), lambda t: _cosine(t, 0.1, 30)),
    (CosineDecay(0.1, 30, alpha=0.1), lambda t: _cosine(t, 0.1, 30, 0.1)),
    (CosineDecay(0.0, 30, warmup_target=0.2, warmup_steps=10),
     lambda t: _cosine(t, 0.0, 30, target=0.2, warm=10)),
    (StepDecay(0.1, drop=0.5, every=8), lambda t: 0.1 * 0.5 ** (t // 8)),
]


IDS = [repr(s) for s, _ in CLOSED_FORMS]


@pytest.mark.parametrize("schedule, formula", CLOSED_FORMS, ids=IDS)
def test_closed_form_per_step(schedule, formula):
    got = [schedule(int(t)) for t in T]
    assert all(isinstance(v, float) for v in got)
    np.testing.assert_allclose(got, [formula(int(t)) for t in T], rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(schedule(T), got, rtol=1e-12)  # arrays of counts too


@pytest.mark.parametrize("schedule, formula", CLOSED_FORMS, ids=IDS)
def test_closed_form_per_epoch(schedule, formula):
    config = {**schedule.get_config(), "unit": "epoch"}
    per_epoch = type(schedule).from_config(config)
    steps_per_epoch = 7
    for iterations in range(0, 200, 3):
        epoch = iterations // steps_per_epoch
        assert per_epoch.value_at(iterations, steps_per_epoch) == pytest.approx(
            formula(epoch), rel=1e-12, abs=1e-15)
    np.testing.assert_allclose(per_epoch.preview(12, steps_per_epoch),
                               [formula(e) for e in range(12)], rtol=1e-12, atol=1e-15)


def test_step_schedules_ignore_steps_per_epoch_and_preview_logs_last_step():
    s = ExponentialDecay(1.0, 10, 0.5)
    assert s.value_at(20, steps_per_epoch=7) == 0.25
    np.testing.assert_allclose(s.preview(3, 10), [s(9), s(19), s(29)])


def _log_rate(model):
    """fit logs no learning rate (as Keras's): a callback logs the one each epoch ran with."""
    return callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: logs.update(
        learning_rate=float(model.optimizer.last_learning_rate)))


def test_fit_drives_a_per_epoch_schedule_and_logs_the_rate():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(50, 3))
    y = x.sum(axis=1)
    schedule = StepDecay(0.05, drop=0.5, every=2)  # per epoch by default
    model = profond.Sequential([layers.Dense(1)])
    model.compile(optimizer=SGD(schedule), loss="mse")
    history = model.fit(x, y, epochs=6, batch_size=16, verbose=0,  # 4 steps per epoch
                        callbacks=[_log_rate(model)])
    expected = [0.05, 0.05, 0.025, 0.025, 0.0125, 0.0125]
    assert history.history["learning_rate"] == pytest.approx(expected)
    np.testing.assert_allclose(schedule.preview(6, steps_per_epoch=4), expected)
    assert model.optimizer.iterations == 24


def test_fit_drives_a_per_step_schedule():
    x = np.ones((40, 2))
    schedule = PiecewiseConstantDecay([5, 12], [0.1, 0.01, 0.001])
    model = profond.Sequential([layers.Dense(1)])
    model.compile(optimizer=SGD(schedule), loss="mse")
    history = model.fit(x, x.sum(1), epochs=3, batch_size=8, verbose=0,  # 5 steps per epoch
                        callbacks=[_log_rate(model)])
    # Each epoch logs the rate of its last update: updates 4, 9 and 14.
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.01, 0.001])
    np.testing.assert_allclose(schedule.preview(3, 5), history.history["learning_rate"])


def test_same_schedule_step_vs_epoch_differ_as_documented():
    per_step = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.1)
    per_epoch = ExponentialDecay(0.1, decay_steps=10, decay_rate=0.1, unit="epoch")
    # After one epoch of 100 updates the per-step schedule has decayed 10 times over.
    assert per_step.value_at(100, 100) == pytest.approx(0.1 * 0.1 ** 10)
    assert per_epoch.value_at(100, 100) == pytest.approx(0.1 * 0.1 ** 0.1)


def test_preview_plot(tmp_path):
    pytest.importorskip("matplotlib")
    path = tmp_path / "rates.png"
    schedule = CosineDecay(0.0, 20, warmup_target=0.1, warmup_steps=5, unit="epoch")
    fig = plotting.plot_schedule(schedule, 25, steps_per_epoch=3, path=path)
    logged = fig.axes[0].lines[1].get_ydata()
    np.testing.assert_allclose(logged, schedule.preview(25, steps_per_epoch=3))
    assert os.path.getsize(path) > 1000
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]


@pytest.mark.parametrize("schedule, formula", CLOSED_FORMS, ids=IDS)
def test_config_round_trip(schedule, formula):
    clone = schedules.get(schedules.serialize(schedule))
    assert type(clone) is type(schedule) and clone.get_config() == schedule.get_config()
    assert clone(17) == schedule(17)


def test_optimizer_config_resolves_schedule_class_names():
    opt = Adam(InverseTimeDecay(0.1, 1, 0.5, unit="epoch"))
    clone = Adam.from_config(opt.get_config())
    assert isinstance(clone._learning_rate, InverseTimeDecay)
    assert clone._learning_rate.get_config() == opt._learning_rate.get_config()
    with pytest.raises(ValueError, match="Unknown learning-rate schedule 'Nope'"):
        schedules.get({"class_name": "Nope", "config": {}})
    with pytest.raises(ValueError, match="Could not interpret"):
        schedules.get("exponential")


def test_custom_schedule_subclass(fresh_registry):
    class Halving(schedules.LearningRateSchedule):
        def __call__(self, t):
            return 1.0 / 2 ** t

    schedules.register(Halving)
    s = Halving(unit="epoch")
    assert s.value_at(9, 3) == 0.125
    assert schedules.serialize(s)["registered_name"] == "Custom>Halving"
    assert type(schedules.get(schedules.serialize(s))) is Halving


@pytest.mark.parametrize("make, message", [
    (lambda: ExponentialDecay(0.1, 0, 0.5), "'decay_steps' parameter of ExponentialDecay"),
    (lambda: ExponentialDecay(0.1, -3, 0.5), "must be a number in (0, inf)"),
    (lambda: InverseTimeDecay(0.1, 0, 0.5), "'decay_steps' parameter of InverseTimeDecay"),
    (lambda: PolynomialDecay(0.1, 0), "'decay_steps' parameter of PolynomialDecay"),
    (lambda: CosineDecay(0.1, 0), "'decay_steps' parameter of CosineDecay"),
    (lambda: CosineDecay(0.1, 10, alpha=2.0), "'alpha' parameter of CosineDecay"),
    (lambda: CosineDecay(0.1, 10, warmup_target=0.5), "'warmup_steps' parameter"),
    (lambda: ExponentialDecay(-0.1, 10, 0.5), "'initial_learning_rate' parameter"),
    (lambda: ExponentialDecay(0.1, 10, -0.5), "'decay_rate' parameter"),
    (lambda: StepDecay(0.1, drop=0.0), "'drop' parameter of StepDecay"),
    (lambda: StepDecay(0.1, every=0), "'every' parameter of StepDecay"),
    (lambda: PiecewiseConstantDecay([5, 3], [1.0, 0.5, 0.1]), "strictly increasing"),
    (lambda: PiecewiseConstantDecay([5], [1.0]), "one more element"),
    (lambda: ExponentialDecay(0.1, 10, 0.5, unit="batch"), "'unit' parameter"),
    (lambda: ExponentialDecay(0.1, 10, 0.5)(-1),
     r"'step' parameter of ExponentialDecay must be a count >= 0"),
    (lambda: StepDecay(0.1).preview(0), "'epochs' parameter of preview"),
])
def test_invalid_arguments(make, message):
    with pytest.raises(ValueError) as info:
        make()
    assert message in str(info.value)
