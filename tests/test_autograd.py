"""The backward engine: accumulation with ``+=``, nodes used twice, shared gradient arrays never
modified behind a parent's back, deep graphs without recursion, graph freeing, retain_graph,
no_grad, and gradcheck itself."""

import gc
import weakref

import numpy as np
import pytest

import profond
from profond import ops
from profond.testing import gradcheck


def leaf(values):
    return profond.tensor(np.asarray(values, dtype=np.float64), requires_grad=True)


def test_tensor_basics():
    t = profond.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert t.dtype == np.float32 and t.shape == (2, 2) and t.ndim == 2 and t.size == 4
    assert len(t) == 2 and not t.requires_grad and t.is_leaf and t.grad is None
    assert profond.tensor([1, 2]).dtype == np.int64  # integers keep their dtype
    assert profond.tensor(3.0).shape == ()
    assert profond.tensor([1.0], dtype="float64").dtype == np.float64
    assert profond.tensor(2.5).item() == 2.5 and float(profond.tensor([2.5])) == 2.5
    np.testing.assert_array_equal(np.asarray(t), t.numpy())
    assert "requires_grad=True" in repr(profond.tensor([1.0], requires_grad=True))
    with pytest.raises(TypeError, match="floating-point"):
        profond.tensor([1, 2], requires_grad=True)
    with pytest.raises(ValueError, match="one element"):
        t.item()
    with pytest.raises(TypeError, match="0-d"):
        len(profond.tensor(1.0))


def test_node_used_twice_accumulates():
    x = leaf([1.0, -2.0, 3.0])
    y = x * x + x  # x feeds two nodes, and one node twice
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.numpy() + 1)


def test_gradients_accumulate_across_backward_calls_and_zero_grad_resets():
    x = leaf([1.0, 2.0])
    (x * 3).sum().backward()
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 3 + 2 * x.numpy())
    x.zero_grad()
    assert x.grad is None


@pytest.mark.parametrize("build", [
    # a leaf and a pending non-leaf both receive the same array g from one add node, then the
    # leaf gets a second contribution: it must not be added in place into that shared g
    lambda a: ((a + ops.exp(a)) + a * 3) * 1.0,
    lambda a: (a + a * a) + a * 3,
    lambda a: (a + ops.exp(a)) + (a + ops.exp(a)),
    lambda a: ops.reshape(a, (2, 1)).sum() + a.sum() + (a * a).sum(),
    lambda a: ops.concatenate([a, a, ops.exp(a)]) * 2.0,
    lambda a: (a + 0.0) + (a + 0.0) + ops.exp(a) * a,
])
def test_shared_gradient_arrays_are_never_modified_behind_a_parents_back(build):
    x = np.array([0.5, -1.5])
    analytic = gradcheck(build, x)  # raises with the worst element on a wrong gradient
    assert analytic


def test_backward_with_an_explicit_seed_does_not_touch_the_seed():
    x = leaf([1.0, 2.0])
    seed = np.array([1.0, 1.0])
    y = (x + 0.0) + 0.0
    y.backward(seed)
    (x * 2).backward(seed)
    np.testing.assert_array_equal(seed, [1.0, 1.0])
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_two_leaves_never_share_one_gradient_array():
    a, b = leaf([1.0, 2.0]), leaf([3.0, 4.0])
    (a + b).sum().backward()
    a.grad += 10
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_deep_graph_has_no_recursion_limit():
    x = profond.tensor(1.0, requires_grad=True, dtype="float64")
    y = x
    for _ in range(20_000):
        y = y * 1.0001 + 0.0
    y.backward()
    np.testing.assert_allclose(x.grad, 1.0001 ** 20_000, rtol=1e-9)


def test_graph_is_freed_after_backward():
    x = leaf(np.ones(3))
    h = ops.exp(x)
    y = (h * 2).sum()
    ref = weakref.ref(h)
    del h
    gc.collect()
    assert ref() is not None  # held by y's graph
    y.backward()
    gc.collect()
    assert ref() is None  # the graph let go of it
    assert y._backward is None and y._parents == ()


def test_retain_graph_allows_a_second_backward():
    x = leaf([1.0, 2.0])
    y = (ops.exp(x) * x).sum()
    y.backward(retain_graph=True)
    first = x.grad.copy()
    y.backward()
    np.testing.assert_allclose(x.grad, 2 * first)
    np.testing.assert_allclose(first, np.exp([1.0, 2.0]) * (1 + np.array([1.0, 2.0])))


def test_no_grad_records_nothing_and_enable_grad_reenables():
    x = leaf([1.0])
    with profond.no_grad():
        y = x * 2
        assert not profond.is_grad_enabled()
        with profond.enable_grad():
            z = x * 2
    assert profond.is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()
    profond.set_grad_enabled(False)
    try:
        assert not (x * 2).requires_grad
    finally:
        profond.set_grad_enabled(True)


def test_backward_checks_its_seed():
    x = leaf([1.0, 2.0])
    with pytest.raises(RuntimeError, match="one-element"):
        (x * 2).backward()
    with pytest.raises(ValueError, match=r"must have shape \(2,\)"):
        (x * 2).backward(np.ones(3))


def test_backward_on_a_leaf_and_detach():
    x = leaf([1.0, 2.0])
    x.backward(np.array([3.0, 4.0]))
    np.testing.assert_array_equal(x.grad, [3.0, 4.0])
    d = x.detach()
    assert not d.requires_grad and d.data is x.data


def test_constants_get_no_gradient():
    x = leaf([1.0, 2.0])
    c = profond.tensor([5.0, 6.0], dtype="float64")
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_array_equal(x.grad, [5.0, 6.0])


def test_float32_gradients_stay_float32():
    x = profond.tensor([1.0, 2.0], requires_grad=True)
    (ops.exp(x) * 2).sum().backward()
    assert x.grad.dtype == np.float32


def test_variable_assign():
    v = profond.Variable(np.zeros(3), name="w")
    assert v.requires_grad and v.trainable
    v.assign(np.array([1.0, 2.0, 3.0]))
    np.testing.assert_array_equal(v.numpy(), [1, 2, 3])
    with pytest.raises(ValueError, match="Cannot assign a value of shape"):
        v.assign(np.zeros(2))


def test_gradcheck_catches_a_wrong_backward():
    def wrong_square(t):  # the derivative of t*t is 2t, not t
        return profond.Tensor._make(t.data * t.data, (t,), lambda g: (g * t.data,))

    with pytest.raises(AssertionError, match="gradcheck failed for input 0"):
        gradcheck(wrong_square, np.array([1.0, 2.0]))
    assert gradcheck(wrong_square, np.array([1.0, 2.0]), raise_exception=False) is False
    assert gradcheck(lambda t: t * t, np.array([1.0, 2.0]))


def test_scalar_gradients_from_three_paths_all_count():
    """0-d results are NumPy scalars (immutable): accumulating them must not lose a term."""
    x = profond.tensor(1.5, requires_grad=True, dtype="float64")
    y = x * x
    (y * x + y * x + y).backward()
    assert float(x.grad) == pytest.approx(6 * 1.5 ** 2 + 2 * 1.5)
