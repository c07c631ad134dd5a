"""Dense and Activation under Keras's layer contract: build on first call, weights in Keras
order and layout, get_config/from_config, trainable, get/set_weights, count_params."""

import numpy as np
import pytest

import profond
from profond import layers
from profond.testing import gradcheck


def test_dense_forward_and_keras_layout():
    x = np.random.default_rng(0).normal(size=(4, 3))
    layer = layers.Dense(5, bias_initializer="ones")
    assert not layer.built
    out = layer(x)
    assert layer.built and out.shape == (4, 5) and out.dtype == np.float32
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 5) and bias.shape == (5,)
    np.testing.assert_array_equal(bias, np.ones(5))
    np.testing.assert_allclose(out.numpy(), x.astype(np.float32) @ kernel + bias, rtol=1e-5)
    assert [w.name for w in layer.weights] == ["kernel", "bias"]
    assert layer.count_params() == 3 * 5 + 5


def test_dense_applies_to_the_last_axis():
    layer = layers.Dense(2)
    x = np.random.default_rng(1).normal(size=(2, 4, 3))
    out = layer(x)
    assert out.shape == (2, 4, 2)
    assert layer.compute_output_shape((None, 4, 3)) == (None, 4, 2)
    k, b = layer.get_weights()
    np.testing.assert_allclose(out.numpy(), x.astype(np.float32) @ k + b, rtol=1e-5, atol=1e-6)


def test_dense_gradients_through_the_layer():
    x = np.random.default_rng(2).normal(size=(3, 4))
    with profond.backend.floatx_scope("float64"):
        layer = layers.Dense(2, activation="tanh")
        layer.build((None, 4))
    k, b = layer.kernel, layer.bias
    # the layer computes tanh(x @ k + b): finite differences on that, then the layer's own grads
    assert gradcheck(lambda x, kk, bb: profond.ops.tanh(profond.ops.linear(x, kk, bb)), x,
                     k.numpy(), b.numpy())
    t = profond.tensor(x, dtype="float64", requires_grad=True)
    layer(t).sum().backward()
    expected_gk = x.T @ (1 - np.tanh(x @ k.numpy() + b.numpy()) ** 2)
    np.testing.assert_allclose(k.grad, expected_gk, rtol=1e-10)


def test_no_bias_and_config_round_trip():
    layer = layers.Dense(3, activation="relu", use_bias=False, kernel_initializer="he_normal",
                         name="hidden")
    layer.build((None, 2))
    assert len(layer.weights) == 1 and layer.bias is None
    config = layer.get_config()
    assert config["units"] == 3 and config["activation"] == "relu" and not config["use_bias"]
    clone = layers.Dense.from_config({**config, "name": "hidden_clone"})
    clone.build((None, 2))
    clone.set_weights(layer.get_weights())
    x = np.random.default_rng(3).normal(size=(4, 2))
    np.testing.assert_array_equal(clone(x).numpy(), layer(x).numpy())



def _non_negative(w):
    return w.clip(0.0, None)


def test_constraints_are_in_the_config_and_round_trip():
    layer = layers.Dense(3, kernel_constraint=_non_negative, bias_constraint=_non_negative,
                         kernel_regularizer="l2", name="constrained")
    config = layer.get_config()
    assert config["kernel_constraint"] is _non_negative
    assert config["bias_constraint"] is _non_negative
    clone = layers.Dense.from_config({**config, "name": "constrained_clone"})
    assert clone.get_config() == {**config, "name": "constrained_clone"}
    clone.build((None, 2))
    assert clone.kernel.constraint is _non_negative and clone.bias.constraint is _non_negative
    assert layers.Dense(2).get_config()["kernel_constraint"] is None


def test_constraint_must_be_a_name_or_callable():
    with pytest.raises(ValueError, match="'kernel_constraint' parameter of Dense: Unknown "
                                         "constraint 'no_such'.*'non_neg'"):
        layers.Dense(2, kernel_constraint="no_such")
    with pytest.raises(ValueError, match="'recurrent_constraint' parameter of LSTM"):
        layers.LSTM(2, recurrent_constraint=3)

def test_trainable_false_freezes_the_weights():
    layer = layers.Dense(2)
    layer.build((None, 3))
    layer.trainable = False
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 2
    assert not layer.kernel.requires_grad
    layer.trainable = True
    assert len(layer.trainable_weights) == 2 and layer.kernel.requires_grad


def test_set_weights_checks_count_and_shapes():
    layer = layers.Dense(2)
    layer.build((None, 3))
    with pytest.raises(ValueError, match=r"must hold 2 weight arrays .*\. Got 1 instead"):
        layer.set_weights([np.zeros((3, 2))])
    with pytest.raises(ValueError, match=r"must give weight '.*kernel' an array of its shape "
                                         r"\(3, 2\)\. Got shape \(2, 3\) instead"):
        layer.set_weights([np.zeros((2, 3)), np.zeros(2)])
    layer.set_weights([np.full((3, 2), 0.5), np.array([1.0, -1.0])])
    np.testing.assert_array_equal(layer(np.ones((1, 3))).numpy(), [[2.5, 0.5]])


def test_count_params_needs_a_built_layer():
    with pytest.raises(ValueError, match="not built yet"):
        layers.Dense(2).count_params()


def test_custom_layer_with_add_weight_and_nested_tracking():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, inputs):
            return inputs * self.w

    class Block(layers.Layer):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(3)
            self.scale = Scale()

        def call(self, inputs):
            return self.scale(self.dense(inputs))

    block = Block()
    out = block(np.ones((2, 4)))
    assert out.shape == (2, 3)
    assert [v.name for v in block.weights] == ["kernel", "bias", "w"]
    assert block.count_params() == 4 * 3 + 3 + 3


def test_layer_names_are_unique():
    a, b = layers.Dense(1), layers.Dense(1)
    assert a.name != b.name and a.name.startswith("dense")
