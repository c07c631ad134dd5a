"""Behaviours matched against the real Keras 3 (PyTorch backend): the history's keys, grouped
convolutions and bilinear up-sampling with Keras's weights, Normalization's weight list."""

import os

import numpy as np
import pytest

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras", reason="Keras is a test oracle; install profond[test]")

import profond  # noqa: E402
from profond import layers  # noqa: E402


def _np(x):
    return np.asarray(keras.ops.convert_to_numpy(x))


@pytest.mark.parametrize("metrics", [["acc", "mae"], ["accuracy", "mean_absolute_error", "mse"],
                                     ["precision", "recall", "auc"]])
def test_history_keys_match_keras(metrics):
    rng = np.random.default_rng(0)
    x = rng.random((32, 3)).astype("float32")
    y = (x.sum(1, keepdims=True) > 1.5).astype("float32")
    k = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    k.compile("adam", "binary_crossentropy", metrics=list(metrics))
    k_hist = k.fit(x, y, validation_split=0.25, epochs=1, verbose=0).history
    p = profond.Sequential([layers.Input((3,)), layers.Dense(1, activation="sigmoid")])
    p.compile("adam", "binary_crossentropy", metrics=list(metrics))
    p_hist = p.fit(x, y, validation_split=0.25, epochs=1, verbose=0).history
    assert sorted(p_hist) == sorted(k_hist)  # no learning_rate in either
    assert sorted(p.evaluate(x, y, verbose=0, return_dict=True)) == sorted(
        k.evaluate(x, y, verbose=0, return_dict=True))


def test_learning_rate_logged_by_plateau_callback_as_in_keras():
    x = np.ones((16, 2), dtype="float32")
    y = x.sum(1, keepdims=True)
    k = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    k.compile("sgd", "mse")
    k_hist = k.fit(x, y, epochs=1, verbose=0,
                   callbacks=[keras.callbacks.ReduceLROnPlateau()]).history
    p = profond.Sequential([layers.Input((2,)), layers.Dense(1)])
    p.compile("sgd", "mse")
    p_hist = p.fit(x, y, epochs=1, verbose=0,
                   callbacks=[profond.callbacks.ReduceLROnPlateau()]).history
    assert sorted(p_hist) == sorted(k_hist) == ["learning_rate", "loss"]


@pytest.mark.parametrize("rank,groups", [(2, 2), (2, 6), (1, 3)])
def test_grouped_conv_with_keras_weights(rank, groups):
    rng = np.random.default_rng(1)
    shape = (2, 7, 6, 12) if rank == 2 else (2, 9, 12)
    x = rng.normal(size=shape).astype("float32")
    cls = "Conv2D" if rank == 2 else "Conv1D"
    k = getattr(keras.layers, cls)(6, 3, groups=groups, padding="same",
                                   bias_initializer="random_normal")
    k_out = _np(k(x))
    p = getattr(layers, cls)(6, 3, groups=groups, padding="same")
    p.build(shape)
    assert [w.shape for w in p.get_weights()] == [w.shape for w in k.get_weights()]
    p.set_weights(k.get_weights())
    np.testing.assert_allclose(p(x).numpy(), k_out, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("size", [(2, 2), (3, 2), (1, 4)])
def test_bilinear_upsampling_matches_keras(size):
    x = np.random.default_rng(2).normal(size=(2, 4, 5, 3)).astype("float32")
    expected = _np(keras.layers.UpSampling2D(size, interpolation="bilinear")(x))
    got = layers.UpSampling2D(size, interpolation="bilinear")(x).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_normalization_weight_list_copies_from_keras():
    x = np.random.default_rng(3).normal(4, 3, size=(40, 5)).astype("float32")
    k = keras.layers.Normalization()
    k.adapt(x)
    k_weights = k.get_weights()
    p = layers.Normalization()
    p.build((None, 5))
    assert [(w.shape, w.dtype.kind) for w in p.get_weights()] == [
        (w.shape, w.dtype.kind) for w in k_weights]
    p.set_weights(k_weights)
    np.testing.assert_allclose(p(x).numpy(), _np(k(x)), rtol=1e-5, atol=1e-5)
    ours = layers.Normalization()
    ours.adapt(x)
    for a, b in zip(ours.get_weights()[:2], k_weights[:2]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    k.set_weights(ours.get_weights())  # and the other way
