"""Structured pruning: removed units make a smaller model with the same outputs when dead."""

import numpy as np
import pytest

import profond
from profond import layers as L
from profond.pruning import NeuronPruning, neuron_scores, prunable_layers, prune_neurons

GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4}


def kill(layer, units, rng, bias="random"):
    """Zero the weights of ``units`` of ``layer``: their kernel columns (all gate blocks for a
    recurrent layer, with its recurrent columns and biases). Dense/conv biases get ``bias``."""
    ws = {v.name: v for v in layer.weights}
    units = np.asarray(units)
    g = GATES.get(type(layer).__name__)
    if g:
        cols = np.concatenate([i * layer.units + units for i in range(g)])
        for name in ("kernel", "recurrent_kernel", "bias"):
            a = ws[name].numpy().copy()
            a[..., cols] = 0
            ws[name].assign(a)
        return
    k = ws["kernel"].numpy().copy()
    k[..., units] = 0
    ws["kernel"].assign(k)
    if "bias" in ws:
        b = ws["bias"].numpy().copy()
        b[units] = rng.normal(size=len(units)) if bias == "random" else 0.0
        ws["bias"].assign(b)


def assert_same_outputs(model, small, x, atol=1e-5):
    np.testing.assert_allclose(model.predict(x, verbose=0), small.predict(x, verbose=0),
                               atol=atol, rtol=1e-5)


def mlp(units=(8, 6), out=3, n_in=5, activation="relu", out_activation=None):
    return profond.Sequential([L.Input((n_in,))] +
                              [L.Dense(u, activation=activation, name=f"h{i}")
                               for i, u in enumerate(units)] +
                              [L.Dense(out, activation=out_activation, name="out")])


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid", None])
def test_dead_dense_units_removed_exactly(rng, activation):
    model = mlp(activation=activation)
    kill(model.layers[0], [1, 5], rng)  # constant units: activation(bias), folded downstream
    kill(model.layers[1], [0], rng, bias="zero")
    small = prune_neurons(model, threshold=0.0)
    assert [layer.units for layer in small.layers] == [6, 5, 3]
    assert small.count_params() == 5 * 6 + 6 + 6 * 5 + 5 + 5 * 3 + 3
    assert_same_outputs(model, small, rng.normal(size=(7, 5)))


def test_without_fold_bias_the_constant_is_lost(rng):
    model = mlp()
    kill(model.layers[0], [1], rng)
    b = model.layers[0].bias.numpy().copy()
    b[1] = 2.0  # relu(2) = 2: a live constant unit
    model.layers[0].bias.assign(b)
    x = rng.normal(size=(7, 5))
    assert_same_outputs(model, prune_neurons(model, threshold=0.0), x)
    with pytest.raises(AssertionError):
        assert_same_outputs(model, prune_neurons(model, threshold=0.0, fold_bias=False), x)


def test_original_model_untouched_and_weights_sliced(rng):
    model = mlp()
    before = model.get_weights()
    small = prune_neurons(model, amount=2, criterion="l1")
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)
    scores = neuron_scores(model, criterion="l1")["h0"]
    keep = np.sort(np.argsort(scores, kind="stable")[2:])
    kernel = small.layers[0].get_weights()[0]
    np.testing.assert_array_equal(kernel, before[0][:, keep])
    np.testing.assert_array_equal(small.layers[1].get_weights()[0].shape, (6, 4))


def test_conv_batchnorm_pool_flatten_chain(rng):
    model = profond.Sequential([
        L.Input((8, 8, 3)), L.Conv2D(6, 3, activation="relu", name="c1"),
        L.BatchNormalization(name="bn"), L.MaxPooling2D(2), L.Dropout(0.3),
        L.Conv2D(5, 2, activation="sigmoid", name="c2"), L.Flatten(),
        L.Dense(7, activation="tanh", name="d1"), L.Dense(3, name="out")])
    model.layers[1].set_weights([rng.random(6) + 0.5, rng.normal(size=6), rng.normal(size=6),
                                 rng.random(6) + 0.5])
    kill(model.layers[0], [1, 4], rng)
    kill(model.layers[4], [0, 3], rng)
    kill(model.layers[6], [2], rng)
    small = prune_neurons(model, threshold=0.0)
    assert [small.layers[i].get_weights()[0].shape for i in (0, 4, 6)] == \
        [(3, 3, 3, 4), (2, 2, 4, 3), (2 * 2 * 3, 6)]
    assert [w.shape for w in small.layers[1].get_weights()] == [(4,)] * 4
    assert_same_outputs(model, small, rng.normal(size=(4, 8, 8, 3)))


def test_conv1d_global_pooling(rng):
    model = profond.Sequential([L.Input((10, 3)), L.Conv1D(6, 3, activation="relu", name="c"),
                                L.GlobalAveragePooling1D(), L.Dense(2, name="out")])
    kill(model.layers[0], [0, 2], rng)
    small = prune_neurons(model, threshold=0.0)
    assert small.layers[0].filters == 4
    assert_same_outputs(model, small, rng.normal(size=(4, 10, 3)))


@pytest.mark.parametrize("cls", [L.SimpleRNN, L.GRU, L.LSTM])
def test_dead_recurrent_units_removed_exactly(rng, cls):
    model = profond.Sequential([L.Input((5, 3)), cls(6, return_sequences=True, name="r1"),
                                cls(5, name="r2"), L.Dense(4, name="d"), L.Dense(2, name="out")])
    kill(model.layers[0], [0, 5], rng)
    kill(model.layers[1], [2], rng)
    small = prune_neurons(model, threshold=0.0)
    assert [small.layers[i].units for i in range(3)] == [4, 4, 4]
    g = GATES[cls.__name__]
    assert small.layers[1].recurrent_kernel.shape == (4, g * 4)
    assert small.layers[1].kernel.shape == (4, g * 4)
    assert_same_outputs(model, small, rng.normal(size=(4, 5, 3)))


def test_pruned_model_saves_loads_and_trains(rng, tmp_path):
    model = mlp(units=(16, 16), out_activation="softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = rng.normal(size=(64, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)
    model.fit(x, y, epochs=2, verbose=0)
    small = prune_neurons(model, amount=0.5)
    assert small.optimizer is not model.optimizer and small.optimizer is not None
    loss0 = small.evaluate(x, y, verbose=0)[0]
    small.fit(x, y, epochs=15, verbose=0)
    assert small.evaluate(x, y, verbose=0)[0] < loss0
    path = tmp_path / "small.safetensors"
    small.save(str(path))
    loaded = profond.load_model(str(path))
    assert [layer.units for layer in loaded.layers] == [8, 8, 3]
    np.testing.assert_allclose(loaded.predict(x, verbose=0), small.predict(x, verbose=0),
                               atol=1e-6)
    loaded.fit(x, y, epochs=1, verbose=0)
    model.save_weights(str(tmp_path / "big.weights.safetensors"))
    small.save_weights(str(tmp_path / "small.weights.safetensors"))
    sizes = [(tmp_path / f"{n}.weights.safetensors").stat().st_size for n in ("big", "small")]
    assert sizes[1] < 0.6 * sizes[0]


def test_amount_fraction_int_and_dict():
    model = mlp(units=(10, 10))
    assert [layer.units for layer in prune_neurons(model, amount=0.3).layers] == [7, 7, 3]
    assert [layer.units for layer in prune_neurons(model, amount=4).layers] == [6, 6, 3]
    small = prune_neurons(model, amount={"h1": 0.5})
    assert [layer.units for layer in small.layers] == [10, 5, 3]
    small = prune_neurons(model, threshold=0.0, layers=["h0"])
    assert [layer.units for layer in small.layers] == [10, 10, 3]


def test_pruning_every_unit_is_an_error():
    model = mlp()
    with pytest.raises(ValueError, match=r"remove all 8 units of layer 'h0' \(Dense\)"):
        prune_neurons(model, threshold=1e9)
    with pytest.raises(ValueError, match="remove all 8 units of layer 'h0'"):
        prune_neurons(model, amount=8)
    with pytest.raises(ValueError, match=r"The 'amount' parameter of prune_neurons must be a "
                                         r"float in \[0, 1\)"):
        prune_neurons(model, amount=1.0)


def test_layers_that_cannot_be_pruned_are_named():
    model = mlp()
    with pytest.raises(ValueError, match="Layer 'out' \\(Dense\\) gives the model's outputs"):
        prune_neurons(model, amount=0.5, layers=["out"])
    drop = profond.Sequential([L.Input((5,)), L.Dense(4, name="h"), L.Dropout(0.1, name="dr"),
                               L.Dense(2, name="out")])
    with pytest.raises(ValueError, match="Layer 'dr' \\(Dropout\\) has no units"):
        prune_neurons(drop, amount=0.5, layers=["dr"])
    reshaped = profond.Sequential([L.Input((6,)), L.Dense(8, name="h"),
                                   L.Reshape((2, 4), name="rs"), L.Flatten(),
                                   L.Dense(2, name="out")])
    assert prunable_layers(reshaped) == []
    with pytest.raises(ValueError, match="flow into layer 'rs' \\(Reshape\\)"):
        prune_neurons(reshaped, amount=0.5, layers=["h"])
    mixing = profond.Sequential([L.Input((5,)), L.Dense(4, activation="softmax", name="sm"),
                                 L.Dense(2, name="out")])
    assert prunable_layers(mixing) == []
    with pytest.raises(ValueError, match="Layer 'sm' \\(Dense\\) cannot be pruned: its "
                                         "'softmax' activation mixes its units"):
        prune_neurons(mixing, amount=0.5, layers=["sm"])
    with pytest.raises(ValueError, match="does not have"):
        prune_neurons(model, amount=0.5, layers=["nope"])
    with pytest.raises(ValueError, match=r"'threshold' and 'amount' parameters of prune_neurons "
                                         r"must be one given, one None"):
        prune_neurons(model)
    with pytest.raises(ValueError, match="The 'criterion' parameter of prune_neurons"):
        prune_neurons(model, amount=0.5, criterion="l3")


def test_subclassed_model_is_rejected():
    class Net(profond.Model):
        def __init__(self):
            super().__init__()
            self.h = L.Dense(4)

        def call(self, x):
            return self.h(x)

    net = Net()
    net(np.zeros((1, 3)))
    with pytest.raises(TypeError, match="Sequential"):
        prune_neurons(net, amount=0.5)


def test_gradual_pruning_shrinks_during_fit_and_keeps_training(rng):
    model = mlp(units=(12, 12), out_activation="softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = rng.normal(size=(96, 5)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0)
    pruner = NeuronPruning(final_amount=0.5, steps=3, start_epoch=1, frequency=2)
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0, callbacks=[pruner])
    assert [e["epoch"] for e in pruner.events] == [1, 3, 5]
    assert [e["units"]["h0"] for e in pruner.events] == [10, 8, 6]
    assert [layer.units for layer in model.layers] == [6, 6, 3]
    assert model.optimizer.iterations == 8 * 6
    assert np.isfinite(history.history["loss"]).all()
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_adopt_layers_slices_optimizer_state(rng):
    from profond.pruning import adopt_layers
    from profond.pruning.structured import _prune

    model = mlp(units=(6, 4), out_activation="softmax")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = rng.normal(size=(32, 5)).astype("float32")
    model.fit(x, (x[:, 0] > 0).astype("int64"), epochs=1, verbose=0)
    before = {v.path: s for v, s in zip(model.optimizer.variables,
                                        model.optimizer.get_state()["slots"])}
    new, removed, ops = _prune(model, None, {"h0": 2}, "l2", ["h0"], True)
    adopt_layers(model, new, ops)
    keep = np.setdiff1d(np.arange(6), removed["h0"])
    after = {v.path: s for v, s in zip(model.optimizer.variables,
                                       model.optimizer.get_state()["slots"])}
    assert model.layers[0].units == 4 and model.optimizer.iterations == 1
    for slot in before["h0/kernel"]:
        np.testing.assert_array_equal(after["h0/kernel"][slot], before["h0/kernel"][slot][:, keep])
        np.testing.assert_array_equal(after["h1/kernel"][slot], before["h1/kernel"][slot][keep])
        np.testing.assert_array_equal(after["out/kernel"][slot], before["out/kernel"][slot])
