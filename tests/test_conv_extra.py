"""3-D, transposed and depthwise convolutions, 3-D and adaptive pooling: ops against loop
references and finite differences (float64), their layers' shapes, weights and errors."""

import itertools

import numpy as np
import pytest
from _opcheck import check_op, draw

import profond
from profond import layers, ops
from profond.ops import kernels
from profond.ops.conv import same_padding
from profond.ops.conv_nd import conv_transpose_crop

FAST_TOL = dict(atol=1e-5, rtol=1e-4)


@pytest.fixture(params=["numpy", "numba"])
def kernel_path(request, monkeypatch):
    """A test on both paths: NumPy's, and the compiled kernels where numba is installed."""
    if request.param == "numba" and not kernels.available():
        pytest.skip("numba is not installed")
    monkeypatch.setattr(kernels, "ENABLED", request.param == "numba")
    return request.param


# --- loop references (the definitions, one kernel offset and one output position at a time) ----
def conv_reference(x, k, strides, padding="valid", dilation=None):
    """out[n, p, f] = sum_{o, c} x[n, p * s + o * d, c] k[o, c, f], any spatial rank."""
    rank = x.ndim - 2
    dilation = dilation or (1,) * rank
    if padding == "same":
        pads = [same_padding(x.shape[1 + a], k.shape[a], strides[a], dilation[a])
                for a in range(rank)]
        x = np.pad(x, [(0, 0)] + pads + [(0, 0)])
    out_sizes = [(x.shape[1 + a] - (k.shape[a] - 1) * dilation[a] - 1) // strides[a] + 1
                 for a in range(rank)]
    out = np.zeros([x.shape[0]] + out_sizes + [k.shape[-1]])
    for p in itertools.product(*map(range, out_sizes)):
        for o in itertools.product(*map(range, k.shape[:rank])):
            at = tuple(pi * s + oi * d for pi, oi, s, d in zip(p, o, strides, dilation))
            out[(slice(None),) + p] += x[(slice(None),) + at] @ k[o]
    return out


def conv_transpose_reference(x, k, strides, padding="valid", output_padding=None,
                             dilation=None):
    """Each input position adds ``x[q] @ k[o].T`` at ``q * s + o * d``; then Keras's crop."""
    rank = x.ndim - 2
    dilation = dilation or (1,) * rank
    full = [(x.shape[1 + a] - 1) * strides[a] + (k.shape[a] - 1) * dilation[a] + 1
            for a in range(rank)]
    y = np.zeros([x.shape[0]] + full + [k.shape[-2]])
    for q in itertools.product(*map(range, x.shape[1:-1])):
        for o in itertools.product(*map(range, k.shape[:rank])):
            at = tuple(qi * s + oi * d for qi, oi, s, d in zip(q, o, strides, dilation))
            y[(slice(None),) + at] += x[(slice(None),) + q] @ k[o].T
    for a in range(rank):
        start, size = conv_transpose_crop(x.shape[1 + a], k.shape[a], strides[a], padding,
                                          None if output_padding is None else output_padding[a],
                                          dilation[a])
        pad = [(0, 0)] * y.ndim
        pad[1 + a] = (max(-start, 0), max(start + size - y.shape[1 + a], 0))
        y = np.pad(y, pad)
        y = np.take(y, np.arange(size) + max(start, 0), axis=1 + a)
    return y


def depthwise_reference(x, k, strides, padding="valid", dilation=None):
    """Channel c with its m kernels, as a full convolution with a block-diagonal kernel."""
    c, m = k.shape[-2:]
    full = np.zeros(k.shape[:-2] + (c, c * m))
    for ch in range(c):
        full[..., ch, ch * m:(ch + 1) * m] = k[..., ch, :]
    return conv_reference(x, full, strides, padding, dilation)


# --- the ops ------------------------------------------------------------------------------------
@pytest.mark.parametrize("shape,ksize,strides,padding,dilation", [
    ((2, 4, 5, 4, 2), (2, 3, 2), (1, 1, 1), "valid", (1, 1, 1)),
    ((1, 5, 4, 5, 3), (3, 2, 3), (2, 1, 2), "same", (1, 1, 1)),
    ((2, 6, 4, 5, 1), (2, 2, 2), (1, 2, 1), "valid", (2, 1, 2)),
    ((1, 3, 3, 3, 16), (2, 2, 2), (1, 1, 1), "valid", (1, 1, 1)),  # the as_strided gather
])
def test_conv3d_matches_the_loop_reference_and_finite_differences(shape, ksize, strides,
                                                                  padding, dilation):
    x, k, b = draw(shape, seed=1), draw(ksize + (shape[-1], 3), seed=2), draw((3,), seed=3)
    check_op(lambda x, k, b: ops.conv3d(x, k, b, strides, padding, dilation),
             lambda x, k, b: conv_reference(x, k, strides, padding, dilation) + b, x, k, b,
             **FAST_TOL)


def test_conv3d_fused_relu_and_groups():
    x, k = draw((1, 4, 4, 4, 4), seed=1), draw((2, 2, 2, 2, 6), seed=2)
    kernel = np.zeros((2, 2, 2, 4, 6))
    kernel[..., :2, :3], kernel[..., 2:, 3:] = k[..., :3], k[..., 3:]
    check_op(lambda x, k: ops.conv3d(x, k, relu=True, groups=2),
             lambda x, k: np.maximum(conv_reference(x, kernel, (1, 1, 1)), 0), x, k, grad=False)
    assert profond.testing.gradcheck(lambda x, k: ops.conv3d(x, k, groups=2), x, k)


TRANSPOSE_CASES = [
    # (input shape, kernel size, filters, strides, padding, output_padding, dilation)
    ((2, 5, 3), (3,), 2, (2,), "same", None, (1,)),
    ((2, 4, 2), (4,), 3, (3,), "valid", None, (1,)),  # stride > kernel: zeros after
    ((1, 4, 5, 3), (3, 3), 2, (2, 2), "same", None, (1, 1)),
    ((2, 3, 4, 2), (3, 2), 3, (2, 1), "valid", (1, 0), (1, 1)),
    ((1, 4, 4, 2), (3, 3), 2, (2, 2), "same", (1, 1), (1, 1)),
    ((1, 4, 3, 2), (2, 3), 2, (1, 1), "same", None, (2, 1)),
    ((1, 3, 3, 40), (3, 3), 4, (2, 2), "valid", None, (1, 1)),  # wide columns
    ((1, 2, 3, 2, 2), (2, 2, 3), 2, (2, 1, 2), "same", None, (1, 1, 1)),
    ((1, 2, 2, 3, 3), (3, 2, 2), 2, (1, 2, 1), "valid", (0, 1, 0), (1, 1, 2)),
]


@pytest.mark.parametrize("shape,ksize,filters,strides,padding,output_padding,dilation",
                         TRANSPOSE_CASES)
def test_conv_transpose_matches_the_loop_reference_and_finite_differences(
        shape, ksize, filters, strides, padding, output_padding, dilation):
    x = draw(shape, seed=4)
    k, b = draw(ksize + (filters, shape[-1]), seed=5), draw((filters,), seed=6)
    check_op(lambda x, k, b: ops.conv_transpose(x, k, b, strides, padding, output_padding,
                                                dilation),
             lambda x, k, b: conv_transpose_reference(x, k, strides, padding, output_padding,
                                                      dilation) + b, x, k, b, **FAST_TOL)


def test_conv_transpose_is_the_adjoint_of_the_convolution():
    """<conv(y, k), x> == <y, conv_transpose(x, k)> for every "valid" geometry."""
    rng = np.random.default_rng(0)
    for strides, dilation in [((1, 1), (1, 1)), ((2, 3), (1, 1)), ((2, 1), (2, 2))]:
        k = rng.standard_normal((3, 2, 4, 5))  # conv: 4 -> 5 channels; transpose: 5 -> 4
        x = rng.standard_normal((2, 4, 3, 5))
        y_t = ops.conv_transpose(profond.tensor(x, dtype="float64"),
                                 profond.tensor(k, dtype="float64"), strides=strides,
                                 dilation_rate=dilation, output_padding=(0, 0)).numpy()
        y = rng.standard_normal(y_t.shape)
        conv = ops.conv2d(profond.tensor(y, dtype="float64"), profond.tensor(k, dtype="float64"),
                          strides=strides, dilation_rate=dilation).numpy()
        assert conv.shape == x.shape
        assert np.vdot(conv, x) == pytest.approx(np.vdot(y, y_t), rel=1e-10)


@pytest.mark.parametrize("shape,ksize,m,strides,padding,dilation", [
    ((2, 6, 3), (3,), 1, (1,), "valid", (1,)),
    ((2, 7, 2), (2,), 3, (2,), "same", (1,)),
    ((1, 7, 3), (3,), 2, (1,), "valid", (2,)),
    ((2, 5, 6, 3), (3, 3), 1, (1, 1), "same", (1, 1)),
    ((1, 6, 5, 2), (2, 3), 2, (2, 1), "valid", (1, 1)),
    ((1, 7, 7, 2), (3, 2), 1, (1, 2), "same", (2, 1)),
])
def test_depthwise_conv_matches_the_loop_reference_and_finite_differences(
        shape, ksize, m, strides, padding, dilation, kernel_path):
    x, k, b = draw(shape, seed=7), draw(ksize + (shape[-1], m), seed=8), \
        draw((shape[-1] * m,), seed=9)
    fn = ops.depthwise_conv2d if len(ksize) == 2 else ops.depthwise_conv1d
    check_op(lambda x, k, b: fn(x, k, b, strides, padding, dilation),
             lambda x, k, b: depthwise_reference(x, k, strides, padding, dilation) + b,
             x, k, b, **FAST_TOL)


def test_fused_relu_of_the_transposed_and_depthwise_convolutions(kernel_path):
    x = draw((1, 4, 4, 2), seed=1, points=(0.0,))
    k, kd = draw((3, 3, 3, 2), seed=2), draw((3, 3, 2, 1), seed=3)
    check_op(lambda x, k: ops.conv2d_transpose(x, k, strides=2, relu=True),
             lambda x, k: np.maximum(conv_transpose_reference(x, k, (2, 2)), 0), x, k,
             grad=False)
    check_op(lambda x, k: ops.depthwise_conv2d(x, k, padding="same", relu=True),
             lambda x, k: np.maximum(depthwise_reference(x, k, (1, 1), "same"), 0), x, kd,
             grad=False)


@pytest.mark.parametrize("shape,ksize,m,strides,padding,dilation", [
    ((3, 9, 4), (3,), 2, (2,), "causal", (1,)),
    ((2, 8, 7, 5), (3, 3), 1, (1, 1), "same", (1, 1)),
    ((2, 9, 8, 3), (3, 2), 3, (2, 1), "valid", (1, 2)),
])
def test_compiled_depthwise_conv_equals_the_numpy_path(shape, ksize, m, strides, padding,
                                                       dilation, monkeypatch):
    """float32, bias and fused ReLU: the compiled forward gives NumPy's bits, the gradients
    (masked by the ReLU, summed in another order) agree to float32 rounding."""
    if not kernels.available():
        pytest.skip("numba is not installed")
    rng = np.random.default_rng(3)
    arrays = [rng.standard_normal(shape), rng.standard_normal(ksize + (shape[-1], m)),
              rng.standard_normal(shape[-1] * m)]
    fn = ops.depthwise_conv2d if len(ksize) == 2 else ops.depthwise_conv1d
    results = []
    for enabled in (False, True):
        monkeypatch.setattr(kernels, "ENABLED", enabled)
        x, k, b = (profond.tensor(a.astype(np.float32), requires_grad=True) for a in arrays)
        y = fn(x, k, b, strides, padding, dilation, relu=True)
        (y * profond.tensor(np.linspace(-1, 2, y.size, dtype=np.float32).reshape(y.shape))
         ).sum().backward()
        results.append([y.numpy(), x.grad, k.grad, b.grad])
    (y_n, *grads_n), (y_c, *grads_c) = results
    assert 0 < (y_c == 0).mean() < 1                     # the ReLU cut some outputs
    np.testing.assert_array_equal(y_c, y_n)
    for name, gc, gn in zip(("x", "kernel", "bias"), grads_c, grads_n):
        assert gc.dtype == np.float32
        np.testing.assert_allclose(gc, gn, rtol=2e-5, atol=2e-5, err_msg=name)


def pool3d_reference(x, pool, strides, padding, kind):
    sizes = x.shape[1:4]
    pads = [same_padding(s, p, st) if padding == "same" else (0, 0)
            for s, p, st in zip(sizes, pool, strides)]
    out_sizes = [(s + a + b - p) // st + 1 for s, (a, b), p, st in zip(sizes, pads, pool, strides)]
    out = np.zeros([x.shape[0]] + out_sizes + [x.shape[-1]])
    for p in itertools.product(*map(range, out_sizes)):
        box = tuple(slice(max(pi * st - a, 0), min(pi * st - a + k, s))
                    for pi, st, (a, _), k, s in zip(p, strides, pads, pool, sizes))
        window = x[(slice(None),) + box + (slice(None),)]
        out[(slice(None),) + p] = (window.max(axis=(1, 2, 3)) if kind == "max"
                                   else window.mean(axis=(1, 2, 3)))
    return out


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("pool,strides,padding", [
    ((2, 2, 2), (2, 2, 2), "valid"), ((3, 2, 2), (2, 1, 2), "same"),
    ((2, 3, 1), (1, 1, 1), "valid"),
])
def test_pool3d_matches_the_loop_reference_and_finite_differences(kind, pool, strides, padding):
    x = draw((2, 5, 4, 5, 2), seed=10, untie=True)
    fn = ops.max_pool3d if kind == "max" else ops.avg_pool3d
    check_op(lambda x: fn(x, pool, strides, padding),
             lambda x: pool3d_reference(x, pool, strides, padding, kind), x, **FAST_TOL)


def adaptive_reference(x, output_size, kind):
    rank = x.ndim - 2
    bounds = [[(i * L // o, -(-(i + 1) * L // o)) for i in range(o)]
              for L, o in zip(x.shape[1:-1], output_size)]
    out = np.zeros((x.shape[0],) + tuple(output_size) + (x.shape[-1],))
    for p in itertools.product(*map(range, output_size)):
        box = tuple(slice(*bounds[a][p[a]]) for a in range(rank))
        window = x[(slice(None),) + box].reshape(x.shape[0], -1, x.shape[-1])
        out[(slice(None),) + p] = window.max(axis=1) if kind == "max" else window.mean(axis=1)
    return out


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("shape,output_size", [
    ((2, 7, 3), (3,)), ((2, 5, 8, 2), (2, 3)), ((1, 5, 4, 6, 2), (2, 3, 4)), ((1, 3, 2), (5,)),
])
def test_adaptive_pool_matches_the_loop_reference_and_finite_differences(kind, shape,
                                                                         output_size):
    x = draw(shape, seed=11, untie=True)
    fn = ops.adaptive_max_pool if kind == "max" else ops.adaptive_average_pool
    check_op(lambda x: fn(x, output_size), lambda x: adaptive_reference(x, output_size, kind),
             x, **FAST_TOL)


# --- the layers ---------------------------------------------------------------------------------
def test_weights_are_in_keras_order_and_layout():
    x2, x1, x3 = np.zeros((2, 6, 6, 3)), np.zeros((2, 6, 3)), np.zeros((1, 4, 4, 4, 3))
    cases = [
        (layers.Conv2DTranspose(5, (3, 2)), x2, [(3, 2, 5, 3), (5,)]),
        (layers.Conv1DTranspose(5, 3, use_bias=False), x1, [(3, 5, 3)]),
        (layers.Conv3DTranspose(5, 2), x3, [(2, 2, 2, 5, 3), (5,)]),
        (layers.Conv3D(5, 2), x3, [(2, 2, 2, 3, 5), (5,)]),
        (layers.DepthwiseConv2D(3, depth_multiplier=2), x2, [(3, 3, 3, 2), (6,)]),
        (layers.DepthwiseConv1D(3), x1, [(3, 3, 1), (3,)]),
        (layers.SeparableConv2D(4, 3, depth_multiplier=2), x2,
         [(3, 3, 3, 2), (1, 1, 6, 4), (4,)]),
        (layers.SeparableConv1D(4, 3), x1, [(3, 3, 1), (1, 3, 4), (4,)]),
    ]
    for layer, x, shapes in cases:
        layer(x)
        assert [w.shape for w in layer.get_weights()] == shapes, type(layer).__name__
    sep, depthwise = layers.SeparableConv2D(4, 3), layers.DepthwiseConv2D(3)
    sep(x2), depthwise(x2)
    assert [w.name for w in sep.weights] == ["depthwise_kernel", "pointwise_kernel", "bias"]
    assert [w.name for w in depthwise.weights] == ["kernel", "bias"]  # Keras's names


@pytest.mark.parametrize("layer,shape", [
    (layers.Conv2DTranspose(2, 3, strides=2, padding="same"), (None, 5, 7, 3)),
    (layers.Conv2DTranspose(2, 3, strides=2, output_padding=1), (None, 5, 7, 3)),
    (layers.Conv1DTranspose(2, 2, strides=3), (None, 5, 3)),
    (layers.Conv3DTranspose(2, 3, strides=(1, 2, 2), padding="same"), (None, 2, 3, 4, 3)),
    (layers.Conv3D(2, 2, strides=2, padding="same"), (None, 3, 5, 4, 3)),
    (layers.DepthwiseConv2D(3, strides=2, depth_multiplier=3), (None, 7, 8, 2)),
    (layers.SeparableConv1D(4, 3, padding="same", dilation_rate=2), (None, 7, 2)),
    (layers.MaxPooling3D(2, padding="same"), (None, 3, 5, 4, 2)),
    (layers.GlobalAveragePooling3D(keepdims=True), (None, 3, 5, 4, 2)),
    (layers.AdaptiveMaxPooling2D((2, 3)), (None, 7, 5, 2)),
])
def test_compute_output_shape_matches_the_call(layer, shape):
    out = layer(np.ones((2,) + shape[1:], np.float32))
    assert layer.compute_output_shape(shape) == (None,) + out.shape[1:]
    model_input = layers.Input(shape[1:])
    assert tuple(layer(model_input).shape) == (None,) + out.shape[1:]


def test_aliases_are_the_same_classes():
    for alias, name in [("Convolution1D", "Conv1D"), ("Convolution2D", "Conv2D"),
                        ("Convolution3D", "Conv3D"), ("Convolution2DTranspose", "Conv2DTranspose"),
                        ("Convolution1DTranspose", "Conv1DTranspose"),
                        ("Convolution3DTranspose", "Conv3DTranspose"),
                        ("SeparableConvolution1D", "SeparableConv1D"),
                        ("SeparableConvolution2D", "SeparableConv2D"),
                        ("MaxPool3D", "MaxPooling3D"), ("AvgPool1D", "AveragePooling1D"),
                        ("GlobalAvgPool2D", "GlobalAveragePooling2D"),
                        ("GlobalMaxPool3D", "GlobalMaxPooling3D")]:
        assert getattr(layers, alias) is getattr(layers, name)
        assert alias in layers.__all__


def test_a_model_of_the_new_layers_trains():
    """An encoder-decoder with every new convolution: the loss falls."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 8, 8, 2)).astype("float32")
    y = np.roll(x, 1, axis=1)
    with profond.random.seeded(0):
        model = profond.Sequential([
            layers.Input((8, 8, 2)), layers.SeparableConv2D(4, 3, padding="same",
                                                            activation="relu"),
            layers.DepthwiseConv2D(3, padding="same", depth_multiplier=2),
            layers.Conv2D(4, 2, strides=2), layers.Conv2DTranspose(2, 2, strides=2)])
    model.compile(optimizer=profond.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, y, epochs=15, batch_size=8, verbose=0).history["loss"]
    assert history[-1] < 0.7 * history[0]


# --- bad input ----------------------------------------------------------------------------------
@pytest.mark.parametrize("make,message", [
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2),
     r"The 'output_padding' parameter of Conv2DTranspose must be less than the strides"),
    (lambda: layers.Conv1DTranspose(2, 3, output_padding=(1, 1)),
     r"The 'output_padding' parameter of Conv1DTranspose must be None, an int or a tuple of 1"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0),
     r"The 'depth_multiplier' parameter of DepthwiseConv2D must be an int in \[1, inf\)"),
    (lambda: layers.SeparableConv1D(0, 3), r"The 'filters' parameter of SeparableConv1D"),
    (lambda: layers.DepthwiseConv1D(3, padding="causal"),
     r"The 'padding' parameter of DepthwiseConv1D must be one of \['valid', 'same'\]"),
    (lambda: layers.Conv3D(3, 2, groups=2),
     r"The 'filters' parameter of Conv3D must be a multiple of groups"),
    (lambda: layers.Conv3DTranspose(2, (2, 2)), r"The 'kernel_size' parameter of Conv3DTranspose"),
    (lambda: layers.AdaptiveMaxPooling2D((2, 0)),
     r"The 'output_size' parameter of AdaptiveMaxPooling2D"),
    (lambda: layers.MaxPooling3D(data_format="channels_first"),
     r"The 'data_format' parameter of MaxPooling3D must be 'channels_last'"),
])
def test_bad_arguments_are_named(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("layer,shape,message", [
    (layers.Conv2DTranspose(2, 3), (2, 5, 5), r"Conv2DTranspose\) must have rank 4"),
    (layers.Conv3D(2, 3), (2, 5, 5, 2), r"Conv3D\) must have rank 5 \(batch, depth, height"),
    (layers.Conv3D(2, 4), (2, 3, 5, 5, 2),
     r"Conv3D\): the kernel \(4, 4, 4\).* is larger than the input of shape \(2, 3, 5, 5, 2\)"),
    (layers.Conv3D(2, 2, groups=2), (2, 3, 3, 3, 3), r"divisible by groups=2"),
    (layers.DepthwiseConv2D(5), (2, 4, 6, 2), r"DepthwiseConv2D\): the kernel \(5, 5\)"),
    (layers.SeparableConv1D(2, 3), (2, 5, 5, 1), r"SeparableConv1D\) must have rank 3"),
    (layers.MaxPooling3D(3), (2, 2, 4, 4, 1), r"MaxPooling3D\): the pool window \(3, 3, 3\)"),
    (layers.GlobalMaxPooling3D(), (2, 4, 4, 1), r"must have rank 5"),
    (layers.AdaptiveAveragePooling1D(2), (2, 4, 4, 1), r"must have rank 3"),
])
def test_bad_input_shapes_name_the_layer_and_the_shapes(layer, shape, message):
    with pytest.raises(ValueError, match=message):
        layer(np.zeros(shape, np.float32))


@pytest.mark.parametrize("call,message", [
    (lambda: ops.conv3d(np.zeros((1, 2, 2, 2, 3)), np.zeros((3, 3, 3, 3, 1))),
     r"conv3d: the kernel of shape \(3, 3, 3, 3, 1\).*larger than the padded input"),
    (lambda: ops.conv3d(np.zeros((1, 4, 4, 4, 3)), np.zeros((2, 2, 2, 2, 1))),
     r"The 'kernel' parameter of conv3d must have shape \(kd, kh, kw, in, out\) with in = 3"),
    (lambda: ops.conv3d(np.zeros((1, 4, 4, 4, 3)), np.zeros((2, 2, 2, 1, 2)), groups=2),
     r"The 'groups' parameter of conv3d must be an int >= 1 dividing the 3 input channels"),
    (lambda: ops.conv2d_transpose(np.zeros((1, 4, 4, 3)), np.zeros((2, 2, 3, 2))),
     r"The 'kernel' parameter of conv2d_transpose must have shape \(kh, kw, out, in\)"),
    (lambda: ops.conv2d_transpose(np.zeros((1, 4, 4, 3)), np.zeros((2, 2, 2, 3)), strides=2,
                                  output_padding=(1, 2)),
     r"The 'output_padding' parameter of conv2d_transpose must be less than the strides"),
    (lambda: ops.conv1d_transpose(np.zeros((1, 4, 3)), np.zeros((2, 2, 3)), np.zeros(3)),
     r"The 'bias' parameter of conv1d_transpose must have shape \(2,\)"),
    (lambda: ops.conv_transpose(np.zeros((1, 4)), np.zeros((2, 2, 3))),
     r"The 'x' parameter of conv_transpose must have rank 3, 4 or 5"),
    (lambda: ops.depthwise_conv2d(np.zeros((1, 4, 4, 3)), np.zeros((2, 2, 2, 1))),
     (r"The 'kernel' parameter of depthwise_conv2d must have shape \(kh, kw, in, "
      r"depth_multiplier\) with in = 3")),
    (lambda: ops.depthwise_conv2d(np.zeros((1, 4, 4, 3)), np.zeros((2, 2, 3, 2)), np.zeros(3)),
     r"The 'bias' parameter of depthwise_conv2d must have shape \(6,\)"),
    (lambda: ops.depthwise_conv1d(np.zeros((1, 2, 3)), np.zeros((3, 3, 1))),
     r"depthwise_conv1d: the kernel of shape \(3, 3, 1\).*larger than the padded input"),
    (lambda: ops.max_pool3d(np.zeros((1, 4, 4, 3)), 2),
     r"The 'x' parameter of max_pool3d must have rank 5"),
    (lambda: ops.avg_pool3d(np.zeros((1, 4, 4, 4, 3)), 2, padding="full"),
     r"The 'padding' parameter of avg_pool3d must be one of"),
    (lambda: ops.adaptive_max_pool(np.zeros((1, 4, 4, 4, 4, 3)), 2),
     r"The 'x' parameter of adaptive_max_pool must have rank 3, 4 or 5"),
])
def test_bad_op_inputs_name_the_argument_and_the_shapes(call, message):
    with pytest.raises(ValueError, match=message):
        call()
