"""Losses against PyTorch (mean reduction = Keras's sum_over_batch_size for one value per
sample), with logits, label smoothing and sample weights, forward and backward."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import profond
from profond import activations, losses

RNG = np.random.default_rng(0)
Z = RNG.normal(size=(8, 5)) * 2
LABELS = RNG.integers(0, 5, size=8)
ONEHOT = np.eye(5)[LABELS]
W = RNG.uniform(0, 2, size=8)


def _both(fn_p, fn_t, z=Z):
    p = profond.tensor(z, dtype="float64", requires_grad=True)
    t = torch.tensor(z, requires_grad=True)
    lp, lt = fn_p(p), fn_t(t)
    np.testing.assert_allclose(lp.numpy(), lt.detach().numpy(), rtol=1e-9, atol=1e-12)
    lp.backward()
    lt.backward()
    np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-8, atol=1e-12)


@pytest.mark.parametrize("ls", [0.0, 0.1])
def test_sparse_and_categorical_from_logits(ls):
    def torch_fn(t):
        return F.cross_entropy(t, torch.tensor(LABELS), label_smoothing=ls)

    _both(lambda p: losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=ls)(
        LABELS, p), torch_fn)
    _both(lambda p: losses.CategoricalCrossentropy(from_logits=True, label_smoothing=ls)(
        ONEHOT, p), torch_fn)
    _both(lambda p: losses.CategoricalCrossentropy(label_smoothing=ls)(
        ONEHOT, activations.softmax(p)), torch_fn)  # fused with the softmax


def test_weighted_cross_entropy_is_sum_of_weighted_over_batch_size():
    def torch_fn(t):
        per = F.cross_entropy(t, torch.tensor(LABELS), reduction="none")
        return (per * torch.tensor(W)).sum() / len(W)

    _both(lambda p: losses.SparseCategoricalCrossentropy(from_logits=True)(LABELS, p,
                                                                            sample_weight=W),
          torch_fn)


@pytest.mark.parametrize("ls", [0.0, 0.2])
def test_binary_crossentropy(ls):
    target = (RNG.random((8, 5)) > 0.5).astype(float)
    smoothed = torch.tensor(target * (1 - ls) + 0.5 * ls)

    def torch_fn(t):
        return F.binary_cross_entropy_with_logits(t, smoothed)

    _both(lambda p: losses.BinaryCrossentropy(from_logits=True, label_smoothing=ls)(target, p),
          torch_fn)
    _both(lambda p: losses.BinaryCrossentropy(label_smoothing=ls)(target, activations.sigmoid(p)),
          torch_fn)
    # unfused probabilities: Keras clips to [1e-7, 1 - 1e-7], harmless for moderate logits
    _both(lambda p: losses.BinaryCrossentropy(label_smoothing=ls)(
        target, 1 / (1 + profond.ops.exp(-p))),
        lambda t: F.binary_cross_entropy(torch.sigmoid(t), smoothed), z=Z / 4)


@pytest.mark.parametrize("name,torch_fn", [
    ("mse", lambda t, y: F.mse_loss(t, y)),
    ("mae", lambda t, y: F.l1_loss(t, y)),
    ("huber", lambda t, y: F.huber_loss(t, y, delta=1.0)),
    ("log_cosh", lambda t, y: torch.log(torch.cosh(t - y)).mean()),
])
def test_regression(name, torch_fn):
    y = RNG.normal(size=(8, 5))
    z = Z.copy()
    z[np.abs(z - y) < 0.05] += 0.2  # off the kink of |e| at 0
    z[np.abs(np.abs(z - y) - 1) < 0.05] += 0.2  # and of Huber at |e| = delta
    _both(lambda p: losses.get(name)(y, p), lambda t: torch_fn(t, torch.tensor(y)), z=z)


def test_weighted_mse_per_sample():
    y = RNG.normal(size=(8, 5))

    def torch_fn(t):
        per = ((t - torch.tensor(y)) ** 2).mean(dim=-1)
        return (per * torch.tensor(W)).sum() / len(W)

    _both(lambda p: losses.MeanSquaredError()(y, p, sample_weight=W), torch_fn)
