"""The activation layers (``ReLU``, ``LeakyReLU``, ``PReLU``, ``ELU``, ``Softmax``): forward
against the functions and NumPy, float64 gradchecks (PReLU's ``alpha`` too), Softmax's mask, bad
arguments, and Keras parity with Keras's weights copied in where Keras is installed."""

import os

import numpy as np
import pytest
from _opcheck import draw

import profond
from profond import layers, saving
from profond.testing import gradcheck

X = draw((3, 4, 5), low=-3.0, high=3.0, seed=3, points=(0.0, 1.0, 2.0))

LAYERS = [
    ("ReLU", {}), ("ReLU", {"max_value": 2.0, "negative_slope": 0.1, "threshold": 1.0}),
    ("LeakyReLU", {}), ("LeakyReLU", {"negative_slope": 0.05}),
    ("ELU", {}), ("ELU", {"alpha": 0.5}),
    ("PReLU", {"alpha_initializer": "random_uniform"}),
    ("PReLU", {"alpha_initializer": "random_uniform", "shared_axes": [1]}),
    ("PReLU", {"alpha_initializer": "random_uniform", "shared_axes": 2}),
    ("Softmax", {}), ("Softmax", {"axis": 1}), ("Softmax", {"axis": (1, 2)}),
]


def _reference(name, kwargs, x, alpha=None):
    if name == "ReLU":
        thr, cap, slope = kwargs.get("threshold", 0.0), kwargs.get("max_value"), \
            kwargs.get("negative_slope", 0.0)
        pos = np.where(x > thr, x, 0)
        pos = pos if cap is None else np.clip(pos, 0, cap)
        return pos - slope * np.maximum(thr - x, 0)
    if name == "LeakyReLU":
        return np.where(x > 0, x, kwargs.get("negative_slope", 0.3) * x)
    if name == "ELU":
        return np.where(x > 0, x, kwargs.get("alpha", 1.0) * np.expm1(x))
    if name == "PReLU":
        return np.where(x > 0, x, alpha * x)
    axis = kwargs.get("axis", -1)
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


@pytest.mark.parametrize("name,kwargs", LAYERS, ids=str)
def test_layer_forward_and_gradcheck(name, kwargs):
    layer = getattr(layers, name)(**kwargs)
    out = layer(X.astype(np.float32))
    alpha = layer.alpha.numpy() if name == "PReLU" else None
    np.testing.assert_allclose(out.numpy(), _reference(name, kwargs, X, alpha), rtol=1e-5,
                               atol=1e-6)
    assert layer.compute_output_shape((None, 4, 5)) == (None, 4, 5)
    clone = type(layer).from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    with profond.backend.floatx_scope("float64"):
        layer64 = getattr(layers, name)(**kwargs)
        layer64.build((None, 4, 5))
        if name == "PReLU":
            assert layer64.alpha.dtype == np.float64
            assert gradcheck(lambda x, a: profond.ops.prelu(x, a), X, layer64.alpha.numpy())
        assert gradcheck(lambda t: layer64(t), X)


def test_prelu_weight_has_keras_shape_and_learns():
    layer = layers.PReLU(shared_axes=[1, 2])
    layer(np.zeros((2, 4, 4, 3), np.float32))
    assert [w.shape for w in layer.get_weights()] == [(1, 1, 3)]
    np.testing.assert_array_equal(layer.alpha.numpy(), 0)  # Keras's default: a ReLU at first
    x = profond.tensor(-np.ones((2, 4, 4, 3), np.float32))
    layer(x).sum().backward()
    np.testing.assert_allclose(layer.alpha.grad, np.full((1, 1, 3), -32.0))
    assert layer.get_config()["alpha_initializer"]["class_name"] == "Zeros"


def test_softmax_mask_gives_zero_to_masked_positions_and_keeps_the_sum():
    x = profond.tensor(draw((2, 3, 4), seed=5), requires_grad=True)
    mask = np.array([[True, True, False, True], [False, True, True, True]])[:, None, :]
    out = layers.Softmax()(x, mask=mask)
    assert np.all(out.numpy()[np.broadcast_to(~mask, (2, 3, 4))] == 0)
    np.testing.assert_allclose(out.numpy().sum(-1), 1, rtol=1e-6)
    (out * profond.tensor(draw((2, 3, 4), seed=6))).sum().backward()
    assert np.all(x.grad[np.broadcast_to(~mask, (2, 3, 4))] == 0)
    float_mask = mask.astype(np.float32)
    np.testing.assert_array_equal(layers.Softmax()(x, mask=float_mask).numpy(), out.numpy())
    assert gradcheck(lambda t: layers.Softmax()(t, mask=mask), x.numpy().astype(np.float64))


@pytest.mark.parametrize("make,match", [
    (lambda: layers.ReLU(max_value=-1.0), r"'max_value' parameter of ReLU must be"),
    (lambda: layers.ReLU(negative_slope=-0.1), r"'negative_slope' parameter of ReLU must be"),
    (lambda: layers.ReLU(threshold=None), r"'threshold' parameter of ReLU must be"),
    (lambda: layers.LeakyReLU(negative_slope=-1), r"'negative_slope' parameter of LeakyReLU"),
    (lambda: layers.PReLU(shared_axes=[0]), r"'shared_axes' parameter of PReLU must be an int"),
    (lambda: layers.PReLU(shared_axes=[3])(np.zeros((1, 2))),
     r"'shared_axes' parameter of PReLU must name axes"),
    (lambda: layers.Softmax(axis="last"), r"'axis' parameter of Softmax must be an int"),
    (lambda: layers.Softmax()(np.zeros((2, 3)), mask=np.ones((2, 2), bool)),
     r"'mask' parameter of Softmax must broadcast .* \(2, 3\).* Got shape \(2, 2\) instead"),
])
def test_bad_arguments_are_refused(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize("name", ["ReLU", "LeakyReLU", "PReLU", "ELU", "Softmax"])
def test_layers_are_found_by_their_keras_names(name):
    layer = getattr(layers, name)()
    config = saving.serialize_keras_object(layer)
    assert (config["module"], config["class_name"]) == ("keras.layers", name)
    assert type(saving.deserialize_keras_object(config)) is type(layer)


# --- Keras as the oracle ------------------------------------------------------------------------
@pytest.mark.parametrize("name,kwargs", LAYERS, ids=str)
def test_layer_matches_keras(name, kwargs):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = draw((3, 4, 5), low=-3.0, high=3.0, seed=4).astype(np.float32)
    theirs = getattr(keras.layers, name)(**kwargs)
    ours = getattr(layers, name)(**kwargs)
    expected = keras.ops.convert_to_numpy(theirs(x))
    ours.build((None, 4, 5))
    assert [w.shape for w in ours.get_weights()] == \
        [tuple(w.shape) for w in theirs.get_weights()]
    ours.set_weights(theirs.get_weights())  # PReLU's alpha
    np.testing.assert_allclose(ours(x).numpy(), expected, rtol=1e-5, atol=1e-6)
    if name != "ELU":  # Keras 3.15's ELU leaves alpha out of its config
        config = theirs.get_config()
        assert {k: v for k, v in ours.get_config().items() if k in config and k != "name"} == \
            {k: v for k, v in config.items() if k in ours.get_config() and k != "name"}


def test_softmax_mask_matches_keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    x = draw((2, 3, 4), seed=5).astype(np.float32)
    mask = np.array([[True, True, False, True], [False, True, True, True]])[:, None, :]
    expected = keras.ops.convert_to_numpy(keras.layers.Softmax()(x, mask=mask))
    np.testing.assert_allclose(layers.Softmax()(x, mask=mask).numpy(), expected, rtol=1e-5,
                               atol=1e-7)


@pytest.mark.parametrize("name,kwargs", LAYERS, ids=str)
def test_keras_config_builds_the_same_layer(name, kwargs):
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras")
    import json
    config = json.loads(json.dumps(keras.saving.serialize_keras_object(
        getattr(keras.layers, name)(**kwargs))))
    config["config"].pop("dtype")  # Keras writes a dtype policy, which Layer does not read
    layer = saving.deserialize_keras_object(config)
    assert type(layer) is getattr(layers, name)
    for key, value in config["config"].items():
        if key != "name":
            assert layer.get_config()[key] == value, key
