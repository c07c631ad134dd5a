"""BatchNormalization: training vs inference, moving statistics, gradients, Keras layout."""

import numpy as np
import pytest
from _opcheck import draw

import profond
from profond import layers, ops
from profond.testing import gradcheck


def test_training_uses_batch_statistics():
    x = draw((16, 3), seed=1) * 4 + 2
    layer = layers.BatchNormalization()
    out = layer(x, training=True).numpy()
    ref = (x - x.mean(0)) / np.sqrt(x.var(0) + 1e-3)
    np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-5)


def test_inference_uses_moving_statistics():
    layer = layers.BatchNormalization()
    layer.build((None, 2))
    layer.set_weights([np.array([2.0, 1.0]), np.array([0.5, 0.0]), np.array([1.0, -1.0]),
                       np.array([4.0, 0.25])])
    x = np.array([[3.0, 0.0], [1.0, -2.0]])
    ref = np.array([2.0, 1.0]) * (x - [1.0, -1.0]) / np.sqrt(np.array([4.0, 0.25]) + 1e-3) + \
        np.array([0.5, 0.0])
    for training in (False, None):
        np.testing.assert_allclose(layer(x, training=training).numpy(), ref, rtol=1e-5)
    # inference leaves the statistics alone
    np.testing.assert_array_equal(layer.get_weights()[2], [1.0, -1.0])


def test_moving_statistics_follow_keras_update_rule():
    rng = np.random.default_rng(0)
    layer = layers.BatchNormalization(momentum=0.9)
    mm, mv = np.zeros(4), np.ones(4)
    for _ in range(3):
        x = rng.normal(3.0, 2.0, (32, 5, 4))
        layer(x, training=True)
        mean, var = x.mean(axis=(0, 1)), x.var(axis=(0, 1))  # biased variance, as Keras
        mm, mv = 0.9 * mm + 0.1 * mean, 0.9 * mv + 0.1 * var
    np.testing.assert_allclose(layer.moving_mean.numpy(), mm, rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), mv, rtol=1e-5)


def test_weights_order_and_trainability():
    layer = layers.BatchNormalization()
    layer(np.ones((2, 4, 4, 3)))
    assert [v.name for v in layer.weights] == ["gamma", "beta", "moving_mean", "moving_variance"]
    assert [v.name for v in layer.trainable_weights] == ["gamma", "beta"]
    assert [v.name for v in layer.non_trainable_weights] == ["moving_mean", "moving_variance"]
    assert [w.shape for w in layer.get_weights()] == [(3,)] * 4
    no_affine = layers.BatchNormalization(center=False, scale=False)
    no_affine(np.ones((2, 3)))
    assert [v.name for v in no_affine.weights] == ["moving_mean", "moving_variance"]


def test_frozen_layer_runs_in_inference_mode():
    layer = layers.BatchNormalization()
    x = draw((8, 2)) + 5
    layer(x, training=True)
    before = layer.get_weights()
    layer.trainable = False
    out = layer(x, training=True).numpy()
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)
    mm, mv = before[2], before[3]
    np.testing.assert_allclose(out, (x - mm) / np.sqrt(mv + 1e-3), rtol=1e-5)


@pytest.mark.parametrize("axis,shape", [(-1, (6, 3)), (-1, (3, 4, 5, 2)), (1, (4, 3, 5))])
def test_gradients_training_and_inference(axis, shape):
    x = draw(shape, seed=2) * 3 + 1
    c = shape[axis]
    gamma, beta = draw((c,), seed=3), draw((c,), seed=4)
    assert gradcheck(lambda t, g, b: ops.batch_norm_train(t, g, b, axis)[0], x, gamma, beta)
    mean, var = np.linspace(-1, 1, c), np.linspace(0.5, 2, c)
    assert gradcheck(lambda t, g, b: ops.batch_norm_inference(t, mean, var, g, b, axis),
                     x, gamma, beta)
    assert gradcheck(lambda t: ops.batch_norm_train(t, axis=axis, epsilon=0.1)[0], x)


def test_layer_axis_and_dtypes():
    for dtype in ("float32", "float64"):
        with profond.backend.floatx_scope(dtype):
            layer = layers.BatchNormalization(axis=1)
            x = draw((5, 3, 4), seed=5)
            out = layer(x, training=True)
            assert out.dtype == np.dtype(dtype)
            assert layer.moving_mean.shape == (3,)
            np.testing.assert_allclose(out.numpy().mean(axis=(0, 2)), 0, atol=1e-5)


def test_fit_updates_statistics_and_predict_uses_them():
    rng = np.random.default_rng(0)
    x = rng.normal(10.0, 3.0, (256, 4)).astype(np.float32)
    y = (x[:, 0] > 10).astype(np.int64)
    model = profond.Sequential([layers.Input((4,)), layers.BatchNormalization(momentum=0.9),
                                layers.Dense(2, activation="softmax")])
    model.compile(optimizer=profond.optimizers.Adam(0.05),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x, y, epochs=5, batch_size=32, verbose=0)
    bn = model.layers[0]
    np.testing.assert_allclose(bn.moving_mean.numpy(), x.mean(0), rtol=0.05)
    np.testing.assert_allclose(bn.moving_variance.numpy(), x.var(0), rtol=0.25)
    # one sample at a time: only possible with the moving statistics
    single = np.stack([model.predict(x[i:i + 1], verbose=0)[0] for i in range(8)])
    np.testing.assert_allclose(single, model.predict(x[:8], verbose=0), rtol=1e-5)
    assert model.evaluate(x, y, verbose=0)[1] > 0.9


@pytest.mark.parametrize("kwargs,message", [
    (dict(momentum=1.5), "The 'momentum' parameter of BatchNormalization must be a float in "
                         "[0, 1]. Got 1.5 instead."),
    (dict(epsilon=0), "The 'epsilon' parameter of BatchNormalization must be a float in "
                      "(0, inf). Got 0 instead."),
    (dict(axis="last"), "The 'axis' parameter of BatchNormalization must be an int"),
    (dict(beta_initializer="nope"), "nope"),
])
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as err:
        layers.BatchNormalization(**kwargs)
    assert message in str(err.value)


def test_shape_errors_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r"'axis' parameter of layer 'bn' \(BatchNormalization\) "
                                         r"must be in range.*Got axis 3 for inputs of shape "
                                         r"\(2, 3\) instead"):
        layers.BatchNormalization(axis=3, name="bn")(np.ones((2, 3)))
    layer = layers.BatchNormalization(name="bn2")
    layer(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"'bn2' \(BatchNormalization\) must have 3 features.*"
                                         r"Got input shape \(2, 4\) instead"):
        layer(np.ones((2, 4)))


def test_config_round_trip():
    layer = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, center=False)
    config = layers.BatchNormalization.from_config(layer.get_config()).get_config()
    assert (config["momentum"], config["epsilon"], config["center"]) == (0.9, 1e-5, False)
