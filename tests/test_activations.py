"""Activations: forward against NumPy definitions (Keras's: leaky_relu slope 0.2, exact gelu,
hard_sigmoid = relu6(x + 3) / 6, selu constants), backward against finite differences, look-up
by name, the ``Activation`` layer, and the step function's two gradients."""

import math
import re

import numpy as np
import pytest
from _opcheck import check_op, draw

import profond
from profond import activations, layers

_erf = np.vectorize(math.erf)
SELU_ALPHA, SELU_SCALE = 1.67326324235437728481, 1.05070098735548049342


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


REFERENCES = {
    "linear": (lambda x: x, None),
    "relu": (lambda x: np.maximum(x, 0), (0.0,)),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.2 * x), (0.0,)),
    "elu": (lambda x: np.where(x > 0, x, np.exp(x) - 1), (0.0,)),
    "selu": (lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1)), (0.0,)),
    "gelu": (lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))), None),
    "sigmoid": (_sigmoid, None),
    "hard_sigmoid": (lambda x: np.minimum(np.maximum(x + 3, 0), 6) / 6, (-3.0, 3.0)),
    "tanh": (np.tanh, None),
    "softplus": (lambda x: np.log1p(np.exp(x)), None),
    "softsign": (lambda x: x / (1 + np.abs(x)), (0.0,)),
    "silu": (lambda x: x * _sigmoid(x), None),
    "swish": (lambda x: x * _sigmoid(x), None),
}
SHAPES = [(), (7,), (3, 4), (2, 3, 2)]


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(REFERENCES))
def test_activation(name, shape):
    ref, kinks = REFERENCES[name]
    x = draw(shape, low=-4.0, high=4.0, seed=41, points=kinks)
    check_op(activations.get(name), ref, x)


@pytest.mark.parametrize("kwargs,ref", [
    (dict(negative_slope=0.01), lambda x: np.where(x > 0, x, 0.01 * x)),
    (dict(negative_slope=0.0), lambda x: np.maximum(x, 0))])
def test_leaky_relu_slope(kwargs, ref):
    check_op(lambda t: activations.leaky_relu(t, **kwargs), ref,
             draw((3, 4), seed=42, points=(0.0,)))


def test_elu_alpha_and_approximate_gelu():
    x = draw((3, 4), low=-4.0, high=4.0, seed=43, points=(0.0,))
    check_op(lambda t: activations.elu(t, alpha=0.5), lambda a: np.where(a > 0, a, 0.5 * np.expm1(a)),
             x)
    c = np.sqrt(2 / np.pi)
    check_op(lambda t: activations.gelu(t, approximate=True),
             lambda a: 0.5 * a * (1 + np.tanh(c * (a + 0.044715 * a ** 3))), x)


@pytest.mark.parametrize("shape,axis", [((5,), -1), ((3, 4), -1), ((3, 4), 0), ((2, 3, 4), 1)],
                         ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family(name, shape, axis):
    x = draw(shape, low=-3, high=3, seed=44)
    ref = (lambda a: _softmax(a, axis)) if name == "softmax" else \
        (lambda a: np.log(_softmax(a, axis)))
    check_op(lambda t: getattr(activations, name)(t, axis=axis), ref, x)



@pytest.mark.parametrize("axis", [-1, 0, (0,)], ids=str)
@pytest.mark.parametrize("name,value", [("softmax", 1.0), ("log_softmax", 0.0)])
def test_softmax_family_of_a_0d_tensor(name, value, axis):
    # PyTorch's answer: a 0-d tensor is one category (softmax 1, log_softmax 0, gradient 0)
    fn = getattr(activations, name)
    check_op(lambda t: fn(t, axis=axis), lambda a: np.full_like(a, value), draw((), seed=45))
    t = profond.tensor(2.5, requires_grad=True)
    out = fn(t, axis=axis)
    assert out.shape == () and out.item() == value
    (out * 3.0).backward()
    assert t.grad == 0.0


@pytest.mark.parametrize("shape,axis", [((), 1), ((), -2), ((3, 4), 2), ((3, 4), (0, 2)),
                                        ((3,), 0.5), ((3,), True)], ids=str)
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_rejects_a_bad_axis(name, shape, axis):
    with pytest.raises(ValueError, match=rf"'axis' parameter of {name} must be an int in "
                                         rf".* for an input of shape {re.escape(str(shape))}"):
        getattr(activations, name)(profond.tensor(np.zeros(shape)), axis=axis)


def test_extreme_inputs_stay_finite():
    x = profond.tensor([-1000.0, -50.0, 0.0, 50.0, 1000.0], requires_grad=True)
    for name in ("sigmoid", "softplus", "tanh", "elu", "selu", "gelu", "silu", "softmax",
                 "log_softmax", "softsign", "hard_sigmoid"):
        out = activations.get(name)(x)
        out.backward(np.ones(5, dtype=np.float32))
        assert np.isfinite(out.numpy()).all(), name
        assert np.isfinite(x.grad).all(), name
        x.grad = None
    np.testing.assert_allclose(activations.sigmoid(x).numpy(), [0, 0, 0.5, 1, 1], atol=1e-7)
    np.testing.assert_allclose(activations.softplus(x).numpy(), [0, 0, np.log(2), 50, 1000],
                               atol=1e-7)


def test_relu_gradient_at_zero_is_zero():
    x = profond.tensor([-1.0, 0.0, 1.0], requires_grad=True)
    activations.relu(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 0, 1])


def test_step_forward_and_zero_gradient_by_default():
    x = profond.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], requires_grad=True)
    out = activations.step(x)
    np.testing.assert_array_equal(out.numpy(), [0, 0, 0, 1, 1])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, np.zeros(5))


def test_step_straight_through_is_opt_in():
    x = profond.tensor([-2.0, -0.5, 0.0, 0.5, 2.0], requires_grad=True)
    out = activations.step(x, straight_through=True)
    np.testing.assert_array_equal(out.numpy(), [0, 0, 0, 1, 1])
    (out * profond.tensor([1.0, 2.0, 3.0, 4.0, 5.0])).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 2, 3, 4, 0])  # identity where |x| <= 1
    y = profond.tensor([0.3], requires_grad=True)
    activations.get("step_ste")(y).sum().backward()
    np.testing.assert_array_equal(y.grad, [1])


def test_get_resolves_names_callables_and_none():
    assert activations.get("relu") is activations.relu
    assert activations.get("ReLU") is activations.relu
    assert activations.get(None) is activations.linear
    fn = lambda t: t * 2  # noqa: E731
    assert activations.get(fn) is fn
    assert activations.get("swish") is activations.silu
    assert activations.serialize(activations.relu) == "relu"


def test_serialize_returns_what_it_cannot_name_and_get_takes_it_back():
    import functools

    def relu(x):
        return x

    slope = functools.partial(activations.leaky_relu, negative_slope=0.3)
    for fn in (relu, slope, lambda t: t):
        assert activations.serialize(fn) is fn
        assert activations.get(activations.serialize(fn)) is fn
    assert activations.serialize(activations.silu) == "silu"  # the first of its names


def test_register_checks_its_arguments(fresh_registry):
    with pytest.raises(ValueError, match="'name' parameter of register_keras_serializable.*"
                                         "Got '' instead"):
        activations.register("", activations.relu)
    with pytest.raises(ValueError, match="'fn' parameter of register.*Got 3"):
        activations.register("three", 3)

    def twice(x):
        return x * 2.0

    activations.register("Twice", twice)
    assert activations.get("twice") is twice
    assert activations.serialize(twice) == {"module": __name__, "class_name": "function",
                                            "config": "Custom>Twice",
                                            "registered_name": "Custom>Twice"}
    assert activations.get(activations.serialize(twice)) is twice


def test_unknown_activation_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"Unknown activation 'rellu'.*'relu'.*'tanh'"):
        activations.get("rellu")
    with pytest.raises(ValueError, match="Could not interpret activation"):
        activations.get(3)


@pytest.mark.parametrize("name", ["relu", "tanh", "softmax", "gelu", "step"])
def test_activation_layer_matches_the_function(name):
    x = draw((4, 3), seed=45)
    layer = layers.Activation(name)
    np.testing.assert_array_equal(layer(x).numpy(), activations.get(name)(profond.tensor(x)).numpy())
    assert layer.get_config()["activation"] == name
    assert layer.compute_output_shape((None, 3)) == (None, 3)
    assert layer.count_params() == 0


def test_dense_activation_string():
    x = draw((4, 3), seed=46)
    layer = layers.Dense(2, activation="sigmoid")
    out = layer(x)
    k, b = layer.get_weights()
    np.testing.assert_allclose(out.numpy(), _sigmoid(x.astype(np.float32) @ k + b), rtol=1e-5)


@pytest.mark.parametrize("shape", [(4097, 3), (2048,), (300, 7), (5, 2049)])
def test_relu_on_arrays_cut_into_long_rows_with_a_tail(shape):
    """relu (and linear's fused relu) view large contiguous data as rows of zeros-comparisons
    plus a tail: every element must come out as max(x, 0), transposed (strided) input too."""
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    np.testing.assert_array_equal(profond.ops.relu(profond.tensor(x)).numpy(), np.maximum(x, 0))
    np.testing.assert_array_equal(profond.ops.relu(profond.tensor(x).T).numpy(),
                                  np.maximum(x.T, 0))
    k = np.eye(shape[-1], dtype=np.float32)
    np.testing.assert_array_equal(
        profond.ops.linear(profond.tensor(x), profond.tensor(k), relu=True).numpy(),
        np.maximum(x, 0))
