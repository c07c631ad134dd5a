"""Activations against PyTorch, forward and backward (Keras's definitions: leaky_relu slope 0.2,
exact gelu, hard_sigmoid = relu6(x + 3) / 6, selu constants)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import profond
from profond import activations

X = np.random.default_rng(0).uniform(-5, 5, size=(4, 7))
X[np.abs(X) < 0.1] += 0.3  # off the kinks at 0
X[np.abs(np.abs(X) - 3) < 0.1] += 0.3  # and at +-3 (hard_sigmoid)

TORCH = {
    "relu": F.relu,
    "leaky_relu": lambda t: F.leaky_relu(t, 0.2),
    "elu": F.elu,
    "selu": F.selu,
    "gelu": F.gelu,
    "sigmoid": torch.sigmoid,
    "hard_sigmoid": lambda t: F.relu6(t + 3) / 6,
    "tanh": torch.tanh,
    "softmax": lambda t: torch.softmax(t, dim=-1),
    "log_softmax": lambda t: torch.log_softmax(t, dim=-1),
    "softplus": F.softplus,
    "softsign": F.softsign,
    "silu": F.silu,
    "swish": F.silu,
    "linear": lambda t: t,
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(TORCH))
def test_activation_matches_torch(name, dtype):
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-10, atol=1e-12)
    p = profond.tensor(X, dtype=dtype, requires_grad=True)
    t = torch.tensor(X, dtype=getattr(torch, dtype), requires_grad=True)
    p_out, t_out = activations.get(name)(p), TORCH[name](t)
    np.testing.assert_allclose(p_out.numpy(), t_out.detach().numpy(), **tol)
    w = np.random.default_rng(1).standard_normal(X.shape)
    (p_out * profond.tensor(w, dtype=dtype)).sum().backward()
    (t_out * torch.tensor(w, dtype=getattr(torch, dtype))).sum().backward()
    np.testing.assert_allclose(p.grad, t.grad.numpy(), **tol)


def test_approximate_gelu_matches_torch_tanh_gelu():
    p = profond.tensor(X, dtype="float64", requires_grad=True)
    t = torch.tensor(X, requires_grad=True)
    p_out, t_out = activations.gelu(p, approximate=True), F.gelu(t, approximate="tanh")
    np.testing.assert_allclose(p_out.numpy(), t_out.detach().numpy(), rtol=1e-10, atol=1e-14)
    p_out.sum().backward()
    t_out.sum().backward()
    np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("dim", [-1, 0])
@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_family_of_a_0d_tensor_matches_torch(name, dim):
    p = profond.tensor(1.7, dtype="float64", requires_grad=True)
    t = torch.tensor(1.7, dtype=torch.float64, requires_grad=True)
    p_out, t_out = getattr(activations, name)(p, axis=dim), getattr(torch, name)(t, dim)
    np.testing.assert_allclose(p_out.numpy(), t_out.detach().numpy())
    (p_out * 2.0).backward()
    (t_out * 2.0).backward()
    np.testing.assert_allclose(p.grad, t.grad.numpy())
