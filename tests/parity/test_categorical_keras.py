"""CategoryEncoding and Discretization against Keras 3 (PyTorch backend); the lookups and
Discretization.adapt need TensorFlow in Keras, so tests/test_preprocessing_categorical.py
checks them against Keras's documented examples."""

import os

import numpy as np
import pytest

import profond

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip("keras")


@pytest.mark.parametrize("kwargs, data", [
    (dict(num_tokens=4, output_mode="one_hot"), np.array([3, 2, 0, 1])),
    (dict(num_tokens=4, output_mode="one_hot"), np.array([[3], [2], [0]])),
    (dict(num_tokens=4, output_mode="multi_hot"), np.array([[0, 1], [0, 0], [1, 2], [3, 1]])),
    (dict(num_tokens=4, output_mode="count"), np.array([[0, 1], [0, 0], [1, 2], [3, 1]])),
    (dict(num_tokens=5, output_mode="count"), np.array([1, 1, 4])),
])
def test_category_encoding_matches_keras(kwargs, data):
    expected = keras.ops.convert_to_numpy(keras.layers.CategoryEncoding(**kwargs)(data))
    layer = profond.layers.CategoryEncoding(**kwargs)
    np.testing.assert_array_equal(layer(data).numpy(), expected)
    assert layer.compute_output_shape(data.shape) == expected.shape


def test_category_encoding_count_weights_match_keras():
    data = np.array([[0, 1], [0, 0], [1, 2], [3, 1]])
    weights = np.array([[0.1, 0.2], [0.1, 0.1], [0.2, 0.3], [0.4, 0.2]])
    expected = keras.ops.convert_to_numpy(
        keras.layers.CategoryEncoding(4, output_mode="count")(data, count_weights=weights))
    got = profond.layers.CategoryEncoding(4, output_mode="count")(data, count_weights=weights)
    np.testing.assert_allclose(got.numpy(), expected, rtol=1e-6)


@pytest.mark.parametrize("output_mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_matches_keras(output_mode):
    data = np.array([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]])
    kwargs = dict(bin_boundaries=[0.0, 1.0, 2.0], output_mode=output_mode)
    expected = keras.ops.convert_to_numpy(keras.layers.Discretization(**kwargs)(data))
    got = profond.layers.Discretization(**kwargs)(data).numpy()
    np.testing.assert_array_equal(got, expected)
    config = profond.layers.Discretization(**kwargs).get_config()
    assert keras.layers.Discretization.from_config(config).bin_boundaries == [0.0, 1.0, 2.0]
