"""LearningRateScheduler and ReduceLROnPlateau: Keras's behaviour, step by step."""

import numpy as np
import pytest

import profond
from profond import layers, schedules
from profond.callbacks import LearningRateScheduler, ReduceLROnPlateau
from profond.optimizers import SGD, Adam


class _FakeModel:
    def __init__(self, lr):
        self.optimizer = SGD(lr)
        self.stop_training = False


def _attach(cb, lr=1.0):
    model = _FakeModel(lr)
    cb.set_model(model)
    cb.on_train_begin()
    return model


def _feed(cb, values, key="val_loss"):
    model = cb.model
    rates = []
    for epoch, value in enumerate(values):
        logs = {key: value}
        cb.on_epoch_end(epoch, logs)
        rates.append(model.optimizer.learning_rate)
    return rates


def _model(lr=0.1):
    model = profond.Sequential([layers.Dense(1)])
    model.compile(optimizer=SGD(lr), loss="mse")
    return model


X = np.ones((16, 2))
Y = X.sum(axis=1)


# --- LearningRateScheduler ---------------------------------------------------------------------

def test_scheduler_two_argument_form_in_fit():
    seen = []

    def schedule(epoch, lr):
        seen.append((epoch, lr))
        return 0.1 * 0.5 ** epoch

    model = _model(0.3)
    history = model.fit(X, Y, epochs=3, callbacks=[LearningRateScheduler(schedule)], verbose=0)
    assert history.history["learning_rate"] == pytest.approx([0.1, 0.05, 0.025])
    assert seen == [(0, 0.3), (1, 0.1), (2, 0.05)]


def test_scheduler_one_argument_form_and_schedule_object():
    model = _model()
    h = model.fit(X, Y, epochs=2, callbacks=[LearningRateScheduler(lambda e: 0.01 * (e + 1))],
                  verbose=0)
    assert h.history["learning_rate"] == pytest.approx([0.01, 0.02])
    model = _model()
    step = schedules.StepDecay(0.2, drop=0.1, every=2)
    h = model.fit(X, Y, epochs=4, callbacks=[LearningRateScheduler(step)], verbose=0)
    assert h.history["learning_rate"] == pytest.approx([0.2, 0.2, 0.02, 0.02])


def test_scheduler_rejects_bad_outputs_and_arguments(capsys):
    model = _model()
    with pytest.raises(ValueError, match="finite float >= 0"):
        model.fit(X, Y, epochs=1, callbacks=[LearningRateScheduler(lambda e, lr: "fast")],
                  verbose=0)
    with pytest.raises(ValueError, match="finite float >= 0"):
        model.fit(X, Y, epochs=1, callbacks=[LearningRateScheduler(lambda e, lr: -1.0)],
                  verbose=0)
    with pytest.raises(ValueError, match="'schedule' parameter of LearningRateScheduler"):
        LearningRateScheduler(0.1)
    model.fit(X, Y, epochs=1, callbacks=[LearningRateScheduler(lambda e: 0.5, verbose=1)],
              verbose=0)
    assert "setting learning rate to 0.5" in capsys.readouterr().out


def test_scheduler_on_a_schedule_optimizer_raises_keras_type_error():
    model = profond.Sequential([layers.Dense(1)])
    model.compile(optimizer=Adam(schedules.ExponentialDecay(0.1, 10, 0.5)), loss="mse")
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        model.fit(X, Y, epochs=1, callbacks=[LearningRateScheduler(lambda e: 0.1)], verbose=0)


# --- ReduceLROnPlateau -------------------------------------------------------------------------

def test_plateau_patience_and_factor():
    cb = ReduceLROnPlateau(factor=0.5, patience=2)
    _attach(cb)
    rates = _feed(cb, [1.0, 0.9, 0.9, 0.9, 0.9, 0.9, 0.8])
    assert rates == [1.0, 1.0, 1.0, 0.5, 0.5, 0.25, 0.25]


def test_plateau_min_delta_counts_small_gains_as_no_improvement():
    cb = ReduceLROnPlateau(factor=0.5, patience=1, min_delta=0.1)
    _attach(cb)
    assert _feed(cb, [1.0, 0.95, 0.7]) == [1.0, 0.5, 0.5]


def test_plateau_cooldown():
    cb = ReduceLROnPlateau(factor=0.5, patience=1, cooldown=2)
    _attach(cb)
    # Keras's rule: the counter is decremented before the check, so after the reduction at
    # epoch 1, cooldown=2 skips one epoch (2) and counting resumes at epoch 3.
    assert _feed(cb, [1.0] * 6) == [1.0, 0.5, 0.5, 0.25, 0.25, 0.125]
    cb = ReduceLROnPlateau(factor=0.5, patience=1, cooldown=0)
    _attach(cb)
    assert _feed(cb, [1.0] * 4) == [1.0, 0.5, 0.25, 0.125]


def test_plateau_min_lr():
    cb = ReduceLROnPlateau(factor=0.1, patience=0, min_lr=0.05)
    _attach(cb)
    assert _feed(cb, [1.0, 1.0, 1.0, 1.0]) == pytest.approx([1.0, 0.1, 0.05, 0.05])


def test_plateau_mode_auto_maximises_accuracy_and_explicit_max():
    cb = ReduceLROnPlateau(monitor="val_accuracy", factor=0.5, patience=1)
    _attach(cb)
    assert _feed(cb, [0.5, 0.6, 0.55], key="val_accuracy") == [1.0, 1.0, 0.5]
    cb = ReduceLROnPlateau(monitor="score", mode="max", factor=0.5, patience=1)
    _attach(cb)
    assert _feed(cb, [0.5, 0.4], key="score") == [1.0, 0.5]


def test_plateau_missing_metric_warns():
    cb = ReduceLROnPlateau(monitor="val_loss", patience=0)
    _attach(cb)
    with pytest.warns(RuntimeWarning, match="'val_loss' is not in the logs"):
        cb.on_epoch_end(0, {"loss": 1.0})
    assert cb.model.optimizer.learning_rate == 1.0


def test_plateau_in_fit_and_state_reset_at_train_begin():
    model = _model(1e-8)  # too small to improve: the loss is flat
    cb = ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, verbose=1)
    history = model.fit(X, Y, epochs=4, callbacks=[cb], verbose=0)
    assert history.history["learning_rate"] == pytest.approx([1e-8, 1e-8, 5e-9, 2.5e-9])
    assert cb.best == pytest.approx(history.history["loss"][0])
    model.fit(X, Y, epochs=1, callbacks=[cb], verbose=0)
    assert cb.wait == 0  # a new fit starts counting afresh


@pytest.mark.parametrize("kwargs, message", [
    ({"factor": 1.0}, "'factor' parameter of ReduceLROnPlateau must be a float in (0, 1)"),
    ({"factor": 0.0}, "'factor' parameter"),
    ({"patience": -1}, "'patience' parameter"),
    ({"mode": "up"}, "'mode' parameter"),
    ({"min_delta": -1.0}, "'min_delta' parameter"),
    ({"cooldown": 1.5}, "'cooldown' parameter"),
    ({"min_lr": -1e-3}, "'min_lr' parameter"),
    ({"monitor": 3}, "'monitor' parameter"),
])
def test_plateau_invalid_arguments(kwargs, message):
    with pytest.raises(ValueError) as info:
        ReduceLROnPlateau(**kwargs)
    assert message in str(info.value)
    with pytest.raises(TypeError, match="unexpected keyword"):
        ReduceLROnPlateau(patiense=3)


def test_plateau_accepts_keras_old_epsilon_name():
    with pytest.warns(DeprecationWarning):
        cb = ReduceLROnPlateau(epsilon=0.5)
    assert cb.min_delta == 0.5
