"""Keras 3 as the oracle of the functional API: the same residual two-input model built in both,
Keras's weights copied in (same order), the same predictions and the same graph in the config."""

import os

import numpy as np
import pytest

import profond

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")


def _build(lib):
    """A two-input model with a shared layer, a skip connection and every merge layer."""
    L = lib.layers
    a, b = L.Input((6,), name="a"), L.Input((6,), name="b")
    shared = L.Dense(6, activation="tanh", name="shared")
    sa, sb = shared(a), shared(b)
    skip = L.Add(name="skip")([sa, a])
    mixed = L.Concatenate(name="joined")([skip, L.Subtract(name="diff")([sa, sb]),
                                          L.Multiply(name="prod")([sa, sb]),
                                          L.Average(name="mean")([sa, sb]),
                                          L.Maximum(name="hi")([sa, b]),
                                          L.Minimum(name="lo")([sb, a])])
    hidden = L.Dense(8, activation="relu", name="hidden")(mixed)
    cosine = L.Dot(axes=1, normalize=True, name="cosine")([sa, sb])
    value = L.Dense(1, name="value")(L.Concatenate(name="head")([hidden, cosine]))
    label = L.Dense(3, activation="softmax", name="label")(hidden)
    model_cls = keras.Model if lib is keras else profond.Model
    return model_cls(inputs={"a": a, "b": b}, outputs=[value, label], name="residual")


def test_residual_two_input_model_predicts_as_keras():
    k_model = _build(keras)
    p_model = _build(profond)
    assert [layer.name for layer in p_model.layers] == [layer.name for layer in k_model.layers]
    k_weights = k_model.get_weights()
    assert [w.shape for w in p_model.get_weights()] == [w.shape for w in k_weights]
    p_model.set_weights(k_weights)
    rng = np.random.default_rng(0)
    x = {"a": rng.normal(size=(16, 6)).astype("float32"),
         "b": rng.normal(size=(16, 6)).astype("float32")}
    for got, want in zip(p_model.predict(x, verbose=0), k_model.predict(x, verbose=0)):
        np.testing.assert_allclose(got, np.asarray(want), rtol=1e-5, atol=1e-5)


def _graph(config):
    """Each layer's inbound links, and the model's inputs and outputs, from a config."""
    def links(node):
        args = node["args"][0]
        args = args if isinstance(args, list) else [args]
        return [t["config"]["keras_history"] for t in args]

    layers = {spec["name"]: (spec["class_name"], [links(n) for n in spec["inbound_nodes"]])
              for spec in config["layers"]}
    return layers, config["input_layers"], config["output_layers"]


def test_config_records_the_graph_as_keras_does():
    assert _graph(_build(profond).get_config()) == _graph(_build(keras).get_config())


def test_a_nested_model_is_referenced_as_keras_does():
    def nested(lib):
        L = lib.layers
        inner_in = L.Input((4,), name="inner_in")
        inner = (keras.Model if lib is keras else profond.Model)(
            inner_in, L.Dense(4, name="inner_dense")(inner_in), name="inner")
        x = L.Input((4,), name="x")
        h = inner(x)
        return (keras.Model if lib is keras else profond.Model)(x, [inner(h), h], name="outer")

    assert _graph(nested(profond).get_config()) == _graph(nested(keras).get_config())
