"""3-D, transposed and depthwise convolutions and 3-D/adaptive pooling against PyTorch (outputs
and gradients, float32 and float64) and their layers against Keras 3 (weights copied with
get_weights/set_weights, outputs compared)."""

import os
import warnings

import numpy as np
import pytest
import torch

import profond
from profond import layers, ops
from profond.ops.conv import same_padding

F = torch.nn.functional
TOL = {"float32": dict(rtol=2e-4, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-11)}


def to_ncx(a):
    return np.ascontiguousarray(np.moveaxis(a, -1, 1))


def compare(p_fn, t_fn, arrays, dtype, converts):
    """Outputs and gradients of ``p_fn`` (channels-last) and ``t_fn`` (channels-first, torch
    layouts) on the same data; ``converts`` maps each array to torch's layout and back."""
    rng = np.random.default_rng(1)
    p_in = [profond.tensor(a, dtype=dtype, requires_grad=True) for a in arrays]
    t_in = [torch.tensor(to_t(a), dtype=getattr(torch, dtype), requires_grad=True)
            for a, (to_t, _) in zip(arrays, converts)]
    p_out, t_out = p_fn(*p_in), t_fn(*t_in).movedim(1, -1)
    np.testing.assert_allclose(p_out.numpy(), t_out.detach().numpy(), **TOL[dtype])
    w = rng.standard_normal(p_out.shape)
    (p_out * profond.tensor(w, dtype=dtype)).sum().backward()
    (t_out * torch.tensor(w, dtype=getattr(torch, dtype))).sum().backward()
    for p, t, (_, back) in zip(p_in, t_in, converts):
        np.testing.assert_allclose(p.grad, back(t.grad.numpy()), **TOL[dtype])


DATA = (to_ncx, lambda a: np.moveaxis(a, 1, -1))
BIAS = (lambda a: a, lambda a: a)


def kernel_layout(rank, transposed):
    """Keras (*k, in, out) -> torch (out, in, *k); transposed (*k, out, in) -> (in, out, *k),
    i.e. the same permutation, (rank + 1, rank, *spatial)."""
    perm = (rank + 1, rank) + tuple(range(rank))
    inverse = tuple(np.argsort(perm))
    return (lambda a: np.ascontiguousarray(a.transpose(perm)), lambda a: a.transpose(inverse))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,ksize,strides,padding,dilation", [
    ((2, 5, 6, 7, 3), (2, 3, 2), (1, 1, 1), "valid", (1, 1, 1)),
    ((1, 6, 5, 7, 2), (3, 3, 3), (2, 1, 2), "same", (1, 1, 1)),
    ((2, 6, 5, 6, 16), (2, 2, 3), (1, 2, 1), "valid", (2, 1, 1)),
])
def test_conv3d_matches_torch(dtype, shape, ksize, strides, padding, dilation):
    rng = np.random.default_rng(0)
    x, k, b = (rng.standard_normal(shape), rng.standard_normal(ksize + (shape[-1], 4)),
               rng.standard_normal(4))
    pads = [same_padding(s, kk, st, d) if padding == "same" else (0, 0)
            for s, kk, st, d in zip(shape[1:4], ksize, strides, dilation)]
    flat = tuple(v for pair in reversed(pads) for v in pair)
    compare(lambda x, k, b: ops.conv3d(x, k, b, strides, padding, dilation),
            lambda x, k, b: F.conv3d(F.pad(x, flat), k, b, stride=strides, dilation=dilation),
            [x, k, b], dtype, [DATA, kernel_layout(3, False), BIAS])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,ksize,strides,output_padding,dilation", [
    ((2, 7, 3), (3,), (2,), (1,), (1,)),
    ((2, 6, 2), (2,), (1,), (0,), (2,)),
    ((2, 5, 6, 3), (3, 3), (2, 2), (1, 0), (1, 1)),
    ((1, 4, 5, 20), (4, 2), (3, 2), (2, 1), (1, 1)),
    ((1, 5, 4, 2), (3, 2), (1, 1), (0, 0), (2, 2)),
    ((1, 3, 4, 3, 2), (3, 2, 2), (2, 1, 2), (1, 0, 1), (1, 1, 1)),
    ((1, 3, 3, 2, 2), (2, 2, 3), (1, 2, 1), (0, 1, 0), (1, 1, 2)),
])
def test_conv_transpose_matches_torch(dtype, shape, ksize, strides, output_padding, dilation):
    rng = np.random.default_rng(0)
    rank = len(ksize)
    x, k, b = (rng.standard_normal(shape), rng.standard_normal(ksize + (4, shape[-1])),
               rng.standard_normal(4))
    t_fn = [F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d][rank - 1]
    compare(lambda x, k, b: ops.conv_transpose(x, k, b, strides, "valid", output_padding,
                                               dilation),
            lambda x, k, b: t_fn(x, k, b, stride=strides, output_padding=output_padding,
                                 dilation=dilation),
            [x, k, b], dtype, [DATA, kernel_layout(rank, True), BIAS])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,ksize,m,strides,dilation", [
    ((2, 9, 3), (3,), 1, (1,), (1,)), ((2, 9, 2), (2,), 3, (2,), (2,)),
    ((2, 7, 8, 3), (3, 3), 1, (1, 1), (1, 1)), ((1, 9, 8, 4), (3, 2), 2, (2, 1), (1, 2)),
])
def test_depthwise_conv_matches_torch_grouped_conv(dtype, shape, ksize, m, strides, dilation):
    rng = np.random.default_rng(0)
    rank, c = len(ksize), shape[-1]
    x, k, b = (rng.standard_normal(shape), rng.standard_normal(ksize + (c, m)),
               rng.standard_normal(c * m))
    # Keras's (*k, c, m) is torch's (c * m, 1, *k): output channel c * m + j either way
    kconv = (lambda a: np.ascontiguousarray(np.moveaxis(a.reshape(ksize + (c * m,)), -1, 0)
                                            [:, None]),
             lambda a: np.moveaxis(a[:, 0], 0, -1).reshape(ksize + (c, m)))
    p_fn = ops.depthwise_conv2d if rank == 2 else ops.depthwise_conv1d
    t_fn = F.conv2d if rank == 2 else F.conv1d
    compare(lambda x, k, b: p_fn(x, k, b, strides, "valid", dilation),
            lambda x, k, b: t_fn(x, k, b, stride=strides, dilation=dilation, groups=c),
            [x, k, b], dtype, [DATA, kconv, BIAS])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("pool,strides", [((2, 2, 2), None), ((3, 2, 3), (2, 1, 1))])
def test_pool3d_matches_torch(dtype, kind, pool, strides):
    rng = np.random.default_rng(0)
    x = rng.permutation(np.arange(2 * 7 * 6 * 5 * 3)).reshape(2, 7, 6, 5, 3) / 100.0
    p_fn = ops.max_pool3d if kind == "max" else ops.avg_pool3d
    t_fn = F.max_pool3d if kind == "max" else F.avg_pool3d
    compare(lambda x: p_fn(x, pool, strides), lambda x: t_fn(x, pool, strides or pool), [x],
            dtype, [DATA])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("shape,output_size", [
    ((2, 10, 3), (4,)), ((2, 7, 9, 2), (3, 4)), ((1, 5, 7, 6, 2), (2, 3, 4)), ((1, 3, 2), (5,)),
])
def test_adaptive_pool_matches_torch(dtype, kind, shape, output_size):
    rng = np.random.default_rng(0)
    x = rng.permutation(np.arange(np.prod(shape))).reshape(shape) / 10.0
    rank = len(output_size)
    p_fn = ops.adaptive_max_pool if kind == "max" else ops.adaptive_average_pool
    t_fn = getattr(F, f"adaptive_{kind}_pool{rank}d")
    compare(lambda x: p_fn(x, output_size), lambda x: t_fn(x, output_size), [x], dtype, [DATA])


# --- the layers against Keras 3 -------------------------------------------------------------------
KERAS_CASES = [
    ("Conv2DTranspose", (4, 3), dict(strides=2, padding="same"), (2, 5, 6, 3)),
    ("Conv2DTranspose", (4, 4), dict(strides=2, padding="same", activation="relu"),
     (2, 5, 6, 3)),
    ("Conv2DTranspose", (4, 3), dict(strides=2), (2, 5, 6, 3)),
    ("Conv2DTranspose", (4, 2), dict(strides=3), (2, 5, 6, 3)),
    ("Conv2DTranspose", (4, 3), dict(strides=2, output_padding=1), (2, 5, 6, 3)),
    ("Conv2DTranspose", (4, 3), dict(strides=2, padding="same", output_padding=1),
     (2, 5, 6, 3)),
    ("Conv2DTranspose", (4, 3), dict(padding="same", dilation_rate=2), (2, 5, 6, 3)),
    ("Conv1DTranspose", (4, 3), dict(strides=2, padding="same", activation="tanh"), (2, 5, 3)),
    ("Conv3DTranspose", (4, 3), dict(strides=2), (2, 3, 4, 5, 3)),
    ("Conv3DTranspose", (3, 2), dict(strides=(1, 2, 2), padding="same"), (2, 3, 4, 5, 3)),
    ("Conv3D", (4, 3), dict(strides=2, padding="same", activation="relu"), (2, 5, 6, 7, 3)),
    ("Conv3D", (4, 2), dict(groups=2, dilation_rate=2), (2, 5, 6, 7, 4)),
    ("DepthwiseConv2D", (3,), dict(depth_multiplier=2, padding="same", strides=2), (2, 7, 8, 3)),
    ("DepthwiseConv2D", (3,), dict(activation="relu"), (2, 7, 8, 3)),
    ("DepthwiseConv1D", (3,), dict(dilation_rate=2, depth_multiplier=2), (2, 9, 3)),
    ("SeparableConv2D", (5, 3), dict(depth_multiplier=2, padding="same"), (2, 7, 8, 3)),
    ("SeparableConv1D", (5, 3), dict(strides=2, activation="relu"), (2, 9, 3)),
    ("MaxPooling3D", (), dict(pool_size=2, padding="same"), (2, 5, 6, 7, 3)),
    # symmetric "same" padding: Keras's torch backend pads asymmetric windows by replication
    ("AveragePooling3D", (), dict(pool_size=3, strides=1, padding="same"), (2, 5, 6, 7, 3)),
    ("AveragePooling3D", (), dict(pool_size=(2, 3, 2), strides=(1, 2, 2)), (2, 5, 6, 7, 3)),
    ("GlobalMaxPooling3D", (), {}, (2, 5, 6, 7, 3)),
    ("GlobalAveragePooling3D", (), dict(keepdims=True), (2, 5, 6, 7, 3)),
    ("AdaptiveAveragePooling1D", (4,), {}, (2, 7, 3)),
    ("AdaptiveAveragePooling2D", ((3, 4),), {}, (2, 7, 9, 3)),
    ("AdaptiveMaxPooling2D", ((3, 4),), {}, (2, 7, 9, 3)),
    ("AdaptiveMaxPooling1D", (4,), {}, (2, 7, 3)),
    ("AdaptiveAveragePooling3D", (2,), {}, (2, 5, 7, 3, 3)),
    ("AdaptiveMaxPooling3D", ((2, 3, 1),), {}, (2, 5, 7, 3, 3)),
    ("MaxPool3D", (), {}, (1, 4, 4, 4, 2)), ("GlobalAvgPool3D", (), {}, (1, 4, 4, 4, 2)),
]


@pytest.fixture(scope="module")
def keras():
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("keras")


@pytest.mark.parametrize("name,args,kwargs,shape", KERAS_CASES)
def test_layer_matches_keras_with_its_weights(keras, name, args, kwargs, shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype("float32")
    theirs, ours = getattr(keras.layers, name)(*args, **kwargs), getattr(layers, name)(*args,
                                                                                        **kwargs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs(x)
        ours(x)
        assert [w.shape for w in ours.get_weights()] == [tuple(w.shape)
                                                         for w in theirs.get_weights()]
        weights = [rng.standard_normal(w.shape).astype("float32") for w in theirs.get_weights()]
        theirs.set_weights(weights)
        ours.set_weights(weights)
        expected = keras.ops.convert_to_numpy(theirs(x))
    np.testing.assert_allclose(ours(x).numpy(), expected, rtol=1e-4, atol=2e-5)
    assert ours.compute_output_shape((None,) + shape[1:]) == \
        tuple(theirs.compute_output_shape((None,) + shape[1:]))
    # the config: Keras's keys and values (tuples written as lists; the dtype policy is the
    # base Layer's business)
    ours_config, theirs_config = ours.get_config(), theirs.get_config()
    assert set(ours_config) - {"dtype"} == set(theirs_config) - {"dtype"}
    for key in set(theirs_config) - {"name", "dtype"}:
        value = theirs_config[key]
        if key.endswith("_initializer"):  # Keras 3.15's initializers have more arguments
            assert ours_config[key]["class_name"] == value["class_name"], key
            continue
        expected_value = list(value) if isinstance(value, tuple) else value
        assert ours_config[key] == expected_value, key
    assert type(ours) is layers.get(type(theirs).__name__)


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("Conv2DTranspose", (3, 3), dict(strides=2, padding="same", activation="relu"), (4, 5, 4, 2)),
    ("Conv3DTranspose", (2, 2), dict(strides=(1, 2, 1)), (4, 3, 2, 3, 2)),
    ("Conv3D", (3, 2), dict(padding="same", activation="tanh"), (4, 3, 4, 3, 2)),
    ("DepthwiseConv2D", (3,), dict(depth_multiplier=2, padding="same"), (4, 5, 4, 2)),
    ("SeparableConv1D", (3, 3), dict(depth_multiplier=2, activation="relu"), (4, 7, 2)),
])
def test_layer_trains_as_keras_does(keras, name, args, kwargs, shape):
    """Three SGD steps on the mean squared error from the same weights: the same weights."""
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape).astype("float32")
    models = []
    for lib in (keras, profond):
        model = lib.Sequential([lib.layers.Input(shape[1:]),
                                getattr(lib.layers, name)(*args, **kwargs),
                                lib.layers.Flatten(), lib.layers.Dense(1)])
        model.compile(optimizer=lib.optimizers.SGD(0.05), loss="mse")
        models.append(model)
    theirs, ours = models
    y = rng.standard_normal((shape[0], 1)).astype("float32")
    ours.set_weights(theirs.get_weights())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(3):
            theirs.train_on_batch(x, y)
            ours.train_on_batch(x, y)
    for got, expected in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
