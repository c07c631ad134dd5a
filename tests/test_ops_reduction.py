"""Reductions over axes: forward against NumPy in both dtypes, backward against finite
differences, for scalars, every axis form (None, int, negative, tuple) and keepdims."""

import numpy as np
import pytest
from _opcheck import check_op, draw

import profond
from profond import ops


def _logsumexp(x, axis=None, keepdims=False):
    m = np.max(x, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis) if axis is not None else out.reshape(())


REDUCTIONS = {
    "sum": (ops.sum, np.sum),
    "mean": (ops.mean, np.mean),
    "max": (ops.max, np.max),
    "min": (ops.min, np.min),
    "var": (ops.var, np.var),
    "std": (ops.std, np.std),
    "logsumexp": (ops.logsumexp, _logsumexp),
}
# (shape, axis): scalars, all axes, one axis, a negative axis, several axes
CASES = [((), None), ((5,), None), ((5,), 0), ((3, 4), None), ((3, 4), 0), ((3, 4), -1),
         ((2, 3, 4), (0, 2)), ((2, 3, 4), 1), ((2, 3, 4), (-1, -2))]


@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("shape,axis", CASES, ids=str)
@pytest.mark.parametrize("name", sorted(REDUCTIONS))
def test_reduction(name, shape, axis, keepdims):
    fn, ref = REDUCTIONS[name]
    if name == "std" and shape == ():
        pytest.skip("std of one value is 0, where sqrt has no derivative")
    x = draw(shape, seed=11, untie=name in ("max", "min"))
    check_op(lambda t: fn(t, axis=axis, keepdims=keepdims),
             lambda a: ref(a, axis=axis, keepdims=keepdims), x)


@pytest.mark.parametrize("name", ["sum", "mean", "max", "min", "var", "logsumexp"])
def test_reduction_methods_match_functions(name):
    x = draw((3, 4), seed=12)
    t = profond.tensor(x)
    np.testing.assert_array_equal(getattr(t, name)(axis=1).numpy(),
                                  getattr(ops, name)(t, axis=1).numpy())


@pytest.mark.parametrize("ddof", [0, 1])
def test_var_ddof(ddof):
    x = draw((4, 3), seed=13)
    check_op(lambda t: ops.var(t, axis=0, ddof=ddof), lambda a: np.var(a, axis=0, ddof=ddof), x)


@pytest.mark.parametrize("fn,values", [(ops.max, [3.0, 1.0, 3.0]), (ops.min, [1.0, 3.0, 1.0])])
def test_extremum_ties_share_the_gradient(fn, values):
    # ties split the gradient equally, like torch.amax/amin
    x = profond.tensor(values, requires_grad=True)
    fn(x).backward()
    np.testing.assert_allclose(x.grad, [0.5, 0, 0.5])


def test_logsumexp_is_stable_for_large_values():
    x = profond.tensor([[1000.0, 1000.0], [-1000.0, -1000.0]], requires_grad=True)
    out = ops.logsumexp(x, axis=1)
    np.testing.assert_allclose(out.numpy(), [1000 + np.log(2), -1000 + np.log(2)], rtol=1e-6)
    out.sum().backward()
    np.testing.assert_allclose(x.grad, np.full((2, 2), 0.5))


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_argmax_argmin(axis):
    x = draw((3, 4), seed=14, untie=True)
    t = profond.tensor(x, requires_grad=True)
    np.testing.assert_array_equal(ops.argmax(t, axis=axis).numpy(), np.argmax(x, axis=axis))
    np.testing.assert_array_equal(t.argmin(axis=axis).numpy(), np.argmin(x, axis=axis))
    assert not ops.argmax(t, axis=axis).requires_grad


def test_axis_out_of_range_raises():
    with pytest.raises(ValueError, match="out of bounds"):
        ops.sum(profond.tensor(np.ones((2, 3))), axis=2)
