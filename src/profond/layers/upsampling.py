"""Up-sampling of channels-last data: ``UpSampling1D``, ``UpSampling2D``, ``UpSampling3D``.

Nearest-neighbour up-sampling repeats every element ``size`` times along each spatial axis: a
broadcast view ``(n, d1, 1, d2, 1, ..., c)`` to ``(n, d1, s1, d2, s2, ..., c)`` then one copy,
whose backward sums each block back onto its source element.
"""

from __future__ import annotations

from profond import ops
from profond._validation import check_choice, check_int
from profond.layers.base import Layer
from profond.layers.conv import check_data_format
from profond.ops.conv import normalize_tuple

__all__ = ["UpSampling1D", "UpSampling2D", "UpSampling3D"]

_LAYOUTS = {1: "(batch, steps, channels)", 2: "(batch, height, width, channels)",
            3: "(batch, depth, height, width, channels)"}


def repeat_nearest(inputs, size):
    """Each element of the spatial axes of channels-last ``inputs`` repeated ``size[i]`` times
    along axis ``i + 1``."""
    n, *spatial, c = inputs.shape
    view, big, out = [n], [n], [n]
    for d, s in zip(spatial, size):
        view += [d, 1]
        big += [d, s]
        out.append(d * s)
    x = ops.broadcast_to(ops.reshape(inputs, tuple(view) + (c,)), tuple(big) + (c,))
    return ops.reshape(x, tuple(out) + (c,))


class _UpSampling(Layer):
    rank = 2

    def _check_rank(self, input_shape):
        if len(input_shape) != self.rank + 2:
            raise ValueError(f"Input of layer '{self.name}' ({type(self).__name__}) must have "
                             f"rank {self.rank + 2} {_LAYOUTS[self.rank]}. Got input shape "
                             f"{tuple(input_shape)}.")

    def call(self, inputs):
        self._check_rank(tuple(inputs.shape))
        return repeat_nearest(inputs, self._sizes)

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_rank(input_shape)
        spatial = tuple(None if d is None else d * s
                        for d, s in zip(input_shape[1:-1], self._sizes))
        return (input_shape[0],) + spatial + (input_shape[-1],)


class UpSampling1D(_UpSampling):
    """Repeat each step of a sequence ``size`` times: ``(batch, steps, channels)`` to
    ``(batch, steps * size, channels)``.

    Parameters
    ----------
    size : int, default 2

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import UpSampling1D
    >>> UpSampling1D(2)(np.array([[[1.0], [2.0]]])).numpy()[0, :, 0]
    array([1., 1., 2., 2.], dtype=float32)
    """

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        self.size = check_int(size, "size", "UpSampling1D", low=1)

    @property
    def _sizes(self):
        return (self.size,)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


class UpSampling3D(_UpSampling):
    """Repeat each voxel ``size[i]`` times along each spatial axis of
    ``(batch, depth, height, width, channels)``.

    Parameters
    ----------
    size : int or (int, int, int), default (2, 2, 2)
    data_format : None or "channels_last"

    Examples
    --------
    >>> import numpy as np
    >>> from profond.layers import UpSampling3D
    >>> UpSampling3D((1, 2, 3))(np.ones((1, 2, 2, 2, 4))).shape
    (1, 2, 4, 6, 4)
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 3, "size", "UpSampling3D")
        self.data_format = check_data_format(data_format, "UpSampling3D")

    @property
    def _sizes(self):
        return self.size

    def get_config(self):
        return {**super().get_config(), "size": list(self.size),
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


class UpSampling2D(_UpSampling):
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

    rank = 2

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.size = normalize_tuple(size, 2, "size", "UpSampling2D")
        self.data_format = check_data_format(data_format, "UpSampling2D")
        self.interpolation = check_choice(interpolation, "interpolation", "UpSampling2D",
                                          ("nearest", "bilinear"))

    @property
    def _sizes(self):
        return self.size

    def call(self, inputs):
        if self.interpolation == "nearest":
            return super().call(inputs)
        self._check_rank(tuple(inputs.shape))
        n, h, w, c = inputs.shape
        sh, sw = self.size
        xp = inputs.xp
        dtype = inputs.dtype if inputs.dtype.kind == "f" else "float32"
        rows = _bilinear_matrix(h, sh, dtype, xp)  # (h * sh, h)
        cols = _bilinear_matrix(w, sw, dtype, xp)  # (w * sw, w)
        x = ops.matmul(rows, ops.reshape(inputs, (n, h, w * c)))
        x = ops.matmul(cols, ops.reshape(x, (n * h * sh, w, c)))
        return ops.reshape(x, (n, h * sh, w * sw, c))

    def get_config(self):
        return {**super().get_config(), "size": list(self.size),
                "data_format": self.data_format, "interpolation": self.interpolation}
