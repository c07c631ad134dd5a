"""Magnitude pruning: schedules, masks that stay zero through training, strip_pruning."""

import numpy as np
import pytest

import profond
from profond import layers as L
from profond.pruning import (
    ConstantSparsity,
    PolynomialSparsity,
    PruningCallback,
    get_sparsity,
    prune_low_magnitude,
    prune_neurons,
    strip_pruning,
)


def model_and_data(rng, optimizer="adam"):
    model = profond.Sequential([L.Input((6,)), L.Dense(16, activation="relu", name="h"),
                                L.Dense(8, activation="relu", name="h2"),
                                L.Dense(1, name="out")])
    model.compile(optimizer=optimizer, loss="mse")
    x = rng.normal(size=(64, 6)).astype("float32")
    return model, x, (x[:, :3].sum(axis=1) - x[:, 3]).astype("float32")


def zeros(model):
    return {v.path: v.numpy() == 0 for v in model.weights if v.name == "kernel"}


def test_constant_schedule_values():
    s = ConstantSparsity(0.5, begin_step=4, end_step=20, frequency=4)
    assert [s(t) for t in (0, 3, 4, 5, 8, 20, 21)] == [None, None, 0.5, None, 0.5, 0.5, None]


def test_polynomial_schedule_is_zhu_gupta():
    s = PolynomialSparsity(0.1, 0.9, begin_step=10, end_step=110, power=3, frequency=10)
    assert s(10) == pytest.approx(0.1)
    assert s(60) == pytest.approx(0.9 + (0.1 - 0.9) * 0.5 ** 3)
    assert s(110) == pytest.approx(0.9)
    assert s(55) is None
    open_ended = PolynomialSparsity(0.0, 0.8, frequency=5)
    assert open_ended(7, end_step=7) == pytest.approx(0.8)   # fit's last step
    with pytest.raises(ValueError, match="end_step"):
        open_ended(0)


@pytest.mark.parametrize("optimizer", ["adam", profond.optimizers.SGD(0.05, momentum=0.9)])
def test_masks_stay_zero_through_training(rng, optimizer):
    model, x, y = model_and_data(rng, optimizer)
    prune_low_magnitude(model, sparsity=0.6, begin_step=0, end_step=2, frequency=1)
    model.fit(x, y, epochs=1, batch_size=16, verbose=0, callbacks=[PruningCallback()])
    for v in model.weights:
        if v.name == "kernel":
            assert int((v.numpy() == 0).sum()) == round(0.6 * v.size)
    masks = zeros(model)
    model.fit(x, y, epochs=4, batch_size=16, verbose=0, callbacks=[PruningCallback()])
    after = zeros(model)
    for path, mask in masks.items():  # end_step passed: the same weights, still exactly zero
        np.testing.assert_array_equal(after[path], mask)
    biases = [v.numpy() for v in model.weights if v.name == "bias"]
    assert all(np.count_nonzero(b) > 0 for b in biases[:2])   # biases are not pruned


def test_the_smallest_weights_are_pruned(rng):
    model, _, _ = model_and_data(rng)
    kernel = model.layers[0].kernel.numpy().copy()
    prune_low_magnitude(model, sparsity=0.25, layers=["h"])
    model._pruning.update_masks(0.25)
    pruned = model.layers[0].kernel.numpy() == 0
    assert pruned.sum() == round(0.25 * kernel.size)
    assert np.abs(kernel[pruned]).max() <= np.abs(kernel[~pruned]).min()
    assert get_sparsity(model)["h2/kernel"] == 0.0


def test_polynomial_schedule_reaches_final_sparsity_at_end_of_fit(rng):
    model, x, y = model_and_data(rng)
    prune_low_magnitude(model, sparsity=0.8, schedule="polynomial", frequency=3)
    seen = []

    class Watch(profond.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(get_sparsity(self.model)["h/kernel"])

    model.fit(x, y, epochs=3, batch_size=8, verbose=0, callbacks=[PruningCallback(), Watch()])
    assert seen == sorted(seen)                       # sparsity only grows
    assert seen[0] == 0.0 and seen[-1] == pytest.approx(0.8, abs=0.01)


def test_strip_pruning_gives_a_plain_model_that_saves_and_loads(rng, tmp_path):
    model, x, y = model_and_data(rng)
    prune_low_magnitude(model, sparsity=0.5, frequency=1)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[PruningCallback()])
    plain = strip_pruning(model)
    assert plain is model and all(v.constraint is None for v in model.weights)
    assert get_sparsity(model)["h/kernel"] == 0.5
    path = str(tmp_path / "m.safetensors")
    model.save(path)
    loaded = profond.load_model(path)
    assert get_sparsity(loaded)["h/kernel"] == 0.5
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    loaded.fit(x, y, epochs=1, verbose=0)      # a plain model: weights may move again
    assert get_sparsity(loaded)["h/kernel"] < 0.5


def test_layer_constraint_kept_under_the_mask(rng):
    model = profond.Sequential([L.Input((4,)), L.Dense(8, name="h",
                                                       kernel_constraint=lambda w: w.clip(-.1, .1)),
                                L.Dense(1, name="out")])
    model.compile(optimizer=profond.optimizers.SGD(1.0), loss="mse")
    x = rng.normal(size=(32, 4))
    prune_low_magnitude(model, sparsity=0.5, frequency=1)
    model.fit(x, x.sum(axis=1) * 10, epochs=2, verbose=0, callbacks=[PruningCallback()])
    kernel = model.layers[0].kernel.numpy()
    assert np.abs(kernel).max() <= 0.1 + 1e-7 and (kernel == 0).mean() == 0.5
    strip_pruning(model)
    assert callable(model.layers[0].kernel.constraint)


def test_dead_units_after_magnitude_pruning_are_removed_exactly(rng):
    """Magnitude pruning then structured pruning: units whose kernel is all zero go, outputs
    unchanged (their constant output is folded into the next bias)."""
    model, x, y = model_and_data(rng)
    prune_low_magnitude(model, sparsity=0.9, layers=["h"], frequency=1)
    model.fit(x, y, epochs=1, verbose=0, callbacks=[PruningCallback()])
    strip_pruning(model)
    dead = int((np.abs(model.layers[0].kernel.numpy()).sum(axis=0) == 0).sum())
    assert dead > 0
    small = prune_neurons(model, threshold=0.0, layers=["h"])
    assert small.layers[0].units == 16 - dead
    np.testing.assert_allclose(small.predict(x, verbose=0), model.predict(x, verbose=0),
                               atol=1e-5)


def test_errors(rng):
    model, x, y = model_and_data(rng)
    with pytest.raises(ValueError, match=r"The 'sparsity' parameter of prune_low_magnitude must be "
                                         r"a target sparsity.*Got None instead"):
        prune_low_magnitude(model)
    with pytest.raises(ValueError, match=r"The 'target_sparsity' parameter of ConstantSparsity "
                                         r"must be a float in \[0, 1\)"):
        prune_low_magnitude(model, sparsity=1.0)
    with pytest.raises(ValueError, match="The 'schedule' parameter of prune_low_magnitude"):
        prune_low_magnitude(model, sparsity=0.5, schedule="cubic")
    with pytest.raises(ValueError, match=r"names \['nope'\]"):
        prune_low_magnitude(model, sparsity=0.5, layers=["nope"])
    with pytest.raises(ValueError, match="not prepared for pruning"):
        model.fit(x, y, verbose=0, callbacks=[PruningCallback()])
    with pytest.raises(ValueError, match="not prepared for pruning"):
        strip_pruning(model)
    prune_low_magnitude(model, schedule=ConstantSparsity(0.5))
    with pytest.raises(ValueError, match="already prepared"):
        prune_low_magnitude(model, sparsity=0.5)
    unbuilt = profond.Sequential([L.Dense(2)])
    with pytest.raises(ValueError, match="not built"):
        prune_low_magnitude(unbuilt, sparsity=0.5)
