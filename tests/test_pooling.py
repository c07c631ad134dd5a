"""Pooling: ops against a loop reference and finite differences; local and global layers."""

import numpy as np
import pytest
from _opcheck import check_op, draw

import profond
from profond import layers, ops
from profond.ops.conv import same_padding
from profond.ops import kernels


@pytest.fixture(autouse=True, params=["numpy", "numba"])
def kernel_path(request, monkeypatch):
    """Every test on both paths: NumPy's, and the compiled kernels where numba is installed."""
    if request.param == "numba" and not kernels.available():
        pytest.skip("numba is not installed")
    monkeypatch.setattr(kernels, "ENABLED", request.param == "numba")


def pool2d_reference(x, pool, strides, padding, kind):
    n, h, w, c = x.shape
    (ph, pw), (sh, sw) = pool, strides
    if padding == "same":
        (pt, pb), (pl, pr) = same_padding(h, ph, sh), same_padding(w, pw, sw)
    else:
        pt = pb = pl = pr = 0
    fill = -np.inf if kind == "max" else np.nan
    xp = np.full((n, h + pt + pb, w + pl + pr, c), fill)
    xp[:, pt:pt + h, pl:pl + w] = x
    oh = (xp.shape[1] - ph) // sh + 1
    ow = (xp.shape[2] - pw) // sw + 1
    out = np.empty((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            window = xp[:, i * sh:i * sh + ph, j * sw:j * sw + pw]
            out[:, i, j] = (window.max(axis=(1, 2)) if kind == "max"
                            else np.nanmean(window, axis=(1, 2)))  # padding not counted
    return out


CASES_2D = [
    # (shape, pool, strides, padding)
    ((2, 4, 6, 3), (2, 2), None, "valid"),       # non-overlapping fast path
    ((2, 7, 5, 2), (2, 2), None, "valid"),       # fast path, odd sizes cropped
    ((1, 7, 7, 2), (3, 3), (2, 2), "valid"),     # overlapping
    ((2, 5, 6, 2), (3, 3), (1, 1), "same"),
    ((1, 5, 7, 3), (2, 3), (1, 2), "same"),
    ((1, 5, 5, 1), (2, 2), None, "same"),        # stride = pool, padded
    ((1, 6, 4, 2), (3, 1), (2, 1), "valid"),
]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("shape,pool,strides,padding", CASES_2D)
def test_pool2d_forward_and_gradients(kind, shape, pool, strides, padding):
    fn = ops.max_pool2d if kind == "max" else ops.avg_pool2d
    x = draw(shape, seed=7, untie=True)
    check_op(lambda t: fn(t, pool, strides, padding),
             lambda a: pool2d_reference(a, pool, strides or pool, padding, kind), x)


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("shape,pool,stride,padding", [
    ((2, 9, 3), 2, None, "valid"), ((2, 9, 2), 3, 2, "same"), ((1, 8, 2), 3, 1, "valid"),
    ((1, 5, 1), 2, None, "same"),
])
def test_pool1d_forward_and_gradients(kind, shape, pool, stride, padding):
    fn = ops.max_pool1d if kind == "max" else ops.avg_pool1d
    x = draw(shape, seed=8, untie=True)
    check_op(lambda t: fn(t, pool, stride, padding),
             lambda a: pool2d_reference(a[:, None], (1, pool), (1, stride or pool), padding,
                                        kind)[:, 0], x)


@pytest.mark.parametrize("strides,padding", [(None, "valid"), (1, "same"), (2, "same")])
def test_max_pool_ties_send_the_gradient_to_the_first_maximum_only(strides, padding):
    # Zeros everywhere (as after a ReLU): each window's gradient goes to one element, the first
    # in row-major order; total gradient = number of outputs.
    x = profond.tensor(np.zeros((1, 4, 5, 1)), requires_grad=True)
    out = ops.max_pool2d(x, 2, strides, padding)
    out.sum().backward()
    assert x.grad.sum() == out.size
    if strides is None:
        expected = np.zeros((4, 5))
        expected[0::2, 0:4:2] = 1
        np.testing.assert_array_equal(x.grad[0, :, :, 0], expected)


def max_pool_grad_reference(x, pool, g):
    """Input gradient of an unpadded max pool with strides == pool: each window's gradient goes
    to its first maximum in row-major order (a loop over windows)."""
    (ph, pw), (n, oh, ow, c) = pool, g.shape
    gx = np.zeros(x.shape)
    for b in range(n):
        for i in range(oh):
            for j in range(ow):
                for ch in range(c):
                    window = x[b, i * ph:(i + 1) * ph, j * pw:(j + 1) * pw, ch]
                    a, e = np.unravel_index(np.argmax(window), window.shape)  # first maximum
                    gx[b, i * ph + a, j * pw + e, ch] = g[b, i, j, ch]
    return gx


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape,pool", [
    ((2, 6, 8, 3), (2, 2)), ((3, 7, 5, 2), (2, 2)), ((2, 9, 7, 2), (3, 3)),
    ((2, 5, 7, 4), (2, 3)), ((1, 2, 3, 1), (2, 3)), ((2, 3, 9, 2), (1, 2)),
])
def test_max_pool_non_overlapping_gradient_with_many_ties(dtype, shape, pool):
    # Few distinct values (zeros as after a ReLU, repeated integers): windows with two or more
    # maxima everywhere, odd sizes leave a cropped border that must get a zero gradient.
    rng = np.random.default_rng(3)
    x_np = np.maximum(rng.integers(-2, 3, size=shape), 0).astype(dtype)
    x = profond.tensor(x_np, dtype=dtype, requires_grad=True)
    out = ops.max_pool2d(x, pool)
    g = rng.standard_normal(out.shape)
    out.backward(g.astype(dtype))
    assert x.grad.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(x.grad, max_pool_grad_reference(x_np, pool, g.astype(dtype)))


def test_avg_pool_same_padding_averages_real_elements_only():
    x = profond.tensor(np.ones((1, 3, 3, 1)))
    np.testing.assert_array_equal(ops.avg_pool2d(x, 3, 1, "same").numpy(), np.ones((1, 3, 3, 1)))


def test_pooling_keeps_dtype():
    for dtype in ("float32", "float64"):
        x = profond.tensor(np.ones((1, 4, 4, 2)), dtype=dtype)
        assert ops.max_pool2d(x).dtype == np.dtype(dtype)
        assert ops.avg_pool2d(x, 3, 1, "same").dtype == np.dtype(dtype)


@pytest.mark.parametrize("cls,shape,out", [
    (layers.MaxPooling2D, (2, 11, 11, 3), (2, 5, 5, 3)),
    (layers.AveragePooling2D, (2, 8, 6, 3), (2, 4, 3, 3)),
    (layers.MaxPooling1D, (2, 9, 4), (2, 4, 4)),
    (layers.AveragePooling1D, (2, 9, 4), (2, 4, 4)),
])
def test_pooling_layers_shapes(cls, shape, out):
    layer = cls()
    assert layer(np.ones(shape)).shape == out
    assert layer.compute_output_shape((None,) + shape[1:]) == (None,) + out[1:]
    assert layer.weights == []
    clone = cls.from_config(layer.get_config())
    assert clone.pool_size == layer.pool_size and clone.strides == layer.strides


def test_pooling_layer_arguments():
    layer = layers.MaxPooling2D(pool_size=3, strides=(1, 2), padding="same")
    assert layer(np.ones((1, 5, 6, 1))).shape == (1, 5, 3, 1)
    assert layer.compute_output_shape((None, 5, 6, 1)) == (None, 5, 3, 1)
    assert layers.AveragePooling1D(3, strides=1).compute_output_shape((None, 7, 2)) == \
        (None, 5, 2)


@pytest.mark.parametrize("cls,reduce,rank", [
    (layers.GlobalAveragePooling2D, np.mean, 2), (layers.GlobalMaxPooling2D, np.max, 2),
    (layers.GlobalAveragePooling1D, np.mean, 1), (layers.GlobalMaxPooling1D, np.max, 1),
])
def test_global_pooling(cls, reduce, rank):
    from profond.testing import gradcheck

    shape = (2, 3, 4, 5)[:rank + 1] + (3,)
    x = draw(shape, seed=9, untie=True)
    axes = tuple(range(1, rank + 1))
    np.testing.assert_allclose(cls()(x).numpy(), reduce(x, axis=axes), rtol=1e-6)
    kept = cls(keepdims=True)(x)
    assert kept.shape == (2,) + (1,) * rank + (3,)
    assert cls().compute_output_shape((None,) + shape[1:]) == (None, 3)
    assert cls(keepdims=True).compute_output_shape((None,) + shape[1:]) == kept.shape[:0] + \
        (None,) + (1,) * rank + (3,)
    assert gradcheck(lambda t: cls()(t), x)


@pytest.mark.parametrize("kwargs,message", [
    (dict(pool_size=0), "The 'pool_size' parameter of MaxPooling2D must be an int or a tuple "
                        "of 2 ints in [1, inf). Got 0 instead."),
    (dict(pool_size=(2, 2, 2)), "'pool_size' parameter of MaxPooling2D"),
    (dict(strides=0), "'strides' parameter of MaxPooling2D"),
    (dict(padding="causal"), "'padding' parameter of MaxPooling2D must be one of "
                             "['valid', 'same']"),
    (dict(data_format="channels_first"), "'data_format' parameter of MaxPooling2D"),
])
def test_pooling_bad_arguments(kwargs, message):
    with pytest.raises(ValueError) as err:
        layers.MaxPooling2D(**kwargs)
    assert message in str(err.value)


def test_pooling_shape_errors_name_layer_and_shapes():
    with pytest.raises(ValueError, match=r"'p' \(MaxPooling2D\) must have rank 4.*\(2, 8\)"):
        layers.MaxPooling2D(name="p")(np.ones((2, 8)))
    with pytest.raises(ValueError, match=r"'q' \(AveragePooling2D\): the pool window \(3, 3\) is "
                                         r"larger than the input of shape \(1, 2, 5, 1\)"):
        layers.AveragePooling2D(3, name="q")(np.ones((1, 2, 5, 1)))
    with pytest.raises(ValueError, match="must have rank 3"):
        layers.GlobalMaxPooling1D()(np.ones((2, 3, 4, 5)))
    with pytest.raises(ValueError, match="'x' parameter of max_pool1d must have rank 3"):
        ops.max_pool1d(profond.tensor(np.ones((2, 3))))
    with pytest.raises(ValueError, match="larger than the input"):
        ops.avg_pool2d(profond.tensor(np.ones((1, 2, 2, 1))), 3)
