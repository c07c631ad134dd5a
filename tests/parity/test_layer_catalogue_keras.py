"""The layers of issue 15's catalogue against Keras 3 (PyTorch backend): the same weights
(copied with get_weights/set_weights) give the same outputs; configs cross both ways; an
activity penalty and a spectrally normalised training step agree."""

import os

import numpy as np
import pytest

import profond

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

TOL = dict(rtol=1e-5, atol=1e-5)
RNG = np.random.default_rng(0)

CASES = [
    ("ZeroPadding1D", dict(padding=(2, 1)), (2, 5, 3)),
    ("ZeroPadding3D", dict(padding=((1, 0), (2, 1), (0, 1))), (2, 3, 2, 4, 2)),
    ("Cropping1D", dict(cropping=(1, 2)), (2, 6, 3)),
    ("Cropping2D", dict(cropping=((1, 0), (2, 1))), (2, 5, 6, 3)),
    ("Cropping3D", dict(cropping=1), (2, 4, 5, 3, 2)),
    ("UpSampling1D", dict(size=3), (2, 4, 3)),
    ("UpSampling3D", dict(size=(2, 1, 3)), (2, 2, 3, 2, 2)),
    ("Permute", dict(dims=(3, 1, 2)), (2, 3, 4, 5)),
    ("RepeatVector", dict(n=4), (2, 3)),
    ("Identity", dict(), (2, 3)),
    ("GaussianNoise", dict(stddev=0.3), (2, 3)),       # inference: the identity
    ("GaussianDropout", dict(rate=0.3), (2, 3)),
    ("AlphaDropout", dict(rate=0.3), (2, 3)),
    ("SpatialDropout3D", dict(rate=0.3), (2, 2, 2, 2, 3)),
    ("ActivityRegularization", dict(l1=0.1, l2=0.2), (2, 3)),
    ("EinsumDense", dict(equation="ab,bc->ac", output_shape=4, bias_axes="c"), (3, 5)),
    ("EinsumDense", dict(equation="abc,cde->abde", output_shape=(None, 2, 4), bias_axes="de",
                         activation="tanh"), (2, 3, 5)),
    ("EinsumDense", dict(equation="abcd,cde->abe", output_shape=(3, 6), bias_axes="e"),
     (2, 3, 4, 5)),
    ("EinsumDense", dict(equation="...b,bc->...c", output_shape=4), (2, 3, 5)),
    ("EinsumDense", dict(equation="ab...,bc->ac...", output_shape=(6,), bias_axes="c"),
     (2, 5, 3)),
]
IDS = [f"{name}-{kwargs}" for name, kwargs, _ in CASES]


@pytest.mark.parametrize("name, kwargs, shape", CASES, ids=IDS)
def test_forward_matches_keras_with_its_weights(name, kwargs, shape):
    k_layer = getattr(keras.layers, name)(**kwargs)
    p_layer = getattr(profond.layers, name)(**kwargs)
    x = RNG.normal(size=shape).astype("float32")
    expected = keras.ops.convert_to_numpy(k_layer(x))
    p_layer.build((None,) + shape[1:])
    weights = k_layer.get_weights()
    if name == "EinsumDense" and kwargs.get("bias_axes"):  # nonzero biases, to see them added
        weights[1] = RNG.normal(size=weights[1].shape).astype("float32")
        k_layer.set_weights(weights)
        expected = keras.ops.convert_to_numpy(k_layer(x))
    assert [w.shape for w in p_layer.get_weights()] == [w.shape for w in weights]
    p_layer.set_weights(weights)
    np.testing.assert_allclose(p_layer(x).numpy(), expected, **TOL)
    got_shape = p_layer.compute_output_shape((None,) + shape[1:])
    keras_shape = k_layer.compute_output_shape((None,) + shape[1:])
    # profond fills in an axis the input carries through where Keras leaves None
    assert all(k is None or k == g for k, g in zip(keras_shape, got_shape))
    assert len(got_shape) == len(keras_shape)


@pytest.mark.parametrize("name, kwargs, shape", CASES, ids=IDS)
def test_configs_cross_both_ways(name, kwargs, shape):
    k_layer = getattr(keras.layers, name)(**kwargs)
    p_layer = getattr(profond.layers, name)(**kwargs)
    from_keras = getattr(profond.layers, name).from_config(
        {k: v for k, v in k_layer.get_config().items() if k not in ("dtype",)})
    assert from_keras.get_config().keys() - {"dtype", "trainable"} <= k_layer.get_config().keys()
    from_profond = getattr(keras.layers, name).from_config(
        {k: v for k, v in p_layer.get_config().items() if k != "dtype"})
    assert type(from_profond).__name__ == name


def test_variance_scaling_configs_are_keras_s():
    for name in ("GlorotUniform", "HeNormal", "LecunNormal"):
        assert getattr(profond.initializers, name)(seed=3).get_config() == \
            getattr(keras.initializers, name)(seed=3).get_config()
    k = keras.initializers.VarianceScaling(2.0, "fan_out", "uniform", seed=1,
                                           input_axes=[0], output_axes=[1, 2])
    p = profond.initializers.VarianceScaling.from_config(k.get_config())
    assert p.get_config() == k.get_config()


def _sgd_step(model_k, model_p, x, y):
    model_k.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model_p.compile(optimizer=profond.optimizers.SGD(0.1), loss="mse")
    model_p.set_weights(model_k.get_weights())
    loss_k = model_k.train_on_batch(x, y)
    loss_p = model_p.train_on_batch(x, y)
    return loss_k, loss_p


def test_activity_penalty_is_divided_by_the_batch_size_as_in_keras():
    x = RNG.normal(size=(8, 3)).astype("float32")
    y = RNG.normal(size=(8, 2)).astype("float32")
    model_k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2, activity_regularizer=
                                                                      keras.regularizers.L2(0.3))])
    model_p = profond.Sequential([profond.layers.Input((3,)), profond.layers.Dense(
        2, activity_regularizer=profond.regularizers.L2(0.3))])
    loss_k, loss_p = _sgd_step(model_k, model_p, x, y)
    assert loss_p == pytest.approx(float(loss_k), rel=1e-5)
    for a, b in zip(model_k.get_weights(), model_p.get_weights()):
        np.testing.assert_allclose(b, a, **TOL)


def test_activity_regularization_layer_trains_as_in_keras():
    x = RNG.normal(size=(8, 3)).astype("float32")
    y = RNG.normal(size=(8, 2)).astype("float32")
    model_k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2),
                                keras.layers.ActivityRegularization(0.05, 0.2)])
    model_p = profond.Sequential([profond.layers.Input((3,)), profond.layers.Dense(2),
                                  profond.layers.ActivityRegularization(0.05, 0.2)])
    loss_k, loss_p = _sgd_step(model_k, model_p, x, y)
    assert loss_p == pytest.approx(float(loss_k), rel=1e-5)
    for a, b in zip(model_k.get_weights(), model_p.get_weights()):
        np.testing.assert_allclose(b, a, **TOL)


@pytest.mark.parametrize("inner", ["dense", "conv"])
def test_spectral_normalization_step_matches_keras(inner):
    def wrapped(lib):
        layer = lib.layers.Dense(3) if inner == "dense" else lib.layers.Conv2D(3, 2)
        return lib.layers.SpectralNormalization(layer, power_iterations=2)

    shape = (4, 5) if inner == "dense" else (2, 4, 4, 2)
    x = RNG.normal(size=shape).astype("float32")
    k_layer, p_layer = wrapped(keras), wrapped(profond)
    k_layer.build(shape)
    p_layer.build((None,) + shape[1:])
    assert [w.shape for w in p_layer.get_weights()] == [w.shape for w in k_layer.get_weights()]
    p_layer.set_weights(k_layer.get_weights())
    expected = keras.ops.convert_to_numpy(k_layer(x, training=True))
    np.testing.assert_allclose(p_layer(x, training=True).numpy(), expected, **TOL)
    for a, b in zip(k_layer.get_weights(), p_layer.get_weights()):
        np.testing.assert_allclose(b, a, **TOL)
    np.testing.assert_allclose(p_layer(x).numpy(), keras.ops.convert_to_numpy(k_layer(x)),
                               **TOL)


def test_einsum_dense_trains_as_in_keras():
    x = RNG.normal(size=(8, 3, 4)).astype("float32")
    y = RNG.normal(size=(8, 3, 2, 2)).astype("float32")
    kwargs = dict(equation="abc,cde->abde", output_shape=(None, 2, 2), bias_axes="e")
    model_k = keras.Sequential([keras.Input((3, 4)), keras.layers.EinsumDense(**kwargs)])
    model_p = profond.Sequential([profond.layers.Input((3, 4)),
                                  profond.layers.EinsumDense(**kwargs)])
    for _ in range(3):
        loss_k, loss_p = _sgd_step(model_k, model_p, x, y)
        assert loss_p == pytest.approx(float(loss_k), rel=1e-5)
    for a, b in zip(model_k.get_weights(), model_p.get_weights()):
        np.testing.assert_allclose(b, a, **TOL)


def test_einsum_matches_keras_ops():
    a = RNG.normal(size=(2, 3, 4)).astype("float32")
    b = RNG.normal(size=(4, 5)).astype("float32")
    for eq in ("...i,ij->...j", "bij,jk->bik", "bij,jk"):
        np.testing.assert_allclose(profond.ops.einsum(eq, a, b).numpy(),
                                   keras.ops.convert_to_numpy(keras.ops.einsum(eq, a, b)), **TOL)
