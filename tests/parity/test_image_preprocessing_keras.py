"""Rescaling, Resizing and CenterCrop against Keras 3 (PyTorch backend): the same outputs for
each interpolation, aspect-ratio option and antialias, on batches and single images."""

import os

import numpy as np
import pytest

import profond

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")

TOL = dict(rtol=1e-5, atol=1e-4)
RNG = np.random.default_rng(0)


@pytest.mark.parametrize("name, kwargs, shape", [
    ("Rescaling", dict(scale=1 / 255.0), (2, 4, 4, 3)),
    ("Rescaling", dict(scale=1 / 127.5, offset=-1.0), (2, 5)),
    ("Resizing", dict(height=6, width=10), (2, 4, 5, 3)),
    ("Resizing", dict(height=3, width=2), (2, 7, 9, 2)),
    ("Resizing", dict(height=3, width=4, interpolation="nearest"), (2, 7, 9, 2)),
    ("Resizing", dict(height=8, width=7, interpolation="nearest"), (2, 3, 4, 2)),
    ("Resizing", dict(height=4, width=4, crop_to_aspect_ratio=True), (2, 6, 10, 3)),
    ("Resizing", dict(height=4, width=4, pad_to_aspect_ratio=True, fill_value=0.5),
     (2, 6, 10, 3)),
    ("Resizing", dict(height=3, width=4, antialias=True), (2, 9, 13, 2)),
    ("Resizing", dict(height=5, width=6), (7, 8, 3)),  # one image
    ("CenterCrop", dict(height=3, width=4), (2, 6, 9, 3)),
    ("CenterCrop", dict(height=3, width=2), (2, 6, 7, 1)),
    ("CenterCrop", dict(height=8, width=9), (2, 6, 7, 1)),  # smaller: crop and resize
])
def test_matches_keras(name, kwargs, shape):
    x = (RNG.uniform(size=shape) * 255).astype("float32")
    expected = keras.ops.convert_to_numpy(getattr(keras.layers, name)(**kwargs)(x))
    layer = getattr(profond.layers, name)(**kwargs)
    np.testing.assert_allclose(layer(x).numpy(), expected, **TOL)
    assert layer.compute_output_shape(shape) == tuple(expected.shape)
    again = getattr(keras.layers, name).from_config(layer.get_config())
    np.testing.assert_allclose(keras.ops.convert_to_numpy(again(x)), expected, **TOL)
