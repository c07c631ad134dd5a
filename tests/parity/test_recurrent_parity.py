"""Parity with PyTorch's nn.RNN / nn.GRU / nn.LSTM: outputs, final states and gradients.

Keras layouts map to PyTorch's as follows: ``weight_ih = kernel.T``, ``weight_hh =
recurrent_kernel.T``. LSTM gates are in the same order (i, f, c/g, o); PyTorch's LSTM has two
biases that add up, so ``bias_ih = bias`` and ``bias_hh = 0``. Keras's GRU gates are z, r, h and
PyTorch's r, z, n, so the blocks are reordered; PyTorch's GRU is Keras's ``reset_after=True``
formula, with ``bias[0]`` the input bias and ``bias[1]`` the recurrent one.
"""

import numpy as np
import pytest
import torch

import profond
from profond import backend, layers

B, T, F, U = 3, 6, 4, 5


def _reorder_gru(a, axis=-1):
    z, r, h = np.split(a, 3, axis=axis)
    return np.concatenate([r, z, h], axis=axis)


def _torch_weights(kind, weights):
    k, r = weights[0], weights[1]
    b = weights[2] if len(weights) > 2 else None
    if kind == "gru":
        return {"weight_ih": _reorder_gru(k).T, "weight_hh": _reorder_gru(r).T,
                "bias_ih": _reorder_gru(b[0]), "bias_hh": _reorder_gru(b[1])}
    return {"weight_ih": k.T, "weight_hh": r.T, "bias_ih": b, "bias_hh": np.zeros_like(b)}


def _from_torch_grads(kind, module, suffix=""):
    g = {n: getattr(module, n + "_l0" + suffix).grad.numpy() for n in
         ("weight_ih", "weight_hh", "bias_ih", "bias_hh")}
    if kind == "gru":
        back = _reorder_gru  # r, z, n -> z, r, h: swapping the first two blocks undoes itself
        return [back(g["weight_ih"].T), back(g["weight_hh"].T),
                np.stack([back(g["bias_ih"]), back(g["bias_hh"])])]
    return [g["weight_ih"].T, g["weight_hh"].T, g["bias_ih"]]


def _torch_module(kind, dtype, bidirectional=False):
    cls = {"simple_rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[kind]
    return cls(F, U, batch_first=True, bidirectional=bidirectional).to(dtype)


def _load(module, kind, weights, suffix=""):
    with torch.no_grad():
        for name, value in _torch_weights(kind, weights).items():
            getattr(module, name + "_l0" + suffix).copy_(torch.from_numpy(np.array(value)))


LAYERS = {"simple_rnn": layers.SimpleRNN, "gru": layers.GRU, "lstm": layers.LSTM}


@pytest.mark.parametrize("kind", ["simple_rnn", "gru", "lstm"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_outputs_states_and_gradients(kind, dtype, go_backwards, rng):
    tol = {"atol": 2e-5, "rtol": 1e-4} if dtype == "float32" else {"atol": 1e-10, "rtol": 1e-9}
    n_states = 2 if kind == "lstm" else 1
    x = rng.normal(size=(B, T, F)).astype(dtype)
    init = [rng.normal(size=(B, U)).astype(dtype) * 0.5 for _ in range(n_states)]
    seq_w = rng.normal(size=(B, T, U)).astype(dtype)
    state_w = [rng.normal(size=(B, U)).astype(dtype) for _ in range(n_states)]

    with backend.floatx_scope(dtype):
        layer = LAYERS[kind](U, return_sequences=True, return_state=True,
                             go_backwards=go_backwards, bias_initializer="random_normal")
        px = profond.tensor(x, requires_grad=True)
        pinit = [profond.tensor(s, requires_grad=True) for s in init]
        seq, *states = layer(px, initial_state=pinit)
        loss = (seq * seq_w).sum()
        for s, w in zip(states, state_w):
            loss = loss + (s * w).sum()
        loss.backward()

    module = _torch_module(kind, getattr(torch, dtype))
    _load(module, kind, layer.get_weights())
    tx = torch.tensor(x[:, ::-1].copy() if go_backwards else x, requires_grad=True)
    tinit = [torch.tensor(s[None], requires_grad=True) for s in init]
    tseq, tstate = module(tx, tuple(tinit) if kind == "lstm" else tinit[0])
    tstates = list(tstate) if kind == "lstm" else [tstate]
    tloss = (tseq * torch.from_numpy(seq_w)).sum()
    for s, w in zip(tstates, state_w):
        tloss = tloss + (s[0] * torch.from_numpy(w)).sum()
    tloss.backward()

    np.testing.assert_allclose(seq.numpy(), tseq.detach().numpy(), **tol)
    for s, ts in zip(states, tstates):
        np.testing.assert_allclose(s.numpy(), ts[0].detach().numpy(), **tol)
    gx = tx.grad.numpy()
    np.testing.assert_allclose(px.grad, gx[:, ::-1] if go_backwards else gx, **tol)
    for p, t in zip(pinit, tinit):
        np.testing.assert_allclose(p.grad, t.grad.numpy()[0], **tol)
    for var, expected in zip(layer.weights, _from_torch_grads(kind, module)):
        got = var.grad
        if kind == "simple_rnn" and var.name == "bias":
            expected = module.bias_hh_l0.grad.numpy()
        np.testing.assert_allclose(got, expected, **tol)


@pytest.mark.parametrize("kind", ["gru", "lstm"])
def test_bidirectional_matches_torch_bidirectional(kind, rng):
    x = rng.normal(size=(B, T, F)).astype(np.float32)
    bi = layers.Bidirectional(LAYERS[kind](U, return_sequences=True,
                                           bias_initializer="random_normal"))
    px = profond.tensor(x, requires_grad=True)
    out = bi(px)
    w = rng.normal(size=out.shape).astype(np.float32)
    (out * w).sum().backward()

    module = _torch_module(kind, torch.float32, bidirectional=True)
    _load(module, kind, bi.forward_layer.get_weights())
    _load(module, kind, bi.backward_layer.get_weights(), suffix="_reverse")
    tx = torch.tensor(x, requires_grad=True)
    tout, _ = module(tx)
    (tout * torch.from_numpy(w)).sum().backward()

    np.testing.assert_allclose(out.numpy(), tout.detach().numpy(), atol=2e-5)
    np.testing.assert_allclose(px.grad, tx.grad.numpy(), atol=2e-5)
    for sub, suffix in ((bi.forward_layer, ""), (bi.backward_layer, "_reverse")):
        for var, expected in zip(sub.weights, _from_torch_grads(kind, module, suffix)):
            np.testing.assert_allclose(var.grad, expected, atol=5e-5, rtol=1e-4)
