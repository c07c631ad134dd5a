"""Flatten, Reshape, ZeroPadding2D, UpSampling2D: values, gradients, shapes and errors."""

import numpy as np
import pytest
from _opcheck import draw

import profond
from profond import layers
from profond.testing import gradcheck


def test_flatten():
    x = draw((2, 3, 4, 5))
    layer = layers.Flatten()
    np.testing.assert_allclose(layer(x).numpy(), x.reshape(2, 60), rtol=1e-6)
    assert layer.compute_output_shape((None, 3, 4, 5)) == (None, 60)
    assert layer.compute_output_shape((None, None, 4)) == (None, None)
    assert layers.Flatten()(np.ones((3,))).shape == (3, 1)
    assert gradcheck(lambda t: layers.Flatten()(t), draw((2, 2, 3)))


def test_reshape_with_inferred_axis():
    x = draw((2, 12))
    out = layers.Reshape((3, -1))(x)
    assert out.shape == (2, 3, 4)
    np.testing.assert_allclose(out.numpy(), x.reshape(2, 3, 4), rtol=1e-6)
    assert layers.Reshape((2, 6)).compute_output_shape((None, 12)) == (None, 2, 6)
    assert layers.Reshape((-1,)).compute_output_shape((None, 3, 4)) == (None, 12)
    assert layers.Reshape.from_config(layers.Reshape((3, -1)).get_config()).target_shape == (3, -1)
    assert gradcheck(lambda t: layers.Reshape((4, 3))(t), x)


@pytest.mark.parametrize("target", [(0, 2), (-1, -1), "ab", (2.5,), None])
def test_reshape_bad_target(target):
    with pytest.raises(ValueError, match="The 'target_shape' parameter of Reshape must be"):
        layers.Reshape(target)


def test_reshape_incompatible_names_layer_and_shapes():
    with pytest.raises(ValueError, match=r"'r' \(Reshape\) cannot reshape input of shape "
                                         r"\(2, 12\) \(12 values per sample\) to target shape "
                                         r"\(5, -1\)"):
        layers.Reshape((5, -1), name="r")(np.ones((2, 12)))
    with pytest.raises(ValueError, match=r"\(None, 7\).*\(2, 3\)"):
        layers.Reshape((2, 3)).compute_output_shape((None, 7))


@pytest.mark.parametrize("padding,expected", [
    (1, ((1, 1), (1, 1))), ((2, 0), ((2, 2), (0, 0))), (((1, 0), (0, 3)), ((1, 0), (0, 3))),
])
def test_zero_padding2d(padding, expected):
    x = draw((2, 3, 4, 2))
    layer = layers.ZeroPadding2D(padding)
    assert layer.padding == expected
    out = layer(x).numpy()
    ref = np.pad(x, ((0, 0),) + expected + ((0, 0),))
    np.testing.assert_allclose(out, ref, rtol=1e-6)
    assert layer.compute_output_shape((None, 3, 4, 2)) == (None,) + ref.shape[1:]
    assert layers.ZeroPadding2D.from_config(layer.get_config()).padding == expected
    assert gradcheck(lambda t: layers.ZeroPadding2D(padding)(t), x)


@pytest.mark.parametrize("padding", [-1, (1, 2, 3), ((1, 2), 3), "same", ((1, -1), (0, 0))])
def test_zero_padding2d_bad_padding(padding):
    with pytest.raises(ValueError, match="The 'padding' parameter of ZeroPadding2D must be"):
        layers.ZeroPadding2D(padding)


@pytest.mark.parametrize("size", [2, (1, 3), (3, 2)])
def test_upsampling2d(size):
    x = draw((2, 3, 2, 2))
    layer = layers.UpSampling2D(size)
    sh, sw = (size, size) if isinstance(size, int) else size
    ref = x.repeat(sh, axis=1).repeat(sw, axis=2)
    np.testing.assert_allclose(layer(x).numpy(), ref, rtol=1e-6)
    assert layer.compute_output_shape((None, 3, 2, 2)) == (None,) + ref.shape[1:]
    assert gradcheck(lambda t: layers.UpSampling2D(size)(t), x)


def test_upsampling2d_errors():
    with pytest.raises(ValueError, match="The 'size' parameter of UpSampling2D"):
        layers.UpSampling2D(0)
    with pytest.raises(ValueError, match=r"'interpolation' parameter of UpSampling2D must be "
                                         r"one of \['nearest', 'bilinear'\]"):
        layers.UpSampling2D(interpolation="bicubic")
    with pytest.raises(ValueError, match=r"'u' \(UpSampling2D\) must have rank 4.*\(2, 3, 4\)"):
        layers.UpSampling2D(name="u")(np.ones((2, 3, 4)))
    with pytest.raises(ValueError, match=r"ZeroPadding2D\) must have rank 4"):
        layers.ZeroPadding2D()(np.ones((2, 3)))


def test_in_a_model_summary():
    model = profond.Sequential([layers.Input((4, 4, 1)), layers.ZeroPadding2D(1),
                                layers.UpSampling2D(), layers.Flatten(), layers.Reshape((12, -1))])
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    for shape in ("(None, 6, 6, 1)", "(None, 12, 12, 1)", "(None, 144)", "(None, 12, 12)"):
        assert shape in text
    assert model.predict(np.ones((3, 4, 4, 1)), verbose=0).shape == (3, 12, 12)
