"""GradientHealth: per-layer gradient norms each epoch, and one warning, with the layer names and
figures, when the first/last ratio crosses its bounds."""

import math
import warnings

import numpy as np
import pytest

import profond
from profond import layers
from profond.callbacks import GradientHealth


def _fit(model, x, y, health, epochs=2, batch_size=32):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0,
                            callbacks=[health])
    return history, [w for w in caught if issubclass(w.category, RuntimeWarning)
                     and "gradients" in str(w.message)]


def _deep(activation, depth, width=16):
    model = profond.Sequential([layers.Input((8,))] +
                               [layers.Dense(width, activation=activation)
                                for _ in range(depth)] + [layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def _xy(n=64, scale=1.0):
    x = np.random.default_rng(0).normal(size=(n, 8)).astype("float32") * scale
    return x, x.sum(axis=1, keepdims=True) / scale


def test_deep_sigmoid_stack_warns_once_that_gradients_vanish():
    model = _deep("sigmoid", depth=8)
    health = GradientHealth()
    history, caught = _fit(model, *_xy(), health, epochs=3)
    assert len(caught) == 1
    message = str(caught[0].message)
    first, last = model.layers[0].name, model.layers[-1].name
    assert message.startswith("Vanishing gradients at epoch 1")
    assert f"'{first}'" in message and f"'{last}'" in message
    assert f"{health.ratios[0]:.3g}" in message
    assert health.warned == message
    assert all(r < 1e-3 for r in health.ratios)
    # Logged every epoch, per layer, in the history.
    for layer in model.layers:
        assert len(history.history[f"grad_norm/{layer.name}"]) == 3
    assert history.history["grad_norm_ratio"] == health.ratios
    # The callback watched this fit only: a later fit without it leaves it alone.
    calls = health._calls
    model.fit(*_xy(), epochs=1, verbose=0)
    assert health._calls == calls


def test_shallow_relu_net_is_healthy():
    model = _deep("relu", depth=2)
    health = GradientHealth()
    _, caught = _fit(model, *_xy(), health)
    assert caught == [] and health.warned is None
    assert all(1e-3 < r < 1e3 for r in health.ratios)


def _explosive():
    # Unscaled inputs (x ~ 1e4) into a layer initialised small enough not to saturate: the
    # first layer's gradient (x^T delta) is about 1e4 times larger than the last layer's.
    model = profond.Sequential([
        layers.Input((8,)),
        layers.Dense(16, activation="tanh",
                     kernel_initializer=profond.initializers.RandomNormal(stddev=1e-4)),
        layers.Dense(1)])
    model.compile(optimizer=profond.optimizers.SGD(0.0), loss="mse")
    return model


def test_exploding_gradients_warn_and_bounds_are_configurable():
    health = GradientHealth()
    _, caught = _fit(_explosive(), *_xy(scale=1e4), health, epochs=1)
    assert health.ratios[0] > 1e3
    assert len(caught) == 1 and str(caught[0].message).startswith("Exploding gradients")
    quiet = GradientHealth(max_ratio=health.ratios[0] * 10)
    _, caught = _fit(_explosive(), *_xy(scale=1e4), quiet, epochs=1)
    assert caught == [] and quiet.warned is None
    strict = GradientHealth(min_ratio=0.5, max_ratio=2.0)
    _, caught = _fit(_deep("sigmoid", depth=2), *_xy(), strict, epochs=1)
    assert strict.ratios[0] < 0.5 and "Vanishing" in strict.warned
    with pytest.raises(ValueError, match="'min_ratio' parameter of GradientHealth"):
        GradientHealth(min_ratio=10.0, max_ratio=5.0)
    with pytest.raises(ValueError, match="'every' parameter of GradientHealth"):
        GradientHealth(every=0)


def test_norms_match_a_hand_computation():
    # One linear layer, one batch: d(mean((xW + b - y)^2))/dW = 2/n x^T r.
    x, y = _xy(n=32)
    model = profond.Sequential([layers.Input((8,)), layers.Dense(1)])
    model.compile(optimizer=profond.optimizers.SGD(0.0), loss="mse")
    model.build((None, 8))
    kernel, bias = model.get_weights()
    health = GradientHealth()
    history, _ = _fit(model, x, y, health, epochs=1, batch_size=32)
    r = (x @ kernel + bias - y).astype("float64")
    expected = math.sqrt(np.sum((2 / 32 * x.T @ r) ** 2) + np.sum((2 / 32 * r.sum(0)) ** 2))
    got = history.history[f"grad_norm/{model.layers[0].name}"][0]
    assert got == pytest.approx(expected, rel=1e-4)
    assert health.ratios == [1.0]


def test_every_and_log_false():
    x, y = _xy(n=64)
    health = GradientHealth(every=3, log=False)
    history, _ = _fit(_deep("relu", depth=2), x, y, health, epochs=1, batch_size=8)
    assert "grad_norm_ratio" not in history.history and len(health.ratios) == 1
    assert health._count == 3  # batches 0, 3 and 6 of 8


def test_plot_puts_gradient_norms_in_one_panel(tmp_path):
    history, _ = _fit(_deep("tanh", depth=3), *_xy(), GradientHealth(), epochs=2)
    fig = history.plot(tmp_path / "g.png")
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["loss", "grad_norm_ratio", "gradient norm per layer"]  # fit logs no rate
    assert len(fig.axes[-1].lines) == 4
