"""LayerNormalization, RMSNormalization, UnitNormalization and GroupNormalization: forward
against NumPy references, backward against finite differences, configs, errors, save/load."""

import warnings

import numpy as np
import pytest

import profond
from profond import layers, ops
from profond.testing import gradcheck

RNG = np.random.default_rng(0)


# --- NumPy references --------------------------------------------------------------------------
def _bshape(shape, axes):
    return tuple(s if a in axes else 1 for a, s in enumerate(shape))


def ref_layer_norm(x, gamma, beta, axes, eps, rms_scaling=False):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    xhat = (x if rms_scaling else x - mean) / np.sqrt(var + eps)
    b = _bshape(x.shape, axes)
    out = xhat * (1 if gamma is None else gamma.reshape(b))
    return out + (0 if beta is None else beta.reshape(b))


def ref_rms_norm(x, scale, axes, eps):
    out = x / np.sqrt((x ** 2).mean(axis=axes, keepdims=True) + eps)
    return out * scale.reshape(_bshape(x.shape, axes))


def ref_unit_norm(x, axes):
    return x / np.maximum(np.sqrt((x ** 2).sum(axis=axes, keepdims=True)), 1e-12)


def ref_group_norm(x, groups, gamma, beta, axis, eps):
    # one loop per group, written independently of the op's reshape
    axis %= x.ndim
    size = x.shape[axis] // groups
    out = np.empty_like(x)
    reduce = tuple(range(1, x.ndim))
    for k in range(groups):
        idx = [slice(None)] * x.ndim
        idx[axis] = slice(k * size, (k + 1) * size)
        part = x[tuple(idx)]
        mean = part.mean(axis=reduce, keepdims=True)
        var = part.var(axis=reduce, keepdims=True)
        out[tuple(idx)] = (part - mean) / np.sqrt(var + eps)
    b = _bshape(x.shape, (axis,))
    return out * gamma.reshape(b) + beta.reshape(b)


def _f64(x):
    return profond.tensor(x, dtype="float64")


def _random_weights(layer):
    layer.set_weights([RNG.normal(size=w.shape).astype(w.dtype) for w in layer.get_weights()])
    return layer.get_weights()


# --- forward -----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,axis", [((4, 5), -1), ((2, 3, 4), -1), ((2, 3, 4), 1),
                                        ((2, 3, 4), (1, 2)), ((2, 3, 4, 5), [1, 3]),
                                        ((2, 3, 4), (-1, 1))], ids=str)
def test_layer_normalization_forward(shape, axis):
    x = RNG.normal(2.0, 3.0, shape)
    layer = layers.LayerNormalization(axis=axis, dtype="float64")
    layer.build(shape)
    gamma, beta = _random_weights(layer)
    axes = tuple(sorted(a % len(shape) for a in np.atleast_1d(axis)))
    assert gamma.shape == tuple(shape[a] for a in axes) == beta.shape
    np.testing.assert_allclose(layer(_f64(x)).numpy(), ref_layer_norm(x, gamma, beta, axes, 1e-3),
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("center,scale", [(False, True), (True, False), (False, False)])
def test_layer_normalization_without_beta_or_gamma(center, scale):
    x = RNG.normal(size=(3, 6))
    layer = layers.LayerNormalization(center=center, scale=scale, dtype="float64")
    layer.build(x.shape)
    weights = _random_weights(layer)
    assert len(weights) == center + scale
    gamma = weights[0] if scale else None
    beta = weights[-1] if center else None
    np.testing.assert_allclose(layer(_f64(x)).numpy(), ref_layer_norm(x, gamma, beta, (1,), 1e-3),
                               rtol=1e-10, atol=1e-10)


def test_layer_normalization_rms_scaling_warns_and_has_only_gamma():
    x = RNG.normal(1.0, 2.0, (3, 6))
    with pytest.warns(UserWarning, match="deprecated"):
        layer = layers.LayerNormalization(rms_scaling=True, dtype="float64")
    layer.build(x.shape)
    (gamma,) = _random_weights(layer)
    np.testing.assert_allclose(layer(_f64(x)).numpy(),
                               ref_layer_norm(x, gamma, None, (1,), 1e-3, rms_scaling=True),
                               rtol=1e-10)


@pytest.mark.parametrize("shape,axis", [((4, 5), -1), ((2, 3, 4), (1, 2)), ((2, 3, 4), 0)],
                         ids=str)
def test_rms_normalization_forward(shape, axis):
    x = RNG.normal(size=shape)
    layer = layers.RMSNormalization(axis=axis, dtype="float64")
    layer.build(shape)
    assert [w.name for w in layer.weights] == ["scale"]
    np.testing.assert_array_equal(layer.get_weights()[0], 1.0)
    (scale,) = _random_weights(layer)
    axes = tuple(sorted(a % len(shape) for a in np.atleast_1d(axis)))
    np.testing.assert_allclose(layer(_f64(x)).numpy(), ref_rms_norm(x, scale, axes, 1e-6), rtol=1e-10)


@pytest.mark.parametrize("shape,axis", [((4, 5), -1), ((2, 3, 4), (1, 2)), ((2, 3, 4), 1)],
                         ids=str)
def test_unit_normalization_forward(shape, axis):
    x = RNG.normal(size=shape)
    layer = layers.UnitNormalization(axis=axis, dtype="float64")
    assert layer.weights == []
    axes = tuple(sorted(a % len(shape) for a in np.atleast_1d(axis)))
    out = layer(_f64(x)).numpy()
    np.testing.assert_allclose(out, ref_unit_norm(x, axes), rtol=1e-10)
    np.testing.assert_allclose(np.sqrt((out ** 2).sum(axis=axes)), 1.0, rtol=1e-10)


def test_unit_normalization_keeps_a_zero_vector_zero_with_a_finite_gradient():
    x = profond.tensor(np.array([[0.0, 0.0], [3.0, 4.0]]), requires_grad=True)
    out = layers.UnitNormalization()(x)
    np.testing.assert_allclose(out.numpy(), [[0, 0], [0.6, 0.8]], rtol=1e-6)
    out.sum().backward()
    assert np.all(np.isfinite(x.grad))


@pytest.mark.parametrize("shape,groups,axis", [((2, 6), 3, -1), ((2, 4, 6), 2, -1),
                                               ((2, 4, 3, 3), 2, 1), ((2, 3, 3, 4), 4, -1),
                                               ((2, 3, 4), 1, -1), ((2, 5, 4), -1, -1)],
                         ids=str)
def test_group_normalization_forward(shape, groups, axis):
    x = RNG.normal(1.0, 2.0, shape)
    layer = layers.GroupNormalization(groups=groups, axis=axis, dtype="float64")
    layer.build(shape)
    gamma, beta = _random_weights(layer)
    assert gamma.shape == (shape[axis],) == beta.shape
    count = shape[axis] if groups == -1 else groups
    np.testing.assert_allclose(layer(_f64(x)).numpy(),
                               ref_group_norm(x, count, gamma, beta, axis, 1e-3), rtol=1e-10,
                               atol=1e-10)


def test_float32_by_default_and_the_same_in_training_and_inference():
    x = RNG.normal(size=(3, 4, 6)).astype(np.float32)
    for layer in (layers.LayerNormalization(), layers.RMSNormalization(),
                  layers.UnitNormalization(), layers.GroupNormalization(3)):
        out = layer(x)
        assert out.dtype == np.float32
        np.testing.assert_array_equal(out.numpy(), layer(x, training=True).numpy())


# --- backward ----------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,axis", [((3, 5), -1), ((2, 3, 4), 1), ((2, 3, 4), (1, 2)),
                                        ((2, 3, 4), (0, 2)), ((1, 4), -1)], ids=str)
def test_layer_norm_gradients(shape, axis):
    axes = tuple(sorted(a % len(shape) for a in np.atleast_1d(axis)))
    wshape = tuple(shape[a] for a in axes)
    x, g, b = RNG.normal(size=shape), RNG.normal(size=wshape), RNG.normal(size=wshape)
    assert gradcheck(lambda x, g, b: ops.layer_norm(x, g, b, axis=axis), x, g, b)
    assert gradcheck(lambda x: ops.layer_norm(x, axis=axis), x)
    assert gradcheck(lambda x, g: ops.layer_norm(x, g, axis=axis, rms_scaling=True), x, g)


@pytest.mark.parametrize("shape,axis", [((3, 5), -1), ((2, 3, 4), (1, 2)), ((2, 3, 4), 0)],
                         ids=str)
def test_rms_norm_gradients(shape, axis):
    axes = tuple(sorted(a % len(shape) for a in np.atleast_1d(axis)))
    x, s = RNG.normal(size=shape), RNG.normal(size=tuple(shape[a] for a in axes))
    assert gradcheck(lambda x, s: ops.rms_norm(x, s, axis=axis), x, s)
    assert gradcheck(lambda x: ops.rms_norm(x, axis=axis), x)


@pytest.mark.parametrize("shape,axis", [((3, 5), -1), ((2, 3, 4), (1, 2)), ((2, 3, 4), 0)],
                         ids=str)
def test_l2_normalize_gradients(shape, axis):
    assert gradcheck(lambda x: ops.l2_normalize(x, axis=axis), RNG.normal(size=shape))


@pytest.mark.parametrize("shape,groups,axis", [((2, 6), 3, -1), ((2, 4, 6), 2, -1),
                                               ((2, 4, 3, 2), 2, 1), ((2, 3, 4), 4, -1)],
                         ids=str)
def test_group_norm_gradients(shape, groups, axis):
    size = shape[axis]
    x, g, b = RNG.normal(size=shape), RNG.normal(size=size), RNG.normal(size=size)
    assert gradcheck(lambda x, g, b: ops.group_norm(x, groups, g, b, axis=axis), x, g, b)


def test_layers_train_in_a_model():
    x = RNG.normal(size=(64, 4, 6)).astype(np.float32)
    y = (x.sum(axis=(1, 2)) > 0).astype(np.float32)
    model = profond.Sequential([layers.Input((4, 6)), layers.LayerNormalization(axis=(1, 2)),
                                layers.RMSNormalization(), layers.GroupNormalization(3),
                                layers.UnitNormalization(), layers.Flatten(), layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    before = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=1, batch_size=16, verbose=0)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))


# --- configs, errors, saving -------------------------------------------------------------------
@pytest.mark.parametrize("layer", [
    layers.LayerNormalization(axis=(1, 2), epsilon=1e-5, center=False,
                              gamma_regularizer="l2", beta_constraint="non_neg"),
    layers.RMSNormalization(axis=[1, 2], epsilon=1e-4),
    layers.UnitNormalization(axis=(1, 2)),
    layers.GroupNormalization(groups=2, axis=1, epsilon=1e-4, scale=False,
                              gamma_initializer="zeros"),
], ids=lambda layer: type(layer).__name__)
def test_config_round_trip(layer):
    config = layer.get_config()
    assert config["axis"] in ([1, 2], 1)
    again = type(layer).from_config(config)
    assert again.get_config() == config
    x = RNG.normal(size=(2, 4, 3)).astype(np.float32)
    layer(x)
    again(x)
    again.set_weights(layer.get_weights())
    np.testing.assert_array_equal(again(x).numpy(), layer(x).numpy())


def test_keras_config_keys():
    assert set(layers.LayerNormalization().get_config()) >= {
        "axis", "epsilon", "center", "scale", "rms_scaling", "beta_initializer",
        "gamma_initializer", "beta_regularizer", "gamma_regularizer", "beta_constraint",
        "gamma_constraint"}
    assert {"axis", "epsilon"} <= set(layers.RMSNormalization().get_config())
    config = layers.GroupNormalization().get_config()
    assert (config["groups"], config["axis"], config["epsilon"]) == (32, -1, 1e-3)
    assert layers.RMSNormalization().epsilon == 1e-6


@pytest.mark.parametrize("make,message", [
    (lambda: layers.LayerNormalization(axis="last"),
     "The 'axis' parameter of LayerNormalization must be an int or a non-empty list"),
    (lambda: layers.UnitNormalization(axis=[]),
     "The 'axis' parameter of UnitNormalization must be an int or a non-empty list"),
    (lambda: layers.LayerNormalization(epsilon=0),
     "The 'epsilon' parameter of LayerNormalization must be a float in (0, inf). Got 0"),
    (lambda: layers.RMSNormalization(epsilon=-1.0),
     "The 'epsilon' parameter of RMSNormalization must be a float"),
    (lambda: layers.GroupNormalization(groups=0),
     "The 'groups' parameter of GroupNormalization must be a positive int, or -1"),
    (lambda: layers.GroupNormalization(axis=(1, 2)),
     "The 'axis' parameter of GroupNormalization must be an int. Got (1, 2) instead."),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError) as err:
        make()
    assert message in str(err.value)


def test_shape_errors_name_the_layer():
    with pytest.raises(ValueError, match=r"'axis' parameter of layer 'ln' \(LayerNormalization\)"
                                         r" must name distinct axes.*Got axis 2 for inputs of "
                                         r"shape \(2, 3\) instead"):
        layers.LayerNormalization(axis=2, name="ln")(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"distinct axes.*Got axis \[1, -1\]"):
        layers.RMSNormalization(axis=[1, -1])(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"'groups' parameter of layer 'gn' \(GroupNormalization"
                                         r"\) must divide the 6 channels on axis -1. Got 4"):
        layers.GroupNormalization(4, name="gn")(np.ones((2, 6)))
    with pytest.raises(ValueError, match=r"must name a non-batch axis"):
        layers.GroupNormalization(2, axis=0)(np.ones((2, 6)))
    with pytest.raises(ValueError, match=r"The 'gamma' parameter of layer_norm must have shape "
                                         r"\(3,\)"):
        ops.layer_norm(profond.tensor(np.ones((2, 3))), profond.tensor(np.ones(4)))


def test_save_and_load(tmp_path):
    model = profond.Sequential([
        layers.Input((4, 6)), layers.LayerNormalization(axis=(1, 2), gamma_regularizer="l2"),
        layers.RMSNormalization(), layers.GroupNormalization(3, epsilon=1e-4),
        layers.UnitNormalization(axis=(1, 2)), layers.Flatten(), layers.Dense(2)])
    for layer in model.layers:
        if layer.weights:
            _random_weights(layer)
    x = RNG.normal(size=(3, 4, 6)).astype(np.float32)
    model.save(tmp_path / "m.safetensors")
    loaded = profond.load_model(tmp_path / "m.safetensors")
    assert [type(layer).__name__ for layer in loaded.layers] == \
        [type(layer).__name__ for layer in model.layers]
    assert loaded.layers[0].get_config()["axis"] == [1, 2]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no rms_scaling warning on a plain load
        profond.load_model(tmp_path / "m.safetensors")
