"""The divergence guard: probes, re-creates diverging models, rolls diverged epochs back, keeps
the best weights, and leaves healthy runs untouched."""

import math

import numpy as np
import pytest

import profond
from profond import layers
from profond.callbacks import Callback, DivergenceError, DivergenceGuard, LambdaCallback
from profond.callbacks.divergence import recreate_weights
from profond.optimizers import SGD


def _data(n=256):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 3.0], dtype="float32"))[:, None]
    return x, y


def _model(lr, optimizer=None):
    model = profond.Sequential([layers.Input((4,)), layers.Dense(16, activation="relu"),
                                layers.Dense(1)])
    model.compile(optimizer=optimizer or SGD(learning_rate=lr), loss="mse")
    return model


class Snapshots(Callback):
    """Weights, optimizer step count and learning rate after each epoch (as later callbacks
    see them; fit logs no rate, as Keras's does not)."""

    def __init__(self):
        super().__init__()
        self.weights, self.iterations, self.rates = [], [], []

    def on_epoch_end(self, epoch, logs=None):
        self.weights.append(self.model.get_weights())
        self.iterations.append(self.model.optimizer.iterations)
        self.rates.append(float(self.model.optimizer.last_learning_rate))


def test_a_learning_rate_far_too_large_is_caught_by_the_probe():
    x, y = _data()
    profond.random.seed(0)
    with np.errstate(all="ignore"):
        snaps = Snapshots()
        history = _model(lr=2.0).fit(x, y, epochs=4, verbose=0, callbacks=[snaps],
                                     divergence_guard={"verbose": 0})
    probes = [e for e in history.events if e["kind"] == "probe"]
    assert len(probes) >= 2 and not probes[0]["ok"] and probes[-1]["ok"]
    assert "diverged" in probes[0]["message"] and probes[0]["reason"]
    assert probes[1]["seed"] is not None
    assert probes[-1]["learning_rate"] == pytest.approx(2.0 * 0.1 ** (len(probes) - 1))
    assert snaps.rates[0] == pytest.approx(probes[-1]["learning_rate"])
    assert all(math.isfinite(v) for v in history.history["loss"])
    assert history.history["loss"][-1] < history.history["loss"][0]
    # Without the guard the same run diverges.
    profond.random.seed(0)
    with np.errstate(all="ignore"):
        bare = _model(lr=2.0).fit(x, y, epochs=4, verbose=0)
    assert not math.isfinite(bare.history["loss"][-1]) or bare.history["loss"][-1] > 1e6


def test_a_healthy_run_is_unchanged_by_the_guard():
    x, y = _data()
    profond.random.seed(3)
    plain = _model(lr=0.01)
    h1 = plain.fit(x, y, epochs=3, verbose=0, validation_split=0.2)
    profond.random.seed(3)
    guarded = _model(lr=0.01)
    h2 = guarded.fit(x, y, epochs=3, verbose=0, validation_split=0.2, divergence_guard=True)
    for a, b in zip(plain.get_weights(), guarded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert h1.history == h2.history
    assert [e["ok"] for e in h2.events] == [True]


def test_nan_injected_mid_run_is_rolled_back_with_a_lower_learning_rate():
    x, y = _data()
    model = _model(lr=0.01)
    snaps = Snapshots()

    def inject(batch, logs):
        if inject.epoch == 2 and batch == 3:
            model.layers[0].kernel.data[0, 0] = np.nan

    inject.epoch = None
    guard = DivergenceGuard(verbose=0, restore_best_weights=True)
    history = model.fit(x, y, epochs=5, verbose=0, validation_split=0.2, callbacks=[
        LambdaCallback(on_epoch_begin=lambda e, logs: setattr(inject, "epoch", e),
                       on_train_batch_end=inject), snaps], divergence_guard=guard)
    rollbacks = [e for e in history.events if e["kind"] == "rollback"]
    assert len(rollbacks) == 1 and rollbacks[0]["epoch"] == 2
    assert "loss is nan" in rollbacks[0]["reason"]
    assert not math.isfinite(history.history["loss"][2])
    # Epoch 3 ended on the weights and optimizer state of the end of epoch 2 ...
    for a, b in zip(snaps.weights[2], snaps.weights[1]):
        np.testing.assert_array_equal(a, b)
    assert snaps.iterations[2] == snaps.iterations[1]
    # ... with half the learning rate, and training went on.
    assert snaps.rates[3] == pytest.approx(0.005)
    assert all(math.isfinite(v) for v in history.history["loss"][3:])
    assert all(np.isfinite(w).all() for w in model.get_weights())
    # The best weights are kept (and restored, as asked).
    best = int(np.nanargmin(history.history["val_loss"]))
    assert guard.best == history.history["val_loss"][best]
    for a, b in zip(model.get_weights(), snaps.weights[best]):
        np.testing.assert_array_equal(a, b)


def test_training_stops_on_good_weights_after_too_many_rollbacks():
    x, y = _data()
    model = _model(lr=0.01)
    snaps = Snapshots()

    def poison(batch, logs):
        if poison.epoch >= 1:
            model.layers[1].bias.data[...] = np.inf

    poison.epoch = 0
    with np.errstate(all="ignore"), pytest.warns(UserWarning, match="gave up after 2 rollbacks"):
        history = model.fit(x, y, epochs=10, verbose=0, callbacks=[
            LambdaCallback(on_epoch_begin=lambda e, logs: setattr(poison, "epoch", e),
                           on_train_batch_end=poison), snaps],
            divergence_guard={"max_rollbacks": 2, "verbose": 0})
    assert history.epoch == [0, 1, 2, 3]
    assert [e["kind"] for e in history.events] == ["probe"] + ["rollback"] * 3
    for a, b in zip(model.get_weights(), snaps.weights[0]):
        np.testing.assert_array_equal(a, b)


def test_every_probe_diverging_raises_a_clear_error():
    x, y = _data()
    model = _model(lr=1e6)
    state = profond.random.get_state()
    with np.errstate(all="ignore"), pytest.raises(DivergenceError,
                                                  match="4 attempts.*lower learning rate"):
        model.fit(x, y, epochs=2, verbose=0,
                           divergence_guard={"retry_lr_factor": 0.9, "verbose": 0})
    assert profond.random.get_state() == state


def test_exploding_gradient_norm_is_detected():
    x, y = _data()
    with np.errstate(all="ignore"):
        history = _model(lr=0.5).fit(x, y, epochs=1, verbose=0, divergence_guard={
            "loss_factor": 1e30, "grad_factor": 50.0, "verbose": 0})
    first = history.events[0]
    assert not first["ok"] and "gradient norm" in first["reason"]
    guard = DivergenceGuard()
    guard.on_train_batch_gradients(0, [np.ones(4, dtype="float32")], None)
    guard.on_train_batch_gradients(0, [np.full(4, 10.0, dtype="float32")], None)
    assert guard._grad_problem is None
    guard.on_train_batch_gradients(0, [np.full(4, 2000.0, dtype="float32")], None)
    assert "exploded to more than 1000 times" in guard._grad_problem


def test_guard_given_as_a_callback_and_argument_checks():
    x, y = _data()
    guard = DivergenceGuard(verbose=0)
    history = _model(lr=0.01).fit(x, y, epochs=1, verbose=0, callbacks=[guard])
    assert [e["kind"] for e in history.events] == ["probe"] and guard.events == history.events
    with pytest.raises(ValueError, match="'divergence_guard' parameter of fit"):
        _model(lr=0.01).fit(x, y, verbose=0, divergence_guard="yes")
    with pytest.raises(ValueError, match="'loss_factor' parameter of DivergenceGuard"):
        DivergenceGuard(loss_factor=1.0)
    with pytest.raises(TypeError):
        _model(lr=0.01).fit(x, y, verbose=0, divergence_guard={"patience": 3})


def test_resuming_skips_the_probe():
    x, y = _data()
    model = _model(lr=0.01)
    history = model.fit(x, y, epochs=3, initial_epoch=2, verbose=0, divergence_guard=True)
    assert history.events == [] and history.epoch == [2]


def test_recreate_weights_draws_new_initial_weights():
    model = _model(lr=0.01)
    model.build((None, 4))
    variables = model.weights
    before = model.get_weights()
    recreate_weights(model, seed=1)
    after = model.get_weights()
    assert model.weights[0] is variables[0]
    assert not np.array_equal(before[0], after[0])
    np.testing.assert_array_equal(after[1], 0 * after[1])  # biases start at zero
    recreate_weights(model, seed=1)
    for a, b in zip(model.get_weights(), after):
        np.testing.assert_array_equal(a, b)


def test_a_schedule_is_rolled_back_but_not_scaled():
    x, y = _data()
    schedule = profond.schedules.ExponentialDecay(0.01, decay_steps=10, decay_rate=0.9)
    model = _model(lr=None, optimizer=SGD(learning_rate=schedule))

    def inject(batch, logs):
        if inject.epoch == 1 and batch == 0:
            model.layers[0].kernel.data[0, 0] = np.nan

    inject.epoch = 0
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[LambdaCallback(
        on_epoch_begin=lambda e, logs: setattr(inject, "epoch", e), on_train_batch_end=inject)],
        divergence_guard={"verbose": 0})
    rollback = [e for e in history.events if e["kind"] == "rollback"][0]
    assert rollback["learning_rate"] is None and "left to its schedule" in rollback["message"]
    assert math.isfinite(history.history["loss"][2])


# --- issue 17: a probe must learn, not merely stay finite ---------------------------------------

def _digits_split():
    from profond import data, datasets

    x, y = datasets.load_digits()
    x_tr, x_te, y_tr, y_te = data.train_test_split(x, y, test_size=0.25, stratify=y, seed=0)
    scaler = data.StandardScaler()
    return (scaler.fit_transform(x_tr).astype("float32"), scaler.transform(x_te).astype("float32"),
            y_tr, y_te)


def _digits_model(lr):
    profond.random.seed(0)
    model = profond.Sequential([
        layers.Input((64,)), layers.Dense(128, activation="relu", kernel_initializer="he_normal"),
        layers.Dropout(0.2), layers.Dense(64, activation="relu", kernel_initializer="he_normal"),
        layers.Dense(10, activation="softmax")])
    model.compile(optimizer=SGD(learning_rate=lr, momentum=0.9),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("lr", [50.0, 5.0])
def test_the_guard_goes_on_until_a_probe_learns(lr):
    # Issue 17: at 0.5 (with momentum 0.9) the probe's loss stays finite, so the old guard
    # stopped there, and the run ended at chance (0.100 at 50, 0.167 at 5).
    x_tr, x_te, y_tr, y_te = _digits_split()
    model = _digits_model(lr)
    with np.errstate(all="ignore"):
        history = model.fit(x_tr, y_tr, epochs=3, verbose=0, validation_data=(x_te, y_te),
                            divergence_guard={"verbose": 0})
    probes = [e for e in history.events if e["kind"] == "probe"]
    stayed_finite = [p for p in probes if not p["ok"] and not p["diverged"]]
    assert stayed_finite and stayed_finite[0]["learning_rate"] == pytest.approx(0.5)
    assert "did not learn" in stayed_finite[0]["message"]
    curve = stayed_finite[0]["subset_losses"]
    assert not all(b < a for a, b in zip(curve, curve[1:]))  # it climbed back at some epoch
    assert probes[-1]["ok"] and probes[-1]["learning_rate"] == pytest.approx(0.05)
    learned = probes[-1]["subset_losses"]
    assert learned[-1] <= 0.95 * learned[0] and learned == sorted(learned, reverse=True)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)  # (fit logs no rate)
    assert history.history["val_accuracy"][-1] > 0.9


def test_when_no_probe_learns_the_guard_warns_and_keeps_the_best_attempt():
    x, y = _data()
    profond.random.seed(0)
    model = _model(lr=1e-7)  # far too small to move the loss by 5 %
    with pytest.warns(UserWarning, match="no probe learned in 4 attempts"):
        history = model.fit(x, y, epochs=1, verbose=0, divergence_guard={"verbose": 0})
    kinds = [e["kind"] for e in history.events]
    assert kinds == ["probe"] * 4 + ["give_up"]
    assert not any(e["ok"] for e in history.events)
    # Lowering the learning rate only slowed it down: the run goes on from the first attempt.
    assert history.events[-1]["learning_rate"] == pytest.approx(1e-7)
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-7)  # (fit logs no rate)


def test_min_improvement_is_checked():
    with pytest.raises(ValueError, match="'min_improvement' parameter of DivergenceGuard"):
        DivergenceGuard(min_improvement=1.0)


def test_diagnose_calls_an_exploded_run_diverged():
    # Issue 17: a run whose first loss is 3e20 (SGD at 5 with momentum, no guard) then sits
    # near chance was called "overfitting".
    x_tr, x_te, y_tr, y_te = _digits_split()
    with np.errstate(all="ignore"):
        history = _digits_model(5.0).fit(x_tr, y_tr, epochs=4, verbose=0,
                                         validation_data=(x_te, y_te))
    assert history.history["loss"][0] > 1e10 and math.isfinite(history.history["loss"][-1])
    d = history.diagnose()
    assert d.verdict == "diverged" and "exploded" in d.reason
