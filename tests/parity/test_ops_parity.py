"""Ops against PyTorch, forward and backward, one line per op (tinygrad's style)."""

import numpy as np
import pytest
import torch

import profond
from profond import ops


def _inputs(shapes, low, high, seed):
    rng = np.random.default_rng(seed)
    return [rng.uniform(low, high, size=s) for s in shapes]


def compare(shapes, p_fn, t_fn, low=-2.0, high=2.0, seed=0, atol=1e-6, rtol=1e-5, grad=True):
    """Run both frameworks in float64 on the same data; compare outputs and input gradients."""
    xs = _inputs(shapes, low, high, seed)
    p_in = [profond.tensor(x, dtype="float64", requires_grad=grad) for x in xs]
    t_in = [torch.tensor(x, dtype=torch.float64, requires_grad=grad) for x in xs]
    p_out, t_out = p_fn(*p_in), t_fn(*t_in)
    np.testing.assert_allclose(p_out.numpy(), t_out.detach().numpy(), atol=atol, rtol=rtol)
    if not grad:
        return
    w = np.random.default_rng(seed + 1).standard_normal(t_out.shape)
    (p_out * profond.tensor(w, dtype="float64")).sum().backward()
    (t_out * torch.tensor(w)).sum().backward()
    for p, t in zip(p_in, t_in):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), atol=atol, rtol=rtol)


def test_add(): compare([(3, 4), (4,)], lambda a, b: a + b, lambda a, b: a + b)
def test_sub(): compare([(3, 1), (1, 4)], lambda a, b: a - b, lambda a, b: a - b)
def test_mul(): compare([(2, 3, 4), (3, 1)], lambda a, b: a * b, lambda a, b: a * b)
def test_div(): compare([(3, 4), (4,)], lambda a, b: a / b, lambda a, b: a / b, low=0.5)
def test_pow(): compare([(3, 4), (3, 4)], lambda a, b: a ** b, lambda a, b: a ** b, low=0.5)
def test_pow_const(): compare([(3, 4)], lambda a: a ** 3, lambda a: a ** 3)
def test_neg(): compare([(3, 4)], lambda a: -a, lambda a: -a)
def test_scalar_0d(): compare([(), ()], lambda a, b: a * b + a, lambda a, b: a * b + a)
def test_exp(): compare([(3, 4)], ops.exp, torch.exp)
def test_log(): compare([(3, 4)], ops.log, torch.log, low=0.1)
def test_sqrt(): compare([(3, 4)], ops.sqrt, torch.sqrt, low=0.1)
def test_abs(): compare([(3, 4)], ops.abs, torch.abs, low=0.1)
def test_clip(): compare([(3, 4)], lambda a: ops.clip(a, -0.5, 0.7),
                         lambda a: torch.clamp(a, -0.5, 0.7), seed=3)
def test_maximum(): compare([(3, 4), (4,)], ops.maximum, torch.maximum)
def test_minimum(): compare([(3, 4), (4,)], ops.minimum, torch.minimum)
def test_where(): compare([(3, 4), (3, 4)], lambda a, b: ops.where(a.data > 0, a, b),
                          lambda a, b: torch.where(a > 0, a, b))
def test_sum(): compare([(2, 3, 4)], lambda a: a.sum(axis=(0, 2)), lambda a: a.sum(dim=(0, 2)))
def test_mean(): compare([(2, 3, 4)], lambda a: a.mean(axis=1, keepdims=True),
                         lambda a: a.mean(dim=1, keepdim=True))
def test_max(): compare([(3, 4)], lambda a: a.max(axis=1), lambda a: torch.amax(a, dim=1))
def test_min(): compare([(3, 4)], lambda a: a.min(axis=0), lambda a: torch.amin(a, dim=0))
def test_max_ties(): compare([(3, 4)], lambda a: ops.max(ops.clip(a, None, 0.0), axis=1),
                             lambda a: torch.amax(torch.clamp(a, max=0.0), dim=1))
def test_var(): compare([(3, 4)], lambda a: a.var(axis=1),
                        lambda a: torch.var(a, dim=1, correction=0))
def test_std(): compare([(3, 4)], lambda a: ops.std(a, axis=0, ddof=1),
                        lambda a: torch.std(a, dim=0, correction=1))
def test_logsumexp(): compare([(3, 4)], lambda a: a.logsumexp(axis=1),
                              lambda a: torch.logsumexp(a, dim=1))
def test_reshape(): compare([(3, 4)], lambda a: a.reshape(2, 6), lambda a: a.reshape(2, 6))
def test_transpose(): compare([(2, 3, 4)], lambda a: ops.permute(a, 2, 0, 1),
                              lambda a: a.permute(2, 0, 1))
def test_getitem(): compare([(4, 5)], lambda a: a[1:3, ::2], lambda a: a[1:3, ::2])
def test_gather(): compare([(4, 5)], lambda a: a[[0, 3, 0]], lambda a: a[[0, 3, 0]])
def test_concatenate(): compare([(2, 3), (2, 2)], lambda a, b: ops.concatenate([a, b], axis=1),
                                lambda a, b: torch.cat([a, b], dim=1))
def test_stack(): compare([(2, 3), (2, 3)], lambda a, b: ops.stack([a, b], axis=1),
                          lambda a, b: torch.stack([a, b], dim=1))
def test_pad(): compare([(2, 3)], lambda a: ops.pad(a, ((1, 2), (0, 1))),
                        lambda a: torch.nn.functional.pad(a, (0, 1, 1, 2)))
def test_matmul(): compare([(5, 2, 3), (3, 4)], ops.matmul, torch.matmul)
def test_matmul_vec(): compare([(3,), (3,)], ops.matmul, torch.matmul)
def test_linear(): compare([(6, 3), (3, 4), (4,)], ops.linear,
                           lambda x, k, b: torch.nn.functional.linear(x, k.T, b))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_float32_forward_is_close_to_torch(dtype):
    x = _inputs([(64, 32), (32, 16)], -1, 1, 5)
    p = ops.matmul(profond.tensor(x[0], dtype=dtype), profond.tensor(x[1], dtype=dtype))
    t = torch.tensor(x[0], dtype=getattr(torch, dtype)) @ torch.tensor(x[1],
                                                                     dtype=getattr(torch, dtype))
    np.testing.assert_allclose(p.numpy(), t.numpy(), rtol=1e-4, atol=1e-5)
    assert p.dtype == dtype
