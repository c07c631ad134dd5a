"""The learning-rate range test: the sweep, the stop, the suggestion, and a full restore."""

import os

import numpy as np
import pytest

import profond
from profond import layers
from profond.optimizers import SGD, Adam


def _data(n=256, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 4))
    return x, x @ np.array([1.0, -2.0, 0.5, 3.0])


def _model(optimizer="sgd", seed=0):
    profond.random.seed(seed)
    model = profond.Sequential([layers.Input((4,)), layers.Dense(16, activation="relu"),
                                layers.Dense(1)])
    model.compile(optimizer=optimizer, loss="mse")
    return model


def test_sweep_is_exponential_and_stops_when_the_loss_explodes():
    x, y = _data()
    result = profond.find_learning_rate(_model(), x, y, start_lr=1e-6, end_lr=10.0,
                                        num_steps=120)
    lrs = result.learning_rates
    assert lrs[0] == pytest.approx(1e-6)
    ratios = lrs[1:] / lrs[:-1]
    np.testing.assert_allclose(ratios, (10.0 / 1e-6) ** (1 / 119), rtol=1e-10)
    assert result.diverged and len(lrs) < 120  # plain SGD blows up long before rate 10
    assert len(result.losses) == len(result.smoothed_losses) == len(lrs)
    assert result.smoothed_losses[-1] > 4 * np.min(result.smoothed_losses[:-1]) or \
        not np.isfinite(result.smoothed_losses[-1])


def test_smoothed_loss_is_the_bias_corrected_moving_average():
    x, y = _data()
    result = profond.find_learning_rate(_model(), x, y, num_steps=40, end_lr=1e-3,
                                        smoothing=0.9)
    avg, expected = 0.0, []
    for i, loss in enumerate(result.losses):
        avg = 0.9 * avg + 0.1 * loss
        expected.append(avg / (1 - 0.9 ** (i + 1)))
    np.testing.assert_allclose(result.smoothed_losses, expected, rtol=1e-12)
    assert not result.diverged and len(result.losses) == 40  # cycles over the 8 batches


@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_suggestion_trains_well(optimizer):
    x, y = _data()
    result = profond.find_learning_rate(_model(optimizer), x, y, num_steps=150)
    lr = result.suggested_learning_rate
    assert lr < result.min_loss_learning_rate
    losses = {}
    for rate in (lr, lr / 100):
        model = _model(profond.optimizers.get({"class_name": optimizer,
                                               "config": {"learning_rate": rate}}), seed=1)
        losses[rate] = model.fit(x, y, epochs=3, verbose=0).history["loss"][-1]
    assert losses[lr] < 0.5 * losses[lr / 100], (lr, losses)


def test_restores_weights_optimizer_state_and_random_generator():
    x, y = _data()
    # Reference: train for 2 epochs straight away.
    reference = _model(Adam(0.01))
    reference.fit(x, y, epochs=1, verbose=0)
    profond.random.seed(5)
    ref_loss = reference.fit(x, y, epochs=1, verbose=0).history["loss"]
    # Same, but with a range test between the two epochs.
    model = _model(Adam(0.01))
    model.fit(x, y, epochs=1, verbose=0)
    weights = model.get_weights()
    state = model.optimizer.get_state()
    profond.random.seed(5)
    profond.find_learning_rate(model, x, y, num_steps=60)
    for a, b in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(a, b)
    after = model.optimizer.get_state()
    assert after["iterations"] == state["iterations"] and after["learning_rate"] == 0.01
    for s1, s2 in zip(after["slots"], state["slots"]):
        for k in s1:
            np.testing.assert_array_equal(s1[k], s2[k])
    assert model.fit(x, y, epochs=1, verbose=0).history["loss"] == ref_loss


def test_fresh_optimizer_stays_fresh_and_schedule_is_kept():
    x, y = _data()
    schedule = profond.schedules.ExponentialDecay(0.01, 10, 0.5)
    model = _model(SGD(schedule, momentum=0.9))
    profond.find_learning_rate(model, x, y, num_steps=30)
    assert model.optimizer.iterations == 0 and model.optimizer.variables == []
    assert model.optimizer._learning_rate is schedule


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    x, y = _data()
    result = profond.find_learning_rate(_model(), x, y, num_steps=80)
    path = tmp_path / "lr.png"
    fig = result.plot(path)
    assert os.path.getsize(path) > 1000 and fig.axes[0].get_xscale() == "log"
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]


def test_short_curve_gives_no_suggestion():
    x, y = _data()
    result = profond.find_learning_rate(_model(), x, y, num_steps=8, end_lr=1e-4)
    assert result.suggested_learning_rate is None
    assert result.min_loss_learning_rate in result.learning_rates


@pytest.mark.parametrize("kwargs, message", [
    ({"start_lr": 0.0}, "'start_lr' parameter of find_learning_rate"),
    ({"start_lr": 1e-3, "end_lr": 1e-4}, "'end_lr' parameter"),
    ({"num_steps": 1}, "'num_steps' parameter"),
    ({"smoothing": 1.0}, "'smoothing' parameter"),
    ({"divergence_threshold": 1.0}, "'divergence_threshold' parameter"),
    ({"batch_size": 0}, "'batch_size' parameter"),
])
def test_invalid_arguments(kwargs, message):
    x, y = _data(32)
    with pytest.raises(ValueError) as info:
        profond.find_learning_rate(_model(), x, y, **kwargs)
    assert message in str(info.value)


def test_needs_a_compiled_model():
    x, y = _data(32)
    with pytest.raises(RuntimeError, match="compile"):
        profond.find_learning_rate(profond.Sequential([layers.Dense(1)]), x, y)
