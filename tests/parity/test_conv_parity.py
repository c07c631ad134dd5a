"""Convolutions, pooling and batch normalisation against PyTorch: the same weights (Keras
layouts converted to PyTorch's) give the same outputs and gradients, in float32 and float64."""

import numpy as np
import pytest
import torch

import profond
from profond import layers
from profond.ops.conv import same_padding

F = torch.nn.functional
TOL = {"float32": dict(rtol=2e-4, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-11)}


def to_nchw(a):
    return np.ascontiguousarray(np.moveaxis(a, -1, 1))


def from_nchw(a):
    return np.moveaxis(a, 1, -1)


def run_both(p_fn, t_fn, x, dtype, params=()):
    """Outputs and gradients (input and each parameter pair) of both frameworks.

    ``params`` holds (profond tensor, torch tensor, convert) triples, ``convert`` mapping a
    torch gradient to the profond layout."""
    rng = np.random.default_rng(1)
    p_x = profond.tensor(x, dtype=dtype, requires_grad=True)
    t_x = torch.tensor(to_nchw(x), dtype=getattr(torch, dtype), requires_grad=True)
    p_out, t_out = p_fn(p_x), t_fn(t_x)
    t_out_cl = t_out.movedim(1, -1)
    np.testing.assert_allclose(p_out.numpy(), t_out_cl.detach().numpy(), **TOL[dtype])
    w = rng.standard_normal(p_out.shape)
    (p_out * profond.tensor(w, dtype=dtype)).sum().backward()
    (t_out_cl * torch.tensor(w, dtype=getattr(torch, dtype))).sum().backward()
    np.testing.assert_allclose(p_x.grad, from_nchw(t_x.grad.numpy()), **TOL[dtype])
    for p, t, convert in params:
        np.testing.assert_allclose(p.grad, convert(t.grad.numpy()), **TOL[dtype])


def torch_same_pad(t, sizes, kernel, strides, dilation, value=0.0):
    (pt, pb), (pl, pr) = [same_padding(s, k, st, d) for s, k, st, d in
                          zip(sizes, kernel, strides, dilation)]
    return F.pad(t, (pl, pr, pt, pb), value=value)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,ksize,strides,padding,dilation", [
    ((2, 9, 8, 3), (3, 3), (1, 1), "valid", (1, 1)),
    ((2, 8, 9, 2), (3, 2), (2, 2), "same", (1, 1)),
    ((1, 10, 9, 4), (3, 3), (2, 1), "same", (2, 2)),
    ((2, 7, 7, 16), (2, 2), (1, 1), "valid", (1, 1)),
    ((1, 6, 8, 1), (4, 4), (3, 3), "same", (1, 1)),
])
def test_conv2d_matches_torch(dtype, shape, ksize, strides, padding, dilation):
    with profond.backend.floatx_scope(dtype):
        layer = layers.Conv2D(5, ksize, strides=strides, padding=padding,
                              dilation_rate=dilation, bias_initializer="random_normal")
        layer.build((None,) + shape[1:])
    kernel, bias = layer.get_weights()
    t_k = torch.tensor(kernel.transpose(3, 2, 0, 1).copy(), requires_grad=True)  # (o, i, kh, kw)
    t_b = torch.tensor(bias, requires_grad=True)

    def t_fn(t):
        if padding == "same":
            t = torch_same_pad(t, shape[1:3], ksize, strides, dilation)
        return F.conv2d(t, t_k, t_b, stride=strides, dilation=dilation)

    x = np.random.default_rng(0).normal(size=shape)
    run_both(layer, t_fn, x, dtype,
             [(layer.kernel, t_k, lambda g: g.transpose(2, 3, 1, 0)),
              (layer.bias, t_b, lambda g: g)])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("padding,stride,dilation", [("valid", 1, 1), ("same", 2, 1),
                                                    ("causal", 1, 2), ("same", 1, 3)])
def test_conv1d_matches_torch(dtype, padding, stride, dilation):
    shape, k = (2, 13, 3), 3
    with profond.backend.floatx_scope(dtype):
        layer = layers.Conv1D(4, k, strides=stride, padding=padding, dilation_rate=dilation,
                              bias_initializer="random_normal")
        layer.build((None,) + shape[1:])
    kernel, bias = layer.get_weights()
    t_k = torch.tensor(kernel.transpose(2, 1, 0).copy(), requires_grad=True)  # (o, i, k)
    t_b = torch.tensor(bias, requires_grad=True)

    def t_fn(t):
        if padding == "causal":
            t = F.pad(t, ((k - 1) * dilation, 0))
        elif padding == "same":
            t = F.pad(t, same_padding(shape[1], k, stride, dilation))
        return F.conv1d(t, t_k, t_b, stride=stride, dilation=dilation)

    x = np.random.default_rng(0).normal(size=shape)
    run_both(layer, t_fn, x, dtype, [(layer.kernel, t_k, lambda g: g.transpose(2, 1, 0)),
                                     (layer.bias, t_b, lambda g: g)])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("pool,strides,padding", [(2, None, "valid"), (3, 2, "valid"),
                                                  ((2, 3), (1, 2), "valid"), (3, 1, "same")])
def test_max_pooling_matches_torch(dtype, pool, strides, padding):
    shape = (2, 7, 8, 3)
    x = np.random.default_rng(0).normal(size=shape)
    x[0, :4, :4, 0] = 0.0  # ties: both send the gradient to the first maximum
    layer = layers.MaxPooling2D(pool, strides, padding)
    pool2 = (pool, pool) if isinstance(pool, int) else pool
    st = pool2 if strides is None else ((strides,) * 2 if isinstance(strides, int) else strides)

    def t_fn(t):
        if padding == "same":
            t = torch_same_pad(t, shape[1:3], pool2, st, (1, 1), value=-float("inf"))
        return F.max_pool2d(t, pool2, st)

    run_both(layer, t_fn, x, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("pool,strides", [(2, None), (3, 2), ((3, 2), 1)])
def test_average_pooling_matches_torch(dtype, pool, strides):
    x = np.random.default_rng(0).normal(size=(2, 7, 8, 3))
    pool2 = (pool, pool) if isinstance(pool, int) else pool
    st = pool2 if strides is None else ((strides,) * 2 if isinstance(strides, int) else strides)
    run_both(layers.AveragePooling2D(pool, strides), lambda t: F.avg_pool2d(t, pool2, st), x,
             dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_pooling_1d_matches_torch(dtype):
    x = np.random.default_rng(0).normal(size=(2, 11, 3))
    run_both(layers.MaxPooling1D(3, 2), lambda t: F.max_pool1d(t, 3, 2), x, dtype)
    run_both(layers.AveragePooling1D(2), lambda t: F.avg_pool1d(t, 2), x, dtype)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(8, 5), (4, 5, 6, 3)])
def test_batch_normalization_matches_torch(dtype, shape):
    rng = np.random.default_rng(0)
    c = shape[-1]
    with profond.backend.floatx_scope(dtype):
        layer = layers.BatchNormalization(momentum=0.9)
        layer.build((None,) + shape[1:])
    gamma, beta = rng.normal(size=c) + 1, rng.normal(size=c)
    layer.set_weights([gamma, beta, np.zeros(c), np.ones(c)])
    tdt = getattr(torch, dtype)
    bn = (torch.nn.BatchNorm1d if len(shape) == 2 else torch.nn.BatchNorm2d)(
        c, eps=1e-3, momentum=0.1).to(tdt)  # torch's momentum is Keras's 1 - momentum
    with torch.no_grad():
        bn.weight.copy_(torch.tensor(gamma))
        bn.bias.copy_(torch.tensor(beta))
    x = rng.normal(2.0, 3.0, size=shape)
    bn.train()
    run_both(lambda t: layer(t, training=True), bn, x, dtype,
             [(layer.gamma, bn.weight, lambda g: g), (layer.beta, bn.bias, lambda g: g)])
    n = x.size // c
    # moving mean: identical; moving variance: torch keeps the unbiased estimate
    np.testing.assert_allclose(layer.moving_mean.numpy(), bn.running_mean.numpy(), **TOL[dtype])
    torch_biased = 0.9 + (bn.running_var.numpy() - 0.9) * (n - 1) / n
    np.testing.assert_allclose(layer.moving_variance.numpy(), torch_biased, **TOL[dtype])
    bn.eval()
    with torch.no_grad():
        bn.running_var.copy_(torch.tensor(layer.moving_variance.numpy(), dtype=tdt))
    layer.gamma.grad = layer.beta.grad = bn.weight.grad = bn.bias.grad = None
    run_both(lambda t: layer(t, training=False), bn, rng.normal(size=shape), dtype,
             [(layer.gamma, bn.weight, lambda g: g), (layer.beta, bn.bias, lambda g: g)])


def test_a_training_step_of_a_small_cnn_matches_torch():
    rng = np.random.default_rng(0)
    with profond.backend.floatx_scope("float64"):
        model = profond.Sequential([layers.Input((8, 8, 2)),
                                    layers.Conv2D(3, 3, padding="same", activation="relu"),
                                    layers.MaxPooling2D(), layers.Flatten(), layers.Dense(4)])
    kernel, bias, dk, db = model.get_weights()
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3, padding=1), torch.nn.ReLU(),
                              torch.nn.MaxPool2d(2), torch.nn.Flatten(),
                              torch.nn.Linear(48, 4)).double()
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(kernel.transpose(3, 2, 0, 1)))
        net[0].bias.copy_(torch.tensor(bias))
        # profond flattens (h, w, c), torch (c, h, w): permute the dense rows accordingly
        net[4].weight.copy_(torch.tensor(dk.reshape(4, 4, 3, 4).transpose(3, 2, 0, 1)
                                         .reshape(4, 48)))
        net[4].bias.copy_(torch.tensor(db))
    x = rng.normal(size=(6, 8, 8, 2))
    y = rng.integers(0, 4, 6)
    model.compile(optimizer=profond.optimizers.SGD(0.1),
                  loss=profond.losses.SparseCategoricalCrossentropy(from_logits=True))
    with profond.backend.floatx_scope("float64"):  # keep the data in float64 too
        loss = model.train_on_batch(x, y)
    t_loss = F.cross_entropy(net(torch.tensor(to_nchw(x))), torch.tensor(y))
    t_loss.backward()
    with torch.no_grad():  # plain SGD (torch.optim takes seconds to import)
        for p in net.parameters():
            p -= 0.1 * p.grad
    assert loss == pytest.approx(t_loss.item(), rel=1e-10)
    np.testing.assert_allclose(model.get_weights()[0],
                               net[0].weight.detach().numpy().transpose(2, 3, 1, 0), rtol=1e-10)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,filters,groups,strides,padding,activation", [
    ((2, 7, 6, 4), 6, 2, (1, 1), "valid", None),
    ((2, 8, 7, 6), 6, 3, (2, 1), "same", "relu"),
    ((1, 6, 6, 4), 4, 4, (1, 1), "same", None),  # depthwise
])
def test_grouped_conv2d_matches_torch(dtype, shape, filters, groups, strides, padding,
                                      activation):
    with profond.backend.floatx_scope(dtype):
        layer = layers.Conv2D(filters, 3, strides=strides, padding=padding, groups=groups,
                              activation=activation, bias_initializer="random_normal")
        layer.build((None,) + shape[1:])
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 3, shape[-1] // groups, filters)  # Keras's layout
    # Keras's (kh, kw, in/groups, out) is PyTorch's (out, in/groups, kh, kw), transposed
    t_k = torch.tensor(kernel.transpose(3, 2, 0, 1).copy(), requires_grad=True)
    t_b = torch.tensor(bias, requires_grad=True)

    def t_fn(t):
        if padding == "same":
            t = torch_same_pad(t, shape[1:3], (3, 3), strides, (1, 1))
        out = F.conv2d(t, t_k, t_b, stride=strides, groups=groups)
        return F.relu(out) if activation == "relu" else out

    x = np.random.default_rng(0).normal(size=shape)
    run_both(layer, t_fn, x, dtype,
             [(layer.kernel, t_k, lambda g: g.transpose(2, 3, 1, 0)),
              (layer.bias, t_b, lambda g: g)])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_grouped_conv1d_matches_torch(dtype):
    shape, groups = (2, 11, 6), 3
    with profond.backend.floatx_scope(dtype):
        layer = layers.Conv1D(9, 3, padding="causal", groups=groups,
                              bias_initializer="random_normal")
        layer.build((None,) + shape[1:])
    kernel, bias = layer.get_weights()
    assert kernel.shape == (3, 2, 9)
    t_k = torch.tensor(kernel.transpose(2, 1, 0).copy(), requires_grad=True)  # (o, i/g, k)
    t_b = torch.tensor(bias, requires_grad=True)

    def p_fn(p):
        return layer(p)

    def t_fn(t):  # channels-first (n, c, steps): causal = pad two steps before
        return F.conv1d(F.pad(t, (2, 0)), t_k, t_b, groups=groups)

    x = np.random.default_rng(2).normal(size=shape)
    p_x = profond.tensor(x, dtype=dtype, requires_grad=True)
    t_x = torch.tensor(np.ascontiguousarray(x.transpose(0, 2, 1)), dtype=getattr(torch, dtype),
                       requires_grad=True)
    p_out, t_out = p_fn(p_x), t_fn(t_x).transpose(1, 2)
    np.testing.assert_allclose(p_out.numpy(), t_out.detach().numpy(), **TOL[dtype])
    w = np.random.default_rng(3).standard_normal(p_out.shape)
    (p_out * profond.tensor(w, dtype=dtype)).sum().backward()
    (t_out * torch.tensor(w, dtype=getattr(torch, dtype))).sum().backward()
    np.testing.assert_allclose(p_x.grad, t_x.grad.numpy().transpose(0, 2, 1), **TOL[dtype])
    np.testing.assert_allclose(layer.kernel.grad, t_k.grad.numpy().transpose(2, 1, 0),
                               **TOL[dtype])
