"""Elementwise ops: forward against NumPy in both float dtypes, backward against float64 central
differences, over scalars, vectors, matrices and broadcast pairs."""

import numpy as np
import pytest
from _opcheck import check_op, draw

import profond
from profond import ops

UNARY_SHAPES = [(), (5,), (2, 3), (2, 3, 2)]
# (shape of a, shape of b): scalars, equal shapes, and every kind of broadcast
BINARY_SHAPES = [((), ()), ((4,), ()), ((), (4,)), ((2, 3), (3,)), ((2, 3), (2, 1)),
                 ((2, 1, 3), (4, 1)), ((1, 3), (2, 1)), ((2, 3), (2, 3))]


# --- binary arithmetic, one line per op ---------------------------------------------------
BINARY = {
    "add": (lambda a, b: a + b, np.add, {}),
    "sub": (lambda a, b: a - b, np.subtract, {}),
    "mul": (lambda a, b: a * b, np.multiply, {}),
    "div": (lambda a, b: a / b, np.divide, dict(b=(0.5, 2.0))),
    "pow": (lambda a, b: a ** b, np.power, dict(a=(0.5, 2.0))),
    "maximum": (ops.maximum, np.maximum, dict(untie=True)),
    "minimum": (ops.minimum, np.minimum, dict(untie=True)),
    "add_fn": (ops.add, np.add, {}),
    "sub_fn": (ops.sub, np.subtract, {}),
    "mul_fn": (ops.mul, np.multiply, {}),
    "div_fn": (ops.div, np.divide, dict(b=(-2.0, -0.5))),
}


def _binary_inputs(sa, sb, opts):
    a = draw(sa, *opts.get("a", (-2.0, 2.0)), seed=1)
    b = draw(sb, *opts.get("b", (-2.0, 2.0)), seed=2)
    if opts.get("untie"):  # no ties between a and b anywhere (max/min are kinked there)
        both = draw((a.size + b.size,), untie=True, seed=3)
        a, b = both[:a.size].reshape(sa), both[a.size:].reshape(sb)
    return a, b


@pytest.mark.parametrize("shapes", BINARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary(name, shapes):
    fn, ref, opts = BINARY[name]
    check_op(fn, ref, *_binary_inputs(*shapes, opts))


# --- unary math -----------------------------------------------------------------------------
UNARY = {
    "neg": (lambda x: -x, np.negative, {}),
    "exp": (ops.exp, np.exp, {}),
    "log": (ops.log, np.log, dict(low=0.2, high=3.0)),
    "sqrt": (ops.sqrt, np.sqrt, dict(low=0.2, high=3.0)),
    "square": (ops.square, np.square, {}),
    "abs": (ops.abs, np.abs, dict(points=(0.0,))),
    "abs_op": (abs, np.abs, dict(points=(0.0,))),
    "clip": (lambda x: ops.clip(x, -0.5, 1.0), lambda x: np.clip(x, -0.5, 1.0),
             dict(points=(-0.5, 1.0))),
    "clip_low": (lambda x: ops.clip(x, min_value=0.3), lambda x: np.maximum(x, 0.3),
                 dict(points=(0.3,))),
    "clip_high": (lambda x: ops.clip(x, max_value=0.3), lambda x: np.minimum(x, 0.3),
                  dict(points=(0.3,))),
    "pow_const": (lambda x: x ** 3, lambda x: x ** 3, {}),
    "pow_half": (lambda x: x ** 0.5, np.sqrt, dict(low=0.2, high=3.0)),
    "pow_neg": (lambda x: x ** -2.0, lambda x: x ** -2.0, dict(low=0.5, high=2.0)),
    "radd": (lambda x: 2.5 + x, lambda x: 2.5 + x, {}),
    "rsub": (lambda x: 2.5 - x, lambda x: 2.5 - x, {}),
    "rmul": (lambda x: 2.5 * x, lambda x: 2.5 * x, {}),
    "rdiv": (lambda x: 2.5 / x, lambda x: 2.5 / x, dict(low=0.5, high=2.0)),
    "rpow": (lambda x: 2.5 ** x, lambda x: 2.5 ** x, {}),
    "self_mul": (lambda x: x * x * x, lambda x: x ** 3, {}),
    "cast64": (lambda x: ops.cast(x, "float64") * 2, lambda x: 2 * x, {}),
}


@pytest.mark.parametrize("shape", UNARY_SHAPES, ids=str)
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary(name, shape):
    fn, ref, opts = UNARY[name]
    x = draw(shape, opts.get("low", -2.0), opts.get("high", 2.0), seed=4,
             points=opts.get("points"))
    if name == "cast64":  # the output is float64 whatever the input: check values only
        for dtype in ("float32", "float64"):
            t = profond.tensor(x, dtype=dtype)
            np.testing.assert_allclose(fn(t).numpy(), 2 * t.numpy().astype(np.float64))
        from profond.testing import gradcheck
        assert gradcheck(fn, x)
        return
    check_op(fn, ref, x)


@pytest.mark.parametrize("shapes", [((2, 3), (2, 3), (2, 3)), ((2, 3), (3,), ()),
                                    ((3,), (2, 1), (1, 3)), ((), (), ())], ids=str)
def test_where(shapes):
    sc, sa, sb = shapes
    cond = np.random.default_rng(5).random(sc) > 0.5
    a, b = draw(sa, seed=6), draw(sb, seed=7)
    check_op(lambda x, y: ops.where(cond, x, y), lambda x, y: np.where(cond, x, y), a, b)
    # a boolean tensor works as the condition too
    out = ops.where(profond.tensor(cond), profond.tensor(a), profond.tensor(b))
    np.testing.assert_allclose(out.numpy(), np.where(cond, a, b).astype(np.float32))


def test_pow_tensor_exponent_of_a_constant_base():
    e = draw((3,), seed=8)
    check_op(lambda x: ops.pow(2.0, x), lambda x: 2.0 ** x, e)


def test_clip_gradient_is_zero_where_the_bound_is_active():
    x = profond.tensor([-3.0, -0.5, 0.0, 0.7, 4.0], requires_grad=True)
    ops.clip(x, -1.0, 1.0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0, 1, 1, 1, 0])


def test_abs_gradient_at_zero_is_zero_and_maximum_ties_go_to_the_first_operand():
    x = profond.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    abs(x).sum().backward()
    np.testing.assert_array_equal(x.grad, [-1, 0, 1])
    a = profond.tensor([1.0, 2.0], requires_grad=True)
    b = profond.tensor([1.0, 3.0], requires_grad=True)
    ops.maximum(a, b).sum().backward()
    np.testing.assert_array_equal(a.grad, [1, 0])
    np.testing.assert_array_equal(b.grad, [0, 1])


@pytest.mark.parametrize("name,ref", [("equal", np.equal), ("not_equal", np.not_equal),
                                      ("less", np.less), ("less_equal", np.less_equal),
                                      ("greater", np.greater),
                                      ("greater_equal", np.greater_equal)])
def test_comparisons(name, ref):
    a = np.array([[1.0, 2.0, 3.0], [3.0, 2.0, 1.0]])
    b = np.array([2.0, 2.0, 2.0])
    out = getattr(ops, name)(profond.tensor(a, requires_grad=True), profond.tensor(b))
    assert out.dtype == bool and not out.requires_grad
    np.testing.assert_array_equal(out.numpy(), ref(a, b))


def test_comparison_operators():
    t = profond.tensor([1.0, 2.0, 3.0])
    np.testing.assert_array_equal((t > 1.5).numpy(), [False, True, True])
    np.testing.assert_array_equal((t <= 2).numpy(), [True, True, False])
    np.testing.assert_array_equal((t == 2.0).numpy(), [False, True, False])
    np.testing.assert_array_equal((t != 2.0).numpy(), [True, False, True])


def test_sign_has_no_gradient_and_cast_to_int_cuts_the_graph():
    x = profond.tensor([-2.0, 0.0, 3.0], requires_grad=True)
    np.testing.assert_array_equal(ops.sign(x).numpy(), [-1, 0, 1])
    assert not ops.sign(x).requires_grad
    assert not ops.cast(x, "int64").requires_grad


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_constants_keep_the_tensor_dtype(dtype):
    x = profond.tensor([1.0, 2.0], dtype=dtype)
    for out in (x * 2.0, 2.0 * x, x + np.float64(1.0), x - np.array([1.0, 2.0]), x ** 2,
                x ** np.float64(2.0), x / 3, x + np.array([1, 2]), ops.maximum(x, 0.5)):
        assert out.dtype == dtype


def test_integer_and_float_tensors_combine_as_float():
    i = profond.tensor(np.array([1, 2, 3]))
    f = profond.tensor([0.5, 0.5, 0.5], requires_grad=True)
    out = i * f
    assert out.dtype == np.float32
    out.sum().backward()
    np.testing.assert_array_equal(f.grad, [1, 2, 3])
