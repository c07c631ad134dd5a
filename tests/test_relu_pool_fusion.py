"""``Conv(activation="relu")`` then ``MaxPooling``: a model's call loop lets the pooling apply
the convolution's ReLU to its pooled output (layers.pooling.relu_pool_fusable). The outputs
and every gradient must be those of the layers called one by one (the unfused path), on the
NumPy path and the compiled one, and the convolution's output must stay ReLU'd whenever
something else can read it (a second consumer, a model output)."""

import numpy as np
import pytest

import profond
from profond import layers, ops
from profond.ops import kernels


@pytest.fixture(autouse=True, params=["numpy", "numba"])
def kernel_path(request, monkeypatch):
    """Every test on both paths: NumPy's, and the compiled kernels where numba is installed."""
    if request.param == "numba" and not kernels.available():
        pytest.skip("numba is not installed")
    monkeypatch.setattr(kernels, "ENABLED", request.param == "numba")


@pytest.fixture
def pool_relu_flags(monkeypatch):
    """The ``relu`` argument of every max_pool1d/2d call, in order."""
    seen = []
    for name in ("max_pool1d", "max_pool2d"):
        original = getattr(ops, name)

        def spy(*args, _original=original, **kwargs):
            seen.append(kwargs.get("relu", False))
            return _original(*args, **kwargs)

        monkeypatch.setattr(ops, name, spy)
    return seen


def _data(shape, seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype("float32")


def _negative_bias(layer):
    # many windows whose maximum is negative: the ReLU zeros them after the pooling
    k, b = layer.get_weights()
    layer.set_weights([k, b - 0.5])


def _grads(model, x, weights):
    """Output and gradients (input, then every weight) of ``sum(model(x) * weights)``."""
    xt = profond.tensor(x, requires_grad=True)
    out = model(xt)
    (out * profond.tensor(weights)).sum().backward()
    return [out.numpy().copy(), xt.grad] + [w.grad for w in model.trainable_weights]


def _one_by_one(stack):
    """The same layers, each called by itself: no fusion."""
    class Unfused(profond.Model):
        def __init__(self):
            super().__init__()
            self.stack = stack

        def call(self, x):
            for layer in self.stack:
                x = layer(x)
            return x

    return Unfused()


def _assert_same(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


POOLS = [dict(pool_size=2), dict(pool_size=3, strides=1, padding="same"),
         dict(pool_size=2, strides=2, padding="same")]


@pytest.mark.parametrize("pool", POOLS)
def test_op_relu_after_max_pool_matches_relu_before(pool):
    x = _data((2, 9, 9, 3)) - 0.3
    fused_x, plain_x = (profond.tensor(x, requires_grad=True) for _ in range(2))
    fused = ops.max_pool2d(fused_x, relu=True, **pool)
    plain = ops.max_pool2d(ops.relu(plain_x), **pool)
    np.testing.assert_array_equal(fused.numpy(), plain.numpy())
    w = profond.tensor(_data(tuple(fused.shape), 1))
    (fused * w).sum().backward()
    (plain * w).sum().backward()
    np.testing.assert_array_equal(fused_x.grad, plain_x.grad)


@pytest.mark.parametrize("pool", POOLS)
def test_sequential_fuses_and_matches_the_layers_one_by_one(pool, pool_relu_flags):
    stack = [layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(**pool),
             layers.Conv2D(5, 3, activation="relu", padding="same"), layers.MaxPooling2D(2),
             layers.Flatten(), layers.Dense(3)]
    model = profond.Sequential([layers.Input((10, 10, 2))] + stack)
    _negative_bias(stack[0])
    x = _data((3, 10, 10, 2))
    weights = _data(tuple(model(x).shape), 2)
    del pool_relu_flags[:]
    got = _grads(model, x, weights)
    assert pool_relu_flags == [True, True]  # both pairs fused
    del pool_relu_flags[:]
    want = _grads(_one_by_one(stack), x, weights)
    assert pool_relu_flags and not any(pool_relu_flags)
    _assert_same(got, want)


@pytest.mark.parametrize("conv, size", [(dict(), 11), (dict(strides=2), 12),
                                        (dict(dilation_rate=2), 13), (dict(strides=(1, 2)), 13),
                                        (dict(groups=2), 11)])
def test_outputs_the_pooling_never_reads_are_not_computed(conv, size, pool_relu_flags,
                                                          monkeypatch):
    # odd-sized convolution outputs: the last row and column feed no 2 x 2 window
    stack = [layers.Conv2D(4, 3, activation="relu", **conv), layers.MaxPooling2D(2),
             layers.Flatten(), layers.Dense(3)]
    model = profond.Sequential([layers.Input((size, size, 2))] + stack)
    _negative_bias(stack[0])
    x = _data((2, size, size, 2), 13)
    weights = _data((2, 3), 14)
    from profond.ops import conv as conv_ops

    shapes = []  # the inputs the convolution's columns are gathered from
    original = conv_ops._conv_gemm
    monkeypatch.setattr(conv_ops, "_conv_gemm", lambda *a, **k: shapes.append(a[1].shape) or
                        original(*a, **k))
    got = _grads(model, x, weights)
    assert pool_relu_flags[-1] is True
    assert shapes[-1][1] < size or shapes[-1][2] < size
    _assert_same(got, _grads(_one_by_one(stack), x, weights))


@pytest.mark.parametrize("steps", [11, 12])  # 9 outputs (the last one cropped), 10
def test_sequential_conv1d_then_max_pooling1d(steps, pool_relu_flags):
    stack = [layers.Conv1D(4, 3, activation="relu"), layers.MaxPooling1D(2), layers.Flatten(),
             layers.Dense(2)]
    model = profond.Sequential([layers.Input((steps, 3))] + stack)
    _negative_bias(stack[0])
    x = _data((4, steps, 3), 3)
    weights = _data((4, 2), 4)
    got = _grads(model, x, weights)
    assert True in pool_relu_flags
    _assert_same(got, _grads(_one_by_one(stack), x, weights))


@pytest.mark.parametrize("make, shape", [  # the one op; then pairs it does not take
    (lambda: [layers.Conv2D(8, 3, activation="relu"), layers.MaxPooling2D(2)], (12, 12, 1)),
    (lambda: [layers.Conv2D(8, 3, activation="relu"),
              layers.MaxPooling2D(3, strides=1, padding="same")], (9, 9, 2)),
    (lambda: [layers.Conv1D(4, 3, activation="relu"), layers.MaxPooling1D(2)], (11, 3)),
])
def test_predict_of_a_fused_model_is_the_unfused_output(make, shape):
    stack = make() + [layers.Flatten()]
    model = profond.Sequential([layers.Input(shape)] + stack)
    _negative_bias(stack[0])
    x = _data((5,) + shape, 5)
    # to float rounding: the compiled direct convolution sums in another order than the GEMM
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               _one_by_one(stack)(profond.tensor(x)).numpy(), rtol=1e-5,
                               atol=1e-6)


def test_functional_single_consumer_fuses(pool_relu_flags):
    inp = layers.Input((9, 9, 2))
    conv, pool = layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(2)
    model = profond.Model(inp, layers.Flatten()(pool(conv(inp))))
    _negative_bias(conv)
    x = _data((2, 9, 9, 2), 6)
    weights = _data((2, 36), 7)
    del pool_relu_flags[:]
    got = _grads(model, x, weights)
    assert pool_relu_flags == [True]
    _assert_same(got, _grads(_one_by_one([conv, pool, layers.Flatten()]), x, weights))


def test_functional_second_consumer_sees_the_relu(pool_relu_flags):
    # The convolution's output is read by the pooling and by a second branch: no fusion, and
    # the second branch gets ReLU'd values (and their gradient is masked by the ReLU).
    inp = layers.Input((9, 9, 2))
    conv, pool = layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(2)
    h = conv(inp)
    out = layers.Concatenate()([layers.Flatten()(pool(h)), layers.Flatten()(h)])
    model = profond.Model(inp, out)
    _negative_bias(conv)
    x = _data((2, 9, 9, 2), 8)
    weights = _data((2, 36 + 196), 9)
    del pool_relu_flags[:]
    got = _grads(model, x, weights)
    assert pool_relu_flags == [False]
    second = got[0][:, 36:]
    assert second.min() == 0 and (second > 0).any()

    def by_hand(xt):
        ht = conv(xt)
        return ops.concatenate([ops.reshape(pool(ht), (2, -1)), ops.reshape(ht, (2, -1))], -1)

    class Hand(profond.Model):
        def call(self, xt):
            return by_hand(xt)

    hand = Hand()
    hand._track(conv)
    _assert_same(got, _grads(hand, x, weights))


def test_functional_convolution_output_as_a_model_output_stays_relud(pool_relu_flags):
    inp = layers.Input((9, 9, 2))
    conv, pool = layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(2)
    h = conv(inp)
    model = profond.Model(inp, [h, pool(h)])
    _negative_bias(conv)
    h_out, p_out = model(profond.tensor(_data((2, 9, 9, 2), 10)))
    assert pool_relu_flags[-1] is False
    assert h_out.numpy().min() == 0 and (h_out.numpy() > 0).any()
    np.testing.assert_array_equal(p_out.numpy(), ops.max_pool2d(h_out).numpy())


def test_activity_regularizer_and_other_activations_are_not_fused(pool_relu_flags):
    for conv in (layers.Conv2D(4, 3, activation="relu", activity_regularizer="l2"),
                 layers.Conv2D(4, 3, activation="tanh"), layers.Conv2D(4, 3)):
        model = profond.Sequential([layers.Input((8, 8, 1)), conv, layers.MaxPooling2D(2)])
        del pool_relu_flags[:]
        model(profond.tensor(_data((2, 8, 8, 1), 11)))
        assert pool_relu_flags == [False]


def test_average_pooling_is_not_fused():
    conv = layers.Conv2D(4, 3, activation="relu")
    model = profond.Sequential([layers.Input((8, 8, 1)), conv, layers.AveragePooling2D(2)])
    _negative_bias(conv)
    x = profond.tensor(_data((2, 8, 8, 1), 12))
    np.testing.assert_allclose(model(x).numpy(),
                               ops.avg_pool2d(ops.relu(ops.conv2d(x, conv.kernel, conv.bias)))
                               .numpy(), rtol=1e-6, atol=1e-7)


@pytest.fixture
def one_op_calls(monkeypatch):
    """The calls of the inference op that runs the pair as one (ops.pooling)."""
    from profond.ops import pooling

    calls = []
    original = pooling.conv2d_relu_max_pool

    def spy(*args, **kwargs):
        calls.append(args[0].shape)
        return original(*args, **kwargs)

    monkeypatch.setattr(pooling, "conv2d_relu_max_pool", spy)
    return calls


@pytest.mark.parametrize("batch", [1, 7, 40])  # one block, blocks with a shorter last one
@pytest.mark.parametrize("conv, channels, size", [
    (dict(filters=8, kernel_size=3), 1, 14),  # narrow columns (3 x 3 x 1)
    (dict(filters=6, kernel_size=3), 9, 11),  # wide columns (3 x 3 x 9), odd size: cropped
    (dict(filters=5, kernel_size=(2, 3), strides=(1, 2), use_bias=False), 2, 13),
    (dict(filters=4, kernel_size=3, dilation_rate=2), 3, 15),
    (dict(filters=3, kernel_size=3, strides=2, dilation_rate=(2, 1)), 1, 16)])
def test_predict_runs_the_pair_as_one_op_with_the_same_output(batch, conv, channels, size,
                                                              one_op_calls, monkeypatch):
    from profond.ops import conv as conv_ops

    monkeypatch.setattr(conv_ops, "_SINK_BYTES", 6000)  # blocks of one to three images
    conv_layer = layers.Conv2D(activation="relu", **conv)
    stack = [conv_layer, layers.MaxPooling2D(2), layers.Flatten()]
    model = profond.Sequential([layers.Input((size, size, channels))] + stack)
    if conv_layer.use_bias:
        _negative_bias(conv_layer)
    x = _data((batch, size, size, channels), 15)
    got = model.predict(x, batch_size=batch, verbose=0)
    assert one_op_calls
    want = _one_by_one(stack)(profond.tensor(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    with profond.no_grad():  # a functional model's call loop too
        inp = layers.Input((size, size, channels))
        functional = profond.Model(inp, stack[2](stack[1](conv_layer(inp))))
        del one_op_calls[:]
        np.testing.assert_allclose(functional(profond.tensor(x)).numpy(), want, rtol=1e-5,
                                   atol=1e-6)
        assert one_op_calls


def test_the_one_op_keeps_nan_and_zeroes_negative_windows(one_op_calls):
    conv = layers.Conv2D(3, 1, activation="relu", use_bias=False, kernel_initializer="ones")
    model = profond.Sequential([layers.Input((4, 4, 1)), conv, layers.MaxPooling2D(2)])
    x = -np.ones((1, 4, 4, 1), "float32")
    x[0, 0, 0, 0] = np.nan
    x[0, 3, 3, 0] = 2.0
    with profond.no_grad():  # (predict refuses NaN inputs)
        got = model(profond.tensor(x)).numpy()[0, :, :, 0]
    assert one_op_calls
    assert np.isnan(got[0, 0]) and got[0, 1] == 0 and got[1, 0] == 0 and got[1, 1] == 2


def test_training_does_not_run_the_one_op(one_op_calls):
    stack = [layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(2), layers.Flatten(),
             layers.Dense(2)]
    model = profond.Sequential([layers.Input((8, 8, 1))] + stack)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(_data((4, 8, 8, 1), 16), _data((4, 2), 17), verbose=0)
    assert not one_op_calls


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("channels, kernel, pool, strides, size, path", [
    (1, 3, 2, 1, (12, 11), "direct"), (2, 3, 2, 1, (12, 11), "direct"),
    (1, 2, 3, 1, (12, 11), "direct"), (1, 3, 2, 2, (15, 16), "direct"),
    (1, 5, 2, 1, (12, 11), "gemm"), (3, 3, 2, 1, (12, 11), "gemm"),
    (8, 3, 2, 1, (12, 11), "winograd"), (9, 3, 2, 1, (13, 10), "winograd"),
    (8, 3, 2, 2, (13, 10), "gemm"), (8, 3, 3, 1, (13, 10), "gemm")])
@pytest.mark.parametrize("use_bias", [True, False])
def test_compiled_convolutions_of_the_one_op_match_the_unfused_path(
        dtype, channels, kernel, pool, strides, size, path, use_bias, monkeypatch):
    # ops._conv_numba on the numba path: the direct convolution where its unrolled body is
    # small, Winograd's F(2 x 2, 3 x 3) for wider 3 x 3 convolutions then 2 x 2 pooling; the
    # NumPy path and the other shapes keep im2col and the GEMM. Same outputs every way.
    from profond.ops import _conv_numba, pooling

    used = []
    original = _conv_numba.kernel

    def spy(name, xp):
        found = original(name, xp)
        if found is not None:
            used.append(name)
        return found

    monkeypatch.setattr(_conv_numba, "kernel", spy)
    gathered = []  # the GEMM path's inputs: only the rows and columns the pooling reads
    gemm = pooling._conv_gemm
    monkeypatch.setattr(pooling, "_conv_gemm",
                        lambda *a, **kw: gathered.append(a[1].shape[1:3]) or gemm(*a, **kw))
    rng = np.random.default_rng(18)
    x = profond.tensor(rng.normal(size=(5,) + size + (channels,)), dtype=dtype)
    k = profond.tensor(rng.normal(size=(kernel, kernel, channels, 9)), dtype=dtype)
    b = profond.tensor(rng.normal(size=9) - 0.5, dtype=dtype) if use_bias else None
    with profond.no_grad():
        got = pooling.conv2d_relu_max_pool(x, k, b, (strides,) * 2, (1, 1), (pool, pool))
        want = ops.max_pool2d(ops.relu(ops.conv2d(x, k, b, strides)), pool)
    assert got.dtype == want.dtype == dtype
    np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-5, atol=1e-5)
    assert (got.numpy() == 0).any() and (got.numpy() > 0).any()
    expected = {"direct": ["conv_relu_max_pool"], "gemm": [],
                "winograd": ["winograd_input", "winograd_output"]}[path]
    assert used == (expected if kernels.ENABLED else [])
    read = [((s - kernel) // strides + 1) // pool * pool for s in size]  # conv outputs
    assert gathered == ([] if used else [tuple((r - 1) * strides + kernel for r in read)])


def test_winograd_keeps_nan():
    from profond.ops import pooling

    x = np.ones((1, 6, 6, 8), "float32")
    x[0, 5, 5, 2] = np.nan  # read by the pooled output (1, 1) only, and by its tile
    k = profond.tensor(np.full((3, 3, 8, 2), -0.1, "float32"))
    with profond.no_grad():
        got = pooling.conv2d_relu_max_pool(profond.tensor(x), k, None, (1, 1), (1, 1),
                                           (2, 2)).numpy()[0]
    assert np.isnan(got[1, 1]).all()
    got[1, 1] = 0
    assert (got == 0).all()  # negative elsewhere: the ReLU's zero
