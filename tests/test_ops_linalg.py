"""``matmul`` (NumPy's rules: 1-D operands, batched broadcasting) and the fused ``linear``."""

import numpy as np
import pytest
from _opcheck import check_op, draw

import profond
from profond import ops

MATMUL_SHAPES = [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((2, 3), (3, 4)),
                 ((5, 2, 3), (3, 4)), ((2, 3), (5, 3, 4)), ((5, 2, 3), (5, 3, 4)),
                 ((5, 1, 2, 3), (4, 3, 2)), ((3,), (5, 3, 2)), ((5, 2, 3), (3,))]

MM_TOL = {np.float32: dict(rtol=1e-5, atol=1e-5), np.float64: dict(rtol=1e-12, atol=1e-12)}


@pytest.mark.parametrize("sa,sb", MATMUL_SHAPES, ids=str)
def test_matmul(sa, sb):
    a, b = draw(sa, seed=31), draw(sb, seed=32)
    for fn in (ops.matmul, lambda x, y: x @ y):
        for dtype in (np.float32, np.float64):
            out = fn(profond.tensor(a, dtype=dtype), profond.tensor(b, dtype=dtype))
            assert out.dtype == dtype
            np.testing.assert_allclose(out.numpy(), a.astype(dtype).astype(float)
                                       @ b.astype(dtype).astype(float), **MM_TOL[dtype])
    check_op(ops.matmul, np.matmul, a, b, fwd_tol=dict(rtol=1e-5, atol=1e-5))


def test_rmatmul_with_an_array():
    a, b = draw((2, 3), seed=33), draw((3, 2), seed=34)
    check_op(lambda t: a @ t, lambda x: a @ x, b, fwd_tol=dict(rtol=1e-5, atol=1e-5))


@pytest.mark.parametrize("xshape", [(3,), (4, 3), (2, 4, 3)], ids=str)
@pytest.mark.parametrize("bias", [True, False])
def test_linear(xshape, bias):
    x, k, b = draw(xshape, seed=35), draw((3, 5), seed=36), draw((5,), seed=37)
    if bias:
        check_op(ops.linear, lambda x, k, b: x @ k + b, x, k, b,
                 fwd_tol=dict(rtol=1e-5, atol=1e-5))
    else:
        check_op(ops.linear, lambda x, k: x @ k, x, k, fwd_tol=dict(rtol=1e-5, atol=1e-5))


def test_linear_equals_matmul_plus_bias_in_value_and_gradient():
    x, k, b = draw((6, 3), seed=38), draw((3, 4), seed=39), draw((4,), seed=40)
    grads = []
    for fn in (lambda x, k, b: ops.linear(x, k, b), lambda x, k, b: x @ k + b):
        ts = [profond.tensor(v, requires_grad=True, dtype="float64") for v in (x, k, b)]
        out = fn(*ts)
        (out * out).sum().backward()
        grads.append([out.numpy()] + [t.grad for t in ts])
    for u, v in zip(*grads):
        np.testing.assert_allclose(u, v, rtol=1e-12)


def test_shape_errors_name_both_shapes():
    a = profond.tensor(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"\(2, 3\) @ \(4, 2\)"):
        ops.matmul(a, profond.tensor(np.ones((4, 2))))
    with pytest.raises(ValueError, match="rank >= 1"):
        ops.matmul(a, profond.tensor(2.0))
    with pytest.raises(ValueError, match=r"'x' parameter of linear must have shape \(\.\.\., 4\) "
                                         r"for a kernel of shape \(4, 2\)\. Got shape \(2, 3\)"):
        ops.linear(a, profond.tensor(np.ones((4, 2))))


def test_linear_with_fused_relu_equals_relu_of_linear_forward_and_backward():
    import profond
    from profond import ops
    from profond.testing import gradcheck

    rng = np.random.default_rng(3)
    x, w, b = rng.normal(size=(2, 3, 4)), rng.normal(size=(4, 5)), rng.normal(size=5)
    assert gradcheck(lambda a, k, c: ops.linear(a, k, c, relu=True), x, w, b)
    with profond.backend.floatx_scope("float64"):
        fused = ops.linear(profond.tensor(x), profond.tensor(w), profond.tensor(b), relu=True)
    assert np.array_equal(fused.numpy(), np.maximum(x @ w + b, 0))
