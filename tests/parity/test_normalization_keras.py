"""The per-sample normalisation layers against Keras 3 (PyTorch backend): the same weights
(nonzero random gamma and beta, copied with get_weights/set_weights) give the same outputs, and
one SGD step behind a Dense layer gives the same weights."""

import os

import numpy as np
import pytest

import profond

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

TOL = dict(rtol=1e-5, atol=1e-5)

CASES = [
    ("LayerNormalization", dict(), (4, 6)),
    ("LayerNormalization", dict(axis=(1, 2), epsilon=1e-5), (4, 6)),
    ("LayerNormalization", dict(center=False), (4, 6)),
    # (Keras on torch fails on a single inner axis such as axis=1 of rank 3: it hands any
    # contiguous axes to F.layer_norm, which normalises trailing ones only)
    ("LayerNormalization", dict(axis=[1, 3], epsilon=1e-4), (3, 4, 6)),
    ("LayerNormalization", dict(scale=False), (6,)),
    ("LayerNormalization", dict(rms_scaling=True), (4, 6)),  # deprecated; both warn
    ("RMSNormalization", dict(), (4, 6)),
    ("RMSNormalization", dict(axis=[1, 2], epsilon=1e-3), (4, 6)),
    ("UnitNormalization", dict(), (4, 6)),
    ("UnitNormalization", dict(axis=(1, 2)), (4, 6)),
    ("GroupNormalization", dict(groups=3), (4, 6)),
    ("GroupNormalization", dict(groups=2, axis=1, epsilon=1e-4), (4, 6)),
    ("GroupNormalization", dict(groups=-1), (3, 6)),
    ("GroupNormalization", dict(groups=1, center=False), (2, 3, 6)),
]
IDS = [f"{name}-{kwargs}-{shape}" for name, kwargs, shape in CASES]


def _pair(name, kwargs, shape):
    k_layer = getattr(keras.layers, name)(**kwargs)
    p_layer = getattr(profond.layers, name)(**kwargs)
    k_layer.build((None, *shape))
    p_layer.build((None, *shape))
    rng = np.random.default_rng(0)
    weights = [rng.normal(1.0, 0.5, w.shape).astype(np.float32) for w in k_layer.get_weights()]
    assert [w.shape for w in p_layer.get_weights()] == [w.shape for w in weights]
    k_layer.set_weights(weights)
    p_layer.set_weights(weights)
    return k_layer, p_layer


@pytest.mark.filterwarnings("ignore:.*rms_scaling")
@pytest.mark.parametrize("name,kwargs,shape", CASES, ids=IDS)
def test_outputs_match_keras(name, kwargs, shape):
    k_layer, p_layer = _pair(name, kwargs, shape)
    assert [w.path.split("/")[-1] for w in k_layer.weights] == \
        [w.name.split("/")[-1] for w in p_layer.weights]
    x = np.random.default_rng(1).normal(1.0, 2.0, (5, *shape)).astype(np.float32)
    expected = keras.ops.convert_to_numpy(k_layer(x))
    np.testing.assert_allclose(p_layer(x).numpy(), expected, **TOL)


@pytest.mark.filterwarnings("ignore:.*rms_scaling")
@pytest.mark.parametrize("name,kwargs,shape", CASES, ids=IDS)
def test_config_matches_keras(name, kwargs, shape):
    k_config = getattr(keras.layers, name)(**kwargs).get_config()
    p_config = getattr(profond.layers, name)(**kwargs).get_config()
    for key in set(k_config) - {"name", "dtype", "trainable"}:
        assert p_config[key] == k_config[key], key


@pytest.mark.filterwarnings("ignore:.*rms_scaling")
@pytest.mark.parametrize("name,kwargs,shape", CASES, ids=IDS)
def test_one_sgd_step_matches_keras(name, kwargs, shape):
    def model(lib):
        return lib.Sequential([lib.layers.Input(shape), lib.layers.Dense(shape[-1]),
                               getattr(lib.layers, name)(**kwargs)])

    k_model, p_model = model(keras), model(profond)
    rng = np.random.default_rng(2)
    weights = [rng.normal(0.5, 0.5, w.shape).astype(np.float32) for w in k_model.get_weights()]
    k_model.set_weights(weights)
    p_model.set_weights(weights)
    x = rng.normal(size=(8, *shape)).astype(np.float32)
    y = rng.normal(size=(8, *shape)).astype(np.float32)
    k_model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    p_model.compile(optimizer=profond.optimizers.SGD(0.1), loss="mse")
    k_model.train_on_batch(x, y)
    p_model.train_on_batch(x, y)
    for got, expected in zip(p_model.get_weights(), k_model.get_weights()):
        np.testing.assert_allclose(got, expected, **TOL)
    assert not np.allclose(p_model.get_weights()[0], weights[0])
