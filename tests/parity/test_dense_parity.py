"""Dense against torch.nn.Linear: the same weights (Keras layout kernel (in, out) -> torch
weight (out, in)) give the same outputs and gradients; a training step with SGD agrees."""

import numpy as np
import pytest
import torch

import profond
from profond import layers, optimizers


def _pair(in_f=6, out_f=4, activation=None, dtype="float64"):
    layer = layers.Dense(out_f, activation=activation, dtype=dtype)
    layer.build((None, in_f))
    lin = torch.nn.Linear(in_f, out_f).to(getattr(torch, dtype))
    kernel, bias = layer.get_weights()
    with torch.no_grad():
        lin.weight.copy_(torch.tensor(kernel.T))  # Keras (in, out) -> torch (out, in)
        lin.bias.copy_(torch.tensor(bias + 0.1))
    layer.set_weights([kernel, bias + 0.1])
    return layer, lin


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("xshape", [(5, 6), (2, 3, 6)], ids=str)
def test_dense_matches_linear(xshape, dtype):
    layer, lin = _pair(dtype=dtype)
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    x = np.random.default_rng(0).normal(size=xshape)
    p_x = profond.tensor(x, dtype=dtype, requires_grad=True)
    t_x = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    p_out, t_out = layer(p_x), lin(t_x)
    np.testing.assert_allclose(p_out.numpy(), t_out.detach().numpy(), **tol)
    w = np.random.default_rng(1).standard_normal(p_out.shape)
    (p_out * profond.tensor(w, dtype=dtype)).sum().backward()
    (t_out * torch.tensor(w, dtype=getattr(torch, dtype))).sum().backward()
    np.testing.assert_allclose(p_x.grad, t_x.grad.numpy(), **tol)
    np.testing.assert_allclose(layer.kernel.grad, lin.weight.grad.numpy().T, **tol)
    np.testing.assert_allclose(layer.bias.grad, lin.bias.grad.numpy(), **tol)


def test_mlp_sgd_steps_match_torch():
    profond.random.seed(0)
    model = profond.Sequential([layers.Input((6,)), layers.Dense(8, activation="relu"),
                                layers.Dense(3, activation="softmax")])
    net = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
    with torch.no_grad():
        for lin, (k, b) in zip((net[0], net[2]), zip(model.get_weights()[::2],
                                                     model.get_weights()[1::2])):
            lin.weight.copy_(torch.tensor(k.T))
            lin.bias.copy_(torch.tensor(b))
    rng = np.random.default_rng(2)
    x = rng.normal(size=(32, 6)).astype(np.float32)
    y = rng.integers(0, 3, size=32)
    model.compile(optimizer=optimizers.SGD(learning_rate=0.1, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
    for _ in range(2):
        for i in range(0, 32, 8):
            opt.zero_grad()
            loss = torch.nn.functional.cross_entropy(net(torch.tensor(x[i:i + 8])),
                                                     torch.tensor(y[i:i + 8]))
            loss.backward()
            opt.step()
    got = model.get_weights()
    want = [net[0].weight.detach().numpy().T, net[0].bias.detach().numpy(),
            net[2].weight.detach().numpy().T, net[2].bias.detach().numpy()]
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-4, atol=1e-5)
