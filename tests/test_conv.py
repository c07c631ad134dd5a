"""Convolutions: ops against a loop reference and finite differences; Conv1D/Conv2D layers."""

import numpy as np
import pytest
from _opcheck import check_op, draw

import profond
from profond import layers, ops
from profond.ops import kernels
from profond.ops.conv import conv_output_length, same_padding


@pytest.fixture(autouse=True, params=["numpy", "numba"])
def kernel_path(request, monkeypatch):
    """Every test on both paths: NumPy's, and the compiled kernels where numba is installed."""
    if request.param == "numba" and not kernels.available():
        pytest.skip("numba is not installed")
    monkeypatch.setattr(kernels, "ENABLED", request.param == "numba")


def conv2d_reference(x, k, b=None, strides=(1, 1), padding="valid", dilation=(1, 1)):
    """Direct definition: out[n, i, j, f] = sum_{a, c, ch} x[n, i*s + a*d, j*s + c*d, ch] k[...]."""
    n, h, w, _ = x.shape
    kh, kw, _, f = k.shape
    (sh, sw), (dh, dw) = strides, dilation
    if padding == "same":
        (pt, pb), (pl, pr) = same_padding(h, kh, sh, dh), same_padding(w, kw, sw, dw)
        x = np.pad(x, ((0, 0), (pt, pb), (pl, pr), (0, 0)))
    oh = (x.shape[1] - (kh - 1) * dh - 1) // sh + 1
    ow = (x.shape[2] - (kw - 1) * dw - 1) // sw + 1
    out = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                for c in range(kw):
                    out[:, i, j, :] += x[:, i * sh + a * dh, j * sw + c * dw, :] @ k[a, c]
    return out if b is None else out + b


def conv1d_reference(x, k, b=None, stride=1, padding="valid", dilation=1):
    if padding == "causal":
        x = np.pad(x, ((0, 0), ((k.shape[0] - 1) * dilation, 0), (0, 0)))
        padding = "valid"
    out = conv2d_reference(x[:, None], k[None], b, (1, stride), padding, (1, dilation))
    return out[:, 0]


CONV2D_CASES = [
    # (input shape, kernel (kh, kw), filters, strides, padding, dilation)
    ((2, 5, 5, 1), (3, 3), 2, (1, 1), "valid", (1, 1)),
    ((2, 7, 6, 3), (3, 2), 4, (2, 2), "same", (1, 1)),
    ((1, 7, 9, 2), (2, 3), 3, (2, 3), "valid", (1, 1)),
    ((2, 6, 7, 2), (3, 3), 2, (1, 1), "same", (2, 2)),
    ((1, 9, 8, 3), (2, 3), 2, (3, 2), "valid", (2, 1)),
    ((1, 5, 5, 2), (4, 4), 3, (3, 3), "same", (1, 1)),
    ((3, 3, 3, 2), (1, 1), 2, (1, 1), "valid", (1, 1)),
    ((1, 4, 3, 33), (3, 1), 2, (1, 1), "valid", (1, 1)),  # wide rows: one-copy im2col path
]


@pytest.mark.parametrize("shape,ksize,filters,strides,padding,dilation", CONV2D_CASES)
def test_conv2d_forward_and_gradients(shape, ksize, filters, strides, padding, dilation):
    x = draw(shape, seed=1)
    k = draw(ksize + (shape[-1], filters), seed=2)
    b = draw((filters,), seed=3)
    check_op(lambda x_, k_, b_: ops.conv2d(x_, k_, b_, strides, padding, dilation),
             lambda x_, k_, b_: conv2d_reference(x_, k_, b_, strides, padding, dilation),
             x, k, b)


CONV1D_CASES = [
    ((2, 9, 3), 3, 2, 1, "valid", 1),
    ((2, 8, 2), 2, 3, 2, "same", 1),
    ((1, 11, 2), 3, 2, 2, "causal", 2),
    ((2, 10, 1), 4, 2, 3, "same", 2),
    ((1, 7, 3), 5, 1, 1, "causal", 1),
]


@pytest.mark.parametrize("shape,ksize,filters,stride,padding,dilation", CONV1D_CASES)
def test_conv1d_forward_and_gradients(shape, ksize, filters, stride, padding, dilation):
    x = draw(shape, seed=4)
    k = draw((ksize, shape[-1], filters), seed=5)
    b = draw((filters,), seed=6)
    check_op(lambda x_, k_, b_: ops.conv1d(x_, k_, b_, stride, padding, dilation),
             lambda x_, k_, b_: conv1d_reference(x_, k_, b_, stride, padding, dilation),
             x, k, b)


def test_conv_without_bias_and_input_gradient_only_when_needed():
    xd = draw((1, 5, 5, 2))
    x = profond.tensor(xd)  # a constant: no gradient is computed for it
    k = profond.tensor(draw((3, 3, 2, 2), seed=1), requires_grad=True)
    ops.conv2d(x, k).sum().backward()
    assert x.grad is None
    # d(sum of outputs) / d k[a, c, ch, f] = sum of the inputs that tap (a, c) ever sees
    expected = np.array([[xd[0, a:a + 3, c:c + 3].sum(axis=(0, 1)) for c in range(3)]
                         for a in range(3)])
    np.testing.assert_allclose(k.grad, np.repeat(expected[..., None], 2, axis=-1), rtol=1e-5)


def test_conv_output_length_matches_keras():
    assert conv_output_length(28, 3, 1, "valid") == 26
    assert conv_output_length(28, 3, 1, "same") == 28
    assert conv_output_length(28, 3, 2, "same") == 14
    assert conv_output_length(7, 3, 2, "valid", dilation=2) == 2
    assert conv_output_length(5, 3, 2, "causal") == 3
    assert same_padding(5, 4, 1) == (1, 2)  # the odd extra zero goes after (TensorFlow)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv2d_layer_shapes_weights_and_dtype(dtype):
    with profond.backend.floatx_scope(dtype):
        layer = layers.Conv2D(4, (3, 2), strides=2, padding="same", activation="relu")
        out = layer(np.ones((2, 7, 6, 3)))
        assert out.shape == (2, 4, 3, 4)
        assert out.dtype == np.dtype(dtype)
        assert [w.shape for w in layer.get_weights()] == [(3, 2, 3, 4), (4,)]
        assert layer.compute_output_shape((None, 7, 6, 3)) == (None, 4, 3, 4)
        assert bool((out.numpy() >= 0).all())


def test_conv1d_layer_causal_only_sees_the_past():
    layer = layers.Conv1D(1, 3, padding="causal", use_bias=False, kernel_initializer="ones")
    x = np.zeros((1, 6, 1))
    x[0, 3, 0] = 1.0
    out = layer(x).numpy().ravel()
    np.testing.assert_array_equal(out, [0, 0, 0, 1, 1, 1])
    assert layer.compute_output_shape((None, 6, 1)) == (None, 6, 1)
    assert [w.shape for w in layer.get_weights()] == [(3, 1, 1)]


def test_conv_layers_gradcheck_through_the_layer():
    from profond.testing import gradcheck

    with profond.backend.floatx_scope("float64"):
        layer = layers.Conv2D(2, 3, strides=(1, 2), padding="same", dilation_rate=1,
                              activation="tanh")
        layer.build((None, 5, 6, 2))
        kernel, bias = layer.kernel, layer.bias

        def fn(x, k, b):
            layer.kernel, layer.bias = k, b
            return layer(x)

        assert gradcheck(fn, draw((2, 5, 6, 2)), kernel.numpy(), draw((2,), seed=3))


def test_conv_get_config_round_trip():
    layer = layers.Conv2D(8, 3, strides=(2, 1), padding="same", dilation_rate=1,
                          activation="relu", use_bias=False, kernel_regularizer="l2")
    clone = layers.Conv2D.from_config(layer.get_config())
    config = clone.get_config()
    config.pop("name")
    expected = layer.get_config()
    expected.pop("name")
    assert config == expected
    assert config["kernel_size"] == [3, 3] and config["strides"] == [2, 1]


def test_conv_regularizer_adds_a_loss():
    layer = layers.Conv2D(2, 3, kernel_regularizer=profond.regularizers.L2(0.1))
    layer(np.ones((1, 4, 4, 1)))
    (penalty,) = layer.losses
    np.testing.assert_allclose(float(penalty.data), 0.1 * (layer.kernel.numpy() ** 2).sum(),
                               rtol=1e-5)


def test_sequential_summary_shows_conv_shapes():
    model = profond.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(32, 3),
                                layers.MaxPooling2D(), layers.Conv2D(64, 3, padding="same"),
                                layers.GlobalAveragePooling2D(), layers.Dense(10)])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for shape in ("(None, 26, 26, 32)", "(None, 13, 13, 32)", "(None, 13, 13, 64)",
                  "(None, 64)", "(None, 10)"):
        assert shape in text
    assert model.count_params() == 320 + 18496 + 650


@pytest.mark.parametrize("kwargs,message", [
    (dict(filters=0, kernel_size=3), "The 'filters' parameter of Conv2D must be an int in "
                                     "[1, inf). Got 0 instead."),
    (dict(filters=2, kernel_size=0), "'kernel_size' parameter of Conv2D"),
    (dict(filters=2, kernel_size=(3, 3, 3)), "'kernel_size' parameter of Conv2D"),
    (dict(filters=2, kernel_size=3, strides=-1), "'strides' parameter of Conv2D"),
    (dict(filters=2, kernel_size=3, padding="full"), "'padding' parameter of Conv2D must be "
                                                     "one of ['valid', 'same']"),
    (dict(filters=2, kernel_size=3, dilation_rate=0), "'dilation_rate' parameter of Conv2D"),
    (dict(filters=2, kernel_size=3, data_format="channels_first"), "channels-last"),
    (dict(filters=2, kernel_size=3, groups=0), "'groups' parameter of Conv2D"),
    (dict(filters=3, kernel_size=3, groups=2), "'filters' parameter of Conv2D must be a "
                                               "multiple of groups"),
    (dict(filters=2, kernel_size=3, activation="nope"), "Unknown activation"),
])
def test_conv2d_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as err:
        layers.Conv2D(**kwargs)
    assert message in str(err.value)


def test_conv1d_bad_padding_lists_causal():
    with pytest.raises(ValueError, match=r"\['valid', 'same', 'causal'\]"):
        layers.Conv1D(2, 3, padding="full")


def test_kernel_larger_than_input_names_layer_and_shapes():
    layer = layers.Conv2D(2, 5, name="big")
    with pytest.raises(ValueError) as err:
        layer(np.ones((1, 3, 3, 1)))
    text = str(err.value)
    assert "'big'" in text and "(5, 5)" in text and "(1, 3, 3, 1)" in text
    with pytest.raises(ValueError, match="larger than the input"):
        layers.Conv1D(2, 3, dilation_rate=3).compute_output_shape((None, 6, 1))
    # "same" padding accepts it
    assert layers.Conv2D(2, 5, padding="same")(np.ones((1, 3, 3, 1))).shape == (1, 3, 3, 2)


def test_wrong_rank_and_wrong_channels_name_layer_and_shapes():
    layer = layers.Conv2D(2, 3, name="c2")
    with pytest.raises(ValueError, match=r"'c2' \(Conv2D\) must have rank 4.*\(2, 8, 8\)"):
        layer(np.ones((2, 8, 8)))
    layer(np.ones((1, 8, 8, 3)))
    with pytest.raises(ValueError, match=r"'c2' \(Conv2D\).*\(None, None, None, 3\).*"
                                         r"\(1, 8, 8, 4\)"):
        layer(np.ones((1, 8, 8, 4)))
    with pytest.raises(ValueError, match=r"rank 3 \(batch, steps, channels\)"):
        layers.Conv1D(2, 3)(np.ones((2, 8, 8, 1)))


def test_ops_errors():
    x = profond.tensor(np.ones((1, 4, 4, 2)))
    with pytest.raises(ValueError, match="'x' parameter of conv2d must have rank 4"):
        ops.conv2d(profond.tensor(np.ones((4, 4, 2))), np.ones((3, 3, 2, 1)))
    with pytest.raises(ValueError, match=r"to match the input of shape \(1, 4, 4, 2\)\. Got shape "
                                         r"\(3, 3, 3, 1\) instead"):
        ops.conv2d(x, np.ones((3, 3, 3, 1)))
    with pytest.raises(ValueError, match=r"'bias' parameter of conv2d must have shape \(1,\)"):
        ops.conv2d(x, np.ones((3, 3, 2, 1)), np.ones(2))
    with pytest.raises(ValueError, match="larger than the padded input"):
        ops.conv2d(x, np.ones((5, 5, 2, 1)))
    with pytest.raises(ValueError, match="'padding' parameter of conv1d"):
        ops.conv1d(profond.tensor(np.ones((1, 4, 2))), np.ones((3, 2, 1)), padding="full")


def test_conv_trains_a_small_problem():
    # Detect a vertical bar anywhere in 6x6 images: a conv + global max pool learns it.
    rng = np.random.default_rng(0)
    x = rng.normal(0, 0.1, (256, 6, 6, 1)).astype(np.float32)
    y = rng.integers(0, 2, 256)
    cols = rng.integers(0, 6, 256)
    x[y == 1, 1:5, cols[y == 1], 0] += 1.0
    model = profond.Sequential([layers.Input((6, 6, 1)), layers.Conv2D(4, 3, activation="relu"),
                                layers.GlobalMaxPooling2D(), layers.Dense(1)])
    model.compile(optimizer=profond.optimizers.Adam(0.05),
                  loss=profond.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["binary_accuracy"])
    model.fit(x, y, epochs=15, batch_size=32, verbose=0)
    _, acc = model.evaluate(x, y, verbose=0)
    assert acc > 0.95


@pytest.mark.parametrize("rank", [1, 2])
def test_fused_relu_equals_relu_of_conv(rank):
    from profond.testing import gradcheck

    fn = ops.conv2d if rank == 2 else ops.conv1d
    x = draw((2, 6, 5, 3)[:rank + 1] + (3,), seed=11)
    k = draw((3, 3)[:rank] + (3, 4), seed=12)
    b = draw((4,), seed=13, low=-0.5, high=0.5)
    fused = fn(profond.tensor(x), profond.tensor(k), profond.tensor(b), relu=True).numpy()
    plain = ops.relu(fn(profond.tensor(x), profond.tensor(k), profond.tensor(b))).numpy()
    np.testing.assert_array_equal(fused, plain)
    assert (fused == 0).any() and (fused > 0).any()
    assert gradcheck(lambda x_, k_, b_: fn(x_, k_, b_, 2, "same", relu=True), x, k, b)
    layer = layers.Conv2D(4, 3, activation="relu") if rank == 2 else \
        layers.Conv1D(4, 3, activation="relu")
    assert (layer(x).numpy() >= 0).all()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("channels", [1, 33])  # per-offset and one-copy im2col paths
@pytest.mark.parametrize("kernel_grad,bias_grad", [(True, True), (True, False), (False, True)])
def test_conv_bias_in_the_gemm_gradients_for_each_trainable_subset(dtype, channels, kernel_grad,
                                                                   bias_grad):
    # The bias rides in the kernel's GEMM (a column of ones); freezing the kernel or the bias
    # must leave the other's gradient, and the input's, unchanged.
    x = draw((2, 5, 6, channels), seed=21)
    k = draw((3, 2, channels, 4), seed=22)
    b = draw((4,), seed=23)
    g = draw((2, 3, 5, 4), seed=24).astype(dtype)

    def grads(kg, bg):
        xt = profond.tensor(x, dtype=dtype, requires_grad=True)
        kt = profond.tensor(k, dtype=dtype, requires_grad=kg)
        bt = profond.tensor(b, dtype=dtype, requires_grad=bg)
        out = ops.conv2d(xt, kt, bt, relu=True)
        out.backward(g)
        return out.numpy(), xt.grad, kt.grad, bt.grad

    out, gx, gk, gb = grads(kernel_grad, bias_grad)
    ref_out, ref_gx, ref_gk, ref_gb = grads(True, True)
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == "float32" else dict(rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(out, ref_out, **tol)
    np.testing.assert_allclose(gx, ref_gx, **tol)
    assert (gk is None) != kernel_grad and (gb is None) != bias_grad
    if kernel_grad:
        assert gk.shape == k.shape and gk.dtype == np.dtype(dtype)
        np.testing.assert_allclose(gk, ref_gk, **tol)
    if bias_grad:
        assert gb.shape == b.shape and gb.dtype == np.dtype(dtype)
        expected = (g * (ref_out > 0)).sum(axis=(0, 1, 2))  # d out / d bias = relu mask
        np.testing.assert_allclose(gb, expected, **tol)


def _grouped_reference(x, kernel, bias, groups):
    """Each group's valid convolution, written out with einsum over the windows."""
    n, h, w, c = x.shape
    kh, kw, cg, f = kernel.shape
    fg = f // groups
    oh, ow = h - kh + 1, w - kw + 1
    out = np.empty((n, oh, ow, f))
    for g in range(groups):
        xs = x[..., g * cg:(g + 1) * cg]
        win = np.stack([[xs[:, i:i + oh, j:j + ow, :] for j in range(kw)] for i in range(kh)])
        out[..., g * fg:(g + 1) * fg] = np.einsum("ijnabc,ijcf->nabf", win,
                                                  kernel[..., g * fg:(g + 1) * fg])
    return out + bias


@pytest.mark.parametrize("groups", [2, 3])
def test_grouped_conv2d_forward_and_gradcheck(groups):
    x = draw((2, 5, 6, 6))
    kernel = draw((3, 2, 6 // groups, 6), seed=1)
    bias = draw((6,), seed=2)
    check_op(lambda a, k, b: ops.conv2d(a, k, b, groups=groups),
             lambda a, k, b: _grouped_reference(a, k, b, groups), x, kernel, bias)


def test_grouped_conv1d_forward_and_gradcheck():
    x, kernel, bias = draw((2, 7, 4)), draw((3, 2, 4), seed=1), draw((4,), seed=2)
    check_op(lambda a, k, b: ops.conv1d(a, k, b, groups=2),
             lambda a, k, b: _grouped_reference(a[:, None], k[None], b, 2)[:, 0], x, kernel,
             bias)


def test_grouped_conv_layer_layout_and_refusals():
    layer = layers.Conv2D(6, 3, groups=3)
    assert layer(np.zeros((1, 5, 5, 9))).shape == (1, 3, 3, 6)
    assert layer.kernel.shape == (3, 3, 3, 6)  # Keras's (kh, kw, in / groups, out)
    assert layers.Conv2D.from_config(layer.get_config()).groups == 3
    with pytest.raises(ValueError, match="divisible by groups=3"):
        layers.Conv2D(6, 3, groups=3)(np.zeros((1, 5, 5, 4)))
    with pytest.raises(ValueError, match="'groups' parameter of conv2d"):
        ops.conv2d(np.zeros((1, 4, 4, 4)), np.zeros((3, 3, 2, 4)), groups=3)
    with pytest.raises(ValueError, match="'kernel' parameter of conv2d"):
        ops.conv2d(np.zeros((1, 4, 4, 4)), np.zeros((3, 3, 4, 4)), groups=2)
