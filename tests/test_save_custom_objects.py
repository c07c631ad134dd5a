"""Saving models whose layers hold custom initializers, regularizers or activations: what a
file can name is saved, anything else is refused before a byte is written, with the layer,
the argument and the way out."""

import os

import numpy as np
import pytest

import profond
from profond import activations, initializers, layers, regularizers


def _ones_init(shape, dtype=None):
    return np.ones(shape, dtype=dtype)


def _sum_of_squares(w):
    return 0.01 * (w * w).sum()


def _cube(x):
    return x * x * x


class _HalfOnes(initializers.Initializer):
    def __call__(self, shape, dtype=None):
        return np.full(shape, 0.5, dtype=dtype)


class _Abs(regularizers.Regularizer):
    def __call__(self, x):
        return 0.01 * abs(x).sum()


def _model(**dense_kwargs):
    return profond.Sequential([layers.Input((3,)), layers.Dense(2, name="hidden"),
                               layers.Dense(1, name="out", **dense_kwargs)])


def _way(module):
    return r"Register it with @profond.saving.register_keras_serializable\(\)"


REFUSED = [
    (lambda: _model(kernel_initializer=_ones_init), "out", "kernel_initializer",
     "<function _ones_init", "initializer", _way("initializers")),
    (lambda: _model(bias_initializer=_HalfOnes()), "out", "bias_initializer",
     r"_HalfOnes \(module",
     "initializer", _way("initializers")),
    (lambda: _model(kernel_regularizer=_sum_of_squares), "out", "kernel_regularizer",
     "<function _sum_of_squares", "regularizer", _way("regularizers")),
    (lambda: _model(activity_regularizer=_Abs()), "out", "activity_regularizer",
     r"_Abs \(module",
     "regularizer", _way("regularizers")),
    (lambda: _model(activation=_cube), "out", "activation", "<function _cube", "activation",
     _way("activations")),
    (lambda: profond.Sequential([layers.Input((4,), dtype="int64"),
                                 layers.Embedding(5, 2, embeddings_regularizer=_sum_of_squares,
                                                  name="emb")]),
     "emb", "embeddings_regularizer", "<function _sum_of_squares", "regularizer",
     _way("regularizers")),
    (lambda: profond.Sequential([layers.Input((3,)),
                                 layers.BatchNormalization(gamma_initializer=_ones_init,
                                                           name="bn")]),
     "bn", "gamma_initializer", "<function _ones_init", "initializer",
     _way("initializers")),
    (lambda: profond.Sequential([layers.Input((4, 2)),
                                 layers.LSTM(3, recurrent_activation=_cube, name="lstm")]),
     "lstm", "recurrent_activation", "<function _cube", "activation", _way("activations")),
    (lambda: profond.Sequential([layers.Input((4, 2)), layers.Bidirectional(
        layers.GRU(3, recurrent_regularizer=_sum_of_squares, name="gru"))]),
     r"\w*gru", "recurrent_regularizer", "<function _sum_of_squares", "regularizer",
     _way("regularizers")),
]


@pytest.mark.parametrize("make,layer,argument,shown,kind,way", REFUSED)
def test_save_refuses_what_a_file_cannot_name_and_writes_nothing(tmp_path, make, layer,
                                                                 argument, shown, kind, way):
    model = make()
    model.compile(optimizer="sgd", loss="mse")
    path = tmp_path / "m.safetensors"
    with pytest.raises(ValueError, match=f"Cannot save layer '{layer}': its '{argument}' is "
                                         f"{shown}.*which a model file cannot name. {way}.*"
                                         r"use a built-in.*model.save_weights\(path\)"):
        model.save(path)
    assert not os.path.exists(path)
    assert os.listdir(tmp_path) == []  # no temporary file left either
    model.save_weights(tmp_path / "w.safetensors")  # the way out for the weights alone


def test_a_refused_save_leaves_the_old_file_as_it_was(tmp_path):
    path = tmp_path / "m.safetensors"
    _model().save(path)
    before = path.read_bytes()
    with pytest.raises(ValueError, match="'kernel_regularizer'"):
        _model(kernel_regularizer=_sum_of_squares).save(path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["m.safetensors"]


def test_custom_functions_round_trip_through_get_config_in_memory():
    half, absolute = _HalfOnes(), _Abs()
    layer = layers.Dense(2, kernel_initializer=_ones_init, kernel_regularizer=_sum_of_squares,
                         bias_initializer=half, bias_regularizer=absolute)
    config = layer.get_config()
    assert config["kernel_initializer"] is _ones_init
    assert config["kernel_regularizer"] is _sum_of_squares
    # An unregistered subclass has no name either: kept as it is, not a dangling class name.
    assert config["bias_initializer"] is half and config["bias_regularizer"] is absolute
    clone = layers.Dense.from_config(config)
    assert clone.kernel_initializer is _ones_init
    assert clone.kernel_regularizer is _sum_of_squares
    clone.build((None, 3))
    np.testing.assert_array_equal(clone.get_weights()[0], np.ones((3, 2)))
    np.testing.assert_array_equal(clone.get_weights()[1], np.full(2, 0.5))
    for layer in (layers.Embedding(4, 2, embeddings_regularizer=_sum_of_squares),
                  layers.BatchNormalization(beta_regularizer=_sum_of_squares)):
        prefix = "embeddings" if isinstance(layer, layers.Embedding) else "beta"
        assert layer.get_config()[f"{prefix}_regularizer"] is _sum_of_squares


@pytest.fixture
def private_activations(fresh_registry):
    """Activations registered in a test are gone after it."""


def test_a_registered_activation_saves_and_loads(tmp_path, private_activations):
    activations.register("cube", _cube)
    model = _model(activation=_cube)
    model.compile(optimizer="sgd", loss="mse")
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = profond.load_model(path)
    assert loaded.layers[-1].activation is _cube
    x = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    np.testing.assert_array_equal(model.predict(x, verbose=0), loaded.predict(x, verbose=0))


def test_built_in_objects_with_arguments_save_and_load(tmp_path):
    model = profond.Sequential([
        layers.Input((3,)),
        layers.Dense(4, kernel_initializer=initializers.RandomNormal(stddev=0.3, seed=2),
                     kernel_regularizer=regularizers.L1L2(l1=1e-3, l2=1e-2),
                     activity_regularizer="l2", activation="tanh"),
        layers.BatchNormalization(gamma_regularizer=regularizers.L2(1e-3)),
        layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = profond.load_model(path)
    assert loaded.get_config() == model.get_config()
    assert loaded.layers[0].kernel_regularizer.get_config() == {"l1": 1e-3, "l2": 1e-2}


def _half_tanh(x):
    return profond.ops.tanh(x) * 0.5


def test_bidirectional_copies_a_custom_activation_builds_and_trains():
    # Bidirectional copies its layer through get_config: the function itself must travel.
    model = profond.Sequential([layers.Input((5, 3)),
                                layers.Bidirectional(layers.LSTM(4, activation=_half_tanh)),
                                layers.Dense(1)])
    assert model.layers[0].forward_layer.activation is _half_tanh
    assert model.layers[0].backward_layer.activation is _half_tanh
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(1).normal(size=(8, 5, 3)).astype("float32")
    before = model.get_weights()
    history = model.fit(x, x[:, 0, :1], epochs=2, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert not np.array_equal(before[0], model.get_weights()[0])


def _custom_relu():
    def relu(x):  # noqa: shares the built-in's __name__ on purpose
        return x * 2.0
    return relu


def test_a_custom_function_named_relu_is_not_saved_as_the_built_in(tmp_path):
    relu = _custom_relu()
    assert activations.serialize(relu) is relu
    model = _model(activation=relu)
    assert model.layers[-1].get_config()["activation"] is relu
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(ValueError, match="Cannot save layer 'out': its 'activation' is "
                                         "<function _custom_relu.<locals>.relu"):
        model.save(tmp_path / "m.safetensors")
    assert os.listdir(tmp_path) == []
    assert activations.serialize(activations.relu) == "relu"


class _Fill(initializers.Constant):
    """A custom class (Constant's arguments and values under another name)."""


class _Squares(regularizers.Regularizer):
    def __init__(self, factor=0.1):
        self.factor = factor

    def __call__(self, w):
        return self.factor * profond.ops.sum(w * w)

    def get_config(self):
        return {"factor": self.factor}


@pytest.fixture
def private_registries(fresh_registry):
    """Initializers and regularizers registered in a test are gone after it."""


def test_registered_initializer_and_regularizer_save_load_and_train_alike(tmp_path,
                                                                         private_registries):
    initializers.register("Fill", _Fill)
    regularizers.register("Squares", _Squares)
    model = _model(kernel_initializer=_Fill(0.25), kernel_regularizer=_Squares(0.5),
                   activity_regularizer=_Squares(0.01))
    model.compile(optimizer="sgd", loss="mse")
    config = model.layers[-1].get_config()
    assert config["kernel_initializer"] == {"module": __name__, "class_name": "_Fill",
                                            "config": {"value": 0.25},
                                            "registered_name": "Custom>Fill"}
    assert config["kernel_regularizer"] == {"module": __name__, "class_name": "_Squares",
                                            "config": {"factor": 0.5},
                                            "registered_name": "Custom>Squares"}
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = profond.load_model(path)
    out = loaded.layers[-1]
    assert type(out.kernel_initializer) is _Fill and out.kernel_initializer.value == 0.25
    assert type(out.kernel_regularizer) is _Squares and out.kernel_regularizer.factor == 0.5
    assert type(out.activity_regularizer) is _Squares
    np.testing.assert_array_equal(out.get_weights()[0], np.full((2, 1), 0.25))
    rng = np.random.default_rng(2)
    x = rng.normal(size=(8, 3)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")
    kernel, predictions = model.get_weights()[2], model.predict(x, verbose=0)
    # The loss of the step holds both penalties (the activity one on the summed outputs,
    # divided by the batch size as Keras 3 does).
    expected = (np.mean((predictions - y) ** 2) + 0.5 * np.sum(kernel ** 2)
                + 0.01 * np.sum(predictions ** 2) / len(x))
    first = model.train_on_batch(x, y)
    again = loaded.train_on_batch(x, y)
    np.testing.assert_allclose(first, expected, rtol=1e-5)
    np.testing.assert_allclose(again, first, rtol=1e-6)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_registered_plain_function_initializer_and_regularizer_save_and_load(tmp_path,
                                                                            fresh_registry):
    """A registered function (not only a registered class) is named in the model file."""
    import profond.initializers as inits
    import profond.regularizers as regs

    def halves(shape, dtype=None):
        return np.full(shape, 0.5, dtype=dtype or "float32")

    def tiny_l1(w):
        return 1e-3 * profond.ops.sum(profond.ops.abs(w))

    inits.register("halves_fn_test", halves)
    regs.register("tiny_l1_fn_test", tiny_l1)
    model = profond.Sequential([profond.layers.Input((3,)),
                                profond.layers.Dense(2, kernel_initializer=halves,
                                                     kernel_regularizer=tiny_l1)])
    model.compile(optimizer="sgd", loss="mse")
    path = tmp_path / "m.safetensors"
    model.save(path)
    loaded = profond.load_model(path)
    dense = loaded.layers[-1]
    assert dense.kernel_initializer is halves and dense.kernel_regularizer is tiny_l1
    np.testing.assert_array_equal(dense.get_weights()[0], np.full((3, 2), 0.5, "float32"))
