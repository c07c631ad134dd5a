"""Layers that only move data around: ``Flatten``, ``Reshape``, ``ZeroPadding2D``,
``UpSampling2D``. None of them has weights or anything to learn."""

from __future__ import annotations

from profond import ops
from profond._validation import check_choice
from profond.layers.base import Layer
from profond.layers.conv import check_data_format
from profond.ops.conv import normalize_tuple

__all__ = ["Flatten", "Reshape", "ZeroPadding2D", "UpSampling2D"]


def _prod(values):
    out = 1
    for v in values:
        out *= v
    return out


class Flatten(Layer):
    """Collapse every axis but the batch axis: ``(batch, d1, d2, ...)`` to ``(batch, d1*d2*...)``.

    Parameters
    ----------
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Flatten
    >>> Flatten()(np.zeros((2, 5, 5, 64))).shape
    (2, 1600)
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, "Flatten")

    def call(self, inputs):
        return ops.reshape(inputs, (inputs.shape[0], -1) if inputs.ndim > 1 else (-1, 1))

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if not rest:
            return (input_shape[0], 1)
        return (input_shape[0], None if any(d is None for d in rest) else _prod(rest))

    def get_config(self):
        return {**super().get_config(), "data_format": self.data_format}


class Reshape(Layer):
    """Give each sample the shape ``target_shape`` (the batch axis is kept).

    Parameters
    ----------
    target_shape : tuple of int
        Shape of one sample; one entry may be -1 (inferred).

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import Reshape
    >>> Reshape((4, 3))(np.zeros((2, 12))).shape
    (2, 4, 3)
    >>> Reshape((-1, 2)).compute_output_shape((None, 6, 2))
    (None, 6, 2)
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        if isinstance(target_shape, int) and not isinstance(target_shape, bool):
            target_shape = (target_shape,)
        try:
            shape = tuple(target_shape)
        except TypeError:
            shape = None
        if shape is None or any(isinstance(d, bool) or not isinstance(d, int)
                                or (d < 1 and d != -1) for d in shape) \
                or sum(d == -1 for d in shape) > 1:
            raise ValueError("The 'target_shape' parameter of Reshape must be a tuple of ints in "
                             "[1, inf), with at most one -1 (inferred). Got "
                             f"{target_shape!r} instead.")
        self.target_shape = shape

    def _resolve(self, input_shape):
        rest = input_shape[1:]
        if any(d is None for d in rest):
            return tuple(None if d == -1 else d for d in self.target_shape)
        size = _prod(rest)
        known = _prod(d for d in self.target_shape if d != -1)
        if -1 in self.target_shape:
            if known == 0 or size % known:
                self._fail(input_shape)
            return tuple(size // known if d == -1 else d for d in self.target_shape)
        if known != size:
            self._fail(input_shape)
        return self.target_shape

    def _fail(self, input_shape):
        raise ValueError(f"Layer '{self.name}' (Reshape) cannot reshape input of shape "
                         f"{tuple(input_shape)} ({_prod(input_shape[1:])} values per sample) to "
                         f"target shape {self.target_shape}.")

    def build(self, input_shape):
        self._resolve(tuple(input_shape))
        self.built = True

    def call(self, inputs):
        shape = self._resolve(tuple(inputs.shape))
        return ops.reshape(inputs, (inputs.shape[0],) + shape)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + self._resolve(tuple(input_shape))

    def get_config(self):
        return {**super().get_config(), "target_shape": list(self.target_shape)}


def _check_rank4(layer, input_shape):
    if len(input_shape) != 4:
        raise ValueError(f"Input of layer '{layer.name}' ({type(layer).__name__}) must have rank 4 "
                         f"(batch, height, width, channels). Got input shape "
                         f"{tuple(input_shape)}.")


class ZeroPadding2D(Layer):
    """Add rows and columns of zeros around channels-last images.

    Parameters
    ----------
    padding : int, (int, int) or ((int, int), (int, int)), default (1, 1)
        The same on every side; ``(rows, cols)`` symmetric; or
        ``((top, bottom), (left, right))``.
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import ZeroPadding2D
    >>> ZeroPadding2D(((1, 0), (2, 2)))(np.ones((1, 3, 3, 1))).shape
    (1, 4, 7, 1)
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = check_data_format(data_format, "ZeroPadding2D")
        self.padding = self._parse(padding)

    @staticmethod
    def _parse(padding):
        def ok(v):
            return isinstance(v, int) and not isinstance(v, bool) and v >= 0

        if ok(padding):
            return ((padding, padding), (padding, padding))
        try:
            parts = tuple(padding)
        except TypeError:
            parts = ()
        if len(parts) == 2 and all(ok(p) for p in parts):
            return ((parts[0], parts[0]), (parts[1], parts[1]))
        if len(parts) == 2 and all(isinstance(p, (tuple, list)) and len(p) == 2
                                   and all(ok(v) for v in p) for p in parts):
            return tuple(tuple(p) for p in parts)
        raise ValueError("The 'padding' parameter of ZeroPadding2D must be an int, a tuple of 2 "
                         "ints or a tuple of 2 tuples of 2 ints, all in [0, inf). Got "
                         f"{padding!r} instead.")

    def call(self, inputs):
        _check_rank4(self, tuple(inputs.shape))
        (t, b), (left, right) = self.padding
        return ops.pad(inputs, ((0, 0), (t, b), (left, right), (0, 0)))

    def compute_output_shape(self, input_shape):
        _check_rank4(self, input_shape)
        (t, b), (left, right) = self.padding
        n, h, w, c = input_shape
        return (n, None if h is None else h + t + b, None if w is None else w + left + right, c)

    def get_config(self):
        return {**super().get_config(), "padding": [list(p) for p in self.padding],
                "data_format": self.data_format}


def _bilinear_matrix(n_in, scale, dtype, xp):
    """``(n_in * scale, n_in)`` weights of linear interpolation at half-pixel centres: output
    ``i`` samples the input at ``(i + 0.5) / scale - 0.5``, clamped at the borders (what
    Keras's bilinear resize, PyTorch's ``align_corners=False``, computes)."""
    src = (xp.arange(n_in * scale, dtype="float64") + 0.5) / scale - 0.5
    src = xp.clip(src, 0, n_in - 1)
    lo = xp.floor(src).astype(int)
    hi = xp.minimum(lo + 1, n_in - 1)
    frac = src - lo
    rows = xp.arange(n_in * scale)
    m = xp.zeros((n_in * scale, n_in))
    m[rows, lo] += 1 - frac
    m[rows, hi] += frac
    return m.astype(dtype)


class UpSampling2D(Layer):
    """Enlarge images ``size[0]`` times in height and ``size[1]`` times in width.

    ``"nearest"`` repeats each pixel; ``"bilinear"`` interpolates linearly between the pixel
    centres (half-pixel centres, borders clamped), as Keras's bilinear resize does. Bilinear
    interpolation is separable: two matrix products, one along each axis.

    Parameters
    ----------
    size : int or (int, int), default (2, 2)
    data_format : None or "channels_last"
    interpolation : {"nearest", "bilinear"}

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import UpSampling2D
    >>> UpSampling2D()(np.arange(4.0).reshape(1, 2, 2, 1)).numpy()[0, :, :, 0]
    array([[0., 0., 1., 1.],
           [0., 0., 1., 1.],
           [2., 2., 3., 3.],
           [2., 2., 3., 3.]], dtype=float32)
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 2, "size", "UpSampling2D")
        self.data_format = check_data_format(data_format, "UpSampling2D")
        self.interpolation = check_choice(interpolation, "interpolation", "UpSampling2D",
                                          ("nearest", "bilinear"))

    def call(self, inputs):
        _check_rank4(self, tuple(inputs.shape))
        n, h, w, c = inputs.shape
        sh, sw = self.size
        if self.interpolation == "bilinear":
            xp = inputs.xp
            dtype = inputs.dtype if inputs.dtype.kind == "f" else "float32"
            rows = _bilinear_matrix(h, sh, dtype, xp)  # (h * sh, h)
            cols = _bilinear_matrix(w, sw, dtype, xp)  # (w * sw, w)
            x = ops.matmul(rows, ops.reshape(inputs, (n, h, w * c)))
            x = ops.matmul(cols, ops.reshape(x, (n * h * sh, w, c)))
            return ops.reshape(x, (n, h * sh, w * sw, c))
        # A broadcast view of (n, h, 1, w, 1, c) to (n, h, sh, w, sw, c), then one copy: the
        # backward of broadcast_to sums each block back onto its source pixel.
        x = ops.reshape(inputs, (n, h, 1, w, 1, c))
        x = ops.broadcast_to(x, (n, h, sh, w, sw, c))
        return ops.reshape(x, (n, h * sh, w * sw, c))

    def compute_output_shape(self, input_shape):
        _check_rank4(self, input_shape)
        n, h, w, c = input_shape
        sh, sw = self.size
        return (n, None if h is None else h * sh, None if w is None else w * sw, c)

    def get_config(self):
        return {**super().get_config(), "size": list(self.size),
                "data_format": self.data_format, "interpolation": self.interpolation}
