"""Sequential's stack: replace_layers (swap layers in place, as structured pruning does while
training) and input_shape."""

import numpy as np
import pytest

import profond
from profond import layers


def _model():
    return profond.Sequential([layers.Input((4,)), layers.Dense(8, name="hidden"),
                               layers.Dense(1, name="out")])


def test_replace_layers_swaps_the_stack_in_place():
    model = _model()
    new = [layers.Dense(3, name="hidden"), layers.Dense(1, name="out")]
    model.replace_layers(new)
    assert model.layers == new
    assert [spec["class_name"] for spec in model.get_config()["layers"]] == [
        "InputLayer", "Dense", "Dense"]  # the Input stays
    assert all(layer.built for layer in new) and model.built
    assert [w.shape for w in model.get_weights()] == [(4, 3), (3,), (3, 1), (1,)]
    assert model.count_params() == 4 * 3 + 3 + 3 + 1
    x = np.random.default_rng(0).normal(size=(5, 4)).astype(np.float32)
    k1, b1, k2, b2 = model.get_weights()
    np.testing.assert_allclose(model.predict(x, verbose=0), (x @ k1 + b1) @ k2 + b2, rtol=1e-5)


def test_replace_layers_keeps_the_layers_passed_again_and_training_goes_on():
    model = _model()
    model.compile(optimizer="adam", loss="mse")
    x = np.random.default_rng(1).normal(size=(32, 4))
    y = x.sum(axis=1)
    model.fit(x, y, epochs=1, verbose=0)
    out = model.layers[1]
    kept = out.get_weights()
    # a new first layer of the same width: the output layer fits it unchanged
    model.replace_layers([layers.Dense(8, activation="relu", name="hidden"), out])
    assert model.layers[1] is out
    np.testing.assert_array_equal(out.get_weights()[0], kept[0])
    assert {v.path for v in model.trainable_weights} == {"hidden/kernel", "hidden/bias",
                                                         "out/kernel", "out/bias"}
    before = model.layers[0].get_weights()[0].copy()
    history = model.fit(x, y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert not np.array_equal(model.layers[0].get_weights()[0], before)  # the new layer learns


def test_replace_layers_on_a_model_without_input_builds_later():
    model = profond.Sequential([layers.Dense(2)])
    model.replace_layers([layers.Dense(3), layers.Dense(1)])
    assert not model.built and model.input_shape is None
    assert model(np.zeros((2, 5))).shape == (2, 1)
    assert model.input_shape == (2, 5)


def test_replace_layers_rejects_bad_layers_and_keeps_the_old_ones():
    model = _model()
    old = model.layers
    with pytest.raises(TypeError, match="'layers' parameter of Sequential.replace_layers must "
                                        "be a list of Layer. Got str at position 1"):
        model.replace_layers([layers.Dense(2), "dense"])
    with pytest.raises(ValueError, match="must not hold an Input"):
        model.replace_layers([layers.Input((4,)), layers.Dense(1)])
    twice = layers.Dense(4)
    with pytest.raises(ValueError, match="holds layer '.*' twice"):
        model.replace_layers([twice, twice])
    assert model.layers == old
    conv = profond.Sequential([layers.Input((4, 4, 1)), layers.Conv2D(2, 3)])
    before = conv.layers
    with pytest.raises(ValueError, match="larger than the input"):
        conv.replace_layers([layers.Conv2D(2, 5)])
    assert conv.layers == before and conv.built
    assert [w.shape for w in conv.weights] == [(3, 3, 1, 2), (2,)]


def test_input_shape():
    assert _model().input_shape == (None, 4)
    model = profond.Sequential([layers.Dense(2)])
    assert model.input_shape is None
    model.build((None, 7))
    assert model.input_shape == (None, 7)
