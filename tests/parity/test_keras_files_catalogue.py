"""The layers of the catalogue (issue 15) and attention cross Keras 3 ``.keras`` files both ways:
a model saved by Keras loads in profond and predicts as Keras does, and profond's save of it
loads back in Keras with the same predictions."""

import os

import numpy as np
import pytest

import profond

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
pytest.importorskip("h5py")


def _sequential(shape, make):
    return shape, lambda lib: lib.Sequential([lib.layers.Input(shape), make(lib)])


def _two_inputs(make):
    def build(lib):
        q, v = lib.layers.Input((4, 6)), lib.layers.Input((3, 6))
        return lib.Model([q, v], make(lib, q, v))
    return [(4, 6), (3, 6)], build


CASES = {
    "Conv2DTranspose": _sequential((5, 5, 2), lambda L: L.layers.Conv2DTranspose(
        3, 3, strides=2, padding="same")),
    "Conv3D": _sequential((4, 4, 4, 2), lambda L: L.layers.Conv3D(3, 2)),
    "DepthwiseConv2D": _sequential((5, 5, 2), lambda L: L.layers.DepthwiseConv2D(
        3, depth_multiplier=2)),
    "SeparableConv2D": _sequential((5, 5, 2), lambda L: L.layers.SeparableConv2D(3, 3)),
    "MaxPooling3D": _sequential((4, 4, 4, 2), lambda L: L.layers.MaxPooling3D()),
    "AdaptiveAveragePooling2D": _sequential((6, 6, 2),
                                            lambda L: L.layers.AdaptiveAveragePooling2D(2)),
    "EinsumDense": _sequential((4, 3), lambda L: L.layers.EinsumDense(
        "abc,cd->abd", (None, 5), bias_axes="d")),
    "SpectralNormalization": _sequential((3,), lambda L: L.layers.SpectralNormalization(
        L.layers.Dense(4))),
    "RNN-LSTMCell": _sequential((4, 3), lambda L: L.layers.RNN(L.layers.LSTMCell(5))),
    "RNN-stacked": _sequential((4, 3), lambda L: L.layers.RNN(
        [L.layers.GRUCell(5), L.layers.SimpleRNNCell(2)])),
    "ConvLSTM2D": _sequential((3, 5, 5, 2), lambda L: L.layers.ConvLSTM2D(2, 3)),
    "Cropping2D": _sequential((5, 5, 2), lambda L: L.layers.Cropping2D(1)),
    "ZeroPadding3D": _sequential((2, 2, 2, 1), lambda L: L.layers.ZeroPadding3D(1)),
    "UpSampling1D": _sequential((3, 2), lambda L: L.layers.UpSampling1D(2)),
    "Permute": _sequential((3, 2), lambda L: L.layers.Permute((2, 1))),
    "RepeatVector": _sequential((3,), lambda L: L.layers.RepeatVector(2)),
    "GaussianNoise": _sequential((3,), lambda L: L.layers.GaussianNoise(0.1)),
    "Rescaling": _sequential((3,), lambda L: L.layers.Rescaling(0.5, 1.0)),
    "Resizing": _sequential((5, 5, 2), lambda L: L.layers.Resizing(3, 4)),
    "RandomFlip": _sequential((4, 4, 2), lambda L: L.layers.RandomFlip()),
    "Identity": _sequential((3,), lambda L: L.layers.Identity()),
    "ActivityRegularization": _sequential((3,), lambda L: L.layers.ActivityRegularization(0.1)),
    "MultiHeadAttention": _two_inputs(lambda L, q, v: L.layers.MultiHeadAttention(2, 3)(q, v)),
    "Attention": _two_inputs(lambda L, q, v: L.layers.Attention(use_scale=True)([q, v])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_keras_file_crosses_both_ways(name, tmp_path):
    rng = np.random.default_rng(0)
    shape, build = CASES[name]
    k_model = build(keras)
    k_model.set_weights([w + rng.normal(size=w.shape).astype(w.dtype) * 0.1
                         for w in k_model.get_weights()])
    x = [rng.normal(size=(2,) + s).astype("float32") for s in shape] \
        if isinstance(shape, list) else rng.normal(size=(2,) + shape).astype("float32")
    expected = keras.ops.convert_to_numpy(k_model(x, training=False))
    k_model.save(tmp_path / "k.keras")
    p_model = profond.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(p_model.predict(x, verbose=0), expected, rtol=1e-4, atol=1e-4)
    p_model.save(tmp_path / "p.keras")
    again = keras.saving.load_model(tmp_path / "p.keras")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again(x, training=False)), expected,
                               rtol=1e-4, atol=1e-4)
