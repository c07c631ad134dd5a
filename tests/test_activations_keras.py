"""Every activation of ``keras.activations`` (Keras 3.15.1), under its Keras name and with its
Keras arguments: forward against a NumPy reference in both dtypes, backward against finite
differences in float64, and forward against Keras's own function where Keras is installed."""

import math
import os

import numpy as np
import pytest
from _opcheck import check_op, draw

import profond
from profond import activations

_erf = np.vectorize(math.erf)
SELU_ALPHA, SELU_SCALE = 1.67326324235437728481, 1.05070098735548049342


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _sparsemax(x, axis=-1):
    """The simplex projection by bisection on tau (no sort: another route than the op's)."""
    lo = x.max(axis=axis, keepdims=True) - 1
    hi = x.max(axis=axis, keepdims=True)
    for _ in range(200):
        tau = (lo + hi) / 2
        over = np.maximum(x - tau, 0).sum(axis=axis, keepdims=True) > 1
        lo, hi = np.where(over, tau, lo), np.where(over, hi, tau)
    return np.maximum(x - (lo + hi) / 2, 0)


def _glu(x, axis=-1):
    a, b = np.split(x, 2, axis=axis)
    return a * _sigmoid(b)


def _hard_sigmoid(x):
    return np.clip(x / 6 + 0.5, 0, 1)


def _keras_relu(x, negative_slope=0.0, max_value=None, threshold=0.0):
    pos = np.where(x > threshold, x, 0)
    if max_value is not None:
        pos = np.clip(pos, 0, max_value)
    return pos - negative_slope * np.maximum(threshold - x, 0)


# name -> (NumPy reference, kinks to keep finite differences away from, keyword arguments)
# Every name of keras.activations but its get/serialize/deserialize.
CASES = {
    "celu": (lambda x: np.maximum(x, 0) + np.expm1(np.minimum(x, 0)), (0.0,), {}),
    "elu": (lambda x: np.where(x > 0, x, np.expm1(x)), (0.0,), {}),
    "exponential": (np.exp, None, {}),
    "gelu": (lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))), None, {}),
    "glu": (_glu, None, {}),
    "hard_shrink": (lambda x: np.where(np.abs(x) > 0.5, x, 0), (-0.5, 0.5), {}),
    "hard_sigmoid": (_hard_sigmoid, (-3.0, 3.0), {}),
    "hard_silu": (lambda x: x * _hard_sigmoid(x), (-3.0, 3.0), {}),
    "hard_swish": (lambda x: x * _hard_sigmoid(x), (-3.0, 3.0), {}),
    "hard_tanh": (lambda x: np.clip(x, -1, 1), (-1.0, 1.0), {}),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.2 * x), (0.0,), {}),
    "linear": (lambda x: x, None, {}),
    "log_sigmoid": (lambda x: np.log(_sigmoid(x)), None, {}),
    "log_softmax": (lambda x: np.log(_softmax(x)), None, {}),
    "mish": (lambda x: x * np.tanh(np.log1p(np.exp(x))), None, {}),
    "relu": (lambda x: np.maximum(x, 0), (0.0,), {}),
    "relu6": (lambda x: np.clip(x, 0, 6), (0.0, 6.0), {}),
    "selu": (lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), (0.0,), {}),
    "sigmoid": (_sigmoid, None, {}),
    "silu": (lambda x: x * _sigmoid(x), None, {}),
    "soft_shrink": (lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0)),
                    (-0.5, 0.5), {}),
    "softmax": (_softmax, None, {}),
    "softplus": (lambda x: np.log1p(np.exp(x)), None, {}),
    "softsign": (lambda x: x / (1 + np.abs(x)), (0.0,), {}),
    "sparse_plus": (lambda x: np.where(x <= -1, 0, np.where(x < 1, (x + 1) ** 2 / 4, x)),
                    (-1.0, 1.0), {}),
    "sparse_sigmoid": (lambda x: np.clip((x + 1) / 2, 0, 1), (-1.0, 1.0), {}),
    "sparsemax": (_sparsemax, None, {}),
    "squareplus": (lambda x: (x + np.sqrt(x * x + 4)) / 2, None, {}),
    "swish": (lambda x: x * _sigmoid(x), None, {}),
    "tanh": (np.tanh, None, {}),
    "tanh_shrink": (lambda x: x - np.tanh(x), None, {}),
    "threshold": (lambda x, threshold, default_value: np.where(x > threshold, x, default_value),
                  (0.3,),
                  {"threshold": 0.3, "default_value": -2.0}),
}
# Keras's arguments other than the defaults, each checked the same way.
WITH_ARGUMENTS = [
    ("relu", {"negative_slope": 0.1}, (0.0,)),
    ("relu", {"max_value": 1.5}, (0.0, 1.5)),
    ("relu", {"threshold": 0.5}, (0.5,)),
    ("relu", {"threshold": -0.5, "max_value": 2.0}, (-0.5, 0.0, 2.0)),
    ("relu", {"negative_slope": 0.3, "max_value": 6.0, "threshold": 1.0}, (1.0, 6.0)),
    ("leaky_relu", {"negative_slope": 0.01}, (0.0,)),
    ("elu", {"alpha": 0.5}, (0.0,)),
    ("celu", {"alpha": 2.5}, (0.0,)),
    ("gelu", {"approximate": True}, None),
    ("glu", {"axis": 0}, None),
    ("hard_shrink", {"threshold": 1.2}, (-1.2, 1.2)),
    ("soft_shrink", {"threshold": 0.1}, (-0.1, 0.1)),
    ("squareplus", {"b": 0.5}, None),
    ("softmax", {"axis": 0}, None),
    ("log_softmax", {"axis": 0}, None),
    ("sparsemax", {"axis": 0}, None),
    ("threshold", {"threshold": -1.0, "default_value": 0.0}, (-1.0,)),
]
_REF_WITH_ARGUMENTS = {
    "relu": _keras_relu,
    "leaky_relu": lambda x, negative_slope: np.where(x > 0, x, negative_slope * x),
    "elu": lambda x, alpha: np.where(x > 0, x, alpha * np.expm1(x)),
    "celu": lambda x, alpha: np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0) / alpha),
    "gelu": lambda x, approximate: 0.5 * x * (1 + np.tanh(
        np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3))),
    "glu": _glu,
    "hard_shrink": lambda x, threshold: np.where(np.abs(x) > threshold, x, 0),
    "soft_shrink": lambda x, threshold: np.sign(x) * np.maximum(np.abs(x) - threshold, 0),
    "squareplus": lambda x, b: (x + np.sqrt(x * x + b)) / 2,
    "softmax": _softmax,
    "log_softmax": lambda x, axis: np.log(_softmax(x, axis)),
    "sparsemax": _sparsemax,
    "threshold": lambda x, threshold, default_value: np.where(x > threshold, x, default_value),
}
SHAPES = [(), (6,), (3, 4), (2, 3, 4)]
_NEEDS_AXIS = {"glu", "softmax", "log_softmax", "sparsemax"}  # not elementwise: no 0-d input


def _keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


@pytest.mark.parametrize("name,shape", [(name, shape) for name in sorted(CASES)
                                        for shape in SHAPES if shape or name not in _NEEDS_AXIS],
                         ids=str)
def test_activation_against_numpy_and_gradcheck(name, shape):
    ref, kinks, kwargs = CASES[name]
    x = draw(shape, low=-4.0, high=4.0, seed=7, points=kinks)
    fn = activations.get(name)
    check_op(lambda t: fn(t, **kwargs), lambda a: ref(a, **kwargs) if kwargs else ref(a), x)


@pytest.mark.parametrize("name,kwargs,kinks", WITH_ARGUMENTS, ids=str)
def test_activation_arguments_against_numpy_and_gradcheck(name, kwargs, kinks):
    x = draw((4, 6), low=-4.0, high=4.0, seed=8, points=kinks)
    fn = getattr(activations, name)
    check_op(lambda t: fn(t, **kwargs), lambda a: _REF_WITH_ARGUMENTS[name](a, **kwargs), x)


def test_every_keras_activation_is_here():
    keras = _keras()
    names = {n for n in dir(keras.activations)
             if not n.startswith("_") and n not in ("get", "serialize", "deserialize")}
    assert names == set(CASES)
    for name in names:
        assert getattr(activations, name) is activations.get(name)


def _keras_inputs(name, shape, axis=-1):
    x = draw(shape, low=-5.0, high=5.0, seed=9)
    if name == "sparsemax":
        # Keras 3.15's sparsemax is wrong whenever two or more inputs stay positive
        # (keras-team/keras#23425): compare it where one stays, the rest against the bisection
        first = np.moveaxis(x, axis, 0)
        first[0] = first.max(axis=0) + 1.5
    return x.astype(np.float32)


@pytest.mark.parametrize("name", sorted(CASES))
def test_activation_matches_keras(name):
    keras = _keras()
    _, _, kwargs = CASES[name]
    x = _keras_inputs(name, (3, 4, 6))
    expected = keras.ops.convert_to_numpy(getattr(keras.activations, name)(x, **kwargs))
    got = activations.get(name)(profond.tensor(x), **kwargs).numpy()
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=2e-6)


@pytest.mark.parametrize("name,kwargs,kinks", WITH_ARGUMENTS, ids=str)
def test_activation_arguments_match_keras(name, kwargs, kinks):
    keras = _keras()
    x = _keras_inputs(name, (4, 6), kwargs.get("axis", -1))
    expected = keras.ops.convert_to_numpy(getattr(keras.activations, name)(x, **kwargs))
    got = getattr(activations, name)(profond.tensor(x), **kwargs).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=2e-6)


def test_sparsemax_sums_to_one_and_is_sparse():
    x = profond.tensor([[0.1, 0.2, 0.3, 0.4, 0.5], [3.0, 0.0, 0.0, 0.0, 0.0]])
    out = activations.sparsemax(x).numpy()
    np.testing.assert_allclose(out, [[0, 0.1, 0.2, 0.3, 0.4], [1, 0, 0, 0, 0]], atol=1e-6)


def test_glu_refuses_an_odd_axis():
    with pytest.raises(ValueError, match=r"'x' parameter of glu must have an even size along "
                                         r"axis -1. Got shape \(2, 3\) instead"):
        activations.glu(profond.tensor(np.zeros((2, 3))))


def test_extreme_inputs_stay_finite():
    x = profond.tensor([-1000.0, -50.0, 0.7, 50.0, 1000.0], requires_grad=True)
    for name in ("celu", "log_sigmoid", "mish", "squareplus", "tanh_shrink", "hard_silu",
                 "sparse_plus", "sparse_sigmoid", "relu6", "hard_tanh"):
        out = activations.get(name)(x)
        out.backward(np.ones(5, dtype=np.float32))
        assert np.isfinite(out.numpy()).all(), name
        assert np.isfinite(x.grad).all(), name
        x.grad = None


@pytest.mark.parametrize("name", sorted(set(CASES) - {"threshold"}))
def test_keras_names_serialize_and_come_back(name):
    fn = activations.get(name)
    assert activations.get(activations.serialize(fn)) is fn


@pytest.mark.parametrize("name", ["sparsemax", "softmax"])
def test_activations_that_mix_units_keep_structured_pruning_away(name):
    from profond import layers
    from profond.pruning import prunable_layers
    model = profond.Sequential([layers.Input((4,)), layers.Dense(6, activation=name, name="mix"),
                                layers.Dense(1)])
    model.predict(np.zeros((1, 4), np.float32), verbose=0)
    assert "mix" not in prunable_layers(model)
