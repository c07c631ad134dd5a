"""Optimizer trajectories against PyTorch over 50 steps (float64).

Keras (and profond) and PyTorch place epsilon differently: Adam adds it to ``sqrt(v)`` before
the bias correction (Keras) or after it (PyTorch); Adagrad and RMSprop add it inside the
square root (Keras) or outside (PyTorch). With ``epsilon = 0`` the rules are the same, so the
trajectories must agree to rounding; with the defaults they differ by a little, which the last
tests measure.
"""

import math

import numpy as np
import pytest
import torch

from profond import Variable
from profond.optimizers import SGD, Adadelta, Adagrad, Adam, AdamW, RMSprop

STEPS = 50


def _grad(w):
    """Gradient of a smooth non-quadratic function, never exactly zero along the path."""
    return np.sin(w) + 0.5 * w + 0.3 * np.cos(3.0 * w) + 0.2


def _trajectories(ours, make_torch, w0):
    w = Variable(w0.copy(), dtype="float64")
    p = torch.tensor(w0.copy(), dtype=torch.float64, requires_grad=True)
    theirs = make_torch([p])
    mine, ref = [], []
    for _ in range(STEPS):
        ours.apply([_grad(w.numpy())], [w])
        p.grad = torch.from_numpy(_grad(p.detach().numpy()))
        theirs.step()
        mine.append(w.numpy().copy())
        ref.append(p.detach().numpy().copy())
    return np.array(mine), np.array(ref)


PAIRS = [
    ("sgd", lambda: SGD(0.05), lambda p: torch.optim.SGD(p, lr=0.05)),
    ("momentum", lambda: SGD(0.05, momentum=0.9),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9)),
    ("nesterov", lambda: SGD(0.05, momentum=0.9, nesterov=True),
     lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.9, nesterov=True)),
    ("adagrad", lambda: Adagrad(0.1, initial_accumulator_value=0.1, epsilon=0.0),
     lambda p: torch.optim.Adagrad(p, lr=0.1, initial_accumulator_value=0.1, eps=0.0)),
    ("rmsprop", lambda: RMSprop(0.01, rho=0.9, epsilon=0.0),
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=0.0)),
    ("rmsprop-momentum", lambda: RMSprop(0.01, rho=0.8, momentum=0.7, epsilon=0.0),
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.8, momentum=0.7, eps=0.0)),
    ("rmsprop-centered", lambda: RMSprop(0.01, centered=True, epsilon=0.0),
     lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, centered=True, eps=0.0)),
    ("adam", lambda: Adam(0.05, epsilon=0.0),
     lambda p: torch.optim.Adam(p, lr=0.05, eps=0.0)),
    ("amsgrad", lambda: Adam(0.05, beta_1=0.8, beta_2=0.95, epsilon=0.0, amsgrad=True),
     lambda p: torch.optim.Adam(p, lr=0.05, betas=(0.8, 0.95), eps=0.0, amsgrad=True)),
    ("adamw", lambda: AdamW(0.05, weight_decay=0.1, epsilon=0.0),
     lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1, eps=0.0)),
    ("adadelta", lambda: Adadelta(1.0, rho=0.9, epsilon=1e-6),
     lambda p: torch.optim.Adadelta(p, lr=1.0, rho=0.9, eps=1e-6)),
]


@pytest.mark.parametrize("name, ours, make_torch", PAIRS, ids=[p[0] for p in PAIRS])
def test_trajectory_matches_torch(name, ours, make_torch):
    w0 = np.random.default_rng(1).normal(size=(4, 3)) * 2.0
    mine, ref = _trajectories(ours(), make_torch, w0)
    np.testing.assert_allclose(mine, ref, rtol=1e-10, atol=1e-12)
    assert np.abs(mine[-1] - w0).max() > 0.05  # it did move


def test_adam_epsilon_convention():
    """Keras's epsilon on sqrt(v) is PyTorch's eps = epsilon / sqrt(1 - beta_2 ** t): at the
    first step (t = 1) the two give the same update."""
    w0 = np.array([0.3, -1.0, 2.0])
    eps = 1e-2
    w = Variable(w0.copy(), dtype="float64")
    Adam(0.1, epsilon=eps).apply([_grad(w0)], [w])
    p = torch.tensor(w0.copy(), dtype=torch.float64, requires_grad=True)
    theirs = torch.optim.Adam([p], lr=0.1, eps=eps / math.sqrt(1 - 0.999))
    p.grad = torch.from_numpy(_grad(w0))
    theirs.step()
    np.testing.assert_allclose(w.numpy(), p.detach().numpy(), rtol=1e-12)
    naive = torch.tensor(w0.copy(), dtype=torch.float64, requires_grad=True)
    same_eps = torch.optim.Adam([naive], lr=0.1, eps=eps)
    naive.grad = torch.from_numpy(_grad(w0))
    same_eps.step()
    assert np.abs(w.numpy() - naive.detach().numpy()).max() > 1e-4


def test_default_epsilons_differ_but_stay_close():
    w0 = np.random.default_rng(2).normal(size=(5,))
    for ours, make_torch in [
        (Adam(0.01), lambda p: torch.optim.Adam(p, lr=0.01, eps=1e-7)),
        (RMSprop(0.01), lambda p: torch.optim.RMSprop(p, lr=0.01, alpha=0.9, eps=1e-7)),
        (Adagrad(0.1, initial_accumulator_value=0.0),
         lambda p: torch.optim.Adagrad(p, lr=0.1, eps=1e-7)),
    ]:
        mine, ref = _trajectories(ours, make_torch, w0)
        diff = np.abs(mine - ref).max()
        assert 0 < diff < 1e-4, (type(ours).__name__, diff)
