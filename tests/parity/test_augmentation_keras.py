"""The geometric augmentation layers against Keras 3 (PyTorch backend) where a draw is fixed
(lower == upper): the same affine resampling for each fill mode and interpolation; RandomCrop
at inference."""

import os

import numpy as np
import pytest

import profond

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")
pytest.importorskip("scipy")

RNG = np.random.default_rng(0)
MODES = ["reflect", "wrap", "nearest", "constant"]


@pytest.mark.parametrize("fill_mode", MODES)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
@pytest.mark.parametrize("name, kwargs", [
    ("RandomRotation", dict(factor=(0.1, 0.1))),
    ("RandomRotation", dict(factor=(-0.3, -0.3))),
    ("RandomTranslation", dict(height_factor=(0.2, 0.2), width_factor=(-0.3, -0.3))),
    ("RandomZoom", dict(height_factor=(0.3, 0.3))),
    ("RandomZoom", dict(height_factor=(-0.4, -0.4), width_factor=(0.2, 0.2))),
])
def test_fixed_affine_draws_match_keras(name, kwargs, fill_mode, interpolation):
    x = RNG.uniform(0, 255, size=(2, 7, 9, 2)).astype("float32")
    options = dict(kwargs, fill_mode=fill_mode, interpolation=interpolation, fill_value=3.0)
    expected = keras.ops.convert_to_numpy(getattr(keras.layers, name)(**options)(x))
    got = getattr(profond.layers, name)(**options)(x).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-3)
    config = getattr(profond.layers, name)(**options).get_config()
    assert type(getattr(keras.layers, name).from_config(config)).__name__ == name


def test_random_crop_at_inference_does_what_keras_documents():
    # Keras documents: "At inference time ... the input will be resized and cropped so as to
    # return the largest possible window in the image that matches the target aspect ratio".
    # Keras 3.15.1 returns the input unchanged instead, so a model's output shape differs
    # between fit and predict; profond follows the documentation.
    x = RNG.uniform(0, 255, size=(2, 10, 7, 3)).astype("float32")
    keras_own = keras.ops.convert_to_numpy(keras.layers.RandomCrop(4, 5)(x, training=False))
    assert keras_own.shape == x.shape
    documented = keras.ops.convert_to_numpy(
        keras.layers.Resizing(4, 5, crop_to_aspect_ratio=True)(x))
    got = profond.layers.RandomCrop(4, 5)(x, training=False).numpy()
    np.testing.assert_allclose(got, documented, rtol=1e-5, atol=1e-3)
