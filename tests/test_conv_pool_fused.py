"""A ReLU-fused convolution followed by max pooling: the pooling hands the convolution a
gradient already masked by the ReLU, which the convolution then does not mask again (see
ops.conv._conv2d_node and ops.pooling._pool2d_node). Every route must give the gradients of the
unfused composition conv -> relu -> pool, including when the convolution's output has another
consumer (its gradient is then a sum the pooling did not mask) and when the graph is run twice.
The convolution's column buffers, kept from call to call (ops.conv.SPARES), must never be
shared by two live graphs."""

import numpy as np
import pytest

import profond
from profond import ops
from profond.ops.conv import SPARES
from profond.ops import kernels


@pytest.fixture(autouse=True, params=["numpy", "numba"])
def kernel_path(request, monkeypatch):
    """Every test on both paths: NumPy's, and the compiled kernels where numba is installed."""
    if request.param == "numba" and not kernels.available():
        pytest.skip("numba is not installed")
    monkeypatch.setattr(kernels, "ENABLED", request.param == "numba")


def _tensors(seed, shape=(2, 9, 9, 3), filters=4, dtype="float32"):
    rng = np.random.default_rng(seed)
    x = profond.tensor(rng.normal(size=shape).astype(dtype), requires_grad=True)
    k = profond.tensor(rng.normal(size=(3, 3, shape[-1], filters)).astype(dtype),
                       requires_grad=True)
    # a negative bias: many windows whose maximum is a ReLU zero
    b = profond.tensor((rng.normal(size=filters) - 2.0).astype(dtype), requires_grad=True)
    return x, k, b


def _grads(loss_of, seed, **kw):
    x, k, b = _tensors(seed, **kw)
    loss_of(x, k, b).backward()
    return [t.grad for t in (x, k, b)]


POOLS = [dict(pool_size=2), dict(pool_size=3, strides=1, padding="same"),
         dict(pool_size=2, strides=2, padding="same")]


@pytest.mark.parametrize("pool", POOLS)
def test_fused_relu_then_max_pool_matches_the_unfused_composition(pool):
    weights = np.random.default_rng(9).normal(size=(2, 9, 9, 4)).astype("float32")

    def fused(x, k, b):
        y = ops.max_pool2d(ops.conv2d(x, k, b, relu=True), **pool)
        return (y * profond.tensor(weights[:, :y.shape[1], :y.shape[2]])).sum()

    def unfused(x, k, b):
        y = ops.max_pool2d(ops.relu(ops.conv2d(x, k, b)), **pool)
        return (y * profond.tensor(weights[:, :y.shape[1], :y.shape[2]])).sum()

    for got, want in zip(_grads(fused, 0), _grads(unfused, 0)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_fused_output_with_a_second_consumer_keeps_the_relu_mask():
    # The ReLU's zeros get a gradient from the second consumer: the convolution must mask it.
    def fused(x, k, b):
        h = ops.conv2d(x, k, b, relu=True)
        return ops.max_pool2d(h).sum() + (h * 3.0).sum()

    def unfused(x, k, b):
        h = ops.relu(ops.conv2d(x, k, b))
        return ops.max_pool2d(h).sum() + (h * 3.0).sum()

    for got, want in zip(_grads(fused, 1), _grads(unfused, 1)):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_fused_conv1d_then_max_pool1d():
    def fused(x, k, b):
        return (ops.max_pool1d(ops.conv1d(x, k, b, relu=True), 2) ** 2).sum()

    def unfused(x, k, b):
        return (ops.max_pool1d(ops.relu(ops.conv1d(x, k, b)), 2) ** 2).sum()

    rng = np.random.default_rng(2)
    grads = []
    for loss_of in (fused, unfused):
        x = profond.tensor(rng.normal(size=(3, 11, 2)).astype("float32"), requires_grad=True)
        k = profond.tensor(np.linspace(-1, 1, 3 * 2 * 5).reshape(3, 2, 5).astype("float32"),
                           requires_grad=True)
        b = profond.tensor(np.zeros(5, "float32"), requires_grad=True)
        rng = np.random.default_rng(2)
        loss_of(x, k, b).backward()
        grads.append((x.grad, k.grad, b.grad))
    for got, want in zip(*grads):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_retained_graph_runs_twice_with_the_same_gradients():
    x, k, b = _tensors(3)
    loss = ops.max_pool2d(ops.conv2d(x, k, b, relu=True)).sum()
    loss.backward(retain_graph=True)
    first = [t.grad.copy() for t in (x, k, b)]
    loss.backward()
    for t, g in zip((x, k, b), first):
        np.testing.assert_allclose(t.grad, 2 * g, rtol=1e-5, atol=1e-5)


def test_two_live_graphs_never_share_column_buffers():
    # Same shapes, different data: the second forward must not overwrite the columns that the
    # first graph's backward still needs.
    SPARES.clear()
    want = _grads(lambda x, k, b: ops.conv2d(x, k, b, relu=True).sum(), 4)
    x1, k1, b1 = _tensors(4)
    loss1 = ops.conv2d(x1, k1, b1, relu=True).sum()
    for _ in range(2):  # a graph built and dropped in between returns its buffer
        x2, k2, b2 = _tensors(5)
        loss2 = ops.conv2d(x2, k2, b2, relu=True).sum()
    loss2.backward()
    loss1.backward()
    for got, w in zip((x1.grad, k1.grad, b1.grad), want):
        np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("shape", [(2, 9, 9, 3), (2, 9, 9, 40)])  # narrow and wide columns
def test_kept_columns_give_the_same_output_call_after_call(shape):
    # A kept buffer's ones and zero-padding columns are not rewritten: they must still hold.
    x, k, b = _tensors(6, shape=shape)
    with profond.no_grad():
        first = ops.conv2d(x, k, b).numpy().copy()
        ops.conv2d(profond.tensor(np.full(shape, 7.0, "float32")), k, b)
        again = ops.conv2d(x, k, b).numpy()
    np.testing.assert_array_equal(again, first)


def test_columns_return_to_the_spares_without_waiting_for_the_garbage_collector():
    # The lease must die with its closure by reference counting (no cycle through the closure),
    # else every call allocates fresh columns until a collection.
    import gc

    gc.disable()
    try:
        x, k, b = _tensors(7, shape=(2, 9, 9, 40))
        SPARES.clear()
        with profond.no_grad():
            ops.max_pool2d(ops.conv2d(x, k, b, relu=True))
        assert "cols" in [key[0] for key in SPARES.free]
        SPARES.clear()
        ops.max_pool2d(ops.conv2d(x, k, b, relu=True)).sum().backward()
        assert "cols" in [key[0] for key in SPARES.free]
    finally:
        gc.enable()


@pytest.mark.parametrize("block_bytes", [1, 90_000])  # 1 image per block; 2, 2 and 1
@pytest.mark.parametrize("frozen", [False, True])
def test_wide_columns_in_blocks_give_the_results_of_one_block(monkeypatch, frozen, block_bytes):
    # Columns not kept (a frozen kernel, no_grad): a few images per block (a shorter last
    # one), in one shared array, against the whole batch in one block; strides and dilation
    # move the windows' rows.
    from profond.ops import conv

    def run():
        SPARES.clear()
        x, k, b = _tensors(8, shape=(5, 11, 10, 40))
        k.requires_grad = not frozen
        y = ops.conv2d(x, k, b, strides=(2, 1), dilation_rate=(1, 2), relu=True)
        (y * y).sum().backward()
        with profond.no_grad():
            again = ops.conv2d(x, k, b, strides=(2, 1), dilation_rate=(1, 2), relu=True)
        return [y.numpy(), again.numpy(), x.grad, b.grad] + ([] if frozen else [k.grad])

    want = run()
    monkeypatch.setattr(conv, "_BLOCK_BYTES", block_bytes)
    for got, w in zip(run(), want):
        np.testing.assert_allclose(got, w, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("relu", [False, True])
@pytest.mark.parametrize("pool", [(2, 3), (12, 12)])  # int8 and int32 offsets in the kernel
def test_max_pool_with_ties_and_remainders_matches_the_numpy_path(monkeypatch, pool, relu):
    # ties, negative and NaN maxima (no element gets a NaN window's gradient), with and
    # without the ReLU applied by the pooling
    rng = np.random.default_rng(10)
    data = rng.integers(-1, 3, size=(2, 2 * pool[0] + 1, 3 * pool[1] + 2, 3)).astype("float32")
    data[0, 0, 0, 0] = data[1, -2, 1, 2] = np.nan
    data[1, :pool[0], :pool[1], 1] = -1.0

    def grads():
        x = profond.tensor(data, requires_grad=True)
        y = ops.max_pool2d(x, pool, relu=relu)
        (y * profond.tensor(np.arange(y.size, dtype="float32").reshape(y.shape))).sum().backward()
        return y.numpy(), x.grad

    got = grads()
    monkeypatch.setattr(kernels, "ENABLED", False)
    for g, w in zip(got, grads()):
        np.testing.assert_array_equal(g, w)


def test_a_lent_array_returns_only_when_it_and_its_views_are_gone():
    # SPARES.lend: gradients and outputs handed to the engine come back for the next step,
    # never while a view of them is alive (a view's base is the lent array itself).
    SPARES.clear()
    key = ("test", 1)
    a = SPARES.lend(np, key, (4, 6), np.float32)
    a[...] = 1.0
    view = a.reshape(2, 12)[:, 3:]
    del a
    assert SPARES.take(key) is None  # the view keeps the memory
    b = SPARES.lend(np, key, (4, 6), np.float32)  # a fresh one meanwhile
    b[...] = 2.0
    np.testing.assert_array_equal(view, np.ones((2, 9), np.float32))
    del view
    again = SPARES.take(key)  # the memory itself: 24 float32 ones
    assert again is not None and (np.frombuffer(again, np.float32) == 1.0).all()
    del b
    assert SPARES.take(key) is not None


def test_training_steps_reuse_their_large_arrays():
    # the second step's outputs and gradients come from the first one's memory: the same
    # gradients, and the arrays come back after each step
    x, k, b = _tensors(11, shape=(3, 12, 12, 4))

    def step():
        for t in (x, k, b):
            t.grad = None
        ops.max_pool2d(ops.conv2d(x, k, b, relu=True)).sum().backward()
        return [t.grad.copy() for t in (x, k, b)]

    SPARES.clear()
    first = step()
    assert {key[0] for key in SPARES.free} >= {"cols", "out", "col2im"}
    for got, want in zip(step(), first):
        np.testing.assert_array_equal(got, want)
