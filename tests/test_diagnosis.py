"""history.diagnose(): verdicts on synthetic curves, configurable thresholds, and on real runs
(a too-small model underfits, a large unregularised model on little data overfits)."""

import math
import os

import numpy as np
import pytest

import profond
from profond import layers
from profond.callbacks import History
from profond.datasets import load_digits
from profond.diagnosis import diagnose


def _decay(n, start=2.0, end=0.1, rate=0.5):
    return [end + (start - end) * math.exp(-rate * i) for i in range(n)]


def test_synthetic_overfitting_names_the_epoch():
    loss = _decay(20, end=0.01)
    val = [v + 0.02 * max(0, i - 7) ** 1.2 for i, v in enumerate(_decay(20, end=0.3))]
    d = diagnose({"loss": loss, "val_loss": val})
    assert d.verdict == "overfitting"
    best = int(np.argmin(val)) + 1
    assert d.epoch == best and f"Stop at epoch {best}" in d.advice[0]
    assert d.evidence["best_val_epoch"] == best and d.evidence["val_rise"] > 0.1


def test_synthetic_underfitting_balanced_and_still_improving():
    flat_high = _decay(20, start=2.3, end=1.6, rate=0.8)
    assert diagnose({"loss": flat_high, "val_loss": [v + 0.05 for v in flat_high]}
                    ).verdict == "underfitting"
    flat_low = _decay(20, start=2.3, end=0.05, rate=0.8)
    d = diagnose({"loss": flat_low, "val_loss": [v * 1.2 for v in flat_low]})
    assert d.verdict == "balanced" and d.epoch is None
    early = _decay(6, start=2.3, end=0.05, rate=0.2)
    d = diagnose({"loss": early, "val_loss": [v * 1.1 for v in early]})
    assert d.verdict == "still improving" and "more epochs" in d.advice[0]


def test_synthetic_divergence():
    nan_end = _decay(10) + [float("nan")]
    assert diagnose({"loss": nan_end}).verdict == "diverged"
    climb = _decay(10, end=0.1) + [0.5, 1.5, 3.0]
    d = diagnose({"loss": climb})
    assert d.verdict == "diverged" and "climbed back" in d.reason
    assert any("learning rate" in a for a in d.advice)
    assert diagnose({"loss": _decay(10, end=0.1) + [0.12]}).verdict != "diverged"


def test_exploded_or_non_finite_epochs_are_divergence():
    # Issue 17: a first loss of 3e27 that then sits at chance is no overfitting.
    exploded = {"loss": [3e27, 2.35, 2.35, 2.36, 2.34, 2.33],
                "val_loss": [2.3, 2.31, 2.32, 2.35, 2.4, 2.5],
                "accuracy": [0.1] * 6, "val_accuracy": [0.1] * 6}
    d = diagnose(exploded)
    assert d.verdict == "diverged" and "exploded to 3e+27 at epoch 1" in d.reason
    assert d.evidence["max_loss"] == 3e27
    mid_nan = {"loss": [1.0, float("nan"), 0.5, 0.4], "val_loss": [1.0, 0.9, 0.8, 0.7]}
    d = diagnose(mid_nan)
    assert d.verdict == "diverged" and "not finite at epoch 2" in d.reason
    val_inf = {"loss": [1.0, 0.5, 0.4, 0.3], "val_loss": [1.0, float("inf"), 0.8, 0.7]}
    assert diagnose(val_inf).verdict == "diverged"
    # A steep but sane fall is a lesson, not an explosion.
    assert diagnose({"loss": [1.0] + [1e-9] * 10}).verdict != "diverged"
    assert diagnose({"loss": [1e4, 10, 5, 3, 2.9, 2.8, 2.8]}).verdict != "diverged"
    assert diagnose(exploded, explode_factor=1e30).verdict != "diverged"
    with pytest.raises(ValueError, match="'explode_factor' parameter of diagnose"):
        diagnose(exploded, explode_factor=1.0)


def test_epochs_rolled_back_by_a_guard_are_not_held_against_the_run():
    h = History()
    h.history = {"loss": [2.0, float("nan"), 1.0, 0.5, 0.3, 0.2, 0.19, 0.19]}
    h.epoch = list(range(8))
    h.events = [{"kind": "rollback", "epoch": 1}]
    assert diagnose(h).verdict != "diverged"


def test_accuracy_decides_underfitting_when_logged():
    loss = _decay(20, start=1.0, end=0.6, rate=0.8)  # only 40% down: underfits by the loss
    assert diagnose({"loss": loss}).verdict == "underfitting"
    high = {"loss": loss, "accuracy": [0.95] * 20}
    assert diagnose(high).verdict == "balanced"
    assert diagnose(high, min_accuracy=0.99).verdict == "underfitting"


def test_thresholds_are_configurable():
    loss = _decay(20, end=0.01)
    val = [v + 0.01 * max(0, i - 10) for i, v in enumerate(_decay(20, end=0.3))]
    d = diagnose({"loss": loss, "val_loss": val})
    assert d.verdict == "overfitting" and d.evidence["val_rise"] < 0.5
    assert diagnose({"loss": loss, "val_loss": val}, overfit_rise=0.5,
                    gap_tol=10).verdict == "balanced"
    early = _decay(8, start=2.3, end=0.05, rate=0.3)
    assert diagnose({"loss": early}).verdict == "still improving"
    assert diagnose({"loss": early}, improve_tol=0.5).verdict == "balanced"
    # A baseline (the loss of a trivial predictor) as the underfitting reference: this run
    # fell far from its start, but barely beats predicting the mean.
    flat = _decay(20, start=2.0, end=0.45, rate=1.0)
    assert diagnose({"loss": flat}).verdict == "balanced"
    assert diagnose({"loss": flat}, baseline_loss=0.5).verdict == "underfitting"


def test_no_validation_curve_and_argument_checks():
    d = diagnose({"loss": _decay(20, end=0.01)})
    assert d.verdict == "balanced" and "validation" in d.reason
    with pytest.raises(ValueError, match="'loss' curve"):
        diagnose({"val_loss": [1.0]})
    with pytest.raises(ValueError, match="'overfit_rise' parameter of diagnose"):
        diagnose({"loss": [1.0]}, overfit_rise=-1)
    with pytest.raises(ValueError, match="'window' parameter of diagnose"):
        diagnose({"loss": [1.0]}, window=0)


def test_history_diagnose_report_and_plot(tmp_path):
    history = History()
    history.on_train_begin()
    loss = _decay(15, end=0.01)
    val = [v + 0.03 * max(0, i - 5) for i, v in enumerate(_decay(15, end=0.3))]
    for epoch, (a, b) in enumerate(zip(loss, val)):
        history.on_epoch_end(epoch, {"loss": a, "val_loss": b, "learning_rate": 0.01})
    history.events.append({"kind": "rollback", "epoch": 3})
    d = history.diagnose()
    text = str(d)
    assert text.startswith(f"Verdict: overfitting from epoch {d.epoch}.")
    assert "Evidence:" in text and "best_val_epoch" in text and "Advice:" in text
    assert d.evidence["rollbacks"] == 1
    fig = d.plot(tmp_path / "d.png")
    assert os.path.getsize(tmp_path / "d.png") > 1000
    assert fig.axes[0].lines[-1].get_xdata()[0] == d.epoch


# --- real runs -------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def digits():
    x, y = load_digits()
    idx = np.random.default_rng(0).permutation(len(x))
    return (x[idx] / 16).astype("float32"), y[idx]


def _run(digits, hidden, n, epochs, lr, batch_size, activation="relu"):
    x, y = digits
    profond.random.seed(0)
    model = profond.Sequential([layers.Input((64,)), layers.Dense(hidden, activation=activation),
                                layers.Dense(10, activation="softmax")])
    model.compile(optimizer=profond.optimizers.Adam(lr),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model.fit(x[:n], y[:n], epochs=epochs, batch_size=batch_size, verbose=0,
                     validation_data=(x[1400:], y[1400:]))


def test_real_run_too_small_model_underfits(digits):
    d = _run(digits, hidden=1, n=1000, epochs=20, lr=0.02, batch_size=100,
             activation="tanh").diagnose()
    assert d.verdict == "underfitting" and d.evidence["final_accuracy"] < 0.5
    assert "capacity" in d.advice[0]


def test_real_run_large_model_on_little_data_overfits(digits):
    d = _run(digits, hidden=128, n=50, epochs=40, lr=0.01, batch_size=50).diagnose()
    assert d.verdict == "overfitting" and 5 <= d.epoch < 40
    assert d.evidence["final_accuracy"] == 1.0 and d.evidence["accuracy_gap"] > 0.1


def test_real_runs_balanced_and_stopped_early(digits):
    assert _run(digits, hidden=32, n=1400, epochs=25, lr=0.005,
                batch_size=64).diagnose().verdict == "balanced"
    assert _run(digits, hidden=32, n=1400, epochs=4, lr=0.001,
                batch_size=64).diagnose().verdict == "still improving"
